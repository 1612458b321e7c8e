"""Reproducible across processes (issue 11): the demo run in two processes with different
PYTHONHASHSEED gives the same results.json (everything but the wall-clock fields and provenance)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

#: fields that legitimately differ between runs (time taken, when and how the run was started)
VOLATILE = ("runtime_seconds", "provenance")


def _demo(out: Path, hash_seed: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "INTERLENS_DEBUG": "1"}
    return subprocess.Popen([sys.executable, "-m", "interlens", "demo", "--out", str(out), "--n", "200",
                             "--no-cache"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
def test_demo_is_identical_under_different_hash_seeds(tmp_path: Path) -> None:
    runs = {seed: _demo(tmp_path / f"hash{seed}", seed) for seed in ("1", "4242")}
    results = {}
    for seed, proc in runs.items():
        output, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, output
        data = json.loads((tmp_path / f"hash{seed}" / "results.json").read_text())
        results[seed] = {k: v for k, v in data.items() if k not in VOLATILE}
    assert "fusion" in results["1"] and "interaction_score" in results["1"]  # experts and score both ran
    assert json.dumps(results["1"], sort_keys=True) == json.dumps(results["4242"], sort_keys=True)
