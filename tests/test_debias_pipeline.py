"""MID tuning (GP Bayesian optimisation vs grid), counterfactual training data and the end-to-end
debias experiment on the planted-spurious-cue data (small and fast)."""

import numpy as np

from interlens.data.spurious import make_spurious
from interlens.debias.core import mid_correct
from interlens.debias.counterfactual import pick_modalities
from interlens.debias.methods import counterfactual_training_set, mid_grid, reversed_label, tune_mid


def _fixed_problem(n=400, seed=0):
    """p0 is pulled towards a spurious class that the counterfactuals expose."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    cue = rng.integers(0, 2, n)
    logit = 1.2 * (2 * y - 1) + 1.5 * (2 * cue - 1) + rng.normal(0, 1, n)
    p1 = 1 / (1 + np.exp(-logit))
    p0 = np.c_[1 - p1, p1]
    pt = np.c_[np.where(cue == 1, 0.15, 0.85), np.where(cue == 1, 0.85, 0.15)]
    pi = np.full((n, 2), 0.5) + rng.normal(0, 0.05, (n, 1)) * [1, -1]
    return p0, pi, pt, y


def test_bo_reaches_grid_best_with_fewer_evaluations():
    p0, pi, pt, y = _fixed_problem()
    grid = mid_grid(p0, pi, pt, y, steps=21, metric="acc")
    bo = tune_mid(p0, pi, pt, y, n_trials=20, seed=0, metric="acc")
    assert bo["n_evaluations"] < grid["n_evaluations"]
    assert bo["value"] >= grid["best"]["value"] - 0.01
    base = float((p0.argmax(1) == y).mean())
    assert grid["best"]["value"] > base + 0.02  # the correction helps on this problem
    assert np.isclose(bo["value"], float((mid_correct(p0, pi, pt, bo["alpha"], bo["beta"]).argmax(1) == y).mean()))


def test_counterfactual_training_set_reverses_labels():
    ds = make_spurious(60, seed=1).split("train")
    texts = ["x [MASK]"] * len(ds)
    images = [np.zeros((8, 8), np.float32)] * len(ds)
    cats = np.array(["text", "image", "both", "none", "excluded"] * 6)[: len(ds)]
    aug = counterfactual_training_set(ds, texts, images, pick_modalities(ds), categories=cats)
    extra = aug.samples[len(ds):]
    assert len(extra) == sum({"text": 1, "image": 1, "both": 2}.get(c, 0) for c in cats)
    by_id = {s.id: s for s in ds}
    for s in extra:
        orig = by_id[s.id.split("#")[0]]
        assert s.label != orig.label
        if s.meta["counterfactual"] == "text":
            assert s.inputs["text"] == "x [MASK]" and not s.inputs["image"].any()
        else:
            assert s.inputs["text"] == "[MASK]"
    rng = np.random.default_rng(0)
    assert reversed_label(0, 2, rng) == 1
    assert all(reversed_label(2, 5, rng) != 2 for _ in range(20))
