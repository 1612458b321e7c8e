"""Generic table readers: JSONL, JSON (a list of objects), CSV, TSV and Parquet -> :class:`Dataset`.

Every error names the file, the record (a 1-based *line* for text files, a 1-based *row* for
Parquet and JSON lists) and the field. Values are never type-inferred: CSV/TSV cells stay strings
(the ``csv`` module, not pandas, so line numbers are exact and ids like MMSD2.0's 64-bit integers are
never routed through a float) and JSON integers are parsed exactly by Python's ``json``.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from ..errors import DataError
from .schema import Dataset, Sample

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv",
           ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class Record:
    """One input row: ``where`` is how errors name it (``"line 7"`` or ``"row 3"``)."""

    where: str
    fields: dict[str, Any]


def table_format(path: str | os.PathLike) -> str:
    """The format implied by the file suffix; a clear error for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise DataError(f"unsupported file type {suffix or '(none)'!r}; supported: "
                        f"{', '.join(sorted(FORMATS))}", file=str(path))
    return FORMATS[suffix]


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError("file not found", file=str(path)) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(f"not valid UTF-8 at byte {err.start} ({raw[err.start:err.start + 4]!r}); "
                        "re-save the file as UTF-8", file=str(path), record=f"line {line}") from None


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line; errors name the file and line."""
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"malformed JSON (column {err.colno}): {err.msg}", file=str(path),
                            record=f"line {number}") from None
        if not isinstance(value, dict):
            raise DataError(f"expected a JSON object, got {type(value).__name__}", file=str(path),
                            record=f"line {number}")
        yield number, value


def _jsonl_records(path: Path) -> Iterator[Record]:
    for number, value in iter_jsonl(path):
        yield Record(f"line {number}", value)


def _json_records(path: Path) -> Iterator[Record]:
    text = _read_text(path)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"malformed JSON (column {err.colno}): {err.msg}", file=str(path),
                        record=f"line {err.lineno}") from None
    if not isinstance(value, list):
        raise DataError("expected a JSON list of objects (use .jsonl for one object per line)",
                        file=str(path))
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise DataError(f"expected a JSON object, got {type(item).__name__}", file=str(path),
                            record=f"row {number}")
        yield Record(f"row {number}", item)


def _delimited_records(path: Path, delimiter: str) -> Iterator[Record]:
    reader = csv.reader(io.StringIO(_read_text(path), newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError("empty file (no header row)", file=str(path), record="line 1") from None
    except csv.Error as err:
        raise DataError(f"malformed header: {err}", file=str(path), record="line 1") from None
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise DataError(f"duplicate column names {dup}", file=str(path), record="line 1")
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise DataError(f"malformed {'TSV' if delimiter == chr(9) else 'CSV'}: {err}", file=str(path),
                            record=f"line {start}") from None
        if not row or (len(row) == 1 and not row[0].strip() and len(header) > 1):
            continue
        if len(row) != len(header):
            raise DataError(f"malformed {'TSV' if delimiter == chr(9) else 'CSV'}: expected "
                            f"{len(header)} fields (as in the header), saw {len(row)}", file=str(path),
                            record=f"line {start}")
        yield Record(f"line {start}", dict(zip(header, row, strict=True)))


def _parquet_records(path: Path) -> Iterator[Record]:
    import pyarrow.parquet as pq

    if not path.exists():
        raise DataError("file not found", file=str(path))
    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises several types for damaged files
        raise DataError(f"cannot read Parquet: {err}", file=str(path)) from None
    for number, row in enumerate(table.to_pylist(), start=1):
        yield Record(f"row {number}", row)


def read_records(path: str | os.PathLike) -> Iterator[Record]:
    """Yield the rows of a JSONL/JSON/CSV/TSV/Parquet file as :class:`Record` s (format by suffix)."""
    path = Path(path)
    kind = table_format(path)
    if kind == "jsonl":
        return _jsonl_records(path)
    if kind == "json":
        return _json_records(path)
    if kind == "parquet":
        return _parquet_records(path)
    return _delimited_records(path, "\t" if kind == "tsv" else ",")


def is_missing(value: Any) -> bool:
    """None, NaN or a blank string."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and not value.strip())


