"""Shared CLI helpers: the error boundary, results.json output, console.

Every command is wrapped by :func:`friendly_errors` (``tests/test_bad_inputs.py`` checks that no
command is left out): an expected failure -- our own errors, and file-system, encoding, JSON/YAML,
table, sqlite, image and validation errors -- becomes ONE line on stderr naming what is known (file,
record, field) and exit code 2; anything else is reported as an internal error in one line (exit 1)
that points to ``--debug``. ``interlens --debug CMD`` or ``INTERLENS_DEBUG=1`` re-raises with the
traceback instead.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import typer
from rich.console import Console
from rich.markup import escape

from ..errors import InterlensError
from ..logs import make_console

console: Console = make_console(soft_wrap=True)  # full-width tables when not a terminal (issue 28)
err_console: Console = make_console(soft_wrap=True, stderr=True)

DEBUG_ENV = "INTERLENS_DEBUG"
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1
_debug = False

#: modules whose frames mark a ValueError / TypeError / KeyError as a data-reading failure (exit 2)
_READING_MODULES = ("interlens.data", "interlens.predictions", "interlens.scoring.precomputed", "interlens.io",
                    "interlens.cache", "interlens.experts.authors", "interlens.bench.tasks", "interlens.bench.report",
                    "interlens.scoring.encoders", "interlens.prompts", "pandas", "pyarrow", "PIL", "yaml", "json",
                    "csv", "numpy.lib", "safetensors", "torch.serialization", "pydantic")
#: local variable names that hold the file being read (innermost frame wins)
_PATH_LOCALS = ("path", "file", "filename", "source", "filepath_or_buffer")


def set_debug(enabled: bool) -> None:
    """Turn traceback mode on or off (the ``--debug`` global option)."""
    global _debug
    _debug = enabled


def debug_enabled() -> bool:
    return _debug or os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on")


#: the global ``--debug`` option (declared on the app's callback in ``cli/__init__.py``)
DEBUG_OPTION = typer.Option(False, "--debug", help="Show the full traceback of an error (also: INTERLENS_DEBUG=1).")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _frames(err: BaseException) -> list[types.FrameType]:
    frames, tb = [], err.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def _modules(err: BaseException) -> list[str]:
    return [str(f.f_globals.get("__name__", "")) for f in _frames(err)]


def _file_hint(err: BaseException) -> str | None:
    """The file being read when ``err`` was raised, from the innermost frame that names one."""
    filename = getattr(err, "filename", None)
    if filename:
        return str(filename)
    for frame in reversed(_frames(err)):
        for key in _PATH_LOCALS:
            value = frame.f_locals.get(key)
            if isinstance(value, str | os.PathLike) and str(value) and len(str(value)) < 500:
                try:
                    if Path(value).exists():
                        return str(value)
                except (OSError, ValueError):
                    continue
    return None


#: errno values of a full disk or quota: the write that failed names no file, the frames do (issue 30)
_NO_SPACE = (28, 122)  # ENOSPC, EDQUOT


def _writing_to(err: BaseException) -> str | None:
    """The file being written when ``err`` was raised (innermost frame naming one; it need not exist yet)."""
    for frame in reversed(_frames(err)):
        for key in (*_PATH_LOCALS, "tmp"):
            value = frame.f_locals.get(key)
            if isinstance(value, str | os.PathLike) and str(value) and len(str(value)) < 500:
                return str(value)
    return None


def _file_in_path(path: object) -> str | None:
    """The first component of ``path`` that is a file (``--out results.csv`` used as a folder)."""
    if not isinstance(path, str | os.PathLike):
        return None
    for parent in [*reversed(Path(path).parents), Path(path)]:
        if parent.is_file():
            return str(parent)
    return None


def _where(err: BaseException) -> str:
    hint = _file_hint(err)
    return f"file {hint}: " if hint else ""


def describe_error(err: BaseException) -> tuple[str, int]:
    """``(one-line message, exit code)`` for an exception escaping a command."""
    if isinstance(err, InterlensError):
        return _one_line(str(err)), EXIT_BAD_INPUT
    name = type(err).__name__
    if isinstance(err, FileNotFoundError):
        return _one_line(f"file not found: {err.filename or err}"), EXIT_BAD_INPUT
    if isinstance(err, IsADirectoryError):
        return _one_line(f"expected a file, got a folder: {err.filename or err}"), EXIT_BAD_INPUT
    if isinstance(err, NotADirectoryError):
        return _one_line(f"expected a folder, got a file: {_file_in_path(err.filename) or err.filename or err}"), \
            EXIT_BAD_INPUT
    if isinstance(err, PermissionError):
        return _one_line(f"permission denied: {err.filename or err}"), EXIT_BAD_INPUT
    if isinstance(err, UnicodeError):
        detail = (f"cannot decode bytes as {err.encoding} at position {err.start}: {err.reason}"
                  if isinstance(err, UnicodeDecodeError) else str(err))
        return _one_line(f"{_where(err)}{detail} (is it a text file in UTF-8?)"), EXIT_BAD_INPUT
    if isinstance(err, json.JSONDecodeError):
        return _one_line(f"{_where(err)}malformed JSON at line {err.lineno}, column {err.colno}: {err.msg}"), \
            EXIT_BAD_INPUT
    if isinstance(err, sqlite3.Error):
        return _one_line(f"{_where(err)}database error ({err}); for the prediction cache rerun with --no-cache "
                         "or delete the file"), EXIT_BAD_INPUT
    expected = _third_party_expected(err)
    if expected is not None:
        return _one_line(f"{_where(err)}{expected}"), EXIT_BAD_INPUT
    if isinstance(err, OSError):  # disk full, device errors, PIL's "cannot identify image file", ...
        filename = err.filename or (_writing_to(err) if err.errno in _NO_SPACE else None)
        detail = f"{err.strerror}: {filename}" if err.strerror and filename else str(err) or name
        return _one_line(detail), EXIT_BAD_INPUT
    if isinstance(err, ValueError | TypeError | KeyError | IndexError) and any(
            m.startswith(_READING_MODULES) for m in _modules(err)):
        detail = f"missing key {err.args[0]!r}" if isinstance(err, KeyError) and err.args else str(err)
        return _one_line(f"{_where(err)}cannot read the input: {detail or name}"), EXIT_BAD_INPUT
    return _one_line(f"internal error: {name}: {err} (run with --debug for the traceback)"), EXIT_INTERNAL


def _third_party_expected(err: BaseException) -> str | None:
    """Messages for parser / validation errors of optional libraries (imported only if loaded)."""
    yaml = sys.modules.get("yaml")
    if yaml is not None and isinstance(err, yaml.YAMLError):
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        return f"malformed YAML{where}: {problem}"
    pandas_errors = sys.modules.get("pandas.errors")
    if pandas_errors is not None and isinstance(err, pandas_errors.ParserError | pandas_errors.EmptyDataError):
        return f"cannot parse the table: {err}"
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(err, pydantic.ValidationError):
        first = err.errors()[0] if err.errors() else {"loc": (), "msg": str(err)}
        loc = ".".join(str(p) for p in first.get("loc", ())) or "value"
        more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
        return f"field {loc!r}: {first.get('msg')}{more}"
    pil = sys.modules.get("PIL.Image")
    if pil is not None and isinstance(err, pil.UnidentifiedImageError):
        return f"not a readable image: {err}"
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None and isinstance(err, pyarrow.ArrowException):
        return f"cannot read the Parquet/Arrow file: {err}"
    return None


def report_error(err: BaseException) -> int:
    """Print the one-line message for ``err`` on stderr; return the exit code."""
    message, code = describe_error(err)
    err_console.print(f"[bold red]error:[/] {escape(message)}" if code == EXIT_BAD_INPUT else
                      f"[bold red]{escape(message)}[/]")
    return code


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """The error boundary of one command (see the module docstring)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.exceptions.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            if debug_enabled():
                raise
            err_console.print("[bold red]interrupted[/]")
            raise typer.Exit(130) from None
        except Exception as err:
            if debug_enabled():
                raise
            raise typer.Exit(report_error(err)) from None

    wrapper.friendly_errors = True  # type: ignore[attr-defined]
    return wrapper


