import numpy as np
import pytest

from interlens.cache import PredictionCache
from interlens.data.synthetic import make_synthetic
from interlens.errors import DataError
from interlens.scoring.base import cached_predict
from interlens.scoring.embedding import EmbeddingScorer
from interlens.scoring.encoders import shared_text_encoder
from interlens.scoring.registry import fit_and_predict, planned_fingerprint


@pytest.fixture(scope="module")
def data():
    return make_synthetic(n=400, seed=1)


@pytest.fixture(scope="module")
def fitted(data):
    return EmbeddingScorer(epochs=8, seed=0).fit(data.split("train"), val=data.split("dev"))


def test_minilm_embeddings_are_meaningful():
    a, b, c = shared_text_encoder().encode(["A man plays the guitar.", "Someone is playing a guitar.",
                                            "The stock market fell sharply today."])
    assert np.isclose(np.linalg.norm(a), 1.0)
    assert a @ b > 0.6 > 0.2 > a @ c


def test_minilm_matches_sentence_transformers():
    from sentence_transformers import SentenceTransformer

    from interlens.scoring.encoders import minilm_path

    texts = ["The note says two.", "I heard a voice say nil."]
    reference = SentenceTransformer(str(minilm_path()), device="cpu").encode(texts)
    np.testing.assert_allclose(shared_text_encoder().encode(texts), reference, atol=1e-4)


def test_fit_returns_self_with_a_head_per_view(data, fitted):
    assert sorted(fitted.heads_) == ["image", "text", "text+image"]
    probs = fitted.predict_proba(data.split("test"), "text+image").probs
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_scores_do_not_depend_on_batch_size(data, fitted):
    test = data.split("test")
    small = cached_predict(fitted, test, "text+image", batch_size=7).probs
    large = cached_predict(fitted, test, "text+image", batch_size=1000).probs
    np.testing.assert_allclose(small, large, rtol=0, atol=1e-12)


def test_same_seed_same_model_other_seed_differs(data, fitted):
    again = EmbeddingScorer(epochs=8, seed=0).fit(data.split("train"), val=data.split("dev"))
    other = EmbeddingScorer(epochs=8, seed=1).fit(data.split("train"), val=data.split("dev"))
    test = data.split("test")
    np.testing.assert_array_equal(again.logits(test, "image"), fitted.logits(test, "image"))
    assert again.fingerprint == fitted.fingerprint != other.fingerprint
    assert not np.allclose(other.logits(test, "image"), fitted.logits(test, "image"))


def test_finetune_copies_and_leaves_the_original(data, fitted):
    test = data.split("test")
    before = fitted.logits(test, "text+image")
    expert = fitted.finetune(data.split("train").subset(data.splits["train"][:50]), "text+image", epochs=3)
    np.testing.assert_array_equal(fitted.logits(test, "text+image"), before)
    assert not np.allclose(expert.logits(test, "text+image"), before)
    np.testing.assert_array_equal(expert.logits(test, "text"), fitted.logits(test, "text"))
    assert expert.fingerprint != fitted.fingerprint


def test_planned_fingerprint_matches_and_cache_skips_fit(data, cache_path):
    scorer = EmbeddingScorer(epochs=3)
    views = ["text", "image", "text+image"]
    planned = planned_fingerprint(scorer, data.split("train"), views, data.split("dev"))
    with PredictionCache(cache_path) as cache:
        first = fit_and_predict(scorer, data, views, eval_split="test", cache=cache)
        assert scorer.fingerprint == planned
        fresh = EmbeddingScorer(epochs=3)
        second = fit_and_predict(fresh, data, views, eval_split="test", cache=cache)
    assert not hasattr(fresh, "heads_")  # everything came from the cache, nothing was trained
    for v in views:
        np.testing.assert_array_equal(first[v].probs, second[v].probs)


def test_errors(data):
    with pytest.raises(DataError, match="not fitted"):
        EmbeddingScorer().predict_proba(data, "text")
    with pytest.raises(DataError, match="unknown fusion 'fancy'"):
        EmbeddingScorer(fusion="fancy").fit(data.split("train"))
    with pytest.raises(DataError, match="view audio needs modality 'audio'"):
        EmbeddingScorer(epochs=1).fit(data.split("train"), ["audio"])


def test_linear_fusion_head_is_one_shared_linear_layer():
    import torch

    from interlens.scoring.heads import FUSIONS, LinearHead, make_head

    head = make_head("linear", [3, 2], hidden=64, n_classes=2)
    assert "linear" in FUSIONS and isinstance(head, LinearHead) and head.net.in_features == 5
    with torch.no_grad():
        head.net.weight.copy_(torch.tensor([[1.0, 0, 0, 2, 0], [0, 0, 0, 0, 0]]))
        head.net.bias.zero_()
    out = head([torch.tensor([[1.0, 5, 5]]), torch.tensor([[0.5, 9]])])
    assert out.tolist() == [[2.0, 0.0]]
