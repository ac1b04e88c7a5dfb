"""Contact pages: list with search, detail with a call timeline, create and edit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from crm_cti.accounts.access import agent_for, is_admin
from crm_cti.crm.forms import (
    SEARCH_MAX_CHARS,
    ContactForm,
    ContactSearchForm,
    PhoneFormSet,
    QuickContactForm,
    phones_from_formset,
)
from crm_cti.crm.models import Contact
from crm_cti.crm.phones import InvalidPhoneNumber
from crm_cti.crm.selectors import contact_changes, contact_search, data_quality_report
from crm_cti.crm.services import (
    ContactValidationError,
    company_line_mark,
    company_line_unmark,
    contact_create,
    contact_update,
)
from crm_cti.dashboard.selectors import calls_visible_to
from crm_cti.messaging.selectors import timeline

CONTACTS_PER_PAGE = 50
TIMELINE_LIMIT = 100
CHANGES_LIMIT = 50
LOOKUP_LIMIT = 8


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    form = ContactSearchForm(request.GET)
    if form.is_valid():
        q, contacts = form.cleaned_data["q"], contact_search(form.cleaned_data["q"])
    else:
        # The message shows next to the search box; a refused search matches nothing.
        q, contacts = request.GET.get("q", "")[:SEARCH_MAX_CHARS], Contact.objects.none()
    page = Paginator(contacts, CONTACTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "crm/contact_list.html",
        {"q": q, "page": page, "search_errors": form.errors.get("q", [])},
    )


@login_required
def contact_detail(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.prefetch_related("phones"), pk=contact_id)
    calls = (
        calls_visible_to(request.user)
        .filter(contact=contact)
        .select_related("agent", "disposition")
        .order_by("-started_at", "-id")[:TIMELINE_LIMIT]
    )
    agent = agent_for(request.user)
    return render(
        request,
        "crm/contact_detail.html",
        {
            "contact": contact,
            "calls": calls,
            "timeline": timeline(calls=calls, user=request.user, contact=contact),
            "sms_numbers": agent.sms_numbers if agent else [],
            "phones": list(contact.phones.all()),
            "changes": contact_changes(contact=contact, limit=CHANGES_LIMIT),
        },
    )


def _save_contact(
    request: HttpRequest, contact: Contact | None
) -> tuple[Contact | None, ContactForm, PhoneFormSet]:
    """Bind the contact form and phone rows; save when valid. Returns the saved contact."""
    if contact is not None:
        initial_phones = [{"label": p.label, "number": p.raw} for p in contact.phones.all()]
        form_initial = ContactForm.initial_for(contact)
    else:
        number = request.GET.get("phone", "")
        initial_phones = [{"label": "work", "number": number}] if number else []
        form_initial = {}
    if request.method != "POST":
        return None, ContactForm(initial=form_initial), PhoneFormSet(
            initial=initial_phones, prefix="phones"
        )
    form = ContactForm(request.POST)
    formset = PhoneFormSet(request.POST, prefix="phones")
    if not (form.is_valid() and formset.is_valid()):
        return None, form, formset
    phones = phones_from_formset(formset)
    try:
        who = {"changed_by": request.user, "source": "contact page"}
        if contact is None:
            saved = contact_create(**form.cleaned_data, phones=phones, **who)
        else:
            saved = contact_update(contact=contact, phones=phones, **form.cleaned_data, **who)
    except ContactValidationError as exc:
        for field, errors in exc.errors.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return None, form, formset
    return saved, form, formset


@login_required
def contact_create_view(request: HttpRequest) -> HttpResponse:
    saved, form, formset = _save_contact(request, None)
    if saved is not None:
        messages.success(request, f"Contact {saved.full_name} created.")
        return redirect(saved)
    return render(
        request, "crm/contact_form.html", {"form": form, "formset": formset, "contact": None}
    )


@login_required
def contact_edit_view(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=contact_id)
    saved, form, formset = _save_contact(request, contact)
    if saved is not None:
        messages.success(request, f"Contact {saved.full_name} saved.")
        return redirect(saved)
    return render(
        request, "crm/contact_form.html", {"form": form, "formset": formset, "contact": contact}
    )


@login_required
@require_POST
def contact_quick_create(request: HttpRequest) -> JsonResponse:
    """The pop card's inline "Create contact": form in, JSON out.

    Errors answer 200 with ``{"ok": false, "errors": {field: [...]}}``, like a re-rendered
    form, so the card shows them next to the fields.
    """
    form = QuickContactForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"ok": False, "errors": form.errors.get_json_data()})
    data = form.cleaned_data
    try:
        contact = contact_create(
            first_name=data["first_name"],
            last_name=data["last_name"],
            company=data["company"],
            phones=[(data["label"], data["phone"])],
            changed_by=request.user,
            source="pop card",
        )
    except ContactValidationError as exc:
        errors = {k: [{"message": m} for m in v] for k, v in exc.errors.items()}
        return JsonResponse({"ok": False, "errors": errors})
    # Calls from this number now belong to the contact; live cards update through a push.
    from crm_cti.telephony.services.calls import calls_link_contact

    calls_link_contact(contact=contact, e164=data["phone"])
    return JsonResponse(
        {
            "ok": True,
            "contact": {
                "id": contact.pk,
                "name": contact.full_name,
                "company": contact.company,
                "url": contact.get_absolute_url(),
            },
        },
        status=201,
    )


@login_required
@require_GET
def contact_lookup(request: HttpRequest) -> JsonResponse:
    """Contacts for a pop card's "add this number to a contact" search, as JSON."""
    form = ContactSearchForm(request.GET)
    if not form.is_valid() or not form.cleaned_data["q"]:
        return JsonResponse({"contacts": []})
    contacts = contact_search(form.cleaned_data["q"])[:LOOKUP_LIMIT]
    return JsonResponse(
        {"contacts": [{"id": c.pk, "name": c.full_name, "company": c.company} for c in contacts]}
    )


def _admin_only(request: HttpRequest) -> None:
    if not is_admin(request.user):
        raise Http404


@login_required
@require_GET
def data_quality(request: HttpRequest) -> HttpResponse:
    """Admins: the numbers that will never match, the shared ones, the contacts without."""
    _admin_only(request)
    return render(request, "crm/data_quality.html", data_quality_report())


@login_required
@require_POST
def company_line_mark_view(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    try:
        line = company_line_mark(
            raw=request.POST.get("number", ""), company=request.POST.get("company", "")
        )
    except (InvalidPhoneNumber, ValueError) as exc:
        messages.error(request, f"Not marked: {exc}")
    else:
        messages.success(request, f"{line.e164} is now the company line of {line.company}.")
    return redirect("crm:data_quality")


@login_required
@require_POST
def company_line_unmark_view(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    company_line_unmark(e164=request.POST.get("number", "")[:20])
    messages.success(request, "The number matches people again.")
    return redirect("crm:data_quality")
