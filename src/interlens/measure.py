"""Measure interactions end to end (Python API behind ``interlens interactions ...`` and the demo).

Dataset + scorer (or ready Predictions) -> unimodal and multimodal predictions (cached) ->
per-sample categories (MMoE Algorithm 1, with the train-only filter/rebalance of App. F.3) ->
dataset-level score (MINT Eq. 1, exact and soft delta) -> per-interaction scores of the multimodal
model -> results.json, Markdown and PNG report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .cache import PredictionCache
from .data.schema import Dataset
from .errors import DataError
from .interactions import categorize_split, interaction_score
from .interactions.score import InteractionScore, check_score_range
from .io import atomic_write_text, read_json
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

    def _uninformative(self) -> dict[str, Any]:
        """``{"uninformative": True, "reasons": [...]}`` when a view behind it is at chance (issue 26), else {}."""
        flag = self.extra.get("uninformative") or {}
        return {"uninformative": True, "reasons": list(flag["reasons"])} if flag.get("value") else {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset, "split": self.split, "modalities": list(self.modalities),
            "modality1": self.modalities[0], "modality2": self.modalities[1], "reference": self.reference,
            "n": len(self.ids), "counts": self.counts,
            "categorization": {**self.categorization, **self._uninformative()},
            "interaction_score": {k: {**v.to_dict(), **self._uninformative()} for k, v in self.scores.items()},
            "metrics": self.metrics, "per_interaction": self.per_interaction,
            "scorers": {v: p.scorer for v, p in self.predictions.items()},
            "samples": [{"id": i, "category": str(c)} for i, c in zip(self.ids, self.categories, strict=True)],
            **self.extra,
        }


def default_modalities(dataset: Dataset, scorer: Any | None = None) -> tuple[str, str]:
    """The first two modalities the scorer reads (by kind; a precomputed scorer: its unimodal files),
    else the dataset's first two."""
    usable = list(scorer.usable_modalities(dataset)) if hasattr(scorer, "usable_modalities") else \
        list(dataset.modalities)
    if len(usable) < 2:
        who = f"scorer {getattr(scorer, 'name', scorer)!r} reads {usable}" if scorer is not None else \
            f"the dataset has {list(dataset.modalities)}"
        raise DataError(f"interactions need two modalities; {who} of {dict(dataset.kinds)} "
                        "(pick them with --modality1/--modality2)", file=dataset.source, field="modalities")
    return usable[0], usable[1]


def _views(dataset: Dataset, modalities: Sequence[str | None] | None, scorer: Any | None
           ) -> tuple[tuple[str, str], list[str]]:
    """The two modalities (a None entry is filled from :func:`default_modalities`) and the three views."""
    if modalities and len(modalities) == 2 and None in modalities:
        given = next(m for m in modalities if m)
        usable = list(scorer.usable_modalities(dataset)) if hasattr(scorer, "usable_modalities") else \
            list(dataset.modalities)
        other = next((m for m in usable if m != given), None)
        if other is None:
            raise DataError(f"no second modality besides {given!r} among {usable}", file=dataset.source,
                            field="modalities")
        modalities = (given, other) if modalities[0] else (other, given)
    mods = tuple(modalities) if modalities else default_modalities(dataset, scorer)
    if len(mods) != 2 or mods[0] == mods[1]:
        raise DataError(f"interactions need two different modalities, got {list(mods)}", file=dataset.source,
                        field="modalities")
    views = [mods[0], mods[1], f"{mods[0]}+{mods[1]}"]
    if scorer is not None and hasattr(scorer, "check_view"):
        for v in views[:2]:  # refused before any work; the pair view only if the scorer can honour it
            scorer.check_view(dataset, v)
    return mods, views  # type: ignore[return-value]


def _honours(scorer: Any, dataset: Dataset, view: str) -> bool:
    try:
        scorer.check_view(dataset, view)
    except DataError:
        return False
    return True


