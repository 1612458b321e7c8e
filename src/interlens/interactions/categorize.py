"""Per-sample interaction categories from two unimodal predictions and a reference label.

MMoE (Yu et al.), Appendix F.3, Algorithm 1 "Multimodal Categorization"::

    if y1 == y2 and y1 == y:  R
    elif y1 == y2:            S      (agree, both wrong)
    elif y1 == y or y2 == y:  U
    else:                     S      (disagree, both wrong -- only possible for k > 2 classes)

:func:`categorize` is that algorithm for any number of classes, with U split by which modality
is right (U1 = modality 1 correct). :func:`categorize_mmoe_code` is the authors' released code,
which is binary-minded (it calls every disagreement U). Everything is vectorised numpy.

Missing predictions (``-1`` / ``None`` / NaN in any of the three inputs) get the category
``"missing"``; they are never dropped silently -- :func:`category_counts` reports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError

R, U1, U2, S, MISSING = "R", "U1", "U2", "S", "missing"
#: Categories :func:`categorize` can return, in report order.
CATEGORIES: tuple[str, ...] = (R, U1, U2, S, MISSING)
#: Categories of the MMoE authors' code and split files (``mustard_{R,U,AS}_dataset_*.json``).
MMOE_GROUPS: tuple[str, ...] = ("R", "U", "AS", MISSING)
_OUT_DTYPE = "<U8"  # fits "missing" and "filtered"
_TABLE = np.array([S, U2, U1, R, MISSING], dtype=_OUT_DTYPE)  # indexed by 2*eq1 + eq2, 4 = missing


def _as_labels(values: Any, name: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Return ``(array, missing_mask, kind)``; kind is ``"num"``, ``"str"`` or ``"any"`` (all missing).

    Missing: ``None``/NaN anywhere, ``-1`` in numeric labels. Mixed int/str labels raise.
    """
    arr = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    if arr.ndim != 1:
        raise DataError(f"labels must be one-dimensional, got shape {arr.shape}", field=name)
    kind_char = arr.dtype.kind
    if kind_char == "O":
        missing = np.asarray(pd.isna(arr), dtype=bool)
        inferred = pd.api.types.infer_dtype(arr, skipna=True)
        if inferred == "empty":
            return np.full(arr.shape, -1, dtype=np.int64), np.ones(arr.shape, dtype=bool), "any"
        if inferred in ("integer", "boolean"):
            full = np.where(missing, -1, arr).astype(np.int64)
            return full, missing | (full == -1), "num"
        if inferred == "string":
            full = np.where(missing, "", arr).astype(str)
            return full, missing, "str"
        if inferred in ("floating", "mixed-integer-float"):
            arr, kind_char = np.where(missing, np.nan, arr).astype(np.float64), "f"
        else:
            raise DataError(f"labels mix types ({inferred}); use one label type (int or str)", field=name)
    if kind_char in "iub":
        arr = arr.astype(np.int64, copy=False)
        return arr, arr == -1, "num"
    if kind_char == "f":
        missing = np.isnan(arr) | (arr == -1)
        whole = np.where(missing, 0.0, arr)
        if np.any(whole != np.round(whole)):
            raise DataError("float labels must be whole numbers (class indices)", field=name)
        out = np.where(missing, -1, whole).astype(np.int64)
        return out, missing, "num"
    if kind_char in "US":
        return arr, np.zeros(arr.shape, dtype=bool), "str"
    raise DataError(f"unsupported label dtype {arr.dtype}", field=name)


def missing_mask(values: Any) -> np.ndarray:
    """True where a label is missing (``None``, NaN, or ``-1`` for integer labels)."""
    return _as_labels(values, "labels")[1]


