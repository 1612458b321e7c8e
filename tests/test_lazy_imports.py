"""``import interlens`` and the CLI's import load no heavy library (torch, transformers, pandas,
matplotlib, scikit-learn, scipy): they are imported inside the functions that need them. Checked in a
fresh interpreter by module presence, not by time (timings live in benchmarks/bench_import.py)."""

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "transformers", "pandas", "matplotlib", "sklearn", "scipy")


@pytest.mark.parametrize("module", ["interlens", "interlens.cli"])
def test_import_loads_no_heavy_library(module):
    code = f"import sys, json, {module}; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_public_names_still_resolve_lazily():
    import interlens

    assert interlens.View.parse("a+b").modalities == ("a", "b")
    assert {"Dataset", "Predictions", "Sample", "View", "categorize"} <= set(dir(interlens))
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        interlens.nope  # noqa: B018
