"""Content hashes for the files interlens reuses (issue 30, "integrity where a file is reused").

A reused file -- a fitted-scorer checkpoint, a bench unit (``units/*.json``) or samples file
(``samples/*.jsonl``), a saved model's files -- gets a ``<file>.sha256`` sidecar in ``sha256sum`` format
(``<hex>  <name>``) when it is written, and the sidecar is checked before the file is used: a file edited,
truncated or bit-flipped after it was written is refused in one line naming it and the recovery, never used.
``sha256sum -c <file>.sha256`` (run in the file's folder) checks the same thing outside interlens.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .errors import IntegrityError
from .io import atomic_write_text

SUFFIX = ".sha256"
_CHUNK = 1 << 20


def sidecar_path(path: str | os.PathLike) -> Path:
    """``<path>.sha256``."""
    path = Path(path)
    return path.with_name(path.name + SUFFIX)


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of the file's bytes, as 64 lowercase hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_sidecar(path: str | os.PathLike) -> Path:
    """Write ``<path>.sha256`` (``sha256sum`` format: ``<hex>  <filename>\\n``) atomically; returns its path."""
    path = Path(path)
    return atomic_write_text(sidecar_path(path), f"{file_sha256(path)}  {path.name}\n")


def read_sidecar(path: str | os.PathLike) -> str | None:
    """The hex digest recorded beside ``path``, or None when there is no (readable, well-formed) sidecar."""
    side = sidecar_path(path)
    try:
        text = side.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    fields = text.split()
    if not fields or len(fields[0]) != 64 or any(c not in "0123456789abcdef" for c in fields[0].lower()):
        return None
    return fields[0].lower()


def check_sidecar(path: str | os.PathLike, *, recovery: str) -> None:
    """Raise :class:`~interlens.errors.IntegrityError` (one line: the file, "hash mismatch" or "no .sha256
    beside it", and ``recovery``) unless ``path``'s bytes match the hash in ``<path>.sha256``."""
    path = Path(path)
    expected = read_sidecar(path)
    if expected is None:
        raise IntegrityError(f"no {SUFFIX} beside it (cannot tell whether it was changed since it was written); "
                             f"{recovery}", file=str(path))
    try:
        actual = file_sha256(path)
    except FileNotFoundError:
        raise IntegrityError(f"file not found (its {SUFFIX} is there); {recovery}", file=str(path)) from None
    if actual != expected:
        raise IntegrityError(f"hash mismatch (changed or corrupted since it was written); {recovery}",
                             file=str(path))


def read_verified(path: str | os.PathLike, *, recovery: str) -> bytes:
    """The bytes of ``path``, read once and checked against ``<path>.sha256`` (no window between the check and
    the use); :class:`~interlens.errors.IntegrityError` as :func:`check_sidecar` otherwise."""
    path = Path(path)
    expected = read_sidecar(path)
    if expected is None:
        check_sidecar(path, recovery=recovery)  # raises the "no .sha256" line
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise IntegrityError(f"file not found (its {SUFFIX} is there); {recovery}", file=str(path)) from None
    if hashlib.sha256(data).hexdigest() != expected:
        raise IntegrityError(f"hash mismatch (changed or corrupted since it was written); {recovery}",
                             file=str(path))
    return data


def verified(path: str | os.PathLike, *, recovery: str) -> Path:
    """``path`` after :func:`check_sidecar` passes (a convenience for ``open(verified(p, ...))``)."""
    check_sidecar(path, recovery=recovery)
    return Path(path)
