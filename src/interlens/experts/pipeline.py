"""The MMoE experts study as one function (what ``interlens experts train`` runs), with any scorer.

:func:`train_experts_study` takes a :class:`~interlens.data.schema.Dataset` with train / dev / test
splits and an unfitted scorer, and returns a JSON-ready results dict with provenance (dataset,
scorer name and parameters, every setting). The MMoE paper's main setting is the default:
categories *measured* on train from cross-fitted unimodal predictions (Sec. 3.1, Algorithm 1)
with the δ = 0.1 confidence filter (Sec. 6.1) and rebalancing (App. F.3), one expert per
interaction group fine-tuned from the baseline (App. G), a focal-loss router (App. H), three
seeds (App. I.5), every fusion strategy (Sec. 6.2) and optionally RQ4 (Sec. 5, Eq. 1).
:func:`write_experts_results` writes ``results.json`` and the plots. :func:`fuse_stored_logits`
is ``interlens experts evaluate``: every fusion of precomputed expert logits (no training).
Seeds run on the current executor (:mod:`interlens.execution`): in order here, or as Ray tasks.
With ``save_models`` (a folder) each seed's trained parts are saved under ``<folder>/seed<k>/``:
``baseline/`` and ``expert_<name>/`` (the scorer's ``save_pretrained``) and ``router/`` (see
:func:`save_router`); ``results["models"]`` lists them.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from ..data.paths import portable_source
from ..data.schema import Dataset
from ..errors import DataError
from ..execution.base import Executor, current_executor, resources_for
from ..io import atomic_write, read_json, to_jsonable, write_json
from ..progress import progress, report_metrics
from .fusion import BASELINE
from .router import ROUTER_KINDS, InteractionRouter
from .train import (
    EXPERTS_PROGRESS,
    GROUPINGS,
    MIN_SUBSET,
    ExpertSystem,
    aggregate_seeds,
    check_experts_scorer,
    evaluate_experts,
    measured_categories,
    reseeded,
    run_experts,
    run_rq4,
    train_experts,
)

logger = logging.getLogger(__name__)

#: the splits an experts study needs
REQUIRED_SPLITS = ("train", "dev", "test")


class CategoriesSource(StrEnum):
    """Where the per-sample interaction categories come from."""

    AUTO = "auto"          # planted when the dataset has them (synthetic), else measured
    PLANTED = "planted"    # the generator's ground truth (``meta["interaction"]``)
    MEASURED = "measured"  # cross-fitted unimodal predictions vs. gold (MMoE Sec. 3.1)


class Grouping(StrEnum):
    """Experts per grouping (:data:`~interlens.experts.train.GROUPINGS`)."""

    MMOE = "mmoe"        # R, U, S: the paper's three experts
    SPLIT_U = "split_u"  # R, U1, U2, S


class RouterKind(StrEnum):
    """Router model (:data:`~interlens.experts.router.ROUTER_KINDS`)."""

    MLP = "mlp"        # focal loss, MMoE App. H
    LINEAR = "linear"  # focal loss
    LOGREG = "logreg"  # scikit-learn logistic regression


assert {g.value for g in Grouping} == set(GROUPINGS) and {k.value for k in RouterKind} == set(ROUTER_KINDS)


def check_splits(dataset: Dataset) -> None:
    """Refuse a dataset without train, dev and test splits (experts are selected on dev, scored on test)."""
    missing = [s for s in REQUIRED_SPLITS if s not in dataset.splits]
    if missing:
        raise DataError(f"dataset {dataset.name!r} has splits {sorted(dataset.splits) or 'none'}; MMoE experts "
                        f"need train, dev and test (missing: {', '.join(missing)})", file=dataset.source,
                        field="split")


def _jsonable_params(scorer: Any) -> dict[str, Any]:
    params = scorer._hashable_params() if hasattr(scorer, "_hashable_params") else scorer.get_params()
    return json.loads(json.dumps(params, default=str))


def dataset_provenance(dataset: Dataset) -> dict[str, Any]:
    return {"name": dataset.name, "source": portable_source(dataset.source), "fingerprint": dataset.fingerprint(),
            "labels": list(dataset.labels), "modalities": dict(dataset.kinds),
            "splits": {s: len(ids) for s, ids in dataset.splits.items()}}


def train_experts_study(dataset: Dataset, scorer: Any, *, categories: CategoriesSource | str = "auto",
                        seeds: Sequence[int] = (0, 1, 2), grouping: str = "mmoe", delta: float = 0.1,
                        train_filters: bool = True, modalities: Sequence[str] | None = None, folds: int = 2,
                        view: str | None = None, min_subset: int = MIN_SUBSET, expert_epochs: int | None = None,
                        expert_lr: float | None = None, router: str = "mlp", class_balanced: bool = False,
                        rq4: bool = False, n_random: int = 3, log: Callable[[str], None] | None = None,
                        save_models: str | os.PathLike | None = None, max_train: int | None = None
                        ) -> dict[str, Any]:
    """Baseline + one expert per interaction group + router over ``seeds``; every fusion on test.

    ``categories``: ``planted``, ``measured`` (``modalities``: the two unimodal views, default the
    first two the scorer reads; ``folds`` for cross-fitting; ``train_filters`` / ``delta``: MMoE's
    train-only filter and rebalancing) or ``auto`` (planted when every sample has one). The scorer
    is refused at once when it lacks ``finetune``, ``trainable`` or ``features``. ``save_models``: a
    folder for each seed's baseline, experts and router (module docstring). ``max_train``: a seeded
    random subset of train (:meth:`Dataset.cap_split`, seed = the first seed), recorded in the settings.
    """
    say = log or (lambda _msg: None)
    source = CategoriesSource(categories)
    grouping = str(Grouping(grouping))
    router_kind = str(RouterKind(router))
    if not 0 <= delta < 1:
        raise DataError(f"delta must be in [0, 1), got {delta}", field="delta")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise DataError("give at least one seed", field="seeds")
    check_experts_scorer(scorer, router=True)
    check_splits(dataset)
    dataset = dataset.cap_split("train", max_train, seed=seeds[0])

    planted = bool(dataset.samples) and all(s.meta.get("interaction") for s in dataset.samples)
    if source is CategoriesSource.AUTO:
        source = CategoriesSource.PLANTED if planted else CategoriesSource.MEASURED
    categorisation: dict[str, Any] = {}
    if source is CategoriesSource.PLANTED:
        if not planted:
            raise DataError(f"dataset {dataset.name!r} has no planted interaction types; use categories=measured",
                            field="categories")
        cats = {s.id: str(s.meta["interaction"]) for s in dataset.samples}
    else:
        say(f"measuring categories from cross-fitted unimodal predictions ({scorer.name}) ...")
        cats = measured_categories(scorer, dataset, modalities=modalities, folds=folds, seed=seeds[0],
                                   train_filters=train_filters, delta=delta, report=categorisation)

    router_model = InteractionRouter(kind=router_kind, class_balanced=class_balanced, seed=seeds[0])
    say(f"training baseline, {grouping} experts and router with {scorer.name} for seeds {seeds} ...")
    result = run_seeds(scorer, dataset, cats, seeds=seeds, router=router_model, grouping=grouping,
                       min_subset=min_subset, expert_epochs=expert_epochs, expert_lr=expert_lr, view=view,
                       save_models=save_models)
    results: dict[str, Any] = {
        "command": "experts train",
        "dataset": dataset_provenance(dataset),
        "scorer": {"name": scorer.name, "params": _jsonable_params(scorer)},
        "settings": {"categories": str(source), "seeds": seeds, "grouping": grouping,
                     "view": result["seeds"][0]["view"], "train_filters": bool(train_filters),
                     "delta": delta if train_filters and source is CategoriesSource.MEASURED else None,
                     "modalities": categorisation.get("train", {}).get("modalities"), "folds": folds,
                     "min_subset": min_subset, "expert_epochs": expert_epochs, "expert_lr": expert_lr,
                     "rq4": rq4, "n_random": n_random if rq4 else None, "max_train": max_train},
        "router": router_model.get_params(),
        "summary": result["summary"], "per_seed": result["seeds"],
        "category_counts": {s: {c: sum(1 for i in ids if cats[i] == c) for c in sorted({cats[i] for i in ids})}
                            for s, ids in dataset.splits.items()},
    }
    if result.get("models"):
        results["models"] = result["models"]
    if categorisation:
        results["categorisation"] = categorisation
    if source is CategoriesSource.MEASURED and planted:
        test_ids = dataset.splits["test"]
        results["measured_vs_planted_test_acc"] = float(np.mean(
            [cats[i] == dataset[i].meta["interaction"] for i in test_ids]))
    from ..baselines import experts_baselines  # majority class, unimodal views, paired tests (issue 12)
    from ..evidence.store import EVIDENCE_KEY, attach_evidence, rows_from_arrays

    attach_evidence(results, *_stored_predictions(dataset, results))  # issue 26: written by save_result
    stored, test = results[EVIDENCE_KEY]["rows"], dataset.split("test")
    scorer_seed = getattr(scorer, "seed", None)

    def store_unimodal(name: str, predicted: np.ndarray) -> None:  # issue 27 item 4: unimodal rows re-derivable
        stored.extend(rows_from_arrays(test.ids, test.y, predicted, model=name, split="test",
                                       seed=int(scorer_seed) if isinstance(scorer_seed, int | np.integer) else None))

    results["baselines"] = experts_baselines(results["per_seed"], dataset, scorer, results["settings"]["modalities"]
                                             or results["settings"]["view"].split("+"), on_unimodal=store_unimodal)
    results.update(experts_verdict(results["summary"], results["baselines"]))
    if rq4:
        say("RQ4: experts on interaction subsets vs. random subsets ...")
        results["rq4"] = run_rq4(scorer, dataset, cats, seed=seeds[0], n_random=n_random, grouping=grouping,
                                 min_subset=min_subset, expert_epochs=expert_epochs, expert_lr=expert_lr, view=view)
    return results


def _acc_text(mean: float, std: float | None, n_seeds: int) -> str:
    """``0.612 ± 0.010`` over several seeds, ``0.612`` for one (never ``± 0.000``; issue 26 item 5)."""
    return f"{mean:.3f}" if n_seeds == 1 or std is None else f"{mean:.3f} ± {std:.3f}"


def experts_verdict(summary: Mapping[str, Any], baselines: Mapping[str, Any]) -> dict[str, Any]:
    """Issue 26 for ``experts train``: the ``floors`` of the evaluated split, one warning per fusion
    strategy and unimodal view at or below the highest floor (mean ACC over seeds), and the one-line
    ``verdict``: the fusion result (router_soft, else the best non-oracle strategy) vs the baseline
    (paired over test items) vs the best unimodal view vs the floors."""
    from ..baselines import at_or_below_floor, floor_warning, format_floors

    fl, split = baselines["floors"], baselines.get("split", "test")
    n = int(summary.get("n_seeds", 1))
    over = f" (mean over {n} seeds)" if n > 1 else ""
    rows = {r["strategy"]: r for r in summary["rows"]}
    warnings = [w for name, r in rows.items()
                if (w := floor_warning(f"{name}{over}", r["acc_mean"], fl, split=split)) is not None]
    first = next(iter(baselines.get("per_seed", {}).values()), None)
    views = {r["name"].split(":", 1)[1]: r["acc"] for r in (first["tables"]["acc"] if first else [])
             if r["name"].startswith("unimodal:")}
    warnings += [w for view, acc in views.items()
                 if (w := floor_warning(f"unimodal view {view}", acc, fl, split=split)) is not None]
    candidates = [k for k in rows if k not in (BASELINE, "oracle") and not k.startswith("single:")]
    main = "router_soft" if "router_soft" in rows else max(candidates, key=lambda k: rows[k]["acc_mean"],
                                                           default=None)
    parts = []
    if main is not None:
        r = rows[main]
        parts.append(f"{main} ACC {_acc_text(r['acc_mean'], r.get('acc_std'), n)}")
        if at_or_below_floor(r["acc_mean"], fl):
            parts[-1] += " (NOT above chance)"
    if BASELINE in rows:
        b = rows[BASELINE]
        text = f"baseline {_acc_text(b['acc_mean'], b.get('acc_std'), n)}"
        test = (baselines.get("paired_over_items") or {}).get(main or "")
        if test is not None:
            text += (f" (Δ {test['delta']:+.3f} [{test['ci95'][0]:+.3f}, {test['ci95'][1]:+.3f}], "
                     f"p = {test['p_value']:.3g}, paired over {test['n_items']} test items)")
        parts.append(text)
    if views:
        best = max(views, key=lambda v: views[v])
        parts.append(f"best unimodal {best} {views[best]:.3f}")
    parts.append(format_floors(fl))
    seeds = f"{n} seed" if n == 1 else f"{n} seeds"
    return {"floors": fl, "warnings": warnings, "verdict": f"experts ({split}, {seeds}): " + " vs ".join(parts)}


def _one_seed(seed: int, scorer: Any, dataset: Dataset, cats: Mapping[str, str], kwargs: dict[str, Any],
              save_models: str | os.PathLike | None = None) -> dict[str, Any]:
    if save_models is None:
        return run_experts(scorer, dataset, cats, seeds=[seed], **kwargs)["seeds"][0]
    # run_experts for one seed, keeping the trained system to save it
    kwargs = dict(kwargs)
    router = kwargs.pop("router", True)
    check_experts_scorer(scorer, router=router, router_features=kwargs.get("router_features"))
    if isinstance(router, InteractionRouter):
        router = copy.deepcopy(router)
        router.seed = seed
    system = train_experts(reseeded(scorer, seed), dataset, cats, cats, router=router, **kwargs)
    report = evaluate_experts(system, dataset, split="test", categories=cats)
    report["seed"] = seed
    report["models"] = save_expert_system(system, Path(save_models) / f"seed{seed}")
    return report


def run_seeds(scorer: Any, dataset: Dataset, cats: Mapping[str, str], *, seeds: Sequence[int],
              executor: Executor | None = None, save_models: str | os.PathLike | None = None,
              **kwargs: Any) -> dict[str, Any]:
    """:func:`~interlens.experts.train.run_experts`, one seed per executor item (Ray task with one CPU, or
    one GPU for a ``device=cuda`` scorer; each seed is independent: re-seeded scorer and router). With
    ``save_models`` the result has ``models``: ``{"seed<k>": {part: folder}}``."""
    cpus, gpus = resources_for(getattr(scorer, "device", None))
    fn = functools.partial(_one_seed, scorer=scorer, dataset=dataset, cats=dict(cats), kwargs=kwargs,
                           save_models=save_models)
    # one bar over seeds x parts (baseline, experts, router); train_experts advances it part by part here,
    # a seed run elsewhere (Ray) advances it when it arrives
    parts = 1 + len(GROUPINGS.get(kwargs.get("grouping", "mmoe"), ())) + (1 if kwargs.get("router", True) else 0)
    found: dict[int, dict[str, Any]] = {}
    with progress(len(seeds) * parts, "experts: seeds x parts", "part", name=EXPERTS_PROGRESS) as bar:
        for index, report in (executor or current_executor()).map_unordered(fn, list(seeds), num_cpus=cpus,
                                                                             num_gpus=gpus):
            found[index] = report
            for row in report["rows"]:  # each fusion strategy's results as its seed finishes, for a tracker run
                report_metrics({k: v for k, v in row.items() if k != "strategy"}, step=report["seed"],
                               prefix=str(row["strategy"]))
            bar.advance(len(found) * parts - bar.completed)
    reports = [found[i] for i in range(len(seeds))]
    models = {f"seed{r['seed']}": r.pop("models") for r in reports if "models" in r}
    out = {"seeds": reports, "summary": aggregate_seeds(reports)}
    if models:
        out["models"] = models
    return out


def save_router(router: InteractionRouter, folder: str | os.PathLike) -> Path:
    """A fitted router: ``router.json`` (kind, parameters, label map ``classes``/``label2id``, feature
    standardisation ``mean``/``scale``) plus its weights: ``router.safetensors`` (mlp / linear: the
    torch state dict, float64; logreg: ``coef`` and ``intercept`` of the scikit-learn model, no pickle -- issue
    30); a router that saw one class stores ``constant`` (the class index) only. Returns the folder."""
    folder = Path(folder)
    model = getattr(router, "model_", None)
    if model is None:
        raise DataError("the router is not fitted; nothing to save", field="router")
    meta: dict[str, Any] = {"kind": router.kind, "params": router.get_params(), "classes": list(router.classes_),
                            "label2id": {c: i for i, c in enumerate(router.classes_)},
                            "n_features": int(router.n_features_), "mean": router.mean_, "scale": router.scale_,
                            "input": "(features - mean) / scale"}
    if isinstance(model, tuple):
        meta["constant"] = int(model[1])
    elif hasattr(model, "state_dict"):
        from safetensors.torch import save_file

        state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        atomic_write(folder / "router.safetensors", lambda p: save_file(state, str(p)))
        meta.update(weights="router.safetensors", architecture=str(model))
    else:  # scikit-learn's LogisticRegression as tensors + JSON: nothing a user receives is a pickle
        import torch
        from safetensors.torch import save_file

        state = {"coef": torch.tensor(np.asarray(model.coef_, dtype=np.float64)).contiguous(),
                 "intercept": torch.tensor(np.asarray(model.intercept_, dtype=np.float64)).contiguous()}
        atomic_write(folder / "router.safetensors", lambda p: save_file(state, str(p)))
        meta.update(weights="router.safetensors", model_classes=[int(c) for c in model.classes_],
                    architecture="logistic regression: z = x @ coef.T + intercept; probabilities over "
                                 "model_classes = softmax(z), or with one coef row [1 - sigmoid(z), sigmoid(z)]")
    write_json(folder / "router.json", to_jsonable(meta))
    return folder


def save_expert_system(system: ExpertSystem, folder: str | os.PathLike) -> dict[str, str]:
    """Save one seed's baseline, experts (an expert that fell back to the baseline points to it) and
    router under ``folder``; returns ``{part: folder}``."""
    folder = Path(folder)
    saved: dict[str, str] = {}
    from ..scoring.base import Capability, has_capability

    if has_capability(system.baseline, Capability.SAVABLE):
        system.baseline.save_pretrained(folder / "baseline")
        saved["baseline"] = str(folder / "baseline")
    else:
        logger.warning("scorer %s does not declare %r (save_pretrained); only the router is saved",
                       system.baseline.name, Capability.SAVABLE.value)
    for name, model in system.models.items() if saved else ():
        if model is system.baseline:
            saved[name] = saved["baseline"]
            continue
        model.save_pretrained(folder / f"expert_{name}")
        saved[name] = str(folder / f"expert_{name}")
    if system.router is not None:
        saved["router"] = str(save_router(system.router, folder / "router"))
    return saved


def _plots(out: Path, report: Mapping[str, Any], tag: str) -> list[str]:
    from .plots import plot_fusion_table, plot_per_interaction

    files = [str(plot_fusion_table(report, out / f"fusion_{tag}.png", title=f"Fusion strategies ({tag})"))]
    if report.get("per_interaction"):
        files.append(str(plot_per_interaction(report["per_interaction"], out / f"per_interaction_{tag}.png",
                                              title=f"F1 per interaction type ({tag})")))
    return files


def _stored_predictions(dataset: Dataset, results: dict[str, Any]) -> tuple[list[dict[str, Any]],
                                                                                 list[dict[str, Any]]]:
    """Issue 26: every strategy's test predictions per seed (rows for ``predictions.jsonl.gz``), the checks
    that re-derive each seed's and the summary's metrics from them, and one test look in the ledger."""
    from ..evidence.ledger import record_evaluation
    from ..evidence.store import check, rows_from_arrays

    test = dataset.split("test")
    rows, checks, k = [], [], len(dataset.labels)
    metrics = ("acc", "macro_f1", "f1", "precision", "recall")
    for i, report in enumerate(results["per_seed"]):
        seed = int(report.get("seed", i))
        for name, pred in (report.get("predictions") or {}).items():
            rows += rows_from_arrays(test.ids, test.y, pred, model=str(name), seed=seed, split="test")
        for j, row in enumerate(report.get("rows") or []):
            if row.get("strategy") in (report.get("predictions") or {}):
                checks += [check(f"/per_seed/{i}/rows/{j}/{m}", m, model=row["strategy"], split="test", seed=seed,
                                 n_labels=k) for m in metrics if isinstance(row.get(m), int | float)]
    stored = {r["model"] for r in rows}
    for j, row in enumerate(results["summary"].get("rows") or []):
        if row.get("strategy") in stored:
            checks += [check(f"/summary/rows/{j}/{m}_mean", m, model=row["strategy"], split="test", n_labels=k)
                       for m in metrics if isinstance(row.get(f"{m}_mean"), int | float)]
    looks = record_evaluation(dataset, "test", {"method": "experts", "scorer": results["scorer"],
                                                "settings": {k: v for k, v in results["settings"].items()
                                                             if k != "seeds"}})
    results["test_looks"] = {dataset.name: looks}  # type: ignore[index]
    return rows, checks


def write_experts_results(results: dict[str, Any], out: str | Path) -> Path:
    """Write the plots and ``out/results.json`` (with ``results["plots"]``; the per-sample predictions of
    :func:`train_experts_study` beside it, ``predictions.jsonl.gz``); returns the JSON path."""
    from ..evidence.store import save_result

    out = Path(out)
    results.update(experts_plots(out, results))
    return save_result(out, results)


def experts_plots(out: str | Path, results: Mapping[str, Any]) -> dict[str, Any]:
    """Draw the fusion plots of an experts study / evaluation into ``out``; ``{"plots": [paths]}`` (empty
    when the results hold neither a summary nor a report)."""
    out = Path(out)
    if "summary" in results:
        return {"plots": _plots(out, results["summary"], "test")}
    if "report" in results:
        return {"plots": _plots(out, results["report"], str(results.get("model") or "precomputed"))}
    return {}


# -- fusion of stored expert logits (``interlens experts evaluate``) ---------------------------------------
def _read_ids_json(path: Path, what: str) -> dict[str, Any]:
    data = read_json(path)
    if not isinstance(data, dict):
        raise DataError(f"expected a JSON object {{id: {what}}}", file=str(path))
    return {str(k): v for k, v in data.items()}


def fuse_stored_logits(*, mmoe_authors: str | None = None, data_root: str | Path | None = None,
                       experts: Mapping[str, str | Path] | None = None, baseline: str | Path | None = None,
                       router: str | Path | None = None, categories: str | Path | None = None,
                       prior: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Every fusion strategy on precomputed expert logits (MMoE Table 4 style); no training.

    Either ``mmoe_authors`` = ``albef`` | ``qwen2-7b`` (the authors' MUStARD files under
    ``<data_root>/mmoe_rus``), or ``experts`` = {name: JSONL in the authors' line format} with an
    optional ``baseline`` file, ``router`` JSON ``{id: [score per expert]}`` (softmax-normalised),
    ``categories`` JSON ``{id: category}`` (oracle + breakdown) and fixed ``prior`` weights.
    """
    from .authors import agreed_targets, load_authors_fusion, read_expert_jsonl
    from .fusion import FusionInputs, normalise_router
    from .train import evaluate_inputs

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
        logits = np.stack([files[m].logits[[{i: n for n, i in enumerate(files[m].ids)}[i] for i in ids]]
                           for m in models], axis=1)
        y = agreed_targets(files, list(ids))  # conflicting gold labels across files are refused (issue 30)
        names = tuple(experts)
        router_w = None
        if router is not None:
            scores = _read_ids_json(Path(router), "scores")
            missing = [i for i in ids if i not in scores]
            extra["router_missing"] = len(missing)
            if not missing:
                router_w = normalise_router(np.asarray([scores[i] for i in ids], dtype=np.float64))
        cats = None
        if categories is not None:
            table = _read_ids_json(Path(categories), "category")
            absent = [i for i in ids if i not in table]
            if absent:
                raise DataError(f"{len(absent)} ids have no category, e.g. {absent[:3]}", file=str(categories))
            cats = np.asarray([str(table[i]) for i in ids], dtype=object)
        prior_w = None if not prior else np.asarray([prior.get(e, 0.0) for e in names], dtype=np.float64)
        inputs = FusionInputs(logits=logits, models=models, experts=names, router=router_w, prior=prior_w,
                              categories=cats, ids=tuple(ids))
    else:
        raise DataError("give --mmoe-authors MODEL or at least one --expert NAME=FILE.jsonl", field="experts")
    report = evaluate_inputs(inputs, y, inputs.n_classes, categories=inputs.categories)
    predicted = report.pop("predictions", None) or {}
    from ..baselines import floor_warning, floors, format_floors

    fl = floors(None, y)  # no training labels here: the constant floor (eval-split prior) only (issue 26)
    warnings = [w for r in report["rows"] if (w := floor_warning(r["strategy"], r["acc"], fl)) is not None]
    rows = {r["strategy"]: r for r in report["rows"]}
    main = "router_soft" if "router_soft" in rows else BASELINE if BASELINE in rows else None
    verdict = (f"experts evaluate (n={len(y)}): " + (f"{main} ACC {rows[main]['acc']:.3f}" if main else "")
               + (f" vs baseline {rows[BASELINE]['acc']:.3f}" if main != BASELINE and BASELINE in rows else "")
               + f" vs {format_floors(fl)}")
    results = {"command": "experts evaluate", **extra, "n": int(len(y)), "report": report, "floors": fl,
               "warnings": warnings, "verdict": verdict,
               "note": "no validation logits: best_single is not chosen (single:<expert> rows list each expert)"}
    from ..evidence.store import attach_evidence, check, rows_from_arrays  # issue 26: every number re-derivable

    k = int(inputs.n_classes)
    stored = [r for name, p in predicted.items()
              for r in rows_from_arrays(list(inputs.ids), y, p, model=str(name), seed=None, split="eval")]
    checks = [check(f"/report/rows/{j}/{m}", m, model=row["strategy"], split="eval", n_labels=k)
              for j, row in enumerate(report["rows"]) if row["strategy"] in predicted
              for m in ("acc", "macro_f1", "f1", "precision", "recall") if isinstance(row.get(m), int | float)]
    if stored:
        checks.append(check("/floors/constant_floor/acc", "constant_floor", model=stored[0]["model"], split="eval",
                            n_labels=k))
        attach_evidence(results, stored, checks)
    return results
