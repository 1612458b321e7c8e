"""MMLA-style benchmark: task registry (YAML), runner (zero-shot / SFT / IT, multi-seed, resumable),
results schema, the fine-tuned MiniLM CPU default and reports (see docs/benchmark.md)."""

from .registry import DIMENSIONS, TaskSpec, get_task, parse_tasks, task_names, tasks_by_dimension
from .results import RunResults, task_report
from .runner import METHODS, Runner, run_benchmark

__all__ = ["DIMENSIONS", "METHODS", "RunResults", "Runner", "TaskSpec", "get_task", "parse_tasks", "run_benchmark",
           "task_names", "task_report", "tasks_by_dimension"]
