"""Dataset files: a YAML file that describes a table so that any ``--dataset`` accepts it.

Example (``docs/datasets.md`` has the full reference and a worked example)::

    name: my-sarcasm
    path: samples.jsonl          # JSONL / JSON / CSV / TSV / Parquet, relative to this file
    id: id
    label: label
    labels: [not_sarcastic, sarcastic]
    modalities:
      utterance: utterance       # kind inferred from the values
      context: {column: context, kind: text}
      photo: {column: image, kind: image}
    group: dialogue              # no split column: a seeded group-disjoint 70/10/20 split is made
    dimension: sarcasm

Every path (the table, and image / audio / video values) is relative to the YAML file's folder and
may not leave it. Errors name the dataset file, the table, the record and the field.

A table given directly (``--dataset samples.jsonl``) is read by convention (:func:`spec_for_table`):
columns ``id`` and ``label``, optional ``split`` and ``group``, and every other column a modality.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ..errors import DataError
from .readers import FORMATS, _media, confined, read_records, read_table, table_format  # noqa: F401 - re-exported
from .schema import Dataset, Sample, infer_kind
from .splits import DEFAULT_FRACTIONS, seeded_split

Kind = Literal["text", "image", "audio", "video", "features"]
#: kinds whose values are file paths (relative to the dataset file), checked to exist at load
PATH_KINDS = ("image", "audio", "video")
#: split column values accepted (case-insensitive) -> the split name used everywhere
SPLIT_SYNONYMS = {"train": "train", "training": "train", "dev": "dev", "development": "dev", "val": "dev",
                  "valid": "dev", "validation": "dev", "test": "test", "testing": "test"}
SPLIT_ORDER = ("train", "dev", "test")
OPTIONS = ("seed", "fractions")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModalityColumn(_Strict):
    """``{column: C, kind: K}``: the table column holding a modality and (optionally) its kind."""

    column: str
    kind: Kind | None = None


class DatasetFile(_Strict):
    """The keys of a dataset file (``name`` defaults to the file's stem)."""

    name: str | None = None
    path: str
    id: str
    label: str
    labels: list[str] | None = None
    modalities: dict[str, ModalityColumn]
    split: str | None = None
    group: str | None = None
    task: str | None = None
    dimension: str | None = None

    @field_validator("labels", mode="before")
    @classmethod
    def _labels(cls, value: Any) -> Any:
        if isinstance(value, list):
            bools = [v for v in value if isinstance(v, bool)]
            if bools:
                raise ValueError("YAML reads unquoted yes/no/true/false/on/off as booleans; quote the labels "
                                 "(e.g. ['yes', 'no'])")
            if any(v is None for v in value):
                raise ValueError("a label is empty (null)")
            return [str(v) if isinstance(v, int | float) else v for v in value]
        return value

    @field_validator("modalities", mode="before")
    @classmethod
    def _modalities(cls, value: Any) -> Any:
        if isinstance(value, dict):
            if not value:
                raise ValueError("map at least one modality name to a column")
            return {str(k): {"column": v} if isinstance(v, str) else v for k, v in value.items()}
        return value


def _explain(err: ValidationError) -> str:
    """Pydantic's errors as one line: unknown keys with "did you mean", missing keys named."""
    parts = []
    for e in err.errors():
        loc = tuple(str(x) for x in e["loc"])
        where = ".".join(loc)
        if e["type"] == "extra_forbidden":
            parent = loc[:-1]
            model = ModalityColumn if parent[:1] == ("modalities",) else DatasetFile
            allowed = list(model.model_fields)
            close = difflib.get_close_matches(loc[-1], allowed, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            scope = f" in {'.'.join(parent)}" if parent else ""
            parts.append(f"unknown key {loc[-1]!r}{scope}{hint}; keys: {', '.join(allowed)}")
        elif e["type"] == "missing":
            parts.append(f"missing required key {where!r}")
        else:
            message = e["msg"].removeprefix("Value error, ")
            parts.append(f"key {where!r}: {message}")
    return "; ".join(parts)


def load_spec(path: str | os.PathLike) -> DatasetFile:
    """The validated keys of a dataset file (no table read)."""
    path = Path(path)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise DataError("a dataset file is a YAML file (.yaml/.yml) naming the table and its columns, or a table "
                        f"({', '.join(sorted(FORMATS))}) with 'id' and 'label' columns; see docs/datasets.md",
                        file=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError("dataset file not found", file=str(path)) from None
    except IsADirectoryError:
        raise DataError("is a folder; expected a dataset file (.yaml)", file=str(path)) from None
    except UnicodeDecodeError:
        raise DataError("dataset file is not valid UTF-8", file=str(path)) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise DataError(f"not valid YAML: {problem}", file=str(path),
                        record=f"line {mark.line + 1}" if mark is not None else None) from None
    if raw is None:
        raise DataError(f"empty dataset file; expected keys {', '.join(DatasetFile.model_fields)}", file=str(path))
    if not isinstance(raw, dict):
        raise DataError(f"expected a mapping of keys ({', '.join(DatasetFile.model_fields)}), got a "
                        f"{type(raw).__name__}", file=str(path))
    try:
        return DatasetFile.model_validate(raw)
    except ValidationError as err:
        raise DataError(_explain(err), file=str(path)) from None


#: the column names a table read without a dataset file must (id, label) or may (split, group) use
TABLE_CONVENTION = {"id": "id", "label": "label", "split": "split", "group": "group"}


def spec_for_table(path: str | os.PathLike) -> DatasetFile:
    """The dataset file a table implies when given directly: ``id`` and ``label`` columns, ``split`` and
    ``group`` when present, every other column a modality (kind inferred). Columns named otherwise need
    a dataset file (docs/datasets.md)."""
    path = Path(path)
    table_format(path)
    first = next(iter(read_records(path)), None)
    if first is None:
        raise DataError("no rows", file=str(path))
    columns = list(first.fields)
    missing = [TABLE_CONVENTION[k] for k in ("id", "label") if TABLE_CONVENTION[k] not in columns]
    if missing:
        raise DataError(f"a table given directly needs columns 'id' and 'label' (missing: {', '.join(missing)}; "
                        f"it has {', '.join(map(repr, columns))}); to name other columns, describe it in a YAML "
                        "dataset file (docs/datasets.md)", file=str(path), record=first.where)
    roles = {TABLE_CONVENTION[k] for k in ("id", "label")} | {c for c in ("split", "group") if c in columns}
    modalities = {c: {"column": c} for c in columns if c not in roles}
    if not modalities:
        raise DataError("a table given directly needs at least one column besides id, label, split and group "
                        "(the modalities)", file=str(path), record=first.where)
    return DatasetFile.model_validate({"path": path.name, "id": "id", "label": "label", "modalities": modalities,
                                       "split": "split" if "split" in columns else None,
                                       "group": "group" if "group" in columns else None})


def _fractions(value: Any, file: str) -> dict[str, float]:
    if isinstance(value, list | tuple):
        if len(value) != 3:
            raise DataError(f"fractions {list(value)} must be three numbers (train, dev, test)", file=file,
                            field="fractions")
        value = dict(zip(SPLIT_ORDER, value, strict=True))
    if not isinstance(value, dict) or not value:
        raise DataError(f"fractions must map train/dev/test to shares, got {value!r}", file=file, field="fractions")
    out = {}
    for key, share in value.items():
        if key not in SPLIT_ORDER:
            raise DataError(f"fractions name unknown split {key!r}; splits: {list(SPLIT_ORDER)}", file=file,
                            field="fractions")
        if isinstance(share, bool) or not isinstance(share, int | float) or not share > 0:
            raise DataError(f"fraction of {key!r} must be a positive number, got {share!r}", file=file,
                            field="fractions")
        out[key] = float(share)
    return {k: out[k] for k in SPLIT_ORDER if k in out}


def _as_features(value: Any, file: str, record: str, column: str) -> np.ndarray:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise DataError("a features value must be a list of numbers (a JSON list in CSV cells)", file=file,
                            record=record, field=column) from None
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise DataError("a features value must be a list of numbers", file=file, record=record,
                        field=column) from None
    if array.ndim != 1 or array.size == 0:
        raise DataError(f"a features value must be a non-empty flat list of numbers, got shape {array.shape}",
                        file=file, record=record, field=column)
    return array


def _splits(dataset: Dataset, column: str, file: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The table's split values mapped to train/dev/test (synonyms accepted), in sample order."""
    raw_of: dict[str, str] = {}
    for raw, ids in dataset.splits.items():
        for i in ids:
            raw_of[i] = raw
    names: dict[str, str] = {}
    out: dict[str, list[str]] = {}
    for sample in dataset.samples:
        raw = raw_of[sample.id]
        name = SPLIT_SYNONYMS.get(raw.strip().lower())
        if name is None:
            synonyms = ", ".join(sorted(set(SPLIT_SYNONYMS) - set(SPLIT_ORDER)))
            raise DataError(f"unknown split {raw!r}; use train, dev or test (or {synonyms})", file=file,
                            record=sample.meta.get("record"), field=column)
        names[raw] = name
        out.setdefault(name, []).append(sample.id)
    return {k: out[k] for k in SPLIT_ORDER if k in out}, names


def read_dataset_file(path: str | os.PathLike, **options: Any) -> Dataset:
    """Load the dataset a YAML dataset file describes (see the module docstring and docs/datasets.md).

    ``options``: ``seed`` (default 0) and ``fractions`` (``{"train": .7, "dev": .1, "test": .2}`` or
    three numbers) for the split made when the file has no ``split`` column.
    """
    path = Path(path)
    file = str(path)
    unknown = [k for k in options if k not in OPTIONS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], OPTIONS, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise DataError(f"unknown option {unknown[0]!r} for a dataset file{hint}; options: {', '.join(OPTIONS)}",
                        file=file, field="option")
    spec = spec_for_table(path) if path.suffix.lower() in FORMATS else load_spec(path)
    if spec.split is not None and options:
        raise DataError(f"options {sorted(options)} only apply when the dataset file has no 'split' column "
                        f"(it has split: {spec.split})", file=file, field="option")
    seed = options.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise DataError(f"seed must be an integer, got {seed!r}", file=file, field="seed")
    fractions = _fractions(options.get("fractions", DEFAULT_FRACTIONS), file)
    folder = path.resolve().parent
    table = confined(folder, spec.path, file=file, field="path")
    table_format(table)  # a clear error for an unsupported suffix
    if not table.is_file():
        raise DataError(f"table not found: {spec.path} (key 'path' is relative to {folder})", file=file, field="path")
    columns = {m: c.column for m, c in spec.modalities.items()}
    declared = {m: c.kind for m, c in spec.modalities.items() if c.kind is not None}
    try:
        base = read_table(table, id=spec.id, label=spec.label, modalities=columns, group=spec.group,
                          split=spec.split, labels=spec.labels, name=spec.name or path.stem,
                          kinds=declared, media_root=None)  # media resolve against the YAML's folder below
    except DataError as err:
        raise DataError(f"{err.reason} (dataset file {file})", file=err.file, record=err.record,
                        field=err.field) from None
    kinds = {m: declared.get(m) or infer_kind(base.samples[0].inputs[m]) for m in base.modalities}
    table_file = str(table)
    samples = []
    for sample in base.samples:
        record = sample.meta.get("record", sample.id)
        inputs = dict(sample.inputs)
        for m, kind in kinds.items():
            if kind in PATH_KINDS:
                inputs[m] = _media(inputs[m], kind, folder, table_file, record, columns[m])
            elif kind == "features":
                inputs[m] = _as_features(inputs[m], table_file, record, columns[m])
        samples.append(Sample(sample.id, inputs, sample.label, sample.group, sample.meta))
    info: dict[str, Any] = {"dataset_file": str(path.resolve()), "table": str(table.resolve()),
                            "format": base.info["format"], "columns": base.info["columns"]}
    if table == path.resolve():
        info["read_by_convention"] = dict(TABLE_CONVENTION)
    if spec.split is not None:
        splits, names = _splits(base, spec.split, table_file)
        info["split"] = {"column": spec.split, "values": names}
    else:
        try:
            splits, made = seeded_split(base.ids, [s.group for s in samples] if spec.group else None,
                                        [s.label or "" for s in samples], fractions, seed)
        except DataError as err:
            raise DataError(f"cannot make a split: {err.reason}; add a split column or fewer splits "
                            "(e.g. -d 'fractions={\"train\": 0.8, \"test\": 0.2}')", file=file,
                            field=spec.group or "split") from None
        made["group_column"] = spec.group
        info["split_made"] = made
    return Dataset(name=base.name, labels=base.labels, samples=samples, modalities=base.modalities, splits=splits,
                   task=spec.task or "classification", dimension=spec.dimension, source=file, info=info, kinds=kinds)
