"""Tiny readers for the MMoE authors' stored expert outputs (``shared/data/mmoe_rus``, see its SOURCE.md).

- ``mustard_data/expert_inference_output/<model>/mustard_{R,U,AS,baseline}_logits.jsonl``: one line
  per MUStARD test clip, ``{"image_id", "pred", "target", "logits": [l0, l1], ...}``;
- ``expert_fusion/test_rus_logits.json``: ``{clip_id: [r, u, s]}`` router scores (logits);
- ``mustard_data/data_split_output/mustard_{R,U,AS}_dataset_{train,test}.json``: each clip's category.

``logits[k]`` is read as the score of label ``k`` (0 = not sarcastic, 1 = sarcastic), exactly as the
authors' fusion code does (``np.argmax(logits)`` is the predicted label). In the Qwen2-7B files the
stored ``pred`` field is ``1 - argmax(logits)`` on every line; we keep the logits and report the
disagreement (:func:`read_expert_jsonl` returns the stored ``pred`` too).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..io import read_json
from .fusion import FusionInputs, category_prior, normalise_router

#: Expert subdirectories under ``mustard_data/expert_inference_output``.
AUTHOR_MODELS = {"albef": "expert_albef", "qwen2-7b": "expert_qwen/7"}


class AuthorsModel(StrEnum):
    """The model families whose expert logits the authors released (keys of :data:`AUTHOR_MODELS`)."""

    ALBEF = "albef"
    QWEN2_7B = "qwen2-7b"


#: The authors' file tags -> interlens expert names (their "AS" is synergy).
AUTHOR_TAGS = {"R": "R", "U": "U", "AS": "S", "baseline": "baseline"}


@dataclass
class ExpertFile:
    ids: list[str]
    logits: np.ndarray
    target: np.ndarray
    pred: np.ndarray
    source: str


def read_expert_jsonl(path: str | Path) -> ExpertFile:
    """Read one authors' ``*_logits.jsonl`` file; bad lines raise a DataError naming file and line."""
    path = Path(path)
    if path.is_dir():
        raise DataError("is a folder; expected an expert-logits JSONL file", file=str(path))
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    ids, logits, target, pred = [], [], [], []
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                _check_line(row, str(path), lineno)
                ids.append(str(row["image_id"]))
                logits.append([float(v) for v in row["logits"]])
                target.append(int(row["target"]))
                pred.append(int(row.get("pred", -1)))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
                what = f"missing key {err}" if isinstance(err, KeyError) else f"{type(err).__name__}: {err}"
                raise DataError(f"not a valid expert-logits line ({what})", file=str(path), record=lineno) from None
    if len(set(ids)) != len(ids):
        raise DataError("duplicate image_id", file=str(path), field="image_id")
    if len({len(r) for r in logits}) > 1:
        raise DataError("lines have different numbers of logits", file=str(path), field="logits")
    return ExpertFile(ids, np.asarray(logits, dtype=np.float64), np.asarray(target), np.asarray(pred),
                      str(path))


def _check_line(row: object, file: str, lineno: int) -> None:
    """Types of one expert-logits line: ``True`` is not the label 1 nor a logit (issue 30)."""
    if not isinstance(row, dict):
        raise DataError("not a JSON object", file=file, record=lineno)
    for name in ("target", "pred"):
        value = row.get(name)
        if name in row and (isinstance(value, bool) or not isinstance(value, int)):
            raise DataError(f"a class index is an integer, got {value!r}", file=file, record=lineno, field=name)
    values = row.get("logits")
    if isinstance(values, list) and not all(isinstance(v, int | float) and not isinstance(v, bool)
                                            and np.isfinite(v) for v in values):
        raise DataError(f"logits must be finite numbers, got {values!r}", file=file, record=lineno, field="logits")


def agreed_targets(files: dict[str, ExpertFile], ids: list[str]) -> np.ndarray:
    """The gold class of each id in ``ids``, the same in every file; files whose targets conflict for an id
    are refused in one line naming both files and the id (issue 30: never fused with one file's gold)."""
    first_name, first = next(iter(files.items()))
    gold = {i: int(t) for i, t in zip(first.ids, first.target, strict=True)}
    for f in files.values():
        for i, t in zip(f.ids, f.target, strict=True):
            if i in gold and int(t) != gold[i]:
                raise DataError(f"gold label (target) {int(t)} conflicts with {gold[i]} in {first.source}",
                                file=f.source, record=f"image_id {i}", field="target")
    return np.asarray([gold[i] for i in ids])


