"""One entry point for every ``--dataset``: a registered name, a built-in generator, a dataset file
(YAML, see :mod:`interlens.data.files`; or a table with ``id`` / ``label`` columns, read by convention) or
an in-memory :class:`Dataset`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import DataError
from .readers import FORMATS
from .schema import Dataset

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
