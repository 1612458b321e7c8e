"""Provenance: one typed envelope that every ``results.json`` carries (docs/results.md).

Every ``results.json`` carries a ``provenance`` block: interlens's version and *its own* source revision
(from the build, or from git only when this package sits inside interlens's own repository -- never the
user's working directory), the time, the settings, seeds, datasets (name + content fingerprint), limits /
subsets, the scorer (name, parameters, fingerprint) and, only when a command line passes them, the command
and argv. :func:`collect` builds it from explicit values (issue 29: it never reads a CLI's context; the CLI
gathers its own invocation in :mod:`interlens.cli.common`); :class:`ResultsEnvelope` validates a whole
``results.json``.
"""

from __future__ import annotations

import enum
import functools
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

#: command parameters that bound the data a run used (recorded under ``limits``)
LIMIT_PARAMS = ("limit", "max_train", "max_samples", "n", "draw_size", "subset")
#: scorer parameters that bound training data (also recorded under ``limits`` as ``scorer.<name>``)
SCORER_LIMIT_PARAMS = ("max_train",)

#: top-level ``kind`` of each command's results (bench keeps its own ``interlens.bench.run``)
KINDS = {
    "demo": "interlens.demo", "predict": "interlens.predict",
    "interactions categorize": "interlens.interactions.categorize",
    "interactions score": "interlens.interactions.score", "interactions group": "interlens.interactions.group",
    "experts train": "interlens.experts.train", "experts evaluate": "interlens.experts.evaluate",
    "debias counterfactuals": "interlens.debias.counterfactuals", "debias mid": "interlens.debias.mid",
    "debias evaluate": "interlens.debias.evaluate", "debias train": "interlens.debias.train",
    "bench run": "interlens.bench.run", "train": "interlens.train",
}


class DatasetRef(BaseModel):
    """A dataset a run read: its name and content fingerprint (``Dataset.fingerprint()``)."""

    model_config = ConfigDict(extra="allow")

    name: str
    fingerprint: str | None = None
    source: str | None = None
    n: int | None = None
    splits: dict[str, int] | None = None


class ScorerRef(BaseModel):
    """The scorer of a run: registered name, constructor parameters and fingerprint(s)."""

    model_config = ConfigDict(extra="allow")

    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    fingerprint: str | None = None
    fitted: dict[str, str] = Field(default_factory=dict)


class Provenance(BaseModel):
    """Where a result came from. Every field is filled by :func:`collect`."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    kind: str
    interlens_version: str
    interlens_revision: str | None
    created: str
    command: str
    argv: list[str] = Field(default_factory=list)
    settings: dict[str, Any] = Field(default_factory=dict)
    seeds: list[int] = Field(default_factory=list)
    datasets: list[DatasetRef] = Field(default_factory=list)
    limits: dict[str, Any] = Field(default_factory=dict)
    scorer: ScorerRef | None = None
    environment: dict[str, str] = Field(default_factory=dict)


class ResultsEnvelope(BaseModel):
    """A ``results.json``: the command's own fields (kept as they are) plus ``kind`` and ``provenance``."""

    model_config = ConfigDict(extra="allow")

    kind: str
    provenance: Provenance


def validate_results(data: dict[str, Any]) -> ResultsEnvelope:
    """Check a loaded ``results.json`` against the schema (raises DataError naming the field)."""
    from pydantic import ValidationError

    from .errors import DataError

    try:
        return ResultsEnvelope.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        raise DataError(first["msg"], field=".".join(str(x) for x in first["loc"])) from None


