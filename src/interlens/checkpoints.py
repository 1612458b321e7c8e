"""Fitted-scorer checkpoints in the run folder: a killed run does not refit (issue 11, crash safety).

After :func:`~interlens.scoring.registry.fit_and_predict` fits a trainable scorer it saves the fitted
state to ``<run>/checkpoints/<fingerprint>.safetensors`` (written atomically, its ``.sha256`` sidecar
first). The key is the fingerprint the fit produces (``planned_fingerprint``: parameters + training data +
views), so a rerun of the same plan restores the fitted state instead of fitting again, and any change to
the plan (data, views, parameters) misses the checkpoint and fits anew.

Nothing is unpickled (issue 30): a checkpoint holds only tensors (``safetensors``) and JSON (the
safetensors header's ``interlens`` metadata: class, fingerprint, labels, logs, history); the scorer
rebuilds its modules from its own parameters and loads the weights into them. The file's SHA-256 is
checked against its sidecar before it is read, so a bit flip or an edit is one line (exit 2) naming the
file and "delete it to refit", never a silently different model. A ``.pt`` pickle checkpoint from an
older interlens is refused the same way (it is never opened).

Only scorers that can announce their fingerprint before fitting (``planned_fingerprint``) and that declare
their fitted state (``checkpointable``: ``embedding``, ``minilm-ft``; ``Scorer.checkpoint_state``, written next
to that state, so this module reads no private attribute and imports no scorer) are checkpointed; the
Hugging Face scorers keep their LoRA adapters on disk themselves and are skipped. A scorer made of several
fits (the ``ensemble``: ``member_checkpoints``) is also given the folder, so each member is checkpointed
as it finishes and a killed fit loses at most one member.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .errors import DataError
from .integrity import read_verified, write_verified
from .io import to_jsonable

SUFFIX = ".safetensors"
#: the pickle format of interlens before issue 30: refused, never opened
LEGACY_SUFFIX = ".pt"
FORMAT = 1
RECOVERY = "delete it (and its .sha256) to refit"


def checkpoint_path(directory: str | os.PathLike, fingerprint: str) -> Path:
    """``directory/<fingerprint>.safetensors`` (a fingerprint is a bare file stem: no separators, no leading dot)."""
    if (not isinstance(fingerprint, str) or not fingerprint or any(c in fingerprint for c in "/\\\0")
            or fingerprint.startswith(".")):
        raise DataError(f"not a fingerprint: {fingerprint!r}", field="fingerprint")
    return Path(directory) / f"{fingerprint}{SUFFIX}"


# -- a scorer's state: (JSON metadata, named tensors), written and read by the scorer itself -------------------
def module_tensors(prefix: str, module: Any) -> dict[str, Any]:
    """``module``'s state dict as CPU tensors named ``prefix/<key>`` (for a scorer's ``checkpoint_state``)."""
    return {f"{prefix}/{k}": v.detach().clone().contiguous().cpu() for k, v in module.state_dict().items()}


def load_module(module: Any, prefix: str, tensors: dict[str, Any]) -> Any:
    """``module`` with the ``prefix/<key>`` tensors loaded (strict), in eval mode."""
    state = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + "/")}
    module.load_state_dict(state, strict=True)
    return module.eval()


def can_checkpoint(scorer: Any) -> bool:
    """Whether ``scorer`` declares its fitted state (``checkpointable``: ``checkpoint_state`` and
    ``restore_checkpoint_state``, next to the state itself; this module reads no private attribute)."""
    return bool(getattr(type(scorer), "checkpointable", False))


def save_checkpoint(scorer: Any, directory: str | os.PathLike, fingerprint: str) -> Path:
    """Save the fitted ``scorer``'s state (tensors + JSON, no pickle) under its fingerprint, with its sidecar."""
    from safetensors.torch import save_file

    if not can_checkpoint(scorer):
        raise DataError(f"scorer {getattr(scorer, 'name', type(scorer).__name__)!r} has no checkpoint format "
                        "(its class declares no checkpoint_state)", field="scorer")
    if scorer.is_fitted:
        meta, tensors = scorer.checkpoint_state()
    else:
        meta, tensors = {}, {}
    header = {"format": FORMAT, "scorer": scorer.name, "fingerprint": scorer.fingerprint,
              "fitted": bool(scorer.is_fitted), "params": scorer.get_params(),
              "history_": getattr(scorer, "history_", []), "fit_seconds_": getattr(scorer, "fit_seconds_", None),
              "state": meta}
    text = json.dumps(to_jsonable(header), sort_keys=True, default=str)
    return write_verified(checkpoint_path(directory, fingerprint),
                           lambda tmp: save_file(tensors, str(tmp), metadata={"interlens": text}))


def load_checkpoint(scorer: Any, directory: str | os.PathLike, fingerprint: str) -> Path | None:
    """Restore ``scorer``'s fitted state from its checkpoint; the path when restored, else None.

    No checkpoint, or one for another scorer class or fingerprint: None (the caller fits again and overwrites
    it). A checkpoint whose bytes do not match its ``.sha256`` (or that has none), or an old ``.pt`` pickle:
    :class:`~interlens.errors.IntegrityError` / :class:`~interlens.errors.DataError`, one line -- never used.
    """
    path = checkpoint_path(directory, fingerprint)
    legacy = path.with_suffix(LEGACY_SUFFIX)
    if legacy.exists():
        raise DataError("a pickle checkpoint from an older interlens is not loaded (unpickling can run code); "
                        "delete it to refit", file=str(legacy))
    if not path.exists():
        return None
    if not can_checkpoint(scorer):
        return None
    data = read_verified(path, recovery=RECOVERY)  # hashed before a byte of it is parsed
    from safetensors import SafetensorError
    from safetensors.torch import load

    try:
        tensors = load(data)
        header = json.loads(_metadata(data).get("interlens", "{}"))
    except (SafetensorError, ValueError, OSError) as err:
        raise DataError(f"unreadable checkpoint ({err}); {RECOVERY}", file=str(path)) from None
    if (header.get("format") != FORMAT or header.get("scorer") != scorer.name
            or header.get("fingerprint") != fingerprint or not header.get("fitted")):
        return None
    scorer.history_ = [tuple(h) if isinstance(h, list) else h for h in header.get("history_", [])]
    try:
        scorer.restore_checkpoint_state(header["state"], tensors)
    except (KeyError, RuntimeError, TypeError, ValueError) as err:
        raise DataError(f"checkpoint does not fit scorer {scorer.name!r} ({str(err).splitlines()[0]}); {RECOVERY}",
                        file=str(path)) from None
    if header.get("fit_seconds_") is not None:
        scorer.fit_seconds_ = float(header["fit_seconds_"])
    if scorer.fingerprint != fingerprint:  # parameters differ from the ones the checkpoint was fitted with
        raise DataError(f"checkpoint restores fingerprint {scorer.fingerprint}, not {fingerprint}; {RECOVERY}",
                        file=str(path))
    return path


def _metadata(data: bytes) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors blob's JSON header (8-byte little-endian length, then JSON)."""
    size = int.from_bytes(data[:8], "little")
    if size <= 0 or size > len(data) - 8:
        raise ValueError("bad safetensors header length")
    return json.loads(data[8:8 + size]).get("__metadata__") or {}


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
    if (directory is not None and fingerprint is not None and scorer.fingerprint == fingerprint and not by_member
            and can_checkpoint(scorer)):
        path = save_checkpoint(scorer, directory, fingerprint)
        if log is not None:
            log(f"saved fitted scorer {scorer.name} to checkpoint {path}")
    return "fitted"
