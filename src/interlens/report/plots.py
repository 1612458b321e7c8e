"""PNG plots (matplotlib, Agg backend): interaction counts, per-interaction scores, score with CI, fusion
strategies (bars of a fusion table, F1 per interaction type; moved here from ``experts.plots`` so that
report/ imports no method package -- the old names stay importable there)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..io import atomic_write

COLORS = {"R": "#4C72B0", "U1": "#55A868", "U2": "#8FBC8F", "S": "#C44E52", "missing": "#999999"}


def pyplot():  # noqa: ANN201 - matplotlib.pyplot, imported lazily
    """``matplotlib.pyplot`` on the Agg backend (PNG files, no display): the one place interlens selects the
    backend; every module that draws gets pyplot from here (issue 29, item 5)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    plt = pyplot()
    out = atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=120, bbox_inches="tight"))
    plt.close(fig)
    return out


def bar_counts(counts: Mapping[str, int], path: Path, title: str = "Samples per interaction type") -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.8, 3.2))
    names = list(counts)
    bars = ax.bar(names, [counts[n] for n in names], color=[COLORS.get(n, "#777777") for n in names])
    ax.bar_label(bars)
    ax.set_xlabel("interaction type")
    ax.set_ylabel("samples (count)")
    ax.set_ylim(0, max([*counts.values(), 1]) * 1.15)
    ax.set_title(title)
    return _save(fig, path)


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def grouped_bars(values: Mapping[str, Mapping[str, float | None]], path: Path, title: str, ylabel: str) -> Path:
    """``values[group][series]`` as grouped bars (e.g. interaction type x metric). A missing value (None /
    NaN) is drawn as a hatched grey outline labelled "n/a", never as 0; the legend sits outside the axes."""
    plt = pyplot()
    groups = list(values)
    series = list(dict.fromkeys(s for g in groups for s in values[g]))
    fig, ax = plt.subplots(figsize=(1.6 + 1.1 * len(groups) * max(1, len(series)) / 2, 3.4))
    width = 0.8 / max(1, len(series))
    for i, s in enumerate(series):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ys = [values[groups[g]].get(s) for g in range(len(groups))]
        ax.bar([x for x, y in zip(xs, ys, strict=True) if not _missing(y)],
               [y for y in ys if not _missing(y)], width=width, label=s)
        for x, y in zip(xs, ys, strict=True):
            if _missing(y):
                ax.bar(x, 1.0, width=width, fill=False, hatch="//", edgecolor=COLORS["missing"], lw=0.6)
                ax.text(x, 0.5, "n/a", ha="center", va="center", rotation=90, fontsize=7, color="#555555")
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _save(fig, path)


def task_bars(stats: Mapping[str, Mapping[str, float] | None], path: Path,
              title: str = "Accuracy per task (mean ± std over seeds)") -> Path:
    """One bar per task (``stats[task] = {"mean", "std"}`` in 0-1, drawn in %); a task without a value is
    drawn as a hatched outline labelled "missing"."""
    plt = pyplot()
    names = list(stats)
    fig, ax = plt.subplots(figsize=(1.6 + 0.9 * len(names), 3.4))
    for i, name in enumerate(names):
        stat = stats[name] or {}
        mean = stat.get("mean")
        if _missing(mean):
            ax.bar(i, 100, fill=False, hatch="//", edgecolor=COLORS["missing"], lw=0.6)
            ax.text(i, 50, "missing", ha="center", va="center", rotation=90, fontsize=8, color="#555555")
            continue
        std = stat.get("std")
        ax.bar(i, 100 * mean, yerr=None if _missing(std) or not std else 100 * std, capsize=4, color="#4C72B0")
        ax.text(i, 100 * mean + 2, f"{100 * mean:.1f}", ha="center", fontsize=8)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylim(0, 105)
    ax.set_ylabel("accuracy (%)")
    ax.set_xlabel("task")
    ax.set_title(title)
    return _save(fig, path)


