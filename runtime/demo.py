"""The hub's main job on a machine with no sound card: one spoken question, answered.

:func:`run_demo` sets up a work directory with an asoundrc whose capture and
playback PCMs are alsa-lib ``file`` plugin devices (capture reads a FIFO, playback
writes a WAV), makes the question with flite, and runs the real hub (the actor
graph of :mod:`runtime.hub`) on the configured default (local mode) with only the
audio devices and the trigger changed: always listening, so the hub's own VAD
finds the question and ends the turn (a wake word cannot be made reliably with a
synthetic voice, and there is no button). The microphone FIFO is fed in real time:
silence, the question, then silence until the answer has been played. The reply
is cut from the playback WAV and saved; the transcript and answer are returned.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from actors.engine import ConversationEngine
from actors.engines.delegating import TappedEngine
from runtime.config import HubConfig
from speech_api import AudioChunk, FileAudioSource, load_audio
from speech_api.events import InputTranscript, RealtimeEvent, ResponseDone

log = logging.getLogger(__name__)

RATE = 16000
PERIOD_MS = 20
LEAD_SILENCE_MS = 600
CAPTURE_PCM, PLAYBACK_PCM = "maigic_demo_mic", "maigic_demo_speaker"
ALSA_CONF = "/usr/share/alsa/alsa.conf"
SILENT_RMS = 100.0  # PCM16 RMS under which a 10 ms frame counts as silence
TRIM_PAD_FRAMES = 15  # 150 ms kept around the sound when trimming the reply


class DemoError(RuntimeError):
    """The demo could not run (a missing program, a hub that did not start, ...)."""


@dataclass(frozen=True, slots=True)
class DemoResult:
    question: str
    heard: str  # the hub's transcript of the question
    answer: str  # the text of the spoken answer
    reply_wav: Path
    reply_ms: float
    workdir: Path
    timing: dict[str, float] | None = None  # the turn's hops, ms after the end of speech

    @property
    def ok(self) -> bool:
        return bool(self.heard and self.answer and self.reply_ms > 0)


def asoundrc(workdir: Path) -> str:
    """File-plugin capture (from the FIFO) and playback (to a WAV) PCMs in ``workdir``."""
    return f"""# written by 'maigic demo': sound devices backed by files (no sound card needed)
pcm.{CAPTURE_PCM} {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "{workdir / "mic.fifo"}"
    format "raw"
}}
pcm.{PLAYBACK_PCM} {{
    type file
    slave.pcm "null"
    file "{workdir / "speaker.wav"}"
    format "wav"
}}
"""


def demo_config(base: HubConfig, workdir: Path) -> HubConfig:
    """``base`` in local mode on the demo devices, always listening, no LED or earcons
    (no GPIO here, and earcons would be mixed into the reply file)."""
    audio = replace(
        base.audio,
        capture=replace(base.audio.capture, device=CAPTURE_PCM, sample_rate=RATE, channels=1,
                        period_ms=PERIOD_MS),
        playback=replace(base.audio.playback, device=PLAYBACK_PCM, channels=1),
    )
    triggers = replace(base.triggers, always_listening=True, keyboard=False,
                       button=replace(base.triggers.button, enabled=False),
                       wake_word=replace(base.triggers.wake_word, enabled=False))
    return replace(base, mode="local", audio=audio, triggers=triggers,
                   conversation=replace(base.conversation, follow_up_s=0.0),
                   feedback=replace(base.feedback, earcons=False, led=False),
                   status=replace(base.status, socket=workdir / "status.sock"))


class MicFeeder:
    """Writes PCM into the capture FIFO in real time, then silence until stopped."""

    def __init__(self, fifo: Path, pcm: bytes) -> None:
        self.fifo = fifo
        self.pcm = pcm
        self.fed = threading.Event()  # the whole question went in
        self.error: BaseException | None = None
        self._fd: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-mic", daemon=True)

    def start(self) -> None:
        os.mkfifo(self.fifo)
        # O_RDWR never blocks and gives the FIFO a writer at once, so alsa-lib's blocking
        # open of the infile (which holds the GIL while it waits) returns immediately.
        self._fd = os.open(self.fifo, os.O_RDWR | os.O_NONBLOCK)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _run(self) -> None:
        assert self._fd is not None
        source = FileAudioSource(AudioChunk.pcm(self.pcm, RATE), frame_ms=PERIOD_MS,
                                 realtime=True, trailing_silence_s=math.inf)
        written = 0
        try:
            for frame in source.blocking(self._stop):
                self._write(self._fd, frame.data)
                written += len(frame.data)
                if written >= len(self.pcm):
                    self.fed.set()
        except OSError as exc:
            self.error = exc

    def _write(self, fd: int, data: bytes) -> None:
        while data and not self._stop.is_set():
            try:
                data = data[os.write(fd, data):]
            except BlockingIOError:  # the pipe is full: the hub reads behind
                self._stop.wait(0.005)


class _Transcript:
    """What the hub heard and answered, tapped from the engine's events."""

    def __init__(self) -> None:
        self.heard = ""
        self.answer = ""
        self.answered = threading.Event()

    def tap(self, inner: ConversationEngine) -> ConversationEngine:
        return TappedEngine(inner, self.seen)

    def seen(self, event: RealtimeEvent) -> None:
        if isinstance(event, InputTranscript) and event.is_final:
            self.heard = event.text
        elif isinstance(event, ResponseDone) and event.transcript:
            self.answer = event.transcript
            self.answered.set()