def as_text_id(value: Any) -> str:
    """An id as an exact string; a float that is not a whole number (lost digits) is refused."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if not value.is_integer() or abs(value) >= 2**53:
            raise ValueError(f"id {value!r} is a float; ids must be read as integers or strings")
        return str(int(value))
    return str(value)


def get_field(record: Record, column: str, file: str, *, required: bool = True, what: str = "") -> Any:
    """``record.fields[column]`` with a clear error (listing available columns) when absent/empty."""
    if column not in record.fields:
        available = list(record.fields)
        close = difflib.get_close_matches(column, available, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise DataError(f"missing column {column!r}{hint}; available columns: {available}", file=file,
                        record=record.where, field=column)
    value = record.fields[column]
    if required and is_missing(value):
        raise DataError(f"missing value{' for ' + what if what else ''} in column {column!r}", file=file,
                        record=record.where, field=column)
    return value


def _label_type(value: Any) -> str:
    """The kind of a raw label value: bool, int, float or str (NumPy scalars as their Python kind)."""
    import numbers

    if isinstance(value, bool) or type(value).__name__ == "bool_":  # NumPy's bool is no Number
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    return "str" if isinstance(value, str) else type(value).__name__


def check_label_types(value: Any, seen: dict[str, str], *, file: str, record: str, field: str) -> str:
    """``str(value)`` after checking that every label of one file is written the same way (issue 30: ``1``,
    ``1.0``, ``"1"`` and ``true`` are not silently merged into, or split across, label names). ``seen`` maps
    each kind met so far to the record where it was first met."""
    kind = _label_type(value)
    seen.setdefault(kind, record)
    if len(seen) > 1:
        first, where = next((k, w) for k, w in seen.items() if k != kind)
        raise DataError(f"labels of mixed types: {value!r} is a {kind}, the label at {where} a {first}; write "
                        "every label the same way (all strings, or all integers)", file=file, record=record,
                        field=field)
    return str(value)


def check_label_list(labels: Sequence[Any], *, file: str | None, field: str = "labels") -> list[str]:
    """The declared label set as strings; two entries with the same text (``1`` and ``"1"``) are refused."""
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise DataError(f"labels must be a list of label names, got {type(labels).__name__}", file=file, field=field)
    names = [str(v) for v in labels]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise DataError(f"label {dup!r} is listed twice (as {[v for v in labels if str(v) == dup]})", file=file,
                        field=field)
    return names


def confined(folder: Path, value: str, *, file: str, record: str | None = None, field: str = "path") -> Path:
    """``folder / value`` for a relative path that stays inside ``folder``; an absolute path, one that
    climbs out with ``..`` and one through a symbolic link that points outside ``folder`` are refused."""
    pure = PurePath(value)
    if pure.is_absolute() or pure.drive:
        raise DataError(f"absolute path {value!r} not allowed; paths are relative to the dataset file's folder "
                        f"{folder}", file=file, record=record, field=field)
    normal = os.path.normpath(value)
    if normal == ".." or normal.startswith(".." + os.sep) or normal.startswith("../"):
        raise DataError(f"path {value!r} leaves the dataset file's folder {folder}", file=file, record=record,
                        field=field)
    real, root = (folder / normal).resolve(), folder.resolve()
    if real != root and not real.is_relative_to(root):  # a symbolic link that points out (issue 30)
        raise DataError(f"path {value!r} is a link that leaves the dataset file's folder {folder}", file=file,
                        record=record, field=field)
    return folder / normal


def _media(value: Any, kind: str, folder: Path, file: str, record: str, column: str, *,
           allow_outside: bool = False) -> Any:
    """A path value (or a list of frame paths for video) resolved against ``folder`` and checked."""
    if isinstance(value, list | tuple) and kind == "video":
        return [_media(v, "image", folder, file, record, column, allow_outside=allow_outside) for v in value]
    if not isinstance(value, str):
        raise DataError(f"an {kind} value must be a file path relative to the dataset file, got "
                        f"{type(value).__name__}", file=file, record=record, field=column)
    path = (folder / value.strip() if allow_outside else
            confined(folder, value.strip(), file=file, record=record, field=column))
    if not path.exists():
        raise DataError(f"{kind} file not found: {value} (relative to {folder})", file=file, record=record,
                        field=column)
    return str(path.resolve())


def read_table(path: str | os.PathLike, *, id: str, label: str | None = None,
               modalities: Mapping[str, str], group: str | None = None, split: str | None = None,
               labels: Sequence[Any] | None = None, splits: Sequence[str] | None = None,
               name: str | None = None, task: str = "classification",
               dimension: str | None = None, kinds: Mapping[str, str] | None = None,
               media_root: str | os.PathLike | None = "table", allow_outside: bool = False) -> Dataset:
    """Read a table into a :class:`Dataset` using a column mapping.

    ``modalities`` maps modality name -> column (e.g. ``{"text": "utterance"}``). ``labels`` fixes the
    ordered label set (a label outside it is an error); otherwise the sorted unique labels are used.
    With ``split``, each row's value in that column names its split; ``splits`` optionally lists the
    split names expected (an unknown or missing one is an error). Columns not mapped go to
    ``Sample.meta``. Ids are kept as exact strings. Values are kept as read: a JSON list (dialogue
    turns) stays a list, a CSV cell holding ``["a", "b"]`` stays a string. ``kinds`` declares the
    kind of some modalities (the others are inferred, see :func:`schema.infer_kind`).
    Image / audio / video values are file paths resolved against ``media_root`` (default: the table's
    folder, never the current directory) and must stay inside it -- ``..`` escapes and absolute paths are
    refused unless ``allow_outside=True``; ``media_root=None`` keeps them as read.
    """
    path = Path(path)
    file = str(path)
    if path.is_dir():
        raise DataError(f"is a folder; expected a table file ({', '.join(sorted(FORMATS))})", file=file)
    if not isinstance(modalities, Mapping):
        raise DataError(f"modalities must map modality names to columns, e.g. {{'text': 'utterance'}}; got "
                        f"{type(modalities).__name__}", file=file, field="modalities")
    for what, column in (("id", id), ("label", label), ("group", group), ("split", split),
                         *((f"modalities.{m}", c) for m, c in modalities.items())):
        if column is not None and not isinstance(column, str):
            raise DataError(f"a column name is a string, got {column!r}", file=file, field=what)
    if splits is not None and split is None:
        raise DataError("expected split names given but no split column mapped", file=file, field="split")
    if not modalities:
        raise DataError("no modality columns mapped", file=file)
    mapped = dict.fromkeys([id, *modalities.values(), *(c for c in (label, group, split) if c)])
    label_set = check_label_list(labels, file=file) if labels is not None else None
    allowed = set(label_set) if label_set is not None else None
    label_kinds: dict[str, str] = {}
    expected_splits = list(splits) if splits is not None else None
    samples: list[Sample] = []
    split_ids: dict[str, list[str]] = {s: [] for s in expected_splits or []}
    first_seen: dict[str, str] = {}
    found_labels: set[str] = set()
    kind = table_format(path)
    for number, record in enumerate(read_records(path)):
        if number == 0 and kind in ("csv", "tsv", "parquet"):  # the columns come from the header
            header = Record("line 1 (header)" if kind != "parquet" else "schema", record.fields)
            for column in mapped:
                get_field(header, column, file, required=False)
        raw_id = get_field(record, id, file)
        try:
            sample_id = as_text_id(raw_id)
        except ValueError as err:
            raise DataError(str(err), file=file, record=record.where, field=id) from None
        if sample_id in first_seen:
            raise DataError(f"duplicate id {sample_id!r} (first at {first_seen[sample_id]})", file=file,
                            record=record.where, field=id)
        first_seen[sample_id] = record.where
        inputs = {m: get_field(record, column, file, what=f"modality {m!r}")
                  for m, column in modalities.items()}
        sample_label = None
        if label is not None:
            sample_label = check_label_types(get_field(record, label, file), label_kinds, file=file,
                                             record=record.where, field=label)
            if allowed is not None and sample_label not in allowed:
                close = difflib.get_close_matches(sample_label, label_set or [], n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise DataError(f"unknown label {sample_label!r}{hint}; expected one of {label_set}",
                                file=file, record=record.where, field=label)
            found_labels.add(sample_label)
        sample_group = None
        if group is not None:
            value = get_field(record, group, file, required=False)
            sample_group = None if is_missing(value) else str(value)
        if split is not None:
            split_name = str(get_field(record, split, file))
            if expected_splits is not None and split_name not in split_ids:
                raise DataError(f"unknown split {split_name!r}; expected one of {expected_splits}",
                                file=file, record=record.where, field=split)
            split_ids.setdefault(split_name, []).append(sample_id)
        meta = {k: v for k, v in record.fields.items() if k not in mapped}
        meta["record"] = record.where
        samples.append(Sample(sample_id, inputs, sample_label, sample_group, meta))
    if not samples:
        raise DataError("no records", file=file)
    empty = [s for s, ids in split_ids.items() if not ids]
    if empty:
        raise DataError(f"split {empty[0]!r} is empty (no row has {split}={empty[0]!r})", file=file,
                        field=split or "split")
    if media_root is not None and samples:
        from .schema import infer_kind

        root = path.resolve().parent if media_root == "table" else Path(media_root).resolve()
        for m in modalities:
            kind = (kinds or {}).get(m) or infer_kind(samples[0].inputs[m])
            if kind in ("image", "audio", "video"):
                for sample in samples:
                    sample.inputs[m] = _media(sample.inputs[m], kind, root, file, sample.meta["record"],
                                              modalities[m], allow_outside=allow_outside)
    return Dataset(name=name or path.stem, labels=tuple(label_set or sorted(found_labels)), samples=samples,
                   modalities=tuple(modalities), splits=split_ids, task=task, dimension=dimension,
                   source=file, kinds=dict(kinds or {}), info={"format": kind, "columns": {"id": id, "label": label,
                                      "group": group, "split": split, **dict(modalities)}})