def write_results(out: Path, results: dict[str, Any] | None = None, *, datasets: list[Any] | None = None,
                  scorer: Any = None, seeds: list[int] | None = None, limits: dict[str, Any] | None = None,
                  settings: dict[str, Any] | None = None, report: bool = True, predictions: Any = None,
                  checks: list[dict[str, Any]] | None = None) -> Path:
    """Write ``out/results.json`` atomically with its provenance block, build ``out/report.html``, say where.

    ``results=None`` completes a ``results.json`` a pipeline already wrote (adds provenance, builds the
    report). Provenance comes from the running command (its options, the datasets and scorer it loaded)
    and the results; the keyword arguments add to or override it (see :mod:`interlens.provenance`).
    ``predictions`` / ``checks``: per-sample rows stored beside it for ``interlens verify``
    (:func:`interlens.evidence.store.save_result`, issue 26).
    """
    from ..evidence.store import save_result
    from ..io import read_json
    from ..provenance import attach, collect

    out = Path(out)
    if results is None:
        results = read_json(out / "results.json")
    provenance = collect(results, datasets=datasets, scorer=scorer, seeds=seeds, limits=limits, settings=settings)
    results = attach(results, provenance)
    path = save_result(out, results, predictions=predictions, checks=checks)
    console.print(f"results: [bold]{path}[/]")
    if report:
        from ..report.html import build_html_report

        console.print(f"report: [bold]{build_html_report(out, results)}[/]")
    return path


def print_verdict(results: dict[str, Any]) -> None:
    """Issue 26: each of ``results["warnings"]`` as a visible warning line, then the ``verdict`` line last."""
    for line in results.get("warnings") or []:
        console.print(f"WARNING: {line}", style="bold yellow", markup=False, highlight=False)
    if results.get("verdict"):
        console.print(f"verdict: {results['verdict']}", style="bold", markup=False, highlight=False)
