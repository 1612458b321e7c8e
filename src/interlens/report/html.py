"""One static, self-contained HTML report per run (``report.html`` beside ``results.json``).

:func:`build_html_report` reads ``results.json`` alone and renders the jinja2 templates in
``report/templates/`` (autoescaped: every string from the results is text, never markup; issue 28). The
first screen (1280x800) leads with the verdict (issue 26 item 6): the command's ``verdict`` line (or one
derived from the results when absent), its ``warnings`` (models at or below a chance floor), the headline
numbers of that kind of run and the main figure; the detail tables follow collapsed in ``<details>``, then
every figure and the provenance block. One-seed runs show no ``± 0``. Figures are the run's own PNG files
when they are safe to embed (:mod:`interlens.report.embed`: regular files inside the run folder, no
symlinks, a real PNG signature; anything else is skipped with a warning), otherwise drawn from the
results. Missing values are shown as missing ("n/a"), never as 0. report/ imports no method package.
"""

from __future__ import annotations

import base64
import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..io import atomic_write_text, read_json
from .embed import read_embeddable_png

log = logging.getLogger(__name__)

#: the tables each kind of run shows first (paper order); the first one present is the main table
MAIN_KEYS: dict[str, tuple[str, ...]] = {
    "interlens.demo": ("counts", "interaction_score", "metrics", "per_interaction", "fusion",
                       "categorization_confusion"),
    "interlens.interactions.categorize": ("counts", "interaction_score", "metrics", "per_interaction"),
    "interlens.interactions.score": ("interaction_score", "counts", "metrics", "per_interaction"),
    "interlens.interactions.group": ("scores", "distance", "groups_prototype", "groups_clustering"),
    "interlens.predict": ("views",),
    "interlens.experts.train": ("summary", "rq4"),
    "interlens.experts.evaluate": ("report",),
    "interlens.debias.evaluate": ("main", "affected_error"),
    "interlens.debias.train": ("main", "affected_error"),
    "interlens.debias.mid": ("held_out",),
    "interlens.debias.counterfactuals": ("text_relevance_top",),
    "interlens.bench.run": ("tasks",),
}
TITLES = {"interlens.demo": "interlens demo", "interlens.interactions.categorize": "Interaction categories",
          "interlens.interactions.score": "Interaction score (MINT Eq. 1)",
          "interlens.interactions.group": "Task grouping (MINT Sec. 3.3)", "interlens.predict": "Predictions",
          "interlens.experts.train": "MMoE interaction experts",
          "interlens.experts.evaluate": "Fusion of expert logits",
          "interlens.debias.evaluate": "Counterfactual debiasing (MME-JD)",
          "interlens.debias.train": "Counterfactual debiasing (MME-JD)",
          "interlens.debias.mid": "MID (MME-JD Eq. 5-6)",
          "interlens.debias.counterfactuals": "Counterfactual inputs (MME-JD App. B)",
          "interlens.bench.run": "MMLA benchmark run"}
#: the figure each kind shows on the first screen (else the first figure of the run)
MAIN_FIGURES = {"interlens.demo": "interaction_score.png", "interlens.interactions.score": "interaction_score.png",
                "interlens.interactions.categorize": "interaction_counts.png",
                "interlens.interactions.group": "scores.png", "interlens.bench.run": "task_accuracy.png"}
#: keys never rendered as tables (per-sample lists, the provenance block has its own section; the verdict and
#: warnings lead the page)
SKIP = {"samples", "provenance", "kind", "plots", "files", "figures", "verdict", "warnings"}
MAX_ROWS = 200
MAX_WARNINGS = 4
TEMPLATES = Path(__file__).with_name("templates")


# -- templates -------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def environment() -> Any:
    """The jinja2 environment of the report templates (autoescape on, undefined names are errors)."""
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=False, lstrip_blocks=False,
                              keep_trailing_newline=True)


# -- numbers and cells ------------------------------------------------------------------------------------------
def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value)))


def fmt(value: Any, digits: int = 4) -> str:
    """A number as the tables show it: ``digits`` decimals, small/large ones in general format; None/NaN "n/a"."""
    if _missing(value):
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}" if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e4) else f"{value:.{digits}f}"
    return str(value)


