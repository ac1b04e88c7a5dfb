"""Past messages for one extension (``POST /sandbox/messages/history``): SMS conversations
with customers, some unread, and voicemails with their transcription, spread over the last
days — what a product imports at sign-in (the last 7 days, message-sync)."""

from __future__ import annotations

import random
from typing import Any

from crm_cti.sandbox import messagestore, mp3
from crm_cti.sandbox.calllog import NAMES
from crm_cti.sandbox.seed import Extension
from crm_cti.sandbox.state import SandboxState, iso, now

_INBOUND = ["Hi, is my order shipped yet?", "Can you call me back today?",
            "Thanks, that works for me.", "What time do you open tomorrow?",
            "I need to change my appointment.", "Got it, see you then!"]
_OUTBOUND = ["Hello! Your order ships today.", "Sure, I will call you at 3 pm.",
             "You are welcome.", "We open at 9 am.", "No problem, what day suits you?"]
_TRANSCRIPTS = ["Hi, this is about my invoice, please call me back.",
                "Hello, I am returning your call. Thanks.",
                "Calling about the quote you sent, give me a ring when you can."]


def history_generate(state: SandboxState, ext: Extension, *, count: int, days: float,
                     numbers: list[str] | None = None, seed: int | None = None,
                     ) -> list[dict[str, Any]]:
    """``count`` past messages of ``ext`` (about 4 in 5 SMS, the rest voicemails), oldest
    first, none older than ``days``; no events (they are the past)."""
    rng = random.Random(seed)
    pool = [messagestore.e164(n) for n in numbers or []] or [
        f"+1{rng.choice(['650', '415', '408', '212'])}555{rng.randint(0, 9999):04d}"
        for _ in range(max(2, count // 4))]
    names = {number: rng.choice(NAMES) for number in pool if rng.random() < 0.6}
    at = now()
    stamps = sorted(at - rng.uniform(60, days * 86400) for _ in range(count))
    created = []
    for stamp in stamps:
        other = rng.choice(pool)
        party: dict[str, Any] = {"phoneNumber": other}
        if other in names:
            party["name"] = names[other]
        me = {"phoneNumber": ext.direct_number, "name": ext.name}
        if rng.random() < 0.2:
            record = _voicemail(state, ext, party, stamp, rng)
        else:
            inbound = rng.random() < 0.55
            text = rng.choice(_INBOUND if inbound else _OUTBOUND)
            record = messagestore.record_create(
                state, ext, kind="SMS", direction="Inbound" if inbound else "Outbound",
                sender=party if inbound else me, recipients=[me if inbound else party],
                subject=text, conversation=messagestore.conversation_of(
                    state, [ext.direct_number, other]), at=stamp)
            messagestore.text_and_files(record, text, None)
            # Older inbound messages have mostly been read.
            if inbound and (at - stamp > 86400 or rng.random() < 0.5):
                record["readStatus"] = "Read"
            record["lastModifiedTime"] = iso(stamp)
        created.append(messagestore.message_render(record, state.base_url))
    return created


def _voicemail(state: SandboxState, ext: Extension, caller: dict[str, Any], stamp: float,
               rng: random.Random) -> dict[str, Any]:
    who = caller.get("name") or caller["phoneNumber"]
    record = messagestore.record_create(
        state, ext, kind="VoiceMail", direction="Inbound", sender=caller,
        recipients=[{"phoneNumber": ext.direct_number, "name": ext.name,
                     "extensionNumber": ext.number}],
        subject=f"Voice message from {who}", conversation=None, at=stamp)
    seconds = rng.randint(5, 40)
    messagestore.attachment_add(record, kind="AudioRecording", content_type="audio/mpeg",
                                content=seconds, vmDuration=seconds,
                                size=len(mp3.silent_mp3(seconds)),
                                fileName=f"voicemail-{record['id']}.mp3")
    messagestore.attachment_add(record, kind="AudioTranscription", content_type="text/plain",
                                content=rng.choice(_TRANSCRIPTS))
    record["vmTranscriptionStatus"] = "Completed"
    if rng.random() < 0.6:
        record["readStatus"] = "Read"
    record["lastModifiedTime"] = iso(stamp)
    return record