# -- version and revision -----------------------------------------------------------------------------
def interlens_version() -> str:
    """The installed distribution's version (``__version__`` when not installed)."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("interlens")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        from . import __version__

        return __version__


def _own_repo() -> Path | None:
    """interlens's repository root when *this package* lives in its ``src/`` (an editable install or a
    checkout); None for an installed wheel. The user's working directory is never consulted."""
    package = Path(__file__).resolve().parent
    root = package.parent.parent
    if package.parent.name != "src" or not (root / "pyproject.toml").is_file():
        return None
    try:
        text = (root / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    return root if 'name = "interlens"' in text and (root / ".git").exists() else None


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=5,
                              env={**os.environ, "GIT_DIR": str(root / ".git"), "GIT_WORK_TREE": str(root)})
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def interlens_revision() -> str | None:
    """interlens's own git revision: live from its repository (``+dirty`` when tracked files changed),
    else the one written into ``interlens/_build.py`` when the wheel was built, else None."""
    root = _own_repo()
    if root is not None:
        rev = _git(root, "rev-parse", "HEAD")
        if rev:
            dirty = _git(root, "status", "--porcelain", "--untracked-files=no")
            return rev + ("+dirty" if dirty else "")
    try:
        from . import _build  # type: ignore[attr-defined]  # written by setup.py at build time
    except ImportError:
        return None
    return getattr(_build, "REVISION", None)


def environment() -> dict[str, str]:
    """Python, platform and the versions of the libraries results depend on."""
    out = {"python": platform.python_version(), "platform": platform.platform(terse=True)}
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("torch", "transformers", "peft", "scikit-learn", "numpy"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


# -- building a provenance block from explicit values ----------------------------------------------------
def dataset_ref(dataset: Any) -> DatasetRef:
    """A :class:`DatasetRef` of a :class:`~interlens.data.schema.Dataset`."""
    from .data.paths import portable_source

    return DatasetRef(name=dataset.name, fingerprint=dataset.fingerprint(), source=portable_source(dataset.source),
                      n=len(dataset), splits={k: len(v) for k, v in dataset.splits.items()})


def unfitted_fingerprint(scorer: Any) -> str | None:
    """The scorer's own ``fingerprint`` before any fit: its ``fingerprint`` when unfitted, else that of its
    unfitted clone (``make_scorer(name, **get_params())``). Never re-hashed here, so it includes what the
    scorer hashes (``fingerprint_version``, parameters hashed only when set, a base model's identity)."""
    if not hasattr(scorer, "fingerprint"):
        return None
    if getattr(scorer, "is_fitted", False):
        from .scoring.base import clone

        return clone(scorer).fingerprint
    return scorer.fingerprint


def scorer_ref(scorer: Any) -> ScorerRef:
    """A :class:`ScorerRef` of a scorer: its name, the parameters that rebuild it (its constructor parameters
    less the in-memory objects of ``_unhashed_params``) and :func:`unfitted_fingerprint`, which equals
    ``make_scorer(name, **params).fingerprint`` for every registered scorer (issue 29, checked by
    tests/test_provenance_fingerprints.py). Fitted fingerprints go under ``fitted``."""
    params = scorer.get_params() if hasattr(scorer, "get_params") else {}
    hidden = set(getattr(scorer, "_unhashed_params", ()))
    kept = {k: v for k, v in params.items() if k not in hidden}
    name = getattr(scorer, "name", type(scorer).__name__)
    return ScorerRef(name=name, params=_plain(kept), fingerprint=unfitted_fingerprint(scorer))


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, os.PathLike):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def _seeds(settings: dict[str, Any], results: dict[str, Any]) -> list[int]:
    for source in (results.get("seeds"), (results.get("settings") or {}).get("seeds"), settings.get("seed")):
        if isinstance(source, list) and all(isinstance(s, int) for s in source) and source:
            return list(source)
        if isinstance(source, int) and not isinstance(source, bool):
            return [source]
    n = settings.get("seeds")
    return list(range(n)) if isinstance(n, int) and not isinstance(n, bool) else []


def _datasets_from_results(results: dict[str, Any]) -> list[DatasetRef]:
    """Datasets a pipeline recorded itself (experts / debias: ``dataset``; bench: ``data_fingerprints``)."""
    found = []
    entry = results.get("dataset")
    if isinstance(entry, dict) and entry.get("name"):
        keep = {k: entry[k] for k in ("name", "fingerprint", "source", "n") if k in entry}
        if isinstance(entry.get("splits"), dict):
            keep["splits"] = {k: v for k, v in entry["splits"].items() if isinstance(v, int)}
        found.append(DatasetRef(**keep))
    elif isinstance(entry, str):
        found.append(DatasetRef(name=entry))
    for task, fp in (results.get("data_fingerprints") or {}).items():
        found.append(DatasetRef(name=str(task), fingerprint=str(fp)))
    return found