def question_audio(text: str, voice: str = "rms") -> AudioChunk:
    """``text`` spoken by flite as 16 kHz mono PCM16, with silence before it.

    The rms voice: Whisper mishears flite's default kal16 ("Set at time or for 10
    minutes."), a synthetic voice unlike the people it learnt from; rms it hears right.
    """
    from drivers.local.framing import resample_pcm16
    from drivers.local.tts import LocalTextToSpeechClient
    from speech_api import join_chunks

    try:
        tts = LocalTextToSpeechClient(engine="flite", voice=voice)
    except ValueError as exc:
        raise DemoError(f"cannot make the question: {exc} (install flite)") from None
    spoken = join_chunks(tts.synthesize_stream_blocking(text))
    pcm = resample_pcm16(spoken.data, spoken.sample_rate, RATE)
    return AudioChunk.pcm(bytes(RATE * LEAD_SILENCE_MS // 1000 * 2) + pcm, RATE)


def run_demo(base: HubConfig, question: str, workdir: Path | None = None,
             output: Path | None = None, timeout_s: float = 60.0) -> DemoResult:
    """Ask the real hub ``question`` through file-backed sound devices."""
    from runtime.hub import Hub, HubStartError
    from runtime.hub_parts import build_parts

    work = workdir or Path(tempfile.mkdtemp(prefix="maigic-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    for stale in ("mic.fifo", "speaker.wav"):
        (work / stale).unlink(missing_ok=True)
    (work / "asoundrc").write_text(asoundrc(work))
    os.environ["ALSA_CONFIG_PATH"] = f"{ALSA_CONF}:{work / 'asoundrc'}"
    config = demo_config(base, work)
    spoken = question_audio(question)
    (work / "question.wav").write_bytes(spoken.to_wav())
    transcript = _Transcript()
    parts = build_parts(config, open_led=False)
    engine = parts.engine
    hub = Hub(config, replace(parts, engine=lambda: transcript.tap(engine())))
    mic = MicFeeder(work / "mic.fifo", spoken.data)
    mic.start()
    try:
        hub.start()
        _wait_for_answer(hub, transcript, mic, timeout_s)
        timing = hub.turns[-1] if hub.turns else None
    except HubStartError as exc:
        raise DemoError(f"the hub did not start: {exc}") from None
    finally:
        hub.stop()
        mic.stop()
    reply = _trimmed(work / "speaker.wav")
    reply_wav = output or work / "reply.wav"
    reply_wav.write_bytes(reply.to_wav())
    return DemoResult(question, transcript.heard, transcript.answer, reply_wav,
                      reply.duration_ms or 0.0, work, timing)


def _wait_for_answer(hub: object, transcript: _Transcript, mic: MicFeeder,
                     timeout_s: float) -> None:
    from runtime.hub import Hub

    assert isinstance(hub, Hub)
    deadline = time.monotonic() + timeout_s
    if not hub.ready.wait(min(10.0, timeout_s)):
        raise DemoError("the file-backed sound devices did not open; see the log")
    if not transcript.answered.wait(max(0.0, deadline - time.monotonic())):
        raise DemoError(f"no answer within {timeout_s:.0f} s (hub state: {hub.state}); "
                        f"heard: {transcript.heard or 'nothing'}")
    # the answer is complete once it has been played and the hub is idle again
    # (or muted, when the question was "mute")
    if not hub.wait_for_state(("idle", "muted"), max(1.0, deadline - time.monotonic())):
        raise DemoError(f"the answer did not finish playing (hub state: {hub.state})")
    if mic.error is not None:
        raise DemoError(f"feeding the microphone failed: {mic.error}")


def _trimmed(path: Path) -> AudioChunk:
    """The played audio without the silence around it (empty if nothing was played)."""
    if not path.exists() or path.stat().st_size <= 44:
        return AudioChunk.pcm(b"", RATE)
    audio = load_audio(str(path)).to_pcm()
    samples = np.frombuffer(audio.data, dtype="<i2")
    frame = max(1, audio.sample_rate // 100) * audio.channels
    usable = len(samples) // frame * frame
    rms = np.sqrt(np.mean(samples[:usable].reshape(-1, frame).astype(np.float64) ** 2, axis=1))
    loud = np.flatnonzero(rms > SILENT_RMS)
    if loud.size == 0:
        return AudioChunk.pcm(b"", audio.sample_rate, channels=audio.channels)
    first = max(0, int(loud[0]) - TRIM_PAD_FRAMES) * frame  # keep soft onsets ("t", "s")
    last = min(len(rms), int(loud[-1]) + 1 + TRIM_PAD_FRAMES) * frame
    return AudioChunk.pcm(samples[first:last].tobytes(), audio.sample_rate,
                          channels=audio.channels)
