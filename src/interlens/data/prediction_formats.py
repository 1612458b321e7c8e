"""Prediction files on disk (issue 29, item 5: the readers live with the data, the scorer that serves them in
:mod:`interlens.scoring.precomputed`): our own tables and the MMoE / MIntRec authors' file formats.

Readers (each returns :class:`~interlens.predictions.Predictions`; bad input raises
:class:`~interlens.errors.DataError` naming the file, the record and the field):

* :func:`read_prob_table` -- our own ``Predictions`` JSON/Parquet, or a CSV/JSONL with an id
  column and one probability column per label (``p_<label>`` or ``<label>``).
* :func:`read_mmoe_unimodal` -- the MMoE authors' ``{id: {"logits": {"Yes": lp, "No": lp, ...},
  "pred": 0|1|None}}`` (probabilities = softmax over the label tokens' log-probs, MMoE App. F.3).
* :func:`read_expert_logits` -- their expert outputs, JSONL ``{"image_id", "pred", "target", "logits"}``.
* :func:`read_mintrec_removal` -- MIntRec Phase-2 modality-removal CSVs (``actual_label``,
  ``predicted_label``, ``true_label_prob``, ``is_correct``).

:func:`read_predictions` dispatches on :func:`detect_format`. This module sits in the data package but one
layer above :mod:`interlens.predictions` (it builds Predictions; docs/architecture.md): ``interlens.data``
itself does not import it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import DataError
from ..predictions import Predictions, check_file_path
from ..registry import Registry
from ..torch_utils import softmax
from .readers import _read_text, iter_jsonl

SENTINEL = -10000.0  # the MMoE text model's log-prob for a label token absent from the top 5
_TOL = 1e-3


# -- helpers ------------------------------------------------------------------------------------
def load_json_strict(path: str | os.PathLike) -> Any:
    """JSON whose objects may not repeat a key (plain ``json`` keeps the last one silently).

    A repeated top-level key is reported as a duplicate id; one inside a record as a duplicate field.
    """
    text = _read_text(Path(path))  # a missing or non-UTF-8 file is one DataError naming it
    path = Path(path)
    duplicates: list[tuple[str, dict[str, Any]]] = []

    def unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                duplicates.append((key, out))
            out[key] = value
        return out

    try:
        data = json.loads(text, object_pairs_hook=unique_pairs)
    except json.JSONDecodeError as err:
        raise DataError(f"malformed JSON at line {err.lineno}, column {err.colno}: {err.msg}",
                        file=str(path), record=f"line {err.lineno}") from None
    if duplicates:
        key, where = duplicates[0]
        if where is data:
            raise DataError(f"duplicate id {key!r} (keys must be unique)", file=str(path), record=key,
                            field="id")
        owner = next((k for k, v in data.items() if v is where), None) if isinstance(data, dict) else None
        raise DataError(f"duplicate key {key!r} inside a record", file=str(path), record=owner, field=key)
    return data


def _iter_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    return list(iter_jsonl(path))


def _id_of(value: Any, file: str, record: Any, field: str) -> str:
    if isinstance(value, bool) or value is None or not isinstance(value, str | int):
        raise DataError(f"id must be a string or an integer, got {value!r}", file=file, record=record,
                        field=field)
    return str(value)


def _new_id(value: Any, seen: dict[str, str], file: str, record: str, field: str) -> str:
    """The row's id (a string or an integer, as a string), refused when an earlier row had it; ``seen`` maps
    each id to the record it was first seen at and gets this one."""
    sample_id = _id_of(value, file, record, field)
    if sample_id in seen:
        raise DataError(f"duplicate id {sample_id!r} (first at {seen[sample_id]})", file=file, record=record,
                        field=field)
    seen[sample_id] = record
    return sample_id


def _check_rows(probs: np.ndarray, records: Sequence[Any], labels: Sequence[str], file: str) -> None:
    """Probabilities in [0, 1], rows all-NaN or complete, rows summing to 1 (± 1e-3)."""
    nan = np.isnan(probs)
    partial = nan.any(axis=1) & ~nan.all(axis=1)
    if partial.any():
        i = int(np.argmax(partial))
        raise DataError("row has some but not all probabilities", file=file, record=records[i],
                        field=f"p_{labels[int(np.argmax(nan[i]))]}")
    bad = ~nan & ((probs < -_TOL) | (probs > 1 + _TOL))
    if bad.any():
        i, k = map(int, np.argwhere(bad)[0])
        raise DataError(f"probability {probs[i, k]} outside [0, 1]", file=file, record=records[i],
                        field=f"p_{labels[k]}")
    sums = probs.sum(axis=1)
    off = ~nan.all(axis=1) & (np.abs(sums - 1) > _TOL)
    if off.any():
        i = int(np.argmax(off))
        raise DataError(f"probabilities sum to {sums[i]:.6g}, not 1", file=file, record=records[i],
                        field="probs")


# -- generic tables -----------------------------------------------------------------------------
def read_prob_table(path: str | os.PathLike, *, view: str | None = None, labels: Sequence[str] | None = None,
                    id_field: str = "id", prefix: str = "p_", scorer: str = "precomputed",
                    dataset: str | None = None) -> Predictions:
    """Our ``Predictions`` (``.json``/``.parquet``) or a CSV/JSONL table of per-label probabilities.

    Table columns: ``id_field`` plus ``<prefix><label>`` (or ``<label>`` when ``labels`` is given
    and the prefixed column is absent). Empty cells / ``null`` in every column of a row mean "no
    prediction" (all-NaN row). Ids are read as strings (64-bit tweet ids stay exact).
    """
    path = check_file_path(path, "probability table")
    file = str(path)
    suffix = path.suffix.lower()
    if suffix in (".json", ".parquet"):
        if suffix == ".json":
            data = load_json_strict(path)
            if not isinstance(data, dict):
                raise DataError("expected a Predictions JSON object with ids/labels/probs", file=file)
        try:
            pred = Predictions.load(path)
        except DataError as err:
            raise DataError(err.reason, file=err.file or file, record=err.record, field=err.field) from None
        _check_rows(pred.probs, [f"id {i}" for i in pred.ids], pred.labels, file)
        pred.meta.setdefault("source", file)
        if view is not None and str(view) != pred.view:
            raise DataError(f"file holds view {pred.view!r}, asked for {view!r}", file=file, field="view")
        return pred
    if suffix == ".csv":
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        except FileNotFoundError:
            raise DataError("file not found", file=file) from None
        rows = frame.to_dict("records")
        records: list[Any] = [f"line {n}" for n in range(2, len(rows) + 2)]
    elif suffix == ".jsonl":
        parsed = _iter_jsonl(path)
        rows = [row for _, row in parsed]
        records = [f"line {n}" for n, _ in parsed]
    else:
        raise DataError(f"unsupported file type {suffix!r}; use .json, .parquet, .csv or .jsonl", file=file)
    columns = list(dict.fromkeys(c for row in rows for c in row)) if rows else []
    if id_field not in columns:
        raise DataError(f"no id column {id_field!r}; columns: {columns}", file=file, field=id_field)
    if labels is None:
        labels = [c[len(prefix):] for c in columns if c.startswith(prefix) and len(c) > len(prefix)]
        if not labels:
            raise DataError(f"no probability columns named {prefix}<label>", file=file, field=f"{prefix}*")
    else:
        unknown = [c[len(prefix):] for c in columns if c.startswith(prefix) and c[len(prefix):] not in labels]
        if unknown:
            raise DataError(f"unknown label {unknown[0]!r}; expected one of {list(labels)}", file=file,
                            field=f"{prefix}{unknown[0]}")
    cols = [f"{prefix}{lab}" if f"{prefix}{lab}" in columns else lab for lab in labels]
    probs = np.full((len(rows), len(labels)), np.nan)
    ids: list[str] = []
    seen: dict[str, Any] = {}
    for i, (row, record) in enumerate(zip(rows, records, strict=True)):
        if id_field not in row or row[id_field] in ("", None):
            raise DataError("missing id", file=file, record=record, field=id_field)
        ids.append(_new_id(row[id_field], seen, file, record, id_field))
        for k, col in enumerate(cols):
            if col not in row:
                raise DataError(f"missing probability column {col!r}", file=file, record=record, field=col)
            value = row[col]
            if value is None or (isinstance(value, str) and value == ""):
                continue
            if isinstance(value, bool) or not isinstance(value, str | int | float):  # true is not 1.0 (issue 30)
                raise DataError(f"not a probability: {value!r}", file=file, record=record, field=col)
            try:
                probs[i, k] = float(value)
            except (TypeError, ValueError):
                raise DataError(f"not a number: {value!r}", file=file, record=record, field=col) from None
            if np.isnan(probs[i, k]):
                raise DataError(f"NaN is not a probability ({value!r}); leave the cell empty for no prediction",
                                file=file, record=record, field=col)
    _check_rows(probs, records, list(labels), file)
    meta = {"source": file, "format": "table", "n_missing": int(np.isnan(probs).all(axis=1).sum())}
    return Predictions(ids, tuple(labels), probs, view or path.stem, scorer, dataset, meta)


# -- MMoE unimodal predictions ------------------------------------------------------------------
def _case_variant(token: str) -> str:
    return token.lower() if token != token.lower() else token.capitalize()


def read_mmoe_unimodal(path: str | os.PathLike, *, view: str, tokens: Sequence[str] = ("No", "Yes"),
                       labels: Sequence[str] | None = None, merge_case: bool = False,
                       from_pred: bool | None = None, dataset: str | None = None) -> Predictions:
    """MMoE ``{id: {"logits": {token: logprob}, "pred": k | None}}`` (e.g. ``mustard_text_only_pred.json``).

    Class k is ``tokens[k]`` in ``logits`` and ``pred == k`` (default: 0 = "No", 1 = "Yes"), named
    ``labels[k]`` (default: the tokens). Probabilities are the softmax over the tokens' log-probs
    (MMoE App. F.3); ``merge_case=True`` first merges "Yes"/"yes" by logsumexp. A log-prob at or
    below the -10000 sentinel counts as -inf. ``pred`` None, or every token at the sentinel, gives
    an all-NaN row ("no prediction"), listed in ``meta["pred_none"]`` / ``meta["no_label_logprob"]``.
    Files without any ``logits`` (MMSD ``sarc_*_only_pred.json``) give one-hot rows on ``pred``
    (``from_pred=None`` detects this; ``meta["probability_source"]`` says which was used).
    """
    file = str(path)
    data = load_json_strict(path)
    if not isinstance(data, dict):
        raise DataError(f"expected a JSON object keyed by id, got {type(data).__name__}", file=file)
    tokens = tuple(tokens)
    labels = tuple(labels) if labels is not None else tokens
    if len(labels) != len(tokens):
        raise DataError(f"{len(labels)} labels for {len(tokens)} tokens", file=file, field="labels")
    if from_pred is None:
        from_pred = bool(data) and not any(isinstance(v, dict) and "logits" in v for v in data.values())
    k = len(tokens)
    ids = list(data)
    logits = np.full((len(ids), k), -np.inf)
    preds = np.full(len(ids), -1)
    pred_none: list[str] = []
    for i, (sample_id, record) in enumerate(data.items()):
        if not isinstance(record, dict):
            raise DataError(f"expected an object, got {type(record).__name__}", file=file, record=sample_id)
        if "pred" not in record:
            raise DataError("missing field", file=file, record=sample_id, field="pred")
        pred = record["pred"]
        if pred is None:
            pred_none.append(sample_id)
        elif isinstance(pred, bool) or not isinstance(pred, int) or not 0 <= pred < k:
            raise DataError(f"unknown label {pred!r}; expected an index 0..{k - 1} or null", file=file,
                            record=sample_id, field="pred")
        else:
            preds[i] = pred
        if from_pred:
            continue
        scores = record.get("logits")
        if not isinstance(scores, dict):
            raise DataError("missing field" if scores is None else "expected an object of token log-probs",
                            file=file, record=sample_id, field="logits")
        for j, token in enumerate(tokens):
            variant = _case_variant(token)
            names = [token] + ([variant] if merge_case and variant in scores else [])
            if token not in scores:
                raise DataError(f"missing label token {token!r}", file=file, record=sample_id,
                                field=f"logits.{token}")
            values = []
            for name in names:
                value = scores[name]
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise DataError(f"log-prob must be a number, got {value!r}", file=file, record=sample_id,
                                    field=f"logits.{name}")
                if not value <= 0:  # NaN fails too; a log-probability is at most 0 (issue 30)
                    raise DataError(f"log-probability {value!r} is not <= 0", file=file, record=sample_id,
                                    field=f"logits.{name}")
                values.append(-np.inf if value <= SENTINEL else float(value))
            logits[i, j] = np.logaddexp.reduce(values)
    if from_pred:
        probs = np.zeros((len(ids), k))
        probs[np.flatnonzero(preds >= 0), preds[preds >= 0]] = 1.0
    else:
        probs = softmax(logits)
    no_logprob = [ids[i] for i in np.flatnonzero(np.isnan(probs).all(axis=1) & (preds >= 0))]
    probs[preds < 0] = np.nan
    has = ~np.isnan(probs).all(axis=1)
    disagree = [ids[i] for i in np.flatnonzero(has & (np.argmax(np.nan_to_num(probs), axis=1) != preds))]
    meta = {"source": file, "format": "mmoe", "tokens": list(tokens), "merge_case": merge_case,
            "probability_source": "one-hot from pred" if from_pred else "softmax over label-token log-probs",
            "pred_none": pred_none, "no_label_logprob": no_logprob, "pred_disagrees_with_logits": disagree,
            "n_missing": int((~has).sum())}
    return Predictions(ids, labels, probs, view, "mmoe-authors", dataset, meta)


# -- MMoE expert logits -------------------------------------------------------------------------
def read_expert_logits(path: str | os.PathLike, *, view: str, labels: Sequence[str] = ("0", "1"),
                       id_field: str = "image_id", dataset: str | None = None) -> Predictions:
    """MMoE expert outputs, JSONL ``{"image_id", "pred", "target", "logits": [l0, l1]}``.

    Probabilities = softmax(logits). ``meta["targets"]`` maps id -> gold label name;
    ``meta["pred_disagrees_with_logits"]`` lists ids whose ``pred`` is not the argmax.
    """
    path = Path(path)
    file = str(path)
    labels = tuple(labels)
    k = len(labels)
    ids: list[str] = []
    rows: list[list[float]] = []
    preds: list[int] = []
    targets: dict[str, str] = {}
    seen: dict[str, str] = {}
    for number, row in _iter_jsonl(path):
        record = f"line {number}"
        for name in (id_field, "logits", "pred", "target"):
            if name not in row:
                raise DataError("missing field", file=file, record=record, field=name)
        sample_id = _new_id(row[id_field], seen, file, record, id_field)
        values = row["logits"]
        if (not isinstance(values, list) or len(values) != k
                or not all(isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v) for v in values)):
            raise DataError(f"expected a list of {k} numbers, got {values!r}", file=file, record=record,
                            field="logits")
        for name in ("pred", "target"):
            v = row[name]
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < k:
                raise DataError(f"unknown label {v!r}; expected an index 0..{k - 1}", file=file,
                                record=record, field=name)
        ids.append(sample_id)
        rows.append([float(v) for v in values])
        preds.append(row["pred"])
        targets[sample_id] = labels[row["target"]]
    probs = softmax(np.array(rows, dtype=np.float64).reshape(len(ids), k))
    disagree = [i for i, p, q in zip(ids, preds, probs.argmax(axis=1), strict=True) if p != q]
    meta = {"source": file, "format": "mmoe-expert", "targets": targets,
            "pred_disagrees_with_logits": disagree, "n_missing": 0}
    return Predictions(ids, labels, probs, view, "mmoe-expert", dataset, meta)


# -- MIntRec modality-removal CSVs --------------------------------------------------------------
_MINTREC_COLUMNS = ("actual_label", "predicted_label", "true_label_prob", "is_correct")


def mintrec_view(path: str | os.PathLike) -> str:
    """``..._bert_text_video.csv`` -> ``"text+video"``; ``..._bert_all.csv`` -> ``"text+video+audio"``."""
    match = re.search(r"_bert_([a-z_]+)\.csv$", Path(path).name)
    if not match:
        raise DataError("file name does not end in _bert_<modalities>.csv", file=str(path), field="view")
    body = match.group(1)
    return "text+video+audio" if body == "all" else body.replace("_", "+")


def read_mintrec_frame(path: Path) -> pd.DataFrame:
    """A MIntRec removal CSV as strings, its four columns checked (a DataError naming the file otherwise)."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise DataError("file not found", file=str(path)) from None
    for col in _MINTREC_COLUMNS:
        if col not in frame.columns:
            raise DataError(f"missing column; columns: {list(frame.columns)}", file=str(path), field=col)
    return frame


