"""Datasets: the schema, generic readers, adapters for known corpora, synthetic data."""

from .adapters import list_datasets, load_dataset
from .readers import read_table
from .resolve import describe_dataset, resolve_dataset
from .schema import Dataset, Sample

__all__ = ["Dataset", "Sample", "describe_dataset", "list_datasets", "load_dataset", "read_table", "resolve_dataset"]
