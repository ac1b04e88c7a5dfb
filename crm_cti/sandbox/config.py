"""Sandbox configuration: environment defaults, changed at run time by ``POST /sandbox/config``.

Only the sandbox reads these; the product learns about them (as it would on the real
platform) from response headers and bodies.
"""

from __future__ import annotations

import copy
import os
from typing import Any

ACCOUNT_ID = "400000001"
MAIN_NUMBER = "+16505550100"

# A fixed secret keeps each extension's JWT credential stable across restarts, so a demo's
# .env (RC_JWT) keeps working after the sandbox is restarted.
JWT_SECRET = os.environ.get("SANDBOX_JWT_SECRET", "crm-cti-sandbox-jwt-secret-not-for-production")
PASSWORD = os.environ.get("SANDBOX_PASSWORD", "ringcentral")
CLIENT_ID = os.environ.get("RC_CLIENT_ID", "crm-cti-demo-client")
CLIENT_SECRET = os.environ.get("RC_CLIENT_SECRET", "crm-cti-demo-secret")
# A second registered app, granted everything but CallControl: what a product sees when its
# app was registered without that permission (Call Control answers it 403).
LIMITED_CLIENT_ID = "crm-cti-no-callcontrol-client"
LIMITED_CLIENT_SECRET = "crm-cti-no-callcontrol-secret"
# A third registered app without the message permissions (ReadMessages, EditMessages, SMS):
# the message store and sending SMS answer it 403, as the platform does.
NO_MESSAGES_CLIENT_ID = "crm-cti-no-messages-client"
NO_MESSAGES_CLIENT_SECRET = "crm-cti-no-messages-secret"
EXTRA_REDIRECT_URIS = [
    uri.strip() for uri in os.environ.get("SANDBOX_REDIRECT_URIS", "").split(",") if uri.strip()
]
DEFAULT_PORT = int(os.environ.get("SANDBOX_PORT", "8900"))

# RingOut callee outcomes chosen by the number dialled (any other number answers).
RINGOUT_OUTCOME_NUMBERS = {
    "+16505550191": "Busy",
    "+16505550192": "NoAnswer",
    "+16505550193": "Rejected",
    "+16505550194": "CannotReach",
    "+16505550195": "Error",
}
RINGOUT_OUTCOMES = ("Success", "Busy", "NoAnswer", "Rejected", "CannotReach", "Error")

RATE_GROUPS = ("Light", "Medium", "Heavy", "Auth")


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def default_config() -> dict[str, Any]:
    """The configuration a fresh (or reset) sandbox runs with."""
    return {
        "access_token_ttl": int(_env_float("SANDBOX_ACCESS_TOKEN_TTL", 3600)),
        "refresh_token_ttl": int(_env_float("SANDBOX_REFRESH_TOKEN_TTL", 604800)),
        "auth_code_ttl": 60,
        "rate_limits": {
            "enabled": _env_bool("SANDBOX_RATE_LIMITS", True),
            "Light": 50,
            "Medium": 40,
            "Heavy": 10,
            "Auth": 5,
            "window": 60,
            "penalty": 60,
        },
        # Seconds (divided by speed) between a call's end and its call-log record.
        "call_log_lag": _env_float("SANDBOX_CALL_LOG_LAG", 5.0),
        # 1.0 = real time; 10 = scenario timings ten times shorter.
        "speed": _env_float("SANDBOX_SPEED", 1.0),
        # Seconds (real time) an ended call stays in active calls.
        "active_call_retention": 120,
        # Seconds (real time) active calls lag behind the events (the platform: 3-10 s).
        "active_calls_lag": 0.0,
        # Webhook delivery: timeout per attempt, attempts per notification, pause between.
        "delivery_timeout": 3.0,
        "delivery_attempts": 3,
        "delivery_retry_delay": 1.0,
        # Consecutive notifications that failed every attempt before a subscription is
        # Blacklisted (the real platform waits about 10 minutes).
        "blacklist_after": 5,
        "ringout_outcome": "Success",
        "recording_min_seconds": 30,
        # Seconds of audio every recording's content holds (None: the call's talk time, at
        # most two minutes). A long one (3 h is about 50 MB) tests that the product streams.
        "recording_content_seconds": None,
        "faults": [],
        # The WebSocket gateway (wsgateway.py): seconds a wstoken stays usable; the platform's
        # idle (WSG-902) and absolute (WSG-903) connection timeouts and recovery window
        # (short values for tests); a pause before each ServerNotification; whether session
        # recovery is refused (``recoveryState: Failed``) whatever the timing.
        "ws_token_ttl": 30,
        "ws_idle_timeout": 1800,
        "ws_absolute_timeout": 86400,
        "ws_recovery_timeout": 180,
        "ws_message_delay": 0.0,
        "ws_refuse_recovery": False,
        # The message store (messagestore.py): nominal seconds of audio a voicemail holds,
        # seconds (divided by speed) until its transcription completes, and its text.
        "voicemail_seconds": 12,
        "transcription_delay": 5.0,
        "transcription_text": "Hi, this is a message for you. Please call me back when you "
                              "get a chance. Thank you.",
    }


WS_SECONDS = ("ws_token_ttl", "ws_idle_timeout", "ws_absolute_timeout", "ws_recovery_timeout")


def config_update(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Merge ``changes`` into a copy of ``current``; raise ValueError on unknown keys."""
    updated = copy.deepcopy(current)
    for key, value in changes.items():
        if key not in updated:
            raise ValueError(f"unknown config key {key!r}")
        if key == "rate_limits":
            if not isinstance(value, dict):
                raise ValueError("rate_limits must be an object")
            for sub_key, sub_value in value.items():
                if sub_key not in updated["rate_limits"]:
                    raise ValueError(f"unknown rate_limits key {sub_key!r}")
                updated["rate_limits"][sub_key] = sub_value
        elif key == "faults":
            if not isinstance(value, list):
                raise ValueError("faults must be a list")
            updated["faults"] = [dict(fault) for fault in value]
        elif key == "ringout_outcome":
            if value not in RINGOUT_OUTCOMES:
                raise ValueError(f"ringout_outcome must be one of {', '.join(RINGOUT_OUTCOMES)}")
            updated[key] = value
        elif key in WS_SECONDS or key == "ws_message_delay":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (
                key in WS_SECONDS and value <= 0
            ):
                raise ValueError(f"{key} must be a positive number of seconds")
            updated[key] = value
        elif key == "ws_refuse_recovery":
            if not isinstance(value, bool):
                raise ValueError("ws_refuse_recovery must be true or false")
            updated[key] = value
        elif key in ("voicemail_seconds", "transcription_delay"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{key} must be a number of seconds, at least 0")
            updated[key] = value
        elif key == "transcription_text":
            if not isinstance(value, str):
                raise ValueError("transcription_text must be a string")
            updated[key] = value
        elif key == "speed":
            if float(value) <= 0:
                raise ValueError("speed must be positive")
            updated[key] = float(value)
        else:
            updated[key] = value
    return updated
