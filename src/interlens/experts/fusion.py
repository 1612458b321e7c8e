"""Fusion of interaction-expert outputs (MMoE Sec. 3.3 and Sec. 6.2, Table 4).

Every strategy is a pure function of one :class:`FusionInputs`, whose centre is a table
``logits[n_samples, n_models, n_classes]``: one slice per model (the interaction experts and, when
available, the ``"baseline"`` trained on all data). A strategy returns class probabilities
``probs[n_samples, n_classes]`` (rows sum to 1). Strategies live in an explicit registry,
:data:`FUSION_STRATEGIES`; :func:`fuse_all` runs every strategy whose inputs are available and
:func:`evaluate_fusion` turns the result into Acc / P / R / F1 per strategy plus a per-interaction
F1 breakdown.

Mixtures (average, prior, router) combine the *interaction experts* only (``FusionInputs.experts``,
by default every model except ``"baseline"``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import DataError
from ..metrics import classification_metrics
from ..registry import Registry
from ..torch_utils import softmax

BASELINE = "baseline"

#: Names under which the same interaction group may appear (MMoE code calls synergy "AS").
_ALIASES: dict[str, tuple[str, ...]] = {"S": ("S", "AS"), "AS": ("AS", "S"), "U1": ("U1", "U"),
                                        "U2": ("U2", "U"), "U": ("U",), "R": ("R",)}


# -- array helpers ------------------------------------------------------------------------------
def expert_for_category(category: str, experts: Sequence[str]) -> str | None:
    """The expert that serves ``category``: the same name, else its MMoE group (U1/U2 -> U, S <-> AS)."""
    for candidate in _ALIASES.get(str(category), (str(category),)):
        if candidate in experts:
            return candidate
    return None


@dataclass(frozen=True)
class FusionInputs:
    """Everything a fusion strategy may use.

    ``logits[n, M, K]``: raw scores of model ``models[m]`` for class ``k`` (softmax gives its
    probabilities). ``experts``: the models a mixture combines (default: all but ``"baseline"``).
    ``router[n, E]``: per-sample expert weights aligned with ``experts`` (rows sum to 1; see
    :func:`normalise_router`). ``prior[E]``: fixed weights aligned with ``experts``.
    ``categories[n]``: each sample's true interaction category (for the oracle only).
    ``best``: the single expert chosen on *validation* data (see :func:`select_best_expert`).
    """

    logits: np.ndarray
    models: tuple[str, ...]
    experts: tuple[str, ...] = ()
    router: np.ndarray | None = None
    prior: np.ndarray | None = None
    categories: np.ndarray | None = None
    best: str | None = None
    ids: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        logits = np.asarray(self.logits, dtype=np.float64)
        object.__setattr__(self, "logits", logits)
        object.__setattr__(self, "models", tuple(str(m) for m in self.models))
        if logits.ndim != 3 or logits.shape[1] != len(self.models):
            raise DataError(f"logits has shape {logits.shape}, expected (n, {len(self.models)}, K)",
                            field="logits")
        if len(set(self.models)) != len(self.models):
            raise DataError(f"model names repeat: {list(self.models)}", field="models")
        experts = tuple(self.experts) or tuple(m for m in self.models if m != BASELINE)
        unknown = [e for e in experts if e not in self.models]
        if unknown:
            raise DataError(f"experts {unknown} are not among the models {list(self.models)}",
                            field="experts")
        if not experts:
            raise DataError("no interaction experts in the logits table", field="experts")
        object.__setattr__(self, "experts", experts)
        n, e = logits.shape[0], len(experts)
        if self.router is not None:
            router = np.asarray(self.router, dtype=np.float64)
            if router.shape != (n, e):
                raise DataError(f"router weights have shape {router.shape}, expected ({n}, {e}) "
                                f"for experts {list(experts)}", field="router")
            object.__setattr__(self, "router", router)
        if self.prior is not None:
            prior = np.asarray(self.prior, dtype=np.float64)
            if prior.shape != (e,) or prior.sum() <= 0 or (prior < 0).any():
                raise DataError(f"prior must be {e} non-negative weights, got {prior.tolist()}",
                                field="prior")
            object.__setattr__(self, "prior", prior / prior.sum())
        if self.categories is not None:
            cats = np.asarray(self.categories, dtype=object)
            if cats.shape != (n,):
                raise DataError(f"categories has shape {cats.shape}, expected ({n},)", field="categories")
            object.__setattr__(self, "categories", cats)
        if self.best is not None and self.best not in self.models:
            raise DataError(f"best expert {self.best!r} is not among the models {list(self.models)}",
                            field="best")
        if self.ids and len(self.ids) != n:
            raise DataError(f"{len(self.ids)} ids for {n} rows of logits", field="ids")

    @property
    def n_classes(self) -> int:
        return int(self.logits.shape[2])

    def model_logits(self, name: str) -> np.ndarray:
        """``logits[:, name, :]``."""
        return self.logits[:, self.models.index(name), :]

    def expert_logits(self) -> np.ndarray:
        """``logits[n, E, K]`` of the interaction experts only, in ``experts`` order."""
        return self.logits[:, [self.models.index(e) for e in self.experts], :]

    def subset(self, mask: np.ndarray) -> FusionInputs:
        """The same inputs restricted to the rows where ``mask`` is true."""
        mask = np.asarray(mask)
        return replace(self, logits=self.logits[mask],
                       router=None if self.router is None else self.router[mask],
                       categories=None if self.categories is None else self.categories[mask],
                       ids=tuple(np.asarray(self.ids, dtype=object)[mask]) if self.ids else ())


# -- registry -----------------------------------------------------------------------------------
FusionFn = Callable[[FusionInputs], np.ndarray]


@dataclass(frozen=True)
class FusionStrategy:
    """A registered strategy: ``fn(inputs) -> probs[n, K]`` and the optional inputs it needs."""

    name: str
    fn: FusionFn
    requires: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        return (self.fn.__doc__ or "").strip().splitlines()[0]

    def available(self, inputs: FusionInputs) -> tuple[bool, str]:
        """Whether ``inputs`` carries what this strategy needs, and if not, why."""
        for need in self.requires:
            if need == "baseline" and BASELINE not in inputs.models:
                return False, "no baseline logits"
            if need != "baseline" and getattr(inputs, need) is None:
                return False, f"no {need}"
        return True, ""

    def __call__(self, inputs: FusionInputs) -> np.ndarray:
        ok, why = self.available(inputs)
        if not ok:
            raise DataError(f"fusion strategy {self.name!r} cannot run: {why}", field=self.name)
        return self.fn(inputs)


#: the fusion strategies (:class:`interlens.registry.Registry`), in registration order
FUSION_STRATEGIES: Registry[FusionStrategy] = Registry("fusion strategy")


def register_fusion(name: str, *, requires: tuple[str, ...] = ()) -> Callable[[FusionFn], FusionFn]:
    """Decorator: add ``fn`` to :data:`FUSION_STRATEGIES` under ``name`` (a name is taken once)."""

    def deco(fn: FusionFn) -> FusionFn:
        FUSION_STRATEGIES.add(name, FusionStrategy(name, fn, requires))
        return fn

    return deco


def get_fusion(name: str) -> FusionStrategy:
    """The registered strategy ``name`` (a "did you mean" error otherwise)."""
    return FUSION_STRATEGIES.get(name)


# -- strategies ---------------------------------------------------------------------------------
@register_fusion("baseline", requires=("baseline",))
def fuse_baseline(inputs: FusionInputs) -> np.ndarray:
    """Single model fine-tuned on all training data, no experts (MMoE Table 4 "Baseline")."""
    return softmax(inputs.model_logits(BASELINE))


@register_fusion("average_logits")
def fuse_average_logits(inputs: FusionInputs) -> np.ndarray:
    """Softmax of the mean of the experts' logits (the authors' ``simple_average``; MMoE Sec. 6.2 (1))."""
    return softmax(inputs.expert_logits().mean(axis=1))


@register_fusion("average_probs")
def fuse_average_probs(inputs: FusionInputs) -> np.ndarray:
    """Mean of the experts' softmax probabilities (MMoE Sec. 6.2 (1) "Average Fusion", paper wording)."""
    return softmax(inputs.expert_logits(), axis=2).mean(axis=1)


