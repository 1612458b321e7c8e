"""One static, self-contained HTML report per run (``report.html`` beside ``results.json``).

:func:`build_html_report` reads ``results.json`` alone: the tables a paper would print (the run
kind's main tables first, then every other table the results hold), the plots (PNG files of the run
when present, otherwise drawn from the results; every image embedded as base64, so the page is one
file), and the provenance block (version, revision, command line, settings, seeds, datasets,
limits, scorer). Missing values are shown as missing ("n/a"), never as 0.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..io import atomic_write_text, read_json

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
#: keys never rendered as tables (per-sample lists, the provenance block has its own section)
SKIP = {"samples", "provenance", "kind", "plots", "files", "figures"}
MAX_ROWS = 200

CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}h3{font-size:1.05em}
table{border-collapse:collapse;font-size:13px;margin:.5em 0 1em}caption{text-align:left;font-weight:600;padding:4px 0}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:right;vertical-align:top}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}td.missing{color:#999;font-style:italic}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:12px;color:#555}
#provenance td{text-align:left}code,pre{font-size:12px;background:#f7f7f7}pre{padding:.5em;overflow-x:auto}
.note{color:#8a4b00}
"""


# -- cells -------------------------------------------------------------------------------------------------
def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def cell(value: Any) -> str:
    """One ``<td>``: numbers to 4 digits, None/NaN shown as missing."""
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return '<td class="missing">n/a</td>'
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, float):
        return f"<td>{value:.4g}</td>" if abs(value) < 1e-3 or abs(value) >= 1e4 else f"<td>{value:.4f}</td>"
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False)
        return f"<td><code>{html.escape(text if len(text) < 120 else text[:117] + '...')}</code></td>"
    return f"<td>{html.escape(str(value))}</td>"


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, *, caption: str | None = None,
          table_id: str | None = None, css_class: str | None = None) -> str:
    """An HTML table of ``rows`` (dicts); ``columns`` default to the union of keys in order."""
    if columns is None:
        columns = list(dict.fromkeys(k for r in rows for k in r))
    attrs = (f' id="{table_id}"' if table_id else "") + (f' class="{css_class}"' if css_class else "")
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(cell(r.get(c)) for c in columns) + "</tr>" for r in rows[:MAX_ROWS])
    more = f"<tr><td colspan='{len(columns)}'>... {len(rows) - MAX_ROWS} more rows in results.json</td></tr>" \
        if len(rows) > MAX_ROWS else ""
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table{attrs}>{cap}<thead><tr>{head}</tr></thead><tbody>{body}{more}</tbody></table>"


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


def _section(key: str, value: Any, *, main: bool, depth: int = 0) -> str:
    """A results entry as a table (or nested tables, at most three levels deep)."""
    title = key.replace("_", " ")
    if key == "distance" and isinstance(value, dict) and "matrix" in value:
        names = value["names"]
        rows = [{"": a, **{b: value["matrix"][i][j] for j, b in enumerate(names)}} for i, a in enumerate(names)]
        return table(rows, caption=f"{title} |score_A - score_B| (MINT Eq. 2)",
                     css_class="main" if main else None)
    rows = _as_rows(value, "name")
    if rows is not None:
        return table(rows, caption=title, css_class="main" if main else None)
    if isinstance(value, dict) and depth < 2:
        parts = []
        scalars = {k: v for k, v in value.items() if _is_scalar(v)}
        if scalars:
            parts.append(table([{"field": k, "value": v} for k, v in scalars.items()], caption=title,
                               css_class="main" if main else None))
            main = False
        for k, v in value.items():
            if k in scalars or k in SKIP:
                continue
            inner = _section(f"{key}: {k}", v, main=main, depth=depth + 1)
            if inner:
                parts.append(inner)
                main = False
        return "".join(parts)
    return ""


# -- bench ---------------------------------------------------------------------------------------------------
def _pct(stat: Any) -> str | None:
    if not isinstance(stat, dict) or stat.get("mean") is None:
        return None
    if isinstance(stat["mean"], float) and math.isnan(stat["mean"]):
        return None
    if stat.get("n", 1) > 1:
        return f"{100 * stat['mean']:.2f} ± {100 * stat['std']:.2f}"
    return f"{100 * stat['mean']:.2f}"


