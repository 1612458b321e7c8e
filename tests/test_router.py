"""The interaction router (MMoE Sec. 3.3, App. H): focal loss and the classifier."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from interlens.errors import DataError
from interlens.experts.router import (
    InteractionRouter,
    balanced_class_weights,
    focal_loss,
    router_confusion,
)


def test_focal_loss_matches_hand_computation() -> None:
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]], dtype=torch.float64)
    target = torch.tensor([0, 2])
    by_hand = []
    for row, t in zip(logits.tolist(), target.tolist(), strict=True):
        p_t = math.exp(row[t]) / sum(math.exp(v) for v in row)
        by_hand.append(-1.0 * (1 - p_t) ** 2 * math.log(p_t))  # alpha = 1, gamma = 2 (MMoE App. H)
    got = focal_loss(logits, target, reduction="none")
    np.testing.assert_allclose(got.numpy(), by_hand, rtol=1e-12)
    assert float(focal_loss(logits, target)) == pytest.approx(sum(by_hand) / 2, rel=1e-12)
    assert float(focal_loss(logits, target, reduction="sum")) == pytest.approx(sum(by_hand), rel=1e-12)
    # per-class alpha: alpha_t = alpha[target]
    alpha = torch.tensor([0.5, 1.0, 3.0], dtype=torch.float64)
    np.testing.assert_allclose(focal_loss(logits, target, alpha=alpha, reduction="none").numpy(),
                               [0.5 * by_hand[0], 3.0 * by_hand[1]], rtol=1e-12)


def test_focal_loss_gamma0_is_cross_entropy() -> None:
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(50, 4, generator=gen, dtype=torch.float64)
    target = torch.randint(0, 4, (50,), generator=gen)
    ce = torch.nn.functional.cross_entropy(logits, target)
    assert float(focal_loss(logits, target, alpha=1.0, gamma=0.0)) == pytest.approx(float(ce), rel=1e-12)


def test_focal_loss_down_weights_easy_examples() -> None:
    easy = focal_loss(torch.tensor([[5.0, 0.0]], dtype=torch.float64), torch.tensor([0]))
    ce_easy = torch.nn.functional.cross_entropy(torch.tensor([[5.0, 0.0]], dtype=torch.float64), torch.tensor([0]))
    assert float(easy) < 0.01 * float(ce_easy)


def _blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = {"R": [6.0, 0.0], "U": [-6.0, 0.0], "S": [0.0, 6.0]}
    names = rng.choice(list(centres), size=n, p=[0.6, 0.3, 0.1])  # imbalanced, like MMoE's types
    X = np.array([centres[c] for c in names]) + rng.normal(0, 0.5, size=(n, 2))
    X = np.concatenate([X, rng.normal(size=(n, 3))], axis=1)  # irrelevant features
    return X, names


@pytest.mark.parametrize("kind", ["mlp", "linear", "logreg"])
def test_router_learns_separable_problem(kind: str) -> None:
    X, y = _blobs(300, 0)
    X_val, y_val = _blobs(100, 1)
    X_test, y_test = _blobs(200, 2)
    router = InteractionRouter(kind=kind, epochs=200, seed=0, classes=("R", "U", "S")).fit(X, y)
    if kind != "logreg":  # validation selection (MMoE App. I.3): keeps the best-F1 checkpoint
        selected = InteractionRouter(kind=kind, epochs=200, seed=0).fit(X, y, X_val=X_val, y_val=y_val)
        assert selected.log_["best_val_macro_f1"] == 1.0 and selected.log_["best_epoch"] < 200
    probs = router.predict_proba(X_test)
    assert probs.shape == (200, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)
    report = router.confusion_matrix(X_test, y_test)
    assert report["acc"] == 1.0 and report["macro_f1"] == 1.0
    assert report["classes"] == ["R", "U", "S"]
    assert np.trace(np.array(report["matrix"])) == 200


def test_router_is_seeded_and_class_balanced_option() -> None:
    X, y = _blobs(200, 3)
    a = InteractionRouter(epochs=50, seed=7).fit(X, y).predict_proba(X)
    b = InteractionRouter(epochs=50, seed=7).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    r = InteractionRouter(epochs=50, class_balanced=True, seed=0).fit(X, y)
    assert r.classes_ == ("R", "S", "U")  # sorted when not given
    np.testing.assert_allclose(balanced_class_weights(np.array([0, 0, 0, 1]), 3), [4 / 6, 4 / 2, 0.0])


def test_router_absent_class_and_errors() -> None:
    X, y = _blobs(100, 4)
    keep = y != "S"
    router = InteractionRouter(epochs=30, classes=("R", "U", "S")).fit(X[keep], y[keep])
    assert router.predict_proba(X).shape == (100, 3)  # S has a column, though never trained
    with pytest.raises(DataError, match="not router classes"):
        InteractionRouter(classes=("R", "U")).fit(X, y)
    with pytest.raises(DataError, match="not fitted"):
        InteractionRouter().predict_proba(X)
    with pytest.raises(DataError, match="shape"):
        router.predict_proba(X[:, :2])
    with pytest.raises(DataError, match="unknown router kind"):
        InteractionRouter(kind="forest").fit(X, y)


def test_router_confusion_layout() -> None:
    report = router_confusion(["R", "R", "S", "U"], ["R", "S", "S", "R"], ["R", "U", "S"])
    assert report["matrix"] == [[1, 0, 1], [1, 0, 0], [0, 0, 1]]  # rows: true R, U, S
    assert report["acc"] == 0.5
    assert report["recall"] == {"R": 0.5, "U": 0.0, "S": 1.0}
    assert report["predicted_share"] == {"R": 0.5, "U": 0.0, "S": 0.5}
