"""The benchmark inputs: real-time microphone streams with known speech positions.

Questions are made by flite (several voices); the idle-listening stream is human
speech (pocketsphinx-testdata's LibriVox clips) with no wake word in it. Speech
bounds come from each clean clip's energy (``speech_span``), so "end of the
user's speech" is a measured position in the input, not a setting.
"""

from __future__ import annotations

from speech_api import AudioChunk
from tests.bench.harness import ALWAYS_LISTENING, Mark, Scenario
from tests.fakes.openai_script import Reply, tone_pcm
from tests.local.speech import concat, flite, librivox, silence, speech_span

QUESTIONS = (
    ("What time is it in Paris right now?", "kal16"),
    ("Tell me a short joke about penguins.", "slt"),
    ("How far away is the moon?", "rms"),
    ("Set a timer for ten minutes please.", "awb"),
    ("What is the weather like tomorrow?", "kal16"),
    ("Who wrote the novel Sense and Sensibility?", "slt"),
)
INTERRUPTIONS = (
    ("Stop, tell me something else instead.", "rms"),
    ("Wait, that is not what I asked.", "kal16"),
    ("No, never mind that, what about Rome?", "awb"),
)
LEAD_S = 6.0  # silence before the first turn: covers the child's start-up
# Speech starts where a 10 ms frame is within 25 dB of the clip's loudest frame and
# ends where the last one within 40 dB is (flite's tails fade; silence is ~-60 dB).
ONSET_FLOOR_DB = 25.0
END_FLOOR_DB = 40.0
IDLE_CONFIG = "triggers: {button: {enabled: false}}\n"  # the default wake word + VAD


class InputBuilder:
    """Appends clips and silences, remembering where each utterance's speech is."""

    def __init__(self, lead_s: float = LEAD_S) -> None:
        self.parts: list[AudioChunk] = [silence(lead_s * 1000)]
        self.ms = lead_s * 1000
        self.marks: list[Mark] = []

    def say(self, text: str, voice: str, onset_kind: str = "onset") -> None:
        clip = concat(flite(text, voice))
        start_s = float(speech_span(clip, ONSET_FLOOR_DB)[0])
        end_s = float(speech_span(clip, END_FLOOR_DB)[1])
        self.marks.append(Mark(onset_kind, self.ms + start_s * 1000))
        self.marks.append(Mark("end", self.ms + end_s * 1000))
        self.parts.append(clip)
        self.ms += clip.duration_ms or 0.0

    def pause(self, seconds: float) -> None:
        self.parts.append(silence(seconds * 1000))
        self.ms += seconds * 1000

    def pcm(self) -> bytes:
        return concat(*self.parts).data


def paced_reply(audio_ms: int) -> Reply:
    """A spoken answer in 20 ms deltas sent 40 ms apart: each delta reaches an idle
    playback buffer, so "delta received -> written" is the hub's own hop every time."""
    return Reply(text="Here is the answer.", audio=tone_pcm(audio_ms), chunk_ms=20,
                 pace_s=0.04)


def conversation(turns: int, reply_ms: int = 1400, lead_s: float = LEAD_S) -> Scenario:
    """``turns`` questions, each answered (paced) before the next begins."""
    builder = InputBuilder(lead_s)
    for index in range(turns):
        text, voice = QUESTIONS[index % len(QUESTIONS)]
        builder.say(text, voice)
        # endpoint (0.7 s) + answer arriving at half real time + a margin
        builder.pause(0.7 + 2 * reply_ms / 1000 + 1.0)
    return Scenario(f"conversation-{turns}", builder.pcm(), builder.marks, ALWAYS_LISTENING,
                    paced_reply(reply_ms))


def barge_ins(count: int, lead_s: float = LEAD_S) -> Scenario:
    """A question, then ``count`` interruptions, each ~1.8 s into the previous answer.

    Every answer is 8 s of audio streamed at twice real time (zero think time), so
    each interruption lands while an answer is playing, more of it is queued, and
    the response is still in progress (so the hub must send ``response.cancel``).
    """
    builder = InputBuilder(lead_s)
    text, voice = QUESTIONS[0]
    builder.say(text, voice)
    for index in range(count):
        builder.pause(0.7 + 1.8)
        text, voice = INTERRUPTIONS[index % len(INTERRUPTIONS)]
        builder.say(text, voice, onset_kind="barge")
    builder.pause(12.0)
    reply = Reply(text="A long answer.", audio=tone_pcm(8000), chunk_ms=100, pace_s=0.05)
    return Scenario(f"barge-in-{count}", builder.pcm(), builder.marks, ALWAYS_LISTENING, reply)


def idle_speech(seconds: float, lead_s: float = LEAD_S) -> Scenario:
    """Human speech without the wake word, looped to ``seconds``, default triggers."""
    clips = [audio for _name, audio, _text in librivox()]
    parts: list[AudioChunk] = [silence(lead_s * 1000)]
    total = 0.0
    while total < seconds * 1000:
        for clip in clips:
            parts.append(clip)
            total += clip.duration_ms or 0.0
    pcm = concat(*parts).data[: int((lead_s + seconds) * 16000) * 2]
    return Scenario(f"idle-{seconds:.0f}s", pcm, [], IDLE_CONFIG, Reply())


def rapid_turns(seconds: float, lead_s: float = LEAD_S) -> Scenario:
    """Back-to-back short turns (the leak run): as many as fit in ``seconds``."""
    builder = InputBuilder(lead_s)
    index = 0
    while builder.ms < (lead_s + seconds) * 1000:
        text, voice = QUESTIONS[index % len(QUESTIONS)]
        builder.say(text, voice)
        builder.pause(1.6)
        index += 1
    reply = Reply(text="Okay.", audio=tone_pcm(300), chunk_ms=100)
    return Scenario(f"rapid-{seconds:.0f}s", builder.pcm(), builder.marks, ALWAYS_LISTENING,
                    reply, sample_s=2.0, record=False)

