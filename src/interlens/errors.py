"""Error types. Every data error names the file, the record and the field it is about."""

from __future__ import annotations


class InterlensError(Exception):
    """Base class of every error interlens raises on purpose."""


class DataError(InterlensError, ValueError):
    """Bad input data: names *where* (file, record, field) and *what* is wrong."""

    def __init__(self, message: str, *, file: str | None = None, record: str | int | None = None,
                 field: str | None = None) -> None:
        self.file, self.record, self.field, self.reason = file, record, field, message
        where = []
        if file is not None:
            where.append(f"file {file}")
        if record is not None:
            where.append(f"record {record}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class RegistryError(InterlensError, KeyError):
    """Unknown name in a registry; the message suggests the closest known names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def unknown_name(kind: str, name: str, known: list[str] | tuple[str, ...]) -> RegistryError:
    """Build a "did you mean" error for an unknown registry name."""
    import difflib

    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return RegistryError(f"unknown {kind} {name!r}.{hint} Known: {', '.join(sorted(known))}.")
