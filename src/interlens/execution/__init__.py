"""Where independent work runs: in this process (:class:`LocalExecutor`, the default) or on a Ray
cluster (:class:`RayExecutor`). Call sites ask :func:`current_executor`; the CLI sets it for one
command with :func:`executor_session` (``--executor local|ray --ray-address ADDR``)."""

from .base import (
    ExecutionError,
    Executor,
    ExecutorKind,
    LocalExecutor,
    current_executor,
    executor_session,
    make_executor,
    use_executor,
)
from .ray_executor import RayExecutor

__all__ = ["ExecutionError", "Executor", "ExecutorKind", "LocalExecutor", "RayExecutor", "current_executor",
           "executor_session", "make_executor", "use_executor"]
