"""The MME-JD paper's choices are the defaults (one test per choice); the earlier behaviour stays an option.

Sec. 4.2.1 rules select the counterfactuals that train MCTD / IDE / TDE; the router is trained with plain
cross-entropy, no re-weighting, and selected by F0.5 (Eq. 13, App. C.2); MID is tuned for F1 (Sec. 4.1);
the decision is the literal Eq. 5 argmax; alpha_c, beta_c are searched by Bayesian optimisation (Sec. 4.3.2,
App. C.2); the offline word relevance ignores words seen in fewer than 3 dev texts.
"""

import inspect

import numpy as np
import pytest
from sklearn.metrics import fbeta_score

from interlens.debias.core import mid_correct, mrid_correct
from interlens.debias.counterfactual import DEFAULT_MIN_WORD_COUNT, relevance_from_effects, word_relevance
from interlens.debias.evaluate import make_router, run_experiment
from interlens.debias.methods import search_route_weights, tune_mid
from interlens.debias.pipeline import run_mid
from interlens.debias.plan import ExperimentSettings
from interlens.errors import DataError
from interlens.experts.router import InteractionRouter

PAPER = ExperimentSettings()  # run_experiment's settings when none are given


def _default(fn, name):
    return inspect.signature(fn).parameters[name].default


def test_counterfactuals_are_selected_by_the_sec_421_rules():
    assert PAPER.cf_selection == "rule"
    from interlens.data.spurious import make_spurious
    from interlens.debias.counterfactual import pick_modalities
    from interlens.debias.methods import counterfactual_training_set

    ds = make_spurious(40, seed=0).split("train")
    mods = pick_modalities(ds)
    texts, images = ["t [MASK]"] * len(ds), [np.zeros((8, 8), np.float32)] * len(ds)
    cats = np.array(["none", "image", "text", "both", "excluded"] * 8)[: len(ds)]
    # IDE (Eq. 11): image cf of image/both samples only; TDE (Eq. 12): text cf of text/both only
    ide = counterfactual_training_set(ds, None, images, mods, categories=cats)
    tde = counterfactual_training_set(ds, texts, None, mods, categories=cats)
    assert ide.info["n_counterfactual"] == int(np.isin(cats, ["image", "both"]).sum())
    assert tde.info["n_counterfactual"] == int(np.isin(cats, ["text", "both"]).sum())
    # the option beyond the paper: every sample's counterfactual
    assert counterfactual_training_set(ds, None, images, mods).info["n_counterfactual"] == len(ds)


def test_router_is_plain_cross_entropy_without_reweighting_selected_by_f05():
    assert PAPER.router_loss == "ce"
    ce, focal = make_router().get_params(), make_router("focal").get_params()
    assert (ce["gamma"], ce["alpha"], ce["class_balanced"], ce["select"]) == (0.0, 1.0, False, "f0.5")
    assert (focal["gamma"], focal["class_balanced"], focal["select"]) == (2.0, True, "macro_f1")
    with pytest.raises(DataError, match="unknown router_loss 'ice'"):
        make_router("ice")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    y = np.array(["none", "image", "text"])[np.clip((X[:, 0] + 1.2).astype(int), 0, 2)]
    Xv = rng.normal(size=(60, 3))
    yv = np.array(["none", "image", "text"])[np.clip((Xv[:, 0] + 1.2).astype(int), 0, 2)]
    router = InteractionRouter(epochs=60, gamma=0.0, select="f0.5", classes=("none", "image", "text"))
    router.fit(X, y, X_val=Xv, y_val=yv)
    # the kept checkpoint is the one whose validation macro F0.5 is the logged best score
    f05 = fbeta_score(yv, router.predict(Xv), beta=0.5, average="macro", labels=["none", "image", "text"],
                      zero_division=0)
    assert router.log_["best_val_macro_f1"] == pytest.approx(f05)
    with pytest.raises(DataError, match="unknown router selection 'f2'"):
        InteractionRouter(select="f2").fit(X, y)


def test_mid_is_tuned_for_f1():
    assert PAPER.metric == "f1"
    assert _default(tune_mid, "metric") == "f1" and _default(run_mid, "metric") == "f1"
    p0 = np.array([[0.6, 0.4], [0.55, 0.45], [0.3, 0.7], [0.8, 0.2]])
    pt = np.array([[0.9, 0.1], [0.9, 0.1], [0.5, 0.5], [0.5, 0.5]])
    r = tune_mid(p0, np.full((4, 2), 0.5), pt, np.array([1, 1, 1, 0]), n_trials=12, seed=0)
    assert r["metric"] == "f1" and r["value"] == pytest.approx(1.0)  # beta large enough flips rows 0, 1


