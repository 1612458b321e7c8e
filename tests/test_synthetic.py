import numpy as np
import pytest

from interlens.data.synthetic import SYNONYMS, TYPE_CODE, ground_truth, make_synthetic
from interlens.errors import DataError


@pytest.fixture(scope="module")
def data():
    return make_synthetic(n=600, seed=3)


def test_deterministic_and_seed_sensitive(data):
    again = make_synthetic(n=600, seed=3)
    assert again.fingerprint() == data.fingerprint()
    assert make_synthetic(n=600, seed=4).fingerprint() != data.fingerprint()


def test_planted_rules_hold(data):
    k = len(data.labels)
    for s in data.samples:
        y, t, i, kind = data.labels.index(s.label), s.meta["c_text"], s.meta["c_image"], s.meta["interaction"]
        assert (t == y, i == y) == {"R": (True, True), "U1": (True, False), "U2": (False, True),
                                    "S": (False, False)}[kind]
        if kind == "S":
            assert (t + i) % k == y
        assert (s.meta["text_style"] + s.meta["image_style"]) % 4 == TYPE_CODE[kind]
        assert any(word in s.inputs["text"] for word in SYNONYMS[data.labels[t]])  # text names c_text


def test_each_style_alone_is_independent_of_type(data):
    truth = ground_truth(data)
    styles = np.array([s.meta["text_style"] for s in data.samples])
    for style in range(4):  # every style occurs with every type
        assert set(truth[styles == style]) == {"R", "U1", "U2", "S"}


def test_splits_and_shapes(data):
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 360, "dev": 120, "test": 120}
    image = data.samples[0].inputs["image"]
    assert image.shape == (8, 8) and image.min() >= 0.0 and image.max() <= 1.0


def test_bad_parameters():
    with pytest.raises(DataError, match="n_classes must be between 3 and 10"):
        make_synthetic(n_classes=2)
    with pytest.raises(DataError, match="proportions must map"):
        make_synthetic(proportions={"X": 1.0})
