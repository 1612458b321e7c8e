"""Stored per-sample predictions beside ``results.json`` (issue 26, item 3: every number re-derivable).

One row per (sample, model / view / strategy, seed, split) in ``predictions.jsonl.gz``: ``id``, ``gold``
and ``pred`` (label indices; ``pred`` null = no prediction, scored as wrong), ``probs`` (optional,
per label in the results' label order), ``seed``, ``model``, ``split`` and optionally ``task``. The gzip
stream is deterministic (``mtime=0``, no file name), so the same rows give the same bytes and the same
sha256. ``results.json`` records the file under ``stored_predictions`` (path, sha256, n_rows, format);
:func:`read_predictions` checks the hash before returning a single row, and ``interlens verify``
recomputes the numbers of ``results.json`` from them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..io import atomic_write, to_jsonable, write_json

FILENAME = "predictions.jsonl.gz"
FORMAT = "interlens.predictions.jsonl.gz/v1"
REQUIRED = ("id", "gold", "pred", "seed", "model", "split")
#: metrics a declared check can name (those of :func:`interlens.metrics.classification_metrics`; also constant_floor)
METRIC_NAMES = ("acc", "weighted_f1", "weighted_p", "macro_f1", "macro_r", "macro_p", "f1", "precision", "recall")
OPTIONAL = ("probs", "task")


class StoredPredictionsError(DataError):
    """A stored-predictions file is missing, unreadable or does not match its recorded hash (exit 2)."""


def _index(value: Any, field: str, record: int, *, nullable: bool = False) -> int | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or float(value) != int(value):
        raise DataError(f"must be a label index, got {value!r}", record=record, field=field)
    return int(value)


def normalise_row(row: Mapping[str, Any], record: int) -> dict[str, Any]:
    """One row in the stored shape (checked: required fields present, gold / pred label indices)."""
    missing = [k for k in REQUIRED if k not in row]
    if missing:
        raise DataError(f"a stored prediction needs {', '.join(missing)}", record=record, field=missing[0])
    unknown = sorted(set(row) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise DataError(f"unknown fields {unknown}; a row holds {', '.join(REQUIRED + OPTIONAL)}", record=record,
                        field=unknown[0])
    out: dict[str, Any] = {"id": str(row["id"]), "gold": _index(row["gold"], "gold", record),
                           "pred": _index(row["pred"], "pred", record, nullable=True),
                           "seed": row["seed"] if row["seed"] is None else int(row["seed"]),
                           "model": str(row["model"]), "split": str(row["split"])}
    if row.get("probs") is not None:
        out["probs"] = [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
                        for v in row["probs"]]
    if row.get("task") is not None:
        out["task"] = str(row["task"])
    return out


def encode_rows(rows: Iterable[Mapping[str, Any]]) -> tuple[bytes, int]:
    """The deterministic gzip bytes of ``rows`` (JSON lines, keys sorted) and the row count."""
    lines = [json.dumps(to_jsonable(normalise_row(r, i)), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
             for i, r in enumerate(rows)]
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write("".join(line + "\n" for line in lines).encode("utf-8"))
    return buf.getvalue(), len(lines)


def write_predictions(out_dir: str | os.PathLike, rows: Iterable[Mapping[str, Any]], *,
                      filename: str = FILENAME) -> dict[str, Any]:
    """Write ``out_dir/predictions.jsonl.gz`` (or ``filename``); returns the ``stored_predictions`` block."""
    data, n = encode_rows(rows)
    atomic_write(Path(out_dir) / filename, lambda p: p.write_bytes(data))
    return {"path": filename, "sha256": hashlib.sha256(data).hexdigest(), "n_rows": n, "format": FORMAT}


def _block(out_dir: Path, block: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if block is not None:
        return block
    results = out_dir / "results.json"
    from ..io import read_json

    found = read_json(results).get("stored_predictions") if results.is_file() else None
    if not isinstance(found, Mapping):
        raise StoredPredictionsError("no stored_predictions block: this result has no stored predictions",
                                     file=str(results), field="stored_predictions")
    return found


def read_predictions(out_dir: str | os.PathLike, block: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The rows stored in ``out_dir`` (``block``: the ``stored_predictions`` entry; default: read from
    ``out_dir/results.json``). The file's sha256 is checked first: missing or altered -> StoredPredictionsError."""
    out_dir = Path(out_dir)
    block = _block(out_dir, block)
    rel = str(block.get("path") or FILENAME)
    path = (out_dir / rel).resolve()
    if not path.is_relative_to(out_dir.resolve()):
        raise StoredPredictionsError(f"path {rel!r} leaves the result's folder", file=str(out_dir / "results.json"),
                                     field="stored_predictions.path")
    if not path.is_file():
        raise StoredPredictionsError("stored predictions are missing", file=str(path))
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != block.get("sha256"):
        raise StoredPredictionsError(f"sha256 {digest[:12]}... does not match the recorded "
                                     f"{str(block.get('sha256'))[:12]}...: the file was altered or replaced",
                                     file=str(path))
    try:
        text = gzip.decompress(data).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise StoredPredictionsError(f"not a readable gzip JSON-lines file ({err})", file=str(path)) from None
    rows = []
    for i, line in enumerate(text.splitlines()):
        try:
            rows.append(normalise_row(json.loads(line), i))
        except json.JSONDecodeError as err:
            raise StoredPredictionsError(f"malformed JSON ({err.msg})", file=str(path), record=i) from None
    if block.get("n_rows") is not None and len(rows) != int(block["n_rows"]):
        raise StoredPredictionsError(f"{len(rows)} rows, results.json records {block['n_rows']}", file=str(path))
    return rows


