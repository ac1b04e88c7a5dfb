"""``python manage.py rcsandbox``: serve the RingCentral sandbox (its own process and port)."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the RingCentral platform emulator (default 127.0.0.1:8900, or SANDBOX_PORT)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("SANDBOX_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int,
                            default=int(os.environ.get("SANDBOX_PORT", "8900")))
        parser.add_argument("--log-level", default=os.environ.get("SANDBOX_LOG_LEVEL", "info"))

    def handle(self, *args: object, **options: object) -> None:
        import uvicorn

        from crm_cti.sandbox.app import create_app

        host = str(options["host"])
        port = int(options["port"])  # type: ignore[arg-type]
        self.stdout.write(f"RingCentral sandbox on http://{host}:{port}/sandbox/")
        uvicorn.run(create_app(), host=host, port=port, log_level=str(options["log_level"]),
                    access_log=False, lifespan="on")
