"""MINT study bookkeeping (issue 27 item 5): every task grouped, grouping stability across seeds (adjusted Rand
index), whether R / U / S all hold a task, the measured reason when they do not, and group vs the other regimes
over test items -- pure functions on hand-made values."""

import numpy as np
import pytest

from interlens.baselines import paired_over_items
from interlens.mint.study import compare_regimes, every_task_grouping, grouping_stability, groups_span, span_reason


def _score(value, lo, hi):
    return {"interaction_score": {"exact": {"score": value, "ci_low": lo, "ci_high": hi}}}


def test_every_task_is_grouped_with_its_interval_and_distances():
    scores = {"a": _score(1.9, 1.8, 2.0), "b": _score(1.0, 0.9, 1.1), "c": _score(0.2, 0.1, 0.3),
              "d": _score(1.1, 1.0, 1.2)}
    g = every_task_grouping(scores)
    assert g["groups_prototype"] == {"a": "R", "b": "U", "c": "S", "d": "U"}
    assert g["groups_clustering"] == {"a": "R", "b": "U", "c": "S", "d": "U"}
    assert g["intervals"]["c"] == [0.1, 0.3]
    assert g["distance"]["names"] == ["a", "b", "c", "d"]
    assert g["distance"]["matrix"][0][2] == pytest.approx(1.7)
    # prototype thresholds are absolute: all near 1 -> all U; clustering still cuts three groups, named by mean score
    near = {"a": _score(1.3, 1.2, 1.4), "b": _score(1.0, 0.9, 1.1), "c": _score(0.7, 0.6, 0.8)}
    g = every_task_grouping(near)
    assert set(g["groups_prototype"].values()) == {"U"}
    assert g["groups_clustering"] == {"a": "R", "b": "U", "c": "S"}


def test_grouping_stability_is_sklearns_adjusted_rand_index_between_seeds():
    from sklearn.metrics import adjusted_rand_score

    seeds = {"0": {"a": "R", "b": "U", "c": "U", "d": "S"},
             "1": {"a": "U", "b": "R", "c": "R", "d": "S"},  # the same partition under other names
             "2": {"a": "R", "b": "R", "c": "U", "d": "S"}}
    st = grouping_stability(seeds)
    assert st["adjusted_rand_index"]["0-1"] == 1.0
    assert st["adjusted_rand_index"]["0-2"] == pytest.approx(adjusted_rand_score([0, 1, 1, 2], [0, 0, 1, 2]))
    # by hand: no pair together in both, 1 pair together in each -> expected 1/6, max 1: (0 - 1/6) / (1 - 1/6)
    assert st["adjusted_rand_index"]["0-2"] == pytest.approx(-0.2)
    assert st["adjusted_rand_index"]["1-2"] == pytest.approx(-0.2)
    assert st["mean_ari"] == pytest.approx((1.0 - 0.2 - 0.2) / 3)
    assert st["min_ari"] == pytest.approx(-0.2)
    assert st["modal_group"]["d"] == {"group": "S", "seeds": 3, "of": 3}
    assert st["modal_group"]["a"] == {"group": "R", "seeds": 2, "of": 3}


def test_groups_span_counts_seeds_with_a_task_in_each_group():
    span = groups_span({"0": {"a": "R", "b": "U", "c": "S"}, "1": {"a": "R", "b": "U", "c": "U"},
                        "2": {"a": "U", "b": "S", "c": "R"}})
    assert span["per_seed"]["1"] == {"sizes": {"R": 1, "U": 2, "S": 0}, "missing": ["S"]}
    assert span["seeds_with_all"] == 2 and span["holds"] is True
    span = groups_span({"0": {"a": "U", "b": "U"}, "1": {"a": "R", "b": "U"}, "2": {"a": "U", "b": "U"}})
    assert span["seeds_with_all"] == 0 and span["holds"] is False


def test_span_reason_names_the_extreme_scores_and_per_sample_shares():
    seed = {"interaction": {"scores": {"a": 1.4, "b": 0.9}, "intervals": {"a": [1.3, 1.5], "b": [0.8, 1.0]},
                            "n": {"a": 500, "b": 34},
                            "per_task": {"a": {"n": 500, "counts": {"R": 200, "U1": 250, "U2": 0, "S": 50}},
                                         "b": {"n": 34, "counts": {"R": 0, "U1": 17, "U2": 0, "S": 17}}}}}
    r = span_reason({"0": seed})
    assert r["per_seed"]["0"]["lowest"] == {"task": "b", "score": 0.9, "ci95": [0.8, 1.0], "n": 34}
    assert r["per_seed"]["0"]["highest"]["task"] == "a"
    assert r["per_seed"]["0"]["below_S_cut"] == [] and r["per_seed"]["0"]["above_R_cut"] == []
    assert r["per_task_share"]["a"] == {"neither": [0.1], "both": [0.4]}
    assert r["per_task_share"]["b"] == {"neither": [0.5], "both": [0.0]}


def test_compare_regimes_pairs_test_items_and_says_no_gain():
    gold = [0, 1, 0, 1, 0, 1, 0, 1]
    group = [0, 1, 0, 1, 0, 1, 0, 1]  # all right
    same = list(group)
    worse = [1, 0, 1, 0, 1, 0, 1, 0]  # all wrong
    preds = {s: {"t": {"ids": list("abcdefgh"), "gold": gold, "pred": {"group": group, "all": same,
                                                                        "single": worse}}} for s in ("0", "1")}
    c = compare_regimes(preds, ["t"], "group", ["all", "single"], n_boot=200)
    assert c["group_vs_all"]["per_task"]["t"]["delta"] == 0.0
    assert c["group_vs_all"]["per_task"]["t"]["verdict"] == "no gain"
    assert c["group_vs_all"]["tasks"] == {"gain": 0, "loss": 0, "no gain": 1}
    single = c["group_vs_single"]["per_task"]["t"]
    assert single["delta"] == 1.0 and single["verdict"] == "gain"
    assert single["p_value"] == pytest.approx(2 / 2 ** 8)  # exact sign-flip over 8 items: only the two extremes
    ref = paired_over_items(np.ones((8, 2)), np.zeros((8, 2)), n_boot=200)
    assert single["p_value"] == ref["p_value"] and c["group_vs_single"]["pooled"]["delta"] == 1.0
