"""MMLA-style benchmark: task registry (YAML, or any dataset file), runner (zero-shot / SFT / IT,
multi-seed, resumable, any registered scorer; ``minilm-ft`` is the CPU default), results schema and
reports (see docs/benchmark.md). Submodules are imported on first use, so the CLI stays light."""

from __future__ import annotations

import importlib
from typing import Any

from .methods import METHODS, Method

_LAZY = {"DIMENSIONS": "registry", "TaskSpec": "registry", "get_task": "registry", "parse_tasks": "registry",
         "task_from_file": "registry", "task_names": "registry", "tasks_by_dimension": "registry",
         "RunResults": "results", "task_report": "results", "Runner": "runner", "run_benchmark": "runner"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DIMENSIONS", "METHODS", "Method", "RunResults", "Runner", "TaskSpec", "get_task", "parse_tasks",
           "run_benchmark", "task_from_file", "task_names", "task_report", "tasks_by_dimension"]
