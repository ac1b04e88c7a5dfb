"""Error reports (the DEBUG page, mails to ADMINS) that show no credential.

Django's ``SafeExceptionReporterFilter`` hides settings whose *names* look secret (``KEY``,
``TOKEN``, ``PASS``...). That misses ``RC_JWT``, the password inside ``DATABASE_URL`` or
``REDIS_URL`` (and every setting built from them: ``CACHES``, ``CELERY_BROKER_URL``,
``CHANNEL_LAYERS``), an ``Authorization`` header, and a secret held by a local variable
of a traceback frame. This filter hides those names too, masks the password of any URL,
and replaces any known secret value wherever it appears in the report.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.\-]*://[^:/@\s]*:)[^@\s/]+@", re.I)
# A secret this short would mask ordinary words; real credentials are longer.
_MIN_SECRET_LENGTH = 8


_cache: dict[str, list[str] | None] = {}


@receiver(setting_changed)
def _forget_secrets(**_: Any) -> None:
    _cache.clear()


def _secret_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if len(value) >= _MIN_SECRET_LENGTH else []
    if isinstance(value, dict):
        return [s for item in value.values() for s in _secret_strings(item)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _secret_strings(item)]
    return []


class CredentialMaskingFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        r"API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|JWT|CREDENTIAL|DSN|AUTHORIZATION",
        flags=re.I,
    )

    @property
    def secret_values(self) -> list[str]:
        """Values of the secret settings and URL passwords, longest first."""
        # Django keeps one filter for the process; the settings only change under tests.
        if _cache.get("secrets") is None:
            _cache["secrets"] = self._collect_secrets()
        return _cache["secrets"]

    def _collect_secrets(self) -> list[str]:
        found: set[str] = set()
        for name in dir(settings):
            if not name.isupper():
                continue
            value = getattr(settings, name, None)
            if self.hidden_settings.search(name):
                found.update(_secret_strings(value))
            for text in _secret_strings(value):
                for match in re.finditer(r"://[^:/@\s]*:([^@\s/]+)@", text):
                    found.add(match.group(1))
        return sorted((s for s in found if len(s) >= 4), key=len, reverse=True)

    def mask_text(self, text: str) -> str:
        text = _URL_PASSWORD.sub(rf"\g<head>{self.cleansed_substitute}@", text)
        for secret in self.secret_values:
            if secret in text:
                text = text.replace(secret, self.cleansed_substitute)
        return text

    def _mask_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.mask_text(value)
        if isinstance(value, dict):
            return {k: self._mask_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._mask_value(v) for v in value)
        return value

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        return self._mask_value(super().cleanse_setting(key, value))

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        masked = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if isinstance(name, str) and self.hidden_settings.search(name):
                value = self.cleansed_substitute
            elif isinstance(value, str):
                value = self.mask_text(value)
            else:
                try:
                    text = repr(value)
                except Exception:  # a broken __repr__ must not break the error page
                    text = ""
                if text and self.mask_text(text) != text:
                    value = self.mask_text(text)
            masked.append((name, value))
        return masked


class CredentialMaskingReporter(ExceptionReporter):
    """The exception's own message may quote a URL or a token: mask it like the rest."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        mask = getattr(self.filter, "mask_text", None)
        if mask is not None:
            for key in ("exception_value",):
                if isinstance(data.get(key), str):
                    data[key] = mask(data[key])
        return data