def mintrec_label_order(test_tsv: str | os.PathLike, removal_csv: str | os.PathLike,
                        label_column: str | None = None) -> tuple[str, ...]:
    """Class-index -> intent name, read off the rows of ``test.tsv`` and a removal CSV (same order).

    Raises if an index maps to two names (or the other way round) or some index never occurs.
    """
    tsv = pd.read_csv(test_tsv, sep="\t", dtype=str, keep_default_na=False, quoting=3)
    label_column = label_column or ("Label" if "Label" in tsv.columns else "label")
    csv = read_mintrec_frame(Path(removal_csv))
    if len(tsv) != len(csv):
        raise DataError(f"{len(csv)} rows, {test_tsv} has {len(tsv)}", file=str(removal_csv),
                        field="actual_label")
    pairs = pd.DataFrame({"index": csv["actual_label"].astype(int), "name": tsv[label_column]})
    pairs = pairs.drop_duplicates()
    for col in ("index", "name"):
        dup = pairs[pairs[col].duplicated(keep=False)]
        if not dup.empty:
            raise DataError(f"label map is not one-to-one: {dup.to_dict('records')[:4]}",
                            file=str(removal_csv), field="actual_label")
    order = pairs.sort_values("index")
    if order["index"].tolist() != list(range(len(order))):
        raise DataError(f"class indices {order['index'].tolist()} are not 0..{len(order) - 1}",
                        file=str(removal_csv), field="actual_label")
    return tuple(order["name"])


