"""``interlens experts``: train MMoE interaction experts with any scorer, or fuse precomputed expert logits.

The commands only parse, call :mod:`interlens.experts.pipeline` and print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import DataError
from ..experts.authors import AuthorsModel
from ..experts.pipeline import CategoriesSource, Grouping, RouterKind
from ..experts.train import MIN_SUBSET
from .common import console, friendly_errors, print_verdict, save_run, write_results
from .options import (
    DataRoot,
    DatasetOptions,
    DatasetSpec,
    ExecutorOption,
    RayAddress,
    ScorerName,
    ScorerOptions,
    TrackerOption,
    build_scorer,
    load_data,
)

app = typer.Typer(no_args_is_help=True, help="MMoE interaction experts: train them, or fuse precomputed logits.")


def _print_table(report: dict[str, Any], title: str) -> None:
    from rich.table import Table

    table = Table(title=title)
    multi = "acc_mean" in report["rows"][0] and report.get("n_seeds", 2) > 1  # one seed: no "±0.0" (issue 26)
    one = "acc_mean" in report["rows"][0] and not multi
    for col in ("strategy", "Acc", "P", "R", f"F1 ({report['f1_average']})", "macro-F1"):
        table.add_column(col, justify="left" if col == "strategy" else "right")
    for row in report["rows"]:
        if multi:
            cells = [f"{100 * row[f'{m}_mean']:.1f}±{100 * row[f'{m}_std']:.1f}"
                     for m in ("acc", "precision", "recall", "f1", "macro_f1")]
        elif one:
            cells = [f"{100 * row[f'{m}_mean']:.2f}" for m in ("acc", "precision", "recall", "f1", "macro_f1")]
        else:
            cells = [f"{100 * row[m]:.2f}" for m in ("acc", "precision", "recall", "f1", "macro_f1")]
        table.add_row(row["strategy"], *cells)
    console.print(table)


# -- train ------------------------------------------------------------------------------------------
@app.command("train")
@friendly_errors
def train(
    dataset: DatasetSpec = "synthetic",
    dataset_option: DatasetOptions = None,
    scorer: ScorerName = "embedding",
    scorer_option: ScorerOptions = None,
    out: Annotated[Path, typer.Option(help="Output directory (results.json, plots).")] = Path("runs/experts"),
    categories: Annotated[CategoriesSource, typer.Option(help="Interaction categories: planted (synthetic), "
                                                              "measured (MMoE Sec. 3.1) or auto.")] = "auto",
    seed: Annotated[list[int] | None, typer.Option("--seed", help="Seed (repeatable; default 0 1 2).")] = None,
    grouping: Annotated[Grouping, typer.Option(help="mmoe (R, U, S experts) | split_u (R, U1, U2, S).")] = "mmoe",
    delta: Annotated[float, typer.Option(help="Measured categories: confidence filter δ on train "
                                              "(MMoE Sec. 6.1).")] = 0.1,
    train_filters: Annotated[bool, typer.Option("--train-filters/--no-train-filters",
                                                help="Measured categories: MMoE's train-only confidence filter "
                                                     "and rebalancing (Sec. 6.1, App. F.3; the paper's main "
                                                     "setting).")] = True,
    modality: Annotated[list[str] | None, typer.Option("--modality", help="The two modalities categories are "
                                                       "measured from (default: the first two the scorer reads).")
                        ] = None,
    view: Annotated[str | None, typer.Option(help="The experts' view, e.g. utterance+context (default: all "
                                                  "modalities the scorer reads).")] = None,
    folds: Annotated[int, typer.Option(min=2, help="Cross-fitting folds for measured categories.")] = 2,
    min_subset: Annotated[int, typer.Option(min=1, help="Smaller training subsets fall back to the "
                                                      "baseline.")] = MIN_SUBSET,
    expert_epochs: Annotated[int | None, typer.Option(min=1, help="Fine-tuning epochs per expert.")] = None,
    expert_lr: Annotated[float | None, typer.Option(help="Fine-tuning learning rate per expert.")] = None,
    router: Annotated[RouterKind, typer.Option(help="Router: mlp | linear (focal loss) | logreg.")] = "mlp",
    class_balanced: Annotated[bool, typer.Option(help="Class-balanced router loss.")] = False,
    rq4: Annotated[bool, typer.Option(help="Also run MMoE RQ4 (CE_moe vs random subsets).")] = False,
    n_random: Annotated[int, typer.Option(min=1, help="RQ4: random-subset draws.")] = 3,
    data_root: DataRoot = None,
    executor: ExecutorOption = "local",
    ray_address: RayAddress = None,
    save_models: Annotated[bool, typer.Option("--save-models/--no-save-models",
                                              help="Save each seed's baseline, experts and router under "
                                                   "OUT/models/seed<k>/.")] = True,
    max_train: Annotated[int | None, typer.Option(min=1, help="Keep a seeded random subset of N training "
                                                                "samples (CPU budget; recorded).")] = None,
    tracker: TrackerOption = None,
) -> None:
    """Train a baseline, one expert per interaction type and a router; compare every fusion on test."""
    from ..execution import executor_session
    from ..experts.train import check_experts_scorer
    from ..methods.experts import ExpertsConfig, run
    from ..tracking import start_run

    start_run(tracker, out)  # a missing package is refused before any work; metrics go live from here
    model = build_scorer(scorer, scorer_option)
    check_experts_scorer(model, router=True)  # refuse before loading data or training
    data = load_data(dataset, data_root, dataset_option)
    config = ExpertsConfig.from_mapping({
        "categories": getattr(categories, "value", categories), "seeds": tuple(seed or (0, 1, 2)),
        "grouping": getattr(grouping, "value", grouping), "delta": delta, "train_filters": train_filters,
        "modalities": tuple(modality) if modality else None, "folds": folds, "view": view, "min_subset": min_subset,
        "expert_epochs": expert_epochs, "expert_lr": expert_lr, "router": getattr(router, "value", router),
        "class_balanced": class_balanced, "rq4": rq4, "n_random": n_random, "max_train": max_train})
    with executor_session(executor, address=ray_address):
        result = run(config, data, model, log=console.print, save_models=out / "models" if save_models else None)
    results = result.payload
    settings = results["settings"]
    over = (f"mean ± std over seeds {settings['seeds']}" if len(settings["seeds"]) > 1
            else f"1 seed ({settings['seeds'][0]})")
    _print_table(results["summary"], f"{results['dataset']['name']} · {results['scorer']['name']} · "
                                     f"{settings['categories']} categories: fusion on test, {over}")
    if "rq4" in results:
        r = results["rq4"]
        console.print(f"RQ4 CE_moe: interaction subsets {r['interaction']:.4f}, random subsets {r['random']:.4f}, "
                      f"baseline CE {r['baseline']:.4f}")
    path = save_run(out, result)  # plots, stored predictions, results.json with provenance, report.html
    if tracker is not None:
        from ..io import read_json
        from ..tracking import log_run

        console.print(f"tracked ({tracker.value}): [bold]{log_run(tracker, out, read_json(path))}[/]")
    print_verdict(results)


# -- evaluate (precomputed logits) ---------------------------------------------------------------------
def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    """``NAME=VALUE`` items as text (the one KEY=VALUE parser, :mod:`interlens.methods.config`)."""
    from ..methods.config import parse_overrides

    return parse_overrides(items, field=what, typed=False, empty_value=False)


def _weights(items: list[str] | None) -> dict[str, float]:
    out = {}
    for key, value in _pairs(items, "prior").items():
        try:
            out[key] = float(value)
        except ValueError:
            raise DataError(f"prior weight for {key!r} is not a number: {value!r}", field="prior") from None
    return out


@app.command("evaluate")
@friendly_errors
def evaluate(
    out: Annotated[Path, typer.Option(help="Output directory (results.json, plots).")] = Path("runs/experts-eval"),
    mmoe_authors: Annotated[AuthorsModel | None, typer.Option(help="The MMoE authors' MUStARD files.")] = None,
    expert: Annotated[list[str] | None, typer.Option("--expert", help="NAME=FILE.jsonl (authors' line format), "
                                                                      "repeatable.")] = None,
    baseline: Annotated[Path | None, typer.Option(help="Baseline logits JSONL.")] = None,
    router: Annotated[Path | None, typer.Option(help="Router scores JSON {id: [score per expert]}.")] = None,
    categories: Annotated[Path | None, typer.Option(help="True categories JSON {id: category} (oracle).")] = None,
    prior: Annotated[list[str] | None, typer.Option("--prior", help="NAME=WEIGHT fixed prior (repeatable).")] = None,
    data_root: DataRoot = None,
) -> None:
    """Fuse precomputed expert logits with every strategy (MMoE Table 4 style)."""
    from ..experts.pipeline import fuse_stored_logits, write_experts_results

    results = fuse_stored_logits(mmoe_authors=None if mmoe_authors is None else str(mmoe_authors),
                                 data_root=data_root,
                                 experts={k: Path(v) for k, v in _pairs(expert, "expert").items()} or None,
                                 baseline=baseline, router=router, categories=categories,
                                 prior=_weights(prior) or None)
    path = write_experts_results(results, out)
    _print_table(results["report"], f"fusion of precomputed logits (n={results['n']})")
    if "router_missing" in results:
        console.print(f"router: {results['router_missing']} samples missing from the router file")
    write_results(path.parent)  # provenance + report.html
    print_verdict(results)
