"""Train and evaluate MMoE interaction experts with any scorer (MMoE Sec. 3.2-3.3, App. G-I).

Steps (one seed, :func:`train_experts` then :func:`evaluate_experts`):

1. baseline: ``scorer.fit(train, views=[view], val=dev)`` on *all* training data;
2. one expert per interaction group (R, U, S; or R, U1, U2, S) = ``baseline.finetune(train subset,
   view, val=dev subset)``: experts start from the fine-tuned baseline (App. G) and keep the
   checkpoint with the best F1 on the dev samples *of their own type* (App. I.3) -- never test;
   a training subset smaller than ``min_subset`` falls back to the baseline, with a warning;
3. router: :class:`~interlens.experts.router.InteractionRouter` (focal loss, App. H) on
   ``scorer.features`` of the training samples and their categories, selected on dev;
4. on the evaluation split: the expert logits table, every fusion strategy, the oracle (true
   test categories), the best single expert (chosen on dev), the baseline, per-interaction F1
   of the baseline vs. each expert (RQ1/RQ2), the router's confusion matrix and CE_moe (RQ4).

:func:`run_experts` repeats this over seeds (MMoE App. I.5: three seeds) and reports mean and std.
Any registered scorer works when it declares the capabilities (``scoring.base.Capability``)
``trainable`` (the baseline's ``fit``), ``finetune`` (the experts) and ``features`` (the default
router inputs); :func:`check_experts_scorer` refuses one that lacks them in one line, before any
training. Precomputed logits (such as the authors' files) skip training: build
:class:`FusionInputs` and call :func:`evaluate_inputs`.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data.schema import Dataset
from ..errors import DataError
from ..progress import current_progress, metrics_scope
from ..scoring.base import Capability, Scorer, clone, require
from .fusion import (
    BASELINE,
    FusionInputs,
    category_prior,
    evaluate_fusion,
    expert_for_category,
    fuse_all,
    select_best_expert,
    skipped_strategies,
)
from .router import InteractionRouter
from .rq4 import ce_moe, expert_cross_entropy, random_categories_like

#: Expert names per grouping. "mmoe": the paper's three experts; "split_u": U1 and U2 apart.
#: name of the seeds x parts progress bar that :func:`train_experts` advances (opened by the experts pipeline)
EXPERTS_PROGRESS = "experts"

GROUPINGS: dict[str, tuple[str, ...]] = {"mmoe": ("R", "U", "S"), "split_u": ("R", "U1", "U2", "S")}
#: Categories that never train an expert or the router.
EXCLUDED = ("missing", "filtered")
#: an interaction group with fewer training samples than this keeps the baseline as its expert (MMoE Sec. 3.2
#: trains an expert per group; too small a group cannot fit one)
MIN_SUBSET = 8


class ExpertFallbackWarning(UserWarning):
    """An expert could not be trained as asked (tiny subset, no dev data) and fell back."""


def group_categories(categories: Sequence[str] | np.ndarray, grouping: str = "mmoe") -> np.ndarray:
    """Map categories (R/U1/U2/S, or the authors' R/U/AS) to expert names; excluded ones -> ``None``."""
    if grouping not in GROUPINGS:
        raise DataError(f"unknown grouping {grouping!r}; choose one of {sorted(GROUPINGS)}", field="groups")
    experts = GROUPINGS[grouping]
    out = []
    for cat in np.asarray(categories, dtype=object):
        if cat is None or str(cat) in EXCLUDED:
            out.append(None)
            continue
        expert = expert_for_category(str(cat), experts)
        if expert is None:
            raise DataError(f"category {cat!r} has no expert under grouping {grouping!r} ({list(experts)})",
                            field="categories")
        out.append(expert)
    return np.asarray(out, dtype=object)


def categories_for(ids: Sequence[str], categories: Mapping[str, str] | Sequence[str] | np.ndarray,
                   what: str = "categories") -> np.ndarray:
    """Categories aligned with ``ids``: from a ``{id: category}`` mapping or a sequence in ``ids`` order."""
    if isinstance(categories, Mapping):
        missing = [i for i in ids if i not in categories]
        if missing:
            raise DataError(f"{len(missing)} samples have no category, e.g. {missing[:3]}", field=what)
        return np.asarray([categories[i] for i in ids], dtype=object)
    cats = np.asarray(categories, dtype=object)
    if cats.shape != (len(ids),):
        raise DataError(f"{len(cats)} categories for {len(ids)} samples", field=what)
    return cats


PURPOSE = "MMoE experts"


def check_experts_scorer(scorer: Any, *, fit_baseline: bool = True, router: Any = True,
                         router_features: Callable[[Dataset], np.ndarray] | None = None) -> None:
    """Refuse at once (one-line :class:`~interlens.scoring.base.CapabilityError`) a scorer that cannot
    train MMoE experts: ``finetune`` (experts, App. G), ``trainable`` (the baseline, unless it is
    already fitted) and ``features`` (router inputs, Sec. 3.3, unless ``router_features`` is given)."""
    require(scorer, Capability.FINETUNE, PURPOSE)
    if fit_baseline:
        require(scorer, Capability.TRAINABLE, PURPOSE)
    if router and router_features is None:
        require(scorer, Capability.FEATURES, f"the {PURPOSE} router (or pass router_features)")


def scorer_seed(scorer: Any, default: int = 0) -> int:
    """The scorer's ``seed`` parameter (``default`` when it has none)."""
    params = scorer.get_params() if hasattr(scorer, "get_params") else {}
    seed = params.get("seed", default)
    return default if seed is None else int(seed)


def reseeded(scorer: Scorer, seed: int) -> Scorer:
    """An unfitted clone of ``scorer`` with ``seed`` (only when ``seed`` is one of its parameters)."""
    if "seed" in type(scorer).param_names():
        return clone(scorer, seed=seed)
    return clone(scorer)


@dataclass
class ExpertSystem:
    """The trained parts of one MMoE run: baseline, experts, router, prior, best single expert."""

    view: str
    experts: tuple[str, ...]
    baseline: Any
    models: dict[str, Any]
    router: InteractionRouter | None
    prior: np.ndarray
    best: str | None
    grouping: str
    notes: list[str] = field(default_factory=list)
    fallbacks: dict[str, str] = field(default_factory=dict)
    subset_sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    router_dev: dict[str, Any] | None = None
    router_features: Callable[[Dataset], np.ndarray] | None = None

    def features(self, dataset: Dataset) -> np.ndarray:
        """The router's input features for ``dataset``."""
        return (self.router_features or self.baseline.features)(dataset)

    def logits_table(self, dataset: Dataset) -> FusionInputs:
        """``logits[n, experts + baseline, K]`` on ``dataset`` (router weights filled in too)."""
        models = (*self.experts, BASELINE)
        logits = np.stack([self.models[m].logits(dataset, self.view) if m != BASELINE
                           else self.baseline.logits(dataset, self.view) for m in models], axis=1)
        router = None
        if self.router is not None:
            router = self.router.predict_proba(self.features(dataset))
        return FusionInputs(logits=logits, models=models, experts=self.experts, router=router, prior=self.prior,
                            best=self.best, ids=tuple(dataset.ids))


def train_experts(scorer: Any, dataset: Dataset, categories_train: Mapping[str, str] | Sequence[str],
                  categories_dev: Mapping[str, str] | Sequence[str] | None = None, *, view: str | None = None,
                  grouping: str = "mmoe", min_subset: int = MIN_SUBSET, expert_epochs: int | None = None,
                  expert_lr: float | None = None, router_features: Callable[[Dataset], np.ndarray] | None = None,
                  router: InteractionRouter | None | bool = True, fit_baseline: bool = True,
                  train_split: str = "train", dev_split: str = "dev") -> ExpertSystem:
    """Train the baseline, one expert per interaction group and the router (see module docstring).

    ``scorer`` is an unfitted scorer (or a fitted baseline with ``fit_baseline=False``).
    ``categories_*``: ``{id: category}`` or sequences aligned with the split's ids; categories
    ``missing``/``filtered`` are left out of expert and router training. ``router``: an
    :class:`InteractionRouter` to fit, ``True`` for the default one, ``False``/``None`` for none.
    ``router_features(dataset) -> X``: the router's inputs (default: the baseline's frozen
    ``features``; MMoE's router is a separate model, BLIP-2, so other features are legitimate).
    ``view``: the experts' view (default: the scorer's default view, all the modalities it reads).
    """
    check_experts_scorer(scorer, fit_baseline=fit_baseline, router=router, router_features=router_features)
    view = str(scorer.check_view(dataset, view or scorer.default_view(dataset)))
    experts = GROUPINGS.get(grouping)
    if experts is None:
        raise DataError(f"unknown grouping {grouping!r}; choose one of {sorted(GROUPINGS)}", field="groups")
    train = dataset.split(train_split)
    dev = dataset.split(dev_split) if dev_split in dataset.splits else None
    cats_train = categories_for(train.ids, categories_train, "categories_train")
    groups_train = group_categories(cats_train, grouping)
    if all(g is None for g in groups_train):
        counts = {str(c): int((cats_train == c).sum()) for c in sorted({str(c) for c in cats_train})}
        raise DataError(f"no training sample has an interaction category ({counts}): nothing to train experts "
                        "on; with measured categories lower delta or turn the train filters off",
                        field="categories")
    groups_dev = None
    if categories_dev is not None and dev is not None:
        groups_dev = group_categories(categories_for(dev.ids, categories_dev, "categories_dev"), grouping)

    notes: list[str] = []
    bar = current_progress(EXPERTS_PROGRESS)
    bar.update(f"experts seed {scorer_seed(scorer)}: baseline")
    with metrics_scope(f"seed{scorer_seed(scorer)}/baseline"):  # its epochs' metrics, for a tracker run
        baseline = scorer.fit(train, [view], val=dev) if fit_baseline else scorer
    bar.advance()
    if dev is None:
        notes.append("no dev split: the baseline and experts are not selected on validation data")

    models: dict[str, Any] = {}
    fallbacks: dict[str, str] = {}
    sizes: dict[str, dict[str, int]] = {}
    for expert in experts:
        bar.update(f"experts seed {scorer_seed(scorer)}: expert {expert}")
        ids = [i for i, g in zip(train.ids, groups_train, strict=True) if g == expert]
        dev_ids = ([i for i, g in zip(dev.ids, groups_dev, strict=True) if g == expert]
                   if groups_dev is not None and dev is not None else [])
        sizes[expert] = {"train": len(ids), "dev": len(dev_ids)}
        if len(ids) < min_subset:
            msg = (f"expert {expert}: only {len(ids)} training samples (< min_subset={min_subset}); "
                   "falling back to the baseline for this interaction type")
            warnings.warn(msg, ExpertFallbackWarning, stacklevel=2)
            fallbacks[expert] = msg
            models[expert] = baseline
            bar.advance()
            continue
        val = None
        if len(dev_ids) >= min_subset and dev is not None:
            val = dev.subset(dev_ids, name=f"{dev.name}/{expert}")
        else:
            msg = (f"expert {expert}: {len(dev_ids)} dev samples of this type (< min_subset={min_subset}) "
                   "- no checkpoint selection, the last epoch is kept")
            warnings.warn(msg, ExpertFallbackWarning, stacklevel=2)
            notes.append(msg)
        with metrics_scope(f"seed{scorer_seed(scorer)}/{expert}"):
            models[expert] = baseline.finetune(train.subset(ids, name=f"{train.name}/{expert}"), view, val=val,
                                               epochs=expert_epochs, lr=expert_lr)
        bar.advance()

    prior = category_prior([g for g in groups_train if g is not None], experts)

    fitted_router, router_dev = None, None
    if router:
        fitted_router = (copy.deepcopy(router) if isinstance(router, InteractionRouter)
                         else InteractionRouter(seed=scorer_seed(scorer)))
        fitted_router.classes = experts
        keep = np.array([g is not None for g in groups_train])
        featurize = router_features or baseline.features
        X = featurize(train)[keep]
        fit_kwargs: dict[str, Any] = {}
        if groups_dev is not None and dev is not None:
            keep_dev = np.array([g is not None for g in groups_dev])
            X_dev = featurize(dev)[keep_dev]
            fit_kwargs = {"X_val": X_dev, "y_val": list(groups_dev[keep_dev])}
        fitted_router.fit(X, list(groups_train[keep]), **fit_kwargs)
        if fit_kwargs:
            router_dev = fitted_router.confusion_matrix(fit_kwargs["X_val"], fit_kwargs["y_val"])
        bar.advance()

    system = ExpertSystem(view=view, experts=experts, baseline=baseline, models=models, router=fitted_router,
                          prior=prior, best=None, grouping=grouping, notes=notes, fallbacks=fallbacks,
                          subset_sizes=sizes, router_dev=router_dev, router_features=router_features)
    if dev is not None:  # best single expert: chosen on the full dev set, never on test
        system.best = select_best_expert(system.logits_table(dev), dev.y)
    else:
        notes.append("no dev split: best single expert not chosen")
    return system


def evaluate_inputs(inputs: FusionInputs, y_true: np.ndarray, n_classes: int, *,
                    categories: Sequence[str] | np.ndarray | None = None, singles: bool = True) -> dict[str, Any]:
    """Every available fusion strategy on precomputed inputs: table, per-interaction F1, RQ2, CE_moe.

    ``categories`` (the true category of each sample, any naming) drive the oracle (when
    ``inputs.categories`` is unset) and the per-interaction breakdown.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    if categories is not None and inputs.categories is None:
        cats = np.asarray(categories, dtype=object)
        known = np.array([expert_for_category(str(c), inputs.experts) is not None for c in cats])
        inputs = FusionInputs(logits=inputs.logits, models=inputs.models, experts=inputs.experts,
                              router=inputs.router, prior=inputs.prior,
                              categories=cats if known.all() else None, best=inputs.best, ids=inputs.ids,
                              meta=inputs.meta)
    cats = inputs.categories if categories is None else np.asarray(categories, dtype=object)
    fused = fuse_all(inputs, singles=singles)
    report = evaluate_fusion(fused, y_true, n_classes, categories=cats)
    report["skipped"] = skipped_strategies(inputs)
    report["predictions"] = {name: np.asarray(p).argmax(axis=1).tolist() for name, p in fused.items()}  # baselines
    report["experts"] = list(inputs.experts)
    report["best_single"] = inputs.best
    report["prior"] = None if inputs.prior is None else dict(zip(inputs.experts, inputs.prior.tolist(), strict=True))
    ce = expert_cross_entropy(inputs.expert_logits(), y_true)
    report["ce_moe"] = float(ce.min(axis=1).mean())
    report["ce_experts"] = dict(zip(inputs.experts, ce.mean(axis=0).tolist(), strict=True))
    if BASELINE in inputs.models:
        report["ce_baseline"] = float(expert_cross_entropy(inputs.model_logits(BASELINE)[:, None, :], y_true).mean())
    if cats is not None and singles and BASELINE in inputs.models:
        report["rq2"] = rq2_table(report["per_interaction"], inputs.experts)
    return report


def rq2_table(per_interaction: Mapping[str, Mapping[str, Mapping[str, float]]],
              experts: Sequence[str]) -> list[dict[str, Any]]:
    """Per category: baseline F1, each expert's F1 and the own-type expert's gain (MMoE RQ1/RQ2)."""
    rows = []
    for cat, base in per_interaction[BASELINE].items():
        own = expert_for_category(cat, experts)
        row: dict[str, Any] = {"category": cat, "n": base["n"], "baseline_f1": base["f1"]}
        for e in experts:
            row[f"expert_{e}_f1"] = per_interaction[f"single:{e}"][cat]["f1"]
        row["own_expert"] = own
        row["own_gain"] = None if own is None else row[f"expert_{own}_f1"] - base["f1"]
        rows.append(row)
    return rows


def evaluate_experts(system: ExpertSystem, dataset: Dataset, *, split: str = "test",
                     categories: Mapping[str, str] | Sequence[str] | None = None) -> dict[str, Any]:
    """Evaluate ``system`` on ``split``: fusion table, per-interaction F1, RQ2, router confusion, CE_moe.

    ``categories``: the true categories of the split's samples (e.g. from unimodal predictions and
    gold labels, as MMoE's oracle); without them the oracle and breakdowns are skipped.
    """
    data = dataset.split(split)
    inputs = system.logits_table(data)
    cats = None if categories is None else categories_for(data.ids, categories, "categories_test")
    report = evaluate_inputs(inputs, data.y, len(dataset.labels), categories=cats)
    if cats is not None and system.router is not None:
        grouped = group_categories(cats, system.grouping)
        keep = np.array([g is not None for g in grouped])
        routed = system.router.predict(system.features(data))[keep]
        from .router import router_confusion

        report["router_confusion"] = router_confusion(list(grouped[keep]), list(routed), system.experts)
    report.update({"split": split, "view": system.view, "grouping": system.grouping,
                   "subset_sizes": system.subset_sizes, "fallbacks": system.fallbacks, "notes": system.notes,
                   "router_dev": system.router_dev})
    return report


def aggregate_seeds(reports: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean and std (ddof=0) over seeds of every strategy's metrics and per-interaction F1."""
    metrics = ("acc", "precision", "recall", "f1", "macro_f1")
    strategies = [r["strategy"] for r in reports[0]["rows"]]
    rows = []
    for name in strategies:
        vals = {m: [next(r for r in rep["rows"] if r["strategy"] == name)[m] for rep in reports] for m in metrics}
        rows.append({"strategy": name, **{f"{m}_mean": float(np.mean(v)) for m, v in vals.items()},
                     **{f"{m}_std": float(np.std(v)) for m, v in vals.items()}})
    per: dict[str, dict[str, dict[str, float]]] = {}
    if "per_interaction" in reports[0]:
        for name, cats in reports[0]["per_interaction"].items():
            per[name] = {}
            for cat in cats:
                v = [rep["per_interaction"][name][cat]["f1"] for rep in reports]
                per[name][cat] = {"f1_mean": float(np.mean(v)), "f1_std": float(np.std(v)),
                                  "n": cats[cat]["n"]}
    ce = [rep["ce_moe"] for rep in reports]
    return {"n_seeds": len(reports), "std_ddof": 0, "f1_average": reports[0]["f1_average"], "rows": rows,
            "per_interaction": per, "ce_moe_mean": float(np.mean(ce)), "ce_moe_std": float(np.std(ce))}


def run_experts(scorer: Any, dataset: Dataset, categories: Mapping[str, str], *, seeds: Sequence[int] = (0, 1, 2),
                split: str = "test", router: InteractionRouter | bool = True, **train_kwargs: Any) -> dict[str, Any]:
    """:func:`train_experts` + :func:`evaluate_experts` for each seed; ``{"seeds": [...], "summary": ...}``.

    ``categories``: ``{id: category}`` covering the train, dev and evaluation splits. The scorer
    (and the default router) are re-seeded per seed; a given router keeps its parameters but
    takes the seed too. The scorer is refused before any training when it lacks a capability.
    """
    check_experts_scorer(scorer, router=router, router_features=train_kwargs.get("router_features"))
    reports = []
    for seed in seeds:
        seeded_router: InteractionRouter | bool = router
        if isinstance(router, InteractionRouter):
            seeded_router = copy.deepcopy(router)
            seeded_router.seed = seed
        system = train_experts(reseeded(scorer, seed), dataset, categories, categories,
                               router=seeded_router, **train_kwargs)
        report = evaluate_experts(system, dataset, split=split, categories=categories)
        report["seed"] = seed
        reports.append(report)
    return {"seeds": reports, "summary": aggregate_seeds(reports)}


def run_rq4(scorer: Any, dataset: Dataset, categories: Mapping[str, str], *, n_random: int = 3, seed: int = 0,
            split: str = "test", **train_kwargs: Any) -> dict[str, Any]:
    """MMoE RQ4: CE_moe of experts trained on interaction subsets vs. random subsets of equal sizes.

    Random subsets permute the train (and dev) categories; ``n_random`` draws are averaged. The
    baseline's cross-entropy is reported too. No router is needed (CE_moe is fusion-free).
    """
    check_experts_scorer(scorer, router=False)
    data = dataset.split(split)
    train_kwargs = {**train_kwargs, "router": False}
    system = train_experts(reseeded(scorer, seed), dataset, categories, categories, **train_kwargs)
    inputs = system.logits_table(data)
    out: dict[str, Any] = {"interaction": ce_moe(inputs.expert_logits(), data.y),
                           "baseline": float(expert_cross_entropy(inputs.model_logits(BASELINE)[:, None, :],
                                                                  data.y).mean())}
    random_ce = []
    for draw in range(n_random):
        shuffled: dict[str, str] = {}
        for name in ("train", "dev"):
            if name in dataset.splits:
                ids = dataset.splits[name]
                perm = random_categories_like(categories_for(ids, categories), seed=seed * 1000 + draw)
                shuffled.update(zip(ids, perm, strict=True))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExpertFallbackWarning)
            rsys = train_experts(system.baseline, dataset, shuffled, shuffled, fit_baseline=False,
                                 **train_kwargs)
        random_ce.append(ce_moe(rsys.logits_table(data).expert_logits(), data.y))
    out.update({"random": float(np.mean(random_ce)), "random_draws": random_ce,
                "relative_increase_random": float(np.mean(random_ce) / out["interaction"] - 1.0)})
    return out


