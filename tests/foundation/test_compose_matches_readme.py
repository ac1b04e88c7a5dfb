"""docker-compose.yml parses and runs each process with the command README gives."""

from __future__ import annotations

import re

import yaml

from .helpers import ROOT

PROCESSES = ("web", "worker", "worker-rest", "beat", "events", "sandbox")


def readme_commands() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Processes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([\w-]+) \| `([^`]+)` \|", section, flags=re.MULTILINE)
    return dict(rows)


def test_compose_file_names_every_service():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("postgres", "redis", *PROCESSES):
        assert name in services, f"docker-compose.yml lacks the {name} service"


def test_each_process_runs_the_command_readme_gives():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    commands = readme_commands()
    assert set(PROCESSES) <= set(commands), commands
    for name in PROCESSES:
        assert compose["services"][name]["command"] == commands[name], name


def test_app_services_run_in_distributed_mode():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name in ("web", "worker", "worker-rest", "beat", "events"):
        env = compose["services"][name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")


def test_readme_opens_with_the_two_setup_commands():
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```", 2)[1]
    assert "make demo" in first_block and "make test" in first_block
