"""Trainable heads over frozen modality features (float64 torch modules).

* ``mlp`` -- a unimodal head (MMoE's unimodal predictors, trained on one modality).
* ``late`` -- late fusion: the sum of one MLP per modality (no cross-modal terms).
* ``concat`` -- an MLP over the concatenated modality features.
* ``linear`` -- one linear layer over the concatenated features (a logistic model, also for the
  unimodal heads): every sample shares the same per-feature weights, so it cannot carve out a region
  of input space for a subset of samples -- what counterfactual training (MCTD, MME-JD Eq. 9) needs.
* ``tensor`` -- tensor fusion (Zadeh et al., 2017): the outer product of ``[h_1; 1]`` and
  ``[h_2; 1]`` of low-rank projections, so cross-modal (multiplicative) terms are explicit; this is
  what lets a head represent synergy (a label that is a function of both modalities).
"""

from __future__ import annotations

import torch
from torch import nn

FUSIONS = ("late", "concat", "tensor", "linear")


def _mlp(d_in: int, hidden: int, d_out: int) -> nn.Module:
    return nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, d_out))


class MLPHead(nn.Module):
    def __init__(self, dims: list[int], hidden: int, n_classes: int) -> None:
        super().__init__()
        self.net = _mlp(sum(dims), hidden, n_classes)

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        return self.net(torch.cat(feats, dim=-1))


class LinearHead(nn.Module):
    def __init__(self, dims: list[int], n_classes: int) -> None:
        super().__init__()
        self.net = nn.Linear(sum(dims), n_classes)

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        return self.net(torch.cat(feats, dim=-1))


class LateFusionHead(nn.Module):
    def __init__(self, dims: list[int], hidden: int, n_classes: int) -> None:
        super().__init__()
        self.branches = nn.ModuleList([_mlp(d, hidden, n_classes) for d in dims])

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack([branch(x) for branch, x in zip(self.branches, feats, strict=True)]).sum(0)


class TensorFusionHead(nn.Module):
    def __init__(self, dims: list[int], hidden: int, n_classes: int, rank: int = 16) -> None:
        super().__init__()
        if len(dims) != 2:
            raise ValueError(f"tensor fusion takes exactly two modalities, got {len(dims)}")
        self.proj = nn.ModuleList([nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, rank))
                                   for d in dims])
        self.out = _mlp((rank + 1) ** 2, hidden, n_classes)

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        one = torch.ones(feats[0].shape[0], 1, dtype=feats[0].dtype)
        a, b = (torch.cat([proj(x), one], dim=-1) for proj, x in zip(self.proj, feats, strict=True))
        return self.out(torch.einsum("ni,nj->nij", a, b).flatten(1))


def make_head(kind: str, dims: list[int], hidden: int, n_classes: int, rank: int = 16) -> nn.Module:
    if kind == "linear":
        return LinearHead(dims, n_classes)
    if len(dims) == 1 or kind == "concat":
        return MLPHead(dims, hidden, n_classes)
    if kind == "late":
        return LateFusionHead(dims, hidden, n_classes)
    if kind == "tensor":
        return TensorFusionHead(dims, hidden, n_classes, rank)
    raise ValueError(f"unknown fusion {kind!r}; choose one of {FUSIONS}")


class ImageEncoder(nn.Module):
    """A small MLP image encoder trained on CPU (pixels -> ``dim`` features)."""

    def __init__(self, n_pixels: int, hidden: int = 64, dim: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_pixels, hidden), nn.ReLU(), nn.Linear(hidden, dim), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MeanPooledClassifier(nn.Module):
    """``minilm-ft``'s model: a transformer encoder, the mean of its last hidden states over the real tokens,
    dropout and a linear head. Here, beside the other heads, so that ``minilm_ft``, ``hf_export`` and
    ``checkpoints`` can all build it without importing one another (issue 29: no cycles);
    ``minilm_ft._Model`` is this class."""

    def __init__(self, encoder: nn.Module, n_classes: int, dropout: float) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, n_classes)

    def pool(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **extra: torch.Tensor) -> torch.Tensor:
        """Mean of the last hidden states over the real (unpadded) tokens."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **extra: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.pool(input_ids, attention_mask, **extra)))
