"""MMoE RQ4: are the gains from interaction-based data splits, or from ensembling alone?

MMoE Sec. 5, RQ4, Eq. (1)::

    CE_moe = 1/N * sum_i  min_{y in {y_r, y_u, y_s}} CE(y, y*_i)

the mean over samples of the *smallest* expert cross-entropy (an upper bound on what any fusion
of the experts can reach). The paper compares experts trained on the interaction subsets with
experts trained on random subsets of the same sizes (and with the single baseline).
:func:`random_categories_like` draws such random subsets; :func:`interlens.experts.train.run_rq4`
runs the whole experiment with a scorer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import DataError


def expert_cross_entropy(logits: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """``ce[n, E]``: cross-entropy of each expert's softmax at the gold label (natural log)."""
    logits = np.asarray(logits, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=np.int64)
    if logits.ndim != 3 or logits.shape[0] != len(y_true):
        raise DataError(f"logits have shape {logits.shape}, expected ({len(y_true)}, E, K)", field="logits")
    if (y_true < 0).any() or (y_true >= logits.shape[2]).any():
        raise DataError("gold labels must be class indices in [0, K)", field="label")
    shifted = logits - logits.max(axis=2, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=2))
    gold = np.take_along_axis(shifted, y_true[:, None, None].repeat(logits.shape[1], axis=1), axis=2)[..., 0]
    return log_norm - gold


def ce_moe(logits: np.ndarray, y_true: np.ndarray) -> float:
    """MMoE Eq. (1): mean over samples of the smallest expert cross-entropy."""
    return float(expert_cross_entropy(logits, y_true).min(axis=1).mean())


def random_categories_like(categories: Sequence[str] | np.ndarray, seed: int = 0) -> np.ndarray:
    """A random permutation of ``categories``: random subsets with the same sizes (MMoE RQ4)."""
    cats = np.asarray(categories, dtype=object)
    return cats[np.random.default_rng(seed).permutation(len(cats))]
