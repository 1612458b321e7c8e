"""Fitted-scorer checkpoints in the run folder: a killed run does not refit (issue 11, crash safety).

After :func:`~interlens.scoring.registry.fit_and_predict` fits a trainable scorer it saves the whole
fitted object to ``<run>/checkpoints/<fingerprint>.pt`` (``torch.save``, written atomically). The key
is the fingerprint the fit produces (``planned_fingerprint``: parameters + training data + views), so
a rerun of the same plan restores the fitted state instead of fitting again, and any change to the
plan (data, views, parameters) misses the checkpoint and fits anew.

Only scorers that can announce their fingerprint before fitting (``planned_fingerprint``: embedding,
minilm-ft) are checkpointed; the Hugging Face scorers keep their LoRA adapters on disk themselves
and are skipped. A scorer made of several fits (the ``ensemble``: ``member_checkpoints``) is also
given the folder, so each member is checkpointed as it finishes and a killed fit loses at most one
member. A checkpoint is a pickle: load only run folders you made (``torch.load`` with
``weights_only=False``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .io import atomic_write

SUFFIX = ".pt"


def checkpoint_path(directory: str | os.PathLike, fingerprint: str) -> Path:
    """``directory/<fingerprint>.pt``."""
    if not fingerprint or any(c in fingerprint for c in "/\\") or fingerprint.startswith("."):
        raise ValueError(f"not a fingerprint: {fingerprint!r}")
    return Path(directory) / f"{fingerprint}{SUFFIX}"


def save_checkpoint(scorer: Any, directory: str | os.PathLike, fingerprint: str) -> Path:
    """Save the fitted ``scorer`` atomically under its fingerprint."""
    import torch

    return atomic_write(checkpoint_path(directory, fingerprint), lambda tmp: torch.save(scorer, tmp))


def load_checkpoint(scorer: Any, directory: str | os.PathLike, fingerprint: str) -> Path | None:
    """Restore ``scorer``'s fitted state from its checkpoint; the path when restored, else None.

    A file that cannot be read, holds another class or another fingerprint is ignored (the caller
    fits again and overwrites it).
    """
    import torch

    path = checkpoint_path(directory, fingerprint)
    if not path.is_file():
        return None
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False)
    except Exception:  # noqa: BLE001 - an unreadable checkpoint is only a missed shortcut
        return None
    if type(saved) is not type(scorer) or getattr(saved, "fingerprint", None) != fingerprint:
        return None
    scorer.__dict__.update(saved.__dict__)
    return path


def fit_or_restore(scorer: Any, train: Any, views: Sequence[str], val: Any, *, fingerprint: str | None,
                   directory: str | os.PathLike | None, log: Callable[[str], None] | None = None) -> str:
    """Restore ``scorer`` from ``directory`` when a checkpoint for ``fingerprint`` exists, else fit it
    (``scorer.fit(train, views, val=val)``), record its duration as ``fit_seconds_`` and save the checkpoint.
    Returns "restored" or "fitted"."""
    if directory is not None and fingerprint is not None:
        restored = load_checkpoint(scorer, directory, fingerprint)
        if restored is not None:
            if log is not None:
                log(f"reusing fitted scorer {scorer.name} from checkpoint {restored}")
            return "restored"
    by_member = directory is not None and getattr(type(scorer), "checkpoints_members", False)  # declared
    if by_member:  # each member is saved as it finishes: the whole would only repeat them
        scorer.member_checkpoints = Path(directory)
    started = time.perf_counter()
    scorer.fit(train, list(views), val=val)
    scorer.fit_seconds_ = time.perf_counter() - started  # saved with it: a restored model keeps its cost
    # never file a model under a key it does not have
    if directory is not None and fingerprint is not None and scorer.fingerprint == fingerprint and not by_member:
        path = save_checkpoint(scorer, directory, fingerprint)
        if log is not None:
            log(f"saved fitted scorer {scorer.name} to checkpoint {path}")
    return "fitted"
