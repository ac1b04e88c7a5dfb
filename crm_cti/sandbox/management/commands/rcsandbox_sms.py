"""``python manage.py rcsandbox_sms --ext 102 --from +16504445567 "Is my order shipped?"``:
a person texts an extension of a running sandbox (its ``POST /sandbox/sms``)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm_cti.sandbox.management.commands.rcsandbox_call import _default_url


class Command(BaseCommand):
    help = "Text an extension of the sandbox from any number (an inbound SMS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("text", help="the message text")
        parser.add_argument("--ext", default="102", help="extension number that receives it")
        parser.add_argument("--from", dest="from_number", default="+16504445567",
                            help="the sender's phone number")
        parser.add_argument("--name", default=None, help="the sender's name")
        parser.add_argument("--fault", action="append", default=[],
                            choices=("duplicate", "drop", "slow"),
                            help="a delivery fault for its events")
        parser.add_argument("--url", default=_default_url(),
                            help="sandbox base URL (default RC_SERVER_URL or SANDBOX_PORT)")

    def handle(self, *args: object, **options: object) -> None:
        import httpx

        url = str(options["url"]).rstrip("/")
        payload: dict[str, object] = {"extension": options["ext"], "text": options["text"],
                                      "from": options["from_number"]}
        if options["name"]:
            payload["name"] = options["name"]
        faults = options["fault"]
        if isinstance(faults, list) and faults:
            payload["faults"] = [{"type": kind} for kind in faults]
        try:
            response = httpx.post(url + "/sandbox/sms", json=payload, timeout=10)
        except httpx.HTTPError as error:
            raise CommandError(f"sandbox not reachable at {url}: {error}") from error
        if response.status_code >= 400:
            raise CommandError(f"sandbox refused ({response.status_code}): {response.text}")
        self.stdout.write(json.dumps(response.json(), indent=2))
