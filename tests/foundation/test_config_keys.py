"""Every config key is read by the hub somewhere outside the schema (runtime/config*.py).

A key the schema accepts and no code reads is a promise the hub does not keep (issue 16 found
``logging.level``). The scan is :mod:`tests.foundation.config_keys`; its Markdown table
(``python -m tests.foundation.config_keys``) also lists where each key is read and which
tests set it.
"""

from __future__ import annotations

from pathlib import Path

from tests.foundation.config_keys import key_reads, key_tests, walk_schema


def test_every_config_key_is_read_outside_the_schema() -> None:
    reads = key_reads()
    unread = [key.dotted for key in walk_schema() if not reads.get(key.dotted)]
    assert unread == [], f"config keys nothing reads: {unread}"


def write_tree(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True)
    path.write_text(text)


def test_the_scan_follows_sections_through_names_parameters_and_tuples(tmp_path: Path) -> None:
    write_tree(
        tmp_path, "runtime/parts.py",
        "def capture(config):\n"
        "    cap = config.audio.capture\n"
        "    return cap.device\n"  # through a local name
        "def vad(config):\n"
        "    v, c = config.vad, config.conversation\n"
        "    return v.start_ms, c.follow_up_s\n"  # through a tuple
        "def led(feedback: FeedbackConfig):\n"
        "    return feedback.led_pin\n"  # through an annotated parameter
        "def direct(self):\n"
        "    return self.config.logging.level\n"
        "def unrelated(other):\n"
        "    return other.device, other.mode\n"  # not a config object: not a read
    )
    reads = key_reads(tmp_path)
    assert reads == {
        "audio.capture.device": ["runtime/parts.py:3"],
        "vad.start_ms": ["runtime/parts.py:6"],
        "conversation.follow_up_s": ["runtime/parts.py:6"],
        "feedback.led_pin": ["runtime/parts.py:8"],
        "logging.level": ["runtime/parts.py:10"],
    }


def test_the_scan_finds_tests_that_set_a_key(tmp_path: Path) -> None:
    write_tree(
        tmp_path, "tests/test_x.py",
        "def test_yaml():\n"
        "    run('triggers: {button: {double_tap_ms: 900}}')\n"
        "def test_dotted():\n"
        "    update_file(path, {'audio.playback.volume': 0.5})\n"
        "def test_replace():\n"
        "    replace(config.vad, hangover_ms=100)\n"
        "def test_other():\n"
        "    run('hangover_ms: 5')\n"  # no vad section around it: not that key
    )
    found = key_tests(tmp_path)
    assert found == {
        "triggers.button.double_tap_ms": ["tests/test_x.py::test_yaml"],
        "audio.playback.volume": ["tests/test_x.py::test_dotted"],
        "vad.hangover_ms": ["tests/test_x.py::test_replace"],
    }
