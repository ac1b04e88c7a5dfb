"""``manage.py rcsandbox_call`` drives a running sandbox from the command line."""

import json
import os
import subprocess
import sys

from tests.support.sandbox import REPO, SandboxProcess


def _run(*args: str) -> subprocess.CompletedProcess:
    # A sandbox tool, not a crm_cti process: no database or Redis (nor crm_cti's keys).
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return subprocess.run([sys.executable, str(REPO / "manage.py"), "rcsandbox_call", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def test_rcsandbox_call_starts_a_scenario(fresh_sandbox: SandboxProcess) -> None:
    done = _run("inbound_answered", "--ext", "102", "--from", "+16504445567",
                "--url", fresh_sandbox.url)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["scenario"] == "inbound_answered" and result["extension"] == "102"
    assert [c["sessionId"] for c in fresh_sandbox.calls()] == [result["sessionId"]]


def test_rcsandbox_call_controls_a_call(fresh_sandbox: SandboxProcess) -> None:
    started = json.loads(_run("interactive", "--ext", "104", "--url",
                              fresh_sandbox.url).stdout)
    done = _run("answer", "--session", started["sessionId"], "--url", fresh_sandbox.url)
    assert done.returncode == 0, done.stderr
    assert fresh_sandbox.call(started["sessionId"])["legs"][0]["telephonyStatus"] == (
        "CallConnected")


def test_rcsandbox_call_reports_errors(fresh_sandbox: SandboxProcess) -> None:
    done = _run("inbound_answered", "--ext", "999", "--url", fresh_sandbox.url)
    assert done.returncode != 0 and "unknown extension" in done.stderr


def test_rcsandbox_call_plays_a_call_control_scenario(fresh_sandbox: SandboxProcess) -> None:
    done = _run("blind_transfer", "--ext", "102", "--to", "104", "--url", fresh_sandbox.url)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["scenario"] == "blind_transfer" and result["colleague"] == "104"


def test_rcsandbox_sms_texts_an_extension(fresh_sandbox: SandboxProcess) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    done = subprocess.run([sys.executable, str(REPO / "manage.py"), "rcsandbox_sms",
                           "Is my order shipped?", "--ext", "103", "--from", "+14155550142",
                           "--url", fresh_sandbox.url], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    sent = json.loads(done.stdout)
    assert sent["ownerId"] == "400000103" and sent["from"]["phoneNumber"] == "+14155550142"
    refused = subprocess.run([sys.executable, str(REPO / "manage.py"), "rcsandbox_sms", "x",
                              "--ext", "999", "--url", fresh_sandbox.url], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "unknown extension" in refused.stderr
