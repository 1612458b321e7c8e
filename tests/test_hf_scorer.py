"""HFLMScorer under the Scorer contract: zero-shot logits, fit (LoRA SFT per view), finetune (new adapter
from the baseline), features, views by modality kind, Predictions, SQLite cache, fingerprints, registry."""

from __future__ import annotations

import numpy as np
import pytest
from hf_tiny import corpus, save_tiny, single_thread, tiny_qwen2, toy_dataset

from interlens.cache import PredictionCache
from interlens.data.schema import Dataset, Sample
from interlens.errors import DataError, RegistryError
from interlens.scoring.base import Capability, Scorer, cached_predict, clone
from interlens.scoring.hf import HFLMScorer, HFVLMScorer, TrainConfig, adapter_names, make_hf_scorer
from interlens.scoring.registry import make_scorer

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


def test_zero_shot_predictions_without_fit(qwen, data):
    model, tok = qwen
    scorer = HFLMScorer(model=model, tokenizer=tok)
    assert isinstance(scorer, Scorer) and scorer.name == "hf-lm" and HFVLMScorer.name == "hf-vlm"
    assert HFLMScorer.capabilities == {Capability.TRAINABLE, Capability.FINETUNE, Capability.FEATURES,
                                       Capability.ZERO_SHOT, Capability.SAVABLE, Capability.MULTI_TASK,
                                       Capability.ADAPTERS}
    assert HFLMScorer.modality_kinds == {"text"} and HFVLMScorer.modality_kinds == {"text", "image", "video"}
    logits = scorer.logits(data, "text")  # no fit: the base model's label log-likelihoods
    assert logits.shape == (9, 3) and np.all(logits < 0) and not scorer.is_fitted
    preds = scorer.predict_proba(data, "text")
    assert preds.ids == data.ids and preds.labels == LABELS and preds.view == "text"
    assert preds.scorer == scorer.fingerprint and preds.dataset == data.fingerprint()
    np.testing.assert_allclose(preds.probs.sum(axis=1), 1.0, atol=1e-12)
    assert preds.meta["method"] == "likelihood" and preds.meta["n_parse_failures"] == 0
    assert preds.meta["template"].startswith("mmla@1#")
    logp = scorer.logprobs(data, "text")
    np.testing.assert_array_equal(logp, logits)
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


def test_loads_offline_from_a_folder(data, tmp_path):
    model, tok = tiny_qwen2(seed=4)
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


def test_registry_constructs_with_keyword_params(tmp_path):
    model, tok = tiny_qwen2(seed=4)
    folder = save_tiny(model, tok, tmp_path / "m")
    scorer = make_scorer("hf-lm", model_path=str(folder), length_norm=True,
                         train={"epochs": 2, "lr": 1e-3, "lora": {"r": 4}})
    assert type(scorer) is HFLMScorer and scorer.model_path == str(folder)
    assert scorer.train == {"epochs": 2, "lr": 1e-3, "lora": {"r": 4}}  # the constructor only stores
    assert scorer.get_params()["train"] == scorer.train and clone(scorer).train == scorer.train
    config = TrainConfig.coerce(scorer.train)  # what fit uses
    assert config.epochs == 2 and config.lora.r == 4 and config.select_metric == "macro_f1"
    assert TrainConfig.coerce(None) == TrainConfig()
    with pytest.raises(DataError, match="unknown train option 'epoch'. Did you mean 'epochs'"):
        TrainConfig.coerce({"epoch": 1})
    with pytest.raises(DataError, match="unknown train.lora option 'rank'"):
        TrainConfig.coerce({"lora": {"rank": 4}})
    with pytest.raises(DataError, match="unknown option 'lenght_norm'.*Did you mean 'length_norm'"):
        make_scorer("hf-lm", model_path=str(folder), lenght_norm=True)
    assert type(make_scorer("hf-vlm", model_path=str(folder))) is HFVLMScorer
    assert type(make_hf_scorer("hf-lm", model=str(folder))) is HFLMScorer  # thin helper, model=<path> accepted
    with pytest.raises(RegistryError, match="Did you mean 'hf-lm'"):
        make_hf_scorer("hf-llm", folder)
    bad = make_scorer("hf-lm", model_path=str(folder), train={"epoch": 1})
    with pytest.raises(DataError, match="Did you mean 'epochs'"):
        bad.fit(toy_dataset(6, LABELS, splits=False), ["text"])


