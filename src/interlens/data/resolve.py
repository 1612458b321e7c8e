"""One entry point for every ``--dataset``: a registered name, a built-in generator, a dataset file
(YAML, see :mod:`interlens.data.files`; or a table with ``id`` / ``label`` columns, read by convention) or
an in-memory :class:`Dataset`; :func:`describe_dataset` summarises any of them (``interlens data describe``).

``describe_dataset`` lived in :mod:`.adapters` until issue 29; it reads any ``--dataset`` and so sits here,
above the adapters (which no longer import this module back). ``interlens.data.describe_dataset`` is unchanged."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from ..errors import DataError
from .readers import FORMATS
from .schema import Dataset
from .splits import crossing_groups

#: generated datasets with known (planted) structure
BUILTIN = ("synthetic", "spurious")
#: a YAML dataset file, or a table read by convention (interlens.data.files.spec_for_table)
DATASET_FILE_SUFFIXES = (".yaml", ".yml", *FORMATS)


def is_dataset_file(spec: str | os.PathLike) -> bool:
    text = str(spec)
    return text.lower().endswith(DATASET_FILE_SUFFIXES) or (os.sep in text and Path(text).exists())


def resolve_dataset(spec: str | os.PathLike | Dataset, data_root: str | os.PathLike | None = None,
                    **options: Any) -> Dataset:
    """The dataset named by ``spec``: a Dataset (returned as is), ``synthetic`` / ``spurious``
    (generated; ``options`` go to the generator), a path to a YAML dataset file, or a registered name."""
    if isinstance(spec, Dataset):
        if options:
            raise DataError(f"options {sorted(options)} given for an in-memory dataset", field="dataset")
        return spec
    text = str(spec)
    if text == "synthetic":
        from .synthetic import make_synthetic

        return make_synthetic(**options)
    if text == "spurious":
        from .spurious import make_spurious

        return make_spurious(**options)
    if is_dataset_file(text):
        from .files import read_dataset_file

        return read_dataset_file(text, **options)
    from .adapters import load_dataset

    return load_dataset(text, data_root, **options)


def preview(value: Any) -> Any:
    """A modality value as JSON can hold it: an array becomes a short description."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"<array {tuple(value.shape)} {value.dtype}>"
    if hasattr(value, "size") and hasattr(value, "mode"):
        return f"<image {value.size} {value.mode}>"
    return value


def describe_dataset(name: str, data_root: str | os.PathLike | None = None, *, split: str | None = None,
                     n: int = 5, options: dict[str, Any] | None = None, **more: Any) -> dict[str, Any]:
    """Summary, label counts (per split) and the first ``n`` samples of a dataset (or of one split).

    ``name`` is anything ``--dataset`` accepts: a registered name, ``synthetic`` or a dataset file.
    Loader options go in ``options`` (or as keywords when they do not clash with ``split`` / ``n``)."""
    dataset = resolve_dataset(name, data_root, **{**more, **(options or {})})
    per_split = {s: Counter(dataset[i].label for i in ids) for s, ids in dataset.splits.items()}
    view = dataset.split(split) if split is not None else dataset
    summary = view.summary()
    summary["splits"] = {k: len(v) for k, v in dataset.splits.items()}
    summary["label_counts_by_split"] = {s: {label: c.get(label, 0) for label in dataset.labels}
                                        for s, c in per_split.items()}
    summary["info"] = dataset.info
    summary["groups"] = len({s.group for s in view if s.group is not None})
    group_of = {s.id: s.group for s in dataset}
    summary["groups_in_several_splits"] = len(crossing_groups(dataset.splits, group_of))
    summary["samples"] = [{"id": s.id, "label": s.label, "group": s.group,
                           "inputs": {m: preview(v) for m, v in s.inputs.items()}} for s in view.samples[:n]]
    return summary
