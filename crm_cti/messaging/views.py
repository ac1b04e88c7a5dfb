"""Conversations, voicemail and follow-ups pages: they translate HTTP and call selectors and
services. Whose data a page shows is accounts/access.py's rule (``watch_target``: one's
own, or any agent's for an admin); every write is a CSRF-protected POST."""

from __future__ import annotations

from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from crm_cti.accounts.access import WatchRefused, agent_for, is_admin, watch_target
from crm_cti.accounts.models import Agent
from crm_cti.accounts.refusals import refusal_for
from crm_cti.crm.phones import is_extension_number, try_normalize_e164
from crm_cti.dashboard.audio import audio_response
from crm_cti.messaging import selectors
from crm_cti.messaging.models import FollowUp, Message
from crm_cti.messaging.serializers import message_to_dict
from crm_cti.messaging.services.conversations import (
    ReplyRefused,
    message_mark_read,
    reply_send,
    thread_mark_read,
    voicemail_open,
)
from crm_cti.messaging.services.followups import (
    FollowUpRefused,
    followup_done,
    followup_reassign,
)
from crm_cti.messaging.services.queues import queue_voicemail_open
from crm_cti.ringcentral.errors import RingCentralError

PAGE_SIZE = 50


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _errors(errors: dict[str, list[str]], status: int = 200) -> JsonResponse:
    # Form errors answer 200 with {"ok": false}, like the dashboard's SMS form.
    return JsonResponse(
        {"ok": False, "errors": {k: [{"message": m} for m in v] for k, v in errors.items()}},
        status=status,
    )


def _watched_agent_id(request: HttpRequest) -> int | None:
    """The agent whose messages the page shows (None: every agent, an admin's ``all``)."""
    requested = request.GET.get("agent", "")
    if not requested and agent_for(request.user) is None and is_admin(request.user):
        return None  # a local admin without an extension: every agent's, as ?agent=all
    try:
        return watch_target(user=request.user, requested=requested).agent_id
    except WatchRefused as exc:
        raise Http404("Nothing to show here.") from exc


def _scoped(request: HttpRequest) -> tuple[Any, int | None]:
    """Agents' stores only: a call queue's box is its own page (``?queue=`` on voicemail)."""
    agent_id = _watched_agent_id(request)
    visible = selectors.messages_visible_to(request.user).filter(queue__isnull=True)
    if agent_id is not None:
        visible = visible.filter(agent_id=agent_id)
    return visible, agent_id


def _counterpart(raw: str) -> str:
    """A thread's other party as stored (E.164, or an extension number), or 404."""
    raw = (raw or "").strip()
    if is_extension_number(raw):
        return raw
    e164 = try_normalize_e164(raw)
    if not e164:
        raise Http404("That is not a phone number.")
    return e164


def _agent_choices(request: HttpRequest) -> list[Agent]:
    return list(Agent.objects.order_by("name")) if is_admin(request.user) else []


@login_required
@require_GET
def conversations(request: HttpRequest) -> HttpResponse:
    visible, agent_id = _scoped(request)
    return render(request, "messaging/conversations.html", {
        "threads": selectors.threads(messages=visible),
        "watched_agent_id": agent_id,
        "agents": _agent_choices(request),
        "show_agent": agent_id is None or agent_id != getattr(agent_for(request.user), "pk", 0),
    })


@login_required
@require_GET
def thread(request: HttpRequest, counterpart: str) -> HttpResponse:
    counterpart = _counterpart(counterpart)
    visible, agent_id = _scoped(request)
    me = agent_for(request.user)
    if agent_id is None:
        agent_id = me.pk if me is not None else None
    if agent_id is None:
        raise Http404("Pick an agent to read their thread.")
    items = selectors.thread_messages(messages=visible, agent_id=agent_id,
                                      counterpart=counterpart)
    own = me is not None and me.pk == agent_id
    contact = next((m.contact for m in reversed(items) if m.contact), None)
    return render(request, "messaging/thread.html", {
        "counterpart": counterpart,
        "items": items,
        "contact": contact,
        "can_reply": own,
        "sms_numbers": me.sms_numbers if me else [],
        "is_pager": is_extension_number(counterpart),
        "unread": sum(1 for m in items if not m.read and m.direction == "inbound"),
    })


@login_required
@require_POST
def thread_read(request: HttpRequest, counterpart: str) -> HttpResponse:
    """The thread was shown to its owner (the page posts it): its messages are read, here
    and on RingCentral (now, or by the periodic sync)."""
    me = agent_for(request.user)
    if me is None:
        return _errors({"__all__": ["Only agents have threads."]}, 403)
    changed = thread_mark_read(agent=me, counterpart=_counterpart(counterpart))
    return JsonResponse({"ok": True, "changed": changed})


