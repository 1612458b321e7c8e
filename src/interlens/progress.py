"""The one progress system of interlens (issue 29 item 5, issue 31 goal 2).

``with progress(total, "minilm-ft training", "step") as bar: ... bar.advance()`` shows a rich bar with
elapsed time and ETA when its console (default: stderr) is a terminal. When output is *not* a terminal
(a file, a pipe, CI, a batch job's log) it writes plain lines through the ``interlens.progress`` logger
instead -- description, done/total, rate, elapsed, ETA -- at least every :func:`log_interval` seconds
(default 20: never 30 s without one; ``$INTERLENS_PROGRESS_INTERVAL``; tests use 0) and once at the end,
so a long run is never silent for minutes. ``--quiet`` (:func:`set_quiet`) hides both. A bar opened inside
another becomes a second row of the same display; ``name`` lets code deep in a loop advance its caller's bar
(:func:`current_progress`) without being handed it.

:func:`report_metrics` hands in-run metrics (an epoch's loss and dev scores, a finished unit's) to an experiment
tracker's run when one is armed (:mod:`interlens.tracking`), and does nothing otherwise (issue 28).

This module sits in the lowest helper layer: it imports nothing from interlens, and ``rich.progress``
only when a bar is drawn (``interlens --help`` stays fast).
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

#: the logger plain progress lines go to (a child of ``interlens``: the CLI's stderr handler shows them)
logger = logging.getLogger("interlens.progress")
T = TypeVar("T")
#: seconds between two plain lines when output is not a terminal
DEFAULT_INTERVAL_S = 20.0
INTERVAL_ENV = "INTERLENS_PROGRESS_INTERVAL"
_state: dict[str, Any] = {"quiet": False, "interval": None}
#: when (``time.monotonic``) any bar last wrote a plain line: a heartbeat stays quiet while others speak
_last_line = [0.0]


def set_quiet(quiet: bool) -> None:
    """Switch every bar and progress line off (``--quiet``) or back on."""
    _state["quiet"] = bool(quiet)


def progress_enabled() -> bool:
    """False after ``--quiet``: progress bars, progress lines and status spinners stay hidden."""
    return not _state["quiet"]


def set_log_interval(seconds: float | None) -> None:
    """Seconds between plain progress lines when output is not a terminal (None: back to the default)."""
    if seconds is not None and not seconds >= 0:
        raise ValueError(f"progress interval must be >= 0 seconds, got {seconds!r}")
    _state["interval"] = seconds


def log_interval() -> float:
    """:func:`set_log_interval`'s value, else ``$INTERLENS_PROGRESS_INTERVAL``, else 20 s."""
    if _state["interval"] is not None:
        return float(_state["interval"])
    raw = os.environ.get(INTERVAL_ENV, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_INTERVAL_S
    except ValueError:
        value = DEFAULT_INTERVAL_S
    return value if value >= 0 else DEFAULT_INTERVAL_S


def format_seconds(seconds: float) -> str:
    """``7s``, ``2m05s``, ``1h02m03s`` (``?`` when unknown)."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def progress_line(description: str, done: float, total: float | None, unit: str, elapsed: float,
                  *, finished: bool = False) -> str:
    """One plain progress line: ``desc: 40/120 step (33%), 2.0 step/s, elapsed 20s, ETA 40s``."""
    rate = done / elapsed if elapsed > 0 else math.inf if done else 0.0
    if rate == math.inf or rate >= 1:
        speed = f"{rate:.1f} {unit}/s" if math.isfinite(rate) else f"? {unit}/s"
    else:
        speed = f"{1 / rate:.1f} s/{unit}" if rate > 0 else f"? {unit}/s"
    if total:
        count = f"{_number(done)}/{_number(total)} {unit} ({100 * done / total:.0f}%)"
        left = max(0.0, total - done)
        eta = 0.0 if left == 0 else left / rate if 0 < rate < math.inf else math.nan
    else:
        count, eta = f"{_number(done)} {unit}", (0.0 if finished else math.nan)
    end = " (done)" if finished else ""
    return f"{description}: {count}, {speed}, elapsed {format_seconds(elapsed)}, ETA {format_seconds(eta)}{end}"


class ProgressBar:
    """Handle of one bar from :func:`progress`: ``advance(n)``, ``update(description, total=)``; counts
    ``completed`` even when nothing is drawn. ``shown``: a rich bar is drawn; ``logging``: plain lines are
    written (output is not a terminal)."""

    def __init__(self, progress: Any, task: Any, total: float | None, description: str, name: str | None,
                 *, unit: str = "it", plain: bool = False, interval: float = DEFAULT_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._progress, self._task = progress, task
        self.total, self.description, self.name, self.completed = total, description, name, 0.0
        self.unit, self.logging, self._interval, self._clock = unit, plain, interval, clock
        self._started = self._last = clock()
        self._lines = 0
        self._lock = threading.Lock()

    @property
    def shown(self) -> bool:
        return self._progress is not None

    def advance(self, n: float = 1) -> None:
        self.completed += n
        if self._progress is not None:
            self._progress.advance(self._task, n)
        self._maybe_log()

    def update(self, description: str | None = None, *, total: float | None = None) -> None:
        if description is not None:
            self.description = description
        if total is not None:
            self.total = total
        if self._progress is not None:
            self._progress.update(self._task, description=self.description, total=self.total)

    def _maybe_log(self, *, force: bool = False, finished: bool = False) -> None:
        if not self.logging:
            return
        with self._lock:
            now = self._clock()
            if not force and (now - self._last < self._interval or (self.total and self.completed >= self.total)):
                return  # not yet; or all done, and the end line follows
            self._last = now
            self._lines += 1
            _last_line[0] = time.monotonic()
            logger.info("%s", progress_line(self.description, self.completed, self.total, self.unit,
                                            now - self._started, finished=finished))

    def _heartbeat(self, stop: threading.Event) -> None:
        """Writes a line every interval even while one step runs for minutes (real clock only): it wakes when
        an interval has passed since the last line of any bar (or this bar's start), so two lines are never
        more than an interval (plus the time to write one) apart while the bar is open."""
        while True:
            due = max(_last_line[0], self._last) + self._interval
            if stop.wait(max(due - time.monotonic(), 0.01)):
                return
            if time.monotonic() - _last_line[0] >= self._interval:  # nothing from any bar for an interval
                self._maybe_log()


_ACTIVE: ContextVar[tuple[ProgressBar, ...]] = ContextVar("interlens_progress", default=())


def _rich_progress(console: Any) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[unit]}"), TimeElapsedColumn(), TextColumn("ETA"),
                    TimeRemainingColumn(), console=console, transient=True,
                    redirect_stdout=sys.stdout.isatty())  # piped stdout stays on stdout


@contextmanager
def progress(total: float | None, desc: str, unit: str = "it", *, name: str | None = None,
             enabled: bool = True, console: Any = None, interval: float | None = None,
             clock: Callable[[], float] | None = None) -> Iterator[ProgressBar]:
    """A progress bar over ``total`` ``unit``s called ``desc``; see the module docstring.

    ``enabled=False`` (e.g. not the main process) and ``--quiet`` give a counting no-op. ``console``: a
    rich Console to draw on (default: stderr). ``interval`` (seconds between plain lines; default
    :func:`log_interval`) and ``clock`` (a time function; default ``time.monotonic``) are for tests."""
    stack = _ACTIVE.get()
    live = next((b._progress for b in reversed(stack) if b._progress is not None), None)
    drawn: Any = None
    own = plain = False
    if enabled and progress_enabled():
        if live is not None and console is None:
            drawn = live
        else:
            terminal = console.is_terminal if console is not None else sys.stderr.isatty()
            if terminal:
                from rich.console import Console

                drawn = _rich_progress(console or Console(stderr=True))
                own = True
            else:
                plain = True
    every = log_interval() if interval is None else float(interval)
    bar = ProgressBar(drawn, None, total, desc, name, unit=unit, plain=plain, interval=every,
                      clock=clock or time.monotonic)
    stop, beat = threading.Event(), None
    if plain and clock is None and every > 0:
        beat = threading.Thread(target=bar._heartbeat, args=(stop,), name="interlens-progress", daemon=True)
    token = _ACTIVE.set((*stack, bar))
    completed = False
    try:
        if own:
            drawn.start()
        if drawn is not None:
            bar._task = drawn.add_task(desc, total=total, unit=unit)
        if beat is not None:
            beat.start()
        yield bar
        completed = True
    finally:
        _ACTIVE.reset(token)
        stop.set()
        if beat is not None:
            beat.join()
        # the last line, only for work that finished (a failure is reported by its own one-line error; a short
        # inner bar stays quiet)
        if completed and plain and (not stack or bar._lines or bar._clock() - bar._started >= every):
            bar._maybe_log(force=True, finished=True)
        if own:
            drawn.stop()  # a last render, then the bar is cleared (transient)
        elif drawn is not None and bar._task is not None:
            drawn.remove_task(bar._task)  # a row of an enclosing bar's display


def track(items: Iterable[T], desc: str, unit: str = "it", *, total: float | None = None,
          **kwargs: Any) -> Iterator[T]:
    """``for x in track(items, "mint study", "seed"): ...``: :func:`progress` around a loop, advanced after
    each item's body (``total`` defaults to ``len(items)``)."""
    if total is None and isinstance(items, Sized):
        total = len(items)
    with progress(total, desc, unit, **kwargs) as bar:
        for item in items:
            yield item
            bar.advance()


def current_progress(name: str) -> ProgressBar:
    """The innermost open bar called ``name`` in this context, else a no-op bar (so library code deep in
    a loop advances its caller's bar without being handed it; other processes see none)."""
    return next((b for b in reversed(_ACTIVE.get()) if b.name == name), ProgressBar(None, None, None, name, None))


def progress_bar(total: float | None, description: str, *, name: str | None = None, enabled: bool = True,
                 console: Any = None, unit: str = "it") -> Any:
    """:func:`progress` under its older name (``interlens.logs.progress_bar``)."""
    return progress(total, description, unit, name=name, enabled=enabled, console=console)


def quiet_third_party() -> None:
    """When stderr is not a terminal, hide transformers' own bars ("Loading weights", "Writing model
    shards") so they do not fill logs; on a terminal they stay."""
    if sys.stderr.isatty() and progress_enabled():
        return
    if "transformers" not in sys.modules:  # read when transformers is first imported (never imported here)
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        return
    try:  # transformers 5: transformers.utils.logging.disable_progress_bar (also switches huggingface_hub's)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except (ImportError, AttributeError):  # a transformers without the switch: leave its bars
        pass


# -- in-run metrics (issue 28 item 5: experiment trackers log while the run goes) ----------------------------
#: the process's metrics sink, ``sink(metrics, step)``; set while a tracker run is armed (interlens.tracking)
_sink: list[Callable[[dict[str, float], int | None], None] | None] = [None]
_SCOPE: ContextVar[tuple[str, ...]] = ContextVar("interlens_metrics_scope", default=())


def set_metrics_sink(sink: Callable[[dict[str, float], int | None], None] | None) -> None:
    """Where :func:`report_metrics` sends metrics in this process (None: nowhere); set by
    :func:`interlens.tracking.start_run` and cleared when the run is closed."""
    _sink[0] = sink


@contextmanager
def metrics_scope(name: str) -> Iterator[None]:
    """Metrics reported inside are named ``<name>/<key>`` (nested scopes join with ``/``), e.g. one
    bench unit's epochs apart from the next unit's."""
    token = _SCOPE.set((*_SCOPE.get(), str(name)))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def report_metrics(metrics: Mapping[str, Any], *, step: int | None = None, prefix: str = "") -> None:
    """Hand in-run metrics (an epoch's loss and dev scores, a finished unit's) to the open tracker run;
    a no-op when none is open, so training loops call it unconditionally (they import no tracker).
    Keys become ``<scope>/<prefix>/<key>``; values that are not finite numbers are dropped."""
    sink = _sink[0]
    if sink is None:
        return
    head = "/".join([*_SCOPE.get(), *([prefix] if prefix else [])])
    flat = {f"{head}/{key}" if head else str(key): float(value) for key, value in metrics.items()
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)}
    if flat:
        sink(flat, None if step is None else int(step))


__all__ = ["DEFAULT_INTERVAL_S", "INTERVAL_ENV", "ProgressBar", "current_progress", "format_seconds",
           "log_interval", "metrics_scope", "progress", "progress_bar", "progress_enabled", "progress_line",
           "quiet_third_party", "report_metrics", "set_log_interval", "set_metrics_sink", "set_quiet", "track"]
