"""The one softmax and the one torch thread guard (issue 29, item 5: torch plumbing written once)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax as scipy_softmax

from interlens.torch_utils import softmax, torch_threads


@pytest.mark.parametrize("axis", [-1, 0, 1, 2])
def test_softmax_agrees_with_scipy_at_any_scale(axis: int) -> None:
    x = np.random.default_rng(0).normal(size=(4, 3, 5)) * np.array([1e-3, 1.0, 800.0])[None, :, None]
    np.testing.assert_allclose(softmax(x, axis=axis), scipy_softmax(x, axis=axis), rtol=1e-12, atol=1e-300)
    assert np.isfinite(softmax(x, axis=axis)).all()  # 800-scale logits overflow a naive exp


def test_softmax_no_prediction_rows_are_nan_and_minus_inf_is_zero() -> None:
    x = np.array([[0.0, np.log(3.0)], [-np.inf, -np.inf], [np.nan, np.nan], [np.nan, 1.0], [-np.inf, 2.0],
                  [np.inf, 0.0]])
    out = softmax(x)
    np.testing.assert_allclose(out[0], [0.25, 0.75], rtol=1e-15)
    assert np.isnan(out[1:4]).all() and np.isnan(out[5]).all()
    assert out[4].tolist() == [0.0, 1.0]
    assert softmax(np.zeros((0, 3))).shape == (0, 3)
    assert softmax([1, 1]).dtype == np.float64 and softmax([1, 1]).tolist() == [0.5, 0.5]


def test_every_softmax_of_interlens_is_this_one() -> None:
    from interlens.experts import fusion
    from interlens.scoring import base

    assert base.softmax is softmax and fusion.softmax is softmax


def test_torch_threads_sets_and_restores_even_on_error() -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError, match="boom"), torch_threads(1):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before