def mean_std(mean: Any, std: Any = None, n: Any = None, *, scale: float = 1.0, digits: int = 2) -> str:
    """``mean ± std`` -- or the mean alone for one seed (``n`` == 1) or when there is no spread (issue 26)."""
    if _missing(mean):
        return "n/a"
    text = f"{scale * mean:.{digits}f}"
    if not _missing(std) and (n is None or n > 1) and std != 0:
        text += f" ± {scale * std:.{digits}f}"
    return text


def cell_data(value: Any) -> dict[str, Any]:
    """One table cell: text (numbers to 4 digits, None/NaN shown as missing), class, whether code."""
    if _missing(value):
        return {"text": "n/a", "cls": "missing", "code": False}
    if isinstance(value, dict) and "mean" in value and _is_scalar(value.get("mean")):
        return {"text": mean_std(value.get("mean"), value.get("std"), value.get("n"), digits=4), "cls": None,
                "code": False}
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False)
        return {"text": text if len(text) < 120 else text[:117] + "...", "cls": None, "code": True}
    return {"text": fmt(value), "cls": None, "code": False}


def _all_zero(values: Sequence[Any]) -> bool:
    return all(_missing(v) or (isinstance(v, int | float) and v == 0) for v in values)


def table_data(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, *,
               caption: str | None = None, table_id: str | None = None, css_class: str | None = None
               ) -> dict[str, Any]:
    """A table for the template: ``columns`` default to the union of keys in order; a spread column
    (``std`` / ``*_std``) that is 0 everywhere (one seed) is left out rather than printed as ``± 0``."""
    if columns is None:
        columns = list(dict.fromkeys(k for r in rows for k in r))
    columns = [c for c in columns if not ((c == "std" or str(c).endswith("_std"))
                                          and _all_zero([r.get(c) for r in rows]))]
    body = [[cell_data(r.get(c)) for c in columns] for r in rows[:MAX_ROWS]]
    return {"caption": caption, "id": table_id, "css_class": css_class, "columns": [str(c) for c in columns],
            "rows": body, "more": max(0, len(rows) - MAX_ROWS)}


def render_table(table: Mapping[str, Any]) -> str:
    """One table as HTML (the template's macro)."""
    return str(environment().get_template("table.html.jinja").module.render_table(table)).strip()


def _as_rows(value: Any, first: str) -> list[dict[str, Any]] | None:
    """Rows of a table-shaped value: a list of flat dicts, a dict of flat dicts, or a flat dict."""
    if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
        return [{k: v for k, v in r.items() if _is_scalar(v) or isinstance(v, list)} for r in value]
    if isinstance(value, dict) and value:
        if all(isinstance(v, dict) for v in value.values()):
            inner = list(value.values())
            if all(all(_is_scalar(x) for x in v.values()) for v in inner):
                return [{first: k, **v} for k, v in value.items()]
            return None
        if all(_is_scalar(v) for v in value.values()):
            return [{first: k, "value": v} for k, v in value.items()]
    return None


def section_tables(key: str, value: Any, *, depth: int = 0) -> list[dict[str, Any]]:
    """A results entry as tables (nested entries as further tables, at most three levels deep)."""
    title = key.replace("_", " ")
    if key == "distance" and isinstance(value, dict) and "matrix" in value:
        names = value["names"]
        rows = [{"": a, **{b: value["matrix"][i][j] for j, b in enumerate(names)}} for i, a in enumerate(names)]
        return [table_data(rows, caption=f"{title} |score_A - score_B| (MINT Eq. 2)")]
    rows = _as_rows(value, "name")
    if rows is not None:
        return [table_data(rows, caption=title)]
    if isinstance(value, dict) and depth < 2:
        out = []
        scalars = {k: v for k, v in value.items() if _is_scalar(v)}
        if scalars:
            out.append(table_data([{"field": k, "value": v} for k, v in scalars.items()], caption=title))
        for k, v in value.items():
            if k not in scalars and k not in SKIP:
                out += section_tables(f"{key}: {k}", v, depth=depth + 1)
        return out
    return []


# -- bench -------------------------------------------------------------------------------------------------------
def _pct(stat: Any) -> str | None:
    if not isinstance(stat, dict) or _missing(stat.get("mean")):
        return None
    return mean_std(stat["mean"], stat.get("std"), stat.get("n", 1), scale=100)


