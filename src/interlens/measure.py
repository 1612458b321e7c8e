"""Measure interactions end to end (Python API behind ``interlens interactions ...`` and the demo).

Dataset + scorer (or ready Predictions) -> unimodal and multimodal predictions (cached) ->
per-sample categories (MMoE Algorithm 1, with the train-only filter/rebalance of App. F.3) ->
dataset-level score (MINT Eq. 1, exact and soft delta) -> per-interaction scores of the multimodal
model -> results.json, Markdown and PNG report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .cache import PredictionCache
from .data.schema import Dataset
from .errors import DataError
from .interactions import categorize_split, interaction_score
from .interactions.score import InteractionScore
from .io import atomic_write_text, write_json
from .metrics import classification_metrics
from .predictions import Predictions, check_same_ids
from .views import View

Reference = Literal["gold", "multimodal"]


@dataclass
class InteractionReport:
    """Everything measured on one dataset split. ``to_dict()`` is the results.json schema."""

    dataset: str
    split: str
    modalities: tuple[str, str]
    reference: str
    ids: list[str]
    y_gold: np.ndarray
    categories: np.ndarray
    categorization: dict[str, Any]
    predictions: dict[str, Predictions]
    scores: dict[str, InteractionScore]
    metrics: dict[str, dict[str, Any]]
    per_interaction: dict[str, dict[str, Any]]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return self.categorization["counts"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset, "split": self.split, "modalities": list(self.modalities),
            "modality1": self.modalities[0], "modality2": self.modalities[1], "reference": self.reference,
            "n": len(self.ids), "counts": self.counts, "categorization": self.categorization,
            "interaction_score": {k: v.to_dict() for k, v in self.scores.items()},
            "metrics": self.metrics, "per_interaction": self.per_interaction,
            "scorers": {v: p.scorer for v, p in self.predictions.items()},
            "samples": [{"id": i, "category": str(c)} for i, c in zip(self.ids, self.categories, strict=True)],
            **self.extra,
        }


def _views(dataset: Dataset, modalities: tuple[str, str] | None, scoring: bool) -> tuple[tuple[str, str], list[str]]:
    mods = tuple(modalities) if modalities else tuple(dataset.modalities[:2])
    if len(mods) != 2:
        raise DataError(f"interactions need two modalities; dataset {dataset.name!r} has {list(dataset.modalities)}",
                        file=dataset.source, field="modalities")
    for m in mods:  # precomputed predictions may name modalities the dataset does not hold (e.g. video)
        View((m,)).check(dataset.modalities if scoring else mods, dataset.source)
    return mods, [mods[0], mods[1], f"{mods[0]}+{mods[1]}"]  # type: ignore[return-value]


def per_interaction_metrics(categories: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, n_labels: int
                            ) -> dict[str, dict[str, Any]]:
    """Accuracy / F1 of one model on each interaction subset (MMoE RQ1-style breakdown)."""
    out = {}
    for cat in ("R", "U1", "U2", "S"):
        mask = categories == cat
        if mask.any():
            m = classification_metrics(y_true[mask], y_pred[mask], n_labels)
            out[cat] = {"n": int(mask.sum()), "acc": m["acc"], "f1": m["f1"], "macro_f1": m["macro_f1"]}
        else:
            out[cat] = {"n": 0, "acc": None, "f1": None, "macro_f1": None}
    return out


def measure_interactions(
    dataset: Dataset,
    scorer: Any | None = None,
    *,
    modalities: tuple[str, str] | None = None,
    split: str | None = "test",
    fit_split: str | None = "train",
    val_split: str | None = "dev",
    reference: Reference = "gold",
    predictions: dict[str, Predictions] | None = None,
    cache: PredictionCache | None = None,
    categorize_train_steps: bool | None = None,
    S: int = 100,
    C: int | None = None,
    seed: int = 0,
    progress: bool = False,
) -> InteractionReport:
    """Categorise every sample of ``split`` and score the dataset.

    Either give a ``scorer`` (fitted on ``fit_split`` with model selection on ``val_split`` when it
    trains; predictions cached) or ready ``predictions`` keyed by view (``"m1"``, ``"m2"``,
    ``"m1+m2"``; the multimodal one is needed for ``reference="multimodal"``, MINT). The reference
    is explicit: ``"gold"`` (MMoE) or ``"multimodal"`` (MINT). Filtering/rebalancing are applied
    only when ``split == "train"`` (MMoE App. F.3) unless ``categorize_train_steps`` says otherwise.
    """
    mods, views = _views(dataset, modalities, scoring=predictions is None)
    target = dataset.split(split) if split else dataset
    if predictions is None:
        if scorer is None:
            raise DataError("give a scorer or predictions", field="scorer")
        from .scoring.registry import fit_and_predict

        predictions = fit_and_predict(scorer, dataset, views, eval_split=split, fit_split=fit_split,
                                      val_split=val_split, cache=cache, progress=progress)
    missing_views = [v for v in views[:2] if v not in predictions]
    if reference == "multimodal" and views[2] not in predictions:
        missing_views.append(views[2])
    if missing_views:
        raise DataError(f"no predictions for view(s) {missing_views}; have {sorted(predictions)}", field="view")
    present = {v: p for v, p in predictions.items() if v in views}
    check_same_ids(*[present[v] for v in views if v in present], names=[v for v in views if v in present])
    aligned = {v: p.align(target.ids, allow_missing=False) for v, p in present.items()}
    y = target.y
    if (y < 0).any():
        raise DataError("every evaluated sample needs a gold label", file=dataset.source,
                        record=target.ids[int(np.flatnonzero(y < 0)[0])], field="label")
    p1, p2 = aligned[views[0]], aligned[views[1]]
    pm = aligned.get(views[2])
    ref = y if reference == "gold" else pm.argmax()
    split_name = split or "all"
    cats = categorize_split(p1, p2, ref, split=split_name, ids=target.ids, apply_filter=categorize_train_steps,
                            apply_rebalance=categorize_train_steps)
    k = len(dataset.labels)
    scores: dict[str, InteractionScore] = {}
    ym = pm.probs if pm is not None else None
    for delta in ("exact", "soft"):
        scores[delta] = interaction_score(p1.probs, p2.probs, ym, y_gold=y, reference="multimodal" if ym is not None
                                          else "gold", delta=delta, S=S, C=C, seed=seed, n_classes=k)
    metrics = {v: classification_metrics(y, p.argmax(), k) for v, p in aligned.items()}
    per_interaction = per_interaction_metrics(cats.categories, y, pm.argmax(), k) if pm is not None else {}
    return InteractionReport(
        dataset=dataset.name, split=split_name, modalities=mods, reference=reference, ids=target.ids, y_gold=y,
        categories=cats.categories, categorization=cats.report, predictions=aligned, scores=scores,
        metrics=metrics, per_interaction=per_interaction,
        extra={"score_reference": "multimodal" if ym is not None else "gold"})


def write_report(report: InteractionReport, out: str | Path, *, extra: dict[str, Any] | None = None,
                 title: str | None = None) -> dict[str, Path]:
    """results.json + report.md + PNG plots into ``out`` (each file written atomically)."""
    from .report import markdown_table
    from .report.plots import bar_counts, grouped_bars, score_with_ci

    out = Path(out)
    data = report.to_dict() | (extra or {})
    paths = {"results": write_json(out / "results.json", data)}
    counts = {c: n for c, n in report.counts.items() if c in ("R", "U1", "U2", "S") or n}
    paths["counts_png"] = bar_counts(counts, out / "interaction_counts.png",
                                     title=f"{report.dataset} ({report.split}): samples per interaction")
    if report.per_interaction:
        values = {c: {"accuracy": v["acc"], "F1": v["f1"]} for c, v in report.per_interaction.items() if v["n"]}
        paths["per_interaction_png"] = grouped_bars(values, out / "per_interaction.png",
                                                    "Multimodal model per interaction type", "score")
    paths["score_png"] = score_with_ci({f"{report.dataset} ({d})": (s.score, s.ci_low, s.ci_high)
                                        for d, s in report.scores.items()}, out / "interaction_score.png")
    m1, m2 = report.modalities
    lines = [f"# {title or 'Interactions'}: {report.dataset} ({report.split})", "",
             f"Modality 1 = `{m1}`, modality 2 = `{m2}`; reference = **{report.reference}** "
             f"({'gold label, MMoE' if report.reference == 'gold' else 'multimodal prediction, MINT'}).", "",
             "## Samples per interaction type", "",
             markdown_table([{"type": c, "n": n, "share": n / max(1, len(report.ids))}
                             for c, n in report.counts.items()]), "",
             "![counts](interaction_counts.png)", "", "## Interaction score (MINT Eq. 1)", "",
             markdown_table([{"delta": d, "score": s.score, "CI low": s.ci_low, "CI high": s.ci_high,
                              "S": s.S, "C": s.C, "n": s.n} for d, s in report.scores.items()]), "",
             "![score](interaction_score.png)", "", "## Models", "",
             markdown_table([{"view": v, "acc": m["acc"], "F1": m["f1"], "F1 average": m["f1_average"],
                              "macro F1": m["macro_f1"]} for v, m in report.metrics.items()])]
    if report.per_interaction:
        lines += ["", "## Multimodal model per interaction type", "",
                  markdown_table([{"type": c, **v} for c, v in report.per_interaction.items()]), "",
                  "![per interaction](per_interaction.png)"]
    for key, value in (extra or {}).items():
        if isinstance(value, int | float | str):
            lines.insert(3, f"- **{key}**: {value:.4g}" if isinstance(value, float) else f"- **{key}**: {value}")
    paths["report"] = atomic_write_text(out / "report.md", "\n".join(lines) + "\n")
    return paths