def rows_from_arrays(ids: Sequence[Any], gold: Sequence[int], probs_or_pred: Any, *, model: str, seed: int | None,
                     split: str, task: str | None = None) -> list[dict[str, Any]]:
    """Rows for one (model, seed, split): ``probs_or_pred`` is an [n, k] probability array (a row of NaN:
    no prediction) or an [n] vector of predicted indices (-1: no prediction)."""
    import numpy as np

    values = np.asarray(probs_or_pred, dtype=np.float64)
    rows = []
    for i, sample_id in enumerate(ids):
        row: dict[str, Any] = {"id": str(sample_id), "gold": int(gold[i]), "seed": seed, "model": model,
                               "split": split}
        if values.ndim == 2:
            p = values[i]
            scored = not np.isnan(p).all()
            row["pred"] = int(np.nanargmax(p)) if scored else None
            row["probs"] = [float(v) for v in p] if scored else None
        else:
            row["pred"] = int(values[i]) if values[i] >= 0 else None
        if task is not None:
            row["task"] = task
        rows.append(row)
    return rows


def check(pointer: str, metric: str, *, model: str, split: str, seed: int | str = "mean", task: str | None = None,
          n_labels: int | None = None, scale: float | None = None) -> dict[str, Any]:
    """A declared check for ``interlens verify``: the number at JSON ``pointer`` is ``metric`` (acc, macro_f1,
    ..., constant_floor) of the stored rows of ``model`` / ``split`` (/ ``task``) -- of one ``seed``, or the
    mean over seeds -- times ``scale`` (100 for percentages)."""
    return {k: v for k, v in {"pointer": pointer, "metric": metric, "model": model, "split": split, "seed": seed,
                              "task": task, "n_labels": n_labels, "scale": scale}.items() if v is not None}


EVIDENCE_KEY = "_evidence"


def attach_evidence(results: dict[str, Any], rows: list[dict[str, Any]], checks: list[dict[str, Any]] | None = None
                    ) -> dict[str, Any]:
    """Attach a method's rows and checks to its results dict (under a private key that :func:`save_result`
    removes and writes as ``predictions.jsonl.gz``), so a method returning a dict can hand them to the writer."""
    results[EVIDENCE_KEY] = {"rows": rows, "checks": checks or []}
    return results


def save_result(out: str | os.PathLike, results: Mapping[str, Any], *,
                predictions: Iterable[Mapping[str, Any]] | None = None,
                checks: Sequence[Mapping[str, Any]] | None = None) -> Path:
    """Write ``out/results.json`` (and, given ``predictions``, ``out/predictions.jsonl.gz`` first, recorded
    under ``stored_predictions`` with the declared ``checks`` of :func:`check`): the one place methods and
    ``write_results`` store a result."""
    out = Path(out)
    # what a method attached (see :func:`attach_evidence`): taken out of the caller's dict once written
    evidence = (results.pop(EVIDENCE_KEY, None) if isinstance(results, dict) else None) or {}
    payload = {k: v for k, v in results.items() if k != EVIDENCE_KEY}
    predictions = predictions if predictions is not None else evidence.get("rows")
    checks = checks if checks is not None else evidence.get("checks")
    if predictions is not None:
        payload["stored_predictions"] = write_predictions(out, predictions)
        if checks:
            payload["stored_predictions"]["checks"] = [dict(c) for c in checks]
    return write_json(out / "results.json", payload)


def view_rows(ids: Sequence[Any], gold: Sequence[int], predictions: Mapping[str, Any], *, split: str,
              seed: int | None = None, task: str | None = None) -> list[dict[str, Any]]:
    """Rows of several models / views evaluated on the same samples: ``predictions`` maps a view (or
    strategy) name to its [n, k] probabilities or an object with ``.probs`` (a ``Predictions`` aligned to ``ids``)."""
    rows: list[dict[str, Any]] = []
    for name, value in predictions.items():
        rows += rows_from_arrays(ids, gold, getattr(value, "probs", value), model=str(name), seed=seed, split=split,
                                 task=task)
    return rows


def metric_checks(prefix: str, metrics: Mapping[str, Mapping[str, Any]], *, split: str, n_labels: int,
                  seed: int | str = "mean", scale: float | None = None) -> list[dict[str, Any]]:
    """Checks for ``{model: {metric: value}}`` blocks at JSON pointer ``prefix``: every classification metric
    there (ACC, macro-F1, ...) recomputed from the model's stored rows."""
    escape = lambda key: str(key).replace("~", "~0").replace("/", "~1")  # noqa: E731
    return [check(f"{prefix}/{escape(model)}/{name}", name, model=str(model), split=split, seed=seed,
                  n_labels=n_labels, scale=scale)
            for model, values in metrics.items() for name in METRIC_NAMES
            if isinstance(values, Mapping) and isinstance(values.get(name), int | float)]


def save_study(path: str | os.PathLike, results: Mapping[str, Any], *, predictions: Iterable[Mapping[str, Any]],
               checks: Sequence[Mapping[str, Any]] | None = None) -> Path:
    """A study file among others (``benchmarks/results/NAME.json``): its rows go to ``NAME.predictions.jsonl.gz``
    beside it (so studies sharing a folder do not collide), recorded under ``stored_predictions`` with ``checks``."""
    path = Path(path)
    payload = {k: v for k, v in results.items() if k != EVIDENCE_KEY}
    payload["stored_predictions"] = write_predictions(path.parent, predictions,
                                                      filename=f"{path.stem}.predictions.jsonl.gz")
    if checks:
        payload["stored_predictions"]["checks"] = [dict(c) for c in checks]
    return write_json(path, payload)
