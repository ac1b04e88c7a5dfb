"""The WebSocket transport (``RC_EVENTS_TRANSPORT=websocket``): the events process.

- ``lease``: exactly one holder per subscription owner across every process;
- ``state``: the owner's ``EventConnection`` row (``wsc``, sequence, what ops shows);
- ``connection``: one owner's connection, held while its lease is ours;
- ``runner``: which owners want a connection, and a thread per owner it holds.

Notifications go through ``webhook.ingest.notification_ingest``: the webhook's durable path.
"""
