"""Benchmark reports: ranking tables (Markdown), per-dimension bar charts, a radar chart across tasks
(matplotlib PNG), a static HTML page, and a comparison with MMLA's published numbers."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..io import atomic_write_text, read_json
from .reference import CITATION, MODELS, reference_acc
from .registry import DIMENSIONS
from .results import RunResults


def load_run(path: str | Path) -> RunResults:
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    if not path.exists():
        raise DataError("no results.json here (run `bench run --out DIR` first)", file=str(path))
    raw = read_json(path)
    if raw.get("kind") != "interlens.bench.run":
        raise DataError("not a bench run results file", file=str(path), field="kind")
    run = RunResults.from_dict(raw)
    from .results import verify_run_folder

    verify_run_folder(path.parent, raw, run)  # unit and samples files hash-checked before use (issue 30)
    run.limits = {k: v for k, v in ((raw.get("provenance") or {}).get("limits") or {}).items()  # type: ignore
                  if k in ("limit", "max_samples", "subset") and v is not None}
    run.test_looks = dict(raw.get("test_looks") or {})  # type: ignore[attr-defined]  # issue 26
    return run


def run_limits(run: RunResults) -> dict[str, Any]:
    """The data limits of a run (``bench run --limit N``, from its provenance); such a run is never
    comparable with the paper."""
    return dict(getattr(run, "limits", None) or {})


def run_label(run: RunResults) -> str:
    return f"{run.scorer} ({run.method}, {len(run.seeds)} seed{'s' if len(run.seeds) != 1 else ''})"


def _pct(stat: dict[str, float] | None) -> str:
    if not stat or stat.get("mean") is None or math.isnan(stat["mean"]):
        return "-"
    if stat.get("n", 1) > 1:
        return f"{100 * stat['mean']:.2f} ± {100 * stat['std']:.2f}"
    return f"{100 * stat['mean']:.2f}"


def _tasks(runs: list[RunResults]) -> list[tuple[str, str, str]]:
    seen: dict[str, tuple[str, str, str]] = {}
    for run in runs:
        for t in run.tasks:
            seen.setdefault(t.task, (t.task, t.title, t.dimension))
    order = {d: i for i, d in enumerate(DIMENSIONS)}
    return sorted(seen.values(), key=lambda x: (order.get(x[2], 99), x[0]))


def ranking_table(runs: list[RunResults], metric: str = "acc") -> str:
    """Runs ranked by mean ``metric`` over their tasks; one column per task (mean ± std over seeds)."""
    tasks = _tasks(runs)
    rows = []
    for run in runs:
        by = {t.task: t.summary.get(metric) for t in run.tasks}
        means = [v["mean"] for v in by.values() if v and not math.isnan(v["mean"])]
        rows.append((sum(means) / len(means) if means else float("nan"), run, by))
    rows.sort(key=lambda r: -r[0] if not math.isnan(r[0]) else math.inf)
    head = "| rank | run | mean | " + " | ".join(title for _, title, _ in tasks) + " |"
    lines = [f"{metric} ×100, mean ± std over seeds", "", head, "|" + "---|" * (len(tasks) + 3)]
    for rank, (mean, run, by) in enumerate(rows, 1):
        cells = [_pct(by.get(name)) for name, _, _ in tasks]
        lines.append(f"| {rank} | {run_label(run)} | {100 * mean:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def test_looks(run: RunResults, task: Any) -> int | None:
    """Distinct configurations evaluated on the task's evaluation split (issue 26): the larger of the count
    the run recorded and the ledger's count now (later looks raise it); None when neither is known."""
    from ..evidence.ledger import count_looks

    known = [(getattr(run, "test_looks", None) or {}).get(task.task)]
    fingerprint = (run.data_fingerprints or {}).get(task.task)
    if fingerprint:
        known.append(count_looks(fingerprint, task.evaluation_split) or None)
    values = [int(v) for v in known if v is not None]
    return max(values) if values else None


LOOKS_NOTE = ("test looks: distinct configurations evaluated on the task's evaluation split so far (the ledger, "
              "issue 26); each one more is a chance to fit the test set.")

