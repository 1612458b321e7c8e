"""The planted-spurious-cue generator (data/spurious.py)."""

import numpy as np
import pytest

from interlens.data.spurious import IMAGE_CUE_LABEL, TEXT_CUE, TEXT_CUE_LABEL, affected_mask, make_spurious
from interlens.errors import DataError


def _share(ds, cue, label):  # among samples with only this cue (two cues vote against each other)
    rows = [s for s in ds if s.meta["cue"] == cue]
    return np.mean([s.label == label for s in rows]), len(rows)


def test_cues_are_planted_and_shift_between_splits():
    ds = make_spurious(1200, seed=3)
    assert make_spurious(1200, seed=3).fingerprint() == ds.fingerprint()
    tr, te = ds.split("train"), ds.split("test")
    share, n = _share(tr, "text", TEXT_CUE_LABEL)
    assert n > 80 and share > 0.85
    share, n = _share(tr, "image", IMAGE_CUE_LABEL)
    assert n > 80 and share > 0.85
    share, _ = _share(te, "text", TEXT_CUE_LABEL)
    assert 0.3 < share < 0.7
    for s in ds:
        assert (TEXT_CUE in s.inputs["text"]) == s.meta["text_cue"]
        if s.meta["image_cue"]:
            assert s.inputs["image"][:2, :2].min() == 1.0
        wrong = ((s.meta["text_cue"] and s.label != TEXT_CUE_LABEL)
                 or (s.meta["image_cue"] and s.label != IMAGE_CUE_LABEL))
        assert s.meta["affected"] == wrong
    a = affected_mask(te)
    assert a.dtype == bool and 0.15 < a.mean() < 0.5
    assert affected_mask(tr).mean() < 0.2  # "both" samples: the two cues always disagree


def test_spurious_errors():
    with pytest.raises(DataError, match="train_bias"):
        make_spurious(100, train_bias=1.5)
    from interlens.data.synthetic import make_synthetic
    with pytest.raises(DataError, match="affected"):
        affected_mask(make_synthetic(60))
