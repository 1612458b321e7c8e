"""Generate-and-parse (MMLA, Sec. 3.3): greedy decoding, then MMLA's one-hit rule.

The rule: a label counts as predicted when exactly one candidate occurs in the answer at word
boundaries (case-insensitive); none or several is a parse failure. Unlike the MMLA code, a failure is
not turned into an extra "unknown"/"multi" class (field notes): it becomes an all-NaN probability row,
which ``interlens.metrics`` counts as an error over the gold label set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .encoding import Batch


@dataclass(frozen=True)
class ParseResult:
    """``index`` of the single label hit, or -1; ``hits`` lists every label found."""

    index: int
    hits: tuple[int, ...]

    @property
    def reason(self) -> str:
        return "ok" if self.index >= 0 else ("no label" if not self.hits else "several labels")


def parse_label(text: str, labels: Sequence[str], *, case_sensitive: bool = False) -> ParseResult:
    """MMLA one-hit rule: exactly one label matched at word boundaries -> that label, else -1."""
    flags = 0 if case_sensitive else re.IGNORECASE
    hits = tuple(k for k, label in enumerate(labels)
                 if label.strip() and re.search(rf"(?<!\w){re.escape(label.strip())}(?!\w)", text, flags))
    return ParseResult(hits[0] if len(hits) == 1 else -1, hits)


def one_hot_or_nan(results: Sequence[ParseResult], k: int) -> np.ndarray:
    """Probability rows: one-hot for a parsed label, all-NaN for a parse failure."""
    probs = np.full((len(results), k), np.nan)
    for row, result in enumerate(results):
        if result.index >= 0:
            probs[row] = 0.0
            probs[row, result.index] = 1.0
    return probs


def stop_token_ids(tokenizer: Any) -> list[int]:
    """eos plus common end-of-turn tokens present in the vocabulary."""
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    vocab = tokenizer.get_vocab()
    for token in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>"):
        if token in vocab:
            ids.add(vocab[token])
    return sorted(ids)


@torch.inference_mode()
def greedy_generate(model: Any, tokenizer: Any, batch: Batch, *, max_new_tokens: int = 16,
                    adapter_names: Sequence[str] | None = None) -> list[str]:
    """Greedy (deterministic) continuations of a left-padded batch, decoded without special tokens.

    Positions are left to ``generate`` (it derives them from the attention mask; Qwen2-VL from its
    M-RoPE index), and an explicit greedy config overrides any sampling defaults shipped with a model."""
    from transformers import GenerationConfig

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    config = GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, num_beams=1,
                              eos_token_id=stop_token_ids(tokenizer), pad_token_id=pad)
    kwargs = {"adapter_names": list(adapter_names)} if adapter_names is not None else {}
    out = model.generate(**batch.model_kwargs(positions=False), generation_config=config, **kwargs)
    new = out[:, batch.input_ids.shape[1]:]
    return [tokenizer.decode(row, skip_special_tokens=True) for row in new]