def test_views_by_kind_and_unsupported_views_refused(qwen):
    from hf_tiny import tiny_qwen2_vl

    model, tok = qwen
    pictures = toy_dataset(3, LABELS, images=True, splits=False)
    lm = HFLMScorer(model=model, tokenizer=tok)
    assert lm.default_view(pictures) == "text" and [str(v) for v in lm.supported_views(pictures)] == ["text"]
    with pytest.raises(DataError, match="cannot honour view image"):
        lm.logits(pictures, "image")
    with pytest.raises(DataError, match="cannot honour view text\\+image"):
        lm.predict_proba(pictures, "text+image")
    vision_model, vision_tok, processor = tiny_qwen2_vl(seed=0)
    vlm = HFVLMScorer(model=vision_model, tokenizer=vision_tok, image_processor=processor)
    assert vlm.default_view(pictures) == "text+image"
    assert [str(v) for v in vlm.supported_views(pictures)] == ["text", "image", "text+image"]
    yesno = HFVLMScorer(model=vision_model, tokenizer=vision_tok, image_processor=processor,
                        template="mmoe-yesno", template_vars={"task": "mustard"})
    assert [str(v) for v in yesno.supported_views(pictures)] == ["text", "image"]  # no joint prompt (App. F)


def dialogue_dataset(n: int = 9, splits: bool = True) -> Dataset:
    """Text modalities named utterance and context (a list of turns); no modality is named text."""
    texts = corpus(2 * n, seed=21)
    samples = [Sample(f"d{i}", {"utterance": texts[i], "context": [texts[n + i], "yes no"]}, LABELS[i % 3])
               for i in range(n)]
    ids = [s.id for s in samples]
    parts = {"train": ids[:n // 3], "dev": ids[n // 3:2 * (n // 3)], "test": ids[2 * (n // 3):]} if splits else {}
    return Dataset("dialogue", LABELS, samples, ("utterance", "context"), splits=parts, dimension="speaking_style")


def test_prompt_places_every_text_modality_by_kind(qwen):
    model, tok = qwen
    data = dialogue_dataset(3, splits=False)
    assert data.kinds == {"utterance": "text", "context": "text"}
    scorer = HFLMScorer(model=model, tokenizer=tok).load()
    assert scorer.default_view(data) == "utterance+context"
    prompts, _, rendered = scorer.builder_.encode(data, "utterance+context")
    text = tok.decode(prompts[0].ids)
    sample = data.samples[0]
    assert f"utterance: {sample.inputs['utterance']}" in text
    assert f"context: {sample.inputs['context'][0]}\nyes no" in text  # turns joined in order, not an image
    assert rendered[0].media == ()
    only_context = tok.decode(scorer.builder_.encode(data, "context")[0][0].ids)
    assert sample.inputs["utterance"] not in only_context and "The speaker says: " + sample.inputs["context"][0] \
        in only_context
    assert scorer.logits(data, "utterance+context").shape == (3, 3)


def test_answer_prefix_space_moves_into_the_label_like_lm_eval(qwen, tmp_path):
    model, tok = qwen
    path = tmp_path / "spaced.yaml"
    path.write_text("id: spaced\nversion: 1\nanswer_prefix: 'Answer: '\nlabel_prefix: ''\nvariants:\n"
                    "  - when: [text]\n    user: '{{ text }}'\n")
    data = toy_dataset(2, ("yes", "no"), splits=False)
    scorer = HFLMScorer(model=model, tokenizer=tok, template=str(path), use_chat_template=False).load()
    prompts, labels, _ = scorer.builder_.encode(data, "text")
    assert tok.decode(prompts[0].ids).endswith("Assistant: Answer:")  # context without the trailing space
    assert labels.texts == (" yes", " no")
    assert labels.token_ids == tuple(tuple(tok(t, add_special_tokens=False)["input_ids"]) for t in (" yes", " no"))
    # the score is that of the continuation " yes" after "Answer:", as lm-eval computes it
    whole = tok("Assistant: Answer: yes", add_special_tokens=False)["input_ids"]
    assert whole[-len(labels.token_ids[0]):] == list(labels.token_ids[0])


def test_fit_trains_one_adapter_per_view_and_returns_self():
    model, tok = tiny_qwen2(seed=6, init_range=0.3)
    data = dialogue_dataset(9)
    train, dev, test = data.split("train"), data.split("dev"), data.split("test")
    scorer = HFLMScorer(model=model, tokenizer=tok, train=TrainConfig(epochs=1, lr=1e-2, batch_size=3))
    zero_shot = {v: scorer.logits(test, v) for v in ("utterance", "utterance+context")}
    before, params = scorer.fingerprint, scorer.get_params()
    base_print = HFLMScorer(model=model, tokenizer=tok).fingerprint
    assert scorer.fit(train, ["utterance", "utterance+context"], val=dev) is scorer
    assert scorer.is_fitted and scorer.fingerprint != before and scorer.get_params() == params
    assert scorer.adapters_ == {"utterance": "default-utterance", "utterance+context": "default-utterance_context"}
    result = scorer.train_results_["utterance"]
    assert result.n_train == len(train) == 3  # the given dataset, not its "train" split
    assert result.evals[-1]["metric"] == "macro_f1" and "dialogue/dev" in result.evals[-1]["tasks"]
    for view, before_fit in zero_shot.items():
        assert np.abs(scorer.logits(test, view) - before_fit).max() > 1e-3
    # a zero-shot scorer on the same (now LoRA-wrapped) base still scores the bare base, same identity
    bare = HFLMScorer(model=model, tokenizer=tok)
    assert bare.fingerprint == base_print
    np.testing.assert_allclose(bare.logits(test, "utterance"), zero_shot["utterance"], atol=1e-6)
    with pytest.raises(DataError, match="fitted on views .*not context"):
        scorer.logits(test, "context")
    # cache key: (fingerprint, view); Predictions name the view they were scored under
    a, b = scorer.predict_proba(test, "utterance"), scorer.predict_proba(test, "utterance+context")
    assert a.scorer == b.scorer == scorer.fingerprint and (a.view, b.view) == ("utterance", "utterance+context")
    assert a.meta["adapter"] == "default-utterance" and np.abs(a.probs - b.probs).max() > 1e-6
    default = HFLMScorer(model=model, tokenizer=tok, train={"max_steps": 1, "batch_size": 3}).fit(train)
    assert list(default.adapters_) == ["utterance+context"] and default.adapters_["utterance+context"] == "default"


def test_finetune_adds_a_named_adapter_from_the_baseline():
    model, tok = tiny_qwen2(seed=7, init_range=0.3)
    data = toy_dataset(12, LABELS)
    base = HFLMScorer(model=model, tokenizer=tok, train=TrainConfig(epochs=1, lr=1e-2, batch_size=4))
    base.fit(data.split("train"), ["text"])
    test = data.split("test")
    base_logits, base_print = base.logits(test, "text"), base.fingerprint
    expert = base.finetune(data.split("dev"), "text", epochs=2, lr=2e-2)
    assert isinstance(expert, HFLMScorer) and expert is not base and expert.model_ is base.model_
    assert expert.adapters_ == {"text": "default-ft"} and base.adapters_ == {"text": "default"}
    assert sorted(adapter_names(base.model_)) == ["default", "default-ft"]
    assert expert.fingerprint not in (base_print, base.fingerprint) and base.fingerprint == base_print
    assert len(expert.history_) == 2 and expert.history_[-1]["init"] == "adapter"
    assert np.abs(expert.logits(test, "text") - base_logits).max() > 1e-3
    np.testing.assert_allclose(base.logits(test, "text"), base_logits, atol=1e-6)  # the baseline is untouched
    second = base.finetune(data.split("dev"), "text", epochs=1)
    assert second.adapters_ == {"text": "default-ft-2"}


def test_copied_adapter_starts_from_the_baseline_weights():
    from interlens.scoring.hf import copy_adapter

    model, tok = tiny_qwen2(seed=8, init_range=0.3)
    data = toy_dataset(6, LABELS)
    scorer = HFLMScorer(model=model, tokenizer=tok, train={"epochs": 1, "lr": 2e-2, "batch_size": 2})
    scorer.fit(data.split("train"), ["text"])
    copy_adapter(scorer.model_, "default", "copied")
    copied = scorer.with_adapter("copied")
    np.testing.assert_allclose(copied.logits(data, "text"), scorer.logits(data, "text"), atol=1e-6)
    zero_shot = scorer.with_adapter(None).logits(data, "text")
    assert np.abs(zero_shot - scorer.logits(data, "text")).max() > 1e-3


def test_features_are_pooled_prompt_hidden_states(qwen):
    model, tok = qwen
    data = toy_dataset(5, LABELS, splits=False)
    scorer = HFLMScorer(model=model, tokenizer=tok, batch_size=4)
    feats = scorer.features(data)
    assert feats.shape == (5, 64) and np.isfinite(feats).all()
    np.testing.assert_allclose(HFLMScorer(model=model, tokenizer=tok, batch_size=1).features(data), feats, atol=1e-5)
    last = HFLMScorer(model=model, tokenizer=tok, pooling="last").features(data)
    assert last.shape == (5, 64) and np.abs(last - feats).max() > 1e-3
    assert len({tuple(np.round(r, 5)) for r in feats}) == 5  # one vector per prompt
    with pytest.raises(DataError, match="unknown pooling"):
        HFLMScorer(model=model, tokenizer=tok, pooling="max").features(data)


def test_registry_fit_and_predict_path(tmp_path, cache_path):
    from interlens.scoring.registry import fit_and_predict

    model, tok = tiny_qwen2(seed=4)
    folder = save_tiny(model, tok, tmp_path / "m")
    data = toy_dataset(9, LABELS)
    scorer = make_scorer("hf-lm", model_path=str(folder), batch_size=4, train={"max_steps": 2, "batch_size": 3})
    with PredictionCache(cache_path) as cache:
        preds = fit_and_predict(scorer, data, ["text"], eval_split="test", cache=cache)["text"]
    assert preds.ids == data.split("test").ids and preds.probs.shape == (3, 3)
    assert scorer.is_fitted and preds.scorer == scorer.fingerprint
    assert scorer.train_results_["text"].n_train == 3 and len(scorer.train_results_["text"].losses) == 2
    zero_shot = HFLMScorer(model=model, tokenizer=tok).predict_proba(data.split("test"), "text").probs
    assert np.abs(preds.probs - zero_shot).max() > 1e-7  # fit means supervised fine-tuning
