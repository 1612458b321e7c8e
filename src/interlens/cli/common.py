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


# -- the command's own record of what it ran (provenance from the CLI's side; issue 29) ---------------------
def _context() -> Any:
    """The running command's click context (typer's vendored click or plain click), or None (a CLI helper
    called from Python)."""
    import importlib

    for name in ("typer._click.globals", "click.globals"):
        try:
            ctx = importlib.import_module(name).get_current_context(silent=True)
        except ImportError:
            continue
        if ctx is not None:
            return ctx
    return None


def note_dataset(dataset: Any) -> None:
    """Remember a dataset the running command loaded (no-op outside a command)."""
    from ..provenance import dataset_ref

    ctx = _context()
    if ctx is not None:
        ctx.find_root().meta.setdefault("interlens.datasets", []).append(dataset_ref(dataset))


def note_scorer(scorer: Any) -> None:
    """Remember the scorer the running command built (no-op outside a command); its reference is made when the
    results are written, so a model is never loaded just to fingerprint it before the command needs it."""
    ctx = _context()
    if ctx is not None:
        ctx.find_root().meta["interlens.scorer"] = scorer


def run_as_interlens() -> bool:
    """True when this process is the ``interlens`` command (or ``python -m interlens``)."""
    if not sys.argv:
        return False
    first = Path(sys.argv[0])
    return first.name == "interlens" or (first.name == "__main__.py" and first.parent.name == "interlens")


def command_argv() -> list[str]:
    """The argv a CLI run records (``["interlens", ...]``); empty when the process is not the command (a test's
    CliRunner, Python)."""
    return ["interlens", *sys.argv[1:]] if run_as_interlens() else []


def _command_line(ctx: Any) -> tuple[str, str, dict[str, Any]]:
    """(command name, the command line, settings) of the running click command. The line lists the
    options the user gave (not the defaults), so it reproduces the run."""
    import importlib
    import shlex

    from ..provenance import _plain

    source = importlib.import_module(type(ctx).__module__).ParameterSource
    path = ctx.command_path.split()
    name = " ".join(path[1:])
    parts = ["interlens", *path[1:]]
    settings = {k: _plain(v) for k, v in ctx.params.items()}
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if param.name is None or ctx.get_parameter_source(param.name) in (source.DEFAULT, None):
            continue
        if getattr(param, "param_type_name", "") == "argument":
            parts += [str(_plain(v)) for v in (value if isinstance(value, list | tuple) else [value])]
            continue
        opts = sorted(param.opts, key=lambda o: (not o.startswith("--"), o))
        if getattr(param, "is_flag", False):
            if param.secondary_opts and not value:
                parts.append(sorted(param.secondary_opts, key=lambda o: not o.startswith("--"))[0])
            elif value:
                parts.append(opts[0])
            continue
        for item in (value if getattr(param, "multiple", False) and value else [value]):
            parts += [opts[0], str(_plain(item))]
    return name, shlex.join(parts), settings


def invocation() -> dict[str, Any]:
    """What the running command passes to :func:`interlens.provenance.collect`: its name, the reproducing
    command line, argv, its option values as settings, the datasets and scorer it loaded and the sizes its
    ``-d`` options set (``limits``). Empty outside a command."""
    from ..methods.config import split_pair
    from ..provenance import LIMIT_PARAMS

    ctx = _context()
    if ctx is None:
        return {}
    name, line, settings = _command_line(ctx)
    meta = ctx.find_root().meta
    limits = {}
    for item in settings.get("dataset_option") or []:  # -d n=300, -d limit=50: sizes of the data read
        try:
            key, value = split_pair(str(item))
        except InterlensError:
            continue
        if key.replace("-", "_") in LIMIT_PARAMS:
            limits[f"dataset.{key.replace('-', '_')}"] = value
    return {"command": name, "command_line": line, "argv": command_argv(), "settings": settings,
            "datasets": list(meta.get("interlens.datasets", [])), "scorer": meta.get("interlens.scorer"),
            "limits": limits}


def write_results(out: Path, results: dict[str, Any] | None = None, *, datasets: list[Any] | None = None,
                  scorer: Any = None, seeds: list[int] | None = None, limits: dict[str, Any] | None = None,
                  settings: dict[str, Any] | None = None, report: bool = True, predictions: Any = None,
                  checks: list[dict[str, Any]] | None = None) -> Path:
    """Write ``out/results.json`` atomically with its provenance block, build ``out/report.html``, say where.

    ``results=None`` completes a ``results.json`` a pipeline already wrote (adds provenance, builds the
    report). Provenance is built by :func:`interlens.provenance.collect` from the command's
    :func:`invocation` (its options, argv, the datasets and scorer it loaded) and the results; the keyword
    arguments add to or override it. The file is written by :meth:`interlens.methods.result.Result.save`
    (``predictions`` / ``checks``: per-sample rows stored beside it for ``interlens verify``, issue 26).
    """
    from ..io import read_json
    from ..methods.result import Result
    from ..provenance import collect

    out = Path(out)
    if results is None:
        results = read_json(out / "results.json")
    found = invocation()
    provenance = collect(results, command=found.get("command"), command_line=found.get("command_line"),
                         argv=found.get("argv"), datasets=datasets or found.get("datasets"),
                         scorer=scorer if scorer is not None else found.get("scorer"), seeds=seeds,
                         limits={**found.get("limits", {}), **(limits or {})},
                         settings={**found.get("settings", {}), **(settings or {})})
    result = Result.from_results(results, provenance, predictions=predictions, checks=checks)
    path = result.save(out, report=False)
    console.print(f"results: [bold]{path}[/]")
    if report:
        console.print(f"report: [bold]{result.write_report(out)}[/]")
    return path


def save_run(out: Path, result: Any, *, report: bool = True) -> Path:
    """Save a method's :class:`~interlens.methods.result.Result` into ``out`` as this command ran it: the
    command passes only its own invocation (:func:`invocation`: command line, argv, option values) on top of
    the provenance the method built from explicit values; say where."""
    found = invocation()
    result = result.with_invocation(command_line=found.get("command_line"), argv=found.get("argv"),
                                    settings=found.get("settings"), limits=found.get("limits"))
    path = result.save(out, report=False)
    console.print(f"results: [bold]{path}[/]")
    if report:
        console.print(f"report: [bold]{result.write_report(out)}[/]")
    return path


def print_verdict(results: dict[str, Any]) -> None:
    """Issue 26: each of ``results["warnings"]`` as a visible warning line, then the ``verdict`` line last."""
    for line in results.get("warnings") or []:
        console.print(f"WARNING: {line}", style="bold yellow", markup=False, highlight=False)
    if results.get("verdict"):
        console.print(f"verdict: {results['verdict']}", style="bold", markup=False, highlight=False)
