"""CLI basics and journald-friendly logging that never writes a secret."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.logging_setup import REDACTED, register_secret, setup_logging
from speech_api import __version__

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-proj-secret-value-0123456789"


@pytest.fixture
def log_stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    yield stream
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def test_version() -> None:
    out = subprocess.run([sys.executable, "-m", "runtime.cli", "--version"],
                         capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.strip() == f"maigic {__version__}"


def test_bad_log_level_is_refused() -> None:
    out = subprocess.run([sys.executable, "-m", "runtime.cli", "--log-level", "loud", "config",
                          "check"], capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert out.returncode == 2 and "invalid choice" in out.stderr


def test_journal_format_has_priority_and_no_timestamp(
    log_stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOURNAL_STREAM", "8:12345")
    setup_logging("INFO", stream=log_stream)
    logging.getLogger("maigic.test").warning("device %s lost", "hw:0")
    logging.getLogger("maigic.test").debug("not shown at INFO")
    assert log_stream.getvalue() == "<4>maigic.test: device hw:0 lost\n"


def test_terminal_format_has_timestamp(
    log_stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    setup_logging("DEBUG", stream=log_stream)
    logging.getLogger("maigic.test").debug("hello")
    line = log_stream.getvalue()
    assert line.endswith("DEBUG   maigic.test: hello\n")
    assert line[2] == ":" and line[5] == ":"


def test_registered_secret_never_reaches_the_log(
    log_stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    setup_logging("INFO", stream=log_stream)
    register_secret(SECRET)
    log = logging.getLogger("maigic.test")
    log.info("connecting with key %s", SECRET)
    log.info(f"header Authorization: Bearer {SECRET}")
    try:
        raise RuntimeError(f"server said bad key {SECRET}")
    except RuntimeError:
        log.exception("request failed")
    text = log_stream.getvalue()
    assert SECRET not in text
    assert text.count(REDACTED) == 3  # two messages + the traceback's exception line
    assert "RuntimeError" in text


def test_cli_runs_as_console_script() -> None:
    exe = Path(sys.executable).parent / "maigic"
    assert exe.exists(), "pip install -e . installs the maigic command"
    out = subprocess.run([str(exe), "config", "check", str(ROOT / "config" / "maigic.yaml")],
                         capture_output=True, text=True, timeout=30, env=os.environ.copy())
    assert out.returncode == 0


def test_scrubbing_leaves_records_intact_for_other_handlers(
    log_stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    setup_logging("INFO", stream=log_stream)
    register_secret(SECRET)
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    keep = Keep()
    logging.getLogger().addHandler(keep)
    try:
        logging.getLogger("maigic.test").info("state %s -> %s (%s)", "IDLE", "LISTENING", SECRET)
    finally:
        logging.getLogger().removeHandler(keep)
    assert seen[0].args == ("IDLE", "LISTENING", SECRET)  # what tests and other handlers read
    assert SECRET not in log_stream.getvalue() and REDACTED in log_stream.getvalue()


def test_the_log_follows_stderr_when_it_is_replaced(
    log_stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What pytest does around a test that runs `maigic` in-process: stderr is swapped for a
    # capture, and closed when the test ends; later lines must not go to the closed stream.
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    setup_logging("INFO")
    logging.getLogger("maigic.test").info("one")
    monkeypatch.setattr(sys, "stderr", second)
    first.close()
    errors: list[BaseException] = []
    monkeypatch.setattr(logging.Handler, "handleError",
                        lambda self, record: errors.append(sys.exc_info()[1]))  # type: ignore[arg-type]
    logging.getLogger("maigic.test").info("two")
    assert errors == []
    assert second.getvalue().endswith("INFO    maigic.test: two\n")