def measured_categories(scorer: Scorer, dataset: Dataset, *, modalities: Sequence[str] | None = None,
                        folds: int = 2, seed: int = 0, train_split: str = "train", dev_split: str = "dev",
                        train_filters: bool = True, delta: float = 0.1,
                        report: dict[str, Any] | None = None) -> dict[str, str]:
    """Per-sample R/U1/U2/S from unimodal predictions and gold labels (MMoE Sec. 3.1, Algorithm 1).

    ``scorer`` is a template: an unfitted :func:`~interlens.scoring.base.clone` is fitted per fold on
    the two unimodal views (``modalities``; default: the first two modalities the scorer reads, by
    kind) and its ``logits`` give the unimodal predictions. Training samples get *cross-fitted*
    predictions (fitted on the other ``folds - 1`` folds of the training split), so a model never
    categorises samples it was trained on; every other split is predicted by models fitted on the
    whole training split. Models are selected on ``dev_split``. ``train_filters`` (default, the
    paper's main setting) applies MMoE's train-only confidence filter (Sec. 6.1, ``delta``) and
    rebalancing (App. F.3) via :func:`interlens.interactions.categorize_split`; filtered samples get
    ``"filtered"`` and train no expert. ``report`` (a dict) receives each split's categorisation report.
    """
    from ..interactions import categorize_split
    from .fusion import softmax

    require(scorer, Capability.TRAINABLE, "measured interaction categories")
    usable = scorer.usable_modalities(dataset)
    mods = list(modalities or usable[:2])
    if len(mods) != 2:
        raise DataError(f"categorisation needs exactly two modalities; scorer {scorer.name!r} reads {usable} "
                        f"of {dict(dataset.kinds)}", file=dataset.source, field="modalities")
    mods = [str(scorer.check_view(dataset, m)) for m in mods]
    if folds < 2:
        raise DataError(f"cross-fitting needs folds >= 2, got {folds}", field="folds")
    train = dataset.split(train_split)
    dev = dataset.split(dev_split) if dev_split in dataset.splits else None

    def fit(part: Dataset) -> Scorer:
        return clone(scorer).fit(part, mods, val=dev)

    def probs_of(fitted: Scorer, part: Dataset) -> tuple[np.ndarray, np.ndarray]:
        return softmax(fitted.logits(part, mods[0])), softmax(fitted.logits(part, mods[1]))

    def categories(p1: np.ndarray, p2: np.ndarray, part: Dataset, split: str) -> dict[str, str]:
        on = train_filters and split == train_split
        result = categorize_split(p1, p2, part.y, split="train" if split == train_split else split,
                                  apply_filter=on, apply_rebalance=on, delta=delta)
        if report is not None:
            report[split] = {**result.report, "modalities": mods}
        return dict(zip(part.ids, [str(c) for c in result.categories], strict=True))

    k = len(dataset.labels)
    p1_train, p2_train = np.zeros((len(train), k)), np.zeros((len(train), k))
    order = np.random.default_rng(seed).permutation(len(train))
    for fold in range(folds):
        held = np.sort(order[fold::folds])
        held_set = set(held.tolist())
        rest = [i for n, i in enumerate(train.ids) if n not in held_set]
        p1_train[held], p2_train[held] = probs_of(fit(train.subset(rest)),
                                                   train.subset([train.ids[n] for n in held]))
    out = categories(p1_train, p2_train, train, train_split)
    full = fit(train)
    for name in dataset.splits:
        if name != train_split:
            part = dataset.split(name)
            out.update(categories(*probs_of(full, part), part, name))
    return out
