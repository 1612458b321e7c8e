"""Atomic file output: a killed run never leaves a half-written file behind."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path`` (same directory)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual 0644
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, paths, sets and NaN into plain JSON values (NaN -> null)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        value = float(obj)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(obj, os.PathLike):
        return str(obj)
    if hasattr(obj, "to_dict"):
        return to_jsonable(obj.to_dict())
    return obj


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically; numpy values and NaN are converted."""
    return atomic_write_text(path, json.dumps(to_jsonable(data), indent=2, ensure_ascii=False) + "\n")


def read_json(path: str | os.PathLike, *, missing: str = "file not found") -> Any:
    """Read a JSON file; a syntax error names the file, line and column; ``missing``: the message when the
    file does not exist (e.g. "not a saved router: router.json missing")."""
    from .errors import DataError

    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(missing, file=str(path)) from None
    except IsADirectoryError:
        raise DataError("is a folder; expected a JSON file", file=str(path)) from None
    except UnicodeDecodeError as err:
        raise DataError(f"not a UTF-8 text file (byte {err.start}: {err.reason}); expected JSON",
                        file=str(path)) from None
    except json.JSONDecodeError as err:
        raise DataError(f"malformed JSON at line {err.lineno}, column {err.colno}: {err.msg}",
                        file=str(path)) from None
    except OSError as err:
        raise DataError(f"cannot read: {err.strerror or err}", file=str(path)) from None


def json_or_text(raw: str) -> Any:
    """A command-line value: the JSON literal it spells (``3``, ``true``, ``[1, 2]``, ``null``), else the text."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw
