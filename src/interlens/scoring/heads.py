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
* ``gated`` -- per-modality logits (an MLP each) weighted by a learned per-sample softmax gate over the
  modalities, computed from the concatenated features (the router idea of MMoE Sec. 3.3 / mixtures of
  experts, applied to modalities).

``residual`` (issue 27): ``logits = sum_m linear_m(h_m) + term(h_1..h_M)`` where ``term`` is any of the
fusion heads above with its last layer(s) zero-initialised -- the fused head *starts as* late fusion of
linear unimodal heads and can always fall back to them, so it cannot be forced below its best input.
"""

from __future__ import annotations

import torch
from torch import nn

FUSIONS = ("late", "concat", "tensor", "linear", "gated")


def _mlp(d_in: int, hidden: int, d_out: int) -> nn.Module:
    return nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, d_out))


class MLPHead(nn.Module):
    def __init__(self, dims: list[int], hidden: int, n_classes: int) -> None:
        super().__init__()
        self.net = _mlp(sum(dims), hidden, n_classes)

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        return self.net(torch.cat(feats, dim=-1))

    def output_layers(self) -> list[nn.Linear]:
        return [self.net[-1]]


class LinearHead(nn.Module):
    def __init__(self, dims: list[int], n_classes: int) -> None:
        super().__init__()
        self.net = nn.Linear(sum(dims), n_classes)

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        return self.net(torch.cat(feats, dim=-1))

    def output_layers(self) -> list[nn.Linear]:
        return [self.net]


class LateFusionHead(nn.Module):
    def __init__(self, dims: list[int], hidden: int, n_classes: int) -> None:
        super().__init__()
        self.branches = nn.ModuleList([_mlp(d, hidden, n_classes) for d in dims])

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack([branch(x) for branch, x in zip(self.branches, feats, strict=True)]).sum(0)

    def output_layers(self) -> list[nn.Linear]:
        return [branch[-1] for branch in self.branches]


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

    def output_layers(self) -> list[nn.Linear]:
        return [self.out[-1]]


class GatedFusionHead(nn.Module):
    """``sum_m g_m(h) z_m(h_m)``: per-modality logits ``z_m`` (an MLP each) weighted by a per-sample softmax
    gate ``g`` over the modalities, an MLP of the concatenated features (MMoE Sec. 3.3's router idea)."""

    def __init__(self, dims: list[int], hidden: int, n_classes: int) -> None:
        super().__init__()
        self.branches = nn.ModuleList([_mlp(d, hidden, n_classes) for d in dims])
        self.gate = _mlp(sum(dims), hidden, len(dims))

    def gates(self, feats: list[torch.Tensor]) -> torch.Tensor:
        """(n, M) per-sample modality weights (each row sums to 1)."""
        return torch.softmax(self.gate(torch.cat(feats, dim=-1)), dim=-1)

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        z = torch.stack([branch(x) for branch, x in zip(self.branches, feats, strict=True)], dim=1)
        return (self.gates(feats).unsqueeze(-1) * z).sum(1)

    def output_layers(self) -> list[nn.Linear]:
        return [branch[-1] for branch in self.branches]


class ResidualFusion(nn.Module):
    """``sum_m linear_m(h_m) + term(h_1..h_M)`` with ``term``'s output layers zero-initialised (issue 27):
    at initialisation exactly late fusion of linear unimodal heads (``unimodal``), which the fused model
    can fall back to."""

    def __init__(self, dims: list[int], n_classes: int, term: nn.Module) -> None:
        super().__init__()
        self.linears = nn.ModuleList([nn.Linear(d, n_classes) for d in dims])
        self.term = term
        with torch.no_grad():
            for layer in term.output_layers():
                layer.weight.zero_()
                layer.bias.zero_()

    def unimodal(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        """Each modality's linear logits ``linear_m(h_m)``."""
        return [linear(x) for linear, x in zip(self.linears, feats, strict=True)]

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack(self.unimodal(feats)).sum(0) + self.term(feats)


class SplitInput(nn.Module):
    """A head over a list of per-modality features, called with their concatenation (split by ``dims``)."""

    def __init__(self, head: nn.Module, dims: list[int], n_classes: int) -> None:
        super().__init__()
        self.fusion, self.dims = head, list(dims)
        self.in_features, self.out_features = sum(dims), n_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fusion(list(x.split(self.dims, dim=-1)))


def make_head(kind: str, dims: list[int], hidden: int, n_classes: int, rank: int = 16,
              residual: bool = False) -> nn.Module:
    """The head of a view with features of widths ``dims``; ``residual`` (several modalities only) wraps the
    fusion head in :class:`ResidualFusion`. One modality: the unimodal head (``linear`` or an MLP)."""
    if kind == "linear" and (len(dims) == 1 or not residual):
        return LinearHead(dims, n_classes)
    if len(dims) == 1:
        return MLPHead(dims, hidden, n_classes)
    if kind == "concat":
        term: nn.Module = MLPHead(dims, hidden, n_classes)
    elif kind == "linear":
        term = LinearHead(dims, n_classes)
    elif kind == "late":
        term = LateFusionHead(dims, hidden, n_classes)
    elif kind == "tensor":
        term = TensorFusionHead(dims, hidden, n_classes, rank)
    elif kind == "gated":
        term = GatedFusionHead(dims, hidden, n_classes)
    else:
        raise ValueError(f"unknown fusion {kind!r}; choose one of {FUSIONS}")
    return ResidualFusion(dims, n_classes, term) if residual else term


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


#: how ``minilm-ft`` pools a multi-modality view (issue 27)
POOLINGS = ("joint", "segments", "separate")
#: fusions of per-modality vectors ``minilm-ft`` offers (``pooling`` other than ``joint``)
TEXT_FUSIONS = ("late", "concat", "gated", "tensor")


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``hidden`` (n, T, H) over the positions where ``mask`` (n, T) is non-zero (zeros where none)."""
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class ModalityPooledClassifier(nn.Module):
    """``minilm-ft``'s fused model (issue 27): one mean-pooled vector per modality, then a residual fusion
    head (:class:`ResidualFusion`: per-modality linear logits + a zero-initialised fusion term).

    ``pooling="segments"``: one encoder pass over ``[CLS] A [SEP] B [SEP]``; each modality's vector is the
    mean over its own tokens (``modality_ids``; -1 for padding). ``pooling="separate"``: each modality
    through the (shared) encoder on its own (``parts``: one batch per modality). ``pool`` returns the
    vectors concatenated (n, M * H), as router features; ``head`` takes that concatenation."""

    def __init__(self, encoder: nn.Module, n_classes: int, dropout: float, n_modalities: int, fusion: str,
                 pooling: str, hidden: int = 128, rank: int = 16) -> None:
        super().__init__()
        if pooling not in POOLINGS[1:]:
            raise ValueError(f"pooling must be one of {POOLINGS[1:]} for per-modality vectors, got {pooling!r}")
        if fusion not in TEXT_FUSIONS:
            raise ValueError(f"fusion must be one of {TEXT_FUSIONS}, got {fusion!r}")
        self.encoder, self.pooling, self.n_modalities = encoder, pooling, n_modalities
        self.dropout = nn.Dropout(dropout)
        dims = [encoder.config.hidden_size] * n_modalities
        self.head = SplitInput(make_head(fusion, dims, hidden, n_classes, rank, residual=True), dims, n_classes)

    def _hidden(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                            token_type_ids=batch.get("token_type_ids")).last_hidden_state

    def pool_each(self, input_ids: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None,
                  token_type_ids: torch.Tensor | None = None, modality_ids: torch.Tensor | None = None,
                  parts: list[dict[str, torch.Tensor]] | None = None) -> list[torch.Tensor]:
        """One (n, H) mean-pooled vector per modality."""
        if self.pooling == "separate":
            if parts is None or len(parts) != self.n_modalities:
                raise ValueError(f"separate pooling needs {self.n_modalities} parts")
            return [masked_mean(self._hidden(part), part["attention_mask"]) for part in parts]
        if input_ids is None or attention_mask is None or modality_ids is None:
            raise ValueError("segment pooling needs input_ids, attention_mask and modality_ids")
        hidden = self._hidden({"input_ids": input_ids, "attention_mask": attention_mask,
                               "token_type_ids": token_type_ids})
        return [masked_mean(hidden, (modality_ids == m) & attention_mask.bool()) for m in range(self.n_modalities)]

    def pool(self, **batch: torch.Tensor) -> torch.Tensor:
        """The per-modality vectors, concatenated: (n, M * H)."""
        return torch.cat(self.pool_each(**batch), dim=-1)

    def forward(self, **batch: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.pool(**batch)))
