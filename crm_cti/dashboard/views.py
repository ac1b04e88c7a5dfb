"""Agent pages: dashboard, call history (+ CSV), call detail, recording proxy, messaging.

Views only translate HTTP: who may see what is ``crm_cti.accounts.access``, reads go
through ``selectors``, writes and every RingCentral request (SMS, pager, recordings) through
``services``; a RingCentral refusal is shown as ``crm_cti.accounts.refusals`` words it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from crm_cti.accounts.access import WatchRefused, agent_for, is_admin, watch_target
from crm_cti.accounts.models import Agent
from crm_cti.accounts.preferences import (
    agent_pop_settings_reset,
    agent_pop_settings_save,
    pop_settings_for,
    team_settings_get,
)
from crm_cti.accounts.refusals import refusal_for
from crm_cti.crm.models import Contact, Disposition
from crm_cti.crm.phones import InvalidPhoneNumber
from crm_cti.crm.services import ContactValidationError
from crm_cti.dashboard.audio import audio_response
from crm_cti.dashboard.forms import (
    CallNotesForm,
    HistoryFilterForm,
    PagerForm,
    PopSettingsForm,
    RingoutFromForm,
    SmsForm,
    TeamSettingsForm,
)
from crm_cti.dashboard.selectors import (
    call_history,
    call_legs,
    calls_awaiting_disposition,
    calls_recent,
    calls_visible_to,
)
from crm_cti.dashboard.services import (
    agent_set_ringout_from,
    calllog_refresh_request,
    calls_csv_chunks,
    pager_send,
    recording_open,
    sms_send,
)
from crm_cti.dashboard.streaming import streamed_body
from crm_cti.messaging.selectors import timeline
from crm_cti.ringcentral.errors import RingCentralError
from crm_cti.telephony.models import Call
from crm_cti.telephony.serializers import call_to_dict
from crm_cti.telephony.services.calls import (
    CallNotValid,
    call_annotate,
    call_contact_choose,
    call_dismiss_check,
    call_number_add_to_contact,
)

logger = logging.getLogger(__name__)

HISTORY_PER_PAGE = 50
RECENT_CALLS = 15
# Calls with the same caller on a call's page, beside their messages.
TIMELINE_CALLS = 50


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _back(request: HttpRequest, fallback: str = "/") -> HttpResponse:
    target = request.POST.get("next") or request.headers.get("Referer") or fallback
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = fallback
    return redirect(target)


# Form errors answer 200 with {"ok": false, "errors": ...}, as a re-rendered Django form
# would: the request was understood and the page shows the errors next to the fields (a
# 4xx would also be logged as an error in the browser console).
FORM_ERROR_STATUS = 200


def _error_json(
    errors: dict[str, list[str]], status: int = FORM_ERROR_STATUS
) -> JsonResponse:
    return JsonResponse(
        {"ok": False, "errors": {k: [{"message": m} for m in v] for k, v in errors.items()}},
        status=status,
    )


# ---------------------------------------------------------------------------- dashboard


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    agent = agent_for(request.user)
    watched, everyone = agent, False
    requested = request.GET.get("agent", "")
    if requested:
        # Whom the page shows is whom the websocket (given the same ?agent=) streams.
        try:
            watch = watch_target(user=request.user, requested=requested)
        except WatchRefused as refused:
            raise PermissionDenied("You may not watch these calls.") from refused
        everyone = watch.agent_id is None
        watched = None if everyone else Agent.objects.filter(pk=watch.agent_id).first()
        if watched is None and not everyone:  # deleted since the rule looked
            raise PermissionDenied("You may not watch these calls.")
    if everyone:
        calls = Call.objects.all()
    elif watched is not None:
        calls = Call.objects.filter(agent=watched)
    else:
        calls = Call.objects.none()
    live = [
        call_to_dict(c)
        for c in calls.filter(state__in=Call.LIVE_STATES).select_related("contact")
    ]
    pop = pop_settings_for(agent=watched)
    if pop["require_disposition"]:
        # Their cards stay until the disposition is set, across reloads too.
        live += [call_to_dict(c) for c in calls_awaiting_disposition(calls=calls)[:RECENT_CALLS]]
    recent = calls_recent(calls=calls, limit=RECENT_CALLS)
    dispositions = list(Disposition.objects.filter(active=True))
    # What the page's script needs to decide what pops (the settings are the watched
    # agent's: an admin watching sees what that agent sees).
    page_settings = {
        **pop,
        "own_numbers": [n["phone_number"] for n in (watched.phone_numbers if watched else [])
                        if n.get("phone_number")],
        "extension": watched.extension_number if watched else "",
        "dispositions": [
            {"id": d.pk, "name": d.name, "requires_note": d.requires_note} for d in dispositions
        ],
    }
    return render(
        request,
        "dashboard/dashboard.html",
        {
            "agent": agent,
            "watched": watched,
            "watching_everyone": everyone,
            "live_calls": live,
            "recent_calls": recent,
            "sms_numbers": agent.sms_numbers if agent else [],
            "dispositions": dispositions,
            "page_settings": page_settings,
        },
    )


@login_required
@require_POST
def ringout_from_view(request: HttpRequest) -> HttpResponse:
    """Remember the agent's RingOut "from" number (used by every click-to-dial button)."""
    agent = agent_for(request.user)
    if agent is None:
        return _error_json({"__all__": ["Only agents signed in with RingCentral can call."]}, 403)
    form = RingoutFromForm(request.POST)
    form.is_valid()
    try:
        number = agent_set_ringout_from(agent=agent, number=form.number())
    except InvalidPhoneNumber as exc:
        if _wants_json(request):
            return _error_json({"other": [str(exc)]})
        messages.error(request, f"RingOut number not saved: {exc}")
        return _back(request)
    if _wants_json(request):
        return JsonResponse({"ok": True, "from_number": number})
    messages.success(request, "Your RingOut number is saved.")
    return _back(request)


