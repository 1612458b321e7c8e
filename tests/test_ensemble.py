"""The ``ensemble`` scorer (a seed ensemble of any trainable scorer as one model) and ``Dataset.cap_split``.

Exact: the ensemble's probabilities are the mean of its members' (refitted independently here with the
seeds the ensemble gives them), members differ, features are the members' side by side, finetune
fine-tunes every member; refusals are one line. cap_split keeps a seeded subset, order and other splits.
"""

from __future__ import annotations

import numpy as np
import pytest

from interlens.errors import DataError, InterlensError
from interlens.scoring.base import Capability, softmax
from interlens.scoring.registry import make_scorer
from tests.scorer_zoo import conformance_dataset

BASE = {"epochs": 5, "hidden": 16, "rank": 4}


@pytest.fixture(scope="module")
def data():
    return conformance_dataset(32, audio=False)


@pytest.fixture(scope="module")
def fitted(data):
    return make_scorer("ensemble", base="embedding", members=3, base_params=BASE, seed=7).fit(
        data.split("train"), ["utterance", "photo"], val=data.split("dev"))


def test_probabilities_are_the_mean_of_independently_fitted_members(data, fitted):
    test = data.split("test")
    members = [make_scorer("embedding", **BASE, seed=7 + 1000 * k).fit(data.split("train"), ["utterance", "photo"],
                                                                      val=data.split("dev")) for k in range(3)]
    expected = np.mean([softmax(m.logits(test, "utterance")) for m in members], axis=0)
    got = fitted.predict_proba(test, "utterance").probs
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    single = [softmax(m.logits(test, "utterance")) for m in members]
    assert not np.allclose(single[0], single[1])  # members really differ (own seeds)


def test_features_side_by_side_and_capabilities_follow_the_base(data, fitted):
    test = data.split("test")
    feats = fitted.features(test)
    one = fitted.members_[0].features(test)
    assert feats.shape == (len(test), 3 * one.shape[1])
    np.testing.assert_array_equal(feats[:, : one.shape[1]], one)
    assert fitted.capabilities == {Capability.TRAINABLE, Capability.FINETUNE, Capability.FEATURES, Capability.SAVABLE}
    assert fitted.capabilities == type(fitted).capabilities  # declared on the class (issue 29)
    assert fitted.modality_kinds == make_scorer("embedding").modality_kinds


def test_finetune_returns_a_new_ensemble_of_finetuned_members(data, fitted):
    subset = data.split("train").subset(data.split("train").ids[:8])
    before = fitted.fingerprint
    tuned = fitted.finetune(subset, "utterance", epochs=2)
    assert tuned is not fitted and fitted.fingerprint == before and tuned.fingerprint != before
    assert all(t is not m for t, m in zip(tuned.members_, fitted.members_, strict=True))
    test = data.split("test")
    expected = np.mean([softmax(m.logits(test, "utterance")) for m in tuned.members_], axis=0)
    np.testing.assert_allclose(tuned.predict_proba(test, "utterance").probs, expected, rtol=1e-9)


def test_member_views_alternate_what_members_read(data):
    """member_views=["utterance", "utterance+context"]: members 0 and 2 read the utterance only, member 1
    both; the probabilities are the mean of members fitted on exactly those views."""
    train, dev, test = data.split("train"), data.split("dev"), data.split("test")
    both = "utterance+context"
    ens = make_scorer("ensemble", base="embedding", members=3, base_params=BASE, seed=7,
                      member_views=["utterance", both]).fit(train, [both], val=dev)
    views = ["utterance", both, "utterance"]
    assert [str(ens.member_view(k, both)) for k in range(3)] == views
    members = [make_scorer("embedding", **BASE, seed=7 + 1000 * k).fit(train, [v], val=dev)
               for k, v in enumerate(views)]
    expected = np.mean([softmax(m.logits(test, v)) for m, v in zip(members, views, strict=True)], axis=0)
    np.testing.assert_allclose(ens.predict_proba(test, both).probs, expected, rtol=1e-9, atol=1e-12)
    plain = make_scorer("ensemble", base="embedding", members=3, base_params=BASE, seed=7)
    assert ens.fingerprint != plain.fit(train, [both], val=dev).fingerprint
    with pytest.raises(DataError, match="ensemble member 1 reads 'utterance\\+context', which view 'photo' does"):
        ens.member_view(1, "photo")
    with pytest.raises(DataError, match="member_views must be a non-empty list"):
        make_scorer("ensemble", base="embedding", member_views="utterance")


def test_fingerprint_changes_with_members_and_base_params():
    a = make_scorer("ensemble", base="embedding", members=2, base_params=BASE)
    assert a.fingerprint != make_scorer("ensemble", base="embedding", members=3, base_params=BASE).fingerprint
    assert a.fingerprint != make_scorer("ensemble", base="embedding", members=2,
                                        base_params={**BASE, "epochs": 6}).fingerprint
    # defaults spelled out or left out: the same model
    assert a.fingerprint == make_scorer("ensemble", base="embedding", members=2,
                                        base_params={**BASE, "lr": make_scorer("embedding").lr}).fingerprint


