"""Build hook: record interlens's own git revision in the built package (``interlens/_build.py``).

Everything else is declared in pyproject.toml. The revision is read from this source tree at build
time, so an installed wheel reports the commit it was built from (``interlens --version``, and the
``provenance`` block of every results.json), never the git state of the user's working directory.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def _revision() -> str | None:
    if not (HERE / ".git").exists():
        return None
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=HERE,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if rev.returncode != 0:
        return None
    return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


class BuildWithRevision(build_py):
    """``build_py`` that also writes ``interlens/_build.py`` (REVISION) into the build, not the source tree."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "interlens" / "_build.py"
        if target.parent.is_dir():
            target.write_text(f'"""Written at build time by setup.py."""\n\nREVISION = {_revision()!r}\n',
                              encoding="utf-8")


setup(cmdclass={"build_py": BuildWithRevision})
