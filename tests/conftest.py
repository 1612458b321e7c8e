"""Shared fixtures. Tests that need ../shared/data skip where it is absent, but fail under CI=true."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from interlens.data.paths import find_data_root

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = find_data_root()
    if root is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but ../shared/data (or $INTERLENS_DATA) is missing")
        pytest.skip("real data not found: put ../shared/data beside the repo or set $INTERLENS_DATA")
    return root


@pytest.fixture()
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "cache.sqlite"


@pytest.fixture(autouse=True)
def _own_test_look_ledger(tmp_path_factory, monkeypatch):
    """Each test records its test looks (issue 26) in its own ledger, never the user's."""
    monkeypatch.setenv("INTERLENS_LEDGER", str(tmp_path_factory.mktemp("ledger") / "ledger.sqlite"))