def test_decision_is_the_literal_eq5_argmax():
    assert PAPER.mid_normalise == "none"
    p0, pi, pt = np.array([[0.5, 0.5]]), np.array([[0.9, 0.1]]), np.array([[0.4, 0.6]])
    raw = mid_correct(p0, pi, pt, 1.0, 1.0)  # [0.5 - 0.9 - 0.4, 0.5 - 0.1 - 0.6] = [-0.8, -0.2]
    assert np.allclose(raw, [[-0.8, -0.2]]) and raw.argmax() == 1
    clipped = mid_correct(p0, pi, pt, 1.0, 1.0, normalise_how="clip")  # the option: all <= 0 -> uniform
    assert np.allclose(clipped, [[0.5, 0.5]]) and clipped.argmax() == 0
    r = mrid_correct(p0, pi, pt, ["both"], {"image": (0, 0), "text": (0, 0), "both": (1.0, 1.0)})
    assert np.allclose(r, raw)


def test_route_weights_by_bayesian_optimisation():
    assert PAPER.weight_search == "bo" and _default(search_route_weights, "search") == "bo"
    # only the text route is used: GE + beta * TDE must flip rows with y = 1 (beta > 0.24) but not
    # rows with y = 0 (beta < 0.52)
    ge = np.array([[0.62, 0.38]] * 4 + [[0.76, 0.24]] * 4)
    tde = np.array([[0.0, 1.0]] * 8)
    y = np.array([1] * 4 + [0] * 4)
    route = np.array(["text"] * 8, dtype=object)
    bo = search_route_weights(ge, ge, tde, y, route, metric="acc", n_trials=15, seed=0)
    assert bo["image"] == (0.0, 0.0) and bo["both"] == (0.0, 0.0) and bo["text"][0] == 0.0
    assert 0.24 < bo["text"][1] < 0.52
    grid = search_route_weights(ge, ge, tde, y, route, metric="acc", search="grid")
    assert grid["text"] == (0.0, pytest.approx(0.3))
    with pytest.raises(DataError, match="unknown weight search"):
        search_route_weights(ge, ge, tde, y, route, search="random")


def test_word_relevance_needs_a_minimum_word_frequency():
    assert DEFAULT_MIN_WORD_COUNT == 3
    assert _default(word_relevance, "min_count") == 3 and PAPER.min_word_count == 3
    effects = [{"lovely": 0.2, "jesy": 0.9}, {"lovely": 0.4}, {"lovely": 0.3, "the": 0.0}, {"the": 0.0}]
    assert relevance_from_effects(effects, 1) == {"jesy": 0.9, "lovely": pytest.approx(0.3), "the": 0.0}
    assert relevance_from_effects(effects, 3) == {"lovely": pytest.approx(0.3)}  # the one-off name is gone
    with pytest.raises(DataError, match="min_word_count"):
        relevance_from_effects(effects, 0)


def test_experiment_settings_are_typed_and_refused_in_one_line():
    assert ExperimentSettings.build(None, {"n_trials": 4, "weight_search": "grid"}).model_dump(mode="json") == {
        **PAPER.model_dump(mode="json"), "n_trials": 4, "weight_search": "grid"}
    base = ExperimentSettings.build(None, {"eps": 0.2})
    assert ExperimentSettings.build(base, {"top_k": 2}).eps == 0.2  # overrides keep the base's other settings
    with pytest.raises(DataError, match=r"unknown setting 'n_trial'\. Did you mean 'n_trials'\?"):
        ExperimentSettings.build(None, {"n_trial": 4})
    with pytest.raises(DataError, match=r"setting n_trials=0: Input should be greater than or equal to 1"):
        ExperimentSettings.build(None, {"n_trials": 0})
    with pytest.raises(DataError, match=r"setting metric='f2': Input should be 'acc', 'f1'"):
        ExperimentSettings.build(None, {"metric": "f2"})
    with pytest.raises(DataError, match=r"setting finetune_epochs='many'"):
        run_experiment(None, finetune_epochs="many")  # refused before the dataset is looked at
