"""``interlens debias``: counterfactual inputs, MID, counterfactual training and MME-JD (MME-JD paper).

The CLI only parses, calls :func:`interlens.methods.debias.run` (``evaluate``, ``train``) or
:mod:`interlens.debias.pipeline` (``counterfactuals``, ``mid``: file-producing pipelines, not a method over a
dataset and a scorer's results) and prints; each command writes ``results.json`` (plus files) into ``--out``
atomically. See docs/debias.md.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from ..debias.plan import ALL_METHODS, DebiasMethod, Metric
from .common import console, friendly_errors, print_verdict, save_run, write_results
from .options import DataRoot, DatasetOptions, ScorerName, ScorerOptions, parse_options

app = typer.Typer(no_args_is_help=True, help="Counterfactual debiasing: MID, MCTD, MME-JD, MRID.")


class TrainMethod(StrEnum):
    MCTD = "mctd"    # counterfactual training (Eq. 9)
    MMEJD = "mmejd"  # debias experts + router (Sec. 4.3); also reports MRID


Dataset_ = Annotated[str, typer.Option("--dataset", help="'spurious' (built-in planted cues), a registered dataset "
                                                           "or a dataset file (YAML); needs train/dev/test.")]
TextModality = Annotated[str | None, typer.Option(help="The text-kind modality whose words are masked (when the "
                                                       "dataset has several).")]
ImageModality = Annotated[str | None, typer.Option(help="The image-kind modality, or a second text-kind one read as "
                                                        "a text-form image view (e.g. MMSD2.0 image_attributes).")]
N = Annotated[int, typer.Option(min=1, help="Samples of the built-in spurious dataset.")]
Seed = Annotated[int, typer.Option(help="Seed for data, models and the optimiser.")]
MaxTrain = Annotated[int | None, typer.Option(min=1, help="Keep a seeded random subset of this many training samples.")]
Settings = Annotated[list[str] | None, typer.Option("--setting", help="run_experiment KEY=VALUE, e.g. "
                                                                      "route_weight_max=2, router_target=benefit.")]
Out = Annotated[Path, typer.Option(help="Output directory.")]


def _print_rows(results: dict[str, Any], rows: list[str], title: str) -> None:
    from rich.table import Table

    table = Table(title=title)
    for col in ("method", "Acc", "F1", "macro-F1", "affected err", "unaffected err"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for name in rows:
        if name not in results["main"]:
            continue
        main, aff = results["main"][name], results["affected_error"].get(name, {})
        table.add_row(name, *(f"{main[k]:.2f}" for k in ("acc", "f1", "macro_f1")),
                      *("-" if aff.get(k) is None else f"{aff[k]:.2f}" for k in ("affected", "unaffected")))
    console.print(table)


@app.command("counterfactuals")
@friendly_errors
def counterfactuals(out: Out = Path("runs/debias-cf"), dataset: Dataset_ = "spurious",
                    scorer: ScorerName = "embedding", scorer_option: ScorerOptions = None,
                    text_modality: TextModality = None, image_modality: ImageModality = None, n: N = 3000,
                    seed: Seed = 0,
                    top_k: Annotated[int, typer.Option(min=1, help="Relevant words masked per text.")] = 1,
                    max_train: MaxTrain = None, dataset_option: DatasetOptions = None,
                    data_root: DataRoot = None) -> None:
    """Build and save counterfactual text and image inputs (MME-JD App. B)."""
    from ..debias.pipeline import run_counterfactuals

    r = run_counterfactuals(out, dataset=dataset, scorer=scorer, scorer_options=parse_options(scorer_option),
                            text_modality=text_modality, image_modality=image_modality, n=n, seed=seed, top_k=top_k,
                            data_root=data_root, options=parse_options(dataset_option), max_train=max_train)
    console.print(f"{r['n_samples']} samples; most relevant words: {', '.join(list(r['text_relevance_top'])[:5])}")
    write_results(out)  # provenance + report.html


@app.command("mid")
@friendly_errors
def mid(original: Annotated[Path, typer.Option(help="Predictions on the original inputs (p0).")],
        image_cf: Annotated[Path, typer.Option(help="Predictions on the image counterfactual (p_i, Eq. 2).")],
        text_cf: Annotated[Path, typer.Option(help="Predictions on the text counterfactual (p_t, Eq. 1).")],
        gold: Annotated[Path, typer.Option(help="JSON {id: gold label}.")],
        tune_ids: Annotated[Path | None, typer.Option(help="JSON list of validation ids to tune on "
                                                           "(default: every id with a gold label).")] = None,
        out: Out = Path("runs/debias-mid"),
        metric: Annotated[Metric, typer.Option(help="Metric MID is tuned for (Sec. 4.1: F1).")] = Metric.F1,
        n_trials: Annotated[int, typer.Option(min=1, help="Bayesian-optimisation trials (paper: 50).")] = 50,
        seed: Seed = 0) -> None:
    """Tune MID's alpha, beta by Bayesian optimisation and apply it to precomputed predictions (any scorer)."""
    from ..debias.pipeline import run_mid

    r = run_mid(out, original=original, image_cf=image_cf, text_cf=text_cf, gold=gold, tune_ids=tune_ids,
                metric=metric, n_trials=n_trials, seed=seed)
    console.print(f"alpha {r['alpha']:.3f}, beta {r['beta']:.3f}: {metric.value} {100 * r['tune_value']:.2f} on "
                  f"{r['n_tune']} tuning samples (grid best {100 * r['grid_best']['value']:.2f})")
    if "held_out" in r:
        h = r["held_out"]
        console.print(f"held out (n={h['n']}): acc {h['original']['acc']:.2f} -> {h['MID']['acc']:.2f}")
    write_results(out)  # provenance + report.html


