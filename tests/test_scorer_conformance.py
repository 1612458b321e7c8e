"""Conformance suite: every registered scorer, in a tiny real configuration, honours the contract of
:class:`interlens.scoring.base.Scorer` (scikit-learn ``check_estimator`` / timm registry-test habit)."""

from __future__ import annotations

import numpy as np
import pytest

from interlens.cache import PredictionCache
from interlens.errors import DataError
from interlens.scoring.base import Capability, CapabilityError, Scorer, cached_predict, clone, fingerprint_of
from interlens.scoring.registry import registered_scorers, scorers_with
from tests.scorer_zoo import UNSUPPORTED_VIEW, ZOO, conformance_dataset, make

NAMES = sorted(ZOO)


def test_every_registered_scorer_has_a_tiny_config() -> None:
    assert sorted(registered_scorers()) == NAMES


def _params_key(scorer: Scorer) -> str:
    return fingerprint_of(scorer._hashable_params())


@pytest.fixture(scope="module")
def data():
    return conformance_dataset()


@pytest.fixture(scope="module", params=NAMES)
def fitted(request, data):
    """(name, unfitted params key, fitted scorer, fingerprint before fit, fit's return value)."""
    name = request.param
    scorer = make(name)
    before_params, before_fp = _params_key(scorer), scorer.fingerprint
    views = list(ZOO[name][1])
    returned = scorer.fit(data.split("train"), views, val=data.split("dev"))
    return name, before_params, scorer, before_fp, returned


def test_fit_returns_self_and_keeps_parameters(fitted) -> None:
    name, before_params, scorer, _, returned = fitted
    assert returned is scorer
    assert _params_key(scorer) == before_params, f"{name}: fit changed constructor parameters"


def test_fingerprint_changes_after_fit(fitted) -> None:
    name, _, scorer, before_fp, _ = fitted
    if Capability.TRAINABLE in scorer.capabilities:
        assert scorer.fingerprint != before_fp
    assert scorer.is_fitted


def test_predict_matches_ids_labels_view_and_does_not_mutate(fitted, data) -> None:
    name, _, scorer, _, _ = fitted
    test = data.split("test")
    view = ZOO[name][1][0]
    fp, params = scorer.fingerprint, _params_key(scorer)
    preds = scorer.predict_proba(test, view)
    assert preds.ids == test.ids and tuple(preds.labels) == test.labels and preds.view == view
    assert preds.probs.shape == (len(test), len(test.labels))
    np.testing.assert_allclose(preds.probs.sum(axis=1), 1.0, atol=1e-6)
    assert scorer.fingerprint == fp and _params_key(scorer) == params
    again = scorer.predict_proba(test, view)
    np.testing.assert_array_equal(preds.probs, again.probs)


def test_two_supported_views_give_different_outputs(fitted, data) -> None:
    name, _, scorer, _, _ = fitted
    a, b = ZOO[name][1]
    supported = [str(v) for v in scorer.supported_views(data)]
    assert a in supported and b in supported
    pa, pb = scorer.predict_proba(data, a).probs, scorer.predict_proba(data, b).probs
    assert not np.allclose(pa, pb), f"{name}: views {a} and {b} give identical predictions"


def test_unsupported_view_is_refused(fitted, data) -> None:
    name, _, scorer, _, _ = fitted
    supported = {str(v) for v in scorer.supported_views(data)}
    refused = UNSUPPORTED_VIEW.get(name, "clip")  # audio, which only audio scorers read (they refuse the image)
    assert refused not in supported
    with pytest.raises(DataError, match=f"cannot honour view {refused}"):
        scorer.predict_proba(data, refused)


def test_fingerprint_differs_per_view(fitted) -> None:
    name, _, scorer, _, _ = fitted
    a, b = ZOO[name][1]
    assert scorer.view_fingerprint(a) != scorer.view_fingerprint(b)


