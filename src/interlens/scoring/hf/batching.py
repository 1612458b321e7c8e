"""Run label scoring or generation over a whole dataset: encode, sort by length, batch, unsort.

Sorting by prompt length only reduces padding; since left padding and explicit positions make each
row independent of its batch mates, the result does not depend on the order or the batch size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ...data.schema import Dataset
from ...views import View
from .encoding import EncodedPrompt
from .generation import greedy_generate
from .labels import LabelSet
from .likelihood import label_logprobs, model_dtype, naive_label_logprobs
from .prompting import PromptBuilder


def _batches(prompts: Sequence[EncodedPrompt], batch_size: int) -> list[list[int]]:
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i].ids))
    return [order[s:s + batch_size] for s in range(0, len(order), max(1, batch_size))]


def _names(adapter_names: Sequence[str] | None, rows: list[int]) -> list[str] | None:
    return None if adapter_names is None else [adapter_names[i] for i in rows]


def dataset_logprobs(model: Any, builder: PromptBuilder, dataset: Dataset, view: View | str, *,
                     batch_size: int = 8, adapter_names: Sequence[str] | None = None, naive: bool = False,
                     device: str | torch.device = "cpu",
                     dtype: torch.dtype | None = None) -> tuple[np.ndarray, LabelSet]:
    """(N, K) summed label log-probabilities for every sample (``adapter_names``: one per sample)."""
    prompts, labels, _ = builder.encode(dataset, view)
    dtype = dtype or model_dtype(model)
    out = np.zeros((len(prompts), len(labels)))
    for rows in _batches(prompts, batch_size):
        chunk = [prompts[i] for i in rows]
        if naive:
            lp = naive_label_logprobs(model, builder.encoder, chunk, labels, adapter_names=_names(adapter_names, rows),
                                      device=device, dtype=dtype)
        else:
            batch = builder.encoder.collate(chunk).to(device, dtype)
            lp = label_logprobs(model, batch, labels, adapter_names=_names(adapter_names, rows))
        out[rows] = lp.cpu().numpy()
    return out, labels


def dataset_generations(model: Any, builder: PromptBuilder, dataset: Dataset, view: View | str, *,
                        batch_size: int = 8, max_new_tokens: int = 16, adapter_names: Sequence[str] | None = None,
                        device: str | torch.device = "cpu",
                        dtype: torch.dtype | None = None) -> tuple[list[str], tuple[str, ...]]:
    """Greedy answers for every sample, and the verbalised labels to parse them against."""
    prompts, _, rendered = builder.encode(dataset, view)
    dtype = dtype or model_dtype(model)
    texts = [""] * len(prompts)
    for rows in _batches(prompts, batch_size):
        batch = builder.encoder.collate([prompts[i] for i in rows]).to(device, dtype)
        answers = greedy_generate(model, builder.tokenizer, batch, max_new_tokens=max_new_tokens,
                                  adapter_names=_names(adapter_names, rows))
        for i, text in zip(rows, answers, strict=True):
            texts[i] = text
    words = rendered[0].verbalized if rendered else tuple(dataset.labels)
    return texts, words
