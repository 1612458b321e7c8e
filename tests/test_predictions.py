import numpy as np
import pytest

from interlens import Predictions
from interlens.errors import DataError
from interlens.predictions import check_same_ids


def pred(ids=("a", "b", "c"), view="text"):
    probs = np.array([[0.2, 0.8], [np.nan, np.nan], [0.6, 0.4]])[: len(ids)]
    return Predictions(list(ids), ("no", "yes"), probs, view, "s1", "d1", meta={"source": f"{view}.json"})


def test_argmax_and_missing():
    p = pred()
    assert p.argmax().tolist() == [1, -1, 0]
    assert p.predicted_labels() == ["yes", None, "no"]
    assert p.missing_ids == ["b"]


def test_align_reorders_and_reports_absent_ids():
    p = pred()
    assert p.align(["c", "a"]).argmax().tolist() == [0, 1]
    with pytest.raises(DataError, match=r"file text.json, field 'id': 1 ids have no prediction .* \['zz'\]"):
        p.align(["a", "zz"])
    assert np.isnan(p.align(["zz"], allow_missing=True).probs).all()


@pytest.mark.parametrize("suffix", [".json", ".parquet"])
def test_save_load_round_trip(tmp_path, suffix):
    p = pred()
    q = Predictions.load(p.save(tmp_path / f"p{suffix}"))
    assert q.ids == p.ids and q.labels == p.labels and q.view == p.view and q.scorer == "s1"
    np.testing.assert_array_equal(np.isnan(q.probs), np.isnan(p.probs))
    np.testing.assert_allclose(np.nan_to_num(q.probs), np.nan_to_num(p.probs))
    assert not list(tmp_path.glob(".*tmp"))  # atomic write leaves no temporary file


def test_shape_and_duplicate_errors():
    with pytest.raises(DataError, match=r"probs has shape \(1, 2\), expected \(2, 2\)"):
        Predictions(["a", "b"], ("no", "yes"), np.zeros((1, 2)), "text")
    with pytest.raises(DataError, match="duplicate id 'a'"):
        Predictions(["a", "a"], ("no", "yes"), np.zeros((2, 2)), "text")


def test_mismatched_id_sets_name_both_files():
    with pytest.raises(DataError, match=r"file image.json, field 'id': id sets differ from text.json: 1 ids only in "
                                        r"text.json \(e.g. \['c'\]\)"):
        check_same_ids(pred(), pred(("a", "b"), view="image"))


def test_align_labels_by_name_and_label_map():
    p = pred()
    q = p.align_to(["c", "a"], ("yes", "no"))
    np.testing.assert_allclose(q.probs, [[0.4, 0.6], [0.8, 0.2]])
    assert q.labels == ("yes", "no") and p.align_labels(("no", "yes")) is p
    with pytest.raises(DataError) as info:
        p.align_labels(("not_sarcastic", "sarcastic"))
    assert str(info.value) == ("file text.json, field 'labels': prediction labels ['no', 'yes'] do not match the "
                               "dataset's ['not_sarcastic', 'sarcastic'] (only in the file: ['no', 'yes']; only in "
                               "the dataset: ['not_sarcastic', 'sarcastic']); map them with label_map")
    mapped = p.align_labels(("sarcastic", "not"), label_map={"yes": "sarcastic", "no": "not"})
    np.testing.assert_allclose(mapped.probs[0], [0.8, 0.2])
    with pytest.raises(DataError, match="repeat a name"):
        p.align_labels(("a",), label_map={"yes": "a", "no": "a"})


def test_check_probs():
    assert pred().check_probs().ids == ["a", "b", "c"]  # an all-NaN row is "no prediction"
    bad = Predictions(["a"], ("no", "yes"), np.array([[0.7, 0.7]]), "text", meta={"source": "t.json"})
    with pytest.raises(DataError, match=r"file t\.json, record id a, field 'probs': probabilities sum to 1.4"):
        bad.check_probs()