def limited(results: Mapping[str, Any]) -> dict[str, Any]:
    """The limits a run recorded (``provenance.limits``); a limited run is never comparable to a paper."""
    prov = results.get("provenance") or {}
    return {k: v for k, v in (prov.get("limits") or {}).items() if k in ("limit", "max_samples", "subset")
            and v is not None}


def bench_tables(results: Mapping[str, Any]) -> str:
    limits = limited(results)
    rows = []
    for t in results.get("tasks", []):
        s = t.get("summary", {})
        comparable = bool(t.get("comparable_to_paper")) and not limits
        why = "yes" if comparable else ("no (--limit " + str(limits.get("limit", "")) + ")" if limits else
                                         "no (different split)")
        rows.append({"task": t.get("title", t.get("task")), "dimension": t.get("dimension"),
                     "split": t.get("evaluation_split"), "seeds": len(t.get("seeds", [])),
                     "ACC ×100": _pct(s.get("acc")), "weighted F1 ×100": _pct(s.get("weighted_f1")),
                     "macro F1 ×100": _pct(s.get("macro_f1")), "failed": _pct(s.get("n_failed")),
                     "comparable to MMLA": why})
    note = f"<p class='note'>Limited run ({html.escape(json.dumps(limits))}): not comparable to the paper.</p>" \
        if limits else ""
    return note + table(rows, caption="tasks: mean ± std over seeds", css_class="main", table_id="main-table")