def read_mintrec_removal(path: str | os.PathLike, *, labels: Sequence[str], ids: Sequence[str] | None = None,
                         view: str | None = None, completion: Literal["gold+pred", "onehot"] = "gold+pred",
                         dataset: str | None = None) -> Predictions:
    """A MIntRec Phase-2 CSV (one row per test utterance, ``test.tsv`` order) as Predictions.

    Only the predicted class c and the gold-class probability q are known, so the probability
    vector is *constructed* (``meta["probability_source"]`` says so). ``completion="gold+pred"``:
    if c is the gold class, p[c] = q and the rest 1 − q is spread evenly over the other classes;
    otherwise p[gold] = q and p[c] = 1 − q (the rest is unknown; it goes to the predicted class),
    other classes 0. Both keep argmax = c and p[gold] = q exactly. ``"onehot"``: p[c] = 1. Rows
    with an empty ``true_label_prob`` (the MIntRec2.0 video-only file has no values at all) are
    one-hot on c; ``meta["no_true_label_prob"]`` counts them.
    ``ids`` default to the row position ("0", "1", ...). ``meta["targets"]`` maps id -> gold name.
    """
    path = Path(path)
    file = str(path)
    labels = tuple(labels)
    k = len(labels)
    frame = read_mintrec_frame(path)
    n = len(frame)
    ids = [str(i) for i in range(n)] if ids is None else [str(i) for i in ids]
    if len(ids) != n:
        raise DataError(f"{len(ids)} ids for {n} rows", file=file, field="id")
    if len(set(ids)) != n:
        raise DataError("duplicate ids", file=file, field="id")
    ints = {}
    for col in ("actual_label", "predicted_label"):
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() | (values % 1 != 0) | (values < 0) | (values >= k)
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise DataError(f"unknown label {frame[col].iloc[i]!r}; expected an index 0..{k - 1}", file=file,
                            record=f"line {i + 2}", field=col)
        ints[col] = values.to_numpy(dtype=np.int64)
    blank = (frame["true_label_prob"].str.strip() == "").to_numpy()
    q = pd.to_numeric(frame["true_label_prob"], errors="coerce").to_numpy(dtype=np.float64)
    bad = (np.isnan(q) & ~blank) | (q < 0) | (q > 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"not a probability: {frame['true_label_prob'].iloc[i]!r}", file=file,
                        record=f"line {i + 2}", field="true_label_prob")
    gold, pred = ints["actual_label"], ints["predicted_label"]
    flag = frame["is_correct"].str.strip().str.lower()
    contradicts = ~flag.isin(["true", "false"]).to_numpy() | ((flag == "true").to_numpy() != (gold == pred))
    if contradicts.any():
        i = int(np.argmax(contradicts))
        raise DataError(f"is_correct={frame['is_correct'].iloc[i]!r} contradicts actual/predicted label",
                        file=file, record=f"line {i + 2}", field="is_correct")
    rows = np.arange(n)
    probs = np.zeros((n, k))
    if completion not in ("gold+pred", "onehot"):
        raise DataError(f"unknown completion {completion!r}; use 'gold+pred' or 'onehot'", field="completion")
    known = ~blank if completion == "gold+pred" else np.zeros(n, dtype=bool)
    probs[rows[~known], pred[~known]] = 1.0  # one-hot where the gold probability is unknown
    right, wrong = known & (gold == pred), known & (gold != pred)
    for mask, test, what in ((wrong, q > 0.5, "> 0.5 but was not predicted"),
                             (right, q < 1 / k, f"< 1/{k} but was predicted")):
        hit = mask & test
        if hit.any():
            i = int(np.argmax(hit))
            raise DataError(f"gold class has probability {q[i]} {what}", file=file, record=f"line {i + 2}",
                            field="true_label_prob")
    probs[right] = ((1 - q[right]) / (k - 1))[:, None]
    probs[rows[known], gold[known]] = q[known]
    probs[rows[wrong], pred[wrong]] = 1 - q[wrong]
    meta = {"source": file, "format": "mintrec-removal", "completion": completion,
            "probability_source": f"constructed from predicted_label and true_label_prob ({completion})",
            "no_true_label_prob": int(blank.sum()),
            "targets": {i: labels[g] for i, g in zip(ids, gold, strict=True)}, "n_missing": 0}
    return Predictions(ids, labels, probs, view or mintrec_view(path), "mintrec-removal", dataset, meta)


