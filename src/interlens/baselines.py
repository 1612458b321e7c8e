"""Honest baselines for every comparison table: the majority class, each unimodal view, and a paired
significance test for each "method vs. baseline" difference (issue 12, item 4).

* :func:`majority_class` is fitted on the *training* labels and evaluated on the test labels;
* :func:`unimodal_predictions` fits a scorer on each unimodal view (``clone`` of an unfitted scorer);
* :func:`permutation_test`: the paired sign-flip permutation test on per-sample correctness (the
  accuracy difference). Only discordant pairs change the statistic, so the exact null distribution
  is binomial and the exact p-value is computed in closed form for any n (it equals
  ``scipy.stats.permutation_test(..., permutation_type="samples")`` with all 2**n sign flips, and the
  exact McNemar test); ``n_resamples`` switches to a seeded Monte Carlo version;
* :func:`paired_bootstrap`: the paired bootstrap over test samples for any metric (macro-F1 ...);
* :func:`comparison_table` puts them together, one row per model, with the flags
  ``at_or_below_floor`` / ``at_or_below_majority``.

Issue 26 (chance floors, statistics with the right unit): :func:`constant_floor` (the best constant
predictor on the evaluated split: its label prior, an oracle floor), :func:`floors` (that and the
train majority on the eval split), :func:`floor_warning` (the one-line warning for a model at or
below the highest floor), :func:`paired_over_items` (two methods compared with the TEST ITEM as the
unit: per-item correctness averaged over seeds) and :func:`bootstrap_vs_reference` (our accuracy vs
a published number: test-item bootstrap, the reference's binomial SE).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import DataError

TABLE_METRICS = ("acc", "macro_f1", "f1", "weighted_f1")
MAJORITY = "majority class"


def _labels(y: Any, name: str) -> np.ndarray:
    a = np.asarray(y)
    if a.ndim != 1 or len(a) == 0:
        raise DataError(f"{name} must be a non-empty 1-D array of label indices, got shape {a.shape}", field=name)
    return a.astype(np.int64)


def majority_class(y_train: Sequence[int] | np.ndarray) -> int:
    """The most frequent training label index (ties: the smallest index)."""
    y = _labels(y_train, "y_train")
    if (y < 0).any():
        raise DataError("training labels must be label indices >= 0", field="y_train")
    return int(np.bincount(y).argmax())


def majority_predictions(y_train: Sequence[int] | np.ndarray, n: int) -> np.ndarray:
    """``n`` predictions of the training majority class."""
    return np.full(int(n), majority_class(y_train), dtype=np.int64)


def _confusions(y_true: np.ndarray, y_pred: np.ndarray, k: int, idx: np.ndarray) -> np.ndarray:
    """Confusion counts ``[B, K, K+1]`` of the resamples ``idx[B, n]`` (column K: failed predictions)."""
    t, p = y_true[idx], np.where((y_pred < 0) | (y_pred >= k), k, y_pred)[idx]
    b = np.arange(idx.shape[0])[:, None]
    flat = (b * k * (k + 1) + t * (k + 1) + p).ravel()
    return np.bincount(flat, minlength=idx.shape[0] * k * (k + 1)).reshape(idx.shape[0], k, k + 1)


def _metric_from_confusion(c: np.ndarray, metric: str) -> np.ndarray:
    """Vectorised metric per resample from ``[B, K, K+1]`` counts (same definitions as
    :func:`interlens.metrics.classification_metrics`: over the gold labels only)."""
    k = c.shape[1]
    tp = np.stack([c[:, i, i] for i in range(k)], axis=1).astype(np.float64)
    support = c.sum(axis=2).astype(np.float64)
    predicted = c[:, :, :k].sum(axis=1).astype(np.float64)
    n = support.sum(axis=1)
    if metric == "acc":
        return tp.sum(axis=1) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(support + predicted > 0, 2 * tp / (support + predicted), 0.0)
    if metric == "macro_f1" or (metric == "f1" and k != 2):
        return f1.mean(axis=1)
    if metric == "f1":
        return f1[:, 1]
    if metric == "weighted_f1":
        return (f1 * support).sum(axis=1) / n
    raise DataError(f"unknown metric {metric!r}; choose one of {TABLE_METRICS}", field="metric")


def metric_value(y_true: Sequence[int], y_pred: Sequence[int], metric: str = "acc", n_labels: int | None = None
                 ) -> float:
    """``metric`` of one prediction vector (``f1``: positive-class F1 for K = 2, macro otherwise)."""
    y, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    k = int(n_labels or max(y.max(), p.max()) + 1)
    return float(_metric_from_confusion(_confusions(y, p, k, np.arange(len(y))[None, :]), metric)[0])


def _pair(y_true: Any, pred_a: Any, pred_b: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, a, b = _labels(y_true, "y_true"), _labels(pred_a, "pred_a"), _labels(pred_b, "pred_b")
    if not len(y) == len(a) == len(b):
        raise DataError(f"paired tests need one prediction per sample: {len(y)} gold, {len(a)} and {len(b)} "
                        "predictions", field="predictions")
    return y, a, b


def permutation_test(y_true: Sequence[int], pred_a: Sequence[int], pred_b: Sequence[int], *,
                     n_resamples: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Two-sided paired permutation test of the accuracy difference ``acc(a) - acc(b)``.

    Under H0 the two predictions of a sample are exchangeable: the per-sample difference of
    correctness ``d_i`` in {-1, 0, 1} flips sign with probability 1/2. With ``m`` discordant samples
    and ``S = sum d_i``, ``p = P(|2B - m| >= |S|)`` for ``B ~ Binomial(m, 1/2)`` (exact, default);
    ``n_resamples``: a seeded Monte Carlo estimate ``(1 + #{|T*| >= |S|}) / (1 + n_resamples)``.
    """
    from scipy.stats import binom

    y, a, b = _pair(y_true, pred_a, pred_b)
    d = (a == y).astype(np.int64) - (b == y).astype(np.int64)
    m, s = int(np.count_nonzero(d)), int(d.sum())
    delta = s / len(y)
    if m == 0:
        return {"p_value": 1.0, "delta": 0.0, "discordant": 0, "test": "exact permutation (sign-flip)"}
    if n_resamples is None:
        # |2B - m| >= |s|  <=>  B >= (m + |s|) / 2  or  B <= (m - |s|) / 2
        hi, lo = int(np.ceil((m + abs(s)) / 2)), int(np.floor((m - abs(s)) / 2))
        p = binom.sf(hi - 1, m, 0.5) + binom.cdf(lo, m, 0.5) if hi > lo else 1.0
        return {"p_value": float(min(1.0, p)), "delta": float(delta), "discordant": m,
                "test": "exact permutation (sign-flip)"}
    rng = np.random.default_rng(seed)
    signs = rng.integers(0, 2, size=(int(n_resamples), m)) * 2 - 1
    t = np.abs(signs @ d[d != 0])
    p = (1 + int((t >= abs(s)).sum())) / (1 + int(n_resamples))
    return {"p_value": float(p), "delta": float(delta), "discordant": m,
            "test": f"permutation (sign-flip, {int(n_resamples)} resamples)"}


