"""Logging for a systemd service and for a terminal, with secrets scrubbed.

Under systemd (``JOURNAL_STREAM`` set) journald adds timestamps itself, so lines
carry only a syslog priority prefix (``<6>``) that journald turns into the
entry's level. In a terminal, lines get a time stamp. Every line goes
through :class:`ScrubbingFormatter`, so a registered secret (the API key) is never
written, whatever code logs it by mistake.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from types import TracebackType
from typing import TextIO

_SYSLOG_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8  # shorter strings would scrub ordinary words


def register_secret(value: str | None) -> None:
    """Never let ``value`` reach a log line from now on."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.add(value)


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced."""
    with _secrets_lock:
        secrets = tuple(_secrets)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class ScrubbingFormatter(logging.Formatter):
    """Formats a record, then removes every registered secret from the text.

    Scrubbing the formatted text (message, arguments and traceback alike) rather than
    rewriting the record leaves the record untouched for any other handler.
    """

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class JournalFormatter(ScrubbingFormatter):
    """``<priority>logger: message``: journald reads the level, adds the time."""

    def format(self, record: logging.LogRecord) -> str:
        priority = _SYSLOG_PRIORITY.get(record.levelno, 6)
        text = super().format(record)
        return "\n".join(f"<{priority}>{line}" for line in text.splitlines() or [""])


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when a record is emitted.

    A handler that kept the ``sys.stderr`` of the moment it was set up would keep writing to a
    stream someone has since replaced and closed (pytest's capture after a test that ran
    ``maigic`` in-process: "ValueError: I/O operation on closed file" on every later line).
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass  # always the current sys.stderr


DEFAULT_LEVEL = "INFO"


def setup_logging(level: str | None = None, *, stream: TextIO | None = None) -> None:
    """Configure the root logger for the process (idempotent).

    ``level`` is the ``--log-level`` flag: given, it wins over the config's ``logging.level``
    for the life of the process; None means INFO until :func:`apply_config_level` applies
    the config's level (at every hub start, so also after a SIGHUP reload).
    """
    handler: logging.Handler = (
        StderrHandler() if stream is None else logging.StreamHandler(stream)
    )
    handler._maigic_level_from_flag = level is not None  # type: ignore[attr-defined]
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(
            ScrubbingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_maigic", False):
            root.removeHandler(old)
    handler._maigic = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel((level or DEFAULT_LEVEL).upper())
    # Crash tracebacks would otherwise go straight to stderr, past the scrubber.
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_thread_crash


def apply_config_level(level: str) -> None:
    """Set the log level from the config's ``logging.level``.

    Only where :func:`setup_logging` configured this process (``maigic`` itself, not a program
    using the hub as a library, nor a test) and no ``--log-level`` flag said otherwise.
    """
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_maigic", False)]
    if not ours or getattr(ours[0], "_maigic_level_from_flag", True):
        return
    wanted = logging.getLevelName(level.upper())
    if root.level != wanted:
        root.setLevel(wanted)
        logging.getLogger(__name__).info("log level %s (logging.level)", level.upper())


def _log_uncaught(exc_type: type[BaseException], exc: BaseException,
                  tb: TracebackType | None) -> None:
    logging.getLogger("maigic.crash").critical("uncaught exception", exc_info=(exc_type, exc, tb))


def _log_thread_crash(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    exc = args.exc_value if args.exc_value is not None else args.exc_type()
    logging.getLogger("maigic.crash").critical(
        "uncaught exception in thread %s", name, exc_info=(args.exc_type, exc, args.exc_traceback))
