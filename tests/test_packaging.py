"""``pip install .`` into a fresh virtual environment, then ``interlens --version``, ``python -m interlens``
and ``interlens demo`` from a folder outside the repository (offline: the package is installed without
dependencies and without build isolation; the dependencies come from this test's environment via a
``.pth`` path entry, so nothing is downloaded)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from interlens.provenance import interlens_revision, interlens_version

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
def test_pip_install_in_fresh_venv_then_run_outside_repo(tmp_path):
    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(target)  # no old setuptools of its own
    py = target / "bin" / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path,
                     dict(os.environ)).strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # this env's packages, after ours
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env |= {"PIP_NO_INDEX": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "PATH": f"{target / 'bin'}{os.pathsep}{env.get('PATH', '')}"}
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    # pip builds in the tree (build/ and *.egg-info are git-ignored); setup.py records the revision
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", "--no-build-isolation",
          str(ROOT)], tmp_path, env)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    subprocess.run(["git", "init", "-q", str(outside)], check=True)  # the user's own repository: never recorded
    found = _run([str(py), "-c", "import interlens; print(interlens.__file__)"], outside, env).strip()
    assert found.startswith(str(site)), found  # the installed copy, not the checkout
    version = _run([str(target / "bin" / "interlens"), "--version"], outside, env)
    head = interlens_revision()  # this checkout's revision (+dirty when tracked files changed)
    assert head and head.removesuffix("+dirty") == _run(["git", "rev-parse", "HEAD"], ROOT, env).strip()
    assert version.strip() == f"interlens {interlens_version()} ({head})"
    assert _run([str(py), "-m", "interlens", "--version"], outside, env) == version
    _run([str(target / "bin" / "interlens"), "demo", "--n", "120", "--no-experts", "--no-cache", "--out", "run"],
         outside, env)
    import json

    results = json.loads((outside / "run" / "results.json").read_text())
    assert results["provenance"]["interlens_revision"] == head  # interlens's commit, not the user's repo
    assert results["provenance"]["argv"][:2] == ["interlens", "demo"]
    assert (outside / "run" / "report.html").stat().st_size > 10_000
