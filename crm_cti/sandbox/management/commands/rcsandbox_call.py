"""``python manage.py rcsandbox_call inbound_answered --ext 102 --from +16504445567``:
make a running sandbox play a call scenario (or control a call: answer/hold/resume/hangup)."""

from __future__ import annotations

import json
import os

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm_cti.sandbox.callcontrol import SCENARIOS as CALL_CONTROL_SCENARIOS

SCENARIOS = ("inbound_answered", "inbound_missed", "inbound_voicemail", "multi_device",
             "concurrent", "hold_resume", "internal", "interactive", *CALL_CONTROL_SCENARIOS)
ACTIONS = ("answer", "hold", "resume", "hangup")


def _default_url() -> str:
    return os.environ.get("RC_SERVER_URL") or (
        f"http://127.0.0.1:{os.environ.get('SANDBOX_PORT', '8900')}")


class Command(BaseCommand):
    help = ("Start a call scenario on the sandbox, or send a control action to a call "
            "(scenario name or one of answer/hold/resume/hangup with --session).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("scenario", choices=SCENARIOS + ACTIONS)
        parser.add_argument("--ext", default="102", help="extension number that rings")
        parser.add_argument("--from", dest="from_number", default=None,
                            help="caller number (for 'internal': the calling extension)")
        parser.add_argument("--name", default=None, help="caller name")
        parser.add_argument("--to", default=None,
                            help="the colleague of a transfer, park or forward scenario")
        parser.add_argument("--ring", type=float, default=None, help="ring seconds")
        parser.add_argument("--talk", type=float, default=None, help="talk seconds")
        parser.add_argument("--fault", action="append", default=[],
                            choices=("out_of_order", "duplicate", "drop", "slow"))
        parser.add_argument("--session", default=None, help="session id for an action")
        parser.add_argument("--url", default=_default_url(),
                            help="sandbox base URL (default RC_SERVER_URL or SANDBOX_PORT)")

    def handle(self, *args: object, **options: object) -> None:
        import httpx

        url = str(options["url"]).rstrip("/")
        scenario = str(options["scenario"])
        if scenario in ACTIONS:
            if not options["session"]:
                raise CommandError(f"{scenario} needs --session <sessionId>")
            path, payload = f"/sandbox/calls/{options['session']}/{scenario}", {}
        else:
            path = "/sandbox/calls"
            payload = {"scenario": scenario, "extension": options["ext"]}
            for key, option in (("from", "from_number"), ("name", "name"), ("to", "to"),
                                ("ring_seconds", "ring"), ("talk_seconds", "talk")):
                if options[option] is not None:
                    payload[key] = options[option]
            if options["fault"]:
                payload["faults"] = options["fault"]
        try:
            response = httpx.post(url + path, json=payload, timeout=10)
        except httpx.HTTPError as error:
            raise CommandError(f"sandbox not reachable at {url}: {error}") from error
        if response.status_code >= 400:
            raise CommandError(f"sandbox refused ({response.status_code}): {response.text}")
        self.stdout.write(json.dumps(response.json(), indent=2))
