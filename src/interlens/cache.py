"""Prediction cache in an embedded SQLite database.

Key: (scorer fingerprint, view, dataset fingerprint, sample id) -> probability vector. Each batch
is committed as it is computed, so a killed run resumes where it stopped. Every row carries a
checksum of its key and values: a corrupted file or an altered row is reported (with how to
recover: ``--no-cache`` or delete the file), never used silently and never a raw sqlite traceback.

A cache the process may not write (a read-only file or folder, e.g. a shared cache) is opened read-only
(issue 30): cached rows are read and checked as usual, new rows are not stored (one warning), and no error
ever advises deleting it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from .errors import DataError

logger = logging.getLogger(__name__)

DEFAULT_CACHE_ENV = "INTERLENS_CACHE"
TABLE = "predictions_v2"  # v2: per-row checksum


def default_cache_path() -> Path:
    """``$INTERLENS_CACHE`` or ``~/.cache/interlens/predictions.sqlite``."""
    env = os.environ.get(DEFAULT_CACHE_ENV)
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "interlens" / "predictions.sqlite"


def _checksum(scorer: str, view: str, dataset: str, sample_id: str, k: int, blob: bytes) -> str:
    head = "\x1f".join((scorer, view, dataset, sample_id, str(k))).encode()
    return hashlib.sha256(head + b"\x1e" + blob).hexdigest()[:16]


class PredictionCache:
    """A thin, safe wrapper over one SQLite file (WAL mode; one row per sample, checksummed)."""

    def __init__(self, path: str | os.PathLike | None = None, *, readonly: bool | None = None) -> None:
        """``readonly``: open for reading only (None: when the file or its folder is not writable)."""
        self.path = Path(path) if path is not None else default_cache_path()
        self._warned = False
        self.readonly = False
        with self._guard():
            if self.path.exists() and self.path.is_dir():
                raise DataError("the cache path is a folder, not a file", file=str(self.path))
            if readonly is None:
                readonly = self.path.is_file() and not (os.access(self.path, os.W_OK)
                                                        and os.access(self.path.parent, os.W_OK))
            if readonly:
                self._open_readonly()
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=60)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (scorer TEXT NOT NULL, view TEXT NOT NULL, "
                "dataset TEXT NOT NULL, sample_id TEXT NOT NULL, k INTEGER NOT NULL, probs BLOB NOT NULL, "
                "checksum TEXT NOT NULL, PRIMARY KEY (scorer, view, dataset, sample_id))")
            self._conn.commit()

    def _open_readonly(self) -> None:
        """Read-only: ``mode=ro`` (``immutable=1`` too when the folder cannot hold sqlite's side files)."""
        from urllib.parse import quote

        if not self.path.is_file():
            raise DataError("a read-only cache must be an existing file", file=str(self.path))
        immutable = "&immutable=1" if not os.access(self.path.parent, os.W_OK) else ""
        self._conn = sqlite3.connect(f"file:{quote(str(self.path.resolve()))}?mode=ro{immutable}", uri=True,
                                     timeout=60)
        self.readonly = True
        found = self._conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name=?", (TABLE,))
        self._has_table = found.fetchone() is not None

    def _skip_write(self) -> bool:
        if self.readonly and not self._warned:
            logger.warning("prediction cache %s is read-only: new predictions are not stored in it", self.path)
            self._warned = True
        return self.readonly

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """sqlite / file-system failures -> one DataError naming the file and the way out."""
        try:
            yield
        except sqlite3.Error as err:
            if "readonly" in str(err).replace("-", "").replace(" ", "").lower():
                raise DataError(f"prediction cache is read-only ({err}); make it writable, or use --cache PATH "
                                "for a cache of your own, or --no-cache", file=str(self.path)) from None
            if "full" in str(err).lower():
                raise DataError(f"no space left on device for the prediction cache ({err}); free space, or use "
                                "--cache PATH on another disk, or --no-cache", file=str(self.path)) from None
            raise DataError(f"prediction cache unusable ({err}); rerun with --no-cache or delete the file",
                            file=str(self.path)) from None
        except OSError as err:
            raise DataError(f"prediction cache unusable ({err.strerror or err}); use --cache PATH or --no-cache",
                            file=str(self.path)) from None

    def get(self, scorer: str, view: str, dataset: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached rows for ``ids`` (absent ids are simply not in the result); corrupt rows are refused."""
        found: dict[str, np.ndarray] = {}
        ids = list(ids)
        if self.readonly and not self._has_table:
            return found
        with self._guard():
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT sample_id, k, probs, checksum FROM {TABLE} WHERE scorer=? AND view=? AND dataset=? "
                    f"AND sample_id IN ({marks})", (scorer, view, dataset, *chunk)).fetchall()
                for sample_id, k, blob, checksum in rows:
                    ok = (isinstance(k, int) and k >= 1 and isinstance(blob, bytes) and len(blob) == 8 * k
                          and checksum == _checksum(scorer, view, dataset, str(sample_id), k, blob))
                    if not ok:
                        raise DataError("cached row fails its integrity check (the file was altered or corrupted); "
                                        "rerun with --no-cache or delete the file", file=str(self.path),
                                        record=f"id {sample_id}, view {view}", field="probs")
                    found[str(sample_id)] = np.frombuffer(blob, dtype=np.float64, count=k).copy()
        return found

    def put(self, scorer: str, view: str, dataset: str, ids: Sequence[str], probs: np.ndarray) -> None:
        """Store one batch in a single transaction (a read-only cache stores nothing: one warning)."""
        probs = np.asarray(probs, dtype=np.float64)
        if probs.ndim != 2 or probs.shape[0] != len(ids):
            raise DataError(f"cannot cache probabilities of shape {probs.shape} for {len(ids)} ids", field="probs")
        if self._skip_write():
            return
        rows = []
        for n, i in enumerate(ids):
            blob = np.ascontiguousarray(probs[n]).tobytes()
            k = probs.shape[1]
            rows.append((scorer, view, dataset, str(i), k, blob, _checksum(scorer, view, dataset, str(i), k, blob)))
        with self._guard(), self._conn:
            self._conn.executemany(f"INSERT OR REPLACE INTO {TABLE} VALUES (?,?,?,?,?,?,?)", rows)

    def count(self, scorer: str | None = None) -> int:
        if self.readonly and not self._has_table:
            return 0
        with self._guard():
            if scorer is None:
                return self._conn.execute(f"SELECT COUNT(*) FROM {TABLE}").fetchone()[0]
            return self._conn.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE scorer=?", (scorer,)).fetchone()[0]

    def clear(self, scorer: str | None = None) -> None:
        if self.readonly:
            raise DataError("prediction cache is read-only: nothing was removed", file=str(self.path))
        with self._guard(), self._conn:
            if scorer is None:
                self._conn.execute(f"DELETE FROM {TABLE}")
            else:
                self._conn.execute(f"DELETE FROM {TABLE} WHERE scorer=?", (scorer,))

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> PredictionCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
