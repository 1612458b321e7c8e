"""Evidence hooks of ``bench run`` (issue 26, items 3 and 4): test looks (ledger and plan) before the
first test evaluation, and the stored predictions and look counts that go into ``results.json``."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import DataError
from .ledger import count_looks, ledger_path, record_look
from .plan import Plan, check_plan_look, load_plan
from .store import write_predictions

PlanArg = Plan | tuple[Plan, str] | str | os.PathLike | None


def resolve_plan(plan: PlanArg) -> tuple[Plan, str] | None:
    """``(plan, sha256)`` from a plan file, a loaded plan (hashed as canonical JSON) or such a pair."""
    if plan is None:
        return None
    if isinstance(plan, tuple):
        return plan
    if isinstance(plan, Plan):
        text = json.dumps(plan.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return plan, hashlib.sha256(text.encode()).hexdigest()
    return load_plan(plan)


def check_run_matches_plan(runner: Any, plan: Plan) -> None:
    """A run under a plan must be the plan's configuration: scorer, method, parameters, tasks, seeds."""
    def planned_name(entry: str) -> str:  # a plan names a task, or a task file by its path
        return next((t.name for t in runner.tasks if t.file and Path(entry).resolve() == Path(t.file).resolve()),
                    entry)

    ours = {"scorer": runner.scorer, "method": runner.method.value, "scorer_params": runner.scorer_params,
            "tasks": sorted(t.name for t in runner.tasks), "seeds": sorted(runner.seeds)}
    planned = {"scorer": plan.scorer, "method": plan.method, "scorer_params": plan.scorer_params,
               "tasks": sorted(planned_name(e) for e in plan.tasks), "seeds": sorted(plan.seeds)}
    for key, value in planned.items():
        if ours[key] != value:
            raise DataError(f"the run's {key} {ours[key]!r} is not the plan's {value!r} (plan {plan.name!r})",
                            field=key)


def look_config(runner: Any, task: Any) -> str:
    """The configuration fingerprint of a task's evaluation: the unit config without the seed (all seeds
    of one configuration are one look)."""
    return str(runner.config(task, None))


def record_test_looks(runner: Any, evaluated: Iterable[str], plan: PlanArg = None, *,
                      new_look: bool = False) -> dict[str, int]:
    """Check the plan (refusing an unplanned configuration unless ``new_look``) and append one ledger row
    per task about to be evaluated -- before any evaluation; returns the test-look count of every task."""
    resolved = resolve_plan(plan)
    evaluated = set(evaluated)
    path = ledger_path()
    todo = [t for t in runner.tasks if t.name in evaluated]
    keys = {t.name: (runner.data(t).fingerprint(), t.evaluation_split, look_config(runner, t)) for t in runner.tasks}
    unplanned: list[str] = []
    if resolved is not None:
        check_run_matches_plan(runner, resolved[0])
        for task in todo:
            data_fp, split, config_fp = keys[task.name]
            if check_plan_look(resolved[0].name, resolved[1], data_fp, split, config_fp, new_look=new_look,
                               task=task.name, path=path):
                unplanned.append(task.name)
    for task in todo:
        data_fp, split, config_fp = keys[task.name]
        record_look(data_fp, split, config_fp, metric=resolved[0].metric if resolved else "acc",
                    plan_name=resolved[0].name if resolved else None, plan_sha256=resolved[1] if resolved else None,
                    task=task.name, path=path)
    runner.unplanned_looks = unplanned
    runner.plan_record = ({"name": resolved[0].name, "sha256": resolved[1], "unplanned_looks": unplanned}
                          if resolved else None)
    return {name: count_looks(fp, split, path=path) for name, (fp, split, _) in keys.items()}


def _sample_rows(runner: Any) -> list[dict[str, Any]]:
    """Stored-prediction rows of every unit, from its per-sample file (resumed units included)."""
    rows = []
    for task in runner.tasks:
        labels = list(task.labels)
        for seed in runner.seeds:
            path = Path(runner.samples_path(task, seed))
            packed = path.with_name(path.name + ".gz")
            if path.is_file():
                text = path.read_text(encoding="utf-8")
            elif packed.is_file():
                text = gzip.decompress(packed.read_bytes()).decode("utf-8")
            else:
                raise DataError("the unit's per-sample file is missing; delete its unit file and re-run",
                                file=str(path))
            for i, line in enumerate(text.splitlines()):
                if not line.strip():
                    continue
                r = json.loads(line)
                if r.get("gold") not in labels:
                    raise DataError(f"gold label {r.get('gold')!r} is not one of the task's labels", file=str(path),
                                    record=i, field="gold")
                probs = r.get("probs")
                rows.append({"id": r["id"], "gold": labels.index(r["gold"]),
                             "pred": None if r.get("pred") is None else labels.index(r["pred"]),
                             "probs": None if probs is None else [probs[label] for label in labels],
                             "seed": seed, "model": runner.scorer, "split": task.evaluation_split,
                             "task": task.name})
    return rows


def bench_payload(runner: Any, results: Any, test_looks: dict[str, int] | None = None) -> dict[str, Any]:
    """``results.json`` of a bench run: the run's results, artefacts and settings, ``n_boot``, the test-look
    count per task, the plan (if any) and the stored predictions (written to the run folder now)."""
    block = write_predictions(runner.out, _sample_rows(runner))
    block["labels"] = {t.name: list(t.labels) for t in runner.tasks}
    payload = {**results.to_dict(), **runner.artifacts(), **runner.settings(), "n_boot": runner.n_boot,
               "test_looks": dict(test_looks if test_looks is not None else getattr(runner, "test_looks", {}) or {}),
               "stored_predictions": block}
    if getattr(runner, "plan_record", None):
        payload["plan"] = runner.plan_record
    return payload
