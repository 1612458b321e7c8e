"""Leak-free group splits."""

from __future__ import annotations

from collections import Counter

import pytest

from interlens.data.splits import crossing_groups, group_split, stratified_group_split
from interlens.errors import DataError

IDS = [f"s{i}" for i in range(200)]
GROUPS = [f"g{i % 37}" for i in range(200)]  # 37 groups of 5-6
LABELS = ["a" if i % 4 else "b" for i in range(200)]
FRACTIONS = {"train": 0.8, "dev": 0.1, "test": 0.1}


def test_group_split_is_leak_free_complete_and_close_to_targets() -> None:
    parts = group_split(IDS, GROUPS, FRACTIONS, seed=3)
    assert list(parts) == ["train", "dev", "test"]
    assert sorted(i for p in parts.values() for i in p) == sorted(IDS)
    assert crossing_groups(parts, dict(zip(IDS, GROUPS, strict=True))) == set()
    sizes = {k: len(v) for k, v in parts.items()}
    assert abs(sizes["train"] - 160) <= 6 and abs(sizes["dev"] - 20) <= 6 and abs(sizes["test"] - 20) <= 6
    # members keep input order
    assert parts["dev"] == [i for i in IDS if i in set(parts["dev"])]


def test_group_split_deterministic_and_seed_dependent() -> None:
    assert group_split(IDS, GROUPS, FRACTIONS, seed=1) == group_split(IDS, GROUPS, FRACTIONS, seed=1)
    assert group_split(IDS, GROUPS, FRACTIONS, seed=1) != group_split(IDS, GROUPS, FRACTIONS, seed=2)


def test_group_split_never_leaves_a_split_empty() -> None:
    parts = group_split(["a", "b", "c"], ["big", "big", "small"], {"train": 0.95, "dev": 0.05})
    assert parts == {"train": ["a", "b"], "dev": ["c"]}


def test_group_split_errors() -> None:
    with pytest.raises(DataError, match="1 groups cannot fill 2 splits"):
        group_split(["a", "b"], ["g", "g"], {"train": 0.5, "test": 0.5})
    with pytest.raises(DataError, match="duplicate id 'a'"):
        group_split(["a", "a"], ["g", "h"], {"train": 0.5, "test": 0.5})
    with pytest.raises(DataError, match="positive"):
        group_split(["a", "b"], ["g", "h"], {"train": 1.0, "test": 0.0})
    with pytest.raises(DataError, match="differ in length"):
        group_split(["a", "b"], ["g"], {"train": 1.0})


def test_stratified_group_split_keeps_label_shares() -> None:
    parts = stratified_group_split(IDS, GROUPS, LABELS, FRACTIONS, seed=0)
    assert sorted(i for p in parts.values() for i in p) == sorted(IDS)
    assert crossing_groups(parts, dict(zip(IDS, GROUPS, strict=True))) == set()
    label_of = dict(zip(IDS, LABELS, strict=True))
    for name, members in parts.items():
        share_b = Counter(label_of[i] for i in members)["b"] / len(members)
        assert 0.15 <= share_b <= 0.35, (name, share_b)  # overall share 0.25
    assert 140 <= len(parts["train"]) <= 180
    assert parts == stratified_group_split(IDS, GROUPS, LABELS, FRACTIONS, seed=0)
