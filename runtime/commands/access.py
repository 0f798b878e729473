"""One clear line, instead of a report or a traceback, for a user who may not read the config.

/etc/maigic is root:maigic 0750 (it may hold the API key), so an ordinary user cannot even look
into it; `maigic status|doctor|config check` tell such a user what to run instead.
"""

from __future__ import annotations

from pathlib import Path


def permission_problem(path: Path, command: str) -> str | None:
    """The one-line error when ``path`` cannot be opened for lack of permission, else None."""
    try:
        with path.open("rb"):
            return None
    except PermissionError as exc:
        reason = exc.strerror or "Permission denied"
    except OSError:
        return None  # missing or broken: the command's own checks say what is wrong
    return (f"maigic {command}: {path}: {reason} (it is for root and the 'maigic' group); "
            f"run 'sudo maigic {command}'")
