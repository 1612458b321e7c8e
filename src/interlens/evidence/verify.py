"""``interlens verify``: re-derive the numbers of results files (issue 26, item 3).

For each results file found under a path:

* with ``stored_predictions``: the stored rows are read (sha256 checked first) and every number the file
  states that can be recomputed from them is recomputed -- a bench run's per-seed metrics (MMLA's six,
  task F1, ECE, failure counts), bootstrap CIs (same ``n_boot`` and seeds), majority comparison and
  floors, and the per-task means / standard deviations; any other result's declared ``checks``;
* a bench run folder: each unit file is recomputed from its sample file, and both files' sidecar
  hashes (:mod:`interlens.integrity`) are checked;
* a sealed study (``content_sha256``, :mod:`interlens.evidence.seal`): its payload hash, and on a
  mismatch the changed value, named via ``MANIFEST.json``.

Numbers agree within 1e-9 (or the rounding the file used). Exit codes: 0 all agree, 1 a mismatch (each
named ``file: key.path: stored X, recomputed Y``), 2 a missing / tampered stored-predictions or sidecar
file or an unreadable results file.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from . import seal
from .store import METRIC_NAMES, StoredPredictionsError, read_predictions

TOLERANCE = 1e-9
SKIP_DIRS = {"units", "samples", "models", "checkpoints", "plans"}


@dataclass
class FileCheck:
    """What ``verify`` found for one results file."""

    path: Path
    how: str = "not checked"
    derived: int = 0
    not_derivable: dict[str, int] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def skip(self, reason: str, n: int = 1) -> None:
        self.not_derivable[reason] = self.not_derivable.get(reason, 0) + n

    @property
    def status(self) -> str:
        return "ERROR" if self.errors else "MISMATCH" if self.mismatches else "ok"


@dataclass
class VerifyReport:
    files: list[FileCheck]

    @property
    def exit_code(self) -> int:
        if any(f.errors for f in self.files):
            return 2
        return 1 if any(f.mismatches for f in self.files) else 0

    @property
    def derived(self) -> int:
        return sum(f.derived for f in self.files)

    @property
    def mismatches(self) -> list[str]:
        return [m for f in self.files for m in f.mismatches]

    @property
    def errors(self) -> list[str]:
        return [e for f in self.files for e in f.errors]


# -- finding files ------------------------------------------------------------------------------------------
def results_files(path: str | Path) -> list[Path]:
    """The results files under ``path``: a file itself; in a folder tree, every ``results.json`` and every
    other ``*.json`` in a folder without one (studies), leaving out run artefacts and ``MANIFEST.json``."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError("no such file or folder", file=str(path))
    found = []
    for file in sorted(path.rglob("*.json")):
        rel = file.relative_to(path).parts
        if any(part in SKIP_DIRS or part.startswith(".") for part in rel[:-1]) or file.name == seal.MANIFEST:
            continue
        if file.name == "results.json" or not (file.parent / "results.json").exists():
            found.append(file)
    return found


# -- comparing --------------------------------------------------------------------------------------------
def _decimals(value: float) -> int | None:
    text = repr(float(value))
    if "e" in text or "E" in text or "." not in text:
        return None
    return len(text.split(".")[1])


def same_number(stored: Any, recomputed: Any) -> bool:
    """Equal within 1e-9, or equal at the rounding ``stored`` was written with (<= 6 decimals)."""
    if stored is None or recomputed is None:
        none = lambda v: v is None or (isinstance(v, float) and math.isnan(v))  # noqa: E731
        return none(stored) and none(recomputed)
    if isinstance(stored, bool) or isinstance(recomputed, bool):
        return bool(stored) == bool(recomputed)
    s, r = float(stored), float(recomputed)
    if math.isnan(s) or math.isnan(r):
        return math.isnan(s) and math.isnan(r)
    if abs(s - r) <= TOLERANCE * max(1.0, abs(s)):
        return True
    d = _decimals(s)
    return d is not None and d <= 6 and abs(round(r, d) - s) <= 10 ** -(d + 3)


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, float) else repr(value)


