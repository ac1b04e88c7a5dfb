"""Signals other domains hook into without accounts importing them.

- ``agent_signed_in(sender=Agent, agent=..., first_time=bool)``: after a successful sign-in
  (committed; the agent's token is usable), e.g. to create webhook subscriptions and import
  the recent call log.
- ``agent_signing_out(sender=Agent, agent=...)``: sent BEFORE the token is revoked, so that
  receivers can still use ``client_for_agent`` (e.g. to delete subscriptions).
- ``agent_needs_signin(sender=Agent, agent=...)``: the refresh token died; the agent's
  background work should stop until the next ``agent_signed_in``.

Receivers must not raise: sign-in and sign-out log a receiver's exception and go on.
"""

from __future__ import annotations

from django.dispatch import Signal

agent_signed_in = Signal()
agent_signing_out = Signal()
agent_needs_signin = Signal()
