"""MID tuning (Eq. 6, Bayesian optimisation + grid), MCTD training data (Eq. 9) and the MME-JD route
weights (Sec. 4.3); the data builders address modalities by role (:class:`DebiasModalities`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..data.schema import Dataset, Sample
from ..errors import DataError
from ..metrics import classification_metrics
from ..progress import progress
from .core import ROUTER_CLASSES, mid_correct, mmejd_combine, mrid_correct
from .counterfactual import DebiasModalities, blank_like

METRICS = ("acc", "f1", "macro_f1", "weighted_f1")
NULL_TEXT = "[MASK]"


def _metric(y: np.ndarray, probs: np.ndarray, metric: str) -> float:
    if metric not in METRICS:
        raise DataError(f"unknown metric {metric!r}; choose one of {METRICS}", field="metric")
    return float(classification_metrics(y, probs.argmax(1), probs.shape[1])[metric])


# -- MID ----------------------------------------------------------------------------------------------------
def bayes_opt(f: Callable[..., float], names: tuple[str, ...], *, n_trials: int = 50, seed: int = 0,
              bounds: tuple[float, float] = (0.0, 1.0)) -> tuple[dict[str, float], float, list]:
    """Maximise ``f(**params)`` over ``names`` in ``bounds`` with Optuna's Gaussian-process sampler
    (the paper: skopt GP, App. C.2). Returns best params, best value and the trials."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.GPSampler(seed=seed))
    with progress(n_trials, f"Bayesian optimisation of {', '.join(names)}", "trial") as bar:
        study.optimize(lambda t: f(**{n: t.suggest_float(n, *bounds) for n in names}), n_trials=n_trials,
                       callbacks=[lambda _study, _trial: bar.advance()])
    trials = [(*(t.params[n] for n in names), t.value) for t in study.trials]
    return dict(study.best_params), float(study.best_value), trials


def tune_mid(p0: np.ndarray, pi: np.ndarray, pt: np.ndarray, y: np.ndarray, *, metric: str = "f1",
             n_trials: int = 50, seed: int = 0, bounds: tuple[float, float] = (0.0, 1.0),
             objective: Callable[[float, float], float] | None = None, normalise_how: str = "none"
             ) -> dict[str, Any]:
    """Eq. 6 by Bayesian optimisation (:func:`bayes_opt`) over ``alpha, beta`` in ``bounds``, for
    ``metric`` (Sec. 4.1: "We use F1"; ``f1`` = binary F1 of the positive class for K = 2, macro F1
    otherwise). Returns best alpha, beta, value, trials."""
    f = objective or (lambda a, b: _metric(y, mid_correct(p0, pi, pt, a, b, normalise_how=normalise_how), metric))
    best, value, trials = bayes_opt(lambda alpha, beta: f(alpha, beta), ("alpha", "beta"), n_trials=n_trials,
                                    seed=seed, bounds=bounds)
    return {"alpha": best["alpha"], "beta": best["beta"], "value": value, "n_evaluations": len(trials),
            "metric": metric, "trials": trials}


def mid_grid(p0: np.ndarray, pi: np.ndarray, pt: np.ndarray, y: np.ndarray, *, metric: str = "f1",
             steps: int = 21, bounds: tuple[float, float] = (0.0, 1.0), normalise_how: str = "none"
             ) -> dict[str, Any]:
    """The metric on a ``steps x steps`` grid (Figure 7); ``values[i, j]`` at alpha_i, beta_j."""
    grid = np.linspace(*bounds, steps)
    values = np.array([[_metric(y, mid_correct(p0, pi, pt, a, b, normalise_how=normalise_how), metric)
                        for b in grid] for a in grid])
    i, j = np.unravel_index(int(values.argmax()), values.shape)
    return {"alphas": grid.tolist(), "betas": grid.tolist(), "values": values.tolist(), "metric": metric,
            "best": {"alpha": float(grid[i]), "beta": float(grid[j]), "value": float(values[i, j])},
            "n_evaluations": steps * steps}


def plot_mid_contour(grid: dict[str, Any], path: str | Path, best: dict[str, Any] | None = None) -> Path:
    """Contour plot of a :func:`mid_grid` result like the paper's Figure 7 (PNG)."""
    from ..report.plots import pyplot

    plt = pyplot()

    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    cs = ax.contourf(grid["betas"], grid["alphas"], np.asarray(grid["values"]) * 100, levels=15, cmap="viridis")
    fig.colorbar(cs, ax=ax, label=f"{grid['metric']} (%)")
    if best is not None:
        ax.plot(best["beta"], best["alpha"], "r*", ms=12, label="GP-BO best")
        ax.legend(loc="upper right", fontsize=7)
    ax.set_xlabel("beta (text debias)")
    ax.set_ylabel("alpha (image debias)")
    ax.set_title("MID on validation")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


# -- MCTD / expert training data (Eq. 9, 11, 12) ----------------------------------------------------------
def reversed_label(y: int, k: int, rng: np.random.Generator) -> int:
    """Eq. 9's reversed label: the other class for K = 2; for K > 2 the paper does not say -- a
    uniformly drawn wrong label (seeded)."""
    if k == 2:
        return 1 - y
    return int(rng.choice([c for c in range(k) if c != y]))