def compare_tree(check: FileCheck, where: str, stored: Any, recomputed: Any, prefix: str = "") -> None:
    """Compare every leaf of ``stored`` that ``recomputed`` also has; count the others as not re-derivable."""
    if isinstance(stored, Mapping):
        for key, value in stored.items():
            sub = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(recomputed, Mapping) and key in recomputed:
                compare_tree(check, where, value, recomputed[key], sub)
            else:
                check.skip(f"{sub.split('.')[-1] if prefix else sub}: not computable from the predictions",
                           sum(1 for _ in _leaf_values(value)))
        return
    if isinstance(stored, list) and isinstance(recomputed, list | tuple) and len(stored) == len(recomputed):
        for i, (a, b) in enumerate(zip(stored, recomputed, strict=True)):
            compare_tree(check, where, a, b, f"{prefix}.{i}")
        return
    check.derived += 1
    if isinstance(stored, str) or isinstance(recomputed, str):
        ok = stored == recomputed
    elif isinstance(stored, list | dict) or isinstance(recomputed, list | tuple | dict):
        ok = False
    else:
        ok = same_number(stored, recomputed)
    if not ok:
        check.mismatches.append(f"{where}: {prefix}: stored {_show(stored)}, recomputed {_show(_plain(recomputed))}")


def _leaf_values(value: Any) -> Iterator[Any]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _leaf_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaf_values(item)
    else:
        yield value


def _plain(value: Any) -> Any:
    from ..io import to_jsonable

    return to_jsonable(value)


