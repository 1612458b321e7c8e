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


def group_split(ids: Sequence[str], groups: Sequence[str], fractions: Mapping[str, float],
                seed: int = 0) -> dict[str, list[str]]:
    """Split ``ids`` so that no group is in two splits, with split sizes close to ``fractions``.

    ``fractions`` maps split name to a share of the samples (normalised to sum 1), e.g.
    ``{"train": 0.8, "dev": 0.1, "test": 0.1}``. Groups are visited in a random order and each goes
    to the split furthest below its target size (no split is left empty); of 32 orders drawn from
    ``seed`` the one closest to the targets is kept, so one big group rarely overshoots a small split.
    """
    ids, groups = [str(i) for i in ids], [str(g) for g in groups]
    _check(ids, groups, fractions)
    names = list(fractions)
    total = float(sum(fractions.values()))
    sizes = Counter(groups)
    unique = sorted(sizes)
    targets = np.array([fractions[n] / total * len(ids) for n in names])
    rng = np.random.default_rng(seed)
    best: tuple[float, dict[str, str]] | None = None
    for _ in range(_RESTARTS):
        counts = np.zeros(len(names))
        assignment: dict[str, str] = {}
        for step, index in enumerate(rng.permutation(len(unique))):
            group = unique[index]
            deficit = targets - counts
            empty = np.flatnonzero(counts == 0)
            if len(unique) - step <= len(empty):  # as many groups left as empty splits: fill those
                deficit = np.where(counts == 0, deficit, -np.inf)
            slot = int(np.argmax(deficit))
            assignment[group] = names[slot]
            counts[slot] += sizes[group]
        cost = float(np.abs(counts - targets).sum())
        if best is None or cost < best[0]:
            best = (cost, assignment)
    assert best is not None
    return _collect(ids, groups, best[1], names)


def stratified_group_split(ids: Sequence[str], groups: Sequence[str], labels: Sequence[str],
                           fractions: Mapping[str, float], seed: int = 0) -> dict[str, list[str]]:
    """Like :func:`group_split`, but keeps label proportions similar across splits.

    Uses scikit-learn's ``StratifiedGroupKFold``: the splits after the first are carved off one by one
    as one fold of ``round(remaining / fraction)`` folds (so fractions are met approximately, e.g.
    0.1 -> one of 10 folds); the first split keeps the rest.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    ids, groups, labels = [str(i) for i in ids], [str(g) for g in groups], [str(y) for y in labels]
    _check(ids, groups, fractions)
    if len(labels) != len(ids):
        raise DataError(f"ids and labels differ in length ({len(ids)} vs {len(labels)})", field="label")
    names = list(fractions)
    total = float(sum(fractions.values()))
    share = {n: fractions[n] / total for n in names}
    pool = np.arange(len(ids))
    remaining = 1.0
    assignment: dict[str, str] = {}
    for offset, name in enumerate(reversed(names[1:])):
        n_folds = max(2, round(remaining / share[name]))
        pool_groups = np.array(groups)[pool]
        if len(set(pool_groups)) < n_folds:
            raise DataError(f"only {len(set(pool_groups))} groups left to carve split {name!r} "
                            f"as 1 of {n_folds} folds", field="group")
        splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed + offset)
        _, held = next(splitter.split(pool, np.array(labels)[pool], pool_groups))
        held_ids = pool[held]
        for group in set(pool_groups[held]):
            assignment[group] = name
        pool = np.setdiff1d(pool, held_ids)
        remaining -= share[name]
    for index in pool:
        assignment.setdefault(groups[index], names[0])
    return _collect(ids, groups, assignment, names)


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