def test_batch_size_invariance(fitted, data) -> None:
    name, _, scorer, _, _ = fitted
    if "batch_size" not in scorer.param_names():
        pytest.skip(f"{name} has no batch_size parameter")
    view = ZOO[name][1][1]
    reference = scorer.predict_proba(data, view).probs
    original = scorer.batch_size
    try:
        for size in (1, 5):
            scorer.batch_size = size
            np.testing.assert_allclose(scorer.predict_proba(data, view).probs, reference, atol=2e-5,
                                       err_msg=f"{name}: batch_size {size} changes scores")
    finally:
        scorer.batch_size = original


def test_cache_round_trip(fitted, data, tmp_path) -> None:
    name, _, scorer, _, _ = fitted
    view = ZOO[name][1][0]
    with PredictionCache(tmp_path / "c.sqlite") as cache:
        first = cached_predict(scorer, data, view, cache=cache, batch_size=7)
        second = cached_predict(scorer, data, view, cache=cache)
    assert first.meta["computed"] == len(data) and second.meta["computed"] == 0
    np.testing.assert_allclose(first.probs, second.probs)
    np.testing.assert_allclose(first.probs, scorer.predict_proba(data, view).probs, atol=1e-6)  # float32 models


def test_clone_keeps_parameters_and_is_unfitted(fitted) -> None:
    name, _, scorer, _, _ = fitted
    copy = clone(scorer)
    assert type(copy) is type(scorer) and _params_key(copy) == _params_key(scorer)
    assert not copy.is_fitted
    if "seed" in scorer.param_names():
        assert clone(scorer, seed=7).seed == 7
    with pytest.raises(DataError, match="unknown option"):
        clone(scorer, not_a_param=1)


def test_capability_methods_present_exactly_when_declared(fitted, data) -> None:
    name, _, scorer, _, _ = fitted
    caps = scorer.capabilities
    train, test = data.split("train"), data.split("test")
    view = ZOO[name][1][0]
    if Capability.FINETUNE in caps:
        expert = scorer.finetune(train.subset(train.ids[:6]), view, val=data.split("dev"))
        assert isinstance(expert, Scorer) and expert is not scorer
        assert expert.fingerprint != scorer.fingerprint
        assert expert.predict_proba(test, view).probs.shape == (len(test), 2)
    else:
        with pytest.raises(CapabilityError, match=f"scorer '{name}' lacks capability 'finetune'"):
            scorer.finetune(train, view)
    if Capability.FEATURES in caps:
        feats = scorer.features(test)
        assert isinstance(feats, np.ndarray) and feats.ndim == 2 and feats.shape[0] == len(test)
        assert np.isfinite(feats).all()
    else:
        with pytest.raises(CapabilityError, match="lacks capability 'features'"):
            scorer.features(test)
    if Capability.INPUT_GRADIENTS not in caps:
        with pytest.raises(CapabilityError, match="lacks capability 'input_gradients'"):
            scorer.input_gradients(test, view, view)


def test_zero_shot_exactly_when_declared(data) -> None:
    for name in NAMES:
        scorer = make(name)
        test = data.split("test")
        if Capability.ZERO_SHOT in scorer.capabilities:
            preds = scorer.predict_proba(test, ZOO[name][1][0])
            assert preds.probs.shape == (len(test), 2) and np.isfinite(preds.probs).all()
        elif Capability.TRAINABLE in scorer.capabilities:
            with pytest.raises(DataError, match="not fitted"):
                scorer.predict_proba(test, ZOO[name][1][0])


def test_capability_error_names_scorer_capability_and_alternatives() -> None:
    from interlens.scoring.base import require

    scorer = make("precomputed")
    with pytest.raises(CapabilityError) as err:
        require(scorer, Capability.FINETUNE, "MMoE experts")
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith("scorer 'precomputed' lacks capability 'finetune' needed for MMoE experts")
    for other in scorers_with(Capability.FINETUNE):
        assert other in text


def test_unknown_scorer_and_option_suggest_names() -> None:
    from interlens.errors import RegistryError
    from interlens.scoring.registry import make_scorer

    with pytest.raises(RegistryError, match="Did you mean 'minilm-ft'"):
        make_scorer("minilm_ft")
    with pytest.raises(DataError, match="Did you mean 'epochs'"):
        make_scorer("embedding", epoch=3)