@pytest.mark.parametrize(("params", "message"), [
    ({"base": "precomputed"}, "lacks capability 'trainable'"),
    ({"base": "ensemble"}, "cannot be another ensemble"),
    ({"base": "embeding"}, "Did you mean 'embedding'"),
    ({"base": "embedding", "members": 0}, "members must be an integer >= 1"),
    ({"base": "embedding", "base_params": {"seed": 3}}, "not base_params.seed"),
    ({"base": "embedding", "base_params": {"epoch": 3}}, "'epochs'"),
])
def test_refusals_are_one_line(params, message):
    with pytest.raises(InterlensError) as err:
        make_scorer("ensemble", **params)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_unfitted_ensemble_refuses_to_score(data):
    with pytest.raises(DataError, match="not fitted"):
        make_scorer("ensemble", base="embedding", base_params=BASE).logits(data.split("test"), "utterance")


def test_cap_split_keeps_a_seeded_subset_in_order(data):
    capped = data.cap_split("train", 5, seed=3)
    train = data.splits["train"]
    kept = capped.splits["train"]
    assert len(kept) == 5 and set(kept) <= set(train)
    assert kept == [i for i in train if i in set(kept)]  # original order
    assert capped.splits["dev"] == data.splits["dev"] and capped.splits["test"] == data.splits["test"]
    assert len(capped) == len(data) - (len(train) - 5)
    assert capped.info["capped"] == {"train": {"n": 5, "of": len(train), "seed": 3}}
    assert data.cap_split("train", 5, seed=3).splits["train"] == kept  # seeded
    assert data.cap_split("train", 5, seed=4).splits["train"] != kept
    assert data.cap_split("train", len(train)) is data and data.cap_split("train", None) is data
    with pytest.raises(DataError, match="no split 'tran'"):
        data.cap_split("tran", 3)
    with pytest.raises(DataError, match=">= 1"):
        data.cap_split("train", 0)


def test_experts_train_max_train_caps_and_records(tmp_path):
    import json

    from typer.testing import CliRunner

    from interlens.cli import app

    out = tmp_path / "ex"
    result = CliRunner().invoke(app, ["experts", "train", "-d", "n=240", "--max-train", "60", "--seed", "0",
                                      "-s", "epochs=3", "--no-save-models", "--out", str(out)])
    assert result.exit_code == 0, result.output
    res = json.loads((out / "results.json").read_text())
    assert res["settings"]["max_train"] == 60 and res["dataset"]["splits"]["train"] == 60
    assert sum(res["category_counts"]["train"].values()) == 60
    bad = CliRunner().invoke(app, ["experts", "train", "--max-train", "0", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and not (tmp_path / "bad" / "results.json").exists()


def test_fit_logs_one_line_per_member_with_eta(data, caplog):
    with caplog.at_level("INFO", logger="interlens"):
        make_scorer("ensemble", base="embedding", members=2, base_params=BASE, seed=3).fit(data.split("train"),
                                                                                          ["utterance"])
    lines = [r.getMessage() for r in caplog.records if r.name == "interlens.scoring.ensemble"]
    assert [line.split(" fitted")[0] for line in lines] == ["ensemble: member 1/2 (embedding, seed 3)",
                                                           "ensemble: member 2/2 (embedding, seed 1003)"]
    assert lines[0].endswith(" s") and "ETA" in lines[0] and lines[1].endswith("ETA 0 s")


def test_member_checkpoints_resume_and_grow_without_refitting(data, tmp_path, monkeypatch, caplog):
    """Members are saved as they finish: a fit killed at member 2 restores members 0-1 and fits the rest; a
    5-member ensemble with the same seed refits none of the 3-member one's; results equal a fit without."""
    train, dev, test = data.split("train"), data.split("dev"), data.split("test")
    folder = tmp_path / "ckpt"
    cls = type(make_scorer("embedding"))
    real_fit, fits = cls.fit, []

    def counted(self, *args, **kwargs):
        fits.append(self.seed)
        if self.seed == 2007 and folder.exists() and len(fits) == 3:
            raise KeyboardInterrupt("killed at member 2")
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(cls, "fit", counted)
    three = make_scorer("ensemble", base="embedding", members=3, base_params=BASE, seed=7)
    three.member_checkpoints = folder
    with pytest.raises(KeyboardInterrupt):
        three.fit(train, ["utterance"], val=dev)
    assert len(list(folder.glob("*.safetensors"))) == 2
    fits.clear()
    caplog.clear()
    with caplog.at_level("INFO", logger="interlens"):
        three.fit(train, ["utterance"], val=dev)
    assert fits == [2007]  # members 0 and 1 restored
    assert [r.getMessage().split(", ")[1].split(" ")[-1] for r in caplog.records
            if r.name == "interlens.scoring.ensemble"] == ["restored", "restored", "fitted"]
    fits.clear()
    five = make_scorer("ensemble", base="embedding", members=5, base_params=BASE, seed=7)
    five.member_checkpoints = folder
    five.fit(train, ["utterance"], val=dev)
    assert fits == [3007, 4007] and len(list(folder.glob("*.safetensors"))) == 5
    plain = make_scorer("ensemble", base="embedding", members=5, base_params=BASE, seed=7).fit(
        train, ["utterance"], val=dev)
    np.testing.assert_array_equal(five.logits(test, "utterance"), plain.logits(test, "utterance"))
    assert five.fingerprint == plain.fingerprint  # the folder is not a parameter
    other = make_scorer("ensemble", base="embedding", members=1, base_params=BASE, seed=7)
    other.member_checkpoints = folder
    fits.clear()
    other.fit(train, ["utterance", "photo"], val=dev)  # other views: another plan, fitted anew
    assert fits == [7]
