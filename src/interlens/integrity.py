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
from collections.abc import Callable
from pathlib import Path

from .errors import IntegrityError
from .io import atomic_write, atomic_write_text

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


def write_verified(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Write ``path`` through ``write(tmp)`` with its sidecar, so that a kill at any point leaves no file that
    fails its check: the old file is removed, the new bytes go to a temporary file, their hash to
    ``<path>.sha256``, and only then is the file renamed into place (a kill leaves at worst a sidecar with no
    file: a miss, recomputed)."""
    path = Path(path)

    def write_then_record(tmp: Path) -> None:
        write(tmp)
        path.unlink(missing_ok=True)
        atomic_write_text(sidecar_path(path), f"{file_sha256(tmp)}  {path.name}\n")

    return atomic_write(path, write_then_record)  # the rename onto ``path`` comes last


def write_text_verified(path: str | os.PathLike, text: str) -> Path:
    """:func:`write_verified` of a UTF-8 text."""
    return write_verified(path, lambda p: p.write_text(text, encoding="utf-8"))


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


#: a saved model folder's manifest: one ``sha256sum`` line per file (``sha256sum -c interlens.sha256`` in it)
MANIFEST = "interlens.sha256"


def _folder_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.name != MANIFEST and (p.is_file() or p.is_symlink()))


def write_manifest(root: str | os.PathLike) -> Path:
    """Write ``root/interlens.sha256``: the hash of every file under ``root`` (a saved model folder), in
    ``sha256sum`` format with paths relative to ``root``; returns its path."""
    root = Path(root)
    lines = [f"{file_sha256(p)}  {p.relative_to(root).as_posix()}\n" for p in _folder_files(root)
             if not p.is_symlink()]
    return atomic_write_text(root / MANIFEST, "".join(lines))


def check_manifest(root: str | os.PathLike, *, recovery: str) -> None:
    """Raise :class:`~interlens.errors.IntegrityError` unless every file under ``root`` is listed in its
    ``interlens.sha256`` with a matching hash (a missing manifest, a changed, missing or unlisted file, or a
    symbolic link are each one line naming the file and ``recovery``)."""
    root = Path(root)
    manifest = root / MANIFEST
    if not manifest.is_file():
        raise IntegrityError(f"no {MANIFEST} in this saved model folder (cannot tell whether it was changed); "
                             f"{recovery}", file=str(root))
    listed: dict[str, str] = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name:
            raise IntegrityError(f"malformed line {line[:80]!r}; {recovery}", file=str(manifest))
        if name.startswith("/") or ".." in Path(name).parts:
            raise IntegrityError(f"path {name!r} leaves the folder; {recovery}", file=str(manifest))
        listed[name] = digest.lower()
    for path in _folder_files(root):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            raise IntegrityError(f"a symbolic link in a saved model folder is not followed; {recovery}",
                                 file=str(path))
        if rel not in listed:
            raise IntegrityError(f"file not listed in {MANIFEST} (added after saving); {recovery}", file=str(path))
    for rel, digest in listed.items():
        path = root / rel
        if not path.is_file():
            raise IntegrityError(f"file listed in {MANIFEST} is missing; {recovery}", file=str(path))
        if file_sha256(path) != digest:
            raise IntegrityError(f"hash mismatch (changed or corrupted since it was saved); {recovery}",
                                 file=str(path))
