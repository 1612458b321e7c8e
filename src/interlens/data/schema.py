"""The data model: Sample and Dataset (see docs/DESIGN.md).

A ``Dataset`` holds samples whose ``inputs`` map a modality name (``"text"``, ``"context"``,
``"image"``, ...) to a value, an ordered label set, and named splits (lists of sample ids).
It validates itself on construction, so every later step can trust it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError

if TYPE_CHECKING:
    import pandas as pd

#: ``repr(Dataset)`` shows at most this many labels / modalities / splits and this many characters
REPR_ITEMS, REPR_MAX = 12, 990
#: the columns of ``Dataset.to_pandas`` besides one per modality
FIXED_COLUMNS = ("id", "label", "group", "split")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Sample:
    """One multimodal example. ``inputs`` maps modality name to value; ``group`` is the speaker or
    dialogue used for leak-free splits; ``meta`` holds anything else (ground truth, source row, ...)."""

    id: str
    inputs: dict[str, Any]
    label: str | None = None
    group: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


#: modality kinds: methods pick modalities by kind, never by name (DESIGN.md "Datasets")
KINDS = ("text", "image", "audio", "video", "features")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".m4a")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")


def infer_kind(value: Any) -> str:
    """The kind a modality value looks like: a path by suffix, an array by shape, a list of turns
    (strings that are not image paths) is text, a list of numbers is features, a list of frame paths
    or arrays is video."""
    if isinstance(value, str):
        low = value.strip().lower()
        if low.endswith(IMAGE_SUFFIXES):
            return "image"
        if low.endswith(AUDIO_SUFFIXES):
            return "audio"
        if low.endswith(VIDEO_SUFFIXES):
            return "video"
        return "text"
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, str) for v in value):
            return "video" if all(v.strip().lower().endswith(IMAGE_SUFFIXES) for v in value) else "text"
        if value and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            return "features"  # a vector of numbers (e.g. a JSON list in JSONL)
        return "video" if value else "text"
    if isinstance(value, np.ndarray):
        return "features" if value.ndim == 1 else "image"
    if hasattr(value, "size") and hasattr(value, "mode"):  # PIL image
        return "image"
    return "features"


def text_of(value: Any) -> str:
    """A text modality value as one string: a list of dialogue turns is joined in order, one per line."""
    if isinstance(value, list | tuple):
        return "\n".join(str(v) for v in value)
    return "" if value is None else str(value)


def _canonical(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"__array__": hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest(),
                "shape": list(value.shape), "dtype": str(value.dtype)}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


#: what :meth:`Dataset.from_pandas` / :meth:`Dataset.from_hf` call: :func:`interlens.data.frames.from_pandas` /
#: ``from_hf``, put here by the ``interlens.data`` package when it is imported (always before a Dataset exists).
#: frames builds Datasets, so it sits above this module, which does not import it back (issue 29: no cycles).
TABLE_BUILDERS: dict[str, Callable[..., Dataset]] = {}


@dataclass
class Dataset:
    """An ordered label set, samples and splits, with a content fingerprint.

    ``splits`` maps a split name to sample ids. ``source`` names the file(s) the data came from so
    errors can point at them.
    """

    name: str
    labels: tuple[str, ...]
    samples: list[Sample]
    modalities: tuple[str, ...]
    splits: dict[str, list[str]] = field(default_factory=dict)
    task: str = "classification"
    dimension: str | None = None
    source: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.labels = tuple(str(label) for label in self.labels)
        self.modalities = tuple(self.modalities)
        self._validate()
        self.kinds = self._resolve_kinds(dict(self.kinds or {}))

    def _resolve_kinds(self, given: dict[str, str]) -> dict[str, str]:
        """Declared kinds, checked; undeclared ones inferred from the first sample's value."""
        out = {}
        for m in self.modalities:
            kind = given.get(m) or (infer_kind(self.samples[0].inputs[m]) if self.samples else "text")
            if kind not in KINDS:
                raise DataError(f"unknown kind {kind!r} for modality {m!r}; kinds: {list(KINDS)}",
                                file=self.source, field=m)
            out[m] = kind
        return out

    def kind(self, modality: str) -> str:
        """The declared kind of ``modality`` (text, image, audio, video, features)."""
        if modality not in self.kinds:
            raise DataError(f"no modality {modality!r}; the dataset has {list(self.modalities)}",
                            file=self.source, field="modality")
        return self.kinds[modality]

    def modalities_of_kind(self, *kinds: str) -> list[str]:
        """Modalities whose kind is one of ``kinds``, in dataset order."""
        return [m for m in self.modalities if self.kinds[m] in kinds]

    def text(self, sample: Sample, modality: str) -> str:
        """A text modality's value of ``sample`` as one string (dialogue turns joined in order)."""
        return text_of(sample.inputs.get(modality))

    # -- in-memory tables (data/frames.py: the column mapping of dataset files) ----------------------------
    @classmethod
    def from_pandas(cls, frame: Any, **mapping: Any) -> Dataset:
        """A Dataset from a pandas DataFrame: ``Dataset.from_pandas(df, id="id", label="label",
        modalities={"utterance": "text", "photo": {"column": "image", "kind": "image"}}, split="split")``."""
        return TABLE_BUILDERS["pandas"](frame, **mapping)

    @classmethod
    def from_hf(cls, data: Any, **mapping: Any) -> Dataset:
        """A Dataset from a Hugging Face ``datasets.Dataset`` / ``DatasetDict`` (same mapping as ``from_pandas``)."""
        return TABLE_BUILDERS["hf"](data, **mapping)

    # -- validation -------------------------------------------------------------------------
    def _validate(self) -> None:
        if len(set(self.labels)) != len(self.labels):
            raise DataError(f"label set has duplicates: {list(self.labels)}", file=self.source)
        label_set = set(self.labels)
        seen: dict[str, int] = {}
        for position, sample in enumerate(self.samples):
            record = f"{position} (id {sample.id!r})"
            if sample.id in seen:
                raise DataError(f"duplicate id {sample.id!r} (first at record {seen[sample.id]})",
                                file=self.source, record=position, field="id")
            seen[sample.id] = position
            if sample.label is not None and sample.label not in label_set:
                raise DataError(f"unknown label {sample.label!r}; expected one of {list(self.labels)}",
                                file=self.source, record=record, field="label")
            for modality in self.modalities:
                value = sample.inputs.get(modality)
                if value is None or (isinstance(value, str) and not value.strip()):
                    raise DataError(f"missing modality {modality!r}", file=self.source, record=record,
                                    field=modality)
        for split, ids in self.splits.items():
            if not ids:
                raise DataError(f"split {split!r} is empty", file=self.source, field="split")
            unknown = [i for i in ids if i not in seen]
            if unknown:
                raise DataError(f"split {split!r} names {len(unknown)} unknown ids, e.g. {unknown[:3]}",
                                file=self.source, field="split")
        self._index = seen

    # -- access -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.samples)

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)

    def __getitem__(self, key: str | int) -> Sample:
        """The sample with id ``key`` (a string), or at position ``key`` (an int, as in a list)."""
        if isinstance(key, int | np.integer) and not isinstance(key, bool):
            return self.samples[int(key)]
        return self.samples[self._index[key]]

    def __repr__(self) -> str:
        """A short summary (issue 28): name, size, labels, modalities with their kinds, split sizes; never the
        samples, and never longer than :data:`REPR_MAX` characters whatever the dataset holds."""
        labels = ", ".join(_short(repr(label), 24) for label in self.labels[:REPR_ITEMS])
        if len(self.labels) > REPR_ITEMS:
            labels += f", ... +{len(self.labels) - REPR_ITEMS} more"
        mods = ", ".join(f"{_short(m, 24)}: {self.kinds.get(m, '?')}" for m in self.modalities[:REPR_ITEMS])
        if len(self.modalities) > REPR_ITEMS:
            mods += f", ... +{len(self.modalities) - REPR_ITEMS} more"
        splits = ", ".join(f"{_short(k, 16)}: {len(v)}" for k, v in list(self.splits.items())[:REPR_ITEMS])
        if len(self.splits) > REPR_ITEMS:
            splits += f", ... +{len(self.splits) - REPR_ITEMS} more"
        text = (f"Dataset(name={_short(repr(self.name), 80)}, n={len(self.samples)}, "
                f"labels[{len(self.labels)}]=[{labels}], modalities={{{mods}}}, splits={{{splits}}})")
        return _short(text, REPR_MAX)

    # -- datasets / pandas-style helpers (issue 28) ---------------------------------------------------------
    def select(self, indices: Iterable[int], *, name: str | None = None) -> Dataset:
        """The samples at positions ``indices`` (in that order, as ``datasets.Dataset.select``); each split
        keeps the selected ids it had (a split left empty is dropped)."""
        try:
            positions = [int(i) for i in indices]
        except (TypeError, ValueError):
            raise DataError("select() takes integer positions", file=self.source, field="indices") from None
        bad = [i for i in positions if not -len(self.samples) <= i < len(self.samples)]
        if bad:
            raise DataError(f"select(): position {bad[0]} out of range for {len(self.samples)} samples",
                            file=self.source, field="indices")
        samples = [self.samples[i] for i in positions]
        return self._with_samples(samples, name=name)

    def filter(self, function: Callable[[Sample], bool], *, name: str | None = None) -> Dataset:
        """The samples for which ``function(sample)`` is true (order kept; splits restricted to them)."""
        if not callable(function):
            raise DataError("filter() takes a function of a Sample", file=self.source, field="function")
        return self._with_samples([s for s in self.samples if function(s)], name=name)

    def map(self, function: Callable[[Sample], Sample | None], *, name: str | None = None) -> Dataset:
        """A new dataset of ``function(sample)`` for each sample; the function gets a copy (so it may edit and
        return it, or return None to keep the edited copy) and must keep the sample's id. The result is
        validated like any dataset (labels, missing modalities)."""
        if not callable(function):
            raise DataError("map() takes a function of a Sample", file=self.source, field="function")
        out = []
        for sample in self.samples:
            copy = Sample(sample.id, dict(sample.inputs), sample.label, sample.group, dict(sample.meta))
            new = function(copy)
            new = copy if new is None else new
            if not isinstance(new, Sample) or new.id != sample.id:
                raise DataError("map(): the function must return a Sample with the same id (or None)",
                                file=self.source, record=f"id {sample.id!r}", field="id")
            out.append(new)
        return self.derive(name or self.name, out, splits={k: list(v) for k, v in self.splits.items()})

    def _with_samples(self, samples: list[Sample], *, name: str | None) -> Dataset:
        keep = {s.id for s in samples}
        splits = {k: [i for i in v if i in keep] for k, v in self.splits.items()}
        return self.derive(name or self.name, samples, splits={k: v for k, v in splits.items() if v})

    def split_of(self) -> dict[str, str]:
        """Sample id -> the (first) split that lists it."""
        out: dict[str, str] = {}
        for split, ids in self.splits.items():
            for i in ids:
                out.setdefault(i, split)
        return out

    def to_pandas(self) -> pd.DataFrame:
        """One row per sample: ``id``, one column per modality (named like the modality), the gold ``label``
        (None where unlabelled), ``group`` and ``split``; ``frame.attrs`` holds name, labels and kinds. The
        columns map straight back: ``Dataset.from_pandas(frame, id="id", label="label", split="split",
        modalities={m: {"column": m, "kind": k} for m, k in frame.attrs["kinds"].items()})``."""
        import pandas as pd

        clash = [m for m in self.modalities if m in FIXED_COLUMNS]
        if clash:
            raise DataError(f"modality {clash[0]!r} has the name of a fixed column {list(FIXED_COLUMNS)}",
                            file=self.source, field=clash[0])
        where = self.split_of()
        frame = pd.DataFrame({"id": self.ids, **{m: self.column(m) for m in self.modalities},
                              "label": [s.label for s in self.samples], "group": [s.group for s in self.samples],
                              "split": [where.get(s.id) for s in self.samples]})
        frame.attrs.update({"name": self.name, "labels": list(self.labels), "kinds": dict(self.kinds)})
        return frame

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.samples]

    @property
    def y(self) -> np.ndarray:
        """Gold label indices into ``labels`` (-1 where a sample has no label)."""
        lookup = {label: i for i, label in enumerate(self.labels)}
        return np.array([lookup.get(s.label, -1) if s.label is not None else -1 for s in self.samples],
                        dtype=np.int64)

    def column(self, modality: str) -> list[Any]:
        return [s.inputs[modality] for s in self.samples]

    def split(self, name: str) -> Dataset:
        """The samples of one split as a Dataset of its own (named ``name/split``)."""
        if name not in self.splits:
            raise DataError(f"no split {name!r}; available: {sorted(self.splits)}", file=self.source,
                            field="split")
        return self.subset(self.splits[name], name=f"{self.name}/{name}")

    def subset(self, ids: Iterable[str], name: str | None = None) -> Dataset:
        ids = list(ids)
        missing = [i for i in ids if i not in self._index]
        if missing:
            raise DataError(f"{len(missing)} ids not in dataset {self.name!r}, e.g. {missing[:3]}",
                            file=self.source, field="id")
        return Dataset(name=name or self.name, labels=self.labels,
                       samples=[self.samples[self._index[i]] for i in ids], modalities=self.modalities,
                       splits={}, task=self.task, dimension=self.dimension, source=self.source,
                       info=dict(self.info), kinds=dict(self.kinds))

    def derive(self, name: str, samples: list[Sample], *, splits: dict[str, list[str]] | None = None,
               info: dict[str, Any] | None = None) -> Dataset:
        """A new dataset of other ``samples`` that keeps this one's labels, modalities, kinds, task,
        dimension and source (counterfactual copies, task unions, ...)."""
        return Dataset(name=name, labels=self.labels, samples=samples, modalities=self.modalities,
                       splits=splits or {}, task=self.task, dimension=self.dimension, source=self.source,
                       info=dict(self.info if info is None else info), kinds=dict(self.kinds))

    def cap_split(self, split: str, n: int | None, *, seed: int = 0) -> Dataset:
        """This dataset with ``split`` cut to a seeded random subset of ``n`` samples (order kept; the
        other splits unchanged). ``n`` None or >= the split's size returns ``self``. For CPU budgets:
        results record ``info["capped"]``."""
        if split not in self.splits:
            raise DataError(f"no split {split!r}; available: {sorted(self.splits)}", file=self.source, field="split")
        if n is not None and n < 1:
            raise DataError(f"a split cap must be >= 1, got {n}", field="max_train")
        ids = self.splits[split]
        if n is None or len(ids) <= n:
            return self
        keep = set(np.random.default_rng(seed).choice(len(ids), n, replace=False).tolist())
        kept = [i for k, i in enumerate(ids) if k in keep]
        dropped = set(ids) - set(kept)
        splits = {**{k: list(v) for k, v in self.splits.items()}, split: kept}
        info = {**self.info, "capped": {**self.info.get("capped", {}), split: {"n": n, "of": len(ids), "seed": seed}}}
        return self.derive(self.name, [s for s in self.samples if s.id not in dropped], splits=splits, info=info)

    def with_modalities(self, modalities: Sequence[str]) -> Dataset:
        """Same samples, other modality names declared (each must be present in every sample)."""
        return Dataset(name=self.name, labels=self.labels, samples=self.samples, modalities=tuple(modalities),
                       splits=self.splits, task=self.task, dimension=self.dimension, source=self.source,
                       info=dict(self.info), kinds={m: k for m, k in self.kinds.items() if m in modalities})

    def fingerprint(self) -> str:
        """SHA-256 over labels, modalities and every sample's id, inputs and label (16 hex chars)."""
        digest = hashlib.sha256()
        digest.update(json.dumps([self.labels, self.modalities], sort_keys=True).encode())
        for s in self.samples:
            row = [s.id, {m: _canonical(s.inputs.get(m)) for m in self.modalities}, s.label]
            digest.update(json.dumps(row, sort_keys=True, default=str).encode())
        return digest.hexdigest()[:16]

    def label_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(self.labels, 0)
        for s in self.samples:
            if s.label is not None:
                counts[s.label] += 1
        return counts

    def summary(self) -> dict[str, Any]:
        """Name, sizes, kinds, label counts, fingerprint, source (and ``split_made`` when the split was
        drawn by :func:`splits.seeded_split`, e.g. for a dataset file without a split column)."""
        out = {"name": self.name, "task": self.task, "dimension": self.dimension, "n": len(self),
               "labels": list(self.labels), "modalities": list(self.modalities),
               "kinds": dict(self.kinds), "splits": {k: len(v) for k, v in self.splits.items()},
               "label_counts": self.label_counts(),
               "fingerprint": self.fingerprint(), "source": self.source}
        if "split_made" in self.info:
            out["split_made"] = self.info["split_made"]
        return out
