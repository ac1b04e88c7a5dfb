"""Team settings (one row) and each agent's pop settings: reads and writes.

Kept apart from ``services.py`` so that the matching on the hot path and the pages can read
settings without loading the RingCentral client stack.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from crm_cti.accounts.models import Agent, AgentPopSettings, PopPreferences, TeamSettings

TEAM_SETTINGS_PK = 1


def team_settings_get() -> TeamSettings:
    """The team's settings; the row is created with the defaults the first time."""
    settings_row, _created = TeamSettings.objects.get_or_create(pk=TEAM_SETTINGS_PK)
    return settings_row


@transaction.atomic
def team_settings_update(**fields: Any) -> TeamSettings:
    """Change team settings (``PopPreferences.POP_FIELDS``, ``match_policy``,
    ``require_disposition``)."""
    allowed = {*PopPreferences.POP_FIELDS, "match_policy", "require_disposition"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown team settings: {sorted(unknown)}")
    row = team_settings_get()
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row


def pop_settings_for(*, agent: Agent | None) -> dict[str, Any]:
    """What the dashboard applies to ``agent``'s calls: their own settings, or the team's
    default; ``own`` says which. ``require_disposition`` comes with them (the card needs it)."""
    team = team_settings_get()
    own = None
    if agent is not None:
        own = AgentPopSettings.objects.filter(agent=agent).first()
    values = (own or team).pop_dict()
    return {**values, "own": own is not None, "require_disposition": team.require_disposition}


@transaction.atomic
def agent_pop_settings_save(*, agent: Agent, **fields: Any) -> AgentPopSettings:
    """Store ``agent``'s own pop settings (every POP_FIELDS value given)."""
    unknown = set(fields) - set(PopPreferences.POP_FIELDS)
    if unknown:
        raise TypeError(f"unknown pop settings: {sorted(unknown)}")
    row, _created = AgentPopSettings.objects.select_for_update().get_or_create(
        agent=agent, defaults=fields
    )
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row


def agent_pop_settings_reset(*, agent: Agent) -> None:
    """Forget ``agent``'s own pop settings: they follow the team's default again."""
    AgentPopSettings.objects.filter(agent=agent).delete()
