"""Label-likelihood scoring: the one-pass trie method equals K separate forwards and a from-scratch
reference; scores do not depend on batching; bad labels fail clearly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hf_tiny import single_thread, tiny_qwen2, tiny_tokenizer, toy_dataset

from interlens.data.schema import Dataset, Sample
from interlens.errors import DataError
from interlens.scoring.hf import HFLMScorer, build_label_set, label_logprobs, label_probs, naive_label_logprobs

# multi-token labels, shared prefixes ("ask for ..."), one label a prefix of another ("ask for")
LABELS = ("sarcastic", "ask for help", "ask for", "neutral joy surprise", "greet")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with single_thread():
        yield


@pytest.fixture(scope="module")
def qwen():
    return tiny_qwen2(seed=1)


@pytest.fixture(scope="module")
def data() -> Dataset:
    return toy_dataset(9, LABELS, dimension="intent", splits=False)


def _scorer(qwen, **kw) -> HFLMScorer:
    model, tok = qwen
    return HFLMScorer(model=model, tokenizer=tok, **kw)


def test_labels_are_multi_token_and_trie_shares_prefixes(qwen):
    labels = build_label_set(qwen[1], [" " + label for label in LABELS])
    lengths = [len(ids) for ids in labels.token_ids]
    assert min(lengths) >= 2 and max(lengths) >= 5
    prefixes = {ids[:j] for ids in labels.token_ids for j in range(1, len(ids))}
    assert len(labels.node_token) == len(prefixes) < sum(n - 1 for n in lengths)
    assert len(labels.target_token) == sum(n - 1 for n in lengths)
    # every node sees itself and its ancestors only
    assert labels.node_attend.diagonal().all()
    assert int(labels.node_attend.sum()) == sum(int(d) + 1 for d in labels.node_depth)


def test_one_pass_equals_naive_per_label_forwards(qwen, data):
    scorer = _scorer(qwen)
    fast = scorer.logprobs(data, "text")
    naive = scorer.logprobs(data, "text", naive=True)
    assert fast.shape == (9, len(LABELS))
    np.testing.assert_allclose(fast, naive, atol=1e-4, rtol=0)
    assert np.all(fast < 0) and fast[:, 3].mean() < fast[:, 0].mean()  # longer label, lower log-likelihood
    labels = scorer.builder_.label_set([" " + label for label in LABELS])
    for norm in (False, True):
        p_fast = label_probs(torch.from_numpy(fast), labels, length_norm=norm).numpy()
        p_naive = label_probs(torch.from_numpy(naive), labels, length_norm=norm).numpy()
        np.testing.assert_allclose(p_fast, p_naive, atol=1e-4)
        np.testing.assert_allclose(p_fast.sum(axis=1), 1.0, atol=1e-12)
    mean = fast / labels.lengths.numpy()
    expected = np.exp(mean - mean.max(axis=1, keepdims=True))
    np.testing.assert_allclose(label_probs(torch.from_numpy(fast), labels, length_norm=True).numpy(),
                               expected / expected.sum(axis=1, keepdims=True), atol=1e-12)


def test_one_pass_equals_from_scratch_reference(qwen, data):
    """Reference without any interlens machinery: one unpadded forward of prompt + label per label."""
    model, tok = qwen
    scorer = _scorer(qwen)
    fast = scorer.logprobs(data, "text")
    prompts, labels, _ = scorer.builder_.encode(data, "text")
    for row in (0, 4):
        for k, label_ids in enumerate(labels.token_ids):
            ids = torch.tensor([prompts[row].ids + list(label_ids)])
            with torch.no_grad():
                logp = torch.log_softmax(model(input_ids=ids).logits[0].double(), dim=-1)
            start = len(prompts[row].ids)
            expected = sum(logp[start - 1 + j, t].item() for j, t in enumerate(label_ids))
            assert fast[row, k] == pytest.approx(expected, abs=1e-4)


def test_batched_unbatched_and_batch_size_agree(qwen, data):
    results = [_scorer(qwen, batch_size=b).logprobs(data, "text") for b in (1, 2, 9)]
    for other in results[1:]:
        np.testing.assert_allclose(results[0], other, atol=1e-5, rtol=0)
    probs = [_scorer(qwen, batch_size=b).predict_proba(data, "text").probs for b in (1, 4)]
    np.testing.assert_allclose(probs[0], probs[1], atol=1e-5)


def test_eager_attention_matches_too():
    model, tok = tiny_qwen2(seed=1, attn="eager")
    data = toy_dataset(4, LABELS, dimension="intent", splits=False)
    scorer = HFLMScorer(model=model, tokenizer=tok, batch_size=4)
    np.testing.assert_allclose(scorer.logprobs(data, "text"), scorer.logprobs(data, "text", naive=True), atol=1e-4)


def test_low_level_api_on_a_batch(qwen, data):
    model, tok = qwen
    scorer = _scorer(qwen).load()
    prompts, labels, _ = scorer.builder_.encode(data, "text")
    batch = scorer.builder_.encoder.collate(prompts[:3])
    assert (batch.input_ids[:, -1] == batch.input_ids[0, -1]).all()  # left padding: prompts end together
    assert batch.attention_mask[:, 0].sum() < 3 or len({len(p.ids) for p in prompts[:3]}) == 1
    one = label_logprobs(model, batch, labels)
    ref = naive_label_logprobs(model, scorer.builder_.encoder, prompts[:3], labels)
    torch.testing.assert_close(one, ref, atol=1e-4, rtol=0)


def test_bad_labels_fail_clearly(qwen):
    tok = qwen[1]
    with pytest.raises(DataError, match="is empty"):
        build_label_set(tok, [" yes", " "])
    with pytest.raises(DataError, match="no candidate labels"):
        build_label_set(tok, [])
    word = _word_level_tokenizer()
    with pytest.raises(DataError, match="not tokenisable: it maps to the unknown token"):
        build_label_set(word, ["yes", "zebra"])
    with pytest.raises(DataError, match="tokenise identically"):
        build_label_set(word, ["yes", "Yes"])  # the word-level vocabulary lowercases


def test_scorer_errors(qwen, tmp_path):
    model, tok = qwen
    with pytest.raises(DataError, match="model path does not exist"):
        HFLMScorer(tmp_path / "nowhere").load()
    with pytest.raises(DataError, match="not a model folder"):
        HFLMScorer(tmp_path).load()
    # the constructor only stores (scikit-learn); parameters are checked on first use, before any work
    with pytest.raises(DataError, match="needs tokenizer="):
        HFLMScorer(model=model).load()
    with pytest.raises(DataError, match="unknown scoring method"):
        HFLMScorer(model=model, tokenizer=tok, method="vote").load()
    with pytest.raises(DataError, match="unknown dtype"):
        HFLMScorer(model=model, tokenizer=tok, dtype="int3").load()
    data = Dataset("d", ("a", " "), [Sample("x", {"text": "hello"}, "a")], ("text",), dimension="intent")
    with pytest.raises(DataError, match="is empty"):
        HFLMScorer(model=model, tokenizer=tok, template_vars={}).predict_proba(data, "text")


def _word_level_tokenizer():
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "<pad>": 1, "yes": 2, "no": 3, ":": 4}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tk.normalizer = normalizers.Lowercase()
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="[UNK]", pad_token="<pad>")


def test_tiny_tokenizer_round_trips_unicode():
    tok = tiny_tokenizer()
    text = "wörds 🙂 sarcastic"
    assert tok.decode(tok(text)["input_ids"]) == text
