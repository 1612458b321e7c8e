"""What a shared report may embed (issue 30 item 4): only files the run wrote.

A report travels to other people, so it embeds a file only when it is a *regular* file *inside the run
folder*, reached without following any symlink (``is_symlink()`` is checked on every path component below
the run folder), and starts with the PNG signature. Anything else -- a symlink (to a secret, or anywhere),
an absolute path listed in results.json that leaves the folder, ``..``, a device or folder, a text file
named ``*.png`` -- is skipped with a reason the caller shows as a warning.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: larger files are not embedded (a report stays a page, not an archive)
MAX_EMBED_BYTES = 20 * 1024 * 1024


def relative_inside(run_dir: Path, path: str | Path) -> PurePosixPath | None:
    """``path`` (relative to ``run_dir``, or absolute) as a path below ``run_dir``, compared lexically
    (no symlink is resolved); None when it leaves the folder (``..``, or an absolute path elsewhere)."""
    path = Path(path)
    if path.is_absolute():
        for root in dict.fromkeys((run_dir.absolute(), run_dir.resolve())):
            try:
                path = path.relative_to(root)
                break
            except ValueError:
                continue
        else:
            return None
    parts = PurePosixPath(path.as_posix()).parts
    if not parts or any(p in ("..", "") for p in parts):
        return None
    return PurePosixPath(*[p for p in parts if p != "."])


def read_embeddable_png(run_dir: str | Path, path: str | Path) -> tuple[bytes | None, str | None]:
    """``(png_bytes, None)`` when ``path`` may be embedded, else ``(None, reason)``; see the module docstring."""
    run_dir = Path(run_dir)
    rel = relative_inside(run_dir, path)
    if rel is None:
        return None, "outside the run folder"
    current = run_dir
    for part in rel.parts:
        current = current / part
        if current.is_symlink():
            return None, "a symlink" if current.name == rel.name else f"under a symlink ({part})"
    try:
        info = current.lstat()
    except OSError:
        return None, "missing"
    if not stat.S_ISREG(info.st_mode):
        return None, "not a regular file"
    if info.st_size > MAX_EMBED_BYTES:
        return None, f"larger than {MAX_EMBED_BYTES // (1024 * 1024)} MB"
    try:  # O_NOFOLLOW + fstat: the file read is the regular file checked, even if it was swapped meanwhile
        fd = os.open(current, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as err:
        return None, f"unreadable ({err.strerror})"
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None, "not a regular file"
        data = handle.read(MAX_EMBED_BYTES + 1)
    if not data.startswith(PNG_SIGNATURE):
        return None, "not a PNG (no PNG signature)"
    return data, None
