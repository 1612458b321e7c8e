"""Logging and progress switches shared by the library and the CLI's ``--quiet`` / ``-v``.

Library code logs through ``logging.getLogger(__name__)`` (children of the ``interlens`` logger) and
never prints. :func:`configure` (called by the CLI's root options) sets the ``interlens`` logger's
level and one stderr handler: default INFO, ``-v`` DEBUG, ``--quiet`` WARNING and no progress bars
(:func:`progress_enabled`, consulted by every progress bar). The progress bars themselves live in
:mod:`interlens.progress` (re-exported here under their older names).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from .progress import (  # noqa: F401 -- the older home of the progress API
    ProgressBar,
    current_progress,
    progress,
    progress_bar,
    progress_enabled,
    quiet_third_party,
    set_quiet,
)

LOGGER_NAME = "interlens"
#: the width tables render at when output is not a terminal (a file, a pipe, CI): wide enough never to wrap
WIDE_COLUMNS = 1000


def make_console(*, stderr: bool = False, **kwargs: Any) -> Any:
    """A rich ``Console`` for the CLI (issue 28): on a terminal it has the terminal's width; when output is
    not a terminal (a file, a pipe, CI and batch logs) tables render at their full natural width instead of
    being wrapped to 80 columns (``$COLUMNS`` still wins when set)."""
    from rich.console import Console, ConsoleDimensions

    class _WideWhenPiped(Console):
        @property
        def size(self) -> ConsoleDimensions:
            size = Console.size.fget(self)  # type: ignore[attr-defined]
            if self._width is None and not self.is_terminal and not self._environ.get("COLUMNS", "").isdigit():
                return ConsoleDimensions(WIDE_COLUMNS, size.height)
            return size

        @size.setter
        def size(self, new_size: tuple[int, int]) -> None:
            Console.size.fset(self, new_size)  # type: ignore[attr-defined]

    return _WideWhenPiped(stderr=stderr, **kwargs)


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
    set_quiet(quiet)
    quiet_third_party()
    return logger