COST_NOTE = ("fit s per seed: the mean full fitting cost of a seed's model, every fit behind it (ensemble members "
             "restored or fitted by another process included); '-': unknown (a run recorded before units kept it).")


FLOOR_NOTE = ("chance floor: the best constant predictor on the evaluated split (its label prior, an oracle) / the "
              "train-fitted majority class on it (issue 26); '≤ floor': our mean ACC is not above the higher one.")


def _task_floors(t: Any) -> dict[str, Any] | None:
    first = next(iter(t.per_seed.values()), None) if t.per_seed else None
    return ((first or {}).get("majority") or {}).get("floors")


def _floor(t: Any) -> str:
    """``57.30 / 42.70``: the task's constant floor and train majority on its evaluated split, '-' if unknown."""
    fl = _task_floors(t)
    if not fl:
        return "-"
    tm = fl.get("train_majority")
    return f"{100 * fl['constant_floor']['acc']:.2f}" + (f" / {100 * tm['acc']:.2f}" if tm else "")


def _below(t: Any) -> str:
    fl, acc = _task_floors(t), t.summary.get("acc", {}).get("mean")
    if not fl or acc is None or math.isnan(acc):
        return ""
    return " ≤ floor" if acc <= fl["highest_floor_acc"] + 1e-12 else ""


def compare_table(run: RunResults) -> str:
    """Our ACC next to MMLA Table 3 (text-only SFT); flags tasks evaluated on a different split."""
    lines = [f"| task | split | ours ACC | chance floor (test prior / train majority) | {' | '.join(MODELS)} | "
             f"Δ vs {MODELS[0]} | test looks | comparable | fit s per seed |",
             "|---|---|---|---|" + "---|" * len(MODELS) + "---|---|---|---|"]
    for t in run.tasks:
        refs = [reference_acc(t.task, m) for m in MODELS]
        mean = 100 * t.summary["acc"]["mean"]
        delta = f"{mean - refs[0]:+.2f}" if refs[0] is not None else "-"
        cells = " | ".join(f"{r:.2f}" if r is not None else "-" for r in refs)
        limits = run_limits(run)
        why = "yes" if t.comparable_to_paper and not limits else \
            f"no (--limit {limits.get('limit', limits)})" if limits else "no (different split)"
        cost = t.fit_cost()
        looks = test_looks(run, t)
        lines.append(f"| {t.title} | {t.evaluation_split} | {_pct(t.summary['acc'])}{_below(t)} | {_floor(t)} | "
                     f"{cells} | {delta} | "
                     f"{'-' if looks is None else looks} | {why} | {'-' if cost is None else f'{cost:,.0f}'} |")
    return "\n".join(lines) + f"\n\nReference: {CITATION}\n\n{FLOOR_NOTE}\n\n{LOOKS_NOTE}\n\n{COST_NOTE}\n"


def _plt():  # noqa: ANN202 - matplotlib.pyplot on Agg (report.plots.pyplot, the one backend choice)
    from ..report.plots import pyplot

    return pyplot()


def dimension_bars(runs: list[RunResults], out: Path, metric: str = "acc") -> list[Path]:
    """One PNG per dimension: grouped bars (task x run) of ``metric``."""
    plt = _plt()
    paths = []
    tasks = _tasks(runs)
    for dim in DIMENSIONS:
        dim_tasks = [t for t in tasks if t[2] == dim]
        if not dim_tasks:
            continue
        fig, ax = plt.subplots(figsize=(1.6 + 1.4 * len(dim_tasks) * max(1, len(runs)) / 2, 3.2))
        width = 0.8 / max(1, len(runs))
        for i, run in enumerate(runs):
            by = {t.task: t.summary.get(metric) for t in run.tasks}
            xs = [j + i * width for j in range(len(dim_tasks))]
            means = [100 * (by.get(n) or {}).get("mean", float("nan")) for n, _, _ in dim_tasks]
            errs = [100 * (by.get(n) or {}).get("std", 0.0) for n, _, _ in dim_tasks]
            ax.bar(xs, means, width, yerr=errs, label=run_label(run))
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(dim_tasks))], [t[1] for t in dim_tasks])
        ax.set_ylabel(f"{metric} (%)")
        ax.set_xlabel("task")
        ax.set_title(dim.replace("_", " "))
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        path = out / f"bars_{dim}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        paths.append(path)
    return paths


