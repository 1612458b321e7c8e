import json

import numpy as np
import pytest

from interlens import Predictions
from interlens.data.synthetic import ground_truth, make_synthetic
from interlens.errors import DataError
from interlens.measure import measure_interactions, per_interaction_metrics, write_report
from interlens.scoring.embedding import EmbeddingScorer


def test_synthetic_categories_recover_planted_types(tmp_path):
    """The issue's must-show, on the demo's default data: agreement with the planted truth >= 0.90."""
    data = make_synthetic(n=2000, seed=0)
    report = measure_interactions(data, EmbeddingScorer(seed=0), modalities=("text", "image"))
    truth = ground_truth(data.split("test"))
    accuracy = float(np.mean(report.categories == truth))
    assert accuracy >= 0.90, accuracy
    assert sum(report.counts[c] for c in ("R", "U1", "U2", "S")) == 400
    assert report.categorization["steps"]["filter"] is False  # test split: train-only steps are off
    assert 0.9 < report.scores["exact"].score < 1.6  # R 40 % / U 40 % / S 20 % planted
    assert report.per_interaction["R"]["acc"] > report.per_interaction["S"]["acc"]
    paths = write_report(report, tmp_path, extra={"categorization_accuracy": accuracy})
    saved = json.loads(paths["results"].read_text())
    assert saved["categorization_accuracy"] == accuracy and len(saved["samples"]) == 400
    assert {p.name for p in tmp_path.glob("*.png")} == {"interaction_counts.png", "per_interaction.png",
                                                         "interaction_score.png"}
    assert "## Interaction score (MINT Eq. 1)" in paths["report"].read_text()


def _toy_dataset():
    from interlens import Dataset, Sample

    samples = [Sample(f"s{i}", {"a": "x", "b": "y"}, lab) for i, lab in enumerate(["no", "yes", "yes", "no"])]
    return Dataset("toy", ("no", "yes"), samples, ("a", "b"), splits={"test": ["s0", "s1", "s2", "s3"]})


def _onehot(ids, idx, view):
    probs = np.eye(2)[idx].astype(float)
    return Predictions(ids, ("no", "yes"), probs, view)


def test_precomputed_predictions_exact_categories_and_score():
    data = _toy_dataset()
    ids = data.ids  # gold: no yes yes no
    preds = {"a": _onehot(ids, [0, 1, 0, 1], "a"), "b": _onehot(ids, [0, 0, 1, 1], "b"),
             "a+b": _onehot(ids, [0, 1, 1, 0], "a+b")}
    report = measure_interactions(data, predictions=preds, reference="gold", S=20, C=4)
    assert report.categories.tolist() == ["R", "U1", "U2", "S"]
    # MINT Eq. 1 with the multimodal reference: (2 + 1 + 1 + 0) / 4 = 1.0 exactly for C = N
    assert report.scores["exact"].score == pytest.approx(1.0)
    mint = measure_interactions(data, predictions=preds, reference="multimodal", S=5, C=4)
    assert mint.categories.tolist() == ["R", "U1", "U2", "S"]  # here ym equals gold


def test_missing_view_and_mismatched_ids_are_reported():
    data = _toy_dataset()
    ids = data.ids
    with pytest.raises(DataError, match=r"no predictions for view\(s\) \['b'\]"):
        measure_interactions(data, predictions={"a": _onehot(ids, [0, 0, 0, 0], "a")})
    with pytest.raises(DataError, match="id sets differ"):
        measure_interactions(data, predictions={"a": _onehot(ids, [0, 0, 0, 0], "a"),
                                                "b": _onehot(ids[:3], [0, 0, 0], "b")})


def test_per_interaction_metrics_hand_case():
    cats = np.array(["R", "R", "S", "U1"])
    out = per_interaction_metrics(cats, np.array([0, 1, 1, 0]), np.array([0, 0, 1, 0]), 2)
    assert out["R"] == {"n": 2, "acc": 0.5, "f1": 0.0, "macro_f1": pytest.approx(1 / 3)}
    assert out["U2"]["n"] == 0 and out["U2"]["acc"] is None


def test_predictions_matched_by_label_name_and_id():
    data = _toy_dataset()
    ids = data.ids
    preds = {"a": _onehot(ids, [0, 1, 0, 1], "a"), "b": _onehot(ids, [0, 0, 1, 1], "b"),
             "a+b": _onehot(ids, [0, 1, 1, 0], "a+b")}
    # b written as (yes, no) with its rows reversed: same result as in order
    b = preds["b"]
    preds_permuted = {**preds, "b": Predictions(b.ids[::-1], ("yes", "no"), b.probs[::-1, ::-1], "b")}
    for given in (preds, preds_permuted):
        report = measure_interactions(data, predictions=given, reference="gold", S=20, C=4)
        assert report.categories.tolist() == ["R", "U1", "U2", "S"]
        assert report.scores["exact"].score == pytest.approx(1.0)
    renamed = {**preds, "b": Predictions(ids, ("n", "y"), b.probs, "b", meta={"source": "b.json"})}
    with pytest.raises(DataError, match=r"file b\.json, field 'labels': prediction labels \['n', 'y'\] do not match "
                                        r"the dataset's \['no', 'yes'\]"):
        measure_interactions(data, predictions=renamed)
    mapped = measure_interactions(data, predictions=renamed, label_map={"n": "no", "y": "yes"}, S=5, C=4)
    assert mapped.categories.tolist() == ["R", "U1", "U2", "S"]


def test_precomputed_scorer_default_modalities_and_refusals(tmp_path):
    from interlens.scoring.precomputed import PrecomputedScorer

    data = _toy_dataset()
    ids = data.ids
    files = {v: str(_onehot(ids, idx, v).save(tmp_path / f"{v}.json"))
             for v, idx in (("b", [0, 0, 1, 1]), ("a", [0, 1, 0, 1]))}
    scorer = PrecomputedScorer(files)
    report = measure_interactions(data, scorer, reference="gold", S=5, C=4)
    assert report.modalities == ("b", "a")  # the scorer's unimodal files, in order
    assert report.categories.tolist() == ["R", "U2", "U1", "S"] and report.per_interaction == {}
    with pytest.raises(DataError, match="cannot honour view b\\+a"):  # MINT's reference needs the pair view
        measure_interactions(data, scorer, reference="multimodal")
    pair = _onehot(ids, [0, 1, 1, 0], "a+b").save(tmp_path / "ab.json")
    mint = measure_interactions(data, PrecomputedScorer({**files, "a+b": str(pair)}), reference="multimodal", S=5, C=4)
    assert mint.categories.tolist() == ["R", "U2", "U1", "S"] and mint.scores["exact"].score == pytest.approx(1.0)
    with pytest.raises(DataError, match="cannot honour view c"):
        measure_interactions(data, scorer, modalities=("a", "c"))
    with pytest.raises(DataError, match="exactly one of a scorer, predictions or prediction files"):
        measure_interactions(data)
