"""Fusion heads with a residual from each modality (issue 27 item 1): at initialisation a residual head's logits
are exactly the sum of its per-modality linear parts (the fusion term's last layer starts at zero) and the term
still learns; the gated head against a hand computation; the embedding scorer's ``residual`` option (hashed
only when set, saved and reloaded with identical probabilities, refused when not a bool)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interlens.data.schema import Dataset, Sample
from interlens.errors import DataError
from interlens.scoring.embedding import EmbeddingScorer
from interlens.scoring.heads import (
    FUSIONS,
    GatedFusionHead,
    MLPHead,
    ResidualFusion,
    SplitInput,
    TensorFusionHead,
    make_head,
)


def _feats(dims: list[int], n: int = 5) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(3)
    return [torch.randn(n, d, generator=gen, dtype=torch.float64) for d in dims]


@pytest.mark.parametrize("kind", FUSIONS)
@pytest.mark.parametrize("dims", [[3, 4], [3, 4, 2]])
def test_residual_head_starts_as_the_sum_of_per_modality_linear_logits(kind, dims):
    if kind == "tensor" and len(dims) == 3:
        with pytest.raises(ValueError, match="tensor fusion takes exactly two modalities, got 3"):
            make_head(kind, dims, 6, 3, rank=2, residual=True)
        return
    torch.manual_seed(0)
    head = make_head(kind, dims, 6, 3, rank=2, residual=True).double()
    assert isinstance(head, ResidualFusion)
    feats = _feats(dims)
    logits = head(feats)
    hand = sum(x.numpy() @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
               for x, lin in zip(feats, head.linears, strict=True))
    assert torch.equal(head.term(feats), torch.zeros(5, 3, dtype=torch.float64))
    assert torch.equal(logits, torch.stack(head.unimodal(feats)).sum(0))
    np.testing.assert_allclose(logits.detach().numpy(), hand, rtol=0, atol=1e-12)
    # the zero-initialised term is not stuck: its output layer gets a gradient from the first step
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2, 0, 1])).backward()
    assert any(float(layer.weight.grad.abs().sum()) > 0 for layer in head.term.output_layers())


def test_one_modality_ignores_residual_and_keeps_the_unimodal_head():
    torch.manual_seed(0)
    plain = make_head("gated", [4], 6, 3)
    torch.manual_seed(0)
    residual = make_head("gated", [4], 6, 3, residual=True)
    assert isinstance(plain, MLPHead) and isinstance(residual, MLPHead)
    for a, b in zip(plain.state_dict().values(), residual.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert isinstance(make_head("tensor", [3, 4], 6, 3, rank=2), TensorFusionHead)  # no residual: as before


def test_gated_head_weights_per_modality_logits_by_a_softmax_gate():
    torch.manual_seed(1)
    head = make_head("gated", [3, 2], 4, 2).double()
    assert isinstance(head, GatedFusionHead)
    feats = _feats([3, 2], n=4)

    def mlp(net, x):
        hidden = np.maximum(x @ net[0].weight.detach().numpy().T + net[0].bias.detach().numpy(), 0)
        return hidden @ net[2].weight.detach().numpy().T + net[2].bias.detach().numpy()

    gate = mlp(head.gate, np.concatenate([f.numpy() for f in feats], axis=1))
    gate = np.exp(gate - gate.max(1, keepdims=True))
    gate /= gate.sum(1, keepdims=True)
    hand = sum(gate[:, [m]] * mlp(branch, f.numpy()) for m, (branch, f) in enumerate(zip(head.branches, feats,
                                                                                         strict=True)))
    np.testing.assert_allclose(head(feats).detach().numpy(), hand, rtol=0, atol=1e-12)
    np.testing.assert_allclose(head.gates(feats).sum(1).detach().numpy(), 1.0, rtol=0, atol=1e-12)


def test_split_input_splits_the_concatenation():
    torch.manual_seed(0)
    head = make_head("concat", [3, 4], 6, 2, residual=True).double()
    wrapped = SplitInput(head, [3, 4], 2)
    feats = _feats([3, 4])
    assert (wrapped.in_features, wrapped.out_features) == (7, 2)
    assert torch.equal(wrapped(torch.cat(feats, dim=1)), head(feats))


# -- the embedding scorer's residual option ---------------------------------------------------------------------
def _vectors() -> Dataset:
    """``u``: a features vector that gives the label; ``c``: noise (no text encoder needed)."""
    rng = np.random.default_rng(0)
    samples = []
    for i in range(24):
        y = i % 2
        samples.append(Sample(f"s{i}", {"u": np.array([2.0 * y - 1, rng.normal()]), "c": rng.normal(size=3)},
                              ("no", "yes")[y]))
    return Dataset("vectors", ("no", "yes"), samples, ("u", "c"), splits={"train": [s.id for s in samples]},
                   kinds={"u": "features", "c": "features"})


@pytest.mark.parametrize("fusion", ["gated", "tensor"])
def test_embedding_residual_heads_fit_save_and_reload(fusion, tmp_path):
    data = _vectors()
    scorer = EmbeddingScorer(fusion=fusion, residual=True, hidden=4, rank=2, epochs=3, batch_size=8)
    scorer.fit(data, ["u", "u+c"])
    head = scorer.heads_["u+c"]
    assert isinstance(head, ResidualFusion) and not isinstance(scorer.heads_["u"], ResidualFusion)
    untrained = scorer._new_head(scorer.check_view(data, "u+c"), [2, 3], offset=101)  # as fit builds it
    feats = scorer._inputs(data, scorer.check_view(data, "u+c"))
    with torch.no_grad():
        assert torch.equal(untrained(feats), torch.stack(untrained.unimodal(feats)).sum(0))
    probs = scorer.predict_proba(data, "u+c").probs
    scorer.save_pretrained(tmp_path / "emb")
    loaded = EmbeddingScorer.from_pretrained(tmp_path / "emb")
    assert loaded.residual is True and loaded.fingerprint == scorer.fingerprint
    np.testing.assert_array_equal(loaded.predict_proba(data, "u+c").probs, probs)


def test_embedding_residual_is_hashed_only_when_set_and_checked():
    # the dev-chosen defaults (issue 27) are fusion="gated", residual=True: the default is not hashed
    assert EmbeddingScorer(residual=True).fingerprint == EmbeddingScorer().fingerprint
    assert EmbeddingScorer(residual=False).fingerprint != EmbeddingScorer().fingerprint
    assert EmbeddingScorer(fusion="tensor").fingerprint != EmbeddingScorer().fingerprint
    with pytest.raises(DataError, match="residual must be true or false, got 'yes'"):
        EmbeddingScorer(residual="yes").fit(_vectors())


# -- the clip scorer's fusion / residual options (a tiny random CLIP) -----------------------------------------
def _clip_data() -> Dataset:
    from hf_tiny import tiny_image

    samples = [Sample(f"s{i}", {"text": ("dark night", "bright day")[i % 2], "note": f"note {i}",
                                "image": tiny_image(i, (28, 28))}, ("dark", "bright")[i % 2]) for i in range(8)]
    return Dataset("clipfuse", ("dark", "bright"), samples, ("text", "note", "image"),
                   kinds={"text": "text", "note": "text", "image": "image"})


@pytest.fixture(scope="module")
def clip_parts():
    from hf_tiny import tiny_clip

    return tiny_clip(seed=1)


def _clip(parts, **params):
    from interlens.scoring.clip import ClipScorer

    model, tok, processor = parts
    return ClipScorer(model=model, tokenizer=tok, image_processor=processor, epochs=5, **params)


def test_clip_default_head_is_unchanged_and_new_params_hashed_only_when_set(clip_parts):
    data = _clip_data()
    plain = _clip(clip_parts)
    assert _clip(clip_parts, fusion="linear", residual=False, hidden=64, rank=16).fingerprint == plain.fingerprint
    assert _clip(clip_parts, fusion="gated").fingerprint != plain.fingerprint
    assert _clip(clip_parts, residual=True).fingerprint != plain.fingerprint
    plain.fit(data, ["text+image"])
    assert type(plain.heads_["text+image"]) is torch.nn.Linear
    with pytest.raises(DataError, match=r"clip fusion 'tensor' takes exactly two modalities; view text\+note\+image "
                                        r"has 3"):
        _clip(clip_parts, fusion="tensor").fit(data, ["text+note+image"])
    with pytest.raises(DataError, match="unknown fusion 'sum'"):
        _clip(clip_parts, fusion="sum").fit(data, ["text+image"])
    with pytest.raises(DataError, match="residual must be true or false, got 1"):
        _clip(clip_parts, residual=1).fit(data, ["text+image"])


def test_clip_residual_fusion_head_fits_saves_and_reloads(clip_parts, tmp_path):
    data = _clip_data()
    scorer = _clip(clip_parts, fusion="gated", residual=True, hidden=8).fit(data, ["text", "text+image"])
    head = scorer.heads_["text+image"]
    assert isinstance(head, SplitInput) and isinstance(head.fusion, ResidualFusion) and head.dims == [32, 32]
    assert type(scorer.heads_["text"]) is torch.nn.Linear  # unimodal views keep the linear head
    fresh = scorer._new_head(scorer.check_view(data, "text+image"), 64, 2)
    x = torch.randn(3, 64)
    with torch.no_grad():
        assert torch.equal(fresh(x), torch.stack(fresh.fusion.unimodal(list(x.split([32, 32], dim=1)))).sum(0))
    probs = scorer.predict_proba(data, "text+image").probs
    scorer.save_pretrained(tmp_path / "clip")
    loaded = type(scorer).from_pretrained(tmp_path / "clip", model=scorer.model, tokenizer=scorer.tokenizer,
                                          image_processor=scorer.image_processor)
    assert loaded.fingerprint == scorer.fingerprint
    np.testing.assert_array_equal(loaded.predict_proba(data, "text+image").probs, probs)
