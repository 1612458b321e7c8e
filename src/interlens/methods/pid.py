"""The PID *method* (issue 29: moved out of ``interactions/``, which is pure maths): PID of two modalities'
predictions or feature clusters about the label, on a dataset + scorer, beside the MINT score of the same run.

The estimator (Liang et al. NeurIPS 2023, CVX estimator with BROJA definitions, and its fast certified solver)
is :mod:`interlens.interactions.pid`; this module fits and scores the scorer through
:func:`interlens.measure.measure_interactions`, builds x1, x2, y, and writes the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from ..errors import DataError
from ..interactions.pid import TERMS, PIDResult, discretize, pid_bootstrap
from ..scoring.base import Capability
from .config import MethodConfig
from .result import Result

Source = Literal["predictions", "features"]


def measure_pid(dataset: Any, scorer: Any, *, modalities: Sequence[str | None] | None = None,
                split: str | None = "test", source: Source = "predictions", k: int | Literal["auto"] = 8,
                target: Literal["gold", "multimodal"] = "gold", reference: Literal["gold", "multimodal"] =
                "multimodal", n_boot: int = 200, alpha: float = 0.05, seed: int = 0, cache: Any = None,
                S: int = 100, C: int | None = None, progress: bool = False) -> tuple[Any, PIDResult]:
    """PID of (x1, x2, y) on ``split`` beside the MINT interaction score of the same run.

    The scorer is fitted and scored by :func:`interlens.measure.measure_interactions` (MINT score,
    MMoE categories). ``source="predictions"``: x_i is the unimodal model's predicted label on
    modality i; ``source="features"``: x_i is the k-means cluster (:func:`discretize`) of the
    ``features`` of a copy of the scorer fitted on modality i alone. ``y`` is the gold label
    (``target="gold"``) or the multimodal model's prediction. Returns ``(report, pid_result)``;
    ``report.extra["pid"]`` holds the PID dict, so ``report.to_dict()`` carries both.
    """
    from ..measure import measure_interactions

    if source not in ("predictions", "features"):
        raise DataError(f"source must be 'predictions' or 'features', got {source!r}", field="source")
    if target not in ("gold", "multimodal"):
        raise DataError(f"target must be 'gold' or 'multimodal', got {target!r}", field="target")
    if source == "features":
        from ..scoring.base import Capability, require

        require(scorer, Capability.FEATURES, "PID on features (k-means per modality)")
    report = measure_interactions(dataset, scorer, modalities=modalities, split=split, reference=reference,
                                  cache=cache, S=S, C=C, seed=seed, progress=progress)
    m1, m2 = report.modalities
    pm = report.predictions.get(f"{m1}+{m2}")
    if target == "multimodal" and pm is None:
        raise DataError(f"target='multimodal' needs the {m1}+{m2} view, which {scorer.name!r} does not score",
                        field="target")
    y = report.y_gold if target == "gold" else pm.argmax()
    info: dict[str, Any] = {"source": source, "target": target, "modality1": m1, "modality2": m2}
    if source == "predictions":
        x1, x2 = report.predictions[m1].argmax(), report.predictions[m2].argmax()
        info["k"] = {m1: len(dataset.labels), m2: len(dataset.labels)}
    else:
        from ..scoring.base import clone

        evaluated = dataset.split(split) if split else dataset
        train = dataset.split("train") if "train" in dataset.splits else evaluated
        val = dataset.split("dev") if "dev" in dataset.splits else None
        xs, info["k"] = [], {}
        for m in (m1, m2):
            own = clone(scorer).fit(train, [m], val=val)
            codes, used = discretize(own.features(evaluated), k, seed=seed, name=f"features[{m}]")
            xs.append(codes)
            info["k"][m] = used
        x1, x2 = xs
    result = pid_bootstrap(x1, x2, y, n_boot=n_boot, alpha=alpha, seed=seed)
    result.extra.update(info)
    report.extra["pid"] = result.to_dict()
    return report, result


def pid_markdown(result: PIDResult, report: Any | None = None) -> str:
    """A Markdown section: the PID terms (with intervals) beside the MINT score and MMoE counts."""
    from ..report import markdown_table

    ci = result.ci or {}
    rows = [{"term": t, "bits": result[t], "CI low": ci.get(t, (None, None))[0], "CI high": ci.get(t, (None, None))[1],
             "share of I(X1,X2;Y)": result[t] / result.mi if result.mi > 0 else None} for t in TERMS]
    lines = ["## Partial information decomposition (Liang et al. 2023, CVX estimator)", "",
             f"I(X1,X2;Y) = {result.mi:.4f} bits (H(Y) = {result.h_y:.4f}); dominant term: **{result.dominant}**; "
             f"x_i from {result.extra.get('source', 'data')} (k = {result.extra.get('k')}).", "",
             markdown_table(rows)]
    if report is not None:
        n = max(1, len(report.ids))
        lines += ["", "### Side by side", "",
                  markdown_table([{"measure": "MINT score (2 = R, 1 = U, 0 = S)", **{d: s.score for d, s in
                                                                                   report.scores.items()}}]), "",
                  markdown_table([{"type": c, "MMoE share": report.counts.get(c, 0) / n,
                                   "PID share": result[c] / result.mi if result.mi > 0 else None} for c in TERMS])]
    return "\n".join(lines) + "\n"


def write_pid_report(report: Any, result: PIDResult, out: Any) -> dict[str, Any]:
    """results.json (the MINT schema plus ``pid``) and report.md (the MINT report plus a PID section)."""
    from pathlib import Path

    from ..io import atomic_write_text, write_json
    from ..measure import write_report

    report.extra["pid"] = result.to_dict()
    paths = write_report(report, out, title="Interaction score and PID")
    text = Path(paths["report"]).read_text()
    paths["report"] = atomic_write_text(Path(paths["report"]), text + "\n" + pid_markdown(result, report))
    paths["results"] = write_json(Path(out) / "results.json", report.to_dict())  # last: marks a finished run
    return paths


class PIDConfig(MethodConfig):
    """``interactions pid``: the settings of :func:`measure_pid` (``source="features"`` also needs the scorer's
    ``features``: :meth:`required`)."""

    command: ClassVar[str] = "interactions pid"

    modalities: tuple[str | None, str | None] | None = None
    split: str | None = "test"
    source: Source = "predictions"
    k: int | Literal["auto"] = 8
    target: Literal["gold", "multimodal"] = "gold"
    reference: Literal["gold", "multimodal"] = "multimodal"
    n_boot: int = Field(200, ge=0)
    alpha: float = Field(0.05, gt=0, lt=1)
    seed: int = 0
    S: int = Field(100, ge=1)
    C: int | None = Field(None, ge=1)
    progress: bool = False

    def required(self) -> frozenset[Capability]:
        return self.needs | ({Capability.FEATURES} if self.source == "features" else set())


def run(config: PIDConfig, dataset: Any, scorer: Any, *, executor: Any = None, cache: Any = None) -> Result:
    """:func:`measure_pid` in the one method shape: the result's payload is the interaction report whose
    ``extra["pid"]`` holds the PID; :meth:`Result.save` writes report.md (the MINT report plus a PID section),
    the plots, the per-sample predictions and results.json."""
    from ..measure import report_evidence, write_report_files
    from .measure import using

    with using(executor):
        report, pid = measure_pid(dataset, scorer, modalities=config.modalities, split=config.split,
                                  source=config.source, k=config.k, target=config.target, reference=config.reference,
                                  n_boot=config.n_boot, alpha=config.alpha, seed=config.seed, cache=cache, S=config.S,
                                  C=config.C, progress=config.progress)
    rows, checks = report_evidence(report)

    def files(out: Path, payload: dict[str, Any]) -> dict[str, Any]:
        from ..io import atomic_write_text

        path = write_report_files(report, out, title="Interaction score and PID")["report"]
        atomic_write_text(Path(path), Path(path).read_text() + "\n" + pid_markdown(pid, report))
        return {}

    return Result.create(config.command, report, config=config, dataset=dataset, scorer=scorer, seeds=[config.seed],
                         predictions=rows, checks=checks, writers=[files])