def predictions_from_files(dataset: Dataset, files: Mapping[str, str | Path | Predictions], *,
                           split: str | None = "test", label_map: Mapping[str, str] | None = None
                           ) -> dict[str, Predictions]:
    """Read one prediction file per view (any supported format) for ``split``, aligned by id and label name.

    Index formats (MMoE JSON, expert JSONL, MIntRec CSV) number their classes: class k is the
    dataset's label k unless ``label_map`` names them; a MIntRec CSV is matched by row to the split's
    ids and checked against its gold labels. Named formats (our JSON/Parquet, CSV/JSONL tables) are
    matched by label name; other names are refused (``label_map`` maps them).
    """
    from .scoring.precomputed import PrecomputedScorer

    target = dataset.split(split) if split else dataset
    scorer = PrecomputedScorer(dict(files), label_map=label_map, index_labels=not label_map)
    return {str(View.parse(v)): scorer.predict_proba(target, v) for v in files}


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
    modalities: Sequence[str | None] | None = None,
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
    files: Mapping[str, str | Path | Predictions] | None = None,
    label_map: Mapping[str, str] | None = None,
    checkpoint_dir: str | Path | None = None,
) -> InteractionReport:
    """Categorise every sample of ``split`` and score the dataset.

    Either give a ``scorer`` (fitted on ``fit_split`` with model selection on ``val_split`` when it
    trains; predictions cached) or ready ``predictions`` keyed by view (``"m1"``, ``"m2"``,
    ``"m1+m2"``; the multimodal one is needed for ``reference="multimodal"``, MINT). The reference
    is explicit: ``"gold"`` (MMoE) or ``"multimodal"`` (MINT). Filtering/rebalancing are applied
    only when ``split == "train"`` (MMoE App. F.3) unless ``categorize_train_steps`` says otherwise.
    ``files`` (view -> prediction file) are read with :func:`predictions_from_files`. Every
    prediction table is aligned to the split's sample ids and the dataset's label NAMES (``label_map``
    renames file labels), and its probabilities are validated, before anything is computed.
    Modalities default to the first two the scorer reads (:func:`default_modalities`).
    ``checkpoint_dir``: save / reuse the fitted scorer there (:mod:`interlens.checkpoints`).
    """
    if sum(x is not None for x in (scorer, predictions, files)) != 1:
        raise DataError("give exactly one of a scorer, predictions or prediction files", field="scorer")
    if files is not None:
        files = {str(View.parse(v)): f for v, f in files.items()}
        mods = tuple(modalities) if modalities else tuple(v for v in files if "+" not in v)[:2]
        mods, views = _views(dataset, mods if len(mods) == 2 else None, None)  # type: ignore[arg-type]
        predictions = predictions_from_files(dataset, files, split=split, label_map=label_map)
    elif predictions is not None:
        mods, views = _views(dataset, modalities, None)
    else:
        from .scoring.registry import fit_and_predict

        mods, views = _views(dataset, modalities, scorer)
        if reference == "multimodal":
            scorer.check_view(dataset, views[2])  # refused: the MINT reference needs the pair view
        wanted = views if _honours(scorer, dataset, views[2]) else views[:2]
        predictions = fit_and_predict(scorer, dataset, wanted, eval_split=split, fit_split=fit_split,
                                      val_split=val_split, cache=cache, progress=progress,
                                      checkpoint_dir=checkpoint_dir)
    target = dataset.split(split) if split else dataset
    missing_views = [v for v in views[:2] if v not in predictions]
    if reference == "multimodal" and views[2] not in predictions:
        missing_views.append(views[2])
    if missing_views:
        raise DataError(f"no predictions for view(s) {missing_views}; have {sorted(predictions)}", field="view")
    present = {v: p for v, p in predictions.items() if v in views}
    check_same_ids(*[present[v] for v in views if v in present], names=[v for v in views if v in present])
    aligned = {v: p.align_to(target.ids, dataset.labels, label_map=label_map).check_probs()
               for v, p in present.items()}
    y = target.y
    if (y < 0).any():
        raise DataError("every evaluated sample needs a gold label", file=dataset.source,
                        record=target.ids[int(np.flatnonzero(y < 0)[0])], field="label")
    p1, p2 = aligned[views[0]], aligned[views[1]]
    pm = aligned.get(views[2])
    ref = y if reference == "gold" else pm.argmax()
    split_name = split or "all"
    cats = categorize_split(p1, p2, ref, split=split_name, ids=target.ids, labels=dataset.labels,
                            apply_filter=categorize_train_steps, apply_rebalance=categorize_train_steps)
    k = len(dataset.labels)
    scores: dict[str, InteractionScore] = {}
    for delta in ("exact", "soft"):
        scores[delta] = interaction_score(p1, p2, pm, y_gold=y, reference="multimodal" if pm is not None
                                          else "gold", delta=delta, S=S, C=C, seed=seed, n_classes=k,
                                          ids=target.ids, labels=dataset.labels)
    metrics = {v: classification_metrics(y, p.argmax(), k) for v, p in aligned.items()}
    per_interaction = per_interaction_metrics(cats.categories, y, pm.argmax(), k) if pm is not None else {}
    report = InteractionReport(
        dataset=dataset.name, split=split_name, modalities=mods, reference=reference, ids=target.ids, y_gold=y,
        categories=cats.categories, categorization=cats.report, predictions=aligned, scores=scores,
        metrics=metrics, per_interaction=per_interaction,
        extra={"score_reference": "multimodal" if pm is not None else "gold"})
    report.extra.update(floors_verdict(report, _train_labels(dataset, fit_split, split), list(dataset.labels)))
    # issue 26: how `interlens verify` recomputes the categories and scores from the stored rows
    report.evidence_recipe = {  # type: ignore[attr-defined]
        "recipe": "interactions", "views": [views[0], views[1], views[2] if pm is not None else None],
        "reference": reference, "split": split_name, "apply_filter": categorize_train_steps,
        "apply_rebalance": categorize_train_steps, "S": S, "C": C, "seed": seed, "n_labels": k}
    if split and split not in (fit_split, val_split, "train", "dev", "val", "validation"):
        from .evidence.ledger import record_evaluation  # issue 26: a test look

        config = {"method": "interactions", "reference": reference, "views": list(views),
                  "scorers": {v: p.scorer for v, p in aligned.items()}, "S": S, "C": C}
        looks = record_evaluation(dataset, split, config, cache_path=getattr(cache, "path", None))
        report.extra["test_looks"] = {dataset.name: looks}
    return report


