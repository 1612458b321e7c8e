"""HFLMScorer as an interlens scorer: Predictions, SQLite cache, fingerprints, offline loading, factory."""

from __future__ import annotations

import numpy as np
import pytest
from hf_tiny import save_tiny, single_thread, tiny_qwen2, toy_dataset

from interlens.cache import PredictionCache
from interlens.errors import DataError, RegistryError
from interlens.scoring.base import Scorer, cached_predict
from interlens.scoring.hf import HFLMScorer, HFVLMScorer, make_hf_scorer

LABELS = ("sarcastic", "sincere", "ask for help")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with single_thread():
        yield


@pytest.fixture(scope="module")
def qwen():
    return tiny_qwen2(seed=4)


@pytest.fixture(scope="module")
def data():
    return toy_dataset(9, LABELS, dimension="speaking_style", splits=False)


def test_predictions_and_protocol(qwen, data):
    model, tok = qwen
    scorer = HFLMScorer(model=model, tokenizer=tok)
    assert isinstance(scorer, Scorer) and scorer.name == "hf-lm" and HFVLMScorer.name == "hf-vlm"
    assert scorer.fit(data, "text") is scorer
    preds = scorer.predict_proba(data, "text")
    assert preds.ids == data.ids and preds.labels == LABELS and preds.view == "text"
    assert preds.scorer == scorer.fingerprint and preds.dataset == data.fingerprint()
    np.testing.assert_allclose(preds.probs.sum(axis=1), 1.0, atol=1e-12)
    assert preds.meta["method"] == "likelihood" and preds.meta["n_parse_failures"] == 0
    assert preds.meta["template"].startswith("mmla@1#")
    logp = scorer.logprobs(data, "text")
    expected = np.exp(logp - logp.max(axis=1, keepdims=True))
    np.testing.assert_allclose(preds.probs, expected / expected.sum(axis=1, keepdims=True), atol=1e-12)


def test_cache_is_filled_then_reused(qwen, data, cache_path):
    model, tok = qwen
    with PredictionCache(cache_path) as cache:
        scorer = HFLMScorer(model=model, tokenizer=tok, cache=cache)
        first = scorer.predict_proba(data, "text")
        second = HFLMScorer(model=model, tokenizer=tok, cache=cache).predict_proba(data, "text")
        assert first.meta["computed"] == 9 and second.meta["cached"] == 9 and second.meta["computed"] == 0
        np.testing.assert_array_equal(first.probs, second.probs)
        other = HFLMScorer(model=model, tokenizer=tok, cache=cache, length_norm=True).predict_proba(data, "text")
        assert other.meta["computed"] == 9  # a different method setting never reuses cached rows
        via_loop = cached_predict(scorer, data, "text", cache=cache, batch_size=4)
        np.testing.assert_array_equal(via_loop.probs, first.probs)


def test_fingerprint_covers_model_template_and_method(qwen):
    model, tok = qwen
    base = HFLMScorer(model=model, tokenizer=tok).fingerprint
    assert base == HFLMScorer(model=model, tokenizer=tok, batch_size=3).fingerprint  # batching is not identity
    variants = [HFLMScorer(model=model, tokenizer=tok, length_norm=True),
                HFLMScorer(model=model, tokenizer=tok, method="generate"),
                HFLMScorer(model=model, tokenizer=tok, template="mmoe-yesno", template_vars={"task": "mustard"}),
                HFLMScorer(model=model, tokenizer=tok, use_chat_template=False),
                HFLMScorer(model=tiny_qwen2(seed=5)[0], tokenizer=tok)]
    prints = [s.fingerprint for s in variants]
    assert len({base, *prints}) == len(prints) + 1


def test_loads_offline_from_a_folder(qwen, data, tmp_path):
    model, tok = qwen
    folder = save_tiny(model, tok, tmp_path / "qwen")
    from_path = HFLMScorer(folder, batch_size=4)
    np.testing.assert_allclose(from_path.predict_proba(data, "text").probs,
                               HFLMScorer(model=model, tokenizer=tok).predict_proba(data, "text").probs, atol=1e-6)
    assert from_path.fingerprint == HFLMScorer(str(folder)).fingerprint
    assert from_path.load().model_.dtype.is_floating_point


