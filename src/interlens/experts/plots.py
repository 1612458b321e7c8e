"""Bar plots of a fusion table and of per-interaction F1 (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..io import atomic_write


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    out = atomic_write(path, lambda p: fig.savefig(p, dpi=120, bbox_inches="tight", format="png"))
    _pyplot().close(fig)
    return out


def plot_fusion_table(report: Mapping[str, Any], path: str | Path, *, metric: str = "f1",
                      title: str | None = None) -> Path:
    """One bar per strategy (``metric`` x100). Accepts an :func:`evaluate_fusion` report or a
    multi-seed summary (``<metric>_mean``/``_std`` rows, drawn with error bars)."""
    plt = _pyplot()
    rows = report["rows"]
    names = [r["strategy"] for r in rows]
    multi = f"{metric}_mean" in rows[0]
    values = [100 * r[f"{metric}_mean"] if multi else 100 * r[metric] for r in rows]
    errors = [100 * r[f"{metric}_std"] for r in rows] if multi else None
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
    plt = _pyplot()
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