@register_fusion("max_logits")
def fuse_max_logits(inputs: FusionInputs) -> np.ndarray:
    """Softmax of the class-wise maximum of the experts' logits (MMoE Sec. 6.2 (2) "Maximum Fusion").

    As in the authors' ``max_fusion``, the maximum is taken over raw logits, class by class, and the
    prediction is its argmax. Logits of differently calibrated experts are not on one scale, so this
    favours the expert with the largest logits; the softmax only makes the output a distribution.
    """
    return softmax(inputs.expert_logits().max(axis=1))


def _mixture(inputs: FusionInputs, weights: np.ndarray) -> np.ndarray:
    """``sum_i w_i softmax(f_i)``: MMoE Sec. 3.3, y_hat = sum_{i in {r,u,s}} w_i f_i(x1, x2)."""
    probs = softmax(inputs.expert_logits(), axis=2)
    weights = np.broadcast_to(np.asarray(weights, dtype=np.float64), probs.shape[:2])
    return np.einsum("ne,nek->nk", weights, probs)


@register_fusion("prior_weighted", requires=("prior",))
def fuse_prior_weighted(inputs: FusionInputs) -> np.ndarray:
    """Fixed weights = each interaction type's share of the training data (MMoE Sec. 6.2 (3) "Weighted").

    Mixes the experts' probabilities with Eq. of Sec. 3.3 and constant weights.
    """
    return _mixture(inputs, inputs.prior)


