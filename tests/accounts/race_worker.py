"""A second process for the refresh race: N threads call RingCentral as one agent the
moment a "go" file appears. Prints "ready" when set up, then one JSON list of outcomes."""

from __future__ import annotations

import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_cti.settings")
django.setup()

from django.db import connections  # noqa: E402

from crm_cti.accounts.models import Agent  # noqa: E402
from tests.accounts.race import run_threads  # noqa: E402


def main() -> None:
    agent_pk, go_file, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    agent = Agent.objects.get(pk=agent_pk)
    connections.close_all()

    def wait_for_go() -> None:
        while not os.path.exists(go_file):
            time.sleep(0.002)

    threads, results = run_threads(agent, count, wait_for_go)
    print("ready", flush=True)
    for thread in threads:
        thread.join(60)
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