@app.command("evaluate")
@friendly_errors
def evaluate(out: Out = Path("runs/debias"), dataset: Dataset_ = "spurious", scorer: ScorerName = "embedding",
             scorer_option: ScorerOptions = None, text_modality: TextModality = None,
             image_modality: ImageModality = None,
             method: Annotated[list[DebiasMethod] | None, typer.Option(
                 help="Methods besides the baseline (repeatable; default all). MID always runs.")] = None,
             n: N = 3000, seed: Seed = 0, setting: Settings = None, max_train: MaxTrain = None,
             dataset_option: DatasetOptions = None, data_root: DataRoot = None) -> None:
    """Run the methods on one dataset: main table, error on planted-cue samples, router tables, cost."""
    from ..methods.debias import DebiasConfig

    result = _run(DebiasConfig, method or ALL_METHODS, out, dataset, scorer, scorer_option, text_modality,
                  image_modality, n, seed, setting, max_train, dataset_option, data_root)
    r = result.payload
    _print_rows(r, list(r["main"]), f"{r['dataset']['name']}: test ({r['scorer']['name']})")
    save_run(out, result)  # stored predictions, results.json with provenance, report.html
    print_verdict(r)


def _run(kind: Any, methods: Any, out: Path, dataset: str, scorer: str, scorer_option: list[str] | None,
         text_modality: str | None, image_modality: str | None, n: int, seed: int, setting: list[str] | None,
         max_train: int | None, dataset_option: list[str] | None, data_root: Path | None) -> Any:
    """``evaluate`` / ``train``: the config (``kind``) and :func:`interlens.methods.debias.run` (which resolves
    the dataset and scorer as the pipeline does; figures go to ``out``); returns its Result."""
    from ..methods.debias import run

    config = kind.from_mapping({"methods": tuple(getattr(m, "value", m) for m in methods),
                                "text_modality": text_modality, "image_modality": image_modality, "seed": seed,
                                "n": n, "max_train": max_train, "experiment": parse_options(setting)})
    return run(config, dataset, scorer, workdir=out, scorer_options=parse_options(scorer_option),
               data_root=data_root, dataset_options=parse_options(dataset_option))


@app.command("train")
@friendly_errors
def train(method: Annotated[TrainMethod, typer.Option(help="mctd (counterfactual training) | mmejd (debias experts "
                                                          "+ router; also reports MRID).")],
          out: Out = Path("runs/debias-train"), dataset: Dataset_ = "spurious", scorer: ScorerName = "embedding",
          scorer_option: ScorerOptions = None, text_modality: TextModality = None,
          image_modality: ImageModality = None, n: N = 3000, seed: Seed = 0, setting: Settings = None,
          max_train: MaxTrain = None, dataset_option: DatasetOptions = None, data_root: DataRoot = None) -> None:
    """Train with counterfactuals (MCTD) or the MME-JD experts and router; compare with the baseline and MID."""
    from ..debias.pipeline import ROW_NAMES
    from ..methods.debias import DebiasTrainConfig

    chosen = DebiasMethod(method.value)
    result = _run(DebiasTrainConfig, [chosen], out, dataset, scorer, scorer_option, text_modality, image_modality,
                  n, seed, setting, max_train, dataset_option, data_root)
    r = result.payload
    _print_rows(r, ["baseline", "MID", *ROW_NAMES[chosen]], f"{r['dataset']['name']}: test ({r['scorer']['name']})")
    save_run(out, result)  # stored predictions, results.json with provenance, report.html
    print_verdict(r)