def limited(results: Mapping[str, Any]) -> dict[str, Any]:
    """The limits a run recorded (``provenance.limits``); a limited run is never comparable to a paper."""
    prov = results.get("provenance") or {}
    return {k: v for k, v in (prov.get("limits") or {}).items() if k in ("limit", "max_samples", "subset")
            and v is not None}


def bench_table(results: Mapping[str, Any]) -> dict[str, Any]:
    limits = limited(results)
    looks = results.get("test_looks") or {}
    rows = []
    for t in results.get("tasks", []):
        s = t.get("summary", {})
        comparable = bool(t.get("comparable_to_paper")) and not limits
        why = "yes" if comparable else ("no (--limit " + str(limits.get("limit", "")) + ")" if limits else
                                         "no (different split)")
        row = {"task": t.get("title", t.get("task")), "dimension": t.get("dimension"),
               "split": t.get("evaluation_split"), "seeds": len(t.get("seeds", [])),
               "ACC ×100": _pct(s.get("acc")), "weighted F1 ×100": _pct(s.get("weighted_f1")),
               "macro F1 ×100": _pct(s.get("macro_f1")), "failed": _pct(s.get("n_failed")),
               "comparable to MMLA": why}
        if looks:
            row["test looks"] = looks.get(t.get("task"))
        rows.append(row)
    return table_data(rows, caption="tasks: mean ± std over seeds", css_class="main", table_id="main-table")


def bench_tables(results: Mapping[str, Any]) -> str:
    """The bench run's main table as HTML (with a note when the run was limited)."""
    limits = limited(results)
    note = (f"<p class='note'>Limited run ({_escape(json.dumps(limits))}): not comparable to the paper.</p>"
            if limits else "")
    return note + render_table(bench_table(results))


def _escape(text: str) -> str:
    import markupsafe

    return str(markupsafe.escape(text))


# -- the first screen --------------------------------------------------------------------------------------------
def _row(label: str, value: str, flag: bool = False) -> dict[str, Any]:
    return {"label": label, "value": value, "flag": bool(flag)}


def _floor_text(floor: Mapping[str, Any], scale: float = 1.0, digits: int = 3) -> str:
    const = floor.get("constant_floor") or {}
    parts = []
    if not _missing(const.get("acc")):
        label = const.get("label", const.get("index"))
        parts.append(f"constant floor {scale * const['acc']:.{digits}f}" + (f" (always {label!r})"
                                                                           if label is not None else ""))
    tm = floor.get("train_majority") or {}
    if not _missing(tm.get("acc")):
        parts.append(f"train majority {scale * tm['acc']:.{digits}f}")
    return " · ".join(parts) or "n/a"


def _highest(floor: Any) -> float | None:
    value = floor.get("highest_floor_acc") if isinstance(floor, Mapping) else None
    return None if _missing(value) else float(value)


def _strategy_rows(rows: Sequence[Mapping[str, Any]], metric: str = "acc") -> dict[str, tuple[Any, Any]]:
    out = {}
    for r in rows:
        if not isinstance(r, Mapping) or "strategy" not in r:
            continue
        value = r.get(metric, r.get(f"{metric}_mean"))
        out[str(r["strategy"])] = (value, r.get(f"{metric}_std"))
    return out


