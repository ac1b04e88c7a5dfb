"""A hand-built week of calls whose every report figure is worked out by hand.

Times are New York local (the tests set TIME_ZONE to it); 2026-03-02 is a Monday and New
York is UTC-5 that week. The period is 2026-03-02 .. 2026-03-08.

| # | agent | when (local)   | direction | outcome                  | wait | talk | disposition |
|---|-------|----------------|-----------|--------------------------|------|------|-------------|
| 1 | A     | Mon 09:10      | in (queue)| answered                 | 10   | 120  | sale        |
| 2 | A     | Mon 09:40      | in        | answered                 | 20   | 60   | resolved    |
| 3 | A     | Tue 14:05      | in (queue)| missed                   |      |      |             |
| 4 | A     | Tue 14:30      | in        | voicemail                |      |      |             |
| 5 | A     | Wed 11:00      | out       | answered                 | (5)  | 300  |             |
| 6 | A     | Wed 11:20      | out       | not answered             |      |      |             |
| 7 | B     | Mon 09:15      | in        | answered                 | 30   | 90   | sale        |
| 8 | A     | Sun 03-01 23:50| in        | before the period (it is already Monday in UTC) |
| 9 | A     | Sun 03-08 23:30| in        | answered (Monday in UTC) | 4    | 30   |             |
|10 | A     | Mon 03-09 00:30| in        | after the period         |      |      |             |
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from crm_cti.accounts.models import Agent
from crm_cti.crm.models import Contact
from crm_cti.telephony.models import Call
from tests.support.people import call_make, contact_make, disposition_make

NEW_YORK = ZoneInfo("America/New_York")
QUEUE = "+16505550199"
PERIOD = {"period": "custom", "date_from": "2026-03-02", "date_to": "2026-03-08"}
KIM, BECKER, LIN = "+14155550101", "+12125550142", "+16505550110"


def _at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=NEW_YORK)


def _inbound(agent: Agent, start: datetime, number: str, *, wait: int | None = None,
             talk: int = 0, state: str = Call.State.ENDED, to: str = "",
             contact: Contact | None = None, **fields) -> Call:
    answered = start + timedelta(seconds=wait) if wait is not None else None
    ended = (answered + timedelta(seconds=talk)) if answered else start + timedelta(seconds=25)
    to = to or agent.direct_numbers[0]
    return call_make(
        agent, direction=Call.Direction.INBOUND, from_number=number, from_e164=number,
        to_number=to, to_e164=to, started_at=start, answered_at=answered, ended_at=ended,
        state=state, contact=contact, duration=int((ended - start).total_seconds()), **fields,
    )


def week_of_calls(a: Agent, b: Agent) -> dict[int, Call]:
    kim = contact_make("Daniel", "Kim", KIM, company="Blue Harbor Dental")
    sale, resolved = disposition_make("Sale"), disposition_make("Resolved")
    calls = {
        1: _inbound(a, _at(2, 9, 10), KIM, wait=10, talk=120, to=QUEUE, contact=kim,
                    disposition=sale, to_name="Sales"),
        2: _inbound(a, _at(2, 9, 40), KIM, wait=20, talk=60, contact=kim,
                    disposition=resolved),
        3: _inbound(a, _at(3, 14, 5), BECKER, state=Call.State.MISSED, to=QUEUE,
                    to_name="Sales"),
        4: _inbound(a, _at(3, 14, 30), KIM, state=Call.State.VOICEMAIL, contact=kim),
        5: call_make(
            a, direction=Call.Direction.OUTBOUND, from_number=a.direct_numbers[0],
            to_number=BECKER, to_e164=BECKER, started_at=_at(4, 11, 0),
            answered_at=_at(4, 11, 0) + timedelta(seconds=5),
            ended_at=_at(4, 11, 0) + timedelta(seconds=305), state=Call.State.ENDED,
        ),
        6: call_make(
            a, direction=Call.Direction.OUTBOUND, from_number=a.direct_numbers[0],
            to_number=BECKER, to_e164=BECKER, started_at=_at(4, 11, 20), answered_at=None,
            ended_at=_at(4, 11, 20) + timedelta(seconds=30), state=Call.State.ENDED,
        ),
        7: _inbound(b, _at(2, 9, 15), LIN, wait=30, talk=90, disposition=sale),
        8: _inbound(a, _at(1, 23, 50), KIM, wait=3, talk=10),
        9: _inbound(a, _at(8, 23, 30), KIM, wait=4, talk=30, contact=kim),
        10: _inbound(a, _at(9, 0, 30), KIM, wait=3, talk=10),
    }
    return calls
