"""The test-look ledger (issue 26, item 4): every evaluation of an eval/test split is one row.

A SQLite file kept with the prediction cache (``ledger.sqlite`` in the cache's folder; ``--no-cache``
runs use the default cache's folder; ``$INTERLENS_LEDGER`` names the file outright). Table ``looks``:
``(dataset_fp, split, config_fp, metric, plan_name, plan_sha256, command, time, task)``. The number of
*test looks* of a split is the number of DISTINCT configuration fingerprints evaluated on it
(:func:`count_looks`): re-running or resuming one configuration is not a new look, seeds of one
configuration are one look. Methods record with one call, :func:`record_evaluation`.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import DataError

LEDGER_ENV = "INTERLENS_LEDGER"
FILENAME = "ledger.sqlite"
_SCHEMA = ("CREATE TABLE IF NOT EXISTS looks (dataset_fp TEXT NOT NULL, split TEXT NOT NULL, config_fp TEXT NOT NULL, "
           "metric TEXT, plan_name TEXT, plan_sha256 TEXT, command TEXT, time TEXT NOT NULL, task TEXT)")


def ledger_path(cache_path: str | os.PathLike | None = None) -> Path:
    """``$INTERLENS_LEDGER``, else ``ledger.sqlite`` beside ``cache_path`` (default: the default cache)."""
    env = os.environ.get(LEDGER_ENV, "").strip()
    if env:
        return Path(env)
    from ..cache import default_cache_path

    return Path(cache_path if cache_path is not None else default_cache_path()).parent / FILENAME


@dataclass(frozen=True)
class Look:
    dataset_fp: str
    split: str
    config_fp: str
    metric: str | None
    plan_name: str | None
    plan_sha256: str | None
    command: str | None
    time: str
    task: str | None


@contextlib.contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    try:
        if path.is_dir():
            raise DataError("the test-look ledger path is a folder, not a file", file=str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=60)
        try:
            conn.execute(_SCHEMA)
            yield conn
            conn.commit()
        finally:
            conn.close()
    except sqlite3.Error as err:
        raise DataError(f"cannot use the test-look ledger ({err}); set ${LEDGER_ENV} to another file",
                        file=str(path)) from None


def _command() -> str:
    return shlex.join(["interlens", *sys.argv[1:]]) if sys.argv and Path(sys.argv[0]).name == "interlens" \
        else shlex.join(sys.argv) if sys.argv else "python"


def record_look(dataset_fp: str, split: str, config_fp: str, *, metric: str | None = "acc",
                plan_name: str | None = None, plan_sha256: str | None = None, command: str | None = None,
                task: str | None = None, path: str | os.PathLike | None = None) -> Look:
    """Append one look (an evaluation of ``split`` of the data ``dataset_fp`` by configuration ``config_fp``)."""
    look = Look(str(dataset_fp), str(split), str(config_fp), metric, plan_name, plan_sha256,
                command if command is not None else _command(), datetime.now(UTC).isoformat(timespec="seconds"),
                task)
    with _connect(Path(path) if path is not None else ledger_path()) as conn:
        conn.execute("INSERT INTO looks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (look.dataset_fp, look.split, look.config_fp, look.metric, look.plan_name, look.plan_sha256,
                      look.command, look.time, look.task))
    return look


def looks(dataset_fp: str | None = None, split: str | None = None, *, plan_name: str | None = None,
          path: str | os.PathLike | None = None) -> list[Look]:
    """The recorded looks, oldest first (filtered by data, split and plan name when given)."""
    where, args = [], []
    for column, value in (("dataset_fp", dataset_fp), ("split", split), ("plan_name", plan_name)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(str(value))
    sql = "SELECT * FROM looks" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY rowid"
    target = Path(path) if path is not None else ledger_path()
    if not target.exists():
        return []
    with _connect(target) as conn:
        return [Look(*row) for row in conn.execute(sql, args).fetchall()]


def count_looks(dataset_fp: str, split: str, *, path: str | os.PathLike | None = None) -> int:
    """How many distinct configurations have been evaluated on ``split`` of the data ``dataset_fp``."""
    return len({look.config_fp for look in looks(dataset_fp, split, path=path)})


def record_evaluation(dataset: Any, split: str, config: Any, *, metric: str | None = "acc",
                      cache_path: str | os.PathLike | None = None, task: str | None = None) -> int:
    """The one-liner a method calls when it evaluates ``split`` of ``dataset`` (a Dataset, or its
    fingerprint) with ``config`` (anything JSON-serialisable that fixes the configuration: scorer name,
    parameters, method settings -- never the seed alone); returns the split's test-look count after it."""
    from ..scoring.base import fingerprint_of

    dataset_fp = dataset if isinstance(dataset, str) else str(dataset.fingerprint())
    config_fp = config if isinstance(config, str) and len(config) == 16 else fingerprint_of(config)
    path = ledger_path(cache_path)
    record_look(dataset_fp, split, config_fp, metric=metric, task=task or getattr(dataset, "name", None), path=path)
    return count_looks(dataset_fp, split, path=path)
