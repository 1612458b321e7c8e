import numpy as np
import pytest

from interlens import Dataset, Sample
from interlens.errors import DataError


def _samples():
    return [Sample("a", {"text": "hi", "image": "x.png"}, "yes"), Sample("b", {"text": "yo", "image": "y.png"}, "no")]


def make(samples=None, **kw):
    args = {"name": "toy", "labels": ("no", "yes"), "samples": samples or _samples(), "modalities": ("text", "image"),
            "source": "toy.jsonl"}
    return Dataset(**(args | kw))


def test_y_and_split():
    ds = make(splits={"train": ["a"], "test": ["b"]})
    assert ds.y.tolist() == [1, 0]
    assert ds.split("test").ids == ["b"]
    assert ds.label_counts() == {"no": 1, "yes": 1}


@pytest.mark.parametrize(("samples", "splits", "message"), [
    ([Sample("a", {"text": "hi", "image": "p"}, "yes"), Sample("a", {"text": "x", "image": "p"}, "no")], {},
     "file toy.jsonl, record 1, field 'id': duplicate id 'a'"),
    ([Sample("a", {"text": "hi", "image": "p"}, "maybe")], {}, "field 'label': unknown label 'maybe'"),
    ([Sample("a", {"text": " ", "image": "p"}, "yes")], {}, "record 0 (id 'a'), field 'text': missing modality 'text'"),
    ([Sample("a", {"text": "hi"}, "yes")], {}, "field 'image': missing modality 'image'"),
    (None, {"test": []}, "split 'test' is empty"),
    (None, {"test": ["zz"]}, "split 'test' names 1 unknown ids"),
])
def test_bad_input_errors(samples, splits, message):
    with pytest.raises(DataError) as err:
        make(samples, splits=splits)
    assert message in str(err.value)


def test_fingerprint_tracks_content():
    a, b = make(), make()
    assert a.fingerprint() == b.fingerprint()
    changed = _samples()
    changed[0].inputs["text"] = "hello"
    assert make(changed).fingerprint() != a.fingerprint()
    with_array = [Sample("a", {"text": "t", "image": np.zeros((2, 2))}, "no")]
    other_array = [Sample("a", {"text": "t", "image": np.ones((2, 2))}, "no")]
    assert make(with_array).fingerprint() != make(other_array).fingerprint()


def test_unknown_split_names_available():
    with pytest.raises(DataError, match=r"no split 'dev'; available: \['train'\]"):
        make(splits={"train": ["a"]}).split("dev")
