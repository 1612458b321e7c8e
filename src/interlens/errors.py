"""Error types. Every data error names the file, the record and the field it is about."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


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


class ExecutionError(InterlensError, RuntimeError):
    """The executor itself failed (cluster unreachable, worker died); one line in the CLI.

    Defined here, below :mod:`interlens.execution` (which re-exports it), so that ``execution.base`` and
    ``execution.ray_executor`` need not import each other both ways (issue 29)."""


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


def check_known_keys(given: Iterable[str], known: Sequence[str], what: str, field: str | None = None, *,
                     where: str = "") -> None:
    """Refuse the first key of ``given`` not in ``known`` in one line: ``unknown {what} 'key'{where}. Did you
    mean 'close'? Known: ...`` (a :class:`DataError` naming ``field``, default: the key)."""
    import difflib

    for key in given:
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise DataError(f"unknown {what} {key!r}{where}.{hint} Known: {', '.join(known)}", field=field or key)


#: parameters that count or size something: wherever they are given they must be integers >= 1
SIZE_PARAMS = ("batch_size", "epochs", "hidden", "rank", "image_size", "image_dim", "max_length", "max_new_tokens",
               "max_frames", "grad_accum", "max_train", "min_steps", "threads")


def check_size(value: object, field: str, *, minimum: int = 1, file: str | None = None) -> int:
    """``value`` as an int >= ``minimum`` (booleans and fractions refused), else a one-line DataError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value or value < minimum:
        raise DataError(f"must be an integer >= {minimum}, got {value!r}", file=file, field=field)
    return int(value)


def check_sizes(params: dict[str, object], *, names: tuple[str, ...] = SIZE_PARAMS) -> None:
    """:func:`check_size` on every size parameter present in ``params`` (None means "not set")."""
    for key, value in params.items():
        if key in names and value is not None:
            check_size(value, key)


class IntegrityError(DataError):
    """A reused file (checkpoint, bench unit or samples file, saved model) fails its content-hash check or
    has no hash beside it: one line naming the file, what is wrong and the recovery (issue 30)."""