def context_only_inputs(dataset: Dataset, cf_text: list[str], cf_image: list[Any], mods: DebiasModalities
                        ) -> tuple[Dataset, Dataset]:
    """The two context-only copies of ``dataset``: ``(t_hat, blank image)`` (Eq. 1, ``Y(T_hat, phi)``)
    and ``([MASK], i_hat)`` (Eq. 2) -- the inputs a debias expert is trained on with reversed labels.
    ``mods`` names the text and image modalities (by kind, :func:`pick_modalities`)."""
    t, i = mods.text, mods.image
    text_only, image_only = [], []
    for n, s in enumerate(dataset.samples):
        blank = blank_like(s.inputs[i], mods.image_kind)
        text_only.append(Sample(s.id, {**s.inputs, t: cf_text[n], i: blank}, s.label, s.group, s.meta))
        image_only.append(Sample(s.id, {**s.inputs, t: NULL_TEXT, i: cf_image[n]}, s.label, s.group, s.meta))
    return (dataset.derive(f"{dataset.name}|cf_text_only", text_only),
            dataset.derive(f"{dataset.name}|cf_image_only", image_only))


def counterfactual_training_set(train: Dataset, cf_text: list[str] | None, cf_image: list[Any] | None,
                                mods: DebiasModalities, *, select: np.ndarray | None = None,
                                categories: np.ndarray | None = None, seed: int = 0) -> Dataset:
    """Originals plus context-only samples with reversed labels (Eq. 9, MCTD; Eq. 11-12, experts).

    A text counterfactual is ``(t_hat, blank image)`` -- Eq. 1 masks the image -- and an image
    counterfactual is ``([MASK], i_hat)`` (Eq. 2), in the modalities ``mods`` names. ``categories``
    (Sec. 4.2.1) restrict text counterfactuals to text/both samples and image ones to image/both;
    ``select`` is a boolean mask over samples (default all).
    """
    rng = np.random.default_rng(seed)
    k = len(train.labels)
    y = train.y
    t, i = mods.text, mods.image
    select = np.ones(len(train), bool) if select is None else np.asarray(select, bool)
    extra = []
    for n, s in enumerate(train.samples):
        if not select[n]:
            continue
        cat = categories[n] if categories is not None else "both"
        blank = blank_like(s.inputs[i], mods.image_kind)
        if cf_text is not None and cat in ("text", "both"):
            extra.append(Sample(f"{s.id}#cf_text", {**s.inputs, t: cf_text[n], i: blank},
                                train.labels[reversed_label(int(y[n]), k, rng)], s.group, {"counterfactual": "text"}))
        if cf_image is not None and cat in ("image", "both"):
            extra.append(Sample(f"{s.id}#cf_image", {**s.inputs, t: NULL_TEXT, i: cf_image[n]},
                                train.labels[reversed_label(int(y[n]), k, rng)], s.group, {"counterfactual": "image"}))
    return train.derive(f"{train.name}+cf", [*train.samples, *extra], info={"n_counterfactual": len(extra)})


# -- MME-JD combination weights ------------------------------------------------------------------------------
WEIGHT_SEARCHES = ("bo", "grid")


def search_route_weights(p_a: np.ndarray, p_i: np.ndarray, p_t: np.ndarray, y: np.ndarray, route: np.ndarray, *,
                         mode: str = "mmejd", metric: str = "f1", search: str = "bo", grid: np.ndarray | None = None,
                         n_trials: int = 50, seed: int = 0, bounds: tuple[float, float] = (0.0, 1.0),
                         normalise_how: str = "none") -> dict[str, tuple[float, float]]:
    """Per route class c, the (alpha_c, beta_c) maximising ``metric`` over the samples routed to c
    (Eq. 15 with ``mode="mmejd"``, Eq. 23 with ``mode="mrid"``). ``search="bo"`` (default, Sec. 4.3.2:
    "searched on validation set as Sec. 4.1"): Bayesian optimisation (:func:`bayes_opt`, ``n_trials``)
    over the weights class c uses (alpha for image, beta for text, both for both) in ``bounds``;
    ``"grid"``: every point of ``grid`` (default 0, 0.1, ..., 1). A class nobody is routed to gets (0, 0)."""
    if search not in WEIGHT_SEARCHES:
        raise DataError(f"unknown weight search {search!r}; choose one of {WEIGHT_SEARCHES}", field="weight_search")
    grid = np.linspace(bounds[0], bounds[1], 11) if grid is None else grid
    extra = {"normalise_how": normalise_how} if mode == "mrid" else {}
    combine = mmejd_combine if mode == "mmejd" else mrid_correct
    weights: dict[str, tuple[float, float]] = {"none": (0.0, 0.0)}
    for c in ROUTER_CLASSES[1:]:
        idx = np.flatnonzero(route == c)
        if len(idx) == 0:
            weights[c] = (0.0, 0.0)
            continue

        def value(a: float, b: float, idx: np.ndarray = idx) -> float:
            w = {cc: (a, b) for cc in ROUTER_CLASSES[1:]}
            return _metric(y[idx], combine(p_a[idx], p_i[idx], p_t[idx], route[idx], w, **extra), metric)

        uses = tuple(n for n, used in (("alpha", c in ("image", "both")), ("beta", c in ("text", "both"))) if used)
        if search == "bo":
            best_params, _, _ = bayes_opt(lambda **kw: value(kw.get("alpha", 0.0), kw.get("beta", 0.0)), uses,
                                          n_trials=n_trials, seed=seed, bounds=bounds)
            weights[c] = (float(best_params.get("alpha", 0.0)), float(best_params.get("beta", 0.0)))
            continue
        best = (-1.0, (0.0, 0.0))
        for a in (grid if "alpha" in uses else [0.0]):
            for b in (grid if "beta" in uses else [0.0]):
                v = value(float(a), float(b))
                if v > best[0] + 1e-12:
                    best = (v, (float(a), float(b)))
        weights[c] = best[1]
    return weights
