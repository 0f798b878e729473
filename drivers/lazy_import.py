"""A module imported at its first use, not when the module naming it is imported.

numpy costs about 110 ms of CPU to import (250 ms on a loaded Pi), more than a third
of the start-up budget (READY within 0.3 s), yet nothing before READY computes with
it: the audio paths that do start after READY. The drivers that use it name it as

    if TYPE_CHECKING:
        import numpy as np
    else:
        np = lazy_module("numpy")

and the real import happens on the first ``np.<name>``, in whichever thread gets there
first; :func:`importlib.import_module` holds the module's import lock, so a second
thread waits for that import instead of seeing half a module (the standard library's
``importlib.util.LazyLoader`` is not thread-safe before Python 3.12.3).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for a module until an attribute is asked for; then imports it and keeps
    each attribute it hands out in its own ``__dict__`` (the next lookup of that name
    is a plain attribute lookup: no call, as fast as the module's own)."""

    def __init__(self, name: str) -> None:
        self.__dict__["_lazy_name"] = name

    def __getattr__(self, attr: str) -> Any:  # only called for names not yet kept
        value = getattr(self.module(), attr)
        self.__dict__[attr] = value
        return value

    def module(self) -> ModuleType:
        """The module itself (imported now if nothing has imported it yet)."""
        return importlib.import_module(self.__dict__["_lazy_name"])

    def __repr__(self) -> str:
        return f"<lazy module {self.__dict__['_lazy_name']!r}>"


def lazy_module(name: str) -> Any:
    """A stand-in for ``import name``, typed ``Any`` (callers annotate the real module
    for the type checker under ``TYPE_CHECKING``)."""
    return LazyModule(name)
