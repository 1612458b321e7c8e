"""Adapters for the real corpora: exact sizes and counts from each SOURCE.md, leak-free groups."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from interlens.data import Dataset, list_datasets, load_dataset
from interlens.data.adapters import (
    CONTEXT_END,
    CONTEXT_GAP,
    CONTEXT_NEXT,
    CONTEXT_START,
    MINTREC2_LABELS,
    MINTREC_LABELS,
    REGISTRY,
    build_context,
)
from interlens.data.resolve import describe_dataset
from interlens.data.splits import crossing_groups
from interlens.errors import DataError, RegistryError

_CACHE: dict[tuple, Dataset] = {}


@pytest.fixture(scope="module")
def load(shared_data: Path):
    def _load(name: str, **options: Any) -> Dataset:
        key = (name, *sorted(options.items()))
        if key not in _CACHE:
            _CACHE[key] = load_dataset(name, shared_data, **options)
        return _CACHE[key]

    return _load


def sizes(ds: Dataset) -> dict[str, int]:
    return {k: len(v) for k, v in ds.splits.items()}


def counts(ds: Dataset, split: str) -> dict[str, int]:
    return dict(Counter(ds[i].label for i in ds.splits[split]))


def crossing(ds: Dataset) -> set[str]:
    return crossing_groups(ds.splits, {s.id: s.group for s in ds})


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_registered_dataset_loads(load, name: str) -> None:
    ds = load(name)
    card = REGISTRY[name]
    assert ds.labels == card.labels and ds.modalities == card.modalities
    assert set(ds.splits) == {"train", "dev", "test"}
    assert sum(sizes(ds).values()) == len(ds)  # splits partition the samples
    assert ds.source and card.description


def test_mustard_speaker_independent(load) -> None:
    ds = load("mustard")
    assert len(ds) == 690 and ds.label_counts() == {"not_sarcastic": 345, "sarcastic": 345}
    assert len(ds.splits["train"]) + len(ds.splits["dev"]) == 334 and len(ds.splits["test"]) == 356
    assert {ds[i].meta["show"] for i in ds.splits["test"]} == {"FRIENDS"}
    assert crossing(ds) == set()  # no SHOW:SPEAKER group in two splits
    assert sizes(load("mustard", dev_fraction=0)) == {"train": 334, "test": 356}
    sample = ds["1_60"]
    assert sample.label == "sarcastic" and sample.group == "BBT:SHELDON"
    assert sample.inputs["utterance"] == "It's just a privilege to watch your mind at work."
    assert sample.inputs["context"].splitlines()[1] == "SHELDON: My apologies. What's your plan?"
    assert load("mustard", speaker_prefix=True)["1_60"].inputs["utterance"].startswith("SHELDON: It's")


def test_mustard_folds(load) -> None:
    tests: list[str] = []
    for fold in range(5):
        plain = load("mustard", fold=fold, dev_fraction=0)
        assert sizes(plain) == {"train": 552, "test": 138}
        tests += plain.splits["test"]
        with_dev = load("mustard", fold=fold)
        assert len(with_dev.splits["train"]) + len(with_dev.splits["dev"]) == 552
        groups = {k: {with_dev[i].group for i in v} for k, v in with_dev.splits.items()}
        assert not groups["train"] & groups["dev"]
    assert sorted(tests) == sorted(load("mustard").ids)  # the 5 test folds cover every clip once
    # positions index the file order of sarcasm_data.json
    first = load("mustard", fold=0, dev_fraction=0)
    assert [first[i].meta["position"] for i in first.splits["test"]][:3] == [0, 1, 4]
    with pytest.raises(DataError, match=r"fold=7 is not one of \[0, 1, 2, 3, 4\]"):
        load("mustard", fold=7)


def test_mintrec(load) -> None:
    ds = load("mintrec")
    assert sizes(ds) == {"train": 1334, "dev": 445, "test": 445}
    assert ds.labels == MINTREC_LABELS and len(ds.labels) == 20
    train = counts(ds, "train")
    assert (train["Complain"], train["Inform"], train["Praise"]) == (172, 170, 127)
    assert ds["S05_E16_329"].inputs["text"].startswith("apparently, teens are drinking")
    assert ds["S05_E16_329"].group == "S05_E16"
    assert len(crossing(ds)) == 43  # documented: every episode is in all three official splits


def test_mintrec2(load) -> None:
    ds = load("mintrec2")
    assert sizes(ds) == {"train": 6165, "dev": 1106, "test": 2033}
    assert ds.labels == MINTREC2_LABELS and len(ds.labels) == 30
    train = counts(ds, "train")
    assert (train["Inform"], train["Explain"], train["Doubt"], train["Flaunt"]) == (603, 484, 473, 63)
    assert crossing(ds) == set()
    assert Counter(ds[i].meta["show"] for i in ds.splits["train"]) == {
        "superstore": 3634, "friends": 1362, "bigbang": 1169}
    ctx = load("mintrec2", context=True)
    assert ctx.modalities == ("text", "context")
    assert ctx["0_0"].inputs["context"] == CONTEXT_START
    # utterances 1 and 2 of dialogue 0 are out of scope (not in the file)
    assert ctx["0_3"].inputs["context"] == ("Glenn: so without further ado, to welcome our newest part-time "
                                            f"employee, emma dubanowski.\n{CONTEXT_GAP}")


def test_meld(load) -> None:
    ds = load("meld")
    assert sizes(ds) == {"train": 9989, "dev": 1109, "test": 2610}
    assert counts(ds, "train") == {"neutral": 4710, "joy": 1743, "surprise": 1205, "anger": 1109,
                                   "sadness": 683, "disgust": 271, "fear": 268}
    assert counts(ds, "test") == {"neutral": 1256, "joy": 402, "anger": 345, "surprise": 281,
                                  "sadness": 208, "disgust": 68, "fear": 50}
    groups = {k: {ds[i].group for i in v} for k, v in ds.splits.items()}
    assert {k: len(v) for k, v in groups.items()} == {"train": 1038, "dev": 114, "test": 280}
    assert crossing(ds) == set()
    assert ds["train_dia0_utt1"].inputs["text"] == "You must’ve had your hands full."  # UTF-8 kept
    plain = load("meld", ascii_text=True)
    assert plain["train_dia0_utt1"].inputs["text"] == "You must've had your hands full."
    senti = load("meld", task="sentiment")
    assert counts(senti, "train") == {"neutral": 4710, "positive": 2334, "negative": 2945}
    assert counts(senti, "test") == {"neutral": 1256, "positive": 521, "negative": 833}
    ctx = load("meld", context=True, context_turns=2)
    assert ctx["train_dia0_utt0"].inputs["context"] == CONTEXT_START
    assert ctx["train_dia0_utt3"].inputs["context"] == (
        "The Interviewer: You must’ve had your hands full.\nChandler: That I did. That I did.")
    following = load("meld", context=True, context_turns=2, turns_after=1)
    assert following["train_dia0_utt3"].inputs["context"] == (
        "The Interviewer: You must’ve had your hands full.\nChandler: That I did. That I did.\n"
        f"{CONTEXT_NEXT}\nChandler: My duties?  All right.")
    assert following["train_dia0_utt3"].inputs["text"] == ctx["train_dia0_utt3"].inputs["text"]
    assert following.info["options"]["turns_after"] == 1
    named = load("meld", context=True, context_turns=2, speaker_prefix=True)
    assert named["train_dia0_utt4"].inputs == {"text": "Chandler: My duties?  All right.",
                                               "context": ctx["train_dia0_utt4"].inputs["context"]}


def test_annomi(load) -> None:
    client = load("annomi")
    assert client.label_counts() == {"neutral": 3102, "change": 1174, "sustain": 541}
    assert crossing(client) == set()  # transcript-wise split
    assert abs(len(client.splits["train"]) / len(client) - 0.8) < 0.05
    assert client["0_1"].inputs == {"text": "Sure.", "context": (
        "therapist: Thanks for filling it out. We give this form to everyone once a year regardless of why "
        "they come in. It helps us provide better care. Is it okay if I take a look at what you put down?")}
    therapist = load("annomi", task="therapist")
    assert therapist.label_counts() == {"question": 1386, "therapist_input": 614, "reflection": 1296,
                                        "other": 1586}
    assert therapist["0_0"].inputs["context"] == CONTEXT_START


def test_annomi_mmla_split(load, shared_data: Path) -> None:
    if not list((shared_data / "mmla").glob("AnnoMi-*_train_*.json")):
        pytest.skip("mmla files absent")
    assert sizes(load("annomi", split="mmla")) == {"train": 3123, "dev": 461, "rest": 1233}
    assert sizes(load("annomi", task="therapist", split="mmla")) == {"train": 3161, "dev": 472, "rest": 1249}


def test_mmsd2(load) -> None:
    ds = load("mmsd2")
    assert sizes(ds) == {"train": 19816, "dev": 2410, "test": 2409}
    assert counts(ds, "train") == {"sarcastic": 9576, "not_sarcastic": 10240}
    assert counts(ds, "dev") == {"sarcastic": 1042, "not_sarcastic": 1368}
    assert counts(ds, "test") == {"sarcastic": 1037, "not_sarcastic": 1372}
    sample = ds["840006160660983809"]  # exact 64-bit id (a float would end ...808)
    assert sample.inputs["text"] == "<user> thanks for showing up for our appointment today ."
    assert sample.inputs["image_attributes"] == "water, waters, dark, large, background"
    assert load("mmsd2", image_attributes=False).modalities == ("text",)


def test_describe_dataset(shared_data: Path) -> None:
    summary = describe_dataset("mustard", shared_data, split="test", n=2)
    assert summary["name"] == "mustard/test" and summary["n"] == 356
    assert summary["label_counts"] == {"not_sarcastic": 204, "sarcastic": 152}
    assert [s["id"] for s in summary["samples"]] == ["2_223", "2_370"]
    assert summary["groups_in_several_splits"] == 0
    assert describe_dataset("mintrec", shared_data, n=0)["groups_in_several_splits"] == 43


def test_list_datasets_without_data(tmp_path: Path) -> None:
    rows = {r["name"]: r for r in list_datasets(tmp_path)}
    assert list(rows) == ["mustard", "mintrec", "mintrec2", "meld", "annomi", "mmsd2"]
    assert rows["mintrec2"]["n_labels"] == 30 and rows["meld"]["optional_modalities"] == ["context"]
    assert rows["annomi"]["options"]["task"] == "client"
    assert not any(r["available"] for r in rows.values())


def test_unknown_name_and_option() -> None:
    with pytest.raises(RegistryError, match=r"unknown dataset 'mustrad'\. Did you mean 'mustard'"):
        load_dataset("mustrad")
    with pytest.raises(RegistryError, match=r"unknown meld option 'tsak'\. Did you mean 'task'"):
        load_dataset("meld", tsak="sentiment")


def test_missing_files_name_path_and_root(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        load_dataset("mustard", data_root=tmp_path)
    message = str(err.value)
    assert f"file {tmp_path / 'mustard' / 'sarcasm_data.json'}" in message
    assert f"under data root {tmp_path}" in message


def test_build_context_marks_gaps() -> None:
    turns = [(0, "A: a"), (1, "B: b"), (4, "A: c"), (5, "B: d")]
    assert build_context(turns, 0, None) == CONTEXT_START
    assert build_context(turns, 2, None) == f"A: a\nB: b\n{CONTEXT_GAP}"
    assert build_context(turns, 3, 1) == "A: c"  # truncation is not a gap
    assert build_context(turns, 2, 1) == f"B: b\n{CONTEXT_GAP}"
    assert build_context([(3, "A: x")], 0, None) == CONTEXT_GAP


def test_build_context_following_turns() -> None:
    turns = [(0, "A: a"), (1, "B: b"), (4, "A: c"), (5, "B: d")]
    assert build_context(turns, 1, None, turns_after=0) == "A: a"
    assert build_context(turns, 0, None, turns_after=1) == f"{CONTEXT_START}\n{CONTEXT_NEXT}\nB: b"
    # a jump after the utterance is marked, as before it
    assert build_context(turns, 1, 1, turns_after=2) == f"A: a\n{CONTEXT_NEXT}\n{CONTEXT_GAP}\nA: c\nB: d"
    assert build_context(turns, 2, 1, turns_after=1) == f"B: b\n{CONTEXT_GAP}\n{CONTEXT_NEXT}\nB: d"
    assert build_context(turns, 3, 1, turns_after=3) == f"A: c\n{CONTEXT_NEXT}\n{CONTEXT_END}"
