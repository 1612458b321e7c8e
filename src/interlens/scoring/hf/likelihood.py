"""Label-likelihood scoring: log p(label | prompt) summed over ALL label tokens (full-vocabulary
softmax), in one pass of the prompt.

MMoE scored only the first sub-token of each label (field notes) — wrong for multi-token labels.
Here every token counts. One-pass method: (1) run the prompt batch once, keeping its KV cache and
only the last position's logits (they score every label's first token); (2) run the label trie as
*one* packed continuation per row on top of that cache, with a 4-D attention mask (a node sees the
prompt and its own ancestors) and explicit positions (prompt length + depth), so each label token is
conditioned exactly as in a separate forward pass. ``naive_label_logprobs`` is the K-forward
reference used by tests and the benchmark.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ...errors import DataError
from .encoding import Batch, EncodedPrompt, TextEncoder, unwrap_model
from .labels import LabelSet


def _adapter_kwargs(adapter_names: Sequence[str] | None) -> dict[str, Any]:
    return {"adapter_names": list(adapter_names)} if adapter_names is not None else {}


def model_dtype(model: Any) -> torch.dtype:
    return next(p for p in model.parameters() if p.is_floating_point()).dtype


def _trie_mask(batch: Batch, labels: LabelSet, dtype: torch.dtype) -> torch.Tensor:
    """Additive (B, 1, N, T+N) mask: 0 where attention is allowed, the dtype's minimum elsewhere."""
    bsz, n = batch.input_ids.shape[0], len(labels.node_token)
    device = batch.input_ids.device
    allowed = torch.cat([batch.attention_mask.bool()[:, None, :].expand(bsz, n, -1),
                         labels.node_attend.to(device)[None].expand(bsz, n, n)], dim=-1)
    mask = torch.zeros(allowed.shape, dtype=dtype, device=device)
    mask.masked_fill_(~allowed, torch.finfo(dtype).min)
    return mask[:, None]


def _gather_logprobs(logits: torch.Tensor, labels: LabelSet, chunk: int = 64) -> torch.Tensor:
    """(B, M) log-probabilities of each trie target under the full-vocabulary softmax."""
    device = logits.device
    node, token = labels.target_node.to(device), labels.target_token.to(device)
    lse = torch.cat([torch.logsumexp(logits[:, s:s + chunk].float(), dim=-1)
                     for s in range(0, logits.shape[1], chunk)], dim=1)
    return logits[:, node, token].float() - lse[:, node]


@torch.inference_mode()
def label_logprobs(model: Any, batch: Batch, labels: LabelSet, *,
                   adapter_names: Sequence[str] | None = None) -> torch.Tensor:
    """(B, K) float64 summed log-probabilities of each label after each prompt (one-pass method)."""
    attn = str(getattr(unwrap_model(model).config, "_attn_implementation", "") or "")
    if "flash" in attn:
        raise DataError(f"one-pass label scoring needs a custom 4-D attention mask, which {attn!r} ignores; "
                        "load the model with attn_implementation='sdpa' (or use naive_label_logprobs)")
    adapters = _adapter_kwargs(adapter_names)
    out = model(**batch.model_kwargs(), use_cache=True, logits_to_keep=1, **adapters)
    first = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
    scores = first[:, labels.first_token.to(first.device)].double()
    if len(labels.node_token) == 0:
        return scores
    bsz, device = batch.input_ids.shape[0], batch.input_ids.device
    positions = batch.next_position[:, None] + labels.node_depth.to(device)[None]
    if batch.mrope:
        positions = positions[None].expand(3, -1, -1)
    nodes = labels.node_token.to(device)[None].expand(bsz, -1)
    cache = getattr(out, "past_key_values", None)
    if cache is None and getattr(out, "language_model_outputs", None) is not None:  # BLIP-2
        cache = out.language_model_outputs.past_key_values
    cont = model(input_ids=nodes, attention_mask=_trie_mask(batch, labels, model_dtype(model)),
                 position_ids=positions, past_key_values=cache, use_cache=True, **batch.continuation, **adapters)
    lp = _gather_logprobs(cont.logits, labels).double()
    return scores.index_add_(1, labels.target_label.to(device), lp)


@torch.inference_mode()
def naive_label_logprobs(model: Any, encoder: TextEncoder, prompts: Sequence[EncodedPrompt], labels: LabelSet, *,
                         adapter_names: Sequence[str] | None = None, device: str | torch.device = "cpu",
                         dtype: torch.dtype | None = None) -> torch.Tensor:
    """Reference: one full forward of prompt + label per label (K forwards), same quantities."""
    columns = []
    for ids in labels.token_ids:
        batch = encoder.collate(prompts, [ids] * len(prompts)).to(device, dtype)
        out = model(**batch.model_kwargs(), logits_to_keep=len(ids) + 1, **_adapter_kwargs(adapter_names))
        # the last len(ids) + 1 positions (Qwen2-Audio ignores logits_to_keep and returns them all)
        logp = torch.log_softmax(out.logits[:, -(len(ids) + 1):-1].float(), dim=-1)
        target = torch.tensor(ids, device=logp.device)[None, :, None].expand(len(prompts), -1, 1)
        columns.append(logp.gather(-1, target).squeeze(-1).double().sum(-1))
    return torch.stack(columns, dim=1)


def label_probs(logprobs: torch.Tensor, labels: LabelSet, *, length_norm: bool = False) -> torch.Tensor:
    """Softmax over the label set of summed (or, with ``length_norm``, per-token mean) log-probs."""
    scores = logprobs / labels.lengths.to(logprobs.device) if length_norm else logprobs
    return torch.softmax(scores.double(), dim=-1)