@register_fusion("router_soft", requires=("router",))
def fuse_router_soft(inputs: FusionInputs) -> np.ndarray:
    """Router-weighted soft mixture y_hat = sum_i w_i(x) f_i(x) (MMoE Sec. 3.3; Sec. 6.2 (4) "Model-based").

    ``w(x)`` are the router's per-sample probabilities over the interaction types; ``f_i`` the
    experts' softmax probabilities (as the authors' ``weighted_softmax_rus_fusion``).
    """
    return _mixture(inputs, inputs.router)


@register_fusion("router_top1", requires=("router",))
def fuse_router_top1(inputs: FusionInputs) -> np.ndarray:
    """Hard routing: the expert of the router's most probable interaction type (MMoE Sec. 3.3, top-1)."""
    probs = softmax(inputs.expert_logits(), axis=2)
    pick = np.asarray(inputs.router).argmax(axis=1)
    return probs[np.arange(len(pick)), pick]


@register_fusion("oracle", requires=("categories",))
def fuse_oracle(inputs: FusionInputs) -> np.ndarray:
    """Each sample goes to the expert of its *true* category: an upper bound (MMoE Table 4 "Oracle", RQ3).

    Samples whose category has no expert (e.g. U1 without a U1/U expert) get a NaN row (no prediction).
    """
    probs = softmax(inputs.expert_logits(), axis=2)
    out = np.full((probs.shape[0], probs.shape[2]), np.nan)
    for row, cat in enumerate(inputs.categories):
        expert = expert_for_category(cat, inputs.experts)
        if expert is not None:
            out[row] = probs[row, inputs.experts.index(expert)]
    return out


@register_fusion("best_single", requires=("best",))
def fuse_best_single(inputs: FusionInputs) -> np.ndarray:
    """The one expert with the best F1 on *validation* data, for every sample (MMoE App. I.3 selection)."""
    return softmax(inputs.model_logits(inputs.best))


def select_best_expert(inputs: FusionInputs, y_true: np.ndarray, *, include_baseline: bool = False) -> str:
    """The expert with the highest task F1 on ``inputs`` (pass *validation* inputs, never test).

    Ties go to the first expert in ``inputs.experts`` order.
    """
    y_true = np.asarray(y_true)
    candidates = list(inputs.experts) + ([BASELINE] if include_baseline and BASELINE in inputs.models else [])
    scores = [classification_metrics(y_true, softmax(inputs.model_logits(m)).argmax(axis=1),
                                      inputs.n_classes)["f1"] for m in candidates]
    return candidates[int(np.argmax(scores))]


def normalise_router(scores: np.ndarray) -> np.ndarray:
    """Router scores (logits) -> per-sample weights with a softmax, as the authors' fusion code."""
    return softmax(np.asarray(scores, dtype=np.float64), axis=1)


def category_prior(categories: Sequence[str], experts: Sequence[str]) -> np.ndarray:
    """Share of each expert's interaction group among ``categories`` (training data), in ``experts`` order."""
    counts = np.zeros(len(experts))
    for cat in categories:
        expert = expert_for_category(cat, experts)
        if expert is not None:
            counts[list(experts).index(expert)] += 1
    if counts.sum() == 0:
        raise DataError("no training category matches an expert", field="categories")
    return counts / counts.sum()