@login_required
@require_POST
def reply(request: HttpRequest, counterpart: str) -> HttpResponse:
    me = agent_for(request.user)
    if me is None:
        return _errors({"__all__": ["Only agents signed in with RingCentral can text."]}, 403)
    try:
        counterpart = _counterpart(counterpart)
    except Http404:
        return _errors({"__all__": ["That is not a phone number."]}, 400)
    try:
        message = reply_send(agent=me, counterpart=counterpart,
                             text=request.POST.get("text", ""),
                             from_number=request.POST.get("from_number", ""))
    except ReplyRefused as exc:
        errors = {"text": [str(exc)]}
    except RingCentralError as exc:
        errors = {"__all__": [refusal_for(exc).message]}
    else:
        if _wants_json(request):
            return JsonResponse({"ok": True, "message": "Sent.",
                                 "sent": message_to_dict(message) if message else None})
        flash.success(request, "Sent.")
        return redirect("messaging:thread", counterpart=counterpart)
    if _wants_json(request):
        return _errors(errors)
    for items in errors.values():
        flash.error(request, " ".join(items))
    return redirect("messaging:thread", counterpart=counterpart)


@login_required
@require_GET
def voicemail_inbox(request: HttpRequest) -> HttpResponse:
    """An agent's inbox, or (``?queue=<id>``, admins only) a call queue's."""
    queues = selectors.call_queues_visible_to(request.user)
    raw_queue = request.GET.get("queue", "").strip()
    queue = None
    if raw_queue:
        queue = queues.filter(pk=int(raw_queue)).first() if raw_queue.isdigit() else None
        if queue is None:
            raise Http404("No such call queue.")
        visible, agent_id = selectors.messages_visible_to(request.user).filter(
            queue=queue), None
    else:
        visible, agent_id = _scoped(request)
    page = Paginator(selectors.voicemails(messages=visible), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "messaging/voicemail.html", {
        "page": page,
        "watched_agent_id": agent_id,
        "agents": _agent_choices(request),
        "queues": list(queues),
        "watched_queue": queue,
        "show_agent": agent_id is None and queue is None,
    })


@login_required
@require_GET
def voicemail_audio(request: HttpRequest, message_id: int) -> HttpResponseBase:
    message = get_object_or_404(
        selectors.messages_visible_to(request.user).filter(type=Message.Type.VOICEMAIL),
        pk=message_id,
    )
    if not message.audio_attachment_id:
        raise Http404("This voicemail has no audio.")
    if message.queue_id is not None:
        # A call queue's box (only admins see its messages): the queue credential reads it.
        def open_audio(byte_range: str) -> Any:
            return queue_voicemail_open(message=message, byte_range=byte_range)
    else:
        # The listener's own credential when it is theirs; an admin listens with the owner's.
        me = agent_for(request.user)
        owner = me if me is not None and me.pk == message.agent_id else message.agent

        def open_audio(byte_range: str) -> Any:
            return voicemail_open(agent=owner, message=message, byte_range=byte_range)
    return audio_response(
        request,
        open_audio=open_audio,
        filename=f"voicemail-{message.pk}",
        what="voicemail",
    )


@login_required
@require_POST
def voicemail_read(request: HttpRequest, message_id: int) -> HttpResponse:
    """The player started: the owner's voicemail is read (here and on RingCentral). An
    admin listening to someone else's leaves it unread for them."""
    message = get_object_or_404(
        selectors.messages_visible_to(request.user).filter(type=Message.Type.VOICEMAIL),
        pk=message_id,
    )
    me = agent_for(request.user)
    changed = me is not None and me.pk == message.agent_id and message_mark_read(
        agent=me, message=message)
    return JsonResponse({"ok": True, "changed": bool(changed)})


@login_required
@require_GET
def followups(request: HttpRequest) -> HttpResponse:
    visible = selectors.followups_visible_to(request.user).select_related(
        "agent", "contact", "call", "voicemail", "closed_by")
    show = request.GET.get("show", "open")
    rows = (visible.filter(closed_at__isnull=True) if show == "open"
            else visible.filter(closed_at__isnull=False).order_by("-closed_at"))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "messaging/followups.html", {
        "page": page,
        "show": show,
        "now": timezone.now(),
        "agents": _agent_choices(request),
        "admin": is_admin(request.user),
    })


def _visible_followup(request: HttpRequest, followup_id: int) -> FollowUp:
    return get_object_or_404(selectors.followups_visible_to(request.user), pk=followup_id)


@login_required
@require_POST
def followup_mark_done(request: HttpRequest, followup_id: int) -> HttpResponse:
    followup = _visible_followup(request, followup_id)
    try:
        followup_done(followup=followup, user=request.user, note=request.POST.get("note", ""))
    except FollowUpRefused as exc:
        if _wants_json(request):
            return _errors({"note": [str(exc)]})
        flash.error(request, str(exc))
        return redirect("messaging:followups")
    if _wants_json(request):
        return JsonResponse({"ok": True, "message": "Done."})
    flash.success(request, "Follow-up done.")
    return redirect("messaging:followups")


@login_required
@require_POST
def followup_assign(request: HttpRequest, followup_id: int) -> HttpResponse:
    if not is_admin(request.user):
        raise Http404("Only admins reassign follow-ups.")
    followup = _visible_followup(request, followup_id)
    raw = request.POST.get("agent", "").strip()
    agent = None
    if raw:
        agent = Agent.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
        if agent is None:
            flash.error(request, "No such agent.")
            return redirect("messaging:followups")
    try:
        followup_reassign(followup=followup, agent=agent)
    except FollowUpRefused as exc:
        flash.error(request, str(exc))
    else:
        flash.success(request, f"Follow-up given to {agent.name if agent else 'nobody'}.")
    return redirect("messaging:followups")
