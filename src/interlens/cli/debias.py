"""``interlens debias``: counterfactual inputs, MID, counterfactual training and MME-JD (MME-JD paper).

Every command is a plain Python function (``*_command``) that the typer command wraps; each writes
``results.json`` (plus files) into ``--out`` atomically. See docs/debias.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from ..data.schema import Dataset
from ..errors import DataError
from .common import console, friendly_errors, write_results
from .options import DataRoot, parse_options

app = typer.Typer(no_args_is_help=True, help="Counterfactual debiasing: MID, MCTD, MME-JD, MRID.")
METHODS = ("mctd", "mmejd")
ROW_NAMES = {"mctd": ["MCTD"], "mmejd": ["MME-JD", "MME-JD (oracle router)", "MRID"]}

Dataset_ = Annotated[str, typer.Option("--dataset", help="'spurious' (built-in planted cues) or a registered "
                                                           "dataset with text + image and train/dev/test.")]
N = Annotated[int, typer.Option(help="Samples of the built-in spurious dataset.")]
Seed = Annotated[int, typer.Option(help="Seed for data, models and the optimiser.")]
MaxTrain = Annotated[int | None, typer.Option(help="Keep a seeded random subset of this many training samples.")]
DatasetOption = Annotated[list[str] | None, typer.Option("--dataset-option", "-d", help="KEY=VALUE (repeatable).")]


def as_image_view(data: Dataset, modality: str) -> Dataset:
    """``modality`` renamed to ``image`` -- e.g. MMSD's image attribute words as the image view."""
    from ..data.schema import Sample

    samples = [Sample(s.id, {("image" if k == modality else k): v for k, v in s.inputs.items()}, s.label, s.group,
                      s.meta) for s in data.samples]
    return Dataset(name=data.name, labels=data.labels, samples=samples,
                   modalities=tuple("image" if m == modality else m for m in data.modalities),
                   splits=dict(data.splits), task=data.task, dimension=data.dimension, source=data.source,
                   info={**data.info, "image_view": modality})


def load_debias_data(dataset: str = "spurious", *, n: int = 3000, seed: int = 0, data_root: Path | None = None,
                     options: dict[str, Any] | None = None, max_train: int | None = None) -> Dataset:
    """The built-in planted-cue data (``make_spurious``) or a registered dataset; checks the splits.
    A dataset without ``image`` but with ``image_attributes`` (MMSD2.0) uses those words as the image
    view. ``max_train`` keeps a seeded random subset of the training split (CPU time)."""
    if dataset == "spurious":
        from ..data.spurious import make_spurious

        data = make_spurious(n, seed=seed, **(options or {}))
    else:
        from ..data import load_dataset

        data = load_dataset(dataset, data_root, **(options or {}))
        if "image" not in data.modalities and "image_attributes" in data.modalities:
            data = as_image_view(data, "image_attributes")
    if max_train is not None and len(data.splits.get("train", [])) > max_train:
        keep = set(np.random.default_rng(seed).choice(data.splits["train"], max_train, replace=False).tolist())
        train = [i for i in data.splits["train"] if i in keep]
        splits = {**data.splits, "train": train}
        data = data.subset([i for v in splits.values() for i in v])
        data.splits = splits
    missing = [s for s in ("train", "dev", "test") if s not in data.splits]
    if missing:
        raise DataError(f"dataset {data.name!r} lacks split(s) {missing} (debiasing needs train/dev/test)",
                        field="split")
    for modality in ("text", "image"):
        if modality not in data.modalities:
            raise DataError(f"dataset {data.name!r} has no {modality!r} modality (has {list(data.modalities)})",
                            field="modalities")
    return data