# -- recomputing ------------------------------------------------------------------------------------------
def _arrays(rows: Sequence[Mapping[str, Any]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """gold indices and an [n, k] probability array (NaN rows: no prediction; one-hot when only ``pred``)."""
    gold = np.array([r["gold"] for r in rows], dtype=np.int64)
    probs = np.full((len(rows), k), np.nan)
    for i, r in enumerate(rows):
        if r.get("probs") is not None:
            probs[i] = [np.nan if v is None else v for v in r["probs"]]
        elif r.get("pred") is not None:
            probs[i] = 0.0
            probs[i, int(r["pred"])] = 1.0
    return gold, probs


def unit_metrics(gold: np.ndarray, probs: np.ndarray, labels: Sequence[str], stored: Mapping[str, Any], *,
                 n_boot: int | None, seed: int) -> dict[str, Any]:
    """A bench unit's metrics recomputed as the runner computes them (``stored`` supplies what the
    predictions cannot: the training majority label, the floors' train majority)."""
    from ..bench.results import task_report

    k = len(labels)
    out = task_report(gold, probs, k, n_boot=n_boot or 0, seed=seed)
    if n_boot is None:  # not recorded: the intervals cannot be re-derived
        out.pop("ci95", None)
    majority = stored.get("majority")
    if isinstance(majority, Mapping) and majority.get("label") in labels:
        from ..bench.runner import majority_report

        index = list(labels).index(majority["label"])
        fit = None if majority.get("fit_on") == "eval" else _TrainMajority(index)
        out["majority"] = majority_report(gold, probs, fit, labels)  # type: ignore[arg-type]
    return out


class _TrainMajority:
    """Stands for the fit split where only its majority label is known (all ``majority_report`` reads)."""

    def __init__(self, index: int) -> None:
        self.y = np.array([index], dtype=np.int64)

    def __len__(self) -> int:
        return 1


def _summary(per_seed: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> dict[str, Any]:
    from ..bench.results import mean_std

    return {k: mean_std([m.get(k) for m in per_seed]) for k in keys}


def verify_bench(check: FileCheck, data: Mapping[str, Any], rows: list[dict[str, Any]], where: str) -> None:
    labels_by_task = (data.get("stored_predictions") or {}).get("labels") or {}
    n_boot = data.get("n_boot")
    for task in data.get("tasks") or []:
        name = task.get("task")
        labels = labels_by_task.get(name)
        if not labels:
            check.skip(f"task {name}: label set not recorded", sum(1 for _ in _leaf_values(task.get("per_seed"))))
            continue
        recomputed_seeds = {}
        for seed, stored in (task.get("per_seed") or {}).items():
            sel = [r for r in rows if r.get("task") == name and str(r["seed"]) == str(seed)]
            if not sel:
                check.skip(f"task {name} seed {seed}: no stored predictions")
                continue
            gold, probs = _arrays(sel, len(labels))
            recomputed = unit_metrics(gold, probs, labels, stored, n_boot=n_boot, seed=int(seed))
            if n_boot is None and "ci95" in stored:
                check.skip("ci95: n_boot not recorded", sum(1 for _ in _leaf_values(stored["ci95"])))
            recomputed_seeds[seed] = recomputed
            compare_tree(check, where, stored, recomputed, f"tasks.{name}.per_seed.{seed}")
        if recomputed_seeds and len(recomputed_seeds) == len(task.get("per_seed") or {}):
            summary = task.get("summary") or {}
            compare_tree(check, where, summary, _summary(list(recomputed_seeds.values()), list(summary)),
                         f"tasks.{name}.summary")


def verify_bench_verdict(check: FileCheck, data: Mapping[str, Any], run_dir: Path, where: str,
                         rows: list[dict[str, Any]] | None = None) -> None:
    """The run's verdict block (floors, comparison with the reference) recomputed by the function that
    wrote it, from the run's per-sample files."""
    keys = [k for k in ("floors", "verdict_per_task", "warnings", "verdict") if k in data]
    if not keys:
        return
    from ..bench.results import RunResults

    try:
        from ..bench.runner import bench_verdict

        limits = {k: v for k, v in ((data.get("provenance") or {}).get("limits") or {}).items()
                  if k in ("limit", "max_samples", "subset") and v is not None}  # as bench.report.load_run reads them
        # a run folder reads its per-sample files; a study file kept without them, its stored predictions
        own = (run_dir / "samples").is_dir()
        recomputed = bench_verdict(RunResults.from_dict(dict(data)), run_dir, limited=bool(limits),
                                   rows=None if own else rows)
    except (ImportError, TypeError, KeyError) as err:
        check.skip(f"verdict: cannot be recomputed by this version ({type(err).__name__})",
                   sum(1 for k in keys for _ in _leaf_values(data[k])))
        return
    for key in keys:
        compare_tree(check, where, {key: data[key]}, {key: recomputed.get(key)})


def _metric(name: str, gold: np.ndarray, pred: np.ndarray, k: int) -> float:
    from ..baselines import constant_floor
    from ..metrics import classification_metrics

    if name == "constant_floor":
        return constant_floor(gold, k)["acc"]
    if name not in METRIC_NAMES:
        raise DataError(f"unknown metric {name!r} in a check (known: {', '.join(METRIC_NAMES)}, constant_floor)",
                        field="stored_predictions.checks")
    return classification_metrics(gold, pred, k)[name]


def resolve_pointer(data: Any, pointer: str) -> Any:
    value = data
    for part in [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/") if p != ""]:
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def verify_checks(check: FileCheck, data: Mapping[str, Any], rows: list[dict[str, Any]], where: str) -> None:
    """Declared checks: ``{"pointer", "metric", "model", "split", "seed" (a seed, or "mean" over seeds),
    "task" (optional), "n_labels"}`` -- the value at ``pointer`` recomputed from the selected rows."""
    for item in (data.get("stored_predictions") or {}).get("checks") or []:
        if item.get("recipe") == "interactions":
            verify_interactions(check, data, rows, where, item)
            continue
        pointer = item["pointer"]
        try:
            stored = resolve_pointer(data, pointer)
        except (KeyError, IndexError, ValueError, TypeError):
            check.mismatches.append(f"{where}: {pointer}: missing from the file, a check names it")
            continue
        sel = [r for r in rows if r["model"] == item["model"] and r["split"] == item["split"]
               and (item.get("task") is None or r.get("task") == item["task"])]
        seed = item.get("seed", "mean")
        seeds = sorted({r["seed"] for r in sel}, key=str) if seed == "mean" else [seed]
        values = []
        for s in seeds:
            part = [r for r in sel if r["seed"] == s]
            if not part:
                continue
            k = int(item.get("n_labels") or max(max(r["gold"] for r in part), *(r["pred"] or 0 for r in part)) + 1)
            gold = np.array([r["gold"] for r in part])
            pred = np.array([-1 if r["pred"] is None else r["pred"] for r in part])
            values.append(_metric(item["metric"], gold, pred, k))
        if not values:
            check.mismatches.append(f"{where}: {pointer}: no stored predictions for model {item['model']!r}")
            continue
        compare_tree(check, where, stored, float(np.mean(values)) * float(item.get("scale") or 1.0), pointer)


def verify_interactions(check: FileCheck, data: Mapping[str, Any], rows: list[dict[str, Any]], where: str,
                        recipe: Mapping[str, Any]) -> None:
    """The categories (counts, per sample) and the interaction scores (exact, soft; point, CI) of an
    ``interactions`` result recomputed from the stored per-view probabilities with the recorded settings."""
    from ..interactions import categorize_split, interaction_score

    k, split = int(recipe["n_labels"]), recipe["split"]
    by_view = {}
    for view in [v for v in recipe["views"] if v]:
        sel = [r for r in rows if r["model"] == view and r["split"] == split]
        if not sel or any(r.get("probs") is None for r in sel):
            check.skip(f"interactions: view {view} has no stored probabilities")
            return
        by_view[view] = sel
    first = next(iter(by_view.values()))
    ids = [r["id"] for r in first]
    gold, _ = _arrays(first, k)
    probs = {v: _arrays(sel, k)[1] for v, sel in by_view.items()}
    v1, v2, vm = recipe["views"]
    pm = probs.get(vm) if vm else None
    ref = gold if recipe["reference"] == "gold" else pm.argmax(axis=1)
    cats = categorize_split(probs[v1], probs[v2], ref, split=split, ids=ids, apply_filter=recipe.get("apply_filter"),
                            apply_rebalance=recipe.get("apply_rebalance"))
    compare_tree(check, where, {"counts": data.get("counts")}, {"counts": cats.report["counts"]})
    stored_samples = {s["id"]: s.get("category") for s in data.get("samples") or []}
    wrong = [i for i, c in zip(ids, cats.categories, strict=True) if str(c) != stored_samples.get(i)]
    check.derived += len(ids)
    if wrong:
        check.mismatches.append(f"{where}: samples: {len(wrong)} categories differ from the recomputed ones, "
                                f"e.g. id {wrong[0]}: stored {stored_samples.get(wrong[0])!r}")
    for delta, stored in (data.get("interaction_score") or {}).items():
        score = interaction_score(probs[v1], probs[v2], pm, y_gold=gold,
                                  reference="multimodal" if pm is not None else "gold", delta=delta,
                                  S=int(recipe["S"]), C=recipe.get("C"), seed=int(recipe["seed"]), n_classes=k)
        compare_tree(check, where, stored, score.to_dict(), f"interaction_score.{delta}")


def verify_units(check: FileCheck, run_dir: Path, n_boot: int | None, where_root: Path) -> None:
    """Each unit file of a bench run folder against its sample file; sidecar hashes of both."""
    try:
        from ..integrity import check_sidecar  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - the integrity module lands separately
        check_sidecar = None
    for unit_path in sorted((run_dir / "units").glob("*.json")):
        rel = unit_path.relative_to(where_root).as_posix() if unit_path.is_relative_to(where_root) else str(unit_path)
        samples = run_dir / "samples" / f"{unit_path.stem}.jsonl"
        if not samples.is_file() and samples.with_name(samples.name + ".gz").is_file():
            samples = samples.with_name(samples.name + ".gz")
        for path in (unit_path, samples):
            if check_sidecar is None or not Path(f"{path}.sha256").exists():
                check.skip("sidecar hash: none recorded")
                continue
            try:
                check_sidecar(path, recovery="re-run the unit (delete the unit file) or restore it")
            except DataError as err:
                check.errors.append(" ".join(str(err).split()))
        try:
            unit = json.loads(unit_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            check.errors.append(f"{rel}: unreadable unit file ({err})")
            continue
        if not samples.is_file():
            check.skip("unit metrics: sample file missing", sum(1 for _ in _leaf_values(unit.get("metrics"))))
            continue
        raw = samples.read_bytes()
        text = (gzip.decompress(raw) if samples.suffix == ".gz" else raw).decode("utf-8")
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        labels = list(next((r["probs"] for r in lines if r.get("probs")), {}) or [])
        if not labels:
            check.skip("unit metrics: no probabilities in the sample file")
            continue
        rows = [{"gold": labels.index(r["gold"]), "pred": None if r.get("pred") is None else labels.index(r["pred"]),
                 "probs": None if r.get("probs") is None else [r["probs"][lab] for lab in labels]} for r in lines]
        gold, probs = _arrays(rows, len(labels))
        metrics = unit.get("metrics") or {}
        recomputed = unit_metrics(gold, probs, labels, metrics, n_boot=n_boot, seed=int(unit.get("seed", 0)))
        compare_tree(check, rel, metrics, recomputed, "metrics")


def verify_sealed(check: FileCheck, path: Path, data: Mapping[str, Any], where: str, *,
                  derived_elsewhere: bool = False) -> None:
    """The study's payload against its seal; on a mismatch the changed values, named via MANIFEST.json."""
    check.how = "sealed (content hash)"
    if seal.content_sha256(dict(data)) == data["content_sha256"]:
        if not derived_elsewhere:
            check.skip("sealed study: hash-checked, no stored predictions",
                       sum(1 for _ in seal.leaves(seal.payload(dict(data)))))
        return
    entry = _manifest_entry(path)
    changed = seal.changed_values(dict(data), entry["value_digest"]) if entry else None
    if not changed:
        check.mismatches.append(f"{where}: content_sha256: the payload no longer matches its seal"
                                + ("" if changed is None and entry is None else
                                   " (values added or removed)" if changed is None else ""))
        return
    for pointer, value in changed:
        check.mismatches.append(f"{where}: {pointer}: changed after sealing (now {_show(value)})")


def _manifest_entry(path: Path) -> dict[str, Any] | None:
    """The file's entry in ``MANIFEST.json`` beside it (None: not sealed there)."""
    manifest = path.parent / seal.MANIFEST
    if not manifest.is_file():
        return None
    entry = (json.loads(manifest.read_text(encoding="utf-8")).get("files") or {}).get(path.name)
    return entry if isinstance(entry, dict) and entry.get("content_sha256") else None


def verify_file(path: Path, root: Path) -> FileCheck:
    check = FileCheck(path)
    where = path.relative_to(root).as_posix() if path.is_relative_to(root) and path != root else str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        check.errors.append(f"{where}: unreadable results file ({err})")
        return check
    if not isinstance(data, dict):
        check.how = "not a results file"
        return check
    if "stored_predictions" in data:
        check.how = "stored predictions"
        try:
            rows = read_predictions(path.parent, data["stored_predictions"])
        except StoredPredictionsError as err:
            check.errors.append(" ".join(str(err).split()))
            return check
        if data.get("kind") == "interlens.bench.run":
            verify_bench(check, data, rows, where)
            verify_bench_verdict(check, data, path.parent, where, rows)
        verify_checks(check, data, rows, where)
        if "content_sha256" in data:  # a sealed study with stored predictions: its seal is checked too
            verify_sealed(check, path, data, where, derived_elsewhere=True)
            check.how = "stored predictions + sealed"
    elif "content_sha256" in data:
        verify_sealed(check, path, data, where)
    elif _manifest_entry(path) is not None:  # rewritten without its seal: the sealed numbers still hold
        verify_sealed(check, path, {**data, "content_sha256": _manifest_entry(path)["content_sha256"]}, where)
        check.how = "sealed (seal block missing; MANIFEST.json)"
    else:
        check.skip("no stored predictions and no seal", sum(1 for _ in _leaf_values(data)))
    if data.get("kind") == "interlens.bench.run" and (path.parent / "units").is_dir():
        check.how += " + units"
        verify_units(check, path.parent, data.get("n_boot"), root if root.is_dir() else root.parent)
    return check


def verify_path(path: str | Path) -> VerifyReport:
    """Verify every results file under ``path`` (see the module docstring)."""
    path = Path(path)
    root = path if path.is_dir() else path.parent
    return VerifyReport([verify_file(f, root) for f in results_files(path)])
