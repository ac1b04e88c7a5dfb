"""Recording content: a valid MPEG-1 Layer III stream of silence, built in code.

Each frame is 144 bytes: a header for 32 kbit/s, 32 kHz, mono, followed by zeroed side
information and main data (no Huffman data, so every sample decodes to silence). A frame
holds 1152 samples, 36 ms at 32 kHz.
"""

from __future__ import annotations

FRAME_HEADER = bytes([0xFF, 0xFB, 0x18, 0xC0])
FRAME_BYTES = 144
FRAME_SECONDS = 1152 / 32000
_FRAME = FRAME_HEADER + bytes(FRAME_BYTES - len(FRAME_HEADER))
# Long recordings are cut short: the content proves the plumbing, not the audio.
MAX_SECONDS = 120


def silent_mp3(seconds: float, *, max_seconds: float | None = MAX_SECONDS) -> bytes:
    if max_seconds is not None:
        seconds = min(seconds, max_seconds)
    frames = max(1, round(seconds / FRAME_SECONDS))
    return _FRAME * frames
