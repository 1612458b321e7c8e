"""Where the real datasets live. Never hard-coded: ``$INTERLENS_DATA`` or ``../shared/data``
(relative to the current directory, then to the repository), or an explicit ``--data-root``."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataError

DATA_ENV = "INTERLENS_DATA"


def find_data_root(explicit: str | os.PathLike | None = None) -> Path | None:
    """The first existing candidate, or None."""
    candidates = []
    if explicit is not None:
        candidates.append(Path(explicit))
    if os.environ.get(DATA_ENV):
        candidates.append(Path(os.environ[DATA_ENV]))
    candidates.append(Path.cwd().parent / "shared" / "data")
    candidates.append(Path(__file__).resolve().parents[3].parent / "shared" / "data")
    for path in candidates:
        if path.is_dir():
            return path
    return None


def data_root(explicit: str | os.PathLike | None = None) -> Path:
    """Like :func:`find_data_root` but raises a clear error when nothing is found."""
    root = find_data_root(explicit)
    if root is None:
        raise DataError(f"no data directory found; pass --data-root or set ${DATA_ENV} "
                        "(expected a folder like ../shared/data)", file=str(explicit) if explicit else None)
    return root
