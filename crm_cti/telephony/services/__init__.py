"""Telephony actions, one module per sub-domain: views, tasks, the applier and signal
receivers call them and stay thin.

- ``events``: applying stored events in batches (every mode), what follows the commit.
- ``calllog``: call-log enrichment and the history import.
- ``activecalls``: reconciliation with the platform's active calls.
- ``subscriptions``: webhook subscriptions, kept alive.
- ``ringout``: placing, polling and cancelling RingOuts.
- ``callcontrol``: the card's call-control buttons and call-out (Call Control), one service
  per button, asked by the agent's browser and answered at once (never queued).
- ``calls``: writes people make to a call (notes, disposition, contact).
- ``scopes`` and ``records``: who asks the platform, and reading its call records.

Arrows point downward: events → activecalls → calllog → scopes/records → tracker,
call_rules. Anything that talks to RingCentral runs in a Celery task (started by name
through dispatch.py), never in the webhook, and asks the shared rate budget first: work
that would exceed it is rescheduled (``countdown``), never dropped.
"""
