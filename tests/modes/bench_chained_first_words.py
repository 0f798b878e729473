"""Chained mode: how long before the LLM finishes do the first words play?

The fake OpenAI server streams a four-sentence answer word by word (``--pace``
seconds apart); the real hub (file-plugin ALSA devices, real VAD) transcribes,
streams the chat, synthesises sentence by sentence and plays. Printed and saved
per turn: ms after the end of speech until the first reply audio was written to
the device, and until the chat stream had finished.

    .venv/bin/python -m tests.modes.bench_chained_first_words [--pace 0.3] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from tests.alsa.alsa_harness import AlsaFiles, alsa_env
from tests.e2e.hubtest import running_hub
from tests.fakes.openai_script import ChatReply
from tests.fakes.openai_server import FakeOpenAIServer
from tests.local.speech import concat, flite, silence
from tests.modes.hubmodes import ModeHub

ANSWER = ("The moon is about four hundred thousand kilometres away. Light takes just over a "
          "second to get there. The sun is much further. Its light needs eight minutes.")


def measure(pace: float, work: Path) -> dict[str, float]:
    files = AlsaFiles(work / "in.raw", work / "out.wav")
    os.environ.update(alsa_env(files.infile, files.outfile))
    with FakeOpenAIServer() as server:
        os.environ["OPENAI_API_KEY"] = server.api_key
        server.script.transcript = "how far is the moon"
        server.script.add_chat_reply(ChatReply(text=ANSWER, pace_s=pace))
        run = ModeHub(work, server, "mode: chained\nchained: {stt: {mode: batch}}\n")
        with running_hub(run.hub, files, concat(silence(600), flite("how far is the moon"),
                                                silence(30000)).data):
            run.wait_answers(1, 60)
            run.hub.wait_for_state("idle", 30)
        chat_frames = server.frames_of("out", "/v1/chat/completions")
        chat_done_at = max(f.at for f in chat_frames)
    timing = run.hub.turns[-1]
    first_item = min(v for k, v in run.written.at_ns.items() if k.startswith("chained-"))
    speech_end = first_item / 1e9 - timing["first_written"] / 1000
    return {**timing, "chat_done": (chat_done_at - speech_end) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pace", type=float, default=0.3, help="seconds between chat words")
    parser.add_argument("--out", type=Path,
                        default=Path("/tmp/maigic-bench/chained_first_words.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="maigic-bench-") as work:
        figures = measure(args.pace, Path(work))
    print("ms after the end of speech: " + "  ".join(f"{k} {v:.0f}" for k, v in figures.items()))
    print(f"first words played {figures['chat_done'] - figures['first_written']:.0f} ms "
          "before the chat model finished")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"pace_s": args.pace, **figures}, indent=2))
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
