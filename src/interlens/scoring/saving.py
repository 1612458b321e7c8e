"""Saved models in the ecosystem's formats (``save_pretrained`` of the scorers).

Each scorer that declares ``Capability.SAVABLE`` writes and reads its own state (``save_pretrained(dir)`` /
the classmethod ``from_pretrained(dir)``, next to that state; issue 29): this module holds only what they
share -- the manifest, ``interlens.json`` and safetensors helpers -- and reads no scorer's private attribute.

* ``minilm-ft``: one standard ``BertForSequenceClassification`` folder per fitted view
  (:mod:`interlens.scoring.hf_export`; docs/saved-models.md); :func:`save_minilm` is the earlier layout.
* ``embedding``: each head's and image encoder's state dict as safetensors plus ``interlens.json``.
* ``clip``: the linear heads as safetensors plus ``interlens.json`` (the base CLIP folder is referenced).
* ``ensemble``: each member's own folder plus ``interlens.json``.
* ``hf-lm`` / ``hf-vlm``: the LoRA adapters in PEFT format plus ``interlens.json``.

Every saved folder gets an ``interlens.sha256`` manifest (``sha256sum -c interlens.sha256`` checks it; issue
30): :func:`check_saved` verifies it before a folder is loaded, so a changed or corrupted file is refused in
one line instead of giving other scores.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..integrity import MANIFEST, check_manifest, write_manifest
from ..io import atomic_write, atomic_write_text, read_json, to_jsonable

#: what to do when a saved model fails its check
RECOVERY = "save the model again (or re-download it from its source)"


def seal(directory: str | os.PathLike) -> Path:
    """Write the folder's ``interlens.sha256`` manifest (after everything else is saved)."""
    return write_manifest(directory)


def check_saved(directory: str | os.PathLike) -> None:
    """Verify a saved model folder against its manifest before it is loaded; a folder saved before manifests
    existed (none there) loads with a warning that it cannot be verified."""
    root = Path(directory)
    if not (root / MANIFEST).is_file():
        import logging

        logging.getLogger(__name__).warning("%s has no %s (saved by an older interlens): its files cannot be "
                                            "verified", root, MANIFEST)
        return
    check_manifest(root, recovery=RECOVERY)


def _slug(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", key) or "view"


def _write_meta(path: Path, meta: dict[str, Any]) -> Path:
    return atomic_write_text(path, json.dumps(to_jsonable(meta), indent=2, ensure_ascii=False) + "\n")


def _save_tensors(tensors: dict[str, Any], path: Path) -> Path:
    from safetensors.torch import save_file

    state = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    return atomic_write(path, lambda p: save_file(state, str(p)))


def _fitted(scorer: Any, attribute: str) -> dict[str, Any]:
    models = getattr(scorer, attribute, None)
    if not models:
        raise DataError(f"{scorer.name} scorer is not fitted; call fit() before save_pretrained()")
    return models


def read_meta(directory: str | os.PathLike, scorer: str) -> dict[str, Any]:
    """``directory/interlens.json`` of a folder saved by scorer ``scorer`` (checked against the folder's
    manifest first); anything else is one DataError naming the file."""
    root = Path(directory)
    check_saved(root)
    path = root / "interlens.json"
    meta = read_json(path, missing=f"not a saved {scorer} model: interlens.json missing")
    if not isinstance(meta, dict) or meta.get("scorer") != scorer:
        found = meta.get("scorer") if isinstance(meta, dict) else None
        raise DataError(f"not a saved {scorer} model (saved by scorer {found!r})", file=str(path), field="scorer")
    return meta


def saved_file(directory: str | os.PathLike, name: Any) -> Path:
    """``directory/name`` for a file name read from ``interlens.json`` (a bare name: no folder, no ``..``)."""
    if not isinstance(name, str) or not name or Path(name).name != name or name in (".", ".."):
        raise DataError(f"saved file name {name!r} is not a bare file name",
                        file=str(Path(directory) / "interlens.json"))
    return Path(directory) / name


def save_minilm(scorer: Any, directory: str | os.PathLike) -> dict[str, Path]:
    """The earlier ``minilm-ft`` layout (kept so tests check such folders still load): the scorer's own
    :meth:`~interlens.scoring.minilm_ft.MiniLMFineTuneScorer.save_encoder_and_head`."""
    return scorer.save_encoder_and_head(directory)