# -- running and scoring ------------------------------------------------------------------------
def fuse_all(inputs: FusionInputs, strategies: Sequence[str] | None = None, *,
             singles: bool = False) -> dict[str, np.ndarray]:
    """``{strategy: probs[n, K]}`` for every registered (or named) strategy whose inputs exist.

    Strategies named explicitly must be runnable (an error says what is missing); with
    ``strategies=None`` the unavailable ones are skipped (see :func:`skipped_strategies`).
    ``singles=True`` also adds ``"single:<expert>"`` for each expert on its own.
    """
    out: dict[str, np.ndarray] = {}
    if strategies is None:
        for name, strategy in FUSION_STRATEGIES.items():
            if strategy.available(inputs)[0]:
                out[name] = strategy(inputs)
    else:
        for name in strategies:
            out[name] = get_fusion(name)(inputs)
    if singles:
        for expert in inputs.experts:
            out[f"single:{expert}"] = softmax(inputs.model_logits(expert))
    return out


def skipped_strategies(inputs: FusionInputs) -> dict[str, str]:
    """``{strategy: why}`` for the registered strategies ``inputs`` cannot run."""
    out = {}
    for name, strategy in FUSION_STRATEGIES.items():
        ok, why = strategy.available(inputs)
        if not ok:
            out[name] = why
    return out


def predictions_from_probs(probs: np.ndarray) -> np.ndarray:
    """Argmax per row; -1 (a failure) where a row is NaN."""
    probs = np.asarray(probs, dtype=np.float64)
    missing = np.isnan(probs).all(axis=1)
    pred = np.where(np.isnan(probs), -np.inf, probs).argmax(axis=1)
    pred[missing] = -1
    return pred


_CATEGORY_RANK = {c: i for i, c in enumerate(("R", "U", "U1", "U2", "S", "AS", "missing", "filtered"))}


def _category_order(cats: np.ndarray) -> list[str]:
    """Categories present in ``cats``: R, U, U1, U2, S, AS first, anything else after, alphabetically."""
    return sorted({str(c) for c in cats.tolist()}, key=lambda c: (_CATEGORY_RANK.get(c, 99), c))


def evaluate_fusion(fused: Mapping[str, np.ndarray], y_true: np.ndarray, n_classes: int, *,
                    categories: Sequence[str] | np.ndarray | None = None) -> dict[str, Any]:
    """Acc, P, R, F1 per strategy, and F1 per interaction category.

    ``f1``/``precision``/``recall`` are binary (positive class = index 1) for two classes and macro
    otherwise; ``f1_average`` says which (MMoE App. I.4 uses binary). ``macro_f1`` is always given.
    Per-interaction rows use the same ``f1`` on the samples of each category (MMoE RQ1/RQ2).
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    rows = []
    per_interaction: dict[str, dict[str, dict[str, float]]] = {}
    cats = None if categories is None else np.asarray(categories, dtype=object)
    for name, probs in fused.items():
        pred = predictions_from_probs(probs)
        m = classification_metrics(y_true, pred, n_classes)
        rows.append({"strategy": name, "acc": m["acc"], "precision": m["precision"], "recall": m["recall"],
                     "f1": m["f1"], "macro_f1": m["macro_f1"], "n_failed": m["n_failed"]})
        if cats is not None:
            per_interaction[name] = {}
            for cat in _category_order(cats):
                mask = cats == cat
                mc = classification_metrics(y_true[mask], pred[mask], n_classes)
                per_interaction[name][str(cat)] = {"n": int(mask.sum()), "f1": mc["f1"], "acc": mc["acc"],
                                                   "macro_f1": mc["macro_f1"]}
    f1_average = "binary" if n_classes == 2 else "macro"
    out: dict[str, Any] = {"f1_average": f1_average, "n": int(len(y_true)), "rows": rows}
    if cats is not None:
        out["per_interaction"] = per_interaction
        out["category_counts"] = {str(c): int((cats == c).sum()) for c in _category_order(cats)}
    return out


def format_table(report: Mapping[str, Any], *, digits: int = 2) -> str:
    """The fusion table of :func:`evaluate_fusion` as Markdown (values x100)."""
    head = f"| strategy | Acc | P | R | F1 ({report['f1_average']}) | macro-F1 |"
    lines = [head, "|---|---:|---:|---:|---:|---:|"]
    for row in report["rows"]:
        vals = [row["acc"], row["precision"], row["recall"], row["f1"], row["macro_f1"]]
        lines.append(f"| {row['strategy']} | " + " | ".join(f"{100 * v:.{digits}f}" for v in vals) + " |")
    return "\n".join(lines)
