"""The webhook: two front doors (``asgi`` before Django, ``views`` through it) and the one
``ingest.webhook_ingest`` behind them."""
