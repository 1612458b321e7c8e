"""Where the real datasets live. Never hard-coded: ``$INTERLENS_DATA`` or ``../shared/data``
(relative to the current directory, then to the repository), or an explicit ``--data-root``."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import DataError

DATA_ENV = "INTERLENS_DATA"


def _given_root(path: Path, what: str) -> Path:
    """A folder the user named: it must exist (never a silent fallback to another folder)."""
    if not path.exists():
        raise DataError(f"{what} does not exist", file=str(path), field="data_root")
    if not path.is_dir():
        raise DataError(f"{what} is a file, not a folder", file=str(path), field="data_root")
    return path


def find_data_root(explicit: str | os.PathLike | None = None) -> Path | None:
    """The data folder: ``explicit`` (--data-root) or ``$INTERLENS_DATA`` when given -- they must exist,
    never a silent fallback --, else the first existing default candidate, or None."""
    if explicit is not None and str(explicit) != "":
        return _given_root(Path(explicit), "--data-root")
    if os.environ.get(DATA_ENV):
        return _given_root(Path(os.environ[DATA_ENV]), f"${DATA_ENV}")
    candidates = []
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


def portable_source(source: str | None) -> str | None:
    """``source`` with the data folder written as ``<data_root>`` (results and provenance carry no machine
    paths); other paths unchanged."""
    if not source:
        return source
    try:
        root = find_data_root()
    except DataError:  # a bad $INTERLENS_DATA is reported where data is read, not here
        return source
    for prefix in {str(root), str(root.resolve())} if root is not None else ():
        if source.startswith(prefix.rstrip("/") + "/"):
            return "<data_root>" + source[len(prefix.rstrip("/")):]
    return source


#: a name that may become one path component: letters, digits, ``_ . + -`` and inner spaces; no leading dot
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+\- ]{0,127}")


def safe_name(name: object, what: str, *, file: str | None = None) -> str:
    """``name`` when it can be pasted into a path as one component (issue 30: dataset, task, unit and model
    names become ``<out>/units/...`` paths): letters, digits, ``_ . + -`` and inner spaces, at most 128
    characters, not starting with a dot; anything else (``/``, ``\\``, ``..``, control characters, a
    leading dot) is a :class:`DataError` naming ``what``."""
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name) or name.endswith(" ") or ".." in name:
        raise DataError(f"{what} {name!r} cannot name a file: use letters, digits and _ . + - (no path "
                        "separators, no '..', no leading dot, at most 128 characters)", file=file, field=what)
    return name


def inside(root: str | os.PathLike, path: str | os.PathLike, what: str = "path") -> Path:
    """``path`` after checking that it resolves (links followed) inside ``root``: a path derived from a name
    never leaves its root (``--out``) before anything is written to or removed from it."""
    root_real = Path(root).resolve()
    real = Path(path).resolve()
    if real != root_real and not real.is_relative_to(root_real):
        raise DataError(f"{what} {str(path)!r} resolves to {str(real)!r}, outside {str(root_real)!r}; refused",
                        field=what)
    return Path(path)