def radar_values(runs: list[RunResults], metric: str = "acc") -> list[list[float | None]]:
    """Per run, ``metric`` x100 for each task of :func:`_tasks` (None where the run lacks the task)."""
    out = []
    for run in runs:
        by = {t.task: t.summary.get(metric) for t in run.tasks}
        means = [(by.get(n) or {}).get("mean") for n, _, _ in _tasks(runs)]
        out.append([None if m is None or math.isnan(m) else 100 * m for m in means])
    return out


def radar(runs: list[RunResults], out: Path, metric: str = "acc") -> Path | None:
    tasks = _tasks(runs)
    if len(tasks) < 3:
        return None
    plt = _plt()
    angles = [2 * math.pi * i / len(tasks) for i in range(len(tasks))]
    fig = plt.figure(figsize=(5.5, 5.5))
    ax = fig.add_subplot(projection="polar")
    missing_any = False
    for run, values in zip(runs, radar_values(runs, metric), strict=True):
        # a task the run lacks is a gap in its line and an x at the centre, never a 0
        vals = [float("nan") if v is None else v for v in values]
        line = ax.plot([*angles, angles[0]], [*vals, vals[0]], marker="o", ms=3, label=run_label(run))[0]
        gaps = [a for a, v in zip(angles, vals, strict=True) if math.isnan(v)]
        if gaps:
            missing_any = True
            ax.plot(gaps, [0] * len(gaps), ls="none", marker="x", ms=8, color=line.get_color())
    ax.set_xticks(angles, [t[1] for t in tasks], fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_title(f"{metric} (%) per task" + ("; x = task missing from that run" if missing_any else ""), fontsize=9)
    ax.legend(loc="upper left", fontsize=7, bbox_to_anchor=(1.08, 1.0), frameon=False)
    path = out / "radar.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _md_table_html(markdown: str) -> str:
    rows = [line for line in markdown.splitlines() if line.startswith("|") and not set(line) <= set("|-")]
    if not rows:
        return f"<p>{html.escape(markdown)}</p>"
    cells = [[html.escape(c.strip()) for c in row.strip("|").split("|")] for row in rows]
    head = "".join(f"<th>{c}</th>" for c in cells[0])
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in cells[1:])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def build_report(runs: list[RunResults], out: str | Path) -> dict[str, Any]:
    """Write ranking.md, compare.md, bar charts, radar.png and index.html under ``out``."""
    if not runs:
        raise DataError("no runs to report on", field="runs")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ranking = ranking_table(runs)
    compare = "\n".join(f"### {run_label(r)}\n\n{compare_table(r)}" for r in runs)
    atomic_write_text(out / "ranking.md", ranking)
    atomic_write_text(out / "compare.md", compare)
    images = dimension_bars(runs, out)
    star = radar(runs, out)
    if star is not None:
        images.append(star)
    figures = "".join(f'<figure><img src="{p.name}" alt="{p.stem}"></figure>' for p in images)
    compare_html = "".join(f"<h3>{html.escape(run_label(r))}</h3>{_md_table_html(compare_table(r))}" for r in runs)
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>interlens MMLA benchmark</title><style>"
        "body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:3px 6px}img{max-width:100%}</style></head><body>"
        f"<h1>MMLA benchmark</h1><h2>Ranking (ACC)</h2>{_md_table_html(ranking)}"
        f"<h2>Against MMLA Table 3</h2>{compare_html}<p>{html.escape(CITATION)}</p><p>{html.escape(COST_NOTE)}</p>"
        f"<h2>Figures</h2>{figures}</body></html>\n")
    atomic_write_text(out / "index.html", page)
    return {"ranking": str(out / "ranking.md"), "compare": str(out / "compare.md"), "html": str(out / "index.html"),
            "figures": [str(p) for p in images]}