def _train_labels(dataset: Dataset, fit_split: str | None, split: str | None) -> np.ndarray | None:
    """Gold labels of the fit split (None when there is none, it is the evaluated split, or it is unlabelled)."""
    if not fit_split or fit_split == split or fit_split not in getattr(dataset, "splits", {}):
        return None
    y = dataset.split(fit_split).y
    return y if len(y) and (y >= 0).all() else None


def floors_verdict(report: InteractionReport, y_train: np.ndarray | None, labels: Sequence[str]) -> dict[str, Any]:
    """Issue 26 for ``interactions categorize / score / group``: the chance ``floors`` of the evaluated
    split (constant floor = its label prior, an oracle; the train majority), per view whether it is at
    or below them, and -- when a unimodal view, or the multimodal model used as the reference, is --
    ``uninformative`` (categories and score built from a model at chance carry no interaction
    information) with the reasons; one warning per such view and a one-line ``verdict``."""
    from .baselines import at_or_below_floor, floor_warning, floors, format_floors

    fl = floors(y_train, report.y_gold, labels)
    m1, m2 = report.modalities
    pair = f"{m1}+{m2}"
    views = {v: {"acc": m["acc"], "at_or_below_floor": at_or_below_floor(m["acc"], fl)}
             for v, m in report.metrics.items()}
    warnings, reasons = [], []
    for v, info in views.items():
        warning = floor_warning(f"view {v}", info["acc"], fl, split=report.split)
        if warning is None:
            continue
        warnings.append(warning)
        if v in (m1, m2) or (v == pair and report.extra.get("score_reference") == "multimodal") or \
                (v == pair and report.reference == "multimodal"):
            reasons.append(warning)
    uninformative = {"value": bool(reasons), "reasons": reasons}
    score = report.scores.get("exact")
    counts = ", ".join(f"{c} {report.counts.get(c, 0)}" for c in ("R", "U1", "U2", "S"))
    accs = ", ".join(f"{v} {info['acc']:.3f}" for v, info in views.items())
    text = (f"interaction score (exact) {score.score:.3f} [{score.ci_low:.3f}, {score.ci_high:.3f}] "
            if score is not None else "")
    verdict = (f"{report.dataset} ({report.split}, n={len(report.ids)}): {text}(2 = R, 1 = U, 0 = S); counts {counts};"
               f" views ACC {accs}; {format_floors(fl)}")
    if reasons:
        verdict += " -- UNINFORMATIVE: " + "; ".join(r.split(":")[0] for r in reasons) + " at or below the floor"
    return {"floors": fl, "view_floors": views, "uninformative": uninformative, "warnings": warnings,
            "verdict": verdict}