def paired_bootstrap(y_true: Sequence[int], pred_a: Sequence[int], pred_b: Sequence[int], *, metric: str = "macro_f1",
                     n_labels: int | None = None, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Paired bootstrap over test samples of ``metric(a) - metric(b)``: the same resampled indices for
    both models. Two-sided p = ``min(1, 2 * min(P*(delta <= 0), P*(delta >= 0)))`` with the +1
    correction of Davison & Hinkley (1997, Sec. 4.2) so a finite resample never reports p = 0; 95 %
    percentile interval of the difference."""
    y, a, b = _pair(y_true, pred_a, pred_b)
    k = int(n_labels or max(y.max(), a.max(), b.max()) + 1)
    idx = np.random.default_rng(seed).integers(0, len(y), size=(int(n_boot), len(y)))
    deltas = _metric_from_confusion(_confusions(y, a, k, idx), metric) - _metric_from_confusion(
        _confusions(y, b, k, idx), metric)
    delta = metric_value(y, a, metric, k) - metric_value(y, b, metric, k)
    n = len(deltas)
    p = min(1.0, 2 * min((float((deltas <= 0).sum()) + 1) / (n + 1), (float((deltas >= 0).sum()) + 1) / (n + 1)))
    return {"p_value": p, "delta": float(delta), "ci95": [float(np.quantile(deltas, 0.025)),
                                                          float(np.quantile(deltas, 0.975))],
            "test": f"paired bootstrap ({int(n_boot)} resamples)"}


def paired_test(y_true: Sequence[int], pred_a: Sequence[int], pred_b: Sequence[int], *, metric: str = "acc",
                n_labels: int | None = None, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """The exact permutation test for accuracy, the paired bootstrap for any other metric."""
    if metric == "acc":
        return permutation_test(y_true, pred_a, pred_b)
    return paired_bootstrap(y_true, pred_a, pred_b, metric=metric, n_labels=n_labels, n_boot=n_boot, seed=seed)


def comparison_table(y_true: Sequence[int], predictions: Mapping[str, Sequence[int]], baseline: str | None = None,
                     majority: int | Sequence[int] | None = None, *, metric: str = "acc",
                     n_labels: int | None = None, n_boot: int = 2000, seed: int = 0,
                     floor_row: bool | None = None) -> list[dict[str, Any]]:
    """One row per model: ``metric`` value, ``delta`` and paired ``p_value`` vs. ``baseline`` (a key of
    ``predictions``; None: no comparison) and accuracy. ``majority``: the training majority label
    index (see :func:`majority_class`) or its prediction vector; its row (``"majority class"``,
    fitted on train) follows the row of the constant floor (``floor_row``, default: when
    ``majority`` is given): the best constant predictor on THIS split (its label prior, an oracle;
    issue 26). Every model row has ``at_or_below_floor`` (accuracy <= the highest floor),
    ``at_or_below_majority`` (<= the train majority's), and ``p_vs_majority`` / ``p_vs_floor``
    (exact permutation tests against them) -- None for a row at or below the highest floor, so no
    table ever gives a model at chance a "significantly better than majority" p-value.
    Predictions are label indices (-1 = no prediction = wrong).
    """
    if metric not in TABLE_METRICS:
        raise DataError(f"unknown metric {metric!r}; choose one of {TABLE_METRICS}", field="metric")
    y = _labels(y_true, "y_true")
    preds = {str(name): _labels(p, f"predictions[{name!r}]") for name, p in predictions.items()}
    for name, p in preds.items():
        if len(p) != len(y):
            raise DataError(f"model {name!r} has {len(p)} predictions for {len(y)} samples", field="predictions")
    floor_row = majority is not None if floor_row is None else floor_row
    refs: dict[str, np.ndarray] = {}
    if floor_row:
        refs[CONSTANT_FLOOR] = np.full(len(y), constant_floor(y, n_labels)["index"], dtype=np.int64)
    if majority is not None:
        refs[MAJORITY] = (np.full(len(y), int(majority), dtype=np.int64) if np.ndim(majority) == 0
                          else _labels(majority, "majority"))
    preds = {**refs, **{n: p for n, p in preds.items() if n not in refs}}
    if baseline is not None and baseline not in preds:
        raise DataError(f"baseline {baseline!r} is not one of the models {sorted(preds)}", field="baseline")
    k = int(n_labels or max(int(y.max()), *(int(p.max()) for p in preds.values())) + 1)
    values = {n: metric_value(y, p, metric, k) for n, p in preds.items()}
    accs = {n: metric_value(y, p, "acc", k) for n, p in preds.items()}
    highest = max((accs[n] for n in refs), default=None)
    rows = []
    for name, p in preds.items():
        row: dict[str, Any] = {"name": name, "metric": metric, "value": values[name], "acc": accs[name],
                               "is_baseline": name == baseline, "delta": None, "p_value": None, "test": None}
        if name in refs:
            row["is_floor"] = True
        if baseline is not None and name != baseline:
            test = paired_test(y, p, preds[baseline], metric=metric, n_labels=k, n_boot=n_boot, seed=seed)
            row.update(delta=values[name] - values[baseline], p_value=test["p_value"], test=test["test"])
        if refs:
            below = None if name in refs else bool(accs[name] <= highest + FLOOR_EPS)
            row["at_or_below_floor"] = below
        if majority is not None:
            row["at_or_below_majority"] = (bool(accs[name] <= accs[MAJORITY] + FLOOR_EPS) if name not in refs
                                           else None)
            row["p_vs_majority"] = (permutation_test(y, p, preds[MAJORITY])["p_value"]
                                    if name not in refs and not row["at_or_below_floor"] else None)
        if floor_row:
            row["p_vs_floor"] = (permutation_test(y, p, preds[CONSTANT_FLOOR])["p_value"]
                                 if name not in refs and not row["at_or_below_floor"] else None)
        rows.append(row)
    return rows


def baselines_block(y_true: Sequence[int], predictions: Mapping[str, Sequence[int]], *, y_train: Sequence[int],
                    baseline: str | None, labels: Sequence[str] | None = None,
                    metrics: Sequence[str] = ("acc", "macro_f1"), n_boot: int = 2000, seed: int = 0,
                    split: str = "test") -> dict[str, Any]:
    """The ``baselines`` block of a results JSON: the chance ``floors`` of the evaluated split (constant
    floor = eval-split prior, oracle; the training majority), one :func:`comparison_table` per metric,
    the models at or below the highest floor (``at_or_below_floor``) and the train majority
    (``at_or_below_majority``), and one warning line per flagged model (issue 26)."""
    label = majority_class(y_train)
    k = len(labels) if labels is not None else None
    tables = {m: comparison_table(y_true, predictions, baseline, label, metric=m, n_labels=k, n_boot=n_boot,
                                  seed=seed) for m in metrics}
    first = next(iter(tables.values()))
    fl = floors(y_train, y_true, labels)
    flagged = [r for r in first if r.get("at_or_below_floor")]
    return {"majority": {"label": labels[label] if labels is not None else label, "index": label,
                         "fit_on": "train", "acc": fl["train_majority"]["acc"]},
            "floors": fl, "baseline": baseline, "tables": tables,
            "at_or_below_floor": [r["name"] for r in flagged],
            "at_or_below_majority": [r["name"] for r in first if r.get("at_or_below_majority")],
            "warnings": [floor_warning(r["name"], r["acc"], fl, split=split) for r in flagged]}


def unimodal_predictions(scorer: Any, train: Any, test: Any, modalities: Sequence[str], *,
                         val: Any | None = None) -> dict[str, np.ndarray]:
    """Predicted label indices on ``test`` of one model per unimodal view (a clone of the unfitted
    ``scorer`` fitted on ``train``; any TRAINABLE scorer)."""
    from .scoring.base import Capability, clone, require

    require(scorer, Capability.TRAINABLE, "unimodal baselines")
    fitted = clone(scorer).fit(train, list(modalities), val=val)
    return {m: np.asarray(fitted.predict_proba(test, m).align(test.ids).probs).argmax(axis=1) for m in modalities}


def experts_baselines(per_seed: list[dict[str, Any]], dataset: Any, scorer: Any, modalities: Sequence[str],
                      *, split: str = "test", baseline: str = "baseline", n_boot: int = 2000,
                      on_unimodal: Callable[[str, np.ndarray], None] | None = None) -> dict[str, Any]:
    """The ``baselines`` block of an MMoE experts study: per seed, every fusion strategy (the
    ``predictions`` each seed's report carries, removed from it here) against the ``baseline``
    strategy, plus the training majority class and one model per unimodal view (fitted once, on
    train, with the scorer's own seed) as extra rows. ``on_unimodal(name, predicted)`` is called with each
    unimodal row (name ``unimodal:<view>``), so the caller can store its predictions (issue 27 item 4)."""
    test, train = dataset.split(split), dataset.split("train")
    val = dataset.split("dev") if "dev" in dataset.splits else None
    views = {f"unimodal:{m}": p for m, p in
             unimodal_predictions(scorer, train, test, modalities, val=val).items()}
    if on_unimodal is not None:
        for name, p in views.items():
            on_unimodal(name, p)
    out: dict[str, Any] = {"modalities": list(modalities), "per_seed": {}}
    y_test = _labels(test.y, "y_test")
    correct: dict[str, list[np.ndarray]] = {}
    for report in per_seed:
        preds = report.pop("predictions", None)
        if preds is None:
            continue
        for name, p in preds.items():
            correct.setdefault(str(name), []).append((np.asarray(p) == y_test).astype(np.float64))
        block = baselines_block(test.y, {**preds, **views}, y_train=train.y, baseline=baseline,
                                labels=list(dataset.labels), n_boot=n_boot, seed=int(report.get("seed", 0)))
        out["majority"] = block.pop("majority")
        out["floors"] = block.pop("floors")
        block.pop("warnings")
        out["per_seed"][str(report.get("seed", len(out["per_seed"])))] = block
    flagged = [set(b["at_or_below_majority"]) for b in out["per_seed"].values()]
    out["at_or_below_majority_every_seed"] = sorted(set.intersection(*flagged)) if flagged else []
    below = [set(b["at_or_below_floor"]) for b in out["per_seed"].values()]
    out["at_or_below_floor_every_seed"] = sorted(set.intersection(*below)) if below else []
    if "floors" not in out:
        out["floors"] = floors(train.y, test.y, list(dataset.labels))
    out["split"] = split
    # every strategy vs the baseline with the TEST ITEM as the unit: correctness averaged over seeds (issue 26)
    if baseline in correct:
        base = np.stack(correct[baseline], axis=1)
        out["paired_over_items"] = {
            name: {"vs": baseline, **paired_over_items(np.stack(c, axis=1), base, n_boot=n_boot)}
            for name, c in correct.items() if name != baseline and len(c) == base.shape[1]}
    return out


# --- chance floors and statistics with the right unit (issue 26, items 1-2) -------------------------------

CONSTANT_FLOOR = "constant floor (eval-split prior, oracle)"
TRAIN_MAJORITY = "train majority"
FLOOR_EPS = 1e-12


def constant_floor(y_eval: Sequence[int] | np.ndarray, n_labels: int | None = None) -> dict[str, Any]:
    """The best constant predictor ON THE EVALUATED SPLIT: always its most frequent label (ties: the
    smallest index). It peeks at the eval labels (an oracle floor), so no model that does not beat it
    is better than chance there (issue 26, item 1)."""
    y = _labels(y_eval, "y_eval")
    if (y < 0).any():
        raise DataError("eval labels must be label indices >= 0", field="y_eval")
    counts = np.bincount(y, minlength=int(n_labels or 0))
    index = int(counts.argmax())
    return {"name": CONSTANT_FLOOR, "index": index, "acc": float(counts[index] / len(y))}


def floors(y_train: Sequence[int] | np.ndarray | None, y_eval: Sequence[int] | np.ndarray,
           labels: Sequence[str] | None = None) -> dict[str, Any]:
    """The chance floors of one evaluated split: the :func:`constant_floor` (eval-split prior) and the
    training majority evaluated on the eval split; ``highest_floor_acc`` is the larger of the two
    (issue 26, item 1). ``y_train`` None: only the constant floor."""
    y = _labels(y_eval, "y_eval")
    k = len(labels) if labels is not None else None
    const = constant_floor(y, k)
    if labels is not None:
        const["label"] = str(labels[const["index"]])
    out: dict[str, Any] = {"constant_floor": const}
    highest = const["acc"]
    if y_train is not None:
        idx = majority_class(y_train)
        acc = float(np.mean(y == idx))
        out["train_majority"] = {"index": idx, "label": str(labels[idx]) if labels is not None else idx,
                                 "acc": acc, "fit_on": "train"}
        highest = max(highest, acc)
    out["highest_floor_acc"] = float(highest)
    return out


def at_or_below_floor(acc: float | None, floor: Mapping[str, Any]) -> bool:
    """Whether an accuracy is not above the highest floor of :func:`floors` (NaN/None: True)."""
    if acc is None or not np.isfinite(acc):
        return True
    return bool(float(acc) <= float(floor["highest_floor_acc"]) + FLOOR_EPS)


def _floor_name(floor: Mapping[str, Any]) -> str:
    const, tm = floor["constant_floor"], floor.get("train_majority")
    if tm is not None and tm["acc"] > const["acc"] + FLOOR_EPS:
        return f"train majority {tm['acc']:.3f} (always {tm['label']!r})"
    label = const.get("label", const["index"])
    return f"constant floor {const['acc']:.3f} (always {label!r})"


def floor_warning(name: str, acc: float | None, floor: Mapping[str, Any], *, split: str = "test") -> str | None:
    """One warning line when ``acc`` is at or below the highest floor, else None, e.g.
    ``"router: test ACC 0.536 <= constant floor 0.573 (always 'not sarcastic'): not better than chance"``."""
    if not at_or_below_floor(acc, floor):
        return None
    shown = "n/a" if acc is None or not np.isfinite(acc) else f"{float(acc):.3f}"
    return f"{name}: {split} ACC {shown} <= {_floor_name(floor)}: not better than chance"


def format_floors(floor: Mapping[str, Any]) -> str:
    """One line naming the floors of a split, e.g. ``constant floor 0.573 (always 'no'), train majority 0.427``."""
    const = floor["constant_floor"]
    label = const.get("label", const["index"])
    parts = [f"constant floor (eval-split prior, oracle) {const['acc']:.3f} (always {label!r})"]
    if floor.get("train_majority") is not None:
        tm = floor["train_majority"]
        parts.append(f"train majority {tm['acc']:.3f} (always {tm['label']!r})")
    return ", ".join(parts)


def _correct(a: Any, name: str) -> np.ndarray:
    c = np.asarray(a, dtype=np.float64)
    if c.ndim == 1:
        c = c[:, None]
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
        raise DataError(f"{name} must be [n_items, n_seeds] (or [n_items]) of 0/1 correctness, got shape "
                        f"{np.shape(a)}", field=name)
    if not np.isin(c, (0.0, 1.0)).all():
        raise DataError(f"{name} must hold 0/1 correctness only", field=name)
    return c


def _ci(values: np.ndarray) -> list[float]:
    return [float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))]


EXACT_MAX_NONZERO = 20


def paired_over_items(correct_a: Any, correct_b: Any, *, n_resamples: int | None = None, seed: int = 0,
                      n_boot: int = 10000) -> dict[str, Any]:
    """Paired comparison of two methods with the TEST ITEM as the unit (issue 26, item 2): average each
    item's 0/1 correctness over seeds, ``d_i = mean_a_i - mean_b_i``, then a two-sided sign-flip
    permutation test of ``mean(d)`` over items (exact over all ``2**m`` flips of the ``m`` nonzero
    ``d_i`` when ``m <= 20`` and ``n_resamples`` is None; else a seeded Monte Carlo estimate,
    ``(1 + hits) / (1 + n_resamples)``, 20,000 resamples by default). Seeds are never counted as samples.
    Effect sizes: the mean difference, Cohen's d_z (``mean(d) / sd(d)``) and the matched-pairs
    rank-biserial correlation; ``ci95``: percentile bootstrap of ``mean(d)`` over test items."""
    a, b = _correct(correct_a, "correct_a"), _correct(correct_b, "correct_b")
    if a.shape[0] != b.shape[0]:
        raise DataError(f"paired tests need the same test items: {a.shape[0]} vs {b.shape[0]} items",
                        field="correct_b")
    d = a.mean(axis=1) - b.mean(axis=1)
    n = len(d)
    delta = float(d.mean())
    nz = d[np.abs(d) > FLOOR_EPS]
    m = len(nz)
    observed = abs(float(nz.sum()))
    tol = 1e-9 * max(1.0, observed)
    if m == 0:
        p, test = 1.0, "exact permutation over items (sign-flip)"
    elif n_resamples is None and m <= EXACT_MAX_NONZERO:
        signs = ((np.arange(2 ** m)[:, None] >> np.arange(m)[None, :]) & 1) * 2 - 1
        t = np.abs(signs @ nz)
        p, test = float(np.mean(t >= observed - tol)), "exact permutation over items (sign-flip)"
    else:
        r = int(n_resamples or 20000)
        rng = np.random.default_rng(seed)
        hits, chunk = 0, max(1, 2_000_000 // m)  # about 2M signs at a time
        for start in range(0, r, chunk):
            signs = rng.integers(0, 2, size=(min(chunk, r - start), m), dtype=np.int8) * 2 - 1
            hits += int((np.abs(signs @ nz) >= observed - tol).sum())
        p, test = (1 + hits) / (1 + r), f"permutation over items (sign-flip, {r} resamples)"
    sd = float(d.std(ddof=1)) if n > 1 else 0.0
    dz = delta / sd if sd > 0 else None
    if m:
        from scipy.stats import rankdata

        ranks = rankdata(np.abs(nz))
        rb = float((ranks[nz > 0].sum() - ranks[nz < 0].sum()) / ranks.sum())
    else:
        rb = 0.0
    idx = np.random.default_rng(seed).integers(0, n, size=(int(n_boot), n))
    boots = d[idx].mean(axis=1)
    return {"delta": delta, "ci95": _ci(boots), "p_value": float(min(1.0, p)),
            "effect_size": {"mean_difference": delta, "cohens_dz": dz, "rank_biserial": rb},
            "n_items": int(n), "n_seeds": int(a.shape[1]) if a.shape[1] == b.shape[1] else [int(a.shape[1]),
                                                                                            int(b.shape[1])],
            "test": test + f"; {int(n_boot)}-resample item bootstrap CI"}


def bootstrap_vs_reference(correct: Any, reference_acc: float, *, n_boot: int = 10000, seed: int = 0
                           ) -> dict[str, Any]:
    """Our accuracy against a published number with the TEST ITEM as the unit (issue 26, item 2):
    per-item correctness averaged over seeds, percentile bootstrap over test items of our accuracy
    and of ``ours - reference``; the reference's own binomial SE ``sqrt(p (1 - p) / n)`` on the same
    ``n`` items is stated beside it. ``verdict``: "above"/"below" when the difference's 95 % CI
    excludes 0, else "not distinguishable". ``p_value``: two-sided bootstrap p of ``ours = reference``
    (``min(1, 2 min(P*(ours <= ref), P*(ours >= ref)))``, +1 corrected). Fractions in, fractions out."""
    c = _correct(correct, "correct")
    ref = float(reference_acc)
    if not 0.0 <= ref <= 1.0:
        raise DataError(f"reference_acc must be a fraction in [0, 1], got {reference_acc!r}", field="reference_acc")
    per_item = c.mean(axis=1)
    n = len(per_item)
    ours = float(per_item.mean())
    idx = np.random.default_rng(seed).integers(0, n, size=(int(n_boot), n))
    boots = per_item[idx].mean(axis=1)
    ci = _ci(boots)
    diff_ci = [ci[0] - ref, ci[1] - ref]
    verdict = "above" if diff_ci[0] > 0 else "below" if diff_ci[1] < 0 else "not distinguishable"
    b = len(boots)
    p = min(1.0, 2 * min((float((boots <= ref).sum()) + 1) / (b + 1), (float((boots >= ref).sum()) + 1) / (b + 1)))
    return {"ours": ours, "ours_ci95": ci, "reference": ref, "diff": ours - ref, "diff_ci95": diff_ci,
            "reference_binomial_se": float(np.sqrt(ref * (1 - ref) / n)), "p_value": float(p),
            "verdict": verdict, "n_items": int(n), "n_seeds": int(c.shape[1]),
            "test": f"percentile bootstrap over {n} test items ({int(n_boot)} resamples; seeds averaged per item)"}