def read_split_categories(root: str | Path, split: str = "test") -> dict[str, str]:
    """``{clip_id: "R" | "U" | "S"}`` from the authors' ``mustard_{R,U,AS}_dataset_<split>.json``."""
    base = Path(root) / "mustard_data" / "data_split_output"
    out: dict[str, str] = {}
    for tag in ("R", "U", "AS"):
        path = base / f"mustard_{tag}_dataset_{split}.json"
        for clip in read_json(path):
            if clip in out:
                raise DataError(f"clip {clip!r} is in two category files", file=str(path), record=clip)
            out[str(clip)] = AUTHOR_TAGS[tag]
    return out


@dataclass
class AuthorsFusionData:
    """The authors' MUStARD test outputs of one model family as fusion inputs, plus bookkeeping."""

    inputs: FusionInputs
    y_true: np.ndarray
    router_missing: list[str]
    stored_pred_agreement: dict[str, float]
    prior_counts: dict[str, int]


def load_authors_fusion(root: str | Path, model: str = "albef", *,
                        with_router: bool = True) -> AuthorsFusionData:
    """Fusion inputs for ``model`` (``"albef"`` or ``"qwen2-7b"``) from ``root`` = ``.../mmoe_rus``.

    Router scores are softmax-normalised over (R, U, S). Clips absent from the router file are
    counted in ``router_missing``; if any is missing, router strategies are left out (no guessing).
    The prior = each category's share among the authors' *training* split files.
    """
    if model not in AUTHOR_MODELS:
        raise DataError(f"unknown authors' model {model!r}; known: {sorted(AUTHOR_MODELS)}", field="model")
    root = Path(root)
    folder = root / "mustard_data" / "expert_inference_output" / AUTHOR_MODELS[model]
    files = {AUTHOR_TAGS[tag]: read_expert_jsonl(folder / f"mustard_{tag}_logits.jsonl")
             for tag in ("R", "U", "AS", "baseline")}
    ids = files["baseline"].ids
    for f in files.values():
        if set(f.ids) != set(ids):
            raise DataError(f"clip ids differ from the baseline file ({len(set(f.ids) ^ set(ids))} differ)",
                            file=f.source, field="image_id")
    order = {name: {clip: i for i, clip in enumerate(f.ids)} for name, f in files.items()}
    models = ("R", "U", "S", "baseline")
    logits = np.stack([files[m].logits[[order[m][c] for c in ids]] for m in models], axis=1)
    y = files["baseline"].target
    for name, f in files.items():
        if not np.array_equal(f.target[[order[name][c] for c in ids]], y):
            raise DataError("targets disagree with the baseline file", file=f.source, field="target")
    agreement = {m: float((files[m].pred == files[m].logits.argmax(axis=1)).mean()) for m in models}

    categories = read_split_categories(root, "test")
    missing_cat = [c for c in ids if c not in categories]
    if missing_cat:
        raise DataError(f"{len(missing_cat)} test clips have no category, e.g. {missing_cat[:3]}",
                        file=str(root / "mustard_data" / "data_split_output"))
    train_cats = list(read_split_categories(root, "train").values())
    experts = ("R", "U", "S")
    prior = category_prior(train_cats, experts)

    router, router_missing = None, []
    if with_router:
        scores = read_json(root / "expert_fusion" / "test_rus_logits.json")
        router_missing = [c for c in ids if c not in scores]
        if not router_missing:
            router = normalise_router(np.asarray([scores[c] for c in ids], dtype=np.float64))
    inputs = FusionInputs(logits=logits, models=models, experts=experts, router=router, prior=prior,
                          categories=np.asarray([categories[c] for c in ids], dtype=object), ids=tuple(ids),
                          meta={"model": model, "source": str(folder)})
    return AuthorsFusionData(inputs, y, router_missing, agreement,
                             {e: int(sum(c == e for c in train_cats)) for e in experts})
