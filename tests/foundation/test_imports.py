"""Heavy modules stay unloaded until a mode needs them."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("openai", "numpy", "soundfile", "soxr", "pocketsphinx", "onnxruntime", "pydantic")


def loaded_after(statement: str) -> list[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    modules = set(json.loads(out.stdout))
    return [m for m in HEAVY if m in modules]


def test_import_speech_api_loads_no_heavy_modules() -> None:
    assert loaded_after("import speech_api") == []


def test_config_and_cli_load_no_heavy_modules() -> None:
    assert loaded_after("import runtime.config, runtime.logging_setup") == []


def test_the_hub_and_its_audio_paths_import_no_numpy_before_ready() -> None:
    # numpy is imported at first use, after READY (drivers/lazy_import.py)
    modules = ("runtime.hub, runtime.hub_parts, runtime.engine_factory, actors.listener, "
               "actors.engines.local, actors.engines.fallback, drivers.local.segmenter, "
               "drivers.local.speech_end, drivers.local.pause, drivers.local.level, "
               "drivers.local.wake_gate")
    assert "numpy" not in loaded_after(f"import {modules}")
