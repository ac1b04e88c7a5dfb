"""Phone number normalization: every stored and looked-up number goes through here."""

from __future__ import annotations

import functools

import phonenumbers
from django.conf import settings

# RingCentral sends numbers as E.164 with or without "+", or as short extension numbers.
MAX_EXTENSION_DIGITS = 6


class InvalidPhoneNumber(ValueError):
    """The text is not a phone number we can dial or match."""


def is_extension_number(raw: str) -> bool:
    digits = raw.strip()
    return digits.isdigit() and len(digits) <= MAX_EXTENSION_DIGITS


def normalize_e164(raw: str, *, region: str | None = None) -> str:
    """Return ``raw`` as E.164 (``+16505550101``) or raise InvalidPhoneNumber.

    ``16505550101`` (E.164 without the plus, as RingCentral sometimes sends it) is read as
    international when it is not a valid national number of the default region.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("Enter a phone number.")
    e164 = _e164_of(text, region or settings.PHONE_DEFAULT_REGION)
    if e164 is None:
        raise InvalidPhoneNumber(f"{text!r} is not a valid phone number.")
    return e164


@functools.lru_cache(maxsize=20_000)
def _e164_of(text: str, region: str) -> str | None:
    # Cached: every call's numbers are normalized as its events arrive (three per call,
    # the same few thousand callers again and again), and phonenumbers' parse and validity
    # check were a tenth of the applier's CPU per event. A pure function of its arguments.
    candidates = [text]
    if not text.startswith("+") and text.isdigit():
        candidates.append("+" + text)
    for candidate in candidates:
        try:
            parsed = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None


def try_normalize_e164(raw: str | None) -> str:
    """Like normalize_e164 but returns "" instead of raising (for matching incoming calls)."""
    try:
        return normalize_e164(raw or "")
    except InvalidPhoneNumber:
        return ""


def format_display(e164: str) -> str:
    """A human form for pages: national format for the default region, else international."""
    try:
        parsed = phonenumbers.parse(e164, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return e164
    region = phonenumbers.region_code_for_number(parsed)
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region == settings.PHONE_DEFAULT_REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, fmt)
