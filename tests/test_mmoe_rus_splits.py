"""Recompute the MMoE authors' R/U/AS split files from their own prediction files (real data).

MUStARD: ``mustard_data/data_split_output/mustard_{R,U,AS}_dataset_{train,test}.json`` from
``data_gen_output/mustard_{text,vision}_only_pred{,_test}.json`` and the gold ``sarcasm`` field.
MMSD: ``sarc_data/data_split_output/sarc_{R,U,AS}_dataset_train.json`` from
``sarc_data/data_gen_output/sarc_{text,vision}_only_pred.json`` and the original MMSD labels
(``mmsd/text/train.txt``, an independent file).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from interlens.interactions import categorize, categorize_split, to_mmoe_groups
from interlens.scoring.precomputed import read_mmoe_unimodal

pytestmark = pytest.mark.shared_data
GROUPS = ("R", "U", "AS")


def split_ids(path: Path) -> set[str]:
    return set(json.loads(path.read_text(encoding="utf-8")))


def mustard(root: Path, split: str):
    base = root / "mmoe_rus" / "mustard_data"
    raw = json.loads((base / "data_raw" / f"mustard_dataset_{split}.json").read_text(encoding="utf-8"))
    ids = list(raw)
    gold = np.array([int(raw[i]["sarcasm"]) for i in ids])
    suffix = "_test" if split == "test" else ""
    text = read_mmoe_unimodal(base / "data_gen_output" / f"mustard_text_only_pred{suffix}.json", view="text")
    vision = read_mmoe_unimodal(base / "data_gen_output" / f"mustard_vision_only_pred{suffix}.json",
                                view="image")
    return base, ids, gold, text, vision


@pytest.mark.parametrize("split", ["train", "test"])
def test_mustard_splits_reproduced_exactly(shared_data, split):
    base, ids, gold, text, vision = mustard(shared_data, split)
    text, vision = text.align(ids, allow_missing=True), vision.align(ids, allow_missing=True)
    # the authors' stored files used no confidence filter: pass apply_filter=False on train
    out = categorize_split(text, vision, gold, split=split, ids=ids, scheme="mmoe",
                           apply_filter=False if split == "train" else None)
    for group in GROUPS:
        expected = split_ids(base / "data_split_output" / f"mustard_{group}_dataset_{split}.json")
        assert set(out.ids_of(group)) == expected, group
    counts = {g: out.report["counts"][g] for g in GROUPS}
    if split == "train":
        assert counts == {"R": 57, "U": 145, "AS": 90}
        # 9 text + 8 vision preds are None (17 samples), 25 clips have no vision prediction at all
        assert out.report["missing"] == {"modality1": 9, "modality2": 33, "reference": 0, "total": 42}
        assert out.report["rebalanced"] == {"modality1": 0, "modality2": 0}  # shares 0.349 / 0.490
    else:
        assert counts == {"R": 213, "U": 109, "AS": 34}
        assert out.report["missing"]["total"] == 0
        assert out.report["steps"]["filter"] is False and out.report["steps"]["rebalance"] is False


def test_mustard_train_with_paper_filter_differs(shared_data):
    """With the paper's δ = 0.1 filter (Sec. 6.1) 7 text and 42 vision predictions are not
    confident (47 samples): the stored train files were therefore made without it."""
    base, ids, gold, text, vision = mustard(shared_data, "train")
    out = categorize_split(text.align(ids, allow_missing=True), vision.align(ids, allow_missing=True), gold,
                           split="train", ids=ids, scheme="mmoe")
    assert out.report["low_confidence"] == {"modality1": 7, "modality2": 42}
    assert out.report["counts"] == {"R": 46, "U": 122, "AS": 77, "missing": 42, "filtered": 47}
    assert set(out.ids_of("R")) < split_ids(base / "data_split_output" / "mustard_R_dataset_train.json")


def test_mustard_paper_categories_equal_code_categories(shared_data):
    """Binary labels: Algorithm 1 (R/U1/U2/S) maps onto the authors' R/U/AS one to one."""
    _, ids, gold, text, vision = mustard(shared_data, "test")
    y1 = text.align(ids).argmax()
    y2 = vision.align(ids).argmax()
    cats = categorize(y1, y2, gold)
    counts = {c: int((cats == c).sum()) for c in ("R", "U1", "U2", "S")}
    assert counts == {"R": 213, "U1": 86, "U2": 23, "S": 34}  # text right: 299/356 = 0.84, vision 236 = 0.66
    assert (to_mmoe_groups(cats) != "missing").all()