def _floor_checks(report: InteractionReport, k: int) -> list[dict[str, Any]]:
    """Checks of the constant floor, each view's floor row, and the recipe recomputing categories and scores."""
    from .evidence.store import check

    first = next(iter(report.predictions), None)
    out = []
    if first is not None and "floors" in report.extra:
        out.append(check("/floors/constant_floor/acc", "constant_floor", model=first, split=report.split,
                         n_labels=k))
        out += [check(f"/view_floors/{v.replace('~', '~0').replace('/', '~1')}/acc", "acc", model=v,
                      split=report.split, n_labels=k) for v in report.extra.get("view_floors", {})]
    recipe = getattr(report, "evidence_recipe", None)
    return out + ([dict(recipe)] if recipe else [])


def write_report(report: InteractionReport, out: str | Path, *, extra: dict[str, Any] | None = None,
                 title: str | None = None) -> dict[str, Path]:
    """report.md + PNG plots, then results.json (last: it marks a finished run) into ``out``, each
    file written atomically."""
    from .evidence.store import save_result

    paths = write_report_files(report, out, extra=extra, title=title)
    rows, checks = report_evidence(report)
    paths["results"] = save_result(Path(out), report.to_dict() | (extra or {}), predictions=rows, checks=checks)
    return paths


def report_evidence(report: InteractionReport) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The per-sample rows and declared checks stored beside results.json (issue 26: every number re-derivable)."""
    from .evidence.store import metric_checks, view_rows

    k = len(next(iter(report.predictions.values())).labels) if report.predictions else 0
    return (view_rows(report.ids, report.y_gold, report.predictions, split=report.split),
            [*metric_checks("/metrics", report.metrics, split=report.split, n_labels=k), *_floor_checks(report, k)])


def write_report_files(report: InteractionReport, out: str | Path, *, extra: dict[str, Any] | None = None,
                       title: str | None = None) -> dict[str, Path]:
    """report.md and the PNG plots of ``report`` into ``out`` (each written atomically)."""
    from .report import markdown_table
    from .report.plots import bar_counts, grouped_bars, score_with_ci
    from .report.tables import md_escape  # user-controlled names are text, never Markdown/HTML (issue 30)

    out = Path(out)
    paths: dict[str, Path] = {}
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
    lines = [f"# {md_escape(title or 'Interactions')}: {md_escape(report.dataset)} ({md_escape(report.split)})", "",
             f"Modality 1 = {md_escape(m1)}, modality 2 = {md_escape(m2)}; reference = **{report.reference}** "
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
            shown = f"{value:.4g}" if isinstance(value, float) else md_escape(value)
            lines.insert(3, f"- **{md_escape(key)}**: {shown}")
    paths["report"] = atomic_write_text(out / "report.md", "\n".join(lines) + "\n")
    return paths


def group_results(results: Mapping[str, Mapping[str, Any]], delta: str = "exact", n_groups: int = 3
                  ) -> dict[str, Any]:
    """Distance matrix (MINT Eq. 2) and both groupings (Sec. 3.3) from several ``score`` results."""
    from .interactions import distance_matrix, group_by_clustering, group_by_prototype

    if not results:
        raise DataError("no results to group", field="results")
    # issue 26: a task whose score comes from a view at chance is not placed in a group, but listed apart
    flagged = {name: list((r.get("uninformative") or {}).get("reasons") or ["uninformative"])
               for name, r in results.items() if (r.get("uninformative") or {}).get("value")}
    kept = {name: r for name, r in results.items() if name not in flagged}
    scores = {name: check_score_range(r["interaction_score"][delta]["score"], name) for name, r in kept.items()}
    names, dist = distance_matrix(scores) if scores else ([], np.zeros((0, 0)))
    warnings = [f"{name}: not grouped, its interaction score is uninformative ({'; '.join(why)})"
                for name, why in flagged.items()]
    prototype = group_by_prototype(scores) if scores else {}
    clustering = group_by_clustering(scores, n_groups=min(n_groups, len(scores))) if scores else {}
    verdict = ("groups (prototype): " + ", ".join(f"{n} {prototype[n]} ({scores[n]:.3f})" for n in names)
               if names else "no task has an informative interaction score")
    if flagged:
        verdict += f"; uninformative, not grouped: {', '.join(flagged)}"
    return {"delta": delta, "scores": scores,
            "intervals": {n: [r["interaction_score"][delta]["ci_low"], r["interaction_score"][delta]["ci_high"]]
                          for n, r in kept.items()},
            "distance": {"names": names, "matrix": dist.tolist()},
            "groups_prototype": prototype, "groups_clustering": clustering,
            "uninformative": flagged, "floors": {n: r.get("floors") for n, r in results.items()},
            "warnings": warnings, "verdict": verdict}


def load_score_results(paths: Sequence[str | Path], delta: str = "exact") -> dict[str, dict[str, Any]]:
    """``{dataset name: results}`` from ``interactions score`` outputs (a results.json or its folder),
    each checked to hold a score in [0, 2] with its interval."""
    loaded: dict[str, dict[str, Any]] = {}
    for path in map(Path, paths):
        file = path / "results.json" if path.is_dir() else path
        data = read_json(file)
        if not isinstance(data, dict):
            raise DataError("expected a JSON object (the results.json of `interactions score`)", file=str(file))
        entry = data.get("interaction_score", {}).get(delta) if isinstance(data.get("interaction_score"), dict) \
            else None
        if not isinstance(entry, dict):
            raise DataError(f"no interaction_score.{delta} (is this the output of `interactions score`?)",
                            file=str(file), field="interaction_score")
        for key in ("score", "ci_low", "ci_high"):
            if key not in entry:
                raise DataError("missing field", file=str(file), field=f"interaction_score.{delta}.{key}")
            check_score_range(entry[key], f"interaction_score.{delta}.{key}", file=str(file))
        name = str(data.get("dataset", file.parent.name))
        if name in loaded:
            name = f"{name} ({file.parent.name})"
        loaded[name] = data
    return loaded


def predict_views(dataset: Dataset, scorer: Any, views: Sequence[str] | None, out: str | Path, *,
                  split: str | None = "test", fit_split: str | None = "train", val_split: str | None = "dev",
                  cache: PredictionCache | None = None, batch_size: int = 256, progress: bool = False
                  ) -> dict[str, Any]:
    """Fit (when trainable) and predict each view on ``split``; write ``predictions_<view>.json`` into ``out``.

    Views are checked against the scorer first (default: its :meth:`default_view`). The fitted
    scorer is checkpointed in ``out/checkpoints`` and reused by a rerun (crash safety). Returns the
    summary (per view: file, fingerprint, cache use, missing rows, metrics) without writing it.
    """
    from .scoring.registry import fit_and_predict

    if batch_size < 1:
        raise DataError(f"batch_size must be >= 1, got {batch_size}", field="batch_size")
    views = [str(scorer.check_view(dataset, v)) for v in (views or [scorer.default_view(dataset)])]
    preds = fit_and_predict(scorer, dataset, views, eval_split=split, fit_split=fit_split, val_split=val_split,
                            cache=cache, progress=progress, batch_size=batch_size,
                            checkpoint_dir=Path(out) / "checkpoints")
    target = dataset.split(split) if split else dataset
    summary: dict[str, Any] = {"dataset": dataset.name, "split": split or "all", "scorer": scorer.name,
                               "views": {}}
    for v, p in preds.items():
        p = p.align_to(target.ids, dataset.labels)
        path = p.save(Path(out) / f"predictions_{v.replace('+', '_').replace('|', '_')}.json")
        metrics = classification_metrics(target.y, p.argmax(), len(dataset.labels))
        summary["views"][v] = {"file": str(path), "scorer_fingerprint": p.scorer, "n": len(p),
                               "from_cache": p.meta.get("cached", 0), "computed": p.meta.get("computed", 0),
                               "missing": len(p.missing_ids), "metrics": metrics}
    if len(target.y) and (target.y >= 0).all():  # issue 26: the floors of the scored split, a warning per view
        from .baselines import at_or_below_floor, floor_warning, floors, format_floors

        fl = floors(_train_labels(dataset, fit_split, split), target.y, list(dataset.labels))
        for info in summary["views"].values():
            info["at_or_below_floor"] = at_or_below_floor(info["metrics"]["acc"], fl)
        summary["floors"] = fl
        summary["warnings"] = [w for v, info in summary["views"].items() if (w := floor_warning(
            f"view {v}", info["metrics"]["acc"], fl, split=summary["split"])) is not None]
        summary["verdict"] = (f"predict ({summary['split']}): " + ", ".join(
            f"{v} ACC {info['metrics']['acc']:.3f}" for v, info in summary["views"].items())
            + f" vs {format_floors(fl)}")
    return summary