# -- dispatch -----------------------------------------------------------------------------------
Format = Literal["auto", "table", "mmoe", "mmoe-expert", "mintrec"]


def detect_format(path: str | os.PathLike) -> str:
    """Guess the reader from the suffix and the first record."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "table"
    if suffix == ".jsonl":
        first = next(iter(_iter_jsonl(path)), (0, {}))[1]
        return "mmoe-expert" if isinstance(first.get("logits"), list) and "image_id" in first else "table"
    if suffix == ".csv":
        try:
            with open(path, encoding="utf-8") as handle:
                header = handle.readline()
        except UnicodeDecodeError as err:
            raise DataError(f"not valid UTF-8 at byte {err.start}; re-save the file as UTF-8", file=str(path),
                            record="line 1") from None
        return "mintrec" if "true_label_prob" in header else "table"
    if suffix == ".json":
        data = load_json_strict(path)
        if isinstance(data, dict) and {"ids", "probs"} <= set(data):
            return "table"
        return "mmoe"
    raise DataError(f"cannot tell the format of {suffix!r} files", file=str(path))


#: format name -> reader (:class:`interlens.registry.Registry`); a new format is a reader added here (and a
#: rule in :func:`detect_format` if it can be recognised)
FORMATS: Registry[Callable[..., Predictions]] = Registry("prediction format", entries={
    "table": read_prob_table, "mmoe": read_mmoe_unimodal, "mmoe-expert": read_expert_logits,
    "mintrec": read_mintrec_removal})


def read_predictions(path: str | os.PathLike, *, format: Format = "auto", **kwargs: Any) -> Predictions:
    """Read any supported file; ``format="auto"`` uses :func:`detect_format`."""
    path = check_file_path(path, "predictions file")
    fmt = detect_format(path) if format == "auto" else format
    if fmt not in FORMATS:
        raise DataError(f"unknown format {fmt!r}; known: {sorted(FORMATS)}", file=str(path), field="format")
    return FORMATS[fmt](path, **kwargs)


#: formats whose classes are numbered, not named: class index k is read as the dataset's label k
INDEX_FORMATS = ("mmoe", "mmoe-expert", "mintrec")
#: formats whose rows are matched to samples by position (ids must be given or the row count must match)
ROW_ORDER_FORMATS = ("mintrec",)


__all__ = ["FORMATS", "INDEX_FORMATS", "ROW_ORDER_FORMATS", "SENTINEL", "Format", "detect_format", "load_json_strict",
           "mintrec_label_order", "mintrec_view", "read_expert_logits", "read_mintrec_frame", "read_mintrec_removal",
           "read_mmoe_unimodal", "read_predictions", "read_prob_table"]