def score_with_ci(scores: Mapping[str, tuple[float, float, float]], path: Path,
                  title: str = "Interaction score (MINT Eq. 1)", prototypes: Sequence[float] = (0.0, 1.0, 2.0)
                  ) -> Path:
    """Each dataset's score with its confidence interval, against the S / U / R prototypes 0 / 1 / 2."""
    plt = pyplot()
    names = list(scores)
    fig, ax = plt.subplots(figsize=(5.2, 0.6 + 0.5 * len(names)))
    for i, name in enumerate(names):
        value, low, high = scores[name]
        ax.errorbar([value], [i], xerr=[[value - low], [high - value]], fmt="o", capsize=4, color="#333333")
    for x, label in zip(prototypes, ("S", "U", "R"), strict=False):
        ax.axvline(x, color=COLORS[{"U": "U1"}.get(label, label)], ls="--", lw=1)
        ax.text(x, len(names) - 0.4, label, ha="center", color=COLORS[{"U": "U1"}.get(label, label)])
    ax.set_yticks(range(len(names)), names)
    ax.set_xlim(-0.1, 2.1)
    ax.set_ylim(-0.6, len(names) - 0.2)
    ax.set_xlabel("score (0 = synergy, 1 = uniqueness, 2 = redundancy)")
    ax.set_title(title)
    return _save(fig, path)


def plot_fusion_table(report: Mapping[str, Any], path: str | Path, *, metric: str = "f1",
                      title: str | None = None) -> Path:
    """One bar per strategy (``metric`` x100). Accepts an :func:`evaluate_fusion` report or a
    multi-seed summary (``<metric>_mean``/``_std`` rows, drawn with error bars)."""
    plt = pyplot()
    rows = report["rows"]
    names = [r["strategy"] for r in rows]
    multi = f"{metric}_mean" in rows[0]
    values = [100 * r[f"{metric}_mean"] if multi else 100 * r[metric] for r in rows]
    errors = [100 * (r.get(f"{metric}_std") or 0.0) for r in rows] if multi else None
    errors = errors if errors and any(errors) else None  # one seed: no error bars of 0
    fig, ax = plt.subplots(figsize=(max(6.0, 0.7 * len(names)), 3.6))
    colors = ["#888888" if n == "baseline" else "#2a9d8f" if n == "oracle" else
              "#e76f51" if n.startswith("router") else "#457b9d" for n in names]
    ax.bar(range(len(names)), values, yerr=errors, color=colors, capsize=3)
    ax.set_xticks(range(len(names)), names, rotation=40, ha="right")
    label = f"{metric} ({report.get('f1_average', '')})" if metric in ("f1", "precision", "recall") else metric
    ax.set_ylabel(f"{label} x100")
    if "baseline" in names:
        ax.axhline(values[names.index("baseline")], color="#555555", lw=0.8, ls="--")
    ax.set_title(title or "Fusion strategies")
    lo = min(values) - 10
    ax.set_ylim(max(0.0, lo), min(100.0, max(values) + 8))
    return _save(fig, Path(path))


def plot_per_interaction(per_interaction: Mapping[str, Mapping[str, Mapping[str, float]]], path: str | Path, *,
                         strategies: list[str] | None = None, title: str | None = None) -> Path:
    """Grouped bars: F1 per interaction category for the baseline and each single expert (RQ1/RQ2)."""
    plt = pyplot()
    strategies = strategies or [s for s in per_interaction if s == "baseline" or s.startswith("single:")]
    strategies = [s for s in strategies if s in per_interaction]
    cats = list(next(iter(per_interaction.values())))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.4 * len(cats)), 3.6))
    width = 0.8 / max(1, len(strategies))
    for j, name in enumerate(strategies):
        vals = [100 * per_interaction[name][c].get("f1", per_interaction[name][c].get("f1_mean", 0.0)) for c in cats]
        ax.bar([i + j * width for i in range(len(cats))], vals, width, label=name.replace("single:", "expert "))
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(cats))],
                  [f"{c}\n(n={per_interaction[strategies[0]][c].get('n', '?')})" for c in cats])
    ax.set_ylabel("F1 x100")
    ax.set_title(title or "F1 per interaction type")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _save(fig, Path(path))
