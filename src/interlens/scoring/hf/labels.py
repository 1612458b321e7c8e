"""Candidate labels as token sequences, and the prefix trie that lets one pass score all of them.

Labels are tokenised *separately* from the prompt (no BPE merge across the boundary; ecosystem
notes, section 3). The trie holds every proper prefix of every label once: a node is fed as an input
token and its output distribution scores the next token of each label passing through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ...errors import DataError


@dataclass(frozen=True)
class LabelSet:
    """K labels: their strings, token ids and the shared-prefix trie (N nodes, M non-first targets)."""

    texts: tuple[str, ...]
    token_ids: tuple[tuple[int, ...], ...]
    first_token: torch.Tensor  # (K,) first token of each label, scored from the prompt's last logits
    node_token: torch.Tensor  # (N,) input token of each trie node
    node_depth: torch.Tensor  # (N,) offset after the prompt (0 = first label token)
    node_attend: torch.Tensor  # (N, N) bool: node i sees node j (j is i or an ancestor of i)
    target_node: torch.Tensor  # (M,) node whose output scores the target
    target_token: torch.Tensor  # (M,)
    target_label: torch.Tensor  # (M,)

    @property
    def lengths(self) -> torch.Tensor:
        return torch.tensor([len(t) for t in self.token_ids], dtype=torch.float64)

    def __len__(self) -> int:
        return len(self.texts)


def tokenize_label(tokenizer: Any, text: str) -> tuple[int, ...]:
    """Token ids of one label continuation; a clear error for empty or unknown-token labels."""
    if not text.strip():
        raise DataError(f"label {text!r} is empty", field="labels")
    ids = tuple(int(t) for t in tokenizer(text, add_special_tokens=False)["input_ids"])
    if not ids:
        raise DataError(f"label {text!r} tokenises to no tokens", field="labels")
    unk = getattr(tokenizer, "unk_token_id", None)
    if unk is not None and unk in ids:
        raise DataError(f"label {text!r} is not tokenisable: it maps to the unknown token "
                        f"{tokenizer.unk_token!r}", field="labels")
    return ids


def build_label_set(tokenizer: Any, texts: Sequence[str]) -> LabelSet:
    """Tokenise each label continuation and build the trie of proper prefixes."""
    texts = tuple(texts)
    if not texts:
        raise DataError("no candidate labels", field="labels")
    token_ids = tuple(tokenize_label(tokenizer, t) for t in texts)
    seen: dict[tuple[int, ...], str] = {}
    for text, ids in zip(texts, token_ids, strict=True):
        if ids in seen:
            raise DataError(f"labels {seen[ids]!r} and {text!r} tokenise identically ({list(ids)})", field="labels")
        seen[ids] = text
    node_of: dict[tuple[int, ...], int] = {}
    parent: list[int] = []
    node_token: list[int] = []
    node_depth: list[int] = []
    targets: list[tuple[int, int, int]] = []
    for k, ids in enumerate(token_ids):
        for j in range(1, len(ids)):
            prefix = ids[:j]
            if prefix not in node_of:
                node_of[prefix] = len(node_token)
                parent.append(node_of[prefix[:-1]] if j > 1 else -1)
                node_token.append(prefix[-1])
                node_depth.append(j - 1)
            targets.append((node_of[prefix], ids[j], k))
    n = len(node_token)
    attend = torch.zeros((n, n), dtype=torch.bool)
    for i in range(n):
        j = i
        while j >= 0:
            attend[i, j] = True
            j = parent[j]
    tgt = torch.tensor(targets, dtype=torch.long).reshape(-1, 3)
    return LabelSet(texts=texts, token_ids=token_ids,
                    first_token=torch.tensor([ids[0] for ids in token_ids], dtype=torch.long),
                    node_token=torch.tensor(node_token, dtype=torch.long),
                    node_depth=torch.tensor(node_depth, dtype=torch.long), node_attend=attend,
                    target_node=tgt[:, 0], target_token=tgt[:, 1], target_label=tgt[:, 2])
