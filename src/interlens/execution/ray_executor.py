"""Ray executor: benchmark units / experts seeds as Ray tasks with declared CPU/GPU resources, and
sharded scoring over a pool of Ray actors, each holding one copy of the fitted scorer.

The driver consumes results as they finish and records them itself (unit files, SQLite cache rows),
so the cache stays one file and a killed run resumes from what was recorded. Each worker sets
``torch.set_num_threads`` to the CPUs it owns, so N workers on N cores do not oversubscribe.

Address: ``address=`` (``--ray-address``), else ``$RAY_ADDRESS``, else a new local runtime sized to
the machine (``num_cpus``, default all cores). If a runtime is already initialised in this process
(e.g. by tests or a notebook) it is used as is. An unreachable address fails in one line after
``connect_timeout`` seconds, never hangs.
"""

from __future__ import annotations

import os
import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..errors import ExecutionError

#: Ray errors that mean a worker process (or its node) went away
_DEATHS = ("WorkerCrashedError", "RayActorError", "ActorDiedError", "NodeDiedError", "ObjectLostError",
           "OwnerDiedError", "LocalRayletDiedError", "ActorUnavailableError")


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ExecutionError("--executor ray needs Ray: pip install 'interlens[dist]'") from None
    return ray


def set_worker_threads(num_cpus: float) -> int:
    """One torch thread per CPU this worker owns (at least one); returns the count."""
    import torch

    threads = max(1, int(num_cpus))
    torch.set_num_threads(threads)
    return threads


def _run_task(fn: Callable[[Any], Any], item: Any, num_cpus: float) -> Any:
    set_worker_threads(num_cpus)
    return fn(item)


class _Holder:
    """A Ray actor holding ``fn`` (and what it closes over: a fitted scorer), loaded once."""

    def __init__(self, fn: Callable[..., Any], num_cpus: float) -> None:
        self.threads = set_worker_threads(num_cpus)
        self.fn = fn

    def call(self, *args: Any) -> Any:
        return self.fn(*args)


def _host_port(address: str) -> tuple[str, int]:
    rest = address.split("://", 1)[-1].rstrip("/")
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise ExecutionError(f"Ray address {address!r} is not HOST:PORT (or ray://HOST:PORT, auto, local)")
    return host, int(port)


