"""Contact forms. Numbers are normalized here so a bad one is reported next to its field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import formset_factory

from crm_cti.crm.models import Contact, ContactPhone
from crm_cti.crm.phones import InvalidPhoneNumber, normalize_e164


def clean_phone_field(value: str, *, required: bool) -> str:
    """Return the E.164 form of ``value`` or raise a ValidationError that names the number."""
    value = (value or "").strip()
    if not value:
        if required:
            raise forms.ValidationError("Enter a phone number.")
        return ""
    try:
        return normalize_e164(value)
    except InvalidPhoneNumber as exc:
        raise forms.ValidationError(f"Bad number: {exc}") from exc


class ContactForm(forms.Form):
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    company = forms.CharField(max_length=200, required=False)
    title = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    @classmethod
    def initial_for(cls, contact: Contact) -> dict[str, Any]:
        return {name: getattr(contact, name) for name in cls.base_fields}


class PhoneForm(forms.Form):
    label = forms.ChoiceField(choices=ContactPhone.Label.choices, initial=ContactPhone.Label.WORK)
    number = forms.CharField(
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )

    def clean_number(self) -> str:
        raw = self.cleaned_data.get("number", "")
        self.cleaned_data["e164"] = clean_phone_field(raw, required=False)
        return raw.strip()


PhoneFormSet = formset_factory(PhoneForm, extra=2, max_num=10)


def phones_from_formset(formset: Any) -> list[tuple[str, str]]:
    """(label, raw) pairs of the non-empty rows of a valid PhoneFormSet."""
    return [
        (f.cleaned_data["label"], f.cleaned_data["number"])
        for f in formset.forms
        if f.cleaned_data.get("number")
    ]


class QuickContactForm(forms.Form):
    """The inline "Create contact" form of an unknown caller's pop card."""

    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    company = forms.CharField(max_length=200, required=False)
    phone = forms.CharField(max_length=40)
    label = forms.ChoiceField(choices=ContactPhone.Label.choices, initial=ContactPhone.Label.WORK)

    def clean_phone(self) -> str:
        return clean_phone_field(self.cleaned_data.get("phone", ""), required=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not any(data.get(k) for k in ("first_name", "last_name", "company")):
            raise forms.ValidationError("Give the contact a name or a company.")
        return data


SEARCH_MAX_CHARS = 200
SEARCH_MAX_WORDS = 10


class ContactSearchForm(forms.Form):
    """The contact list's search box: every word is one more condition on five columns, so
    a search has a bounded length and number of words (a pasted page is refused, clearly)."""

    q = forms.CharField(required=False, max_length=SEARCH_MAX_CHARS, strip=True)

    def clean_q(self) -> str:
        value = self.cleaned_data.get("q", "")
        if len(value.split()) > SEARCH_MAX_WORDS:
            raise forms.ValidationError(f"Search for at most {SEARCH_MAX_WORDS} words.")
        return value


class ContactImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            "UTF-8 CSV with a header row. Columns: first_name, last_name, company, title, "
            "email, notes, and any of phone, mobile, work, home, other."
        ),
    )

    MAX_BYTES = 5 * 1024 * 1024

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB: split it.")
        raw = upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError("The file is not UTF-8 text.") from exc
        if "\x00" in text:
            # PostgreSQL cannot store it (the upload answered 500); a spreadsheet's own
            # format (.xlsx, UTF-16) is full of them.
            raise forms.ValidationError(
                "The file contains NUL characters: save it as \u201cCSV UTF-8\u201d "
                "and upload that."
            )
        self.cleaned_data["text"] = text
        return upload
