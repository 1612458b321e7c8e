"""LoRA SFT with PEFT: the loss falls, selection is by label-level metrics, several named adapters on
one base switch / save / reload to identical outputs, and mixed-adapter batches equal per-adapter runs."""

from __future__ import annotations

import numpy as np
import pytest
from hf_tiny import single_thread, tiny_qwen2, tiny_qwen2_vl, toy_dataset

from interlens.errors import DataError
from interlens.scoring.hf import (
    HFLMScorer,
    HFVLMScorer,
    LoraSpec,
    PromptBuilder,
    TrainConfig,
    adapter_names,
    add_lora_adapter,
    evaluate_labels,
    load_adapters,
    make_encoder,
    save_adapters,
    train_lora,
)

LABELS = ("sarcastic", "sincere", "ask for help")
CONFIG = TrainConfig(epochs=4, lr=2e-2, batch_size=4, warmup_ratio=0.0, select_metric="acc")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with single_thread():
        yield


@pytest.fixture(scope="module")
def data():
    return toy_dataset(24, LABELS)


@pytest.fixture(scope="module")
def experts(data):
    """One base, two trained adapters ("redundancy", "synergy") and the untouched base logprobs."""
    model, tok = tiny_qwen2(seed=5, init_range=0.3)
    base = HFLMScorer(model=model, tokenizer=tok).logprobs(data, "text")
    scorer = HFLMScorer(model=model, tokenizer=tok).load()
    peft_model, first = train_lora(scorer.model_, scorer.builder_, data.split("train"), data.split("dev"),
                                   adapter="redundancy", config=CONFIG)
    peft_model, second = train_lora(peft_model, scorer.builder_, data.split("train"), data.split("dev"),
                                    adapter="synergy", config=TrainConfig(**{**CONFIG.__dict__, "seed": 1, "lr": 1e-2}))
    return peft_model, tok, base, first, second


def test_training_lowers_the_loss(experts):
    _, _, _, first, second = experts
    for result in (first, second):
        assert len(result.losses) == 8 and result.n_train == 8
        assert np.mean(result.losses[-2:]) < 0.5 * result.losses[0]


def test_selection_uses_label_level_metrics_and_restores_best(experts, data):
    model, tok, _, first, _ = experts
    assert [e["step"] for e in first.evals] == [2, 4, 6, 8]  # one validation per epoch
    for record in first.evals:
        task = record["tasks"]["toy/dev"]
        assert set(task) >= {"acc", "macro_f1", "weighted_f1", "f1"} and record["metric"] == "acc"
        assert record["score"] == task["acc"]
    scores = [e["score"] for e in first.evals]
    assert first.best_score == max(scores) and first.best_step == first.evals[int(np.argmax(scores))]["step"]
    builder = PromptBuilder(tok, make_encoder(model, tok))
    again = evaluate_labels(model, builder, [data.split("dev")], "text", adapter="redundancy")
    assert again["toy/dev"]["acc"] == pytest.approx(first.best_score)


def test_adapters_switch_and_differ_from_base(experts, data):
    model, tok, base, _, _ = experts
    assert adapter_names(model) == ["redundancy", "synergy"]
    scorer = HFLMScorer(model=model, tokenizer=tok, adapter="redundancy")
    red = scorer.logprobs(data, "text")
    syn = scorer.with_adapter("synergy").logprobs(data, "text")
    bare = scorer.with_adapter(None).logprobs(data, "text")
    assert np.abs(red - syn).max() > 0.1 and np.abs(red - base).max() > 0.1
    np.testing.assert_allclose(bare, base, atol=1e-6)  # "__base__" reproduces the model before LoRA
    np.testing.assert_allclose(scorer.with_adapter("redundancy").logprobs(data, "text"), red, atol=1e-6)
    fingerprints = {s.fingerprint for s in (scorer, scorer.with_adapter("synergy"), scorer.with_adapter(None))}
    assert len(fingerprints) == 3
    with pytest.raises(DataError, match="no adapter 'expert_x'"):
        scorer.with_adapter("expert_x")


def test_mixed_adapter_batch_equals_per_adapter_runs(experts, data):
    model, tok, _, _, _ = experts
    scorer = HFLMScorer(model=model, tokenizer=tok, batch_size=6)
    per = {name: scorer.with_adapter(name).logprobs(data, "text") for name in ("redundancy", "synergy", None)}
    route = [("redundancy", "synergy", "__base__")[i % 3] for i in range(len(data))]
    mixed = scorer.logprobs(data, "text", adapter_names=route)
    for i, name in enumerate(route):
        np.testing.assert_allclose(mixed[i], per[None if name == "__base__" else name][i], atol=1e-5)


