"""The text-to-speech programs behind :class:`LocalTextToSpeechClient`.

Each engine is a command line run as a subprocess (with a timeout) that writes
a WAV file; nothing is fetched from the network. Voices are checked against
what the program lists, so a voice name can never become a URL or a path
(flite accepts both).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from abc import ABC, abstractmethod
from functools import cached_property
from pathlib import Path

from speech_api import AudioChunk, SynthesisError, load_audio


class TtsEngine(ABC):
    name: str
    default_voice: str

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s

    @abstractmethod
    def voices(self) -> list[str]: ...

    @abstractmethod
    def _command(self, text_path: Path, wav_path: Path, voice: str) -> list[str]: ...

    def synthesize(self, text: str, voice: str) -> AudioChunk:
        """``text`` spoken by ``voice`` as PCM16 mono at the engine's native rate."""
        with tempfile.TemporaryDirectory(prefix="maigic-tts-") as tmp:
            text_path, wav_path = Path(tmp) / "text.txt", Path(tmp) / "out.wav"
            text_path.write_text(text + "\n", encoding="utf-8")
            command = self._command(text_path, wav_path, voice)
            stdin = self._stdin(text)
            try:
                done = subprocess.run(
                    command,
                    capture_output=True,
                    timeout=self.timeout_s,
                    check=False,
                    input=stdin or b"",  # an empty, closed stdin when the program reads a file
                )
            except subprocess.TimeoutExpired as exc:
                raise SynthesisError(f"{self.name} took longer than {self.timeout_s} s") from exc
            except OSError as exc:
                raise SynthesisError(f"cannot run {command[0]}: {exc}") from exc
            if done.returncode != 0 or not wav_path.exists():
                detail = done.stderr.decode(errors="replace").strip()[-300:]
                raise SynthesisError(f"{self.name} failed (exit {done.returncode}): {detail}")
            return load_audio(wav_path)

    def _stdin(self, text: str) -> bytes | None:
        """What to pipe into the program (None: it reads the text file)."""
        return None

    def check_voice(self, voice: str) -> str:
        if voice not in self.voices():
            raise SynthesisError(
                f"{self.name} has no voice {voice!r}; available: {', '.join(self.voices())}"
            )
        return voice


def _require_program(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise ValueError(f"text-to-speech program {program!r} is not installed (not on PATH)")
    return path


class Flite(TtsEngine):
    """CMU flite: 16 kHz kal16/slt/rms/awb (kal is 8 kHz); most intelligible."""

    name = "flite"
    default_voice = "kal16"

    def __init__(self, timeout_s: float) -> None:
        super().__init__(timeout_s)
        self._program = _require_program("flite")

    @cached_property
    def _voices(self) -> list[str]:
        listing = subprocess.run(
            [self._program, "-lv"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
        return listing.split(":", 1)[-1].split()

    def voices(self) -> list[str]:
        return list(self._voices)

    def _command(self, text_path: Path, wav_path: Path, voice: str) -> list[str]:
        return [self._program, "-voice", voice, "-f", str(text_path), "-o", str(wav_path)]


class EspeakNg(TtsEngine):
    """eSpeak NG: many languages, 22.05 kHz, robotic. Voices are language codes."""

    name = "espeak-ng"
    default_voice = "en-us"

    def __init__(self, timeout_s: float) -> None:
        super().__init__(timeout_s)
        self._program = _require_program("espeak-ng")

    @cached_property
    def _voices(self) -> list[str]:
        listing = subprocess.run(
            [self._program, "--voices"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
        rows = [line.split() for line in listing.splitlines()[1:]]
        return sorted({row[1] for row in rows if len(row) > 1})

    def voices(self) -> list[str]:
        return list(self._voices)

    def _command(self, text_path: Path, wav_path: Path, voice: str) -> list[str]:
        return [self._program, "-v", voice, "-f", str(text_path), "-w", str(wav_path)]


class Piper(TtsEngine):
    """Piper with a user-supplied voice (``voice.onnx`` plus ``voice.onnx.json``)."""

    name = "piper"

    def __init__(self, timeout_s: float, model_path: str | Path | None, program: str) -> None:
        super().__init__(timeout_s)
        if model_path is None:
            raise ValueError("the piper engine needs a voice model path (piper_model)")
        self.model = Path(model_path)
        if not self.model.is_file():
            raise ValueError(f"piper voice model not found: {self.model}")
        config = Path(f"{self.model}.json")
        if not config.is_file():
            raise ValueError(f"piper voice config not found next to the model: {config}")
        try:
            json.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"piper voice config {config} is not valid JSON: {exc}") from exc
        self._program = _require_program(program)
        self.default_voice = self.model.stem

    def voices(self) -> list[str]:
        return [self.default_voice]

    def _command(self, text_path: Path, wav_path: Path, voice: str) -> list[str]:
        return [self._program, "--model", str(self.model), "--output_file", str(wav_path)]

    def _stdin(self, text: str) -> bytes | None:
        return text.encode("utf-8")