# -- figures ---------------------------------------------------------------------------------------------------
def _png(draw: Callable[[Path], Any]) -> bytes | None:
    """Draw a figure with ``draw(path)`` into memory (a temporary file) and return the PNG bytes."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "figure.png"
        try:
            draw(path)
        except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError):
            return None  # results lack what this figure needs: no figure rather than a wrong one
        return path.read_bytes() if path.exists() else None


def _figure_specs(kind: str, results: Mapping[str, Any]) -> list[tuple[str, str, Callable[[Path], Any]]]:
    """(file name, caption, draw) of the figures a kind of run has; drawn only when the file is absent."""
    from . import plots

    specs: list[tuple[str, str, Callable[[Path], Any]]] = []
    if "counts" in results and "interaction_score" in results:
        name = results.get("dataset", "")
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
        from ..experts.plots import plot_fusion_table, plot_per_interaction

        report = results.get("summary") or results.get("report") or {}
        tag = "test" if "summary" in results else str(results.get("model") or "precomputed")
        specs.append((f"fusion_{tag}.png", "Fusion strategies",
                      lambda p: plot_fusion_table(report, p, title=f"Fusion strategies ({tag})")))
        if report.get("per_interaction"):
            specs.append((f"per_interaction_{tag}.png", "F1 per interaction type",
                          lambda p: plot_per_interaction(report["per_interaction"], p)))
    if kind == "interlens.bench.run":
        specs.append(("task_accuracy.png", "Accuracy per task (mean over seeds, ± std)",
                      lambda p: plots.task_bars({t.get("title", t["task"]): t.get("summary", {}).get("acc")
                                                 for t in results["tasks"]}, p)))
    return specs


def _img(data: bytes, alt: str, caption: str) -> str:
    src = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return (f'<figure><img src="{src}" alt="{html.escape(alt)}"><figcaption>{html.escape(caption)}'
            "</figcaption></figure>")


def figures(run_dir: Path, kind: str, results: Mapping[str, Any]) -> list[str]:
    """Every figure of the run, embedded: the kind's figures (the run's PNG, else drawn from the results),
    then any other PNG in the run folder."""
    out, used = [], set()
    for name, caption, draw in _figure_specs(kind, results):
        path = run_dir / name
        data = path.read_bytes() if path.is_file() else _png(draw)
        used.add(name)
        if data:
            out.append(_img(data, name, caption))
    listed = [str(p) for key in ("figures", "plots", "files") for p in (results.get(key) or [])
              if isinstance(results.get(key), list) and str(p).lower().endswith(".png")]
    candidates = [*sorted(run_dir.glob("*.png")), *sorted(run_dir.glob("figures/*.png"))]
    candidates += [run_dir / p if not Path(p).is_absolute() else Path(p) for p in listed]
    for path in candidates:
        try:
            rel = path.resolve().relative_to(run_dir.resolve()).as_posix()
        except ValueError:
            rel = path.name  # a listed absolute path outside the run folder
        if rel not in used and path.name not in used and path.is_file():
            used.add(rel)
            out.append(_img(path.read_bytes(), rel, path.stem.replace("_", " ")))
    return out


# -- provenance ------------------------------------------------------------------------------------------------
def provenance_block(prov: Mapping[str, Any] | None) -> str:
    if not prov:
        return ("<section id='provenance'><h2>Provenance</h2><p class='note'>This results.json records no "
                "provenance (written by an older interlens).</p></section>")
    rows = [("interlens version", prov.get("interlens_version")),
            ("interlens revision", prov.get("interlens_revision")),
            ("created (UTC)", prov.get("created")), ("command", prov.get("command")),
            ("seeds", ", ".join(map(str, prov.get("seeds") or [])) or None),
            ("limits", json.dumps(prov.get("limits")) if prov.get("limits") else "none (full data)")]
    scorer = prov.get("scorer") or {}
    if scorer:
        rows += [("scorer", scorer.get("name")), ("scorer parameters", json.dumps(scorer.get("params") or {})),
                 ("scorer fingerprint", scorer.get("fingerprint"))]
    body = "".join(f"<tr><th>{html.escape(k)}</th>{cell(v)}</tr>" for k, v in rows)
    parts = [f"<section id='provenance'><h2>Provenance</h2><table id='provenance-table'>{body}</table>"]
    if prov.get("datasets"):
        parts.append(table(prov["datasets"], ["name", "fingerprint", "n", "splits", "source"], caption="datasets"))
    if scorer.get("fitted"):
        parts.append(table([{"model": k, "fingerprint": v} for k, v in scorer["fitted"].items()],
                           caption="fitted scorer fingerprints"))
    if prov.get("settings"):
        parts.append("<details><summary>settings</summary><pre>" +
                     html.escape(json.dumps(prov["settings"], indent=1, ensure_ascii=False)) + "</pre></details>")
    if prov.get("environment"):
        parts.append(table([prov["environment"]], caption="environment"))
    parts.append("</section>")
    return "".join(parts)


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


def render(results: Mapping[str, Any], run_dir: Path) -> str:
    """The report page of ``results`` (figures looked up in ``run_dir``)."""
    kind = kind_of(results)
    title = TITLES.get(kind, kind)
    dataset = results.get("dataset")
    dataset = dataset.get("name") if isinstance(dataset, dict) else dataset
    heading = f"{title}" + (f": {dataset}" if isinstance(dataset, str) and dataset else "")
    parts = [f"<h1>{html.escape(heading)}</h1>"]
    prov = results.get("provenance") or {}
    if prov.get("command"):
        parts.append(f"<p>Command: <code>{html.escape(prov['command'])}</code></p>")
    scalars = {k: v for k, v in results.items() if _is_scalar(v) and k not in SKIP}
    parts.append("<h2>Summary</h2>" + table([{"field": k, "value": v} for k, v in scalars.items()]))
    parts.append("<h2>Tables</h2>")
    if kind == "interlens.bench.run":
        parts.append(bench_tables(results))
        main_done, order = True, []
    else:
        main_done, order = False, [k for k in MAIN_KEYS.get(kind, ()) if k in results]
    rest = [k for k in results if k not in order and k not in SKIP and not _is_scalar(results[k])]
    for key in [*order, *rest]:
        if kind == "interlens.bench.run" and key == "tasks":
            continue
        section = _section(key, results[key], main=not main_done)
        if section:
            if not main_done:
                section = section.replace('class="main"', 'class="main" id="main-table"', 1)
            main_done = main_done or 'class="main"' in section
            parts.append(section)
    figs = figures(run_dir, kind, results)
    parts.append("<h2>Figures</h2>" + ("".join(figs) if figs else "<p>No figures for this run.</p>"))
    parts.append(provenance_block(prov))
    parts.append("<p>Every number is in <a href='results.json'>results.json</a>.</p>")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(heading)}</title>"
            "<link rel='icon' href='data:,'>"
            f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>\n")


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

