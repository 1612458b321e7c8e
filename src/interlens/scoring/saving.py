"""Saved models in the ecosystem's formats (``save_pretrained`` of the scorers).

* ``minilm-ft``: one standard ``BertForSequenceClassification`` folder per fitted view, written by
  :func:`interlens.scoring.hf_export.save_minilm_pretrained` (``AutoModelForSequenceClassification`` and
  ``pipeline("text-classification")`` reproduce the scores; docs/saved-models.md). :func:`save_minilm` below
  is the earlier layout (the fine-tuned encoder for ``AutoModel`` + ``head.safetensors``; logits =
  ``head(mean of last_hidden_state over non-padding tokens)``), kept so that tests check such folders still load.
* ``embedding``: each head's and image encoder's state dict as safetensors plus ``interlens.json``.
* ``hf-lm`` / ``hf-vlm``: the LoRA adapters in PEFT format (``<dir>/<adapter>/adapter_config.json`` +
  ``adapter_model.safetensors``, loadable with ``peft.PeftModel.from_pretrained``) plus ``interlens.json``
  (the view -> adapter map and the label set).

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
from ..io import atomic_write, atomic_write_text, to_jsonable

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


def save_minilm(scorer: Any, directory: str | os.PathLike) -> dict[str, Path]:
    """Save every fitted view of a ``minilm-ft`` scorer; returns ``{view: folder}``."""
    root = Path(directory)
    folders = {}
    for key, model in _fitted(scorer, "models_").items():
        folder = root / _slug(key)
        model.encoder.save_pretrained(str(folder), safe_serialization=True)
        scorer.tokenizer_.save_pretrained(str(folder))
        _save_tensors({"weight": model.head.weight, "bias": model.head.bias}, folder / "head.safetensors")
        _write_meta(folder / "interlens.json", {
            "scorer": scorer.name, "view": key, "modalities": key.split("+"), "labels": list(scorer.labels_),
            "label2id": {label: i for i, label in enumerate(scorer.labels_)}, "pooling": "mean",
            "max_length": scorer.max_length, "segments": "first modality = segment A, the others joined by "
                                                         "newlines = segment B (most recent tokens kept)",
            "params": scorer.get_params(), "fingerprint": scorer.fingerprint,
            "best_epoch": scorer.best_epoch_.get(key)})
        folders[key] = folder
    _write_meta(root / "interlens.json", {"scorer": scorer.name, "views": {k: str(p.name) for k, p in folders.items()},
                                          "labels": list(scorer.labels_), "fingerprint": scorer.fingerprint})
    return folders


def save_embedding(scorer: Any, directory: str | os.PathLike) -> dict[str, Path]:
    """Save the heads (and image encoders) of an ``embedding`` scorer; returns ``{name: file}``."""
    root = Path(directory)
    files = {}
    for key, head in _fitted(scorer, "heads_").items():
        files[key] = _save_tensors(head.state_dict(), root / f"head_{_slug(key)}.safetensors")
    for modality, encoder in getattr(scorer, "image_encoders_", {}).items():
        files[f"image_encoder:{modality}"] = _save_tensors(encoder.state_dict(),
                                                           root / f"image_encoder_{_slug(modality)}.safetensors")
    _write_meta(root / "interlens.json", {
        "scorer": scorer.name, "labels": list(scorer.labels_),
        "label2id": {label: i for i, label in enumerate(scorer.labels_)}, "modalities": list(scorer.modalities_),
        "kinds": scorer.kinds_, "dims": scorer.dims_, "params": scorer.get_params(),
        "fingerprint": scorer.fingerprint, "files": {k: p.name for k, p in files.items()},
        "text_encoder": "all-MiniLM-L6-v2 (frozen, mean pooling, normalised)"})
    seal(root)
    return files


def save_hf(scorer: Any, directory: str | os.PathLike) -> dict[str, Path]:
    """Save an ``hf-lm`` / ``hf-vlm`` scorer's LoRA adapters (PEFT format); returns ``{adapter: folder}``."""
    root = Path(directory)
    info = scorer.save_adapters(root)
    views = {key: name for key, name in scorer._adapters().items()}
    _write_meta(root / "interlens.json", {
        "scorer": scorer.name, "adapters": {name: str(Path(p).name) for name, p in info.folders.items()},
        "views": views, "labels": list(getattr(scorer, "labels_", []) or []),
        "base_model": str(scorer.model_path) if getattr(scorer, "model_path", None) else None,
        "fingerprint": scorer.fingerprint})
    seal(root)
    return dict(info.folders)