def test_mmsd_train_split_reproduced_exactly(shared_data):
    base = shared_data / "mmoe_rus" / "sarc_data"
    text = read_mmoe_unimodal(base / "data_gen_output" / "sarc_text_only_pred.json", view="text")
    vision = read_mmoe_unimodal(base / "data_gen_output" / "sarc_vision_only_pred.json", view="image")
    assert text.meta["probability_source"] == "one-hot from pred"
    labels: dict[str, int] = {}
    with open(shared_data / "mmsd" / "text" / "train.txt", encoding="utf-8") as handle:
        for line in handle:
            row = ast.literal_eval(line)
            labels[str(row[0])] = int(row[2])
    ids = text.ids  # the 19,816 training tweets; vision covers them (24,635 predictions)
    assert len(ids) == 19816
    gold = np.array([labels[i] for i in ids])
    out = categorize_split(text, vision.align(ids), gold, split="train", ids=ids, scheme="mmoe",
                           apply_filter=False)  # rebalancing is a no-op: shares 0.394 / 0.321
    assert out.report["rebalanced"] == {"modality1": 0, "modality2": 0}
    for group in GROUPS:
        expected = split_ids(base / "data_split_output" / f"sarc_{group}_dataset_train.json")
        assert set(out.ids_of(group)) == expected, group
    assert {g: out.report["counts"][g] for g in GROUPS} == {"R": 9489, "U": 8243, "AS": 2084}


def _permuted_copy(path: Path, labels: tuple[str, ...], out: Path) -> Path:
    """The authors' file as our own Predictions JSON with the label columns reversed and the rows shuffled."""
    from interlens.predictions import Predictions

    pred = read_mmoe_unimodal(path, view="text", labels=labels)
    order = np.random.default_rng(0).permutation(len(pred))
    return Predictions([pred.ids[i] for i in order], labels[::-1], pred.probs[order][:, ::-1], "text").save(out)


def test_readme_mmoe_example_with_permuted_label_order(shared_data, tmp_path):
    """README: the authors' unimodal predictions on MUStARD test -> R 213 / U1 86 / U2 23 / S 34, also when
    the text file is our JSON with its labels in the other order (read by name, not by column position)."""
    from interlens.data import load_dataset
    from interlens.measure import measure_interactions

    data = load_dataset("mustard", shared_data)
    gen = shared_data / "mmoe_rus" / "mustard_data" / "data_gen_output"
    text, vision = gen / "mustard_text_only_pred_test.json", gen / "mustard_vision_only_pred_test.json"
    permuted = _permuted_copy(text, data.labels, tmp_path / "text_permuted.json")
    expected = {"R": 213, "U1": 86, "U2": 23, "S": 34}
    for text_file in (text, permuted):
        report = measure_interactions(data, files={"text": text_file, "vision": vision}, modalities=("text", "vision"))
        assert {c: report.counts[c] for c in expected} == expected, text_file
    # the same file with its labels named yes/no is refused, with the names; a label map reads it
    yes_no = json.loads(permuted.read_text())
    yes_no["labels"] = ["yes", "no"]
    (tmp_path / "yes_no.json").write_text(json.dumps(yes_no))
    with pytest.raises(Exception, match=r"yes_no\.json, field 'labels': prediction labels \['yes', 'no'\] do not "
                                        r"match the dataset's \['not_sarcastic', 'sarcastic'\]"):
        measure_interactions(data, files={"text": tmp_path / "yes_no.json", "vision": vision},
                             modalities=("text", "vision"))
    mapped = measure_interactions(data, files={"text": tmp_path / "yes_no.json", "vision": vision},
                                  modalities=("text", "vision"), label_map={"yes": "sarcastic", "no": "not_sarcastic",
                                                                            "No": "not_sarcastic", "Yes": "sarcastic"})
    assert {c: mapped.counts[c] for c in expected} == expected
