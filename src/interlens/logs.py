"""Logging and progress switches shared by the library and the CLI's ``--quiet`` / ``-v``.

Library code logs through ``logging.getLogger(__name__)`` (children of the ``interlens`` logger) and
never prints. :func:`configure` (called by the CLI's root options) sets the ``interlens`` logger's
level and one stderr handler: default INFO, ``-v`` DEBUG, ``--quiet`` WARNING and no progress bars
(:func:`progress_enabled`, consulted by every progress bar).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

LOGGER_NAME = "interlens"
_state = {"quiet": False}


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the *current* ``sys.stderr`` (test runners swap it per invocation)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure(verbose: int = 0, quiet: bool = False) -> logging.Logger:
    """Set the ``interlens`` logger's level (``quiet``: WARNING, default INFO, ``verbose`` >= 1: DEBUG),
    attach one stderr handler, and switch progress bars off when ``quiet``."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose > 0 else logging.INFO)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler())
    _state["quiet"] = bool(quiet)
    return logger


def progress_enabled() -> bool:
    """False after ``--quiet``: progress bars and status spinners stay hidden."""
    return not _state["quiet"]
