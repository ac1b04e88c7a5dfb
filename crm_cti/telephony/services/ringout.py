"""RingOut: the platform rings the agent's phone, then the number they clicked. Placed and
cancelled at the agent's request; its status polled by a task (``telephony.ringout_poll``,
every ``RINGOUT_POLL_SECONDS``) and pushed to the agent's browser.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from crm_cti.accounts.models import Agent
from crm_cti.crm.phones import InvalidPhoneNumber, is_extension_number, normalize_e164
from crm_cti.ringcentral.errors import NeedsSignIn, NotFound, RateLimited, RingCentralError
from crm_cti.telephony import dispatch
from crm_cti.telephony.models import RingOut
from crm_cti.telephony.push import push_ringout

logger = logging.getLogger(__name__)

# The sweep restarts at most this many lost chains of polls per run.
RINGOUT_SWEEP_BATCH = 1000

# An unfinished RingOut not polled for this many intervals (plus a margin, for a busy worker)
# has lost its chain of polls: the sweep starts a new one.
RINGOUT_LOST_AFTER_POLLS = 3

RINGOUT_LOST_MARGIN = 10.0


class RingOutInvalid(ValueError):
    """The RingOut request is wrong (bad number); the message says which field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _ringout_number(raw: str, field: str) -> str:
    raw = (raw or "").strip()
    if is_extension_number(raw):
        return raw
    try:
        return normalize_e164(raw)
    except InvalidPhoneNumber as exc:
        raise RingOutInvalid(field, str(exc)) from None


def ringout_to_dict(ringout: RingOut) -> dict[str, Any]:
    """The RingOut as the agent's browser gets it (``{"type": "ringout", ...}``)."""
    return {
        "id": ringout.pk,
        "rc_id": ringout.rc_id,
        "from": ringout.from_number,
        "to": ringout.to_number,
        "status": ringout.call_status,
        "caller_status": ringout.caller_status,
        "callee_status": ringout.callee_status,
        "final": ringout.finished_at is not None,
    }


def ringout_status_apply(*, ringout: RingOut, info: dict[str, Any]) -> None:
    """Take a RingOut status the platform answered (``status.callStatus``...); a status
    other than InProgress is final. Caller saves."""
    status = info.get("status") or {}
    ringout.call_status = str(status.get("callStatus") or ringout.call_status)
    ringout.caller_status = str(status.get("callerStatus") or ringout.caller_status)
    ringout.callee_status = str(status.get("calleeStatus") or ringout.callee_status)
    if ringout.call_status and ringout.call_status != "InProgress":
        ringout.finished_at = ringout.finished_at or timezone.now()


def ringout_create(*, agent: Agent, to_number: str, from_number: str) -> RingOut:
    """Place a RingOut (ring ``from`` first, then connect ``to``) and start polling it."""
    from crm_cti.accounts.services import client_for_agent

    to_number = _ringout_number(to_number, "to")
    from_number = _ringout_number(from_number or agent.ringout_from_number, "from")
    info = client_for_agent(agent).create_ringout(from_number=from_number, to_number=to_number)
    ringout = RingOut(
        agent=agent, rc_id=str(info.get("id")), from_number=from_number, to_number=to_number
    )
    ringout_status_apply(ringout=ringout, info=info)
    ringout.save()
    if agent.ringout_from_number != from_number:
        Agent.objects.filter(pk=agent.pk).update(ringout_from_number=from_number)
    push_ringout(agent_id=agent.pk, ringout=ringout_to_dict(ringout))
    if ringout.finished_at is None:
        dispatch.later(dispatch.RINGOUT_POLL, args=[ringout.pk],
                       countdown=settings.RINGOUT_POLL_SECONDS)
    return ringout


def ringout_poll(*, ringout_id: int) -> bool:
    """Read a RingOut's status once and push it; returns whether to poll again."""
    from crm_cti.accounts.services import client_for_agent

    ringout = RingOut.objects.select_related("agent").filter(pk=ringout_id).first()
    if ringout is None or ringout.finished_at is not None:
        return False
    if ringout.polls and timezone.now() - ringout.updated_at < timedelta(
        seconds=settings.RINGOUT_POLL_SECONDS / 2
    ):
        # Polled a moment ago by another chain of polls (the sweep restarted one it thought
        # lost): that one carries on, this one stops, so a RingOut is never polled twice.
        return False
    try:
        info = client_for_agent(ringout.agent).get_ringout(ringout.rc_id)
    except NotFound:
        info = {"status": {"callStatus": ringout.call_status or "Finished"}}
        ringout.finished_at = timezone.now()
    except NeedsSignIn:
        return False
    except RateLimited:
        # Still being polled: the sweep must not take this chain for lost.
        ringout.save(update_fields=["updated_at"])
        return True
    except RingCentralError as exc:
        logger.warning("RingOut %s status: %s", ringout.rc_id, exc)
        ringout.polls += 1
        ringout.save(update_fields=["polls", "updated_at"])
        return ringout.polls < settings.RINGOUT_MAX_POLLS
    before = (ringout.call_status, ringout.caller_status, ringout.callee_status)
    ringout_status_apply(ringout=ringout, info=info)
    ringout.polls += 1
    if ringout.polls >= settings.RINGOUT_MAX_POLLS and ringout.finished_at is None:
        ringout.finished_at = timezone.now()
    ringout.save()
    after = (ringout.call_status, ringout.caller_status, ringout.callee_status)
    if after != before or ringout.finished_at is not None:
        push_ringout(agent_id=ringout.agent_id, ringout=ringout_to_dict(ringout))
    return ringout.finished_at is None


def ringouts_sweep() -> int:
    """Beat: poll again the RingOuts whose chain of polls was lost (it lives only in the
    broker: Redis restarted, or the task was never queued), i.e. unfinished and not polled
    for ``RINGOUT_LOST_AFTER_POLLS`` intervals; returns how many."""
    quiet = timedelta(
        seconds=settings.RINGOUT_POLL_SECONDS * RINGOUT_LOST_AFTER_POLLS + RINGOUT_LOST_MARGIN
    )
    lost = list(
        RingOut.objects.filter(
            finished_at__isnull=True,
            updated_at__lt=timezone.now() - quiet,
            agent__needs_signin=False,
        ).values_list("pk", flat=True)[:RINGOUT_SWEEP_BATCH]
    )
    for pk in lost:
        dispatch.send(dispatch.RINGOUT_POLL, pk)
    if lost:
        logger.info("RingOut sweep: polling %d RingOuts again", len(lost))
    return len(lost)


def ringout_cancel(*, agent: Agent, ringout_id: int) -> RingOut:
    """Cancel the agent's RingOut while the callee still rings."""
    from crm_cti.accounts.services import client_for_agent

    ringout = RingOut.objects.get(pk=ringout_id, agent=agent)
    if ringout.finished_at is None:
        with contextlib.suppress(NotFound):
            client_for_agent(agent).cancel_ringout(ringout.rc_id)
        ringout.call_status = "Cancelled"
        ringout.finished_at = timezone.now()
        ringout.save()
    push_ringout(agent_id=agent.pk, ringout=ringout_to_dict(ringout))
    return ringout
