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


# -- the Scorer contract on hand-made data: modalities by declared kind, never by name or suffix ----------
def _kinds_data():
    """``caption``: text whose values look like image file names (kind declared text), ``turns``: dialogue
    turns (a list: text), ``vec``: a features vector, ``clip``: audio no embedding head reads."""
    from interlens.data.schema import Dataset, Sample

    samples = []
    for i in range(12):
        y = i % 2
        samples.append(Sample(f"s{i}", {"caption": f"{'sunny' if y else 'rainy'}_beach_{i}.jpg",
                                        "turns": ["A: how was it?", "B: lovely" if y else "B: awful"],
                                        "vec": np.array([float(y), 1.0 - y, 0.1 * i]),
                                        "clip": f"clips/{i}.wav"}, ("no", "yes")[y]))
    return Dataset("kinds", ("no", "yes"), samples, ("caption", "turns", "vec", "clip"),
                   splits={"train": [s.id for s in samples]},
                   kinds={"caption": "text", "turns": "text", "vec": "features", "clip": "audio"})


@pytest.fixture(scope="module")
def kinds_data():
    return _kinds_data()


@pytest.fixture(scope="module")
def kinds_fitted(kinds_data):
    scorer = EmbeddingScorer(epochs=3, hidden=8, rank=2, fusion="concat")
    params, before = scorer.get_params(), scorer.fingerprint
    return scorer, params, before, scorer.fit(kinds_data, ["caption", "turns", "vec", "caption+turns+vec"])


def test_registered_with_capabilities_and_base_params():
    from interlens.scoring.base import Capability
    from interlens.scoring.registry import make_scorer

    scorer = make_scorer("embedding", epochs=2)
    assert isinstance(scorer, EmbeddingScorer)
    assert {Capability.TRAINABLE, Capability.FINETUNE, Capability.FEATURES} <= scorer.capabilities
    assert scorer.modality_kinds == {"text", "image", "features"}
    assert list(scorer.get_params()) == ["fusion", "hidden", "rank", "epochs", "lr", "weight_decay", "batch_size",
                                         "image_size", "image_dim", "class_weight", "seed", "residual"]
    assert repr(scorer).startswith("EmbeddingScorer(fusion='gated', hidden=64, rank=16, epochs=2,")
    assert repr(scorer).endswith("residual=True)")  # the dev-chosen defaults (issue 27)


def test_reads_modalities_by_declared_kind(kinds_fitted, kinds_data):
    scorer, params, before, returned = kinds_fitted
    assert returned is scorer and scorer.get_params() == params and scorer.fingerprint != before
    assert scorer.modalities_ == ("caption", "turns", "vec")  # audio is not read
    assert sorted(scorer.heads_) == ["caption", "caption+turns+vec", "turns", "vec"]
    assert scorer.heads_["vec"].net[0].in_features == 3  # the features vector as is
    assert scorer.features(kinds_data).shape == (12, 384 + 384 + 3)
    # dialogue turns are text joined in order, one per line
    from dataclasses import replace

    pair = kinds_data.subset(["s0", "s1"])
    flat = replace(pair, samples=[replace(s, inputs={**s.inputs, "turns": "\n".join(s.inputs["turns"])})
                                  for s in pair.samples])
    assert flat.samples[0].inputs["turns"] == "A: how was it?\nB: awful" and pair.samples[0].inputs["turns"][0]
    np.testing.assert_allclose(scorer.logits(flat, "turns"), scorer.logits(kinds_data.subset(["s0", "s1"]), "turns"))


def test_predict_proba_is_the_softmax_of_logits(kinds_fitted, kinds_data):
    scorer = kinds_fitted[0]
    logits = scorer.logits(kinds_data, "caption+turns+vec")
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    preds = scorer.predict_proba(kinds_data, "caption+turns+vec")
    np.testing.assert_allclose(preds.probs, expected, rtol=1e-12)
    assert preds.view == "caption+turns+vec" and preds.meta["scorer_name"] == "embedding"


def test_unsupported_and_unfitted_views_are_refused(kinds_fitted, kinds_data):
    scorer = kinds_fitted[0]
    with pytest.raises(DataError, match=r"cannot honour view clip \(modality kinds \{'clip': 'audio'\}\)"):
        scorer.predict_proba(kinds_data, "clip")
    with pytest.raises(DataError, match="cannot honour view turns\\+clip"):
        EmbeddingScorer(epochs=1).fit(kinds_data, ["turns+clip"])
    fitted = "\\['caption', 'caption\\+turns\\+vec', 'turns', 'vec'\\]"
    with pytest.raises(DataError, match=f"view caption\\+vec was not fitted; fitted views: {fitted}"):
        scorer.logits(kinds_data, "caption+vec")
    with pytest.raises(DataError, match="view caption\\+vec was not fitted"):
        scorer.finetune(kinds_data, "caption+vec")


def test_fingerprints_per_view_after_fit_and_finetune_and_planned(kinds_fitted, kinds_data):
    scorer = kinds_fitted[0]
    views = ["caption", "turns", "vec", "caption+turns+vec"]
    assert EmbeddingScorer(epochs=3, hidden=8, rank=2, fusion="concat").planned_fingerprint(
        kinds_data, views, None) == scorer.fingerprint
    assert scorer.planned_fingerprint(kinds_data, ["caption"], None) != scorer.fingerprint
    assert len({scorer.view_fingerprint(v) for v in views}) == 4
    expert = scorer.finetune(kinds_data.subset(["s0", "s1", "s2", "s3"]), "vec", epochs=2)
    other = scorer.finetune(kinds_data.subset(["s0", "s1", "s2", "s3"]), "vec", epochs=2, val=kinds_data)
    assert len({scorer.fingerprint, expert.fingerprint, other.fingerprint}) == 3
    assert not np.allclose(expert.logits(kinds_data, "vec"), scorer.logits(kinds_data, "vec"))


def test_default_views_are_each_usable_modality_and_all_together(kinds_data):
    scorer = EmbeddingScorer(epochs=1, hidden=4, fusion="late")
    data = kinds_data.with_modalities(["turns", "vec", "clip"])
    assert [str(v) for v in scorer.fit_views(data, None)] == ["turns", "vec", "turns+vec"]
    scorer.fit(data)
    assert sorted(scorer.heads_) == ["turns", "turns+vec", "vec"]