def _fusion_headline(results: Mapping[str, Any], floor: float | None) -> list[dict[str, Any]]:
    """Fusion vs baseline vs best unimodal vs floors (experts train / evaluate, the demo's fusion)."""
    block = results.get("summary") or results.get("report")
    if isinstance(block, Mapping) and isinstance(block.get("rows"), list):
        strategies = _strategy_rows(block["rows"])
        n_seeds = block.get("n_seeds")
    elif isinstance(results.get("fusion"), Mapping):
        strategies = {k: (v.get("acc"), None) for k, v in results["fusion"].items() if isinstance(v, Mapping)}
        n_seeds = 1
    else:
        return []
    if not strategies:
        return []
    rows = []
    fused = {k: v for k, v in strategies.items() if k not in ("baseline", "oracle") and not k.startswith("single:")
             and not _missing(v[0])}
    if fused:
        best = max(fused, key=lambda k: fused[k][0])
        value, std = fused[best]
        text = f"{best} {mean_std(value, std, n_seeds, digits=3)}"
        paired = ((results.get("baselines") or {}).get("paired_over_items") or {}).get(best)
        if isinstance(paired, Mapping) and not _missing(paired.get("delta")):
            ci = paired.get("ci95") or [None, None]
            text += (f" (Δ vs {paired.get('vs', 'baseline')} {paired['delta']:+.3f} [{fmt(ci[0], 3)}, {fmt(ci[1], 3)}],"
                     f" p = {fmt(paired.get('p_value'), 3)}, {paired.get('n_items', '?')} test items)")
        rows.append(_row("best fusion (ACC)", text, floor is not None and value <= floor))
    if "baseline" in strategies and not _missing(strategies["baseline"][0]):
        value, std = strategies["baseline"]
        rows.append(_row("baseline (ACC)", mean_std(value, std, n_seeds, digits=3),
                         floor is not None and value <= floor))
    unimodal = _unimodal(results)
    if unimodal:
        name, value = max(unimodal.items(), key=lambda kv: kv[1])
        rows.append(_row("best unimodal (ACC)", f"{name} {value:.3f}", floor is not None and value <= floor))
    if "oracle" in strategies and not _missing(strategies["oracle"][0]):
        rows.append(_row("oracle bound (ACC)", mean_std(*strategies["oracle"], n_seeds, digits=3)))
    return rows


def _unimodal(results: Mapping[str, Any]) -> dict[str, float]:
    """Unimodal ACC per view from the baselines block (first seed) or the per-view metrics."""
    per_seed = (results.get("baselines") or {}).get("per_seed") or {}
    for entry in per_seed.values():
        rows = ((entry or {}).get("tables") or {}).get("acc") or []
        found = {str(r["name"]).split(":", 1)[1]: float(r["value"]) for r in rows
                 if str(r.get("name", "")).startswith("unimodal:") and not _missing(r.get("value"))}
        if found:
            return found
        break
    return {}


