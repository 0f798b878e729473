"""Local speech-to-text on real read speech: WER, decode time, memory, and the hub's
speech-end -> first reply audio, for faster-whisper and pocketsphinx, on this machine and
on a Raspberry Pi 4 approximation.

- Decoding: each engine in its own child process decodes every LibriVox recording in
  pocketsphinx-testdata (whole utterances, as the hub's local engine does) and reports
  per-file WER, decode seconds per audio second (wall and CPU), and RSS with the model
  loaded (VmRSS after loading and decoding, and the peak).
- Latency: the real hub (`maigic run --input FILE --until-idle`, local mode, always
  listening) answers two spoken commands (flite's rms voice); the hub's own turn-timing
  log line gives speech end -> first reply audio written.
- Pi 4 approximation: a Pi 4 has four Cortex-A72 cores at 1.5 GHz; one does roughly
  0.45 of the work of one core of this machine (a Pi Zero 2 W's A53 at 1 GHz is 0.2-0.25,
  see bench_pizero.py; an A72 does ~2x the work per clock at 1.5x the clock). Four of them
  are ~1.8 cores here, and this machine has only two: the child gets a CPU-bandwidth quota
  of 1.8 cores (cgroup cfs quota 18 ms per 10 ms, over both cores) and whisper 4 threads,
  as it would use on the Pi. The quota approximates the Pi's total CPU; with two real cores
  the four threads share them, so parallel speed-up is approximated by the budget, not
  reproduced.

    .venv/bin/python -m tests.bench.bench_stt_realspeech [--skip-hub]

Prints a table and writes tests/bench/results/stt_realspeech.json. Other work on the
machine slows every figure: the load average is recorded with them.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from tests.bench.cpulimit import CpuLimit, limited_popen

REPO = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).parent / "results" / "stt_realspeech.json"
ENGINES = ("faster_whisper", "pocketsphinx")
PI4 = CpuLimit(share=1.8)
PI4_THREADS = 4
TURN_TIMING = re.compile(r"speech end -> first audio written (\d+) ms")
QUESTIONS = ("what time is it", "set a timer for ten minutes")


# --- the child: decode every recording ------------------------------------------------


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    from tests.bench.procmem import status_kb

    # VmHWM: ru_maxrss would carry the spawning process's peak over exec
    return status_kb("self", "VmHWM") / 1024


def decode_child(engine: str, threads: int) -> dict[str, Any]:
    from tests.local.speech import librivox
    from tests.realspeech.scoring import align, words

    clips = librivox()
    before = _rss_mb()
    started = time.monotonic()
    client: Any
    if engine == "faster_whisper":
        from drivers.local.whisper_stt import WhisperSpeechToTextClient

        client = WhisperSpeechToTextClient(threads=threads)
    else:
        from drivers.local.skills import SkillRegistry
        from drivers.local.stt import LocalSpeechToTextClient

        with SkillRegistry() as skills:  # the hub's small-board setting: grammar, then free
            client = LocalSpeechToTextClient(mode="grammar+free", grammar=skills.jsgf())
    load_s = time.monotonic() - started
    files, reference, heard = [], [], []
    for name, audio, transcript in clips:
        seconds = (audio.duration_ms or 0) / 1000
        wall, cpu = time.monotonic(), time.process_time()
        text = client.transcribe_blocking(audio)
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
        one = align(words(transcript), words(text))
        reference += words(transcript)
        heard += words(text)
        files.append({"file": name, "audio_s": round(seconds, 2), "wer": round(one.wer, 3),
                      "decode_s_per_audio_s": round(wall / seconds, 3),
                      "cpu_s_per_audio_s": round(cpu / seconds, 3), "heard": text})
    total_audio = sum(f["audio_s"] for f in files)
    return {
        "engine": engine, "threads": threads if engine == "faster_whisper" else 1,
        "load_s": round(load_s, 2), "files": files,
        "wer": round(align(reference, heard).wer, 3),
        "decode_s_per_audio_s": round(sum(f["decode_s_per_audio_s"] * f["audio_s"]
                                          for f in files) / total_audio, 3),
        "cpu_s_per_audio_s": round(sum(f["cpu_s_per_audio_s"] * f["audio_s"]
                                       for f in files) / total_audio, 3),
        "rss_before_mb": round(before, 1), "rss_loaded_mb": round(_rss_mb(), 1),
        "peak_rss_mb": round(_peak_mb(), 1),
    }


# --- the parent -----------------------------------------------------------------------


def _run(argv: list[str], limit: CpuLimit | None, env: dict[str, str],
         timeout: float) -> tuple[str, str, str]:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            limited_popen(argv, limit, env=env, stdout=out, stderr=err) as (proc, how):
        proc.wait(timeout=timeout)
        out.seek(0)
        err.seek(0)
        return out.read().decode(), err.read().decode(errors="replace"), how


def decode_figures(engine: str, limit: CpuLimit | None, threads: int) -> dict[str, Any]:
    argv = [sys.executable, "-m", "tests.bench.bench_stt_realspeech", "--child", engine,
            "--threads", str(threads)]
    out, err, how = _run(argv, limit, {**os.environ, "PYTHONPATH": str(REPO)}, 900)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"decode child for {engine} failed: {err[-2000:]}")
    return {**json.loads(lines[-1]), "limit": how}


def _question_wav(path: Path) -> None:
    from runtime.demo import question_audio
    from tests.local.speech import concat, silence

    parts = [silence(1000)]
    for text in QUESTIONS:
        parts += [question_audio(text), silence(9000)]  # the answer and follow-up in between
    path.write_bytes(concat(*parts).to_wav())


def hub_latency(engine: str, limit: CpuLimit | None, threads: int,
                work: Path) -> dict[str, Any]:
    config = work / f"{engine}.yaml"
    config.write_text(textwrap.dedent(f"""
        mode: local
        audio:
          capture: {{sample_rate: 16000, period_ms: 20}}
          playback: {{device: testplay, sample_rate: 16000, period_ms: 20}}
        triggers: {{always_listening: true, wake_word: {{enabled: false}},
                    button: {{enabled: false}}}}
        feedback: {{earcons: false, led: false}}
        status: {{socket: {work / "status.sock"}}}
        local: {{stt: {{engine: {engine}, threads: {threads}}}}}
    """))
    question = work / "questions.wav"
    if not question.exists():
        _question_wav(question)
    env = {**os.environ, "PYTHONPATH": str(REPO),
           "ALSA_CONFIG_PATH": f"/usr/share/alsa/alsa.conf:{REPO / 'tests/alsa/asoundrc'}",
           "ALSA_TEST_OUTFILE": str(work / "played.wav")}
    argv = [sys.executable, "-m", "runtime.cli", "run", "--config", str(config), "--input",
            str(question), "--until-idle"]
    _out, err, how = _run(argv, limit, env, 600)
    ms = [int(m.group(1)) for m in TURN_TIMING.finditer(err)]
    return {"engine": engine, "speech_end_to_first_audio_ms": ms, "limit": how,
            "turns": len(ms)}


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        print(json.dumps(decode_child(argv[1], int(argv[3]))))
        return 0
    results: dict[str, Any] = {"load_average_start": os.getloadavg(), "profiles": {}}
    with tempfile.TemporaryDirectory(prefix="maigic-stt-bench-") as tmp:
        for profile, limit, threads in (("this machine", None, 0),
                                        ("Pi 4 approx.", PI4, PI4_THREADS)):
            rows = []
            for engine in ENGINES:
                threads_here = threads or min(4, os.cpu_count() or 1)
                row = decode_figures(engine, limit, threads_here)
                if "--skip-hub" not in argv:
                    row["hub"] = hub_latency(engine, limit, threads_here, Path(tmp))
                rows.append(row)
                _print_row(profile, row)
            results["profiles"][profile] = rows
    results["load_average_end"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"load average at start {results['load_average_start']}, "
          f"at end {results['load_average_end']}; written {RESULTS}")
    return 0


def _print_row(profile: str, row: dict[str, Any]) -> None:
    hub = row.get("hub", {}).get("speech_end_to_first_audio_ms", [])
    print(f"{profile:13} {row['engine']:15} WER {row['wer']:.1%}  decode "
          f"{row['decode_s_per_audio_s']:.3f} s/s (CPU {row['cpu_s_per_audio_s']:.3f})  "
          f"RSS loaded {row['rss_loaded_mb']:.0f} MB (before {row['rss_before_mb']:.0f}, "
          f"peak {row['peak_rss_mb']:.0f})  load {row['load_s']:.1f} s  "
          f"speech end -> first audio {hub} ms  [{row['limit']}]")
    for f in row["files"]:
        print(f"    {f['file']}: {f['audio_s']:.1f} s  WER {f['wer']:.0%}  "
              f"{f['decode_s_per_audio_s']:.3f} s/s  {f['heard']!r}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
