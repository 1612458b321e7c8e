"""Fusion strategies (MMoE Sec. 3.3, Sec. 6.2): each registered strategy against a plain-loop reference,
on hand-made arrays with exact values and on the MMoE authors' stored expert logits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from interlens.errors import DataError, RegistryError
from interlens.experts.authors import load_authors_fusion, read_expert_jsonl
from interlens.experts.fusion import (
    FUSION_STRATEGIES,
    FusionInputs,
    category_prior,
    evaluate_fusion,
    expert_for_category,
    format_table,
    fuse_all,
    get_fusion,
    normalise_router,
    select_best_expert,
    skipped_strategies,
)


# -- plain-Python references (one sample at a time, no numpy broadcasting) -------------------------
def _softmax_row(values: list[float]) -> list[float]:
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    return [e / sum(exps) for e in exps]


def _reference(name: str, inp: FusionInputs) -> np.ndarray:
    n, _, k = inp.logits.shape
    eidx = [inp.models.index(e) for e in inp.experts]
    out = []
    for i in range(n):
        experts = [[float(inp.logits[i, m, c]) for c in range(k)] for m in eidx]
        probs = [_softmax_row(row) for row in experts]
        if name == "baseline":
            row = _softmax_row([float(v) for v in inp.logits[i, inp.models.index("baseline")]])
        elif name == "average_logits":
            row = _softmax_row([sum(e[c] for e in experts) / len(experts) for c in range(k)])
        elif name == "average_probs":
            row = [sum(p[c] for p in probs) / len(probs) for c in range(k)]
        elif name == "max_logits":
            row = _softmax_row([max(e[c] for e in experts) for c in range(k)])
        elif name == "prior_weighted":
            w = [float(v) for v in inp.prior]
            row = [sum(w[j] * probs[j][c] for j in range(len(probs))) / sum(w) for c in range(k)]
        elif name == "router_soft":
            w = [float(v) for v in inp.router[i]]
            row = [sum(w[j] * probs[j][c] for j in range(len(probs))) for c in range(k)]
        elif name == "router_top1":
            w = [float(v) for v in inp.router[i]]
            row = probs[w.index(max(w))]
        elif name == "oracle":
            cat = str(inp.categories[i])
            target = {"AS": "S", "S": "S", "U1": "U", "U2": "U"}.get(cat, cat)
            if cat in inp.experts:
                target = cat
            row = probs[list(inp.experts).index(target)] if target in inp.experts else [math.nan] * k
        elif name == "best_single":
            row = _softmax_row([float(v) for v in inp.logits[i, inp.models.index(inp.best)]])
        else:  # a new strategy must come with a reference here
            raise AssertionError(f"no reference computation for fusion strategy {name!r}")
        out.append(row)
    return np.asarray(out, dtype=np.float64)


def _hand_inputs() -> FusionInputs:
    # expert probabilities chosen so every strategy has an exact, hand-checkable answer
    p = {"R": [[0.2, 0.8], [0.5, 0.5]], "U": [[0.6, 0.4], [0.9, 0.1]], "S": [[0.4, 0.6], [0.3, 0.7]]}
    logits = np.zeros((2, 4, 2))
    for j, name in enumerate(("R", "U", "S")):
        logits[:, j, :] = np.log(p[name])
    logits[:, 3, :] = [[0.0, 0.0], [1.0, 0.0]]  # baseline
    return FusionInputs(logits=logits, models=("R", "U", "S", "baseline"),
                        router=np.array([[0.5, 0.25, 0.25], [0.0, 0.0, 1.0]]), prior=np.array([2.0, 1.0, 1.0]),
                        categories=np.array(["U2", "AS"], dtype=object), best="U")


def test_registry_is_explicit_and_documented() -> None:
    expected = {"baseline", "average_logits", "average_probs", "max_logits", "prior_weighted", "router_soft",
                "router_top1", "oracle", "best_single"}
    assert set(FUSION_STRATEGIES) == expected
    for strategy in FUSION_STRATEGIES.values():
        assert "MMoE" in (strategy.fn.__doc__ or ""), strategy.name
        assert strategy.description
    with pytest.raises(RegistryError, match="router_soft"):
        get_fusion("router_sof")


def test_hand_made_exact_values() -> None:
    inp = _hand_inputs()
    fused = fuse_all(inp)
    assert set(fused) == set(FUSION_STRATEGIES)
    exact = {
        "average_probs": [[0.4, 0.6], [1.7 / 3, 1.3 / 3]],
        "prior_weighted": [[0.5 * 0.2 + 0.25 * 0.6 + 0.25 * 0.4, 0.5 * 0.8 + 0.25 * 0.4 + 0.25 * 0.6],
                           [0.5 * 0.5 + 0.25 * 0.9 + 0.25 * 0.3, 0.5 * 0.5 + 0.25 * 0.1 + 0.25 * 0.7]],
        "router_soft": [[0.35, 0.65], [0.3, 0.7]],
        "router_top1": [[0.2, 0.8], [0.3, 0.7]],
        "oracle": [[0.6, 0.4], [0.3, 0.7]],  # U2 -> U expert, AS -> S expert
        "best_single": [[0.6, 0.4], [0.9, 0.1]],
        "baseline": [[0.5, 0.5], [1 / (1 + math.exp(-1)), 1 / (1 + math.exp(1))]],
    }
    for name, want in exact.items():
        np.testing.assert_allclose(fused[name], want, rtol=0, atol=1e-12, err_msg=name)
    # max of logits, class by class: [max(log .2, log .6, log .4), max(log .8, log .4, log .6)]
    m0 = [math.log(0.6), math.log(0.8)]
    np.testing.assert_allclose(fused["max_logits"][0], _softmax_row(m0), atol=1e-12)
    # mean of logits = log of the geometric mean, renormalised
    g0, g1 = (0.2 * 0.6 * 0.4) ** (1 / 3), (0.8 * 0.4 * 0.6) ** (1 / 3)
    np.testing.assert_allclose(fused["average_logits"][0], [g0 / (g0 + g1), g1 / (g0 + g1)], atol=1e-12)
    for name, probs in fused.items():
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(probs, _reference(name, inp), atol=1e-12, err_msg=name)


def test_random_tables_match_reference() -> None:
    rng = np.random.default_rng(0)
    for k in (2, 5):
        logits = rng.normal(0, 3, size=(40, 5, k))
        inp = FusionInputs(logits=logits, models=("R", "U1", "U2", "S", "baseline"),
                           router=normalise_router(rng.normal(size=(40, 4))), prior=rng.uniform(0.1, 1, 4),
                           categories=rng.choice(["R", "U1", "U2", "S"], 40).astype(object), best="U2")
        for name, probs in fuse_all(inp).items():
            np.testing.assert_allclose(probs, _reference(name, inp), atol=1e-12, err_msg=f"{name} K={k}")


def test_oracle_without_matching_expert_gives_no_prediction() -> None:
    inp = FusionInputs(logits=np.zeros((2, 2, 3)), models=("R", "S"), categories=np.array(["U1", "R"], dtype=object))
    probs = get_fusion("oracle")(inp)
    assert np.isnan(probs[0]).all() and not np.isnan(probs[1]).any()
    # K=3: interlens.metrics cannot yet score a binary task with failed (-1) predictions
    report = evaluate_fusion({"oracle": probs}, np.array([1, 0]), 3)
    assert report["rows"][0]["n_failed"] == 1 and report["rows"][0]["acc"] == 0.5


def test_unavailable_strategies_are_skipped_with_reason() -> None:
    inp = FusionInputs(logits=np.zeros((3, 3, 2)), models=("R", "U", "S"))
    skipped = skipped_strategies(inp)
    assert skipped == {"baseline": "no baseline logits", "prior_weighted": "no prior", "router_soft": "no router",
                       "router_top1": "no router", "oracle": "no categories", "best_single": "no best"}
    assert set(fuse_all(inp)) == {"average_logits", "average_probs", "max_logits"}
    with pytest.raises(DataError, match="no router"):
        fuse_all(inp, ["router_soft"])


def test_input_validation() -> None:
    with pytest.raises(DataError, match="router"):
        FusionInputs(logits=np.zeros((3, 3, 2)), models=("R", "U", "S"), router=np.ones((3, 2)))
    with pytest.raises(DataError, match="logits"):
        FusionInputs(logits=np.zeros((3, 2)), models=("R", "U"))
    with pytest.raises(DataError, match="prior"):
        FusionInputs(logits=np.zeros((3, 3, 2)), models=("R", "U", "S"), prior=np.array([1.0, -1.0, 1.0]))


def test_helpers() -> None:
    assert expert_for_category("U1", ("R", "U", "S")) == "U"
    assert expert_for_category("U1", ("R", "U1", "U2", "S")) == "U1"
    assert expert_for_category("AS", ("R", "U", "S")) == "S"
    assert expert_for_category("missing", ("R", "U", "S")) is None
    np.testing.assert_allclose(category_prior(["R", "U1", "U2", "AS", "missing"], ("R", "U", "S")),
                               [0.25, 0.5, 0.25])
    np.testing.assert_allclose(normalise_router(np.array([[0.0, 0.0, math.log(2)]])), [[0.25, 0.25, 0.5]])
    # best single expert: picked by F1 on the inputs given (validation), ties -> first
    logits = np.zeros((4, 3, 2))
    logits[:, 1, 1] = [5, 5, -5, -5]  # expert U is perfect on y below
    inp = FusionInputs(logits=logits, models=("R", "U", "S"))
    assert select_best_expert(inp, np.array([1, 1, 0, 0])) == "U"


def test_evaluate_fusion_binary_and_macro() -> None:
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    y = np.array([0, 1, 0, 1])
    report = evaluate_fusion({"x": probs}, y, 2, categories=["R", "R", "S", "S"])
    assert report["f1_average"] == "binary"
    row = report["rows"][0]
    assert row["acc"] == 0.5 and row["precision"] == 0.5 and row["recall"] == 0.5 and row["f1"] == 0.5
    assert report["per_interaction"]["x"]["R"] == {"n": 2, "f1": 1.0, "acc": 1.0, "macro_f1": 1.0}
    assert report["per_interaction"]["x"]["S"]["f1"] == 0.0
    three = evaluate_fusion({"x": np.eye(3)}, np.array([0, 1, 2]), 3)
    assert three["f1_average"] == "macro" and three["rows"][0]["f1"] == 1.0
    assert "| x | 100.00 |" in format_table(three)


# -- the MMoE authors' stored logits -------------------------------------------------------------------
@pytest.mark.shared_data
@pytest.mark.parametrize("model", ["albef", "qwen2-7b"])
def test_authors_logits_every_strategy_matches_reference(shared_data, model: str) -> None:
    data = load_authors_fusion(shared_data / "mmoe_rus", model)
    inp = data.inputs
    assert inp.logits.shape == (356, 4, 2)
    assert data.router_missing == []
    assert inp.router is not None and inp.categories is not None
    assert {c: int((inp.categories == c).sum()) for c in ("R", "U", "S")} == {"R": 213, "U": 109, "S": 34}
    assert data.prior_counts == {"R": 57, "U": 145, "S": 90}
    # best single cannot be chosen without validation logits: give it explicitly to test the strategy
    inp = FusionInputs(logits=inp.logits, models=inp.models, experts=inp.experts, router=inp.router,
                       prior=inp.prior, categories=inp.categories, best="U", ids=inp.ids)
    fused = fuse_all(inp)
    assert set(fused) == set(FUSION_STRATEGIES)
    for name, probs in fused.items():
        np.testing.assert_allclose(probs, _reference(name, inp), atol=1e-12, err_msg=f"{model} {name}")
    # the authors' baseline predictions are the argmax of its logits
    base = read_expert_jsonl(shared_data / "mmoe_rus/mustard_data/expert_inference_output/expert_albef/"
                                           "mustard_baseline_logits.jsonl")
    if model == "albef":
        assert (base.pred == base.logits.argmax(axis=1)).all()
        assert (fused["baseline"].argmax(axis=1) == inp.model_logits("baseline").argmax(axis=1)).all()