def headline(kind: str, results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The headline numbers of a run, from whatever keys its results.json holds (issue 26 item 6)."""
    rows: list[dict[str, Any]] = []
    floors = results.get("floors")
    single_floor = isinstance(floors, Mapping) and "constant_floor" in floors
    floor = _highest(floors) if single_floor else None
    scores = results.get("interaction_score")
    if isinstance(scores, Mapping):
        uninformative = (results.get("uninformative") or {}).get("value") is True
        for delta, s in scores.items():
            if isinstance(s, Mapping) and not _missing(s.get("score")):
                rows.append(_row(f"interaction score ({delta} δ)",
                                 f"{s['score']:.3f} [{fmt(s.get('ci_low'), 3)}, {fmt(s.get('ci_high'), 3)}]"
                                 f" (95% CI, n = {s.get('n', '?')}; 2 = R, 1 = U, 0 = S)"
                                 + (" — UNINFORMATIVE" if uninformative else ""), uninformative))
    counts = results.get("counts")
    if isinstance(counts, Mapping) and counts:
        shown = [f"{c} {n}" for c, n in counts.items() if c in ("R", "U1", "U2", "S") or n]
        rows.append(_row("interaction counts", " · ".join(shown)))
    if not _missing(results.get("categorization_accuracy")):
        rows.append(_row("categorisation accuracy (vs planted)", f"{results['categorization_accuracy']:.3f}"))
    metrics = results.get("metrics")
    view_floors = results.get("view_floors") or {}
    if isinstance(metrics, Mapping) and metrics and all(isinstance(m, Mapping) for m in metrics.values()):
        parts, flagged = [], False
        for view, m in metrics.items():
            if _missing(m.get("acc")):
                continue
            low = (view_floors.get(view) or {}).get("at_or_below_floor") is True or (
                floor is not None and m["acc"] <= floor)
            flagged = flagged or low
            parts.append(f"{view} {m['acc']:.3f}" + (" (≤ floor)" if low else ""))
        if parts:
            rows.append(_row("views (ACC)", " · ".join(parts), flagged))
    views = results.get("views")
    if kind == "interlens.predict" and isinstance(views, Mapping):
        parts = [f"{v} ACC {fmt((i.get('metrics') or {}).get('acc'), 3)}" for v, i in views.items()
                 if isinstance(i, Mapping)]
        if parts:
            rows.append(_row("views", " · ".join(parts)))
    rows += _group_headline(results)
    rows += _fusion_headline(results, floor)
    rows += _debias_headline(results, floor)
    if kind == "interlens.bench.run" or isinstance(results.get("tasks"), list):
        rows += _bench_headline(results)
    if single_floor:
        rows.append(_row("chance floors", _floor_text(floors)))
    if not rows:  # any other kind: its scalar fields
        rows = [_row(k.replace("_", " "), fmt(v, 4)) for k, v in results.items()
                if _is_scalar(v) and k not in SKIP and k not in ("command", "dataset")][:8]
    return rows


def _group_headline(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``interactions group``: each grouped task's score with its interval and its prototype group."""
    scores, intervals = results.get("scores"), results.get("intervals") or {}
    groups = results.get("groups_prototype") or {}
    if not isinstance(scores, Mapping) or not isinstance(results.get("distance"), Mapping):
        return []
    rows = []
    for name, score in list(scores.items())[:8]:
        ci = intervals.get(name) or [None, None]
        rows.append(_row(f"{name}", f"score {fmt(score, 3)} [{fmt(ci[0], 3)}, {fmt(ci[1], 3)}]"
                                    + (f" → group {groups[name]}" if name in groups else "")))
    if len(scores) > 8:
        rows.append(_row("…", f"{len(scores) - 8} more tasks in the details"))
    flagged = results.get("uninformative")
    if isinstance(flagged, Mapping) and flagged:
        rows.append(_row("not grouped (uninformative)", ", ".join(map(str, flagged)), True))
    return rows


def _debias_headline(results: Mapping[str, Any], floor: float | None) -> list[dict[str, Any]]:
    """Debiasing runs (MME-JD): ACC of the baseline and each method (x100, as their ``main`` table holds it),
    and the error on cue-affected samples."""
    rows = []
    main = results.get("main")
    if isinstance(main, Mapping) and main and all(isinstance(v, Mapping) and "acc" in v for v in main.values()):
        parts, flagged = [], False
        for name, m in main.items():
            low = floor is not None and not _missing(m["acc"]) and m["acc"] / 100 <= floor
            flagged = flagged or low
            parts.append(f"{name} {fmt(m['acc'], 2)}" + (" (≤ floor)" if low else ""))
        rows.append(_row("ACC ×100", " · ".join(parts), flagged))
    affected = results.get("affected_error")
    if isinstance(affected, Mapping) and affected and all(isinstance(v, Mapping) for v in affected.values()):
        parts = [f"{name} {fmt(v.get('affected'), 2)}" for name, v in affected.items()]
        n = next(iter(affected.values())).get("n_affected")
        rows.append(_row("error on cue-misled samples (%)", " · ".join(parts) + (f" (n = {n})" if n else "")))
    return rows


def _bench_headline(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    looks = results.get("test_looks") or {}
    per_task = results.get("verdict_per_task") or {}
    for t in results.get("tasks") or []:
        if not isinstance(t, Mapping):
            continue
        name = str(t.get("task"))
        acc = (t.get("summary") or {}).get("acc") or {}
        n = len(t.get("seeds") or []) or acc.get("n")
        text = f"{mean_std(acc.get('mean'), acc.get('std'), n, scale=100)} ({n} seed{'s' if n != 1 else ''}, " \
               f"{t.get('evaluation_split', '?')})"
        entry = per_task.get(name) or {}
        floor = _highest(entry.get("floors") or (results.get("floors") or {}).get(name))
        if floor is not None:
            text += f"; floor {100 * floor:.2f}"
        ref = entry.get("vs_reference")
        if isinstance(ref, Mapping):
            ci = ref.get("ours_ci95") or ref.get("acc_ci95") or ref.get("ci95")
            if isinstance(ci, list | tuple) and len(ci) == 2 and not any(_missing(c) for c in ci):
                text += f"; CI [{100 * ci[0]:.2f}, {100 * ci[1]:.2f}]"
            if not _missing(ref.get("reference")):
                text += f"; vs {ref.get('model', 'reference')} {100 * ref['reference']:.2f}"
                if not _missing(ref.get("reference_binomial_se")):
                    text += f" (SE {100 * ref['reference_binomial_se']:.2f})"
            elif ref.get("model"):
                text += f"; vs {ref['model']}"
            if not _missing(ref.get("diff")):
                dci = ref.get("diff_ci95") or [None, None]
                text += (f" diff {100 * ref['diff']:+.2f} [{fmt(None if _missing(dci[0]) else 100 * dci[0], 2)}, "
                         f"{fmt(None if _missing(dci[1]) else 100 * dci[1], 2)}]")
            if not _missing(ref.get("p_value")):
                text += f", p = {fmt(ref['p_value'], 3)}"
            if ref.get("verdict"):
                text += f" ({ref['verdict']})"
        if name in looks:
            text += f"; test looks {looks[name]}"
        low = entry.get("at_or_below_floor") is True
        rows.append(_row(f"{t.get('title', name)} ACC ×100", text, low))
    return rows


def derived_verdict(kind: str, results: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> str:
    """A one-line verdict from the headline numbers, for results written without a ``verdict`` line."""
    title = TITLES.get(kind, kind)
    dataset = _dataset_name(results)
    head = f"{title}" + (f" on {dataset}" if dataset else "")
    parts = [f"{r['label']} {r['value']}" for r in rows[:3]]
    return head + (": " + "; ".join(parts) if parts else "")


def _dataset_name(results: Mapping[str, Any]) -> str | None:
    dataset = results.get("dataset")
    dataset = dataset.get("name") if isinstance(dataset, Mapping) else dataset
    return dataset if isinstance(dataset, str) and dataset else None


# -- figures ---------------------------------------------------------------------------------------------------
def _png(draw: Callable[[Path], Any]) -> bytes | None:
    """Draw a figure with ``draw(path)`` into memory (a temporary file) and return the PNG bytes."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "figure.png"
        try:
            draw(path)
        except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError, AttributeError):
            return None  # results lack what this figure needs: no figure rather than a wrong one
        return path.read_bytes() if path.exists() else None


def _figure_specs(kind: str, results: Mapping[str, Any]) -> list[tuple[str, str, Callable[[Path], Any]]]:
    """(file name, caption, draw) of the figures a kind of run has; drawn only when the file is absent."""
    from . import plots

    specs: list[tuple[str, str, Callable[[Path], Any]]] = []
    if "counts" in results and "interaction_score" in results:
        name = _dataset_name(results) or ""
        specs.append(("interaction_counts.png", "Samples per interaction type",
                      lambda p: plots.bar_counts({c: n for c, n in results["counts"].items()
                                                  if c in ("R", "U1", "U2", "S") or n}, p,
                                                 title=f"{name}: samples per interaction type")))
        specs.append(("interaction_score.png", "Interaction score with 95% CI",
                      lambda p: plots.score_with_ci({f"{name} ({d})": (s["score"], s["ci_low"], s["ci_high"])
                                                     for d, s in results["interaction_score"].items()}, p)))
        if results.get("per_interaction"):
            specs.append(("per_interaction.png", "Multimodal model per interaction type",
                          lambda p: plots.grouped_bars({c: {"accuracy": v.get("acc"), "F1": v.get("f1")}
                                                        for c, v in results["per_interaction"].items()}, p,
                                                       "Multimodal model per interaction type", "score (0-1)")))
    if kind == "interlens.interactions.group":
        specs.append(("scores.png", "Interaction score per dataset with CI",
                      lambda p: plots.score_with_ci({n: (results["scores"][n], *results["intervals"][n])
                                                     for n in results["distance"]["names"]}, p)))
    if kind == "interlens.predict":
        specs.append(("view_metrics.png", "Accuracy and F1 per view",
                      lambda p: plots.grouped_bars({v: {"accuracy": i["metrics"].get("acc"),
                                                        "F1": i["metrics"].get("f1")}
                                                    for v, i in results["views"].items()}, p,
                                                   "Scores per view", "score (0-1)")))
    if kind in ("interlens.experts.train", "interlens.experts.evaluate"):
        report = results.get("summary") or results.get("report") or {}
        tag = "test" if "summary" in results else str(results.get("model") or "precomputed")
        specs.append((f"fusion_{tag}.png", "Fusion strategies",
                      lambda p: plots.plot_fusion_table(report, p, title=f"Fusion strategies ({tag})")))
        if report.get("per_interaction"):
            specs.append((f"per_interaction_{tag}.png", "F1 per interaction type",
                          lambda p: plots.plot_per_interaction(report["per_interaction"], p)))
    if kind == "interlens.bench.run":
        specs.append(("task_accuracy.png", "Accuracy per task (mean over seeds, ± std)",
                      lambda p: plots.task_bars({t.get("title", t["task"]): t.get("summary", {}).get("acc")
                                                 for t in results["tasks"]}, p)))
    return specs


def _img(data: bytes, name: str, caption: str) -> dict[str, str]:
    return {"src": "data:image/png;base64," + base64.b64encode(data).decode("ascii"), "alt": name,
            "caption": caption, "name": name}


def figures(run_dir: Path, kind: str, results: Mapping[str, Any]) -> tuple[list[dict[str, str]], list[str]]:
    """Every figure of the run, embedded -- the kind's figures (the run's PNG when safe to embed, else drawn
    from the results), then any other PNG in the run folder or listed in results.json -- and the files
    skipped as unsafe (each also logged as a warning)."""
    out: list[dict[str, str]] = []
    skipped: list[str] = []
    used: set[str] = set()

    def skip(shown: str, why: str) -> None:
        if shown not in {s.split(": ")[0] for s in skipped}:
            skipped.append(f"{shown}: {why}")
            log.warning("report.html: not embedding %s (%s)", shown, why)

    for name, caption, draw in _figure_specs(kind, results):
        used.add(name)
        data = None
        if (run_dir / name).exists() or (run_dir / name).is_symlink():
            data, why = read_embeddable_png(run_dir, name)
            if why:
                skip(name, why)
        data = data or _png(draw)
        if data:
            out.append(_img(data, name, caption))
    listed: list[str] = []
    for key in ("figures", "plots", "files"):
        value = results.get(key)
        if isinstance(value, list):
            listed += [str(p) for p in value if str(p).lower().endswith(".png")]
    candidates = [p.relative_to(run_dir).as_posix() for p in
                  [*sorted(run_dir.glob("*.png")), *sorted(run_dir.glob("figures/*.png"))]]
    for given in [*listed, *candidates]:  # the run's own order first (its first listed figure is its main one)
        from .embed import relative_inside

        rel = relative_inside(run_dir, given)
        shown = rel.as_posix() if rel is not None else given
        if shown in used:
            continue
        used.add(shown)
        data, why = read_embeddable_png(run_dir, given)
        if why:
            skip(shown, why)
            continue
        out.append(_img(data, shown, Path(shown).stem.replace("_", " ")))
    return out, skipped


# -- provenance ------------------------------------------------------------------------------------------------
def provenance_data(prov: Mapping[str, Any] | None) -> dict[str, Any]:
    if not prov:
        return {"rows": [], "tables": [], "settings": None}
    rows: list[tuple[str, Any]] = [
        ("interlens version", prov.get("interlens_version")), ("interlens revision", prov.get("interlens_revision")),
        ("created (UTC)", prov.get("created")), ("command", prov.get("command")),
        ("seeds", ", ".join(map(str, prov.get("seeds") or [])) or None),
        ("limits", json.dumps(prov.get("limits")) if prov.get("limits") else "none (full data)")]
    scorer = prov.get("scorer") or {}
    if scorer:
        rows += [("scorer", scorer.get("name")), ("scorer parameters", json.dumps(scorer.get("params") or {})),
                 ("scorer fingerprint", scorer.get("fingerprint"))]
    tables = []
    if prov.get("datasets"):
        tables.append(table_data(prov["datasets"], ["name", "fingerprint", "n", "splits", "source"],
                                 caption="datasets"))
    if scorer.get("fitted"):
        tables.append(table_data([{"model": k, "fingerprint": v} for k, v in scorer["fitted"].items()],
                                 caption="fitted scorer fingerprints"))
    if prov.get("environment"):
        tables.append(table_data([prov["environment"]], caption="environment"))
    settings = json.dumps(prov["settings"], indent=1, ensure_ascii=False) if prov.get("settings") else None
    return {"rows": [(k, None if _missing(v) else str(v)) for k, v in rows], "tables": tables, "settings": settings}


# -- the page -----------------------------------------------------------------------------------------------------
def kind_of(results: Mapping[str, Any]) -> str:
    kind = results.get("kind") or (results.get("provenance") or {}).get("kind")
    if kind:
        return str(kind)
    command = str(results.get("command") or "")
    if command:
        return f"interlens.{command.replace(' ', '.')}"
    for key, guess in (("tasks", "interlens.bench.run"), ("distance", "interlens.interactions.group"),
                       ("fusion", "interlens.demo"), ("interaction_score", "interlens.interactions.score"),
                       ("views", "interlens.predict"), ("summary", "interlens.experts.train"),
                       ("main", "interlens.debias.evaluate")):
        if key in results:  # an older results.json without ``kind``
            return guess
    return "interlens"


def _warnings(results: Mapping[str, Any]) -> list[str]:
    value = results.get("warnings")
    if isinstance(value, str):
        return [value]
    return [str(w) for w in value if w] if isinstance(value, list) else []


def context(results: Mapping[str, Any], run_dir: Path) -> dict[str, Any]:
    """Everything the report template shows, from ``results`` (figures looked up in ``run_dir``)."""
    kind = kind_of(results)
    title = TITLES.get(kind, kind)
    dataset = _dataset_name(results)
    heading = title + (f": {dataset}" if dataset else "")
    rows = headline(kind, results)
    verdict = results.get("verdict")
    derived = not (isinstance(verdict, str) and verdict.strip())
    if derived:
        verdict = derived_verdict(kind, results, rows)
    prov = results.get("provenance") or {}
    note = None
    if kind == "interlens.bench.run":
        limits = limited(results)
        note = f"Limited run ({json.dumps(limits)}): not comparable to the paper." if limits else None
        main, order = bench_table(results), []
    else:
        main, order = None, [k for k in MAIN_KEYS.get(kind, ()) if k in results]
    sections = []
    rest = [k for k in results if k not in order and k not in SKIP and not _is_scalar(results[k])]
    for key in [*order, *rest]:
        if kind == "interlens.bench.run" and key == "tasks":
            continue
        tables = section_tables(key, results[key])
        if not tables:
            continue
        if main is None:  # the first table of the kind's main keys is the main table
            main = {**tables[0], "css_class": "main", "id": "main-table"}
            tables = tables[1:]
            if not tables:
                continue
        sections.append({"title": key.replace("_", " "), "tables": tables})
    figs, skipped = figures(run_dir, kind, results)
    wanted = MAIN_FIGURES.get(kind)
    main_figure = next((f for f in figs if f["name"] == wanted), figs[0] if figs else None)
    scalars = {k: v for k, v in results.items() if _is_scalar(v) and k not in SKIP}
    return {"heading": heading, "verdict": verdict, "verdict_derived": derived, "warnings": _warnings(results),
            "max_warnings": MAX_WARNINGS, "headline": rows, "command": prov.get("command"), "note": note,
            "main_figure": main_figure, "main_table": main, "sections": sections,
            "summary": table_data([{"field": k, "value": v} for k, v in scalars.items()]) if scalars else None,
            "figures": [f for f in figs if f is not main_figure], "skipped": skipped,
            "provenance": provenance_data(prov)}


def render(results: Mapping[str, Any], run_dir: Path) -> str:
    """The report page of ``results`` (figures looked up in ``run_dir``)."""
    return environment().get_template("report.html.jinja").render(**context(results, Path(run_dir)))


def build_html_report(run_dir: str | Path, results: Mapping[str, Any] | None = None) -> Path:
    """Write ``run_dir/report.html`` from ``run_dir/results.json`` (or ``results``); returns its path."""
    run_dir = Path(run_dir)
    if run_dir.is_file():
        run_dir = run_dir.parent
    if results is None:
        from ..errors import DataError

        results = read_json(run_dir / "results.json")
        if not isinstance(results, dict):
            raise DataError("expected a JSON object", file=str(run_dir / "results.json"))
    return atomic_write_text(run_dir / "report.html", render(results, run_dir))
