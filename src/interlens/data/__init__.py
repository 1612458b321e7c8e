"""Datasets: the schema, generic readers, adapters for known corpora, synthetic data."""

from .adapters import list_datasets, load_dataset
from .frames import from_hf, from_pandas
from .readers import read_table
from .resolve import describe_dataset, resolve_dataset
from .schema import TABLE_BUILDERS, Dataset, Sample

TABLE_BUILDERS.update(pandas=from_pandas, hf=from_hf)  # Dataset.from_pandas / from_hf (schema cannot import frames)

__all__ = ["Dataset", "Sample", "describe_dataset", "list_datasets", "load_dataset", "read_table", "resolve_dataset"]
