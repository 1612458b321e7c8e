"""The executor contract and the in-process executor.

An :class:`Executor` runs independent pieces of work and yields ``(index, result)`` pairs as they
finish; the caller (the driver) records each result at once (unit files, cache rows), so a killed
run resumes from what was recorded. Two shapes of work:

* :meth:`Executor.map_unordered`: stateless tasks (a benchmark task x seed unit, an experts seed),
  each declaring the CPUs / GPUs it needs;
* :meth:`Executor.map_stateful`: items sent to a pool of workers that each hold one copy of a large
  object (a fitted scorer), loaded once per worker -- sharded scoring.

:class:`LocalExecutor` runs everything here, in order; results are what the code computed before
executors existed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from ..errors import ExecutionError, unknown_name  # noqa: F401 - ExecutionError re-exported (its home until issue 29)


class ExecutorKind(StrEnum):
    """``--executor`` choices."""

    LOCAL = "local"  # this process, sequentially (default; needs no Ray)
    RAY = "ray"      # Ray tasks / actors on a local runtime or a cluster


@runtime_checkable
class Executor(Protocol):
    """Runs independent work; see the module docstring."""

    name: str

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any], *, num_cpus: float = 1.0,
                      num_gpus: float = 0.0) -> Iterator[tuple[int, Any]]:
        """``(index, fn(item))`` for every item, in completion order."""
        ...

    def map_stateful(self, fn: Callable[..., Any], items: Iterable[tuple[Any, ...]], *, num_cpus: float = 1.0,
                     num_gpus: float = 0.0) -> Iterator[tuple[int, Any]]:
        """``(index, fn(*item))`` for every item; ``fn`` (with what it closes over, e.g. a fitted scorer)
        is loaded once per worker of a pool."""
        ...

    def close(self) -> None:
        ...


class LocalExecutor:
    """Everything in this process, in order (the default)."""

    name = "local"

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any], *, num_cpus: float = 1.0,
                      num_gpus: float = 0.0) -> Iterator[tuple[int, Any]]:
        for index, item in enumerate(items):
            yield index, fn(item)

    def map_stateful(self, fn: Callable[..., Any], items: Iterable[tuple[Any, ...]], *, num_cpus: float = 1.0,
                     num_gpus: float = 0.0) -> Iterator[tuple[int, Any]]:
        for index, item in enumerate(items):
            yield index, fn(*item)

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return "LocalExecutor()"


_CURRENT: ContextVar[Executor | None] = ContextVar("interlens_executor", default=None)
_LOCAL = LocalExecutor()


def current_executor() -> Executor:
    """The executor set by :func:`use_executor` (default: a :class:`LocalExecutor`)."""
    return _CURRENT.get() or _LOCAL


@contextlib.contextmanager
def use_executor(executor: Executor) -> Iterator[Executor]:
    """Make ``executor`` the :func:`current_executor` inside the block."""
    token = _CURRENT.set(executor)
    try:
        yield executor
    finally:
        _CURRENT.reset(token)


def make_executor(kind: ExecutorKind | str = ExecutorKind.LOCAL, *, address: str | None = None,
                  num_cpus: int | None = None) -> Executor:
    """An executor by name (``local`` | ``ray``); unknown names are refused with "did you mean"."""
    try:
        kind = ExecutorKind(kind)
    except ValueError:
        raise unknown_name("executor", str(kind), [k.value for k in ExecutorKind]) from None
    if kind is ExecutorKind.RAY:
        from .ray_executor import RayExecutor

        return RayExecutor(address=address, num_cpus=num_cpus)
    return LocalExecutor()


def resources_for(device: Any) -> tuple[float, float]:
    """(CPUs, GPUs) one worker declares for a model on ``device`` (a scorer's ``device`` parameter)."""
    return (1.0, 1.0) if str(device or "cpu").startswith("cuda") else (1.0, 0.0)


@contextlib.contextmanager
def executor_session(kind: ExecutorKind | str = ExecutorKind.LOCAL, *, address: str | None = None,
                     num_cpus: int | None = None) -> Iterator[Executor]:
    """:func:`make_executor`, connected at once (an unreachable cluster fails before any work), set as
    current for the block and closed after it (a Ray runtime this started is shut down)."""
    executor = make_executor(kind, address=address, num_cpus=num_cpus)
    start = getattr(executor, "start", None)
    if start is not None:
        start()
    try:
        with use_executor(executor):
            yield executor
    finally:
        executor.close()
