"""The plumbing the torch-using modules share, written once (issue 29, item 5).

* :func:`softmax` -- the one softmax of interlens (numpy; scorers' logits -> probabilities, the authors'
  prediction files, fusion strategies), numerically stable, with "no prediction" rows kept NaN;
* :func:`torch_threads` -- torch's intra-op thread count set for a block and restored after (tiny heads
  and routers train fastest on one thread; the text encoder pins its count for bit-identical vectors).

torch is imported only when :func:`torch_threads` runs, so :func:`softmax` costs no torch import.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``exp(x) / sum(exp(x))`` along ``axis`` in float64, shifted by the maximum (stable for any scale).

    A slice with no finite maximum -- all ``-inf`` (no label scored), all NaN (a missing prediction), or any
    ``+inf`` -- and a slice holding a NaN come out all-NaN ("no prediction"); ``-inf`` next to finite
    values gets probability 0. Agrees with :func:`scipy.special.softmax` on finite input."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return x.copy()
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        top = np.max(np.where(np.isnan(x), -np.inf, x), axis=axis, keepdims=True)
        finite = np.isfinite(top)
        e = np.exp(x - np.where(finite, top, 0.0))
        return np.where(finite, e / e.sum(axis=axis, keepdims=True), np.nan)


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(n)`` (``None`` / 0: leave the count as it is) and restore the
    count before it after, even on an error."""
    import torch

    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


__all__ = ["softmax", "torch_threads"]