def _fitted(results: dict[str, Any]) -> dict[str, str]:
    """Fingerprints of the fitted scorer(s) the results name (per view or per task/seed)."""
    out: dict[str, str] = {}
    for key in ("scorers", "scorer_fingerprints"):
        entry = results.get(key)
        if isinstance(entry, dict):
            out.update({str(k): str(v) for k, v in entry.items() if isinstance(v, str)})
    scorer = results.get("scorer")
    if isinstance(scorer, dict) and isinstance(scorer.get("fingerprint"), str):
        out.setdefault("fitted", scorer["fingerprint"])
    return out


def collect(results: dict[str, Any], *, command: str | None = None, command_line: str | None = None,
            argv: list[str] | None = None, datasets: list[Any] | None = None, scorer: Any = None,
            seeds: list[int] | None = None, limits: dict[str, Any] | None = None,
            settings: dict[str, Any] | None = None) -> Provenance:
    """The provenance of ``results`` from explicit values only (issue 29: never from a CLI's context): the
    method's ``settings`` (its config), the ``datasets`` and ``scorer`` it ran on (objects or refs), ``seeds``
    and ``limits``, and -- only when a command line passes them -- ``command`` (e.g. ``"interactions score"``,
    which picks the ``kind``), the reproducing ``command_line`` and ``argv``. What ``results`` already holds
    (its own ``settings``, ``dataset``, ``scorer``, ``seeds``) fills what is not given."""
    name = command or str(results.get("command") or "python")
    merged = _plain(settings or {})
    if isinstance(results.get("settings"), dict):
        merged = {**_plain(results["settings"]), **merged}
    refs = [d if isinstance(d, DatasetRef) else dataset_ref(d) for d in (datasets or [])]
    refs = refs or _datasets_from_results(results)
    seen, unique = set(), []
    for ref in refs:
        key = (ref.name, ref.fingerprint)
        if key not in seen:
            seen.add(key)
            unique.append(ref)
    ref = scorer
    if ref is not None and not isinstance(ref, ScorerRef):
        ref = scorer_ref(ref)
    if ref is None:
        entry = results.get("scorer")
        if isinstance(entry, dict) and entry.get("name"):
            ref = ScorerRef(name=entry["name"], params=_plain(entry.get("params") or {}))
        elif isinstance(entry, str):
            ref = ScorerRef(name=entry, params=_plain(results.get("scorer_params") or {}))
        elif isinstance(merged.get("scorer"), str):
            ref = ScorerRef(name=merged["scorer"])
    if ref is not None:
        ref = ref.model_copy(update={"fitted": {**ref.fitted, **_fitted(results)}})
    found_limits = {k: merged[k] for k in LIMIT_PARAMS if merged.get(k) is not None}
    if ref is not None:
        found_limits |= {f"scorer.{k}": ref.params[k] for k in SCORER_LIMIT_PARAMS if ref.params.get(k) is not None}
    found_limits |= _plain(limits or {})
    return Provenance(kind=kind_of(name), interlens_version=interlens_version(),
                      interlens_revision=interlens_revision(), created=datetime.now(UTC).isoformat(timespec="seconds"),
                      command=command_line or name, argv=list(argv or []), settings=merged,
                      seeds=list(seeds) if seeds is not None else _seeds(merged, results), datasets=unique,
                      limits=found_limits, scorer=ref, environment=environment())


def kind_of(command: str) -> str:
    """The ``kind`` of a command's results (:data:`KINDS`; ``interlens.<words>`` otherwise)."""
    return KINDS.get(command, f"interlens.{command.replace(' ', '.')}" if command else "interlens")


def attach(results: dict[str, Any], provenance: Provenance) -> dict[str, Any]:
    """``results`` with ``kind`` (kept when the command set one) and ``provenance``."""
    out = dict(results)
    out.setdefault("kind", provenance.kind)
    out["provenance"] = provenance.model_dump(mode="json")
    return out
