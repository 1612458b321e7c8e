"""Logging and progress switches shared by the library and the CLI's ``--quiet`` / ``-v``.

Library code logs through ``logging.getLogger(__name__)`` (children of the ``interlens`` logger) and
never prints. :func:`configure` (called by the CLI's root options) sets the ``interlens`` logger's
level and one stderr handler: default INFO, ``-v`` DEBUG, ``--quiet`` WARNING and no progress bars
(:func:`progress_enabled`, consulted by every progress bar).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

LOGGER_NAME = "interlens"
_state = {"quiet": False}
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
    _state["quiet"] = bool(quiet)
    return logger


def progress_enabled() -> bool:
    """False after ``--quiet``: progress bars and status spinners stay hidden."""
    return not _state["quiet"]


class ProgressBar:
    """Handle of one bar from :func:`progress_bar`: ``advance(n)``, ``update(description)``; counts
    ``completed`` even when nothing is drawn."""

    def __init__(self, progress: Any, task: Any, total: float | None, description: str, name: str | None) -> None:
        self._progress, self._task = progress, task
        self.total, self.description, self.name, self.completed = total, description, name, 0.0

    @property
    def shown(self) -> bool:
        return self._progress is not None

    def advance(self, n: float = 1) -> None:
        self.completed += n
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def update(self, description: str | None = None, *, total: float | None = None) -> None:
        if description is not None:
            self.description = description
        if total is not None:
            self.total = total
        if self._progress is not None:
            self._progress.update(self._task, description=self.description, total=self.total)


_ACTIVE: ContextVar[tuple[ProgressBar, ...]] = ContextVar("interlens_progress", default=())


@contextmanager
def progress_bar(total: float | None, description: str, *, name: str | None = None, enabled: bool = True,
                 console: Any = None) -> Iterator[ProgressBar]:
    """A progress bar with ETA on stderr, shown only when ``enabled``, :func:`progress_enabled` and the
    console (default: stderr) is a terminal; otherwise a counting no-op. A bar opened inside another
    becomes a second row of the same display. ``name`` lets inner code find it (:func:`current_progress`)."""
    stack = _ACTIVE.get()
    live = next((b._progress for b in reversed(stack) if b._progress is not None), None)
    progress: Any = None
    own = False
    if enabled and progress_enabled():
        if live is not None and console is None:
            progress = live
        elif console is not None or sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            console = console or Console(stderr=True)
            if console.is_terminal:
                progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                    console=console, transient=True,
                                    redirect_stdout=sys.stdout.isatty())  # piped stdout stays on stdout
                own = True
    bar = ProgressBar(progress, None, total, description, name)
    token = _ACTIVE.set((*stack, bar))
    try:
        if own:
            progress.start()
        if progress is not None:
            bar._task = progress.add_task(description, total=total)
        yield bar
    finally:
        _ACTIVE.reset(token)
        if own:
            progress.stop()  # a last render, then the bar is cleared (transient)
        elif progress is not None and bar._task is not None:
            progress.remove_task(bar._task)  # a row of an enclosing bar's display


def current_progress(name: str) -> ProgressBar:
    """The innermost open bar called ``name`` in this context, else a no-op bar (so library code deep in
    a loop advances its caller's bar without being handed it; other processes see none)."""
    return next((b for b in reversed(_ACTIVE.get()) if b.name == name), ProgressBar(None, None, None, name, None))
