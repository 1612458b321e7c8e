"""Top-level commands: ``demo`` and ``predict``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import console, friendly_errors, write_results
from .options import CachePath, DataRoot, NoCache, open_cache, parse_options


def demo(
    out: Annotated[Path, typer.Option(help="Output directory (results.json, report.md, plots).")] = Path("runs/demo"),
    n: Annotated[int, typer.Option(help="Number of synthetic samples.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed (data and models).")] = 0,
    cache: CachePath = None,
    no_cache: NoCache = False,
    experts: Annotated[bool, typer.Option(help="Also train interaction experts and compare fusions.")] = True,
) -> None:
    """Run the main job on built-in synthetic data with known interactions (offline, < 2 min)."""
    from ..demo import run_demo
    from ..report import rich_table

    results = run_demo(out, n=n, seed=seed, cache_path=cache, use_cache=not no_cache, experts=experts,
                       progress=True)
    console.print(rich_table([{"type": c, "n": v} for c, v in results["counts"].items()],
                             title="Test samples per interaction type"))
    console.print(f"categorisation accuracy vs planted truth: [bold]{results['categorization_accuracy']:.3f}[/]")
    score = results["interaction_score"]["exact"]
    console.print(f"interaction score (MINT Eq. 1): {score['score']:.3f} "
                  f"[{score['ci_low']:.3f}, {score['ci_high']:.3f}]")
    if "fusion" in results:
        console.print(rich_table([{"strategy": k, **{m: v.get(m) for m in ("acc", "macro_f1")}}
                                  for k, v in results["fusion"].items()], title="Fusion strategies (test)"))
    console.print(f"runtime: {results['runtime_seconds']:.1f} s; results in [bold]{out / 'results.json'}[/]")


def predict(
    dataset: Annotated[str, typer.Option(help="Registered dataset name (see `interlens data list`).")],
    view: Annotated[list[str], typer.Option(help="View(s) to score, e.g. text, image, text+image.")],
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("runs/predict"),
    scorer: Annotated[str, typer.Option(help="Scorer: embedding | precomputed | hf-lm | hf-vlm.")] = "embedding",
    scorer_option: Annotated[list[str] | None, typer.Option("--scorer-option", "-s",
                                                            help="Scorer parameter KEY=VALUE (repeatable).")] = None,
    dataset_option: Annotated[list[str] | None, typer.Option("--dataset-option", "-d",
                                                             help="Dataset option KEY=VALUE (repeatable).")] = None,
    split: Annotated[str, typer.Option(help="Split to score.")] = "test",
    fit_split: Annotated[str, typer.Option(help="Split a trainable scorer is fitted on.")] = "train",
    data_root: DataRoot = None,
    cache: CachePath = None,
    no_cache: NoCache = False,
    batch_size: Annotated[int, typer.Option(help="Scoring batch size (results do not depend on it).")] = 256,
) -> None:
    """Per-sample class probabilities for each view, cached; writes predictions_<view>.json."""
    from ..data import load_dataset
    from ..scoring.registry import fit_and_predict, make_scorer

    data = load_dataset(dataset, data_root, **parse_options(dataset_option))
    model = make_scorer(scorer, **parse_options(scorer_option))
    with open_cache(cache, no_cache) as store:
        preds = fit_and_predict(model, data, view, eval_split=split, fit_split=fit_split, cache=store,
                                progress=True, batch_size=batch_size)
    summary = {"dataset": data.name, "split": split, "scorer": scorer, "views": {}}
    from ..metrics import classification_metrics

    for v, p in preds.items():
        path = p.save(out / f"predictions_{v.replace('+', '_').replace('|', '_')}.json")
        metrics = classification_metrics(data.split(split).y, p.argmax(), len(data.labels))
        summary["views"][v] = {"file": str(path), "scorer_fingerprint": p.scorer, "n": len(p),
                               "from_cache": p.meta.get("cached", 0), "computed": p.meta.get("computed", 0),
                               "missing": len(p.missing_ids), "metrics": metrics}
        console.print(f"{v}: acc {metrics['acc']:.3f}, {metrics['f1_average']} F1 {metrics['f1']:.3f} "
                      f"({p.meta.get('cached', 0)} from cache) -> {path}")
    write_results(out, summary)


def register(app: typer.Typer) -> None:
    """Attach top-level commands to ``app``."""
    app.command("demo")(friendly_errors(demo))
    app.command("predict")(friendly_errors(predict))
