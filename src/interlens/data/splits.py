"""Leak-free splits: every group (speaker, dialogue, transcript) lands in exactly one split.

Pure functions: same inputs and seed, same output. Split members keep the order of ``ids``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import DataError

_RESTARTS = 32


def _check(ids: Sequence[str], groups: Sequence[str], fractions: Mapping[str, float]) -> None:
    if len(ids) != len(groups):
        raise DataError(f"ids and groups differ in length ({len(ids)} vs {len(groups)})", field="group")
    if len(set(ids)) != len(ids):
        dup = next(i for i, c in Counter(ids).items() if c > 1)
        raise DataError(f"duplicate id {dup!r}", field="id")
    if not fractions:
        raise DataError("no split fractions given", field="split")
    bad = {k: v for k, v in fractions.items() if not v > 0}
    if bad:
        raise DataError(f"split fractions must be positive, got {bad}", field="split")
    n_groups = len(set(groups))
    if n_groups < len(fractions):
        raise DataError(f"{n_groups} groups cannot fill {len(fractions)} splits {list(fractions)}",
                        field="group")


def _collect(ids: Sequence[str], groups: Sequence[str], assignment: Mapping[str, str],
             names: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {name: [] for name in names}
    for sample_id, group in zip(ids, groups, strict=True):
        out[assignment[group]].append(sample_id)
    return out


def _greedy(ids: list[str], groups: list[str], labels: list[str], fractions: Mapping[str, float],
            seed: int) -> dict[str, list[str]]:
    names = list(fractions)
    total = float(sum(fractions.values()))
    unique = sorted(set(groups))
    classes = sorted(set(labels))
    group_index = {g: i for i, g in enumerate(unique)}
    class_index = {c: i for i, c in enumerate(classes)}
    counts_of = np.zeros((len(unique), len(classes)))  # label counts of each group
    for group, label in zip(groups, labels, strict=True):
        counts_of[group_index[group], class_index[label]] += 1
    share = np.array([fractions[n] / total for n in names])
    targets = share[:, None] * counts_of.sum(axis=0)[None, :]  # split x label
    rng = np.random.default_rng(seed)
    restarts = max(4, min(_RESTARTS, 20_000 // len(unique)))
    best: tuple[float, np.ndarray] | None = None
    for _ in range(restarts):
        filled = np.zeros_like(targets)
        slots = np.zeros(len(unique), dtype=np.int64)
        for step, g in enumerate(rng.permutation(len(unique))):
            # the split whose shortfall best matches this group's labels (least squared-error growth)
            score = ((targets - filled) * counts_of[g]).sum(axis=1)
            empty = filled.sum(axis=1) == 0
            if len(unique) - step <= empty.sum():  # as many groups left as empty splits: fill those
                score = np.where(empty, score, -np.inf)
            slot = int(np.argmax(score))
            slots[g] = slot
            filled[slot] += counts_of[g]
        cost = float(np.abs(filled - targets).sum())
        if best is None or cost < best[0]:
            best = (cost, slots)
    assert best is not None
    return _collect(ids, groups, {g: names[best[1][i]] for i, g in enumerate(unique)}, names)


def group_split(ids: Sequence[str], groups: Sequence[str], fractions: Mapping[str, float],
                seed: int = 0) -> dict[str, list[str]]:
    """Split ``ids`` so that no group is in two splits, with split sizes close to ``fractions``.

    ``fractions`` maps split name to a share of the samples (normalised to sum 1), e.g.
    ``{"train": 0.8, "dev": 0.1, "test": 0.1}``. Groups are visited in a random order and each goes
    to the split furthest below its target size (no split is left empty); of up to 32 orders drawn
    from ``seed`` the one closest to the targets is kept, so one big group rarely overshoots a small
    split.
    """
    ids, groups = [str(i) for i in ids], [str(g) for g in groups]
    _check(ids, groups, fractions)
    return _greedy(ids, groups, [""] * len(ids), fractions, seed)


def stratified_group_split(ids: Sequence[str], groups: Sequence[str], labels: Sequence[str],
                           fractions: Mapping[str, float], seed: int = 0) -> dict[str, list[str]]:
    """Like :func:`group_split`, but also keeps label proportions similar across splits.

    Same greedy search, with targets per (split, label): each group goes to the split whose label
    shortfall best matches the group's label counts - the idea of scikit-learn's
    ``StratifiedGroupKFold``, for unequal split sizes and without importing scikit-learn.
    """
    ids, groups, labels = [str(i) for i in ids], [str(g) for g in groups], [str(y) for y in labels]
    _check(ids, groups, fractions)
    if len(labels) != len(ids):
        raise DataError(f"ids and labels differ in length ({len(ids)} vs {len(labels)})", field="label")
    return _greedy(ids, groups, labels, fractions, seed)


def groups_by_split(splits: Mapping[str, Sequence[str]], group_of: Mapping[str, str | None]
                    ) -> dict[str, set[str]]:
    """The set of groups present in each split (samples without a group are ignored)."""
    out: dict[str, set[str]] = defaultdict(set)
    for name, ids in splits.items():
        out[name] = {g for i in ids if (g := group_of[i]) is not None}
    return dict(out)


def crossing_groups(splits: Mapping[str, Sequence[str]], group_of: Mapping[str, str | None]) -> set[str]:
    """Groups that occur in more than one split (empty for a leak-free split)."""
    seen: Counter[str] = Counter()
    for members in groups_by_split(splits, group_of).values():
        seen.update(members)
    return {g for g, c in seen.items() if c > 1}


#: the split a dataset file gets when it has no split column (shares of the samples)
DEFAULT_FRACTIONS = {"train": 0.7, "dev": 0.1, "test": 0.2}


def seeded_split(ids: Sequence[str], groups: Sequence[str | None] | None, labels: Sequence[str] | None,
                 fractions: Mapping[str, float] | None = None, seed: int = 0
                 ) -> tuple[dict[str, list[str]], dict[str, object]]:
    """A seeded, group-disjoint split of ``ids`` and the record of how it was made.

    With ``groups`` no group is in two splits (a sample without a group is a group of its own);
    without, each sample is its own group. With ``labels`` the split is also stratified
    (:func:`stratified_group_split`). ``fractions`` are shares of the samples (normalised; default
    70/10/20). The record (``seed``, normalised ``fractions``, ``by``, ``sizes``, ``groups``) goes
    into ``Dataset.info["split_made"]`` so results can report it.
    """
    fractions = dict(fractions or DEFAULT_FRACTIONS)
    ids = [str(i) for i in ids]
    ungrouped = 0
    if groups is None:
        keys = ids
    else:
        keys = []
        for sample_id, group in zip(ids, groups, strict=True):
            if group is None:
                ungrouped += 1
            keys.append(f"\x00sample:{sample_id}" if group is None else f"group:{group}")
    if labels is not None:
        splits = stratified_group_split(ids, keys, [str(y) for y in labels], fractions, seed=seed)
    else:
        splits = group_split(ids, keys, fractions, seed=seed)
    total = float(sum(fractions.values()))
    group_of = dict(zip(ids, keys, strict=True))
    record: dict[str, object] = {
        "seed": seed, "fractions": {k: round(v / total, 6) for k, v in fractions.items()},
        "by": "group" if groups is not None else "sample", "stratified": labels is not None,
        "sizes": {k: len(v) for k, v in splits.items()},
        "groups": {k: len({group_of[i] for i in v}) for k, v in splits.items()},
        "ungrouped_samples": ungrouped}
    return splits, record
