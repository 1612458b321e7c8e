"""Datasets: the schema, generic readers, adapters for known corpora, synthetic data."""

from .schema import Dataset, Sample

__all__ = ["Dataset", "Sample"]
