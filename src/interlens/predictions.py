"""Predictions: per-sample class probabilities with provenance (the one table that flows).

Rows whose probabilities are all NaN mean "no prediction for this sample" (for example an API
answer that could not be scored); they are kept and reported, never silently dropped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from .data.schema import Dataset

from .errors import DataError
from .io import atomic_write, read_json, to_jsonable

#: tolerance on probabilities: each in [-tol, 1 + tol], each row sums to 1 ± tol
PROB_TOL = 1e-3


def check_file_path(path: str | os.PathLike, what: str = "table file") -> Path:
    """``path`` as a Path that exists and is a file: a folder, a missing file or a non-path argument is a
    one-line DataError (issue 30: never a raw IsADirectoryError / TypeError)."""
    if isinstance(path, bool) or not isinstance(path, str | os.PathLike):
        raise DataError(f"a {what} path must be a string or path, got {type(path).__name__}", field="path")
    path = Path(path)
    if path.is_dir():
        raise DataError(f"is a folder; expected a {what}", file=str(path))
    if not path.exists():
        raise DataError("file not found", file=str(path))
    return path


def as_prob_array(values: Any, *, file: str | None = None, field: str = "probs") -> np.ndarray:
    """``values`` as a 2-D float array, refusing booleans, non-numbers and ragged rows in one line (issue 30:
    ``True`` is not the probability 1, and a ragged table is not a NumPy error)."""
    if isinstance(values, np.ndarray):
        if values.dtype == bool:
            raise DataError("probabilities are booleans; give numbers in [0, 1]", file=file, field=field)
        if values.dtype.kind not in "fiu":
            try:
                return values.astype(np.float64)
            except (TypeError, ValueError):
                raise DataError(f"probabilities must be numbers (dtype {values.dtype})", file=file,
                                field=field) from None
        return values.astype(np.float64, copy=False)
    rows = list(values) if isinstance(values, list | tuple) else None
    if rows is None:
        raise DataError(f"probabilities must be a 2-D array or a list of rows, got {type(values).__name__}",
                        file=file, field=field)
    widths = {len(r) if isinstance(r, list | tuple | np.ndarray) else -1 for r in rows}
    if -1 in widths:
        raise DataError("each row of probabilities must be a list of numbers", file=file, field=field)
    if len(widths) > 1:
        raise DataError(f"ragged probability rows (lengths {sorted(widths)})", file=file, field=field)
    for n, row in enumerate(rows):
        for v in row:
            if isinstance(v, bool | np.bool_) or not (v is None or isinstance(v, int | float | np.number)):
                raise DataError(f"not a probability: {v!r} (row {n})", file=file, field=field)
    return np.array([[np.nan if v is None else float(v) for v in row] for row in rows],
                    dtype=np.float64).reshape(len(rows), widths.pop() if widths else 0)


@dataclass
class Predictions:
    """``probs[i, k]`` is the probability of ``labels[k]`` for sample ``ids[i]`` under ``view``."""

    ids: list[str]
    labels: tuple[str, ...]
    probs: np.ndarray
    view: str
    scorer: str = "unknown"
    dataset: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        import pandas as pd
        if isinstance(self.ids, str | bytes) or not hasattr(self.ids, "__iter__"):
            raise DataError(f"ids must be a list of sample ids, got {type(self.ids).__name__}", field="ids")
        if isinstance(self.labels, str | bytes) or not hasattr(self.labels, "__iter__"):
            raise DataError(f"labels must be a list of label names, got {type(self.labels).__name__}",
                            field="labels")
        self.ids = [str(i) for i in self.ids]
        self.labels = tuple(str(label) for label in self.labels)
        self.probs = as_prob_array(self.probs, file=(self.meta or {}).get("source"))
        self.view = str(self.view)
        if self.probs.ndim != 2 or self.probs.shape != (len(self.ids), len(self.labels)):
            raise DataError(f"probs has shape {self.probs.shape}, expected ({len(self.ids)}, {len(self.labels)})",
                            field="probs")
        if len(set(self.ids)) != len(self.ids):
            dup = pd.Series(self.ids)[pd.Series(self.ids).duplicated()].iloc[0]
            raise DataError(f"duplicate id {dup!r} in predictions", field="id")

    def __len__(self) -> int:
        return len(self.ids)

    # -- derived ------------------------------------------------------------------------------
    @property
    def has_prediction(self) -> np.ndarray:
        """Boolean mask: False where the row is all-NaN (no prediction)."""
        return ~np.all(np.isnan(self.probs), axis=1)

    @property
    def missing_ids(self) -> list[str]:
        return [i for i, ok in zip(self.ids, self.has_prediction, strict=True) if not ok]

    def argmax(self) -> np.ndarray:
        """Predicted label index per sample; -1 where there is no prediction."""
        filled = np.where(np.isnan(self.probs), -np.inf, self.probs)
        out = filled.argmax(axis=1)
        out[~self.has_prediction] = -1
        return out

    def predicted_labels(self) -> list[str | None]:
        return [self.labels[k] if k >= 0 else None for k in self.argmax()]

    def align(self, ids: Sequence[str], *, allow_missing: bool = False) -> Predictions:
        """Reorder to ``ids``. Ids absent here raise (naming them), or become NaN rows if allowed."""
        if isinstance(ids, str | bytes) or not hasattr(ids, "__iter__"):
            raise DataError(f"ids must be a list of sample ids, got {type(ids).__name__}", field="ids")
        ids = [str(i) for i in ids]
        index = {i: n for n, i in enumerate(self.ids)}
        absent = [i for i in ids if i not in index]
        if absent and not allow_missing:
            raise DataError(f"{len(absent)} ids have no prediction (view {self.view}), e.g. {absent[:3]}",
                            file=self.meta.get("source"), field="id")
        probs = np.full((len(ids), len(self.labels)), np.nan)
        rows = [index.get(i, -1) for i in ids]
        have = np.array([r >= 0 for r in rows], dtype=bool)
        if have.any():
            probs[have] = self.probs[[r for r in rows if r >= 0]]
        return Predictions(list(ids), self.labels, probs, self.view, self.scorer, self.dataset, dict(self.meta))

    def align_labels(self, labels: Sequence[str], *, label_map: Mapping[str, str] | None = None) -> Predictions:
        """Columns reordered to ``labels`` BY NAME (issue 10 scope 8), never by position.

        ``label_map`` renames this table's labels first (e.g. ``{"Yes": "sarcastic", "No": "not"}``).
        Refuses with one :class:`DataError` naming the file and both label lists when the names differ.
        """
        labels = tuple(str(label) for label in labels)
        label_map = dict(label_map or {})
        names = [label_map.get(label, label) for label in self.labels]
        if len(set(names)) != len(names):
            raise DataError(f"labels {names} (after label_map) repeat a name", file=self.meta.get("source"),
                            field="labels")
        if set(names) != set(labels):
            only_here = [n for n in names if n not in labels]
            only_there = [n for n in labels if n not in names]
            raise DataError(f"prediction labels {names} do not match the dataset's {list(labels)} "
                            f"(only in the file: {only_here}; only in the dataset: {only_there}); "
                            "map them with label_map", file=self.meta.get("source"), field="labels")
        if tuple(names) == labels:
            return self if not label_map else Predictions(self.ids, labels, self.probs, self.view, self.scorer,
                                                          self.dataset, dict(self.meta))
        order = [names.index(label) for label in labels]
        return Predictions(self.ids, labels, self.probs[:, order], self.view, self.scorer, self.dataset,
                           dict(self.meta))

    def align_to(self, ids: Sequence[str], labels: Sequence[str], *, allow_missing: bool = False,
                 label_map: Mapping[str, str] | None = None) -> Predictions:
        """Rows in ``ids`` order (by sample id) and columns in ``labels`` order (by label name)."""
        return self.align_labels(labels, label_map=label_map).align(ids, allow_missing=allow_missing)

    def check_probs(self, tol: float = PROB_TOL) -> Predictions:
        """Refuse probabilities that are not finite, outside [0, 1] or whose rows do not sum to 1 (± ``tol``).

        An all-NaN row means "no prediction" and is allowed; a partly-NaN row is not.
        """
        p, where = self.probs, self.meta.get("source")
        nan = np.isnan(p)
        has = ~nan.all(axis=1)
        checks = (
            (nan.any(axis=1) & has, "row has some but not all probabilities"),
            (has & np.isinf(p).any(axis=1), "probability is infinite"),
            (has & ((np.nan_to_num(p, nan=0.5) < -tol) | (np.nan_to_num(p, nan=0.5) > 1 + tol)).any(axis=1),
             "probability outside [0, 1]"),
        )
        for bad, what in checks:
            if bad.any():
                i = int(np.argmax(bad))
                raise DataError(f"{what}: {p[i].tolist()} (view {self.view})", file=where, record=f"id {self.ids[i]}",
                                field="probs")
        sums = np.where(has, np.nansum(p, axis=1), 1.0)
        off = np.abs(sums - 1) > tol
        if off.any():
            i = int(np.argmax(off))
            raise DataError(f"probabilities sum to {sums[i]:.6g}, not 1 (tolerance {tol}; view {self.view})",
                            file=where, record=f"id {self.ids[i]}", field="probs")
        return self

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        frame = pd.DataFrame(self.probs, columns=[f"p_{label}" for label in self.labels])
        frame.insert(0, "id", self.ids)
        frame["pred"] = self.predicted_labels()
        return frame

    def to_pandas(self, dataset: Dataset | None = None) -> pd.DataFrame:
        """One row per sample: ``id``, ``p_<label>`` per label and ``pred`` (None where there is no
        prediction); ``frame.attrs`` holds the view, scorer, dataset fingerprint and label order.

        With ``dataset`` (issue 28), the gold label is joined by sample id: ``gold`` (None where the sample
        is unlabelled) and ``correct`` (``pred == gold``, a nullable boolean: ``<NA>`` where either is
        missing). Every predicted id must be in the dataset."""
        frame = self.to_frame()
        if dataset is not None:
            from .data.schema import Dataset

            if not isinstance(dataset, Dataset):
                raise DataError(f"to_pandas(dataset=...) takes an interlens Dataset, got {type(dataset).__name__}",
                                field="dataset")
            gold = {s.id: s.label for s in dataset.samples}
            absent = [i for i in self.ids if i not in gold]
            if absent:
                raise DataError(f"{len(absent)} predicted ids are not in dataset {dataset.name!r} "
                                f"(view {self.view}), e.g. {absent[:3]}", file=self.meta.get("source"), field="id")
            import pandas as pd

            frame["gold"] = [gold[i] for i in self.ids]
            frame["correct"] = pd.array([None if pd.isna(p) or pd.isna(g) else p == g
                                         for p, g in zip(frame["pred"], frame["gold"], strict=True)], dtype="boolean")
        frame.attrs.update({"view": self.view, "scorer": self.scorer, "dataset": self.dataset,
                            "labels": list(self.labels)})
        return frame

    # -- persistence ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"ids": self.ids, "labels": list(self.labels), "probs": self.probs.tolist(), "view": self.view,
                "scorer": self.scorer, "dataset": self.dataset, "meta": self.meta}

    def save(self, path: str | Path) -> Path:
        """Save as ``.json`` or ``.parquet`` (by suffix), atomically."""
        path = Path(path)
        if path.suffix == ".parquet":
            frame = self.to_frame().drop(columns="pred")
            provenance = json.dumps(to_jsonable({k: v for k, v in self.to_dict().items()
                                                 if k not in ("ids", "probs")}))
            import pyarrow as pa
            import pyarrow.parquet as pq

            arrow = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(
                {b"interlens": provenance.encode()})
            return atomic_write(path, lambda p: pq.write_table(arrow, p))
        from .io import write_json

        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> Predictions:
        path = check_file_path(path, "predictions file")
        if path.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            try:
                table = pq.read_table(path)
            except (pa.ArrowException, OSError) as err:
                raise DataError(f"cannot read the Parquet file: {err}", file=str(path)) from None
            if not table.schema.metadata or b"interlens" not in table.schema.metadata:
                raise DataError("a plain Parquet file, not interlens Predictions (no 'interlens' metadata); read "
                                "a probability table with interlens.data.prediction_formats.read_prob_table",
                                file=str(path))
            info = json.loads(table.schema.metadata[b"interlens"])
            frame = table.to_pandas()
            probs = frame[[f"p_{label}" for label in info["labels"]]].to_numpy(dtype=np.float64)
            return cls(frame["id"].astype(str).tolist(), tuple(info["labels"]), probs, info["view"],
                       info["scorer"], info.get("dataset"), {**(info.get("meta") or {}), "source": str(path)})
        data = read_json(path)
        for key in ("ids", "labels", "probs", "view"):
            if key not in data:
                raise DataError(f"missing key {key!r}", file=str(path), field=key)
        if not isinstance(data["ids"], list) or not isinstance(data["labels"], list):
            raise DataError("ids and labels must be lists", file=str(path), field="ids")
        if not isinstance(data["probs"], list):
            raise DataError("probs must be a list of rows", file=str(path), field="probs")
        probs = as_prob_array(data["probs"], file=str(path))
        if np.isnan(probs).any() and any(isinstance(v, float) and v != v for row in data["probs"] for v in row):
            raise DataError("NaN is not a probability (null marks a row with no prediction)", file=str(path),
                            field="probs")
        if probs.size == 0:
            probs = probs.reshape(len(data["ids"]), len(data["labels"]))
        return cls(data["ids"], tuple(data["labels"]), probs,
                   data["view"], data.get("scorer", "unknown"), data.get("dataset"),
                   {**(data.get("meta") or {}), "source": str(path)})


def check_same_ids(*predictions: Predictions, names: Sequence[str] | None = None) -> None:
    """Raise a DataError naming the files/views whose id sets differ."""
    if not predictions:
        return
    names = list(names or [p.meta.get("source") or p.view for p in predictions])
    first = set(predictions[0].ids)
    for name, pred in zip(names[1:], predictions[1:], strict=True):
        other = set(pred.ids)
        if other != first:
            only_a, only_b = sorted(first - other), sorted(other - first)
            raise DataError(
                f"id sets differ from {names[0]}: {len(only_a)} ids only in {names[0]} (e.g. {only_a[:3]}), "
                f"{len(only_b)} only here (e.g. {only_b[:3]})", file=str(name), field="id")
