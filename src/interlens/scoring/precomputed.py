"""The look-up scorer of predictions that already exist on disk (registered ``"precomputed"``).

:class:`PrecomputedScorer` serves prediction files, one per view, through the Scorer contract; rows are matched
by sample id and columns by label name. The readers of the file formats (our tables, the MMoE / MIntRec authors'
files) live in :mod:`interlens.data.prediction_formats` (issue 29, item 5) and are re-exported here, so
``from interlens.scoring.precomputed import read_mmoe_unimodal`` keeps working.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..data.prediction_formats import (  # noqa: F401 - the readers' old import path (re-exported)
    INDEX_FORMATS,
    ROW_ORDER_FORMATS,
    SENTINEL,
    Format,
    detect_format,
    load_json_strict,
    mintrec_label_order,
    mintrec_view,
    read_expert_logits,
    read_mintrec_frame,
    read_mintrec_removal,
    read_mmoe_unimodal,
    read_predictions,
    read_prob_table,
)
from ..data.schema import KINDS, Dataset
from ..errors import DataError
from ..predictions import Predictions, check_same_ids
from ..views import View
from .base import Capability, Scorer, fingerprint_of
from .registry import register_scorer


# -- the scorer ---------------------------------------------------------------------------------
def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        raise DataError("file not found", file=str(path)) from None
    return digest.hexdigest()


@register_scorer("precomputed")
class PrecomputedScorer(Scorer):
    """Serve predictions read from files, one file (or ready :class:`Predictions`) per view.

    ``files`` maps a view string (``"text"``, ``"image"``, ``"text+image"``) to a path or a
    Predictions; from the CLI: ``-s files='{"text": "t.json", "image": "i.json"}'``. The views with
    a file are exactly :meth:`supported_views` (their modalities may be absent from the dataset: the
    dataset only supplies ids and labels). ``format``/``reader_kwargs`` go to :func:`read_predictions`
    (``view`` is passed for you). Rows are matched by sample id and columns by label NAME
    (issue 10 scope 8): ``label_map`` renames file labels to the dataset's, other names are refused.
    ``index_labels``: in an index format (MMoE JSON, expert JSONL, MIntRec CSV) class index k is the
    dataset's label k (the authors' convention); a MIntRec CSV's ``actual_label`` is then checked
    against the gold labels. ``allow_missing``: dataset ids absent from a file become all-NaN rows.
    Nothing is learned: ``fit`` returns ``self``; ``logits`` are log-probabilities. The fingerprint
    hashes the view names, file paths and file contents.
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    modality_kinds: ClassVar[frozenset[str]] = frozenset(KINDS)

    def __init__(self, files: Mapping[str, str | os.PathLike | Predictions] | None = None, format: Format = "auto",
                 reader_kwargs: Mapping[str, Any] | None = None, label_map: Mapping[str, str] | None = None,
                 allow_missing: bool = False, index_labels: bool = False) -> None:
        if files is not None and not isinstance(files, Mapping):
            raise DataError(f"files must map a view to a prediction file, e.g. -s files='{{\"text\": \"t.json\"}}'; "
                            f"got {files!r}", field="files")
        if label_map is not None and not isinstance(label_map, Mapping):
            raise DataError(f"label_map must map file labels to dataset labels, e.g. "
                            f"-s label_map='{{\"yes\": \"sarcastic\"}}'; got {label_map!r}", field="label_map")
        if reader_kwargs is not None and not isinstance(reader_kwargs, Mapping):
            raise DataError(f"reader_kwargs must be a mapping, got {reader_kwargs!r}", field="reader_kwargs")
        self.files = dict(files or {})
        self.format = format
        self.reader_kwargs = dict(reader_kwargs or {})
        self.label_map = dict(label_map or {})
        self.allow_missing = allow_missing
        self.index_labels = index_labels

    # -- views ------------------------------------------------------------------------------------
    def _views(self) -> dict[str, str | os.PathLike | Predictions]:
        return {str(View.parse(view)): source for view, source in self.files.items()}

    def supported_views(self, dataset: Dataset) -> list[View]:
        """Exactly the views that have a prediction file."""
        return [View.parse(v) for v in self._views()]

    def usable_modalities(self, dataset: Dataset) -> list[str]:
        """The modalities of the unimodal views that have a file (in ``files`` order)."""
        return [v for v in self._views() if "+" not in v and "|" not in v]

    def default_view(self, dataset: Dataset) -> str:
        views = list(self._views())
        if not views:
            raise self._no_file_error(dataset, None)
        return max(views, key=lambda v: len(View.parse(v).modalities))

    def _no_file_error(self, dataset: Dataset | None, view: View | None) -> DataError:
        have = sorted(self._views())
        what = f"cannot honour view {view}: no prediction file for it" if view is not None else "has no files"
        return DataError(f"scorer {self.name!r} {what}; supported views: {have or 'none'} "
                         "(give one file per view: -s files='{\"VIEW\": \"FILE\"}')",
                         file=dataset.source if dataset is not None else None, field="view")

    def _key(self, view: View | str) -> str | None:
        """The ``files`` key serving ``view``: the same string, else the same modalities in another order."""
        parsed = View.parse(view)
        views = self._views()
        if str(parsed) in views:
            return str(parsed)
        same = [k for k in views if sorted(View.parse(k).modalities) == sorted(parsed.modalities)
                and View.parse(k).transforms == parsed.transforms]
        return same[0] if same else None

    def check_view(self, dataset: Dataset, view: View | str) -> View:
        """``view`` if a file serves it (modality order aside), else refused (one line, the supported views named)."""
        parsed = View.parse(view)
        if self._key(parsed) is None:
            raise self._no_file_error(dataset, parsed)
        return parsed

    # -- fingerprint --------------------------------------------------------------------------------
    def _content_parts(self) -> list[list[str]]:
        if getattr(self, "_content", None) is None:
            parts = []
            for view, source in sorted(self._views().items()):
                if isinstance(source, Predictions):
                    content = hashlib.sha256(json.dumps([source.ids, list(source.labels)]).encode()
                                             + np.ascontiguousarray(source.probs).tobytes()).hexdigest()
                    parts.append([view, "<in-memory>", content])
                else:
                    path = Path(source)
                    parts.append([view, str(path.resolve()), _file_hash(path)])
            self._content = parts
        return self._content

    @property
    def fingerprint(self) -> str:
        """View names, file paths and contents, reader options, and ``history_``."""
        return fingerprint_of(self.name, self._content_parts(), self.format, self.reader_kwargs, self.label_map,
                              self.allow_missing, self.index_labels, getattr(self, "history_", []))

    # -- the contract -------------------------------------------------------------------------------
    def fit(self, train: Dataset | None = None, views: Sequence[View | str] | View | str | None = None, *,
            val: Dataset | None = None) -> PrecomputedScorer:
        """Nothing to learn: records the views asked for (so ``is_fitted``) and returns ``self``."""
        wanted = list(self._views()) if views is None else [views] if isinstance(views, str | View) else list(views)
        if train is not None:
            wanted = [str(self.check_view(train, v)) for v in wanted]
        self.history_ = [{"fit": "nothing to learn (precomputed)", "views": [str(v) for v in wanted]}]
        return self

    def _read_kwargs(self, key: str, fmt: str, dataset: Dataset | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"view": key, **self.reader_kwargs}
        if dataset is not None and fmt in INDEX_FORMATS and self.index_labels and "labels" not in kwargs:
            if fmt == "mmoe" and len(dataset.labels) != len(kwargs.get("tokens", ("No", "Yes"))):
                raise DataError(f"an MMoE file has {len(kwargs.get('tokens', ('No', 'Yes')))} label tokens; "
                                f"dataset {dataset.name!r} has labels {list(dataset.labels)} (pass label_map)",
                                file=str(self._views()[key]), field="labels")
            kwargs["labels"] = dataset.labels
        if fmt == "mintrec":
            if "labels" not in kwargs:
                raise DataError("a MIntRec removal CSV numbers its classes: pass index_labels=true (class k = "
                                "dataset label k) or reader_kwargs labels", file=str(self._views()[key]),
                                field="labels")
            if "ids" not in kwargs and dataset is not None:
                kwargs["ids"] = dataset.ids  # row order: checked against the gold labels below
        return kwargs

    def load(self, view: View | str, dataset: Dataset | None = None) -> Predictions:
        """The file's predictions for ``view`` as read (validated; cached per view)."""
        key = self._key(view)
        if key is None:
            raise self._no_file_error(dataset, View.parse(view))
        source = self._views()[key]
        if isinstance(source, Predictions):
            return source.check_probs()
        fmt = detect_format(source) if self.format == "auto" else self.format
        kwargs = self._read_kwargs(key, fmt, dataset)
        cache_key = (key, tuple(kwargs["ids"]) if fmt in ROW_ORDER_FORMATS and "ids" in kwargs else None)
        cache = self.__dict__.setdefault("_loaded", {})
        if cache_key not in cache:
            if fmt in ROW_ORDER_FORMATS and "ids" not in self.reader_kwargs and dataset is not None:
                rows = len(read_mintrec_frame(Path(source)))
                if rows != len(dataset):
                    raise DataError(f"row-order file has {rows} rows, dataset {dataset.name!r} has {len(dataset)} "
                                    "samples: pass reader_kwargs ids (one per row)", file=str(source), field="id")
            cache[cache_key] = read_predictions(source, format=fmt, **kwargs).check_probs()  # type: ignore[arg-type]
        return cache[cache_key]

    def check_ids(self) -> None:
        """Raise a DataError naming the file whose id set differs from the first registered view's."""
        check_same_ids(*(self.load(v) for v in self._views()))

    def predict_proba(self, dataset: Dataset, view: View | str) -> Predictions:
        """Predictions for ``dataset.ids`` (by id) with columns in ``dataset.labels`` order (by name)."""
        view = self.check_view(dataset, view)
        pred = self.load(view, dataset)
        source = pred.meta.get("source")
        aligned = pred.align_to(dataset.ids, dataset.labels, allow_missing=self.allow_missing,
                                label_map=self.label_map)
        _check_targets(pred, dataset)
        meta = {"scorer_name": self.name, "source": source, "n_missing": int((~aligned.has_prediction).sum())}
        return Predictions(dataset.ids, dataset.labels, aligned.probs, str(view), self.fingerprint,
                           dataset.fingerprint(), meta)

    def logits(self, dataset: Dataset, view: View | str) -> np.ndarray:
        """Log-probabilities (softmax of them gives :meth:`predict_proba` back; NaN rows stay NaN)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(dataset, view).probs)


def _check_targets(pred: Predictions, dataset: Dataset) -> None:
    """A file that carries gold labels (MIntRec ``actual_label``, expert ``target``) must agree with the
    dataset's labels for every shared id: a shuffled row-order file is refused, not used."""
    targets = pred.meta.get("targets")
    if not targets:
        return
    for sample in dataset:
        gold = targets.get(sample.id)
        if gold is not None and sample.label is not None and gold != sample.label:
            raise DataError(f"the file's gold label {gold!r} differs from the dataset's {sample.label!r}: rows are "
                            "out of order or the label order differs", file=pred.meta.get("source"),
                            record=f"id {sample.id}", field="label")


__all__ = ["INDEX_FORMATS", "PrecomputedScorer", "check_same_ids", "detect_format", "load_json_strict",
           "mintrec_label_order", "mintrec_view", "read_expert_logits", "read_mintrec_removal", "read_mmoe_unimodal",
           "read_predictions", "read_prob_table"]