class RayExecutor:
    """See the module docstring. ``num_cpus`` sizes a runtime this starts (default: all cores);
    ``max_retries``: how often Ray re-runs a task whose worker died before the run stops."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None, *, connect_timeout: float = 10.0,
                 max_retries: int = 1) -> None:
        self.address, self.num_cpus = address, num_cpus
        self.connect_timeout, self.max_retries = connect_timeout, max_retries
        self._started = self._owned = False

    # -- lifecycle ---------------------------------------------------------------------------------
    def resolved_address(self) -> str | None:
        """``address``, else ``$RAY_ADDRESS``, else None (start a local runtime)."""
        address = self.address or os.environ.get("RAY_ADDRESS") or None
        return None if address == "local" else address

    def start(self) -> RayExecutor:
        """Connect (or start a local runtime); idempotent."""
        if self._started:
            return self
        ray = _ray()
        if not ray.is_initialized():
            address = self.resolved_address()
            if address is None:
                ray.init(address="local", num_cpus=self.num_cpus or os.cpu_count() or 1, include_dashboard=False,
                         log_to_driver=False)
            else:
                self._connect(ray, address)
            self._owned = True
        self._started = True
        return self

    def _connect(self, ray: Any, address: str) -> None:
        if address != "auto":
            host, port = _host_port(address)
            try:
                socket.create_connection((host, port), timeout=self.connect_timeout).close()
            except OSError as err:
                reason = "timed out" if isinstance(err, TimeoutError) else (err.strerror or str(err))
                raise ExecutionError(f"cannot reach the Ray cluster at {address} ({reason}); start one with "
                                     "`ray start --head` or drop --ray-address / RAY_ADDRESS") from None
        try:
            ray.init(address=address, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ExecutionError(f"cannot connect to the Ray cluster at {address}: {first}") from None

    def close(self) -> None:
        """Shut down a runtime this executor started (one it found running is left alone)."""
        if self._owned:
            _ray().shutdown()
        self._started = self._owned = False

    def __enter__(self) -> RayExecutor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RayExecutor(address={self.address!r}, num_cpus={self.num_cpus!r})"

    # -- results -----------------------------------------------------------------------------------
    def _get(self, ref: Any) -> Any:
        ray = _ray()
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as err:
            cause = getattr(err, "cause", None)
            if isinstance(cause, BaseException):  # the task's own error (DataError stays one line)
                raise cause from None
            raise ExecutionError(f"a Ray task failed: {str(err).strip().splitlines()[0]}") from None
        except ray.exceptions.RayError as err:
            if type(err).__name__ in _DEATHS:
                raise ExecutionError(f"a Ray worker died ({type(err).__name__}); finished work is saved: rerun the "
                                     "same command to resume") from None
            raise ExecutionError(f"Ray failed: {type(err).__name__}: "
                                 f"{(str(err).strip().splitlines() or [''])[0]}") from None

    def cpus(self) -> float:
        """CPUs of the cluster (after :meth:`start`)."""
        return float(_ray().cluster_resources().get("CPU", 1.0))

    # -- work --------------------------------------------------------------------------------------
    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any], *, num_cpus: float = 1.0,
                      num_gpus: float = 0.0) -> Iterator[tuple[int, Any]]:
        """Each item as one Ray task (``num_cpus`` / ``num_gpus`` declared); ``(index, result)`` as they finish."""
        items = list(items)
        if not items:
            return
        ray = _ray()
        self.start()
        fn_ref = ray.put(fn)
        remote = ray.remote(_run_task).options(num_cpus=num_cpus, num_gpus=num_gpus, max_retries=self.max_retries)
        refs = {remote.remote(fn_ref, item, num_cpus): i for i, item in enumerate(items)}
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    yield refs[ref], self._get(ref)
        finally:
            for ref in pending:
                ray.cancel(ref)

    def pool_size(self, n_items: int, num_cpus: float = 1.0, num_gpus: float = 0.0) -> int:
        """Actors that fit the cluster at once (at most one per item)."""
        resources = _ray().cluster_resources()
        size = int(resources.get("CPU", 1.0) // max(num_cpus, 1e-9)) if num_cpus else n_items
        if num_gpus:
            size = min(size, int(resources.get("GPU", 0.0) // num_gpus))
        return max(1, min(n_items, size))

    def map_stateful(self, fn: Callable[..., Any], items: Iterable[tuple[Any, ...]], *, num_cpus: float = 1.0,
                     num_gpus: float = 0.0) -> Iterator[tuple[int, Any]]:
        """Items over a pool of actors, each holding one copy of ``fn`` (two calls in flight per actor)."""
        items = list(items)
        if not items:
            return
        ray = _ray()
        self.start()
        fn_ref = ray.put(fn)
        holder = ray.remote(_Holder).options(num_cpus=num_cpus, num_gpus=num_gpus, max_restarts=0)
        actors = [holder.remote(fn_ref, num_cpus) for _ in range(self.pool_size(len(items), num_cpus, num_gpus))]
        queue = deque(enumerate(items))
        inflight: dict[Any, tuple[int, Any]] = {}

        def submit(actor: Any) -> None:
            if queue:
                index, args = queue.popleft()
                inflight[actor.call.remote(*args)] = (index, actor)

        for actor in actors:
            submit(actor)
            submit(actor)
        try:
            while inflight:
                done, _ = ray.wait(list(inflight), num_returns=1)
                index, actor = inflight.pop(done[0])
                result = self._get(done[0])
                submit(actor)
                yield index, result
        finally:
            for actor in actors:
                ray.kill(actor)