def test_save_and_reload_give_identical_outputs(experts, data, tmp_path):
    model, tok, _, _, _ = experts
    info = save_adapters(model, tmp_path / "adapters")
    assert sorted(p.name for p in (tmp_path / "adapters").iterdir() if p.is_dir()) == ["redundancy", "synergy"]
    assert (info.folders["synergy"] / "adapter_config.json").is_file()
    fresh, _ = tiny_qwen2(seed=5, init_range=0.3)  # identical base weights (same seed)
    loaded = load_adapters(fresh, tmp_path / "adapters")
    assert sorted(adapter_names(loaded)) == ["redundancy", "synergy"]
    for name in ("synergy", "redundancy"):
        before = HFLMScorer(model=model, tokenizer=tok, adapter=name)
        after = HFLMScorer(model=loaded, tokenizer=tok, adapter=name)
        np.testing.assert_allclose(after.logprobs(data, "text"), before.logprobs(data, "text"), atol=1e-6)
        assert after.fingerprint == before.fingerprint
    other, _ = tiny_qwen2(seed=5, init_range=0.3)
    single = HFLMScorer(model=other, tokenizer=tok, adapter="synergy", adapter_path=tmp_path / "adapters")
    np.testing.assert_allclose(single.logprobs(data, "text"),
                               HFLMScorer(model=model, tokenizer=tok, adapter="synergy").logprobs(data, "text"),
                               atol=1e-6)
    with pytest.raises(DataError, match="adapter 'nope' not found"):
        load_adapters(tiny_qwen2(seed=5)[0], tmp_path / "adapters", ["nope"])


def test_scorer_fit_trains_default_adapter_on_the_given_dataset(data):
    model, tok = tiny_qwen2(seed=6, init_range=0.3)
    scorer = HFLMScorer(model=model, tokenizer=tok, train=TrainConfig(epochs=1, lr=1e-2, batch_size=3))
    before = scorer.fingerprint
    scorer.fit(data.split("train"), "text", val=data.split("dev"))
    assert scorer.adapters_ == {"text": "default"} and scorer.train_result_.n_train == 8
    assert scorer.train_result_.evals[0]["tasks"]["toy/dev"]["acc"] >= 0
    assert scorer.fingerprint != before
    assert scorer.predict_proba(data.split("test"), "text").probs.shape == (8, 3)


def test_adapter_names_are_checked():
    model, _ = tiny_qwen2(seed=0)
    with pytest.raises(DataError, match="must use letters"):
        add_lora_adapter(model, "a")  # a substring of "lora_": PEFT would re-initialise it on loading
    with pytest.raises(DataError, match="must use letters"):
        add_lora_adapter(model, "my adapter")


def test_vlm_lora_trains_language_model_only():
    model, tok, processor = tiny_qwen2_vl(seed=0)
    data = toy_dataset(6, LABELS, images=True, splits=False)
    scorer = HFVLMScorer(model=model, tokenizer=tok, image_processor=processor).load()
    peft_model, result = train_lora(scorer.model_, scorer.builder_, data, adapter="vis", view="text+image",
                                    config=TrainConfig(epochs=3, lr=1e-2, batch_size=3, lora=LoraSpec(r=4, alpha=8)))
    lora_params = [n for n, _ in peft_model.named_parameters() if "lora_" in n]
    assert lora_params and all("language_model" in n for n in lora_params)
    assert not any("visual" in n for n in lora_params)
    assert result.losses[-1] < result.losses[0]


def test_adapter_path_without_a_name_scores_with_the_saved_adapter(experts, data, tmp_path):
    model, tok, base, _, _ = experts
    save_adapters(model, tmp_path / "one", ["synergy"])
    fresh, _ = tiny_qwen2(seed=5, init_range=0.3)
    loaded = HFLMScorer(model=fresh, tokenizer=tok, adapter_path=tmp_path / "one")
    assert loaded.adapter is None  # parameters are never rewritten
    np.testing.assert_allclose(loaded.logprobs(data, "text"),
                               HFLMScorer(model=model, tokenizer=tok, adapter="synergy").logprobs(data, "text"),
                               atol=1e-6)
    np.testing.assert_allclose(loaded.with_adapter(None).logprobs(data, "text"), base, atol=1e-6)