# ---------------------------------------------------------------------------- history


def _history_form(request: HttpRequest) -> HistoryFilterForm:
    return HistoryFilterForm(request.GET or None, show_agent=is_admin(request.user))


def _filtered_calls(request: HttpRequest) -> tuple[HistoryFilterForm, Any]:
    """The form and the calls it selects; a filter in error selects nothing (the page shows
    the message next to it), never every call as if it had not been given."""
    form = _history_form(request)
    calls = calls_visible_to(request.user)
    if form.is_bound and not form.is_valid():
        return form, calls.none()
    filters = form.cleaned_data if form.is_bound else {}
    return form, call_history(calls=calls, filters=filters)


@login_required
@require_GET
def call_history_view(request: HttpRequest) -> HttpResponse:
    form, calls = _filtered_calls(request)
    page = Paginator(calls, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    agent = agent_for(request.user)
    if agent is not None:
        calllog_refresh_request(agent=agent)
    sync = getattr(agent, "call_log_sync", None) if agent else None
    return render(
        request,
        "dashboard/call_history.html",
        {"form": form, "page": page, "show_agent": is_admin(request.user), "sync": sync},
    )


@login_required
@require_GET
def call_history_csv(request: HttpRequest) -> HttpResponseBase:
    form, calls = _filtered_calls(request)
    if form.is_bound and not form.is_valid():
        text = "\n".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
        return HttpResponse(
            f"The filters are not valid:\n{text}\n", status=400, content_type="text/plain"
        )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        streamed_body(request, calls_csv_chunks(calls=calls), thread_sensitive=True),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="calls-{stamp}.csv"'
    return response


# ---------------------------------------------------------------------------- one call


def _visible_call(request: HttpRequest, call_id: int) -> Call:
    """The call if the user may see it; 404 otherwise (never reveal another agent's call)."""
    return get_object_or_404(
        calls_visible_to(request.user).select_related("contact", "agent"), pk=call_id
    )


@login_required
@require_GET
def call_detail(request: HttpRequest, call_id: int) -> HttpResponse:
    call = _visible_call(request, call_id)
    form = CallNotesForm(
        initial={"notes": call.notes, "disposition": call.disposition_id},
        current=call.disposition_id,
    )
    return render(
        request,
        "dashboard/call_detail.html",
        {"call": call, "legs": call_legs(call), "form": form, "call_json": call_to_dict(call),
         "timeline": _call_timeline(request, call)},
    )


def _call_timeline(request: HttpRequest, call: Call) -> list[Any]:
    """The caller's calls, messages, voicemails and follow-ups (by contact, else number)."""
    number = call.from_e164 if call.direction == Call.Direction.INBOUND else call.to_e164
    calls = calls_visible_to(request.user).select_related("agent", "disposition")
    if call.contact_id is not None:
        calls = calls.filter(contact_id=call.contact_id)
    elif number:
        calls = calls.filter(Q(from_e164=number) | Q(to_e164=number))
    else:
        return []
    return timeline(calls=calls.order_by("-started_at", "-id")[:TIMELINE_CALLS],
                    user=request.user, contact=call.contact, number=number)


@login_required
@require_POST
def call_notes(request: HttpRequest, call_id: int) -> HttpResponse:
    """Save notes and disposition (from a pop card or the call page)."""
    call = _visible_call(request, call_id)
    form = CallNotesForm(request.POST, current=call.disposition_id)
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse(
                {"ok": False, "errors": form.errors.get_json_data()}, status=FORM_ERROR_STATUS
            )
        text = " ".join(e for errors in form.errors.values() for e in errors)
        messages.error(request, f"Notes not saved: {text}")
        return _back(request)
    # A form that only sends one of the two fields leaves the other untouched.
    changes: dict[str, Any] = {}
    if "notes" in request.POST:
        changes["notes"] = form.cleaned_data["notes"]
    if "disposition" in request.POST:
        changes["disposition"] = form.cleaned_data["disposition"]
    try:
        call = call_annotate(call=call, **changes)
    except CallNotValid as exc:
        return _refused(request, exc, fallback=f"/calls/{call.pk}/")
    if _wants_json(request):
        return JsonResponse({"ok": True, "call": call_to_dict(call)})
    messages.success(request, "Notes saved.")
    return _back(request, fallback=f"/calls/{call.pk}/")


def _refused(request: HttpRequest, exc: CallNotValid, *, fallback: str) -> HttpResponse:
    if _wants_json(request):
        return _error_json({exc.field or "__all__": [str(exc)]})
    messages.error(request, str(exc))
    return _back(request, fallback=fallback)


@login_required
@require_POST
def call_dismiss(request: HttpRequest, call_id: int) -> HttpResponse:
    """The card of an ended call leaves the dashboard: refused while the team requires a
    disposition the call does not have (the card says what is missing)."""
    call = _visible_call(request, call_id)
    try:
        call_dismiss_check(call=call)
    except CallNotValid as exc:
        return _refused(request, exc, fallback="/")
    return JsonResponse({"ok": True}) if _wants_json(request) else _back(request)


def _posted_contact(request: HttpRequest) -> Contact | None:
    value = request.POST.get("contact", "")
    if not value.isdigit() or int(value) > 2**63 - 1:
        return None
    return Contact.objects.filter(pk=int(value)).first()


def _with_posted_contact(
    request: HttpRequest, call_id: int, action: Callable[[Call, Contact], Call], missing: str
) -> HttpResponse:
    """Run ``action(call, contact)`` for a card's button that names a contact; its refusal
    shows on the card."""
    call = _visible_call(request, call_id)
    contact = _posted_contact(request)
    if contact is None:
        return _error_json({"contact": [missing]})
    try:
        call = action(call, contact)
    except CallNotValid as exc:
        return _error_json({"contact": [str(exc)]})
    except ContactValidationError as exc:
        return _error_json({"contact": [m for msgs in exc.errors.values() for m in msgs]})
    call = Call.objects.select_related("contact").get(pk=call.pk)
    return JsonResponse({"ok": True, "call": call_to_dict(call)})


@login_required
@require_POST
def call_choose_contact(request: HttpRequest, call_id: int) -> HttpResponse:
    """"This is who is calling": one of the contacts sharing the call's number, remembered
    for the agent's next call with that number."""
    return _with_posted_contact(
        request, call_id, lambda call, contact: call_contact_choose(call=call, contact=contact),
        "Pick one of the contacts.",
    )


@login_required
@require_POST
def call_add_number(request: HttpRequest, call_id: int) -> HttpResponse:
    """"Add this number to <contact>": a known contact calling from a new number."""
    return _with_posted_contact(
        request, call_id,
        lambda call, contact: call_number_add_to_contact(
            call=call, contact=contact, changed_by=request.user
        ),
        "Pick a contact to add the number to.",
    )


# ---------------------------------------------------------------------------- settings


@login_required
def pop_settings_view(request: HttpRequest) -> HttpResponse:
    """An agent's own pop settings, or "use the team's default"."""
    agent = agent_for(request.user)
    if agent is None:
        messages.info(request, "Pop settings belong to agents: sign in with RingCentral.")
        return redirect("dashboard:team_settings" if is_admin(request.user) else "/")
    current = pop_settings_for(agent=agent)
    if request.method == "POST":
        if request.POST.get("reset"):
            agent_pop_settings_reset(agent=agent)
            messages.success(request, "Your calls pop as the team's default says.")
            return redirect("dashboard:pop_settings")
        form = PopSettingsForm(request.POST)
        if form.is_valid():
            agent_pop_settings_save(agent=agent, **form.cleaned_data)
            messages.success(request, "Your pop settings are saved.")
            return redirect("dashboard:pop_settings")
    else:
        form = PopSettingsForm(initial=current)
    return render(
        request, "dashboard/pop_settings.html", {"form": form, "own": current["own"]}
    )


@login_required
def team_settings_view(request: HttpRequest) -> HttpResponse:
    """Admins: the default pop settings, the multi-match policy, required dispositions."""
    if not is_admin(request.user):
        raise Http404
    row = team_settings_get()
    form = TeamSettingsForm(request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Team settings saved.")
        return redirect("dashboard:team_settings")
    return render(
        request,
        "dashboard/team_settings.html",
        {"form": form, "dispositions": Disposition.objects.all()},
    )


@login_required
@require_GET
def call_recording(request: HttpRequest, call_id: int) -> HttpResponseBase:
    """Stream the call's recording from RingCentral; the token stays on the server.

    A ``Range`` request (the player seeking) is passed to RingCentral and its 206, with
    ``Content-Range``, comes back; each user has at most ``RECORDING_MAX_STREAMS_PER_USER``
    recordings streaming at once.
    """
    call = _visible_call(request, call_id)
    content_uri = (call.recording or {}).get("content_uri")
    if not content_uri:
        raise Http404("This call has no recording.")
    # The requesting agent's token when they have one (an admin's covers the account),
    # else the call owner's: a superuser without an extension can still listen.
    owner = agent_for(request.user) or call.agent
    if owner is None:
        raise Http404("No RingCentral credential can fetch this recording.")
    return audio_response(
        request,
        open_audio=lambda byte_range: recording_open(
            agent=owner, content_uri=content_uri, byte_range=byte_range),
        filename=f"call-{call.pk}-recording",
        what="recording",
    )


# ---------------------------------------------------------------------------- messaging


def _messaging_result(
    request: HttpRequest, *, ok_text: str | None, errors: dict[str, list[str]] | None
) -> HttpResponse:
    if _wants_json(request):
        if errors:
            return _error_json(errors)
        return JsonResponse({"ok": True, "message": ok_text})
    if errors:
        for field, items in errors.items():
            label = "" if field == "__all__" else f"{field}: "
            messages.error(request, label + " ".join(items))
    else:
        messages.success(request, ok_text or "Sent.")
    return _back(request)


def _form_errors(form: Any) -> dict[str, list[str]]:
    return {k: [e["message"] for e in v] for k, v in form.errors.get_json_data().items()}


@login_required
@require_POST
def send_sms(request: HttpRequest) -> HttpResponse:
    agent = agent_for(request.user)
    if agent is None:
        return _error_json({"__all__": ["Only agents signed in with RingCentral can text."]}, 403)
    form = SmsForm(request.POST, agent=agent)
    if not form.is_valid():
        return _messaging_result(request, ok_text=None, errors=_form_errors(form))
    data = form.cleaned_data
    try:
        sms_send(agent=agent, from_number=data["from_number"], to_number=data["to"],
                 text=data["text"])
    except RingCentralError as exc:
        return _messaging_result(
            request, ok_text=None, errors={"__all__": [refusal_for(exc).message]}
        )
    return _messaging_result(request, ok_text=f"SMS sent to {data['to']}.", errors=None)


@login_required
@require_POST
def send_pager(request: HttpRequest) -> HttpResponse:
    agent = agent_for(request.user)
    if agent is None:
        return _error_json({"__all__": ["Only agents signed in with RingCentral can page."]}, 403)
    form = PagerForm(request.POST)
    if not form.is_valid():
        return _messaging_result(request, ok_text=None, errors=_form_errors(form))
    data = form.cleaned_data
    try:
        pager_send(agent=agent, to_extension_numbers=data["to"], text=data["text"])
    except RingCentralError as exc:
        return _messaging_result(
            request, ok_text=None, errors={"__all__": [refusal_for(exc).message]}
        )
    return _messaging_result(
        request, ok_text=f"Pager message sent to ext. {', '.join(data['to'])}.", errors=None
    )
