"""Datasets from in-memory tables: a pandas DataFrame or a Hugging Face ``datasets`` object.

:meth:`Dataset.from_pandas` and :meth:`Dataset.from_hf` take the *same column mapping as a dataset
file* (``docs/datasets.md``): ``id``, ``label``, ``labels``, ``modalities`` (name -> column or
``{column, kind}``), ``split`` (values train/dev/test or their synonyms), ``group``, ``task``,
``dimension``, ``name``; without a split column a seeded group-disjoint split is made (``seed``,
``fractions``). Image/audio/video values may be file paths (relative ones are resolved against
``root``) or in-memory images (PIL, arrays). A Hugging Face ``DatasetDict`` gives its split names.
Errors name the table (``name``), the row and the column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import DataError
from .files import PATH_KINDS, SPLIT_SYNONYMS, DatasetFile, _as_features, _explain, _fractions, _media
from .readers import Record, as_text_id, check_label_list, check_label_types, get_field, is_missing
from .schema import Dataset, Sample, infer_kind
from .splits import DEFAULT_FRACTIONS, seeded_split

SPLIT_ORDER = ("train", "dev", "test")


def _spec(name: str, mapping: Mapping[str, Any]) -> DatasetFile:
    try:
        return DatasetFile.model_validate({"path": "<in memory>", "name": name, **mapping})
    except ValidationError as err:
        raise DataError(_explain(err), file=name) from None


def from_records(rows: Iterable[Mapping[str, Any]], *, name: str = "dataframe", root: str | Path | None = None,
                 seed: int = 0, fractions: Any = None, **mapping: Any) -> Dataset:
    """A :class:`Dataset` from rows (dicts) under a dataset-file column mapping (see the module docstring)."""
    spec = _spec(name, mapping)
    folder = Path(root).resolve() if root is not None else Path.cwd()
    columns = {m: c.column for m, c in spec.modalities.items()}
    declared = {m: c.kind for m, c in spec.modalities.items() if c.kind is not None}
    allowed = check_label_list(spec.labels, file=name) if spec.labels is not None else None
    label_kinds: dict[str, str] = {}
    samples: list[Sample] = []
    raw_splits: dict[str, str] = {}
    first_seen: dict[str, str] = {}
    kinds: dict[str, str] = {}
    mapped = {spec.id, *columns.values(), *(c for c in (spec.label, spec.group, spec.split) if c)}
    for number, row in enumerate(rows, start=1):
        record = Record(f"row {number}", dict(row))
        if number == 1:
            for column in mapped:
                get_field(record, column, name, required=False)  # "missing column ... did you mean"
        try:
            sample_id = as_text_id(get_field(record, spec.id, name))
        except ValueError as err:
            raise DataError(str(err), file=name, record=record.where, field=spec.id) from None
        if sample_id in first_seen:
            raise DataError(f"duplicate id {sample_id!r} (first at {first_seen[sample_id]})", file=name,
                            record=record.where, field=spec.id)
        first_seen[sample_id] = record.where
        inputs = {}
        for m, column in columns.items():
            value = get_field(record, column, name, what=f"modality {m!r}")
            kind = kinds.setdefault(m, declared.get(m) or infer_kind(value))
            if kind in PATH_KINDS and isinstance(value, str | list | tuple):
                value = _media(value, kind, folder, name, record.where, column)
            elif kind == "features":
                value = _as_features(value, name, record.where, column)
            inputs[m] = value
        label = check_label_types(get_field(record, spec.label, name), label_kinds, file=name,
                                  record=record.where, field=spec.label)
        if allowed is not None and label not in allowed:
            raise DataError(f"unknown label {label!r}; expected one of {allowed}", file=name, record=record.where,
                            field=spec.label)
        group = None
        if spec.group is not None:
            value = get_field(record, spec.group, name, required=False)
            group = None if is_missing(value) else str(value)
        if spec.split is not None:
            raw = str(get_field(record, spec.split, name))
            split = SPLIT_SYNONYMS.get(raw.strip().lower())
            if split is None:
                raise DataError(f"unknown split {raw!r}; use train, dev or test", file=name, record=record.where,
                                field=spec.split)
            raw_splits[sample_id] = split
        meta = {k: v for k, v in record.fields.items() if k not in mapped}
        meta["record"] = record.where
        samples.append(Sample(sample_id, inputs, label, group, meta))
    if not samples:
        raise DataError("no rows", file=name)
    labels = tuple(allowed) if allowed is not None else tuple(sorted({s.label for s in samples if s.label}))
    info: dict[str, Any] = {"format": "in-memory", "columns": {"id": spec.id, "label": spec.label,
                                                              "group": spec.group, "split": spec.split, **columns}}
    if spec.split is not None:
        splits = {k: [s.id for s in samples if raw_splits[s.id] == k] for k in SPLIT_ORDER}
        splits = {k: v for k, v in splits.items() if v}
    else:
        splits, made = seeded_split([s.id for s in samples], [s.group for s in samples] if spec.group else None,
                                    [s.label or "" for s in samples],
                                    _fractions(fractions if fractions is not None else DEFAULT_FRACTIONS, name),
                                    seed)
        info["split_made"] = made
    return Dataset(name=spec.name or name, labels=labels, samples=samples, modalities=tuple(columns),
                   splits=splits, task=spec.task or "classification", dimension=spec.dimension, source=name,
                   info=info, kinds={m: kinds[m] for m in columns})


def from_pandas(frame: Any, *, name: str = "dataframe", **mapping: Any) -> Dataset:
    """A :class:`Dataset` from a pandas DataFrame (one row per sample)."""
    if not hasattr(frame, "to_dict") or not hasattr(frame, "columns"):
        raise DataError(f"expected a pandas DataFrame, got {type(frame).__name__}", file=name)
    return from_records(frame.to_dict("records"), name=name, **mapping)


def from_hf(data: Any, *, name: str | None = None, **mapping: Any) -> Dataset:
    """A :class:`Dataset` from a Hugging Face ``datasets.Dataset`` (rows as dicts; decoded images stay PIL
    images) or a ``DatasetDict``, whose split names become the splits (``split`` is then not needed)."""
    name = name or str(getattr(getattr(data, "info", None), "dataset_name", None) or "hf-dataset")
    if isinstance(data, Mapping) and data and all(hasattr(v, "__iter__") for v in data.values()):
        if mapping.get("split"):
            raise DataError("a DatasetDict gives the splits; drop split=", file=name, field="split")
        column = "__split__"

        def rows() -> Iterable[dict[str, Any]]:
            for split, part in data.items():
                for row in part:
                    yield {**row, column: split}

        return from_records(rows(), name=name, split=column, **mapping)
    if not hasattr(data, "__iter__") or not hasattr(data, "column_names"):
        raise DataError(f"expected a Hugging Face datasets.Dataset or DatasetDict, got {type(data).__name__}",
                        file=name)
    return from_records(iter(data), name=name, **mapping)
