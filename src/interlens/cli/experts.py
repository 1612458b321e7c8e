"""``interlens experts``: train MMoE interaction experts, or fuse precomputed expert logits.

Thin wrappers: :func:`train_command` and :func:`evaluate_command` are plain Python functions that
the typer commands call; both write ``results.json`` plus bar plots into ``--out``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from ..errors import DataError
from .common import console, friendly_errors, write_results
from .options import DataRoot, parse_options

app = typer.Typer(no_args_is_help=True, help="MMoE interaction experts: train them, or fuse precomputed logits.")


def _print_table(report: dict[str, Any], title: str) -> None:
    from rich.table import Table

    table = Table(title=title)
    multi = "acc_mean" in report["rows"][0]
    for col in ("strategy", "Acc", "P", "R", f"F1 ({report['f1_average']})", "macro-F1"):
        table.add_column(col, justify="left" if col == "strategy" else "right")
    for row in report["rows"]:
        if multi:
            cells = [f"{100 * row[f'{m}_mean']:.1f}±{100 * row[f'{m}_std']:.1f}"
                     for m in ("acc", "precision", "recall", "f1", "macro_f1")]
        else:
            cells = [f"{100 * row[m]:.2f}" for m in ("acc", "precision", "recall", "f1", "macro_f1")]
        table.add_row(row["strategy"], *cells)
    console.print(table)


def _plots(out: Path, report: dict[str, Any], per_interaction: dict[str, Any] | None, tag: str) -> list[str]:
    from ..experts.plots import plot_fusion_table, plot_per_interaction

    files = [str(plot_fusion_table(report, out / f"fusion_{tag}.png", title=f"Fusion strategies ({tag})"))]
    if per_interaction:
        files.append(str(plot_per_interaction(per_interaction, out / f"per_interaction_{tag}.png",
                                              title=f"F1 per interaction type ({tag})")))
    return files


# -- train ------------------------------------------------------------------------------------------
def train_command(out: Path, *, dataset: str = "synthetic", data_root: Path | None = None,
                  dataset_options: dict[str, Any] | None = None, n: int = 2000, categories: str = "auto",
                  seeds: list[int] | None = None, grouping: str = "mmoe", scorer_options: dict[str, Any] | None = None,
                  min_subset: int = 8, expert_epochs: int | None = None, expert_lr: float | None = None,
                  router_kind: str = "mlp", class_balanced: bool = False, rq4: bool = False,
                  train_filters: bool = False, progress: bool = False) -> dict[str, Any]:
    """Train baseline + experts + router with the embedding scorer over ``seeds``; evaluate on test.

    ``categories``: ``planted`` (synthetic ground truth), ``measured`` (cross-fitted unimodal
    predictions vs gold, MMoE Sec. 3.1) or ``auto`` (planted when available, else measured).
    """
    import torch

    from ..experts import InteractionRouter, run_experts, run_rq4
    from ..experts.train import measured_categories
    from ..scoring.embedding import EmbeddingScorer

    torch.set_num_threads(min(2, torch.get_num_threads()))
    seeds = list(seeds or [0, 1, 2])
    if dataset == "synthetic":
        from ..data.synthetic import make_synthetic

        data = make_synthetic(n=n, seed=seeds[0], **(dataset_options or {}))
    else:
        from ..data import load_dataset

        data = load_dataset(dataset, data_root, **(dataset_options or {}))
    for split in ("train", "dev", "test"):
        if split not in data.splits:
            raise DataError(f"dataset {data.name!r} has no {split!r} split (needs train/dev/test)", field="split")
    scorer_options = dict(scorer_options or {})
    planted = all(s.meta.get("interaction") for s in data.samples)
    if categories == "auto":
        categories = "planted" if planted else "measured"
    if categories == "planted":
        if not planted:
            raise DataError(f"dataset {data.name!r} has no planted interaction types; use --categories measured",
                            field="categories")
        cats = {s.id: s.meta["interaction"] for s in data.samples}
    elif categories == "measured":
        if progress:
            console.print("measuring categories from cross-fitted unimodal predictions ...")
        cats = measured_categories(lambda: EmbeddingScorer(seed=seeds[0], **scorer_options), data, seed=seeds[0],
                                   train_filters=train_filters)
    else:
        raise DataError(f"unknown categories source {categories!r}; use auto, planted or measured",
                        field="categories")
    router = InteractionRouter(kind=router_kind, class_balanced=class_balanced, seed=seeds[0])
    if progress:
        console.print(f"training baseline, {grouping} experts and router for seeds {seeds} ...")
    result = run_experts(EmbeddingScorer(seed=seeds[0], **scorer_options), data, cats, seeds=seeds, router=router,
                         grouping=grouping, min_subset=min_subset, expert_epochs=expert_epochs, expert_lr=expert_lr)
    out = Path(out)
    summary = result["summary"]
    results: dict[str, Any] = {
        "command": "experts train", "dataset": data.name, "categories_source": categories, "seeds": seeds,
        "grouping": grouping, "scorer": {"name": "embedding", **EmbeddingScorer(**scorer_options).get_params()},
        "router": router.get_params(), "summary": summary, "per_seed": result["seeds"],
        "category_counts": {s: {c: sum(1 for i in data.splits[s] if cats[i] == c)
                                for c in sorted({cats[i] for i in data.splits[s]})} for s in data.splits},
    }
    if categories == "measured" and planted:
        test_ids = data.splits["test"]
        results["measured_vs_planted_test_acc"] = float(np.mean(
            [cats[i] == data[i].meta["interaction"] for i in test_ids]))
    if rq4:
        results["rq4"] = run_rq4(EmbeddingScorer(seed=seeds[0], **scorer_options), data, cats, seed=seeds[0],
                                 grouping=grouping, min_subset=min_subset, expert_epochs=expert_epochs)
    results["plots"] = _plots(out, summary, summary.get("per_interaction"), "test")
    write_results(out, results)
    return results


@app.command("train")
@friendly_errors
def train(
    out: Annotated[Path, typer.Option(help="Output directory (results.json, plots).")] = Path("runs/experts"),
    dataset: Annotated[str, typer.Option(help="'synthetic' or a registered dataset name.")] = "synthetic",
    n: Annotated[int, typer.Option(help="Synthetic samples (synthetic only).")] = 2000,
    categories: Annotated[str, typer.Option(help="auto | planted | measured (MMoE Sec. 3.1).")] = "auto",
    seed: Annotated[list[int] | None, typer.Option("--seed", help="Seed (repeatable; default 0 1 2).")] = None,
    grouping: Annotated[str, typer.Option(help="mmoe (R, U, S experts) | split_u (R, U1, U2, S).")] = "mmoe",
    scorer_option: Annotated[list[str] | None, typer.Option("--scorer-option", "-s",
                                                            help="EmbeddingScorer KEY=VALUE (repeatable).")] = None,
    dataset_option: Annotated[list[str] | None, typer.Option("--dataset-option", "-d",
                                                             help="Dataset option KEY=VALUE (repeatable).")] = None,
    min_subset: Annotated[int, typer.Option(help="Smaller training subsets fall back to the baseline.")] = 8,
    expert_epochs: Annotated[int | None, typer.Option(help="Fine-tuning epochs per expert.")] = None,
    expert_lr: Annotated[float | None, typer.Option(help="Fine-tuning learning rate per expert.")] = None,
    router: Annotated[str, typer.Option(help="Router: mlp | linear (focal loss) | logreg.")] = "mlp",
    class_balanced: Annotated[bool, typer.Option(help="Class-balanced router loss.")] = False,
    rq4: Annotated[bool, typer.Option(help="Also run MMoE RQ4 (CE_moe vs random subsets).")] = False,
    train_filters: Annotated[bool, typer.Option(help="Measured categories: MMoE's train-only confidence filter "
                                                     "and rebalancing (Sec. 6.1, App. F.3).")] = False,
    data_root: DataRoot = None,
) -> None:
    """Train a baseline, one expert per interaction type and a router; compare every fusion on test."""
    results = train_command(out, dataset=dataset, data_root=data_root, dataset_options=parse_options(dataset_option),
                            n=n, categories=categories, seeds=seed, grouping=grouping,
                            scorer_options=parse_options(scorer_option), min_subset=min_subset,
                            expert_epochs=expert_epochs, expert_lr=expert_lr, router_kind=router,
                            class_balanced=class_balanced, rq4=rq4, train_filters=train_filters, progress=True)
    _print_table(results["summary"], f"{results['dataset']}: fusion on test, mean ± std over seeds {results['seeds']}")
    if "rq4" in results:
        r = results["rq4"]
        console.print(f"RQ4 CE_moe: interaction subsets {r['interaction']:.4f}, random subsets {r['random']:.4f}, "
                      f"baseline CE {r['baseline']:.4f}")


# -- evaluate (precomputed logits) ---------------------------------------------------------------------
def _read_ids_json(path: Path, what: str) -> dict[str, Any]:
    from ..io import read_json

    data = read_json(path)
    if not isinstance(data, dict):
        raise DataError(f"expected a JSON object {{id: {what}}}", file=str(path))
    return {str(k): v for k, v in data.items()}


def evaluate_command(out: Path, *, mmoe_authors: str | None = None, data_root: Path | None = None,
                     experts: dict[str, Path] | None = None, baseline: Path | None = None,
                     router: Path | None = None, categories: Path | None = None,
                     prior: dict[str, float] | None = None) -> dict[str, Any]:
    """Apply every fusion strategy to precomputed expert logits and write the table.

    Either ``mmoe_authors`` = ``albef`` | ``qwen2-7b`` (the authors' MUStARD files under
    ``<data_root>/mmoe_rus``), or ``experts`` = {name: JSONL in the authors' line format} with an
    optional ``baseline`` file, ``router`` JSON ``{id: [score per expert]}`` (softmax-normalised),
    ``categories`` JSON ``{id: category}`` (oracle + breakdown) and fixed ``prior`` weights.
    """
    from ..experts.authors import load_authors_fusion, read_expert_jsonl
    from ..experts.fusion import FusionInputs, normalise_router
    from ..experts.train import evaluate_inputs

    extra: dict[str, Any] = {}
    if mmoe_authors:
        from ..data.paths import data_root as resolve

        root = resolve(data_root) / "mmoe_rus"
        loaded = load_authors_fusion(root, mmoe_authors)
        inputs, y = loaded.inputs, loaded.y_true
        extra = {"source": str(root), "model": mmoe_authors, "router_missing": len(loaded.router_missing),
                 "stored_pred_equals_argmax": loaded.stored_pred_agreement, "prior_counts": loaded.prior_counts}
    elif experts:
        files = {name: read_expert_jsonl(path) for name, path in experts.items()}
        if baseline is not None:
            files["baseline"] = read_expert_jsonl(baseline)
        first = next(iter(files.values()))
        ids = first.ids
        for f in files.values():
            if set(f.ids) != set(ids):
                raise DataError(f"ids differ from {first.source}", file=f.source, field="image_id")
        models = tuple(files)
        logits = np.stack([files[m].logits[[f_index for f_index in _order(files[m].ids, ids)]] for m in models],
                          axis=1)
        y = first.target
        names = tuple(experts)
        router_w = None
        if router is not None:
            scores = _read_ids_json(router, "scores")
            missing = [i for i in ids if i not in scores]
            extra["router_missing"] = len(missing)
            if not missing:
                router_w = normalise_router(np.asarray([scores[i] for i in ids], dtype=np.float64))
        cats = None
        if categories is not None:
            table = _read_ids_json(categories, "category")
            absent = [i for i in ids if i not in table]
            if absent:
                raise DataError(f"{len(absent)} ids have no category, e.g. {absent[:3]}", file=str(categories))
            cats = np.asarray([str(table[i]) for i in ids], dtype=object)
        prior_w = None if not prior else np.asarray([prior.get(e, 0.0) for e in names], dtype=np.float64)
        inputs = FusionInputs(logits=logits, models=models, experts=names, router=router_w, prior=prior_w,
                              categories=cats, ids=tuple(ids))
    else:
        raise DataError("give --mmoe-authors MODEL or at least one --expert NAME=FILE.jsonl", field="experts")
    n_classes = inputs.n_classes
    report = evaluate_inputs(inputs, y, n_classes, categories=inputs.categories)
    out = Path(out)
    results = {"command": "experts evaluate", **extra, "n": int(len(y)), "report": report,
               "note": "no validation logits: best_single is not chosen (single:<expert> rows list each expert)"}
    results["plots"] = _plots(out, report, report.get("per_interaction"), mmoe_authors or "precomputed")
    write_results(out, results)
    return results


def _order(have: list[str], want: list[str]) -> list[int]:
    index = {i: n for n, i in enumerate(have)}
    return [index[i] for i in want]


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise DataError(f"expected NAME=VALUE, got {item!r}", field=what)
        out[key.strip()] = value.strip()
    return out


@app.command("evaluate")
@friendly_errors
def evaluate(
    out: Annotated[Path, typer.Option(help="Output directory (results.json, plots).")] = Path("runs/experts-eval"),
    mmoe_authors: Annotated[str | None, typer.Option(help="albef | qwen2-7b: the MMoE authors' MUStARD files.")] = None,
    expert: Annotated[list[str] | None, typer.Option("--expert", help="NAME=FILE.jsonl (authors' line format), "
                                                                      "repeatable.")] = None,
    baseline: Annotated[Path | None, typer.Option(help="Baseline logits JSONL.")] = None,
    router: Annotated[Path | None, typer.Option(help="Router scores JSON {id: [score per expert]}.")] = None,
    categories: Annotated[Path | None, typer.Option(help="True categories JSON {id: category} (oracle).")] = None,
    prior: Annotated[list[str] | None, typer.Option("--prior", help="NAME=WEIGHT fixed prior (repeatable).")] = None,
    data_root: DataRoot = None,
) -> None:
    """Fuse precomputed expert logits with every strategy (MMoE Table 4 style)."""
    results = evaluate_command(out, mmoe_authors=mmoe_authors, data_root=data_root,
                               experts={k: Path(v) for k, v in _pairs(expert, "expert").items()} or None,
                               baseline=baseline, router=router, categories=categories,
                               prior={k: float(v) for k, v in _pairs(prior, "prior").items()} or None)
    _print_table(results["report"], f"fusion of precomputed logits (n={results['n']})")
    if "router_missing" in results:
        console.print(f"router: {results['router_missing']} samples missing from the router file")
