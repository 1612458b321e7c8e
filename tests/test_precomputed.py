"""Readers for precomputed predictions and the PrecomputedScorer; every bad input names file/record/field."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from interlens.data.schema import Dataset, Sample
from interlens.errors import DataError
from interlens.predictions import Predictions, check_same_ids
from interlens.scoring.precomputed import (
    PrecomputedScorer,
    detect_format,
    mintrec_label_order,
    mintrec_view,
    read_expert_logits,
    read_mintrec_removal,
    read_mmoe_unimodal,
    read_predictions,
    read_prob_table,
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# -- generic tables -------------------------------------------------------------------------------
def test_predictions_json_and_parquet_round_trip(tmp_path):
    pred = Predictions(["a", "b"], ("no", "yes"), np.array([[0.25, 0.75], [np.nan, np.nan]]), "text")
    for suffix in (".json", ".parquet"):
        back = read_prob_table(pred.save(tmp_path / f"p{suffix}"))
        assert back.ids == ["a", "b"] and back.labels == ("no", "yes") and back.view == "text"
        np.testing.assert_allclose(back.probs[0], [0.25, 0.75])
        assert np.isnan(back.probs[1]).all()
    with pytest.raises(DataError, match="holds view 'text', asked for 'image'"):
        read_prob_table(tmp_path / "p.json", view="image")


def test_csv_table_keeps_64bit_ids_and_missing_rows(tmp_path):
    path = write(tmp_path / "p.csv", "id,p_no,p_yes\n840006160660983809,0.1,0.9\n2,,\n")
    pred = read_prob_table(path, view="text")
    assert pred.ids == ["840006160660983809", "2"]
    assert pred.labels == ("no", "yes")
    np.testing.assert_allclose(pred.probs[0], [0.1, 0.9])
    assert pred.missing_ids == ["2"] and pred.meta["n_missing"] == 1


def test_jsonl_table_with_plain_label_columns(tmp_path):
    path = write(tmp_path / "p.jsonl",
                 '{"id": 7, "no": 0.4, "yes": 0.6}\n\n{"id": "8", "no": null, "yes": null}\n')
    pred = read_prob_table(path, labels=["no", "yes"], view="image")
    assert pred.ids == ["7", "8"] and pred.view == "image"
    np.testing.assert_allclose(pred.probs[0], [0.4, 0.6])
    assert pred.missing_ids == ["8"]


@pytest.mark.parametrize(
    ("name", "text", "kwargs", "message"),
    [
        ("a.csv", "key,p_a\nx,1\n", {}, r"field 'id': no id column 'id'"),
        ("a.csv", "id,p_a,p_b\nx,0.5,0.5\nx,0.5,0.5\n", {}, r"record line 3, field 'id': duplicate id 'x'"),
        ("a.csv", "id,p_a,p_b\nx,0.5,abc\n", {}, r"record line 2, field 'p_b': not a number: 'abc'"),
        ("a.csv", "id,p_a,p_b\nx,0.5,0.6\n", {}, r"record line 2, field 'probs': probabilities sum to 1.1"),
        ("a.csv", "id,p_a,p_b\nx,1.5,-0.5\n", {}, r"record line 2, field 'p_a': probability 1.5 outside"),
        ("a.csv", "id,p_a,p_b\nx,0.5,\n", {}, r"record line 2, field 'p_b': row has some but not all"),
        ("a.csv", "id,p_a,p_c\nx,0.5,0.5\n", {"labels": ["a", "b"]}, r"field 'p_c': unknown label 'c'"),
        ("a.csv", "id,x\n1,2\n", {}, r"no probability columns named p_<label>"),
        ("a.csv", "id,p_a,p_b\n,0.5,0.5\n", {}, r"record line 2, field 'id': missing id"),
        ("a.jsonl", '{"id": "x", "p_a": 1, "p_b": 0}\n{"id": "y", "p_a": 1\n', {},
         r"record line 2: malformed JSON"),
        ("a.jsonl", '{"id": "x", "p_a": 1, "p_b": 0}\n{"id": "y", "p_a": 1}\n', {},
         r"record line 2, field 'p_b': missing probability column"),
        ("a.jsonl", '{"id": 1.5, "p_a": 1, "p_b": 0}\n', {},
         r"field 'id': id must be a string or an integer"),
        ("a.jsonl", "[1, 2]\n", {}, r"record line 1: expected a JSON object"),
        ("a.txt", "x", {}, r"unsupported file type '.txt'"),
        ("a.json", "[1]", {}, r"expected a Predictions JSON object"),
        ("a.json", '{"ids": ["a"], "labels": ["x"]}', {}, r"field 'probs': missing key 'probs'"),
    ],
)
def test_table_errors(tmp_path, name, text, kwargs, message):
    path = write(tmp_path / name, text)
    with pytest.raises(DataError, match=message) as info:
        read_prob_table(path, **kwargs)
    assert str(path) in str(info.value)


def test_file_not_found(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_prob_table(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="file not found"):
        read_mmoe_unimodal(tmp_path / "nope.json", view="text")


# -- MMoE authors' unimodal predictions ---------------------------------------------------------
MMOE = {
    "1_60": {"logits": {"Yes": -1.2461845, "No": -0.43368447, "yes": -10000, "no": -10000}, "pred": 0},
    "1_70": {"logits": {"Yes": -1.0, "No": -1.0, "yes": -1.0, "no": -10000}, "pred": 1},
    "1_1470": {"logits": {"Yes": -10000, "No": -15.17, "yes": -10000, "no": -10000}, "pred": None},
    "1_3177": {"logits": {"Yes": -10000, "No": -10000, "yes": -10000, "no": -10000}, "pred": 0},
}


def test_mmoe_softmax_pred_none_and_sentinel(tmp_path):
    path = write(tmp_path / "text.json", json.dumps(MMOE))
    pred = read_mmoe_unimodal(path, view="text")
    assert pred.labels == ("No", "Yes") and pred.ids == list(MMOE)
    p_yes = sigmoid(-1.2461845 - -0.43368447)
    np.testing.assert_allclose(pred.probs[0], [1 - p_yes, p_yes])
    np.testing.assert_allclose(pred.probs[1], [0.5, 0.5])  # "yes" not merged by default
    assert np.isnan(pred.probs[2:]).all()
    assert pred.meta["pred_none"] == ["1_1470"]
    assert pred.meta["no_label_logprob"] == ["1_3177"]
    assert pred.meta["n_missing"] == 2
    # 1_70: the argmax is a tie (index 0) while pred says 1
    assert pred.meta["pred_disagrees_with_logits"] == ["1_70"]
    merged = read_mmoe_unimodal(path, view="text", merge_case=True, labels=("not", "sarcastic"))
    np.testing.assert_allclose(merged.probs[1], [1 / 3, 2 / 3])  # logsumexp(Yes, yes) = -1 + ln 2
    assert merged.labels == ("not", "sarcastic")
    assert merged.meta["pred_disagrees_with_logits"] == []


def test_mmoe_pred_only_file_is_one_hot(tmp_path):
    path = write(tmp_path / "sarc.json",
                 '{"840006160660983809": {"pred": 1}, "9": {"pred": 0}, "10": {"pred": null}}')
    pred = read_mmoe_unimodal(path, view="text")
    np.testing.assert_allclose(pred.probs[:2], [[0, 1], [1, 0]])
    assert pred.missing_ids == ["10"]
    assert pred.meta["probability_source"] == "one-hot from pred"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": {"pred": 0, "logits": {"Yes": -1, "No": -2}}', r"record line 1: malformed JSON at line 1"),
        ('{"a": {"pred": 0, "logits": {"Yes": -1, "No": -2}},\n'
         ' "a": {"pred": 1, "logits": {"Yes": -1, "No": -2}}}',
         r"record a, field 'id': duplicate id 'a'"),
        ('{"a": {"logits": {"Yes": -1, "No": -2}}}', r"record a, field 'pred': missing field"),
        ('{"a": {"pred": 0, "pred": 1}}', r"record a, field 'pred': duplicate key 'pred' inside a record"),
        ('{"a": {"pred": 0, "logits": {"Yes": -1, "No": -2}}, "b": {"pred": 0}}',
         r"record b, field 'logits': missing"),
        ('{"a": {"pred": 0, "logits": {"Yes": -1}}}',
         r"record a, field 'logits.No': missing label token 'No'"),
        ('{"a": {"pred": 2, "logits": {"Yes": -1, "No": -2}}}', r"record a, field 'pred': unknown label 2"),
        ('{"a": {"pred": "yes", "logits": {"Yes": -1, "No": -2}}}',
         r"record a, field 'pred': unknown label 'yes'"),
        ('{"a": {"pred": 0, "logits": {"Yes": "x", "No": -2}}}',
         r"record a, field 'logits.Yes': log-prob must be"),
        ('{"a": 3}', r"record a: expected an object"),
        ("[1, 2]", r"expected a JSON object keyed by id"),
    ],
)
def test_mmoe_errors(tmp_path, text, message):
    path = write(tmp_path / "bad.json", text)
    with pytest.raises(DataError, match=message) as info:
        read_mmoe_unimodal(path, view="text")
    assert str(path) in str(info.value)


# -- MMoE expert logits -------------------------------------------------------------------------
def expert_line(i, pred=0, target=1, logits=(0.5, -0.5)) -> str:
    return json.dumps({"image_id": i, "text": "t", "pred": pred, "target": target, "logits": list(logits)})


def test_expert_logits(tmp_path):
    path = write(tmp_path / "e.jsonl",
                 expert_line("2_223") + "\n" + expert_line("2_370", 1, 0, (0.0, 2.0)) + "\n")
    pred = read_expert_logits(path, view="text+image")
    assert pred.ids == ["2_223", "2_370"] and pred.labels == ("0", "1")
    np.testing.assert_allclose(pred.probs[:, 1], [sigmoid(-1.0), sigmoid(2.0)])
    assert pred.meta["targets"] == {"2_223": "1", "2_370": "0"}
    assert pred.meta["pred_disagrees_with_logits"] == []


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([expert_line("a"), '{"image_id": "b", "pred": 0'], r"record line 2: malformed JSON"),
        ([json.dumps({"image_id": "a", "pred": 0, "logits": [0, 1]})],
         r"record line 1, field 'target': missing"),
        ([expert_line("a"), expert_line("a")],
         r"record line 2, field 'image_id': duplicate id 'a' \(first at line 1\)"),
        ([expert_line("a", logits=(1, 2, 3))],
         r"record line 1, field 'logits': expected a list of 2 numbers"),
        ([expert_line("a", target=3)], r"record line 1, field 'target': unknown label 3"),
        ([expert_line(None)], r"record line 1, field 'image_id': id must be"),
    ],
)
def test_expert_errors(tmp_path, lines, message):
    path = write(tmp_path / "e.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(DataError, match=message):
        read_expert_logits(path, view="text")


# -- MIntRec modality-removal CSVs --------------------------------------------------------------
HEADER = "actual_label,predicted_label,true_label_prob,is_correct\n"
LABELS = ("Complain", "Praise", "Inform", "Thank")


def test_mintrec_constructed_probabilities(tmp_path):
    path = write(tmp_path / "mult_bert_text_video.csv", HEADER + "1,1,0.7,True\n2,0,0.25,False\n")
    pred = read_mintrec_removal(path, labels=LABELS, ids=["u1", "u2"])
    assert pred.view == "text+video"
    np.testing.assert_allclose(pred.probs[0], [0.1, 0.7, 0.1, 0.1])
    np.testing.assert_allclose(pred.probs[1], [0.75, 0.0, 0.25, 0.0])
    assert pred.predicted_labels() == ["Praise", "Complain"]
    assert pred.meta["targets"] == {"u1": "Praise", "u2": "Inform"}
    onehot = read_mintrec_removal(path, labels=LABELS, completion="onehot")
    assert onehot.ids == ["0", "1"]
    np.testing.assert_allclose(onehot.probs, [[0, 1, 0, 0], [1, 0, 0, 0]])
    blank = read_mintrec_removal(write(tmp_path / "x_bert_video.csv", HEADER + "1,0,,False\n1,1,,True\n"),
                                 labels=LABELS)
    np.testing.assert_allclose(blank.probs, [[1, 0, 0, 0], [0, 1, 0, 0]])
    assert blank.meta["no_true_label_prob"] == 2 and pred.meta["no_true_label_prob"] == 0
    assert mintrec_view("sdif_bert_all.csv") == "text+video+audio"
    assert mintrec_view("x/mult_bert_audio.csv") == "audio"


@pytest.mark.parametrize(
    ("body", "kwargs", "message"),
    [
        ("1,1,0.7\n", {}, None),  # header without is_correct, see below
        ("1,7,0.7,False\n", {}, r"record line 2, field 'predicted_label': unknown label '7'"),
        ("1,x,0.7,False\n", {}, r"record line 2, field 'predicted_label': unknown label 'x'"),
        ("1,1,0.7,True\n1,2,1.7,False\n", {}, r"record line 3, field 'true_label_prob': not a probability"),
        ("1,1,0.7,True\n1,2,0.2,True\n", {},
         r"record line 3, field 'is_correct': is_correct='True' contradicts"),
        ("1,2,0.6,False\n", {}, r"record line 2, field 'true_label_prob': gold class has probability 0.6"),
        ("1,1,0.2,True\n", {}, r"record line 2, field 'true_label_prob': gold class has probability 0.2 < 1/4"),
        ("1,1,0.7,True\n", {"ids": ["a", "b"]}, r"field 'id': 2 ids for 1 rows"),
        ("1,1,0.7,True\n", {"completion": "spread"}, r"unknown completion 'spread'"),
    ],
)
def test_mintrec_errors(tmp_path, body, kwargs, message):
    if message is None:
        path = write(tmp_path / "m_bert_text.csv", "actual_label,predicted_label,true_label_prob\n" + body)
        message = r"field 'is_correct': missing column"
    else:
        path = write(tmp_path / "m_bert_text.csv", HEADER + body)
    with pytest.raises(DataError, match=message):
        read_mintrec_removal(path, labels=LABELS, **kwargs)


def test_mintrec_label_order(tmp_path):
    tsv = write(tmp_path / "test.tsv", "text\tlabel\nhi\tPraise\nho\tComplain\nhu\tPraise\n")
    csv = write(tmp_path / "m_bert_all.csv", HEADER + "1,1,0.9,True\n0,1,0.1,False\n1,1,0.8,True\n")
    assert mintrec_label_order(tsv, csv) == ("Complain", "Praise")
    bad = write(tmp_path / "b_bert_all.csv", HEADER + "1,1,0.9,True\n0,1,0.1,False\n0,1,0.2,False\n")
    with pytest.raises(DataError, match="label map is not one-to-one"):
        mintrec_label_order(tsv, bad)
    gap = write(tmp_path / "g_bert_all.csv", HEADER + "2,2,0.9,True\n0,1,0.1,False\n2,1,0.2,False\n")
    with pytest.raises(DataError, match=r"class indices \[0, 2\] are not 0..1"):
        mintrec_label_order(tsv, gap)


# -- id sets, dispatch, scorer ------------------------------------------------------------------
def test_mismatched_id_sets_between_files(tmp_path):
    a = read_mmoe_unimodal(write(tmp_path / "t.json", '{"a": {"pred": 1}, "b": {"pred": 0}}'), view="text")
    b = read_mmoe_unimodal(write(tmp_path / "v.json", '{"a": {"pred": 1}, "c": {"pred": 0}}'), view="image")
    with pytest.raises(DataError, match=r"v\.json, field 'id': id sets differ from .*t\.json: 1 ids only"):
        check_same_ids(a, b)


def test_detect_format_and_dispatch(tmp_path):
    mmoe = write(tmp_path / "t.json", json.dumps(MMOE))
    expert = write(tmp_path / "e.jsonl", expert_line("a") + "\n")
    table = write(tmp_path / "p.csv", "id,p_a,p_b\nx,0.5,0.5\n")
    mintrec = write(tmp_path / "m_bert_text.csv", HEADER + "1,1,0.7,True\n")
    ours = Predictions(["a"], ("x", "y"), np.array([[0.5, 0.5]]), "text").save(tmp_path / "o.json")
    assert [detect_format(p) for p in (mmoe, expert, table, mintrec, ours)] == [
        "mmoe", "mmoe-expert", "table", "mintrec", "table"]
    assert read_predictions(mintrec, labels=LABELS).meta["format"] == "mintrec-removal"
    assert read_predictions(mmoe, view="text").meta["format"] == "mmoe"
    with pytest.raises(DataError, match="unknown format 'xml'"):
        read_predictions(table, format="xml")


def make_dataset() -> Dataset:
    samples = [Sample(i, {"text": f"t{i}", "image": f"i{i}"}, label) for i, label in
               [("a", "sarcastic"), ("b", "not"), ("c", "not")]]
    return Dataset("toy", ("sarcastic", "not"), samples, ("text", "image"))


def test_precomputed_scorer(tmp_path):
    text = write(tmp_path / "t.json", json.dumps({
        "c": {"pred": 0, "logits": {"Yes": -3.0, "No": -1.0}},
        "a": {"pred": 1, "logits": {"Yes": -1.0, "No": -2.0}},
        "b": {"pred": None, "logits": {"Yes": -1.0, "No": -2.0}}}))
    image = write(tmp_path / "v.json", '{"a": {"pred": 1}, "b": {"pred": 0}}')
    scorer = PrecomputedScorer({"text": text, "image": image}, format="mmoe",
                               label_map={"Yes": "sarcastic", "No": "not"})
    data = make_dataset()
    assert scorer.fit(data) is scorer and scorer.name == "precomputed"
    pred = scorer.predict_proba(data, "text")
    assert pred.ids == ["a", "b", "c"] and pred.labels == ("sarcastic", "not")
    np.testing.assert_allclose(pred.probs[0], [sigmoid(1.0), 1 - sigmoid(1.0)])
    np.testing.assert_allclose(pred.probs[2], [sigmoid(-2.0), 1 - sigmoid(-2.0)])
    assert np.isnan(pred.probs[1]).all() and pred.meta["n_missing"] == 1
    assert pred.scorer == scorer.fingerprint and pred.dataset == data.fingerprint()
    with pytest.raises(DataError, match=r"v\.json, field 'id': 1 ids have no prediction"):
        scorer.predict_proba(data, "image")
    lenient = PrecomputedScorer({"image": image}, format="mmoe", label_map={"Yes": "sarcastic", "No": "not"},
                                allow_missing=True)
    assert lenient.predict_proba(data, "image").missing_ids == ["c"]
    with pytest.raises(DataError, match=r"v\.json, field 'id': id sets differ from .*t\.json"):
        scorer.check_ids()
    with pytest.raises(DataError, match=r"field 'view': scorer 'precomputed' cannot honour view audio: no prediction "
                                        r"file for it; supported views: \['image', 'text'\]"):
        scorer.predict_proba(data, "audio")
    with pytest.raises(DataError, match=r"t\.json, field 'labels': prediction labels \['No', 'Yes'\] do not match "
                                        r"the dataset's \['sarcastic', 'not'\]"):
        PrecomputedScorer({"text": text}, format="mmoe").predict_proba(data, "text")


def test_fingerprint_tracks_content_and_paths(tmp_path):
    path = write(tmp_path / "p.csv", "id,p_a,p_b\nx,0.5,0.5\n")
    first = PrecomputedScorer({"text": path}).fingerprint
    assert PrecomputedScorer({"text": path}).fingerprint == first
    write(path, "id,p_a,p_b\nx,0.4,0.6\n")
    assert PrecomputedScorer({"text": path}).fingerprint != first
    assert PrecomputedScorer({"image": path}).fingerprint != PrecomputedScorer({"text": path}).fingerprint
    in_memory = Predictions(["x"], ("a", "b"), np.array([[0.4, 0.6]]), "text")
    assert len(PrecomputedScorer({"text": in_memory}).fingerprint) == 16


# -- the Scorer contract ----------------------------------------------------------------------------
def _ours(tmp_path: Path, name: str, ids, labels, probs, view: str) -> Path:
    return Predictions(list(ids), tuple(labels), np.array(probs, dtype=float), view).save(tmp_path / name)


def test_registered_contract_basics(tmp_path):
    from interlens.data.schema import KINDS
    from interlens.scoring.base import Scorer, clone, softmax
    from interlens.scoring.registry import make_scorer, scorer_class

    data = make_dataset()
    text = _ours(tmp_path, "t.json", ["a", "b", "c"], ("sarcastic", "not"), [[0.9, 0.1], [np.nan, np.nan], [1, 0]],
                 "text")
    vision = _ours(tmp_path, "v.json", ["c", "b", "a"], ("sarcastic", "not"), [[0.2, 0.8], [0.5, 0.5], [0.3, 0.7]],
                   "vision")
    scorer = make_scorer("precomputed", files={"text": str(text), "vision": str(vision)})
    assert isinstance(scorer, Scorer) and scorer_class("precomputed") is PrecomputedScorer
    assert scorer.capabilities == frozenset() and scorer.modality_kinds == frozenset(KINDS)
    # exactly the views with a file, even one the dataset lacks ("vision")
    assert [str(v) for v in scorer.supported_views(data)] == ["text", "vision"]
    assert scorer.usable_modalities(data) == ["text", "vision"]
    assert not scorer.is_fitted
    before = scorer.fingerprint
    assert scorer.fit(data, ["text", "vision"]) is scorer and scorer.is_fitted
    assert scorer.fingerprint != before and scorer.get_params()["files"] == {"text": str(text), "vision": str(vision)}
    assert not clone(scorer).is_fitted
    pred = scorer.predict_proba(data, "vision")
    np.testing.assert_allclose(pred.probs, [[0.3, 0.7], [0.5, 0.5], [0.2, 0.8]])
    logits = scorer.logits(data, "text")
    np.testing.assert_allclose(logits[0], np.log([0.9, 0.1]))
    assert logits[2].tolist() == [0.0, -np.inf] and np.isnan(logits[1]).all()
    back = softmax(logits)
    np.testing.assert_allclose(back[[0, 2]], [[0.9, 0.1], [1.0, 0.0]])
    assert np.isnan(back[1]).all()
    with pytest.raises(DataError, match="cannot honour view text\\+image"):
        scorer.fit(data, ["text+image"])


def test_label_order_is_matched_by_name(tmp_path):
    data = make_dataset()
    probs = [[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]]
    ordered = _ours(tmp_path, "o.json", ["a", "b", "c"], ("sarcastic", "not"), probs, "text")
    permuted = _ours(tmp_path, "p.json", ["c", "a", "b"], ("not", "sarcastic"), [[0.8, 0.2], [0.1, 0.9], [0.6, 0.4]],
                     "text")
    a = PrecomputedScorer({"text": ordered}).predict_proba(data, "text")
    b = PrecomputedScorer({"text": permuted}).predict_proba(data, "text")
    np.testing.assert_array_equal(a.probs, b.probs)
    np.testing.assert_allclose(a.probs, probs)


def test_other_label_names_refused_or_mapped(tmp_path):
    data = make_dataset()
    path = _ours(tmp_path, "yn.json", ["a", "b", "c"], ("yes", "no"), [[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]], "text")
    with pytest.raises(DataError) as info:
        PrecomputedScorer({"text": path}).predict_proba(data, "text")
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    assert "prediction labels ['yes', 'no'] do not match the dataset's ['sarcastic', 'not']" in message
    mapped = PrecomputedScorer({"text": path}, label_map={"no": "not", "yes": "sarcastic"})
    np.testing.assert_allclose(mapped.predict_proba(data, "text").probs[:, 0], [0.9, 0.4, 0.2])


def test_invalid_probabilities_in_memory_refused():
    data = make_dataset()
    bad = Predictions(["a", "b", "c"], ("sarcastic", "not"), np.array([[1.5, -0.5], [0.5, 0.5], [0.5, 0.5]]), "text")
    with pytest.raises(DataError, match=r"record id a, field 'probs': probability outside \[0, 1\]"):
        PrecomputedScorer({"text": bad}).predict_proba(data, "text")
    off = Predictions(["a", "b", "c"], ("sarcastic", "not"), np.array([[0.5, 0.6], [0.5, 0.5], [0.5, 0.5]]), "text")
    with pytest.raises(DataError, match=r"record id a, field 'probs': probabilities sum to 1.1, not 1"):
        PrecomputedScorer({"text": off}).predict_proba(data, "text")


def test_files_option_as_cli_json(tmp_path):
    from interlens.cli.options import build_scorer

    path = _ours(tmp_path, "t.json", ["a", "b", "c"], ("sarcastic", "not"), [[0.9, 0.1]] * 3, "text")
    scorer = build_scorer("precomputed", [f'files={{"text": "{path}"}}', 'label_map={"x": "y"}'])
    assert scorer.files == {"text": str(path)} and scorer.label_map == {"x": "y"}
    with pytest.raises(DataError, match=r"field 'files': files must map a view to a prediction file"):
        build_scorer("precomputed", [f"files={path}"])
    with pytest.raises(DataError, match="unknown option 'file' for scorer 'precomputed'. Did you mean 'files'"):
        build_scorer("precomputed", [f'file={{"text": "{path}"}}'])


def test_cached_predict_serves_views_the_dataset_lacks(tmp_path):
    from interlens.cache import PredictionCache
    from interlens.scoring.base import cached_predict

    data = make_dataset()
    path = _ours(tmp_path, "v.json", ["c", "b", "a"], ("sarcastic", "not"), [[0.2, 0.8], [0.5, 0.5], [0.3, 0.7]],
                 "vision")
    scorer = PrecomputedScorer({"vision": path})
    with PredictionCache(tmp_path / "c.sqlite") as cache:
        first = cached_predict(scorer, data, "vision", cache=cache, batch_size=2)
        second = cached_predict(scorer, data, "vision", cache=cache)
    assert first.meta["computed"] == 3 and second.meta["cached"] == 3
    np.testing.assert_allclose(second.probs, [[0.3, 0.7], [0.5, 0.5], [0.2, 0.8]])


def test_mintrec_rows_checked_against_gold(tmp_path):
    samples = [Sample(f"u{i}", {"text": "t"}, label) for i, label in enumerate(["Praise", "Inform"])]
    data = Dataset("intents", LABELS, samples, ("text",))
    path = write(tmp_path / "m_bert_text.csv", HEADER + "1,1,0.7,True\n2,0,0.25,False\n")
    scorer = PrecomputedScorer({"text": path}, index_labels=True)
    np.testing.assert_allclose(scorer.predict_proba(data, "text").probs[0], [0.1, 0.7, 0.1, 0.1])
    shuffled = write(tmp_path / "s_bert_text.csv", HEADER + "2,0,0.25,False\n1,1,0.7,True\n")
    with pytest.raises(DataError, match=r"s_bert_text\.csv, record id u0, field 'label': the file's gold label "
                                        r"'Inform' differs from the dataset's 'Praise'"):
        PrecomputedScorer({"text": shuffled}, index_labels=True).predict_proba(data, "text")
    with pytest.raises(DataError, match="numbers its classes: pass index_labels=true"):
        PrecomputedScorer({"text": path}).predict_proba(data, "text")