def test_plain_prompt_without_chat_template(qwen, data):
    model, tok = qwen
    scorer = HFLMScorer(model=model, tokenizer=tok, use_chat_template=False).load()
    prompts, _, _ = scorer.builder_.encode(data, "text", data.samples[:1])
    text = tok.decode(prompts[0].ids)
    assert text.startswith("User: The speaker says:") and text.endswith("\n\nAssistant: speaking_style:")
    chat = HFLMScorer(model=model, tokenizer=tok).load().builder_.encode(data, "text", data.samples[:1])[0][0]
    assert tok.decode(chat.ids).startswith("<|im_start|>user\nThe speaker says:")
    assert tok.decode(chat.ids).endswith("<|im_end|>\n<|im_start|>assistant\nspeaking_style:")


def test_mmoe_yes_no_template_scores_two_words(qwen):
    model, tok = qwen
    data = toy_dataset(4, ("sincere", "sarcastic"), splits=False)
    scorer = HFLMScorer(model=model, tokenizer=tok, template="mmoe-yesno", template_vars={"task": "mustard"})
    preds = scorer.predict_proba(data, "text")
    assert preds.probs.shape == (4, 2)
    assert scorer.builder_.label_set(("No", "Yes")).texts == ("No", "Yes")


def test_factory_and_registry(qwen, tmp_path):
    model, tok = qwen
    folder = save_tiny(model, tok, tmp_path / "m")
    scorer = make_hf_scorer("hf-lm", model=str(folder), length_norm=True,
                            train={"epochs": 2, "lr": 1e-3, "lora": {"r": 4}})
    assert isinstance(scorer, HFLMScorer) and scorer.model_path == str(folder)
    assert scorer.train.epochs == 2 and scorer.train.lora.r == 4
    assert isinstance(make_hf_scorer("hf-vlm", folder), HFVLMScorer)
    with pytest.raises(RegistryError, match="Did you mean 'hf-lm'"):
        make_hf_scorer("hf-llm", folder)
    with pytest.raises(DataError, match="unknown dtype"):
        make_hf_scorer("hf-lm", folder, dtype="int3")
    registry = pytest.importorskip("interlens.scoring.registry")
    assert isinstance(registry.make_scorer("hf-lm", model_path=str(folder)), HFLMScorer)


def test_default_view_uses_what_the_model_can_see(qwen):
    from hf_tiny import tiny_qwen2_vl

    model, tok = qwen
    pictures = toy_dataset(3, LABELS, images=True, splits=False)
    lm = HFLMScorer(model=model, tokenizer=tok)
    assert lm.default_view(pictures) == "text" and lm.fit(pictures) is lm
    vision_model, vision_tok, processor = tiny_qwen2_vl(seed=0)
    assert HFVLMScorer(model=vision_model, tokenizer=vision_tok, image_processor=processor).default_view(
        pictures) == "text+image"


def test_registry_fit_and_predict_path(qwen, tmp_path, cache_path):
    registry = pytest.importorskip("interlens.scoring.registry")
    if not hasattr(registry, "fit_and_predict"):
        pytest.skip("registry has no fit_and_predict")
    model, tok = qwen
    folder = save_tiny(model, tok, tmp_path / "m")
    data = toy_dataset(9, LABELS)
    scorer = registry.make_scorer("hf-lm", model_path=str(folder), batch_size=4)
    with PredictionCache(cache_path) as cache:
        preds = registry.fit_and_predict(scorer, data, ["text"], eval_split="test", cache=cache)["text"]
    assert preds.ids == data.split("test").ids and preds.probs.shape == (3, 3)
    np.testing.assert_allclose(preds.probs, HFLMScorer(model=model, tokenizer=tok)
                               .predict_proba(data.split("test"), "text").probs, atol=1e-6)
