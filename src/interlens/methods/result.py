"""The one results envelope (issue 29 item 2): a method returns a :class:`Result` -- ``kind``, a
``provenance`` block built from explicit values (config, dataset and scorer fingerprints, versions, seeds;
the argv only when a command line passes it) and the method's ``payload`` -- and :meth:`Result.save` writes
``results.json`` (the payload's own keys at the top level, as every reader of results.json expects, plus
``kind`` and ``provenance``), the stored per-sample predictions, the method's plots and ``report.html``.

The same call from the CLI, from Python and from a benchmark script writes the same file; a Python run's
``results.json`` validates against :class:`interlens.provenance.ResultsEnvelope`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from ..provenance import Provenance, collect

#: a writer of a method's extra files (plots): called with the run folder and the payload before results.json
#: is written; returns the keys to add to the payload (e.g. ``{"plots": [...]}``)
Writer = Callable[[Path, dict[str, Any]], Mapping[str, Any]]


def _payload_dict(payload: Any) -> dict[str, Any]:
    if isinstance(payload, BaseModel):
        return payload.model_dump(mode="json")
    if hasattr(payload, "to_dict") and not isinstance(payload, Mapping):
        return dict(payload.to_dict())
    return dict(payload)


class Result(BaseModel):
    """A method's result: ``kind``, ``provenance`` and the method's ``payload`` (a dict or a typed model).

    ``predictions`` / ``checks`` (per-sample rows and declared checks, issue 26) and ``writers`` (plots) are
    what :meth:`save` writes beside ``results.json``; they are not part of the JSON envelope.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kind: str
    provenance: Provenance
    payload: Any = Field(default_factory=dict)
    predictions: Sequence[Mapping[str, Any]] | None = Field(default=None, exclude=True)
    checks: Sequence[Mapping[str, Any]] | None = Field(default=None, exclude=True)
    writers: Sequence[Writer] = Field(default=(), exclude=True)
    _written: dict[str, Any] | None = PrivateAttr(default=None)

    @classmethod
    def create(cls, command: str, payload: Any, *, config: Any = None, dataset: Any = None,
               datasets: Sequence[Any] | None = None, scorer: Any = None, seeds: Sequence[int] | None = None,
               limits: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None,
               argv: Sequence[str] | None = None, command_line: str | None = None,
               predictions: Sequence[Mapping[str, Any]] | None = None,
               checks: Sequence[Mapping[str, Any]] | None = None, writers: Sequence[Writer] = ()) -> Result:
        """A result of method ``command`` (``"interactions score"``, ``"experts train"``: picks the ``kind``)
        whose provenance is built from the explicit values given: ``config`` (a
        :class:`~interlens.methods.config.MethodConfig`; its settings), ``dataset`` / ``datasets`` (their
        name and content fingerprint), ``scorer`` (name, parameters, ``scorer.fingerprint``), ``seeds``,
        ``limits`` and, from a command line only, ``argv`` / ``command_line``."""
        data = _payload_dict(payload)
        found = dict(config.settings()) if hasattr(config, "settings") else dict(config or {})
        found |= dict(settings or {})
        refs = [*([dataset] if dataset is not None else []), *(datasets or [])]
        if isinstance(scorer, str):  # a registered name only (no parameters known)
            from ..provenance import ScorerRef

            scorer = ScorerRef(name=scorer)
        provenance = collect(data, command=command, command_line=command_line, argv=list(argv or []),
                             datasets=refs or None, scorer=scorer, seeds=None if seeds is None else list(seeds),
                             limits=dict(limits or {}), settings=found)
        return cls(kind=str(data.get("kind") or provenance.kind), provenance=provenance, payload=payload,
                   predictions=predictions, checks=checks, writers=tuple(writers))

    @classmethod
    def from_results(cls, results: Mapping[str, Any], provenance: Provenance, *,
                     predictions: Sequence[Mapping[str, Any]] | None = None,
                     checks: Sequence[Mapping[str, Any]] | None = None) -> Result:
        """The envelope of a results dict a pipeline built (its ``kind`` kept when it set one)."""
        payload = {k: v for k, v in results.items() if k != "provenance"}
        return cls(kind=str(results.get("kind") or provenance.kind), provenance=provenance, payload=payload,
                   predictions=predictions, checks=checks)

    def with_invocation(self, *, command_line: str | None = None, argv: Sequence[str] | None = None,
                        settings: Mapping[str, Any] | None = None, limits: Mapping[str, Any] | None = None) -> Result:
        """This result as a command line ran it: its reproducing ``command_line``, ``argv``, the command's
        option values added to the settings (and the sizes among them to the limits)."""
        from ..provenance import LIMIT_PARAMS, _plain

        shown = _plain(dict(settings or {}))
        found = {k: shown[k] for k in LIMIT_PARAMS if shown.get(k) is not None}
        prov = self.provenance.model_copy(update={
            "command": command_line or self.provenance.command, "argv": list(argv or self.provenance.argv),
            "settings": {**self.provenance.settings, **shown},
            "limits": {**self.provenance.limits, **found, **_plain(dict(limits or {}))}})
        return self.model_copy(update={"provenance": prov})

    def _data(self) -> dict[str, Any]:
        out = _payload_dict(self.payload)
        out["kind"] = self.kind
        out["provenance"] = self.provenance.model_dump(mode="json")
        return out

    def to_dict(self) -> dict[str, Any]:
        """``results.json`` as a dict: the payload's keys, ``kind`` and ``provenance``."""
        from ..evidence.store import EVIDENCE_KEY

        return {k: v for k, v in self._data().items() if k != EVIDENCE_KEY}

    def save(self, out: str | Path, *, report: bool = True) -> Path:
        """Write, into folder ``out``: the plots of ``writers``, the stored predictions
        (``predictions.jsonl.gz``), ``results.json`` (atomically, last but the report: it marks a finished
        run) and, with ``report``, ``report.html``. Returns the results.json path."""
        from ..evidence.store import save_result

        out = Path(out)
        data = self._data()
        for write in self.writers:
            data.update(write(out, data))
        path = save_result(out, data, predictions=self.predictions, checks=self.checks)
        self._written = dict(data)
        if report:
            self.write_report(out)
        return path

    def write_report(self, out: str | Path) -> Path:
        """``out/report.html`` of this result (interlens.report.html)."""
        from ..report.html import build_html_report

        return build_html_report(Path(out), self._written if self._written is not None else self.to_dict())
