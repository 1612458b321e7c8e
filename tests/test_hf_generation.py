"""Generate-and-parse: MMLA's one-hit rule, greedy determinism, parse failures as NaN rows."""

from __future__ import annotations

import numpy as np
import pytest
from hf_tiny import single_thread, tiny_qwen2, toy_dataset

from interlens.metrics import classification_metrics
from interlens.scoring.hf import HFLMScorer, TrainConfig, parse_label
from interlens.scoring.hf.generation import one_hot_or_nan

INTENTS = ["ask for help", "ask for opinions", "greet", "statement-opinion", "statement-non-opinion", "Joke"]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with single_thread():
        yield


@pytest.mark.parametrize(("text", "index", "hits"), [
    ("intent: greet", 2, (2,)),                                 # one hit
    ("I think they ask for help here.", 0, (0,)),               # multi-word label
    ("GREET!", 2, (2,)),                                        # case-insensitive, punctuation boundary
    ("greeting", -1, ()),                                       # no hit inside a longer word
    ("greetings and a joke", 5, (5,)),                          # 'greet' is not a word here; 'joke' is
    ("", -1, ()),                                               # empty answer
    ("ask for", -1, ()),                                        # prefix of two labels, neither complete
    ("greet or joke", -1, (2, 5)),                              # several -> failure
    ("statement-non-opinion", 4, (4,)),                         # hyphenated: no false 'statement-opinion'
    ("statement-opinion", 3, (3,)),
    ("a joke, not a greet", -1, (2, 5)),
])
def test_one_hit_rule(text, index, hits):
    result = parse_label(text, INTENTS)
    assert result.index == index
    assert result.hits == hits
    assert result.reason == ("ok" if index >= 0 else ("no label" if not hits else "several labels"))


def test_case_sensitive_option():
    assert parse_label("joke", INTENTS).index == 5
    assert parse_label("joke", INTENTS, case_sensitive=True).index == -1


def test_failures_become_nan_rows_never_extra_classes():
    labels = ["yes", "no", "maybe"]
    results = [parse_label(t, labels) for t in ("yes", "no idea? yes", "perhaps", "no")]
    probs = one_hot_or_nan(results, 3)
    np.testing.assert_array_equal(probs[0], [1, 0, 0])
    np.testing.assert_array_equal(probs[3], [0, 1, 0])
    assert np.isnan(probs[1]).all() and np.isnan(probs[2]).all()
    pred = np.array([r.index for r in results])
    metrics = classification_metrics(np.array([0, 0, 1, 1]), pred, 3)  # failures: errors, not classes
    assert metrics["n_failed"] == 2 and metrics["acc"] == 0.5


def test_greedy_generation_is_deterministic_and_batch_independent():
    model, tok = tiny_qwen2(seed=2)
    data = toy_dataset(6, ("sarcastic", "sincere"), splits=False)
    runs = [HFLMScorer(model=model, tokenizer=tok, method="generate", max_new_tokens=6, batch_size=b)
            .generate(data, "text")[0] for b in (6, 6, 1)]
    assert runs[0] == runs[1] == runs[2]
    assert all(isinstance(t, str) for t in runs[0])


def test_generate_method_after_sft_parses_labels_and_counts_failures():
    model, tok = tiny_qwen2(seed=3, init_range=0.3)  # wide logits: a few LoRA steps teach the answers
    data = toy_dataset(12, ("sarcastic", "sincere"), splits=False)
    trained = HFLMScorer(model=model, tokenizer=tok, adapter="sft",
                         train=TrainConfig(epochs=10, lr=2e-2, batch_size=4, warmup_ratio=0.0)).fit(data, "text")
    scorer = trained.with_adapter("sft")
    scorer.method, scorer.max_new_tokens = "generate", 6
    preds = scorer.predict_proba(data, "text")
    answers = [scorer.generations_[i] for i in data.ids]
    assert sum(a.strip() in ("sarcastic", "sincere") for a in answers) >= 10
    ok = preds.has_prediction
    assert ok.sum() >= 10 and preds.meta["n_parse_failures"] == int((~ok).sum())
    assert set(np.unique(preds.probs[ok])) <= {0.0, 1.0}
    assert (preds.argmax()[ok] == data.y[ok]).mean() >= 0.75
    base = HFLMScorer(model=trained.model_, tokenizer=tok, adapter=None, method="generate", max_new_tokens=6)
    base_preds = base.predict_proba(data, "text")
    assert base_preds.meta["n_parse_failures"] == len(base_preds.missing_ids)
    assert base.fingerprint != scorer.fingerprint