def _prepare(y1: Any, y2: Any, y_ref: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validated ``(y1, y2, y_ref, missing)``; the three label arrays share one type."""
    a, ma, ka = _as_labels(y1, "y1")
    b, mb, kb = _as_labels(y2, "y2")
    r, mr, kr = _as_labels(y_ref, "y_ref")
    if not (len(a) == len(b) == len(r)):
        raise DataError(f"length mismatch: y1 {len(a)}, y2 {len(b)}, y_ref {len(r)}", field="y1")
    kinds = {"y1": ka, "y2": kb, "y_ref": kr}
    real = {k for k in kinds.values() if k != "any"}
    if len(real) > 1:
        raise DataError(f"label types differ (int vs str): {kinds}; compare like with like", field="y1")
    if "str" in real:  # an all-missing input was read as ints: give it the string type
        a, b, r = (x.astype(str) if k == "any" else x for x, k in ((a, ka), (b, kb), (r, kr)))
    return a, b, r, ma | mb | mr


def _from_predictions(values: Sequence[Any], ids: Sequence[str] | None,
                      labels: Sequence[str] | None) -> list[Any]:
    """Predictions -> predicted class (aligned by sample id and label name, MMoE Alg. 1 input).

    A Predictions becomes its argmax index in the aligned label order (-1 = no prediction), or the
    label *name* when another input is given as label names. Other inputs are left as they are.
    """
    from ..predictions import Predictions
    from .score import align_inputs

    if not any(isinstance(v, Predictions) for v in values):
        return list(values)
    is_pred = [isinstance(v, Predictions) for v in values]
    aligned, _, labels = align_inputs(values, ids=ids, labels=labels)
    names = any(not p and _as_labels(v, "y")[2] == "str" for v, p in zip(values, is_pred, strict=True))
    out: list[Any] = []
    for value, pred in zip(aligned, is_pred, strict=True):
        if not pred:
            out.append(value)
            continue
        nan = np.isnan(value).all(axis=1)
        idx = np.where(nan, -1, np.argmax(np.where(np.isnan(value), -np.inf, value), axis=1))
        out.append(np.array([labels[k] if k >= 0 else None for k in idx], dtype=object) if names else idx)
    return out


def categorize(y1: Any, y2: Any, y_ref: Any, *, ids: Sequence[str] | None = None,
               labels: Sequence[str] | None = None) -> np.ndarray:
    """MMoE Algorithm 1 (App. F.3) for k classes: ``"R"``, ``"U1"``, ``"U2"``, ``"S"`` or ``"missing"``.

    ``y1``/``y2``: modality-1/2 predictions; ``y_ref``: the reference (gold, or a multimodal
    model's prediction). R: both equal the reference; U1 (U2): only modality 1 (2) does; S: neither
    (agreeing or not). Labels may be ints (``-1`` = missing) or strings (``None`` = missing), or
    :class:`~interlens.predictions.Predictions`, aligned by sample id (``ids``, default the first
    one's) and label name (``labels``, default the first one's); plain arrays must follow that order.
    """
    y1, y2, y_ref = _from_predictions([y1, y2, y_ref], ids, labels)
    a, b, r, missing = _prepare(y1, y2, y_ref)
    code = 2 * (a == r).view(np.uint8) + (b == r).view(np.uint8)  # 3 R, 2 U1, 1 U2, 0 S
    code[missing] = 4
    return _TABLE[code]


def categorize_mmoe_code(y1: Any, y2: Any, y_ref: Any, *, ids: Sequence[str] | None = None,
                         labels: Sequence[str] | None = None) -> np.ndarray:
    """The MMoE authors' released categoriser: ``"R"``, ``"U"``, ``"AS"`` or ``"missing"``.

    Mapping: R = the two predictions agree and equal the reference; AS ("synergy data") = they
    agree and are wrong; U = they disagree. For 2 classes this equals ``to_mmoe_groups(categorize(...))``.
    For k > 2 it differs from Algorithm 1: a disagreement where *both* are wrong is U here but S
    in the paper. (The authors skip missing samples; here they are labelled ``"missing"``.)
    Predictions inputs are aligned as in :func:`categorize`.
    """
    y1, y2, y_ref = _from_predictions([y1, y2, y_ref], ids, labels)
    a, b, r, missing = _prepare(y1, y2, y_ref)
    eq1, agree = a == r, a == b
    out = np.full(eq1.shape, "U", dtype=_OUT_DTYPE)
    out[agree & eq1] = "R"
    out[agree & ~eq1] = "AS"
    out[missing] = MISSING
    return out


def to_mmoe_groups(categories: Sequence[str] | np.ndarray) -> np.ndarray:
    """Map our categories to the MMoE split names: R->R, U1/U2->U, S->AS (``missing``/``filtered`` kept)."""
    cats = np.asarray(categories)
    out = cats.astype(_OUT_DTYPE, copy=True)
    out[(cats == U1) | (cats == U2)] = "U"
    out[cats == S] = "AS"
    known = np.isin(cats, (*CATEGORIES, "filtered"))
    if not known.all():
        raise DataError(f"unknown category {str(cats[~known][0])!r}; expected one of {list(CATEGORIES)}",
                        field="category")
    return out


def category_counts(categories: Sequence[str] | np.ndarray,
                    order: Sequence[str] | None = None) -> dict[str, int]:
    """Counts per category (every category of ``order`` present, zeros included; default: ours)."""
    values, counts = np.unique(np.asarray(categories), return_counts=True)
    found = {str(v): int(c) for v, c in zip(values, counts, strict=True)}
    order = list(order) if order is not None else list(CATEGORIES)
    result = {name: found.pop(name, 0) for name in order}
    result.update(found)
    return result
