"""The session object the fake Realtime server keeps, in the GA response shape."""

from __future__ import annotations

import copy
import time
from typing import Any

from tests.fakes.openai_script import SAMPLE_RATE, new_id

PCM = {"type": "audio/pcm", "rate": SAMPLE_RATE}
# Nested objects a session.update merges into; every other key is replaced whole
# (e.g. a new turn_detection replaces the old one rather than mixing two VAD types).
_MERGED_KEYS = frozenset({"audio", "input", "output"})


def default_session(kind: str, model: str) -> dict[str, Any]:
    """What ``session.created`` carries before the client changes anything."""
    expires = int(time.time()) + 3600
    if kind == "transcription":
        return {
            "type": "transcription",
            "object": "realtime.transcription_session",
            "id": new_id("sess"),
            "expires_at": expires,
            "include": None,
            "audio": {
                "input": {
                    "format": dict(PCM),
                    "noise_reduction": None,
                    "transcription": {"model": "gpt-4o-transcribe", "language": None, "prompt": ""},
                    "turn_detection": {
                        "type": "server_vad",
                        "threshold": 0.5,
                        "prefix_padding_ms": 300,
                        "silence_duration_ms": 500,
                    },
                }
            },
        }
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": new_id("sess"),
        "model": model,
        "output_modalities": ["audio"],
        "instructions": "",
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "prompt": None,
        "expires_at": expires,
        "include": None,
        "audio": {
            "input": {
                "format": dict(PCM),
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 200,
                    "idle_timeout_ms": None,
                    "create_response": True,
                    "interrupt_response": True,
                },
            },
            "output": {"format": dict(PCM), "voice": "marin", "speed": 1.0},
        },
    }


def merge_session(current: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Apply a ``session.update``: only the fields present change (§2.1)."""
    merged = copy.deepcopy(current)
    for key, value in update.items():
        if key in _MERGED_KEYS and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_session(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
