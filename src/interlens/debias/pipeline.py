"""The ``interlens debias`` pipelines as plain functions (the CLI only parses, calls and prints).

Each run checks everything first (:func:`interlens.debias.plan.plan`: scorer capabilities, the text
and image modalities by kind, splits, views), then works, and writes ``results.json`` (plus files)
into ``out`` atomically. See docs/debias.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..data.schema import Dataset
from ..errors import DataError
from ..io import atomic_write, atomic_write_text, read_json, write_json
from ..scoring.base import Scorer
from .plan import ALL_METHODS, DebiasMethod, Metric, check_splits, choice, make_debias_scorer, plan


def load_debias_data(dataset: str | os.PathLike | Dataset = "spurious", *, n: int = 3000, seed: int = 0,
                     data_root: str | os.PathLike | None = None, options: dict[str, Any] | None = None,
                     max_train: int | None = None) -> Dataset:
    """``--dataset``: the built-in planted-cue data (``spurious``, ``n`` samples, ``seed``), a registered
    name, a dataset file (YAML) or a Dataset; ``max_train`` keeps a seeded random subset of the
    training split (CPU time). Checks the train/dev/test splits."""
    from ..data.resolve import resolve_dataset

    options = dict(options or {})
    if str(dataset) == "spurious":
        options = {"n": n, "seed": seed, **options}
    data = resolve_dataset(dataset, data_root, **options)
    check_splits(data)
    if max_train is not None and len(data.splits["train"]) > max_train:
        keep = set(np.random.default_rng(seed).choice(data.splits["train"], max_train, replace=False).tolist())
        train = [i for i in data.splits["train"] if i in keep]
        splits = {**data.splits, "train": train}
        data = data.subset([i for v in splits.values() for i in v])
        data.splits = splits
    return data


def prepare_debias(dataset: str | os.PathLike | Dataset, scorer: Scorer | str, scorer_options: dict[str, Any] | None,
                   methods: Iterable[str | DebiasMethod], *, n: int, seed: int, data_root: str | os.PathLike | None,
                   options: dict[str, Any] | None, max_train: int | None) -> tuple[Dataset, Scorer]:
    """The scorer (:func:`~interlens.debias.plan.make_debias_scorer`: refused at once if it lacks a capability
    ``methods`` need), then the data (:func:`load_debias_data`): what every debias run resolves first."""
    scorer = make_debias_scorer(scorer, scorer_options, seed=seed, methods=methods)
    data = load_debias_data(dataset, n=n, seed=seed, data_root=data_root, options=options, max_train=max_train)
    return data, scorer


# -- counterfactual inputs -------------------------------------------------------------------------------
def run_counterfactuals(out: str | os.PathLike, *, dataset: str | os.PathLike | Dataset = "spurious",
                        scorer: Scorer | str = "embedding", scorer_options: dict[str, Any] | None = None,
                        text_modality: str | None = None, image_modality: str | None = None, n: int = 3000,
                        seed: int = 0, top_k: int = 1, data_root: str | os.PathLike | None = None,
                        options: dict[str, Any] | None = None, max_train: int | None = None) -> dict[str, Any]:
    """Fit the baseline scorer (or use a zero-shot one), build counterfactual text (App. B.1) and image
    (Algorithm 1) inputs for every split; write ``counterfactuals.jsonl`` (id, split, text, cf_text;
    plus image, cf_image for a text-form image view), ``cf_images.npz`` (id/image, id/mask) and an
    inspection grid ``counterfactual_images.png`` for an image-kind view."""
    from .counterfactual import image_array, image_counterfactuals, save_image_grid, text_counterfactuals
    from .evaluate import relevance

    data, scorer = prepare_debias(dataset, scorer, scorer_options, [DebiasMethod.MID], n=n, seed=seed,
                                  data_root=data_root, options=options, max_train=max_train)
    p = plan(data, scorer, text_modality=text_modality, image_modality=image_modality, methods=[DebiasMethod.MID],
             seed=seed)
    data, mods, base = p.dataset, p.modalities, p.scorer
    if p.trains:
        base.fit(data.split("train"), list(mods.views))
    rel_text, rel_img = relevance(base, data.split("dev"), mods)
    out = Path(out)
    lines, arrays, first = [], {}, None
    for split in ("train", "dev", "test"):
        ds = data.split(split)
        texts = text_counterfactuals(ds.column(mods.text), rel_text, k=top_k)
        if mods.image_is_text:  # a text-form image view: its words are masked like the text's
            cf_words = text_counterfactuals(ds.column(mods.image), rel_img, k=top_k)
            for s, t, w in zip(ds.samples, texts, cf_words, strict=True):
                lines.append(json.dumps({"id": s.id, "split": split, "text": ds.text(s, mods.text), "cf_text": t,
                                         "image": ds.text(s, mods.image), "cf_image": w}))
            continue
        images, masks = image_counterfactuals(base, ds, rel_img, modality=mods.image)
        for s, t, img, mask in zip(ds.samples, texts, images, masks, strict=True):
            lines.append(json.dumps({"id": s.id, "split": split, "text": ds.text(s, mods.text), "cf_text": t}))
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
                        [("image", [image_array(ds.samples[i].inputs[mods.image]) for i in sel]),
                         ("mask", [masks[i] for i in sel]), ("cf image", [images[i] for i in sel])])
        files += ["cf_images.npz", "counterfactual_images.png"]
    results = {"command": "debias counterfactuals", "dataset": data.name, "scorer": base.name,
               "modalities": {"text": mods.text, "image": mods.image, "image_kind": mods.image_kind},
               "n_samples": len(lines), "top_k": top_k,
               "text_relevance_top": dict(sorted(rel_text.items(), key=lambda kv: -kv[1])[:10]), "files": files}
    if mods.image_is_text:
        results["image_relevance_top"] = dict(sorted(rel_img.items(), key=lambda kv: -kv[1])[:10])
    write_json(out / "results.json", results)
    return results


# -- MID from prediction files --------------------------------------------------------------------------
def run_mid(out: str | os.PathLike, *, original: str | os.PathLike, image_cf: str | os.PathLike,
            text_cf: str | os.PathLike, gold: str | os.PathLike, tune_ids: str | os.PathLike | None = None,
            metric: str | Metric = Metric.F1, n_trials: int = 50, seed: int = 0,
            normalise: str = "none") -> dict[str, Any]:
    """MID (Eq. 5-6) on precomputed predictions of any scorer: ``original`` = p0 on (i, t),
    ``image_cf`` = p on the image counterfactual (Eq. 2), ``text_cf`` = p on the text counterfactual
    (Eq. 1) -- :class:`~interlens.predictions.Predictions` files (JSON/Parquet) aligned by id and
    label name. ``gold``: JSON ``{id: label}``; ``tune_ids``: JSON list of the ids alpha, beta are
    tuned on (validation, for ``metric``: F1 as Sec. 4.1); the correction is applied to all. Decisions
    follow ``normalise`` (default ``"none"``: the literal Eq. 5 argmax); a Predictions file holds
    distributions, so with ``"none"`` it stores the softmax of the Eq. 5 scores (Eq. 7's ``norm``,
    same argmax). Writes ``mid_predictions.json`` + plot."""
    from ..predictions import Predictions, check_same_ids
    from .core import mid_correct
    from .core import normalise as normalised
    from .evaluate import main_table
    from .methods import mid_grid, plot_mid_contour, tune_mid
    from .plan import Normalise

    metric = choice(Metric, metric, "metric").value
    normalise = choice(Normalise, normalise, "normalise").value
    p0, pi, pt = (Predictions.load(f).check_probs() for f in (original, image_cf, text_cf))  # finite, in [0, 1]
    check_same_ids(p0, pi, pt, names=[str(original), str(image_cf), str(text_cf)])
    pi, pt = pi.align_to(p0.ids, p0.labels), pt.align_to(p0.ids, p0.labels)  # by id and label name
    gold_map = read_json(gold)
    if not isinstance(gold_map, dict):
        raise DataError("expected a JSON object {id: label}", file=str(gold))
    labels = list(p0.labels)
    y = np.full(len(p0), -1)
    for k, i in enumerate(p0.ids):
        if i in gold_map:
            if gold_map[i] not in labels:
                raise DataError(f"label {gold_map[i]!r} not in {labels}", file=str(gold), record=i, field="label")
            y[k] = labels.index(gold_map[i])
    if tune_ids is not None:
        listed = read_json(tune_ids)
        if not isinstance(listed, list) or not all(isinstance(i, str | int) for i in listed):
            raise DataError("expected a JSON list of sample ids", file=str(tune_ids))
        tune = {str(i) for i in listed}
    else:
        tune = {i for i, v in zip(p0.ids, y, strict=True) if v >= 0}
    rows = np.array([i in tune and y[k] >= 0 for k, i in enumerate(p0.ids)])
    if rows.sum() == 0:
        raise DataError("no tuning sample has a gold label", file=str(gold), field="id")
    ok = p0.has_prediction & pi.has_prediction & pt.has_prediction
    fit = rows & ok
    bo = tune_mid(p0.probs[fit], pi.probs[fit], pt.probs[fit], y[fit], metric=metric, n_trials=n_trials, seed=seed,
                  normalise_how=normalise)
    grid = mid_grid(p0.probs[fit], pi.probs[fit], pt.probs[fit], y[fit], metric=metric, normalise_how=normalise)
    corrected = np.full_like(p0.probs, np.nan)
    corrected[ok] = mid_correct(p0.probs[ok], pi.probs[ok], pt.probs[ok], bo["alpha"], bo["beta"],
                                normalise_how=normalise)
    stored = corrected.copy()
    if normalise == Normalise.NONE:  # a distribution for the file; the argmax is Eq. 5's
        stored[ok] = normalised(corrected[ok], "softmax")
    out = Path(out)
    Predictions(p0.ids, p0.labels, stored, "mid", f"mid:{p0.scorer}", p0.dataset,
                meta={"alpha": bo["alpha"], "beta": bo["beta"], "normalise": normalise,
                      "stored": "softmax of Eq. 5 scores" if normalise == Normalise.NONE else normalise}
                ).save(out / "mid_predictions.json")
    plot_mid_contour(grid, out / "mid_contour.png", bo)
    scored = (y >= 0) & ok & ~rows
    results = {"command": "debias mid", "alpha": bo["alpha"], "beta": bo["beta"], "metric": metric,
               "normalise": normalise,
               "tune_value": bo["value"], "grid_best": grid["best"], "n_tune": int(fit.sum()),
               "files": ["mid_predictions.json", "mid_contour.png"]}
    if scored.any():
        results["held_out"] = {"n": int(scored.sum()), "original": main_table(y[scored], p0.probs[scored]),
                               "MID": main_table(y[scored], corrected[scored])}
    write_json(out / "results.json", results)
    return results


# -- the experiment -------------------------------------------------------------------------------------
def run_evaluate(out: str | os.PathLike, *, dataset: str | os.PathLike | Dataset = "spurious",
                 scorer: Scorer | str = "embedding", scorer_options: dict[str, Any] | None = None,
                 text_modality: str | None = None, image_modality: str | None = None,
                 methods: Iterable[str | DebiasMethod] = ALL_METHODS, n: int = 3000, seed: int = 0,
                 data_root: str | os.PathLike | None = None, options: dict[str, Any] | None = None,
                 max_train: int | None = None, **settings: Any) -> dict[str, Any]:
    """The experiment (:func:`interlens.debias.evaluate.run_experiment`): baseline, MID and the
    ``methods`` asked for (MCTD; MME-JD with trained and oracle router, MRID, expert ablations);
    writes results.json + figures. ``settings``: :class:`~interlens.debias.plan.ExperimentSettings` keys,
    validated (typed, "did you mean") before any work."""
    from .evaluate import run_experiment
    from .plan import ExperimentSettings

    config = ExperimentSettings.build(None, settings)
    data, scorer = prepare_debias(dataset, scorer, scorer_options, methods, n=n, seed=seed, data_root=data_root,
                                  options=options, max_train=max_train)
    results = run_experiment(data, scorer=scorer, text_modality=text_modality, image_modality=image_modality,
                             methods=methods, out=out, seed=seed, settings=config)
    results["command"] = "debias evaluate"
    from ..evidence.store import save_result  # with the stored predictions (issue 26)

    save_result(out, results)
    return results


#: the rows `debias train --method M` reports next to the baseline
ROW_NAMES: dict[DebiasMethod, list[str]] = {DebiasMethod.MID: ["MID"], DebiasMethod.MCTD: ["MCTD"],
                                            DebiasMethod.MMEJD: ["MME-JD", "MME-JD (oracle router)", "MRID"]}
