"""Prediction cache in an embedded SQLite database.

Key: (scorer fingerprint, view, dataset fingerprint, sample id) -> probability vector. Each batch
is committed as it is computed, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DEFAULT_CACHE_ENV = "INTERLENS_CACHE"


def default_cache_path() -> Path:
    """``$INTERLENS_CACHE`` or ``~/.cache/interlens/predictions.sqlite``."""
    env = os.environ.get(DEFAULT_CACHE_ENV)
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "interlens" / "predictions.sqlite"


class PredictionCache:
    """A thin, safe wrapper over one SQLite file (WAL mode; one row per sample)."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=60)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS predictions (scorer TEXT NOT NULL, view TEXT NOT NULL, "
            "dataset TEXT NOT NULL, sample_id TEXT NOT NULL, k INTEGER NOT NULL, probs BLOB NOT NULL, "
            "PRIMARY KEY (scorer, view, dataset, sample_id))")
        self._conn.commit()

    def get(self, scorer: str, view: str, dataset: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached rows for ``ids`` (absent ids are simply not in the result)."""
        found: dict[str, np.ndarray] = {}
        ids = list(ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT sample_id, k, probs FROM predictions WHERE scorer=? AND view=? AND dataset=? "
                f"AND sample_id IN ({marks})", (scorer, view, dataset, *chunk))
            for sample_id, k, blob in rows:
                found[sample_id] = np.frombuffer(blob, dtype=np.float64, count=k).copy()
        return found

    def put(self, scorer: str, view: str, dataset: str, ids: Sequence[str], probs: np.ndarray) -> None:
        """Store one batch in a single transaction."""
        probs = np.asarray(probs, dtype=np.float64)
        rows = [(scorer, view, dataset, str(i), probs.shape[1], probs[n].tobytes()) for n, i in enumerate(ids)]
        with self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO predictions VALUES (?,?,?,?,?,?)", rows)

    def count(self, scorer: str | None = None) -> int:
        if scorer is None:
            return self._conn.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]
        return self._conn.execute("SELECT COUNT(*) FROM predictions WHERE scorer=?", (scorer,)).fetchone()[0]

    def clear(self, scorer: str | None = None) -> None:
        with self._conn:
            if scorer is None:
                self._conn.execute("DELETE FROM predictions")
            else:
                self._conn.execute("DELETE FROM predictions WHERE scorer=?", (scorer,))

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> PredictionCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
