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