def _print_rows(results: dict[str, Any], rows: list[str], title: str) -> None:
    from rich.table import Table

    table = Table(title=title)
    for col in ("method", "Acc", "F1", "macro-F1", "affected err", "unaffected err"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for name in rows:
        main, aff = results["main"][name], results["affected_error"].get(name, {})
        table.add_row(name, *(f"{main[k]:.2f}" for k in ("acc", "f1", "macro_f1")),
                      *("-" if aff.get(k) is None else f"{aff[k]:.2f}" for k in ("affected", "unaffected")))
    console.print(table)


# -- counterfactuals ------------------------------------------------------------------------------------
def counterfactuals_command(out: Path, *, dataset: str = "spurious", n: int = 3000, seed: int = 0, top_k: int = 1,
                            data_root: Path | None = None, options: dict[str, Any] | None = None,
                            max_train: int | None = None) -> dict[str, Any]:
    """Train the baseline scorer, build counterfactual text (App. B.1) and images (Algorithm 1) for
    every split; write ``counterfactuals.jsonl`` (id, split, text, cf_text), ``cf_images.npz`` (id ->
    counterfactual image, and its mask) and an inspection grid ``counterfactual_images.png``. A
    text-form image view (MMSD2.0 attribute words) gets ``image``/``cf_image`` in the JSONL instead."""
    import json

    from ..debias.counterfactual import (
        image_counterfactuals,
        pixel_relevance,
        save_image_grid,
        text_counterfactuals,
        word_relevance,
    )
    from ..io import atomic_write, atomic_write_text
    from ..scoring.embedding import EmbeddingScorer

    data = load_debias_data(dataset, n=n, seed=seed, data_root=data_root, options=options, max_train=max_train)
    base = EmbeddingScorer(fusion="linear", seed=seed).fit(data.split("train"))
    dev = data.split("dev")
    image_is_text = base.kinds_["image"] == "text"
    rel_text = word_relevance(base, dev)
    rel_img = word_relevance(base, dev, "image") if image_is_text else pixel_relevance(base, dev)
    out = Path(out)
    lines, arrays, first = [], {}, None
    for split in ("train", "dev", "test"):
        ds = data.split(split)
        texts = text_counterfactuals(ds.column("text"), rel_text, k=top_k)
        if image_is_text:  # a text-form image view: its words are masked like the text's
            for s, t, cf_words in zip(ds.samples, texts, text_counterfactuals(ds.column("image"), rel_img, k=top_k),
                                      strict=True):
                lines.append(json.dumps({"id": s.id, "split": split, "text": s.inputs["text"], "cf_text": t,
                                         "image": s.inputs["image"], "cf_image": cf_words}))
            continue
        images, masks = image_counterfactuals(base, ds, rel_img)
        for s, t, img, mask in zip(ds.samples, texts, images, masks, strict=True):
            lines.append(json.dumps({"id": s.id, "split": split, "text": s.inputs["text"], "cf_text": t}))
            arrays[f"{s.id}/image"], arrays[f"{s.id}/mask"] = np.asarray(img), np.asarray(mask)
        if split == "test":
            first = (ds, images, masks)
    atomic_write_text(out / "counterfactuals.jsonl", "\n".join(lines) + "\n")

    def save_npz(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: savez would append ".npz" to a temporary name
            np.savez_compressed(f, **arrays)

    files = ["counterfactuals.jsonl"]
    if first is not None:
        atomic_write(out / "cf_images.npz", save_npz)
        ds, images, masks = first
        sel = list(range(min(8, len(ds))))
        save_image_grid(out / "counterfactual_images.png",
                        [("image", [np.asarray(ds.samples[i].inputs["image"]) for i in sel]),
                         ("mask", [masks[i] for i in sel]), ("cf image", [images[i] for i in sel])])
        files += ["cf_images.npz", "counterfactual_images.png"]
    results = {"command": "debias counterfactuals", "dataset": data.name, "n_samples": len(lines), "top_k": top_k,
               "text_relevance_top": dict(sorted(rel_text.items(), key=lambda kv: -kv[1])[:10]), "files": files}
    if image_is_text:
        results["image_relevance_top"] = dict(sorted(rel_img.items(), key=lambda kv: -kv[1])[:10])
    write_results(out, results)
    return results


@app.command("counterfactuals")
@friendly_errors
def counterfactuals(out: Annotated[Path, typer.Option(help="Output directory.")] = Path("runs/debias-cf"),
                    dataset: Dataset_ = "spurious", n: N = 3000, seed: Seed = 0,
                    top_k: Annotated[int, typer.Option(help="Relevant words masked per text.")] = 1,
                    max_train: MaxTrain = None, dataset_option: DatasetOption = None,
                    data_root: DataRoot = None) -> None:
    """Build and save counterfactual text and image inputs (MME-JD App. B)."""
    results = counterfactuals_command(out, dataset=dataset, n=n, seed=seed, top_k=top_k, data_root=data_root,
                                      options=parse_options(dataset_option), max_train=max_train)
    console.print(f"{results['n_samples']} samples; most relevant words: "
                  f"{', '.join(list(results['text_relevance_top'])[:5])}")


# -- MID from prediction files ----------------------------------------------------------------------------
def mid_command(out: Path, *, original: Path, image_cf: Path, text_cf: Path, gold: Path, tune_ids: Path | None = None,
                metric: str = "acc", n_trials: int = 50, seed: int = 0) -> dict[str, Any]:
    """MID (Eq. 5-6) on precomputed predictions of any scorer: ``original`` = p0 on (i, t),
    ``image_cf`` = p on the image counterfactual (Eq. 2), ``text_cf`` = p on the text counterfactual
    (Eq. 1) -- :class:`~interlens.predictions.Predictions` files (JSON/Parquet) with the same ids.
    ``gold``: JSON ``{id: label}``; ``tune_ids``: JSON list of the ids alpha, beta are tuned on
    (validation); the correction is applied to all. Writes ``mid_predictions.json`` + contour plot."""
    from ..debias.core import mid_correct
    from ..debias.methods import mid_grid, plot_mid_contour, tune_mid
    from ..io import read_json
    from ..predictions import Predictions, check_same_ids

    p0, pi, pt = Predictions.load(original), Predictions.load(image_cf), Predictions.load(text_cf)
    check_same_ids(p0, pi, pt, names=[str(original), str(image_cf), str(text_cf)])
    pi, pt = pi.align(p0.ids), pt.align(p0.ids)
    gold_map = read_json(gold)
    if not isinstance(gold_map, dict):
        raise DataError("expected a JSON object {id: label}", file=str(gold))
    labels = list(p0.labels)
    y = np.full(len(p0), -1)
    for n, i in enumerate(p0.ids):
        if i in gold_map:
            if gold_map[i] not in labels:
                raise DataError(f"label {gold_map[i]!r} not in {labels}", file=str(gold), record=i, field="label")
            y[n] = labels.index(gold_map[i])
    tune = set(read_json(tune_ids)) if tune_ids is not None else {i for i, v in zip(p0.ids, y, strict=True) if v >= 0}
    rows = np.array([i in tune and y[n] >= 0 for n, i in enumerate(p0.ids)])
    if rows.sum() == 0:
        raise DataError("no tuning sample has a gold label", file=str(gold), field="id")
    ok = p0.has_prediction & pi.has_prediction & pt.has_prediction
    fit = rows & ok
    bo = tune_mid(p0.probs[fit], pi.probs[fit], pt.probs[fit], y[fit], metric=metric, n_trials=n_trials, seed=seed)
    grid = mid_grid(p0.probs[fit], pi.probs[fit], pt.probs[fit], y[fit], metric=metric)
    corrected = np.full_like(p0.probs, np.nan)
    corrected[ok] = mid_correct(p0.probs[ok], pi.probs[ok], pt.probs[ok], bo["alpha"], bo["beta"])
    out = Path(out)
    Predictions(p0.ids, p0.labels, corrected, "mid", f"mid:{p0.scorer}", p0.dataset,
                meta={"alpha": bo["alpha"], "beta": bo["beta"]}).save(out / "mid_predictions.json")
    plot_mid_contour(grid, out / "mid_contour.png", bo)
    scored = (y >= 0) & ok & ~rows
    results = {"command": "debias mid", "alpha": bo["alpha"], "beta": bo["beta"], "metric": metric,
               "tune_value": bo["value"], "grid_best": grid["best"], "n_tune": int(fit.sum()),
               "files": ["mid_predictions.json", "mid_contour.png"]}
    if scored.any():
        from ..debias.evaluate import main_table

        results["held_out"] = {"n": int(scored.sum()), "original": main_table(y[scored], p0.probs[scored]),
                               "MID": main_table(y[scored], corrected[scored])}
    write_results(out, results)
    return results


@app.command("mid")
@friendly_errors
def mid(original: Annotated[Path, typer.Option(help="Predictions on the original inputs (p0).")],
        image_cf: Annotated[Path, typer.Option(help="Predictions on the image counterfactual (p_i, Eq. 2).")],
        text_cf: Annotated[Path, typer.Option(help="Predictions on the text counterfactual (p_t, Eq. 1).")],
        gold: Annotated[Path, typer.Option(help="JSON {id: gold label}.")],
        tune_ids: Annotated[Path | None, typer.Option(help="JSON list of validation ids to tune on "
                                                           "(default: every id with a gold label).")] = None,
        out: Annotated[Path, typer.Option(help="Output directory.")] = Path("runs/debias-mid"),
        metric: Annotated[str, typer.Option(help="acc | f1 | macro_f1 | weighted_f1.")] = "acc",
        n_trials: Annotated[int, typer.Option(help="Bayesian-optimisation trials (paper: 50).")] = 50,
        seed: Seed = 0) -> None:
    """Tune MID's alpha, beta by Bayesian optimisation and apply it to precomputed predictions."""
    r = mid_command(out, original=original, image_cf=image_cf, text_cf=text_cf, gold=gold, tune_ids=tune_ids,
                    metric=metric, n_trials=n_trials, seed=seed)
    console.print(f"alpha {r['alpha']:.3f}, beta {r['beta']:.3f}: {metric} {100 * r['tune_value']:.2f} on "
                  f"{r['n_tune']} tuning samples (grid best {100 * r['grid_best']['value']:.2f})")
    if "held_out" in r:
        h = r["held_out"]
        console.print(f"held out (n={h['n']}): acc {h['original']['acc']:.2f} -> {h['MID']['acc']:.2f}")


# -- the experiment ---------------------------------------------------------------------------------------
def evaluate_command(out: Path, *, dataset: str = "spurious", n: int = 3000, seed: int = 0,
                     data_root: Path | None = None, options: dict[str, Any] | None = None,
                     max_train: int | None = None, **settings: Any) -> dict[str, Any]:
    """The full experiment (:func:`interlens.debias.evaluate.run_experiment`): baseline, MID, MCTD,
    MME-JD (trained and oracle router), MRID, expert ablations; writes results.json + figures."""
    from ..debias.evaluate import run_experiment

    data = load_debias_data(dataset, n=n, seed=seed, data_root=data_root, options=options, max_train=max_train)
    results = run_experiment(data, out=out, seed=seed, **settings)
    results["command"] = "debias evaluate"
    write_results(Path(out), results)
    return results


Settings = Annotated[list[str] | None, typer.Option("--setting", "-s", help="run_experiment KEY=VALUE, e.g. "
                                                                            "fusion=concat, route_weight_max=2.")]


@app.command("evaluate")
@friendly_errors
def evaluate(out: Annotated[Path, typer.Option(help="Output directory.")] = Path("runs/debias"),
             dataset: Dataset_ = "spurious", n: N = 3000, seed: Seed = 0, setting: Settings = None,
             max_train: MaxTrain = None, dataset_option: DatasetOption = None, data_root: DataRoot = None) -> None:
    """Run every method on one dataset: main table, error on planted-cue samples, router tables, cost."""
    results = evaluate_command(out, dataset=dataset, n=n, seed=seed, data_root=data_root,
                               options=parse_options(dataset_option), max_train=max_train, **parse_options(setting))
    _print_rows(results, list(results["main"]), f"{results['dataset']['name']}: test")


@app.command("train")
@friendly_errors
def train(method: Annotated[str, typer.Option(help="mctd (counterfactual training) | mmejd (debias experts + "
                                                    "router; also reports MRID).")],
          out: Annotated[Path, typer.Option(help="Output directory.")] = Path("runs/debias-train"),
          dataset: Dataset_ = "spurious", n: N = 3000, seed: Seed = 0, setting: Settings = None,
          max_train: MaxTrain = None, dataset_option: DatasetOption = None, data_root: DataRoot = None) -> None:
    """Train with counterfactuals (MCTD) or the MME-JD experts and router; compare with the baseline.

    Runs the shared pipeline (baseline, counterfactuals, categories) and prints the method's rows;
    results.json holds every method."""
    if method not in METHODS:
        from ..errors import unknown_name

        raise unknown_name("method", method, list(METHODS))
    results = evaluate_command(out, dataset=dataset, n=n, seed=seed, data_root=data_root,
                               options=parse_options(dataset_option), max_train=max_train, **parse_options(setting))
    _print_rows(results, ["baseline", *ROW_NAMES[method]], f"{results['dataset']['name']}: test")
