"""Pre-registered evaluation plans (issue 26, item 4): ``bench run --plan PLAN.yaml``.

A plan fixes, before any test evaluation, what is run (tasks, method, scorer and its parameters,
modalities, auxiliary data, seeds), the metric, the reference and the analysis (see
``benchmarks/plans/mmla_conditions.yaml``). Its sha256 (of the file's bytes) is recorded in the
test-look ledger with every look made under it. A later test evaluation of a *different*
configuration under the same plan name is refused (:class:`PlanViolation`, exit 2) unless the user
asks for a new look (``--new-look``), which is then counted and shown.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import DataError


class PlanViolation(DataError):
    """A test evaluation the plan did not pre-register (exit 2)."""


class Plan(BaseModel):
    """A pre-registered plan. Unknown keys (claim, notes, ...) are kept as documentation."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str = Field(min_length=1)
    tasks: list[str] = Field(min_length=1)
    method: str
    scorer: str
    scorer_params: dict[str, Any] = Field(default_factory=dict)
    modalities: dict[str, list[str]] = Field(default_factory=dict)
    auxiliary: dict[str, list[str]] = Field(default_factory=dict)
    seeds: list[int] = Field(min_length=1)
    metric: str = "acc"
    reference: dict[str, Any] | None = None
    analysis: str

    @field_validator("seeds")
    @classmethod
    def _distinct(cls, seeds: list[int]) -> list[int]:
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds repeat: {seeds}")
        return seeds


def load_plan(path: str | os.PathLike) -> tuple[Plan, str]:
    """``(plan, sha256 of the file)``; a malformed or incomplete plan is one DataError naming the field."""
    import yaml
    from pydantic import ValidationError

    path = Path(path)
    data = path.read_bytes()
    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except yaml.YAMLError as err:
        raise DataError(f"malformed YAML: {err}", file=str(path)) from None
    if not isinstance(raw, dict):
        raise DataError("a plan is a YAML mapping (name, tasks, method, scorer, ...)", file=str(path))
    try:
        plan = Plan.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        raise DataError(first["msg"], file=str(path), field=".".join(str(x) for x in first["loc"])) from None
    return plan, hashlib.sha256(data).hexdigest()


def check_plan_look(plan_name: str, plan_sha256: str, dataset_fp: str, split: str, config_fp: str, *,
                    new_look: bool, task: str, path: str | os.PathLike | None = None) -> bool:
    """Refuse a test evaluation of ``config_fp`` under ``plan_name`` when the ledger holds a look under the
    same plan on the same split by another configuration (unless ``new_look``). Returns True when this is
    a new look the plan did not pre-register (counted and shown), False when it is the planned one."""
    from .ledger import looks

    earlier = looks(dataset_fp, split, plan_name=plan_name, path=path)
    others = sorted({look.config_fp for look in earlier} - {config_fp})
    if others and not new_look:
        raise PlanViolation(f"plan {plan_name!r} already evaluated {split} of task {task!r} with configuration "
                            f"{others[0]}; this run's configuration {config_fp} would be a new test look "
                            "(pass --new-look to run it anyway; it is counted and shown)", field="plan")
    del plan_sha256  # recorded by the caller with the look; the configuration decides what is new
    return bool(others)
