"""``interlens train`` trains any trainable scorer and saves it with the scorer's own ``save_pretrained``;
``from_pretrained`` reloads it with identical probabilities (issue 29, "Declared, not probed"). Scorers are
built on the tiny configurations of tests/scorer_zoo.py (real MiniLM encoder, tiny CLIP; no network) and
trained on the zoo corpus brought as a dataset file."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest
import typer
from hf_tiny import hf_cli_app
from method_shape import assert_api_matches_cli
from scorer_zoo import tiny_family_path, write_dataset_file
from typer.testing import CliRunner

from interlens.data import resolve_dataset
from interlens.scoring.base import Capability
from interlens.scoring.registry import registered_scorers, scorer_class


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    return hf_cli_app()


@pytest.fixture(scope="module")
def zoo_file(tmp_path_factory):
    return write_dataset_file(tmp_path_factory.mktemp("zoo"))


#: scorer -> (``interlens train`` arguments beyond --scorer / --dataset / --out, the views it fits)
CASES = {
    "minilm-ft": (["-s", "epochs=1", "-s", "max_length=32", "-s", "batch_size=8", "--seed", "0"],
                  ["utterance", "utterance+context"]),
    "embedding": (["-s", "epochs=5", "-s", "hidden=16", "-s", "rank=4", "--seed", "0"], ["utterance", "photo"]),
    "clip": (["-s", "epochs=30", "--seed", "0"], ["utterance", "photo"]),
    "ensemble": (["-s", "base=embedding", "-s", "members=2", "-s", 'base_params={"epochs": 5, "hidden": 16, '
                  '"rank": 4}', "--seed", "0"], ["utterance", "photo"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_train_saves_a_model_that_from_pretrained_reloads_with_identical_probabilities(name, app, zoo_file,
                                                                                        tmp_path, monkeypatch):
    cls = scorer_class(name)
    trained = []
    save = cls.save_pretrained

    def keep(self, directory):  # the scorer the command trained, to score it in this test
        trained.append(self)
        return save(self, directory)

    monkeypatch.setattr(cls, "save_pretrained", keep)
    extra, views = CASES[name]
    if name == "clip":
        extra = [*extra, "--model", tiny_family_path("tiny_clip")]
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", "--scorer", name, "--dataset", str(zoo_file), "--view",
                                      ",".join(views), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "results.json").read_text())
    assert summary["scorer"] == name and summary["views"] == views and summary["val_split"] == "dev"
    assert summary["model_dir"] == str(out / "model") and len(trained) == 1
    assert (out / "model" / "interlens.sha256").is_file()  # sealed: checked before loading

    reloaded = cls.from_pretrained(out / "model")
    assert type(reloaded) is cls and reloaded.fingerprint == trained[0].fingerprint == summary["fingerprint"]
    data = resolve_dataset(zoo_file)
    for view in views:
        expected = trained[0].predict_proba(data, view).probs
        # heads reload bit for bit (safetensors of the same dtype), so the probabilities are equal, not close
        np.testing.assert_array_equal(reloaded.predict_proba(data, view).probs, expected)
        assert expected.shape == (len(data), 2) and not np.isnan(expected).any()
    if name == "minilm-ft":  # the view folders stay plain transformers folders
        from transformers import AutoModelForSequenceClassification

        model = AutoModelForSequenceClassification.from_pretrained(out / "model" / "utterance")
        assert model.config.id2label == {0: "no", 1: "yes"}


def test_train_refuses_a_scorer_that_is_not_trainable_in_one_line(app, zoo_file, tmp_path):
    result = CliRunner().invoke(app, ["train", "--scorer", "precomputed", "--dataset", str(zoo_file),
                                      "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    line = " ".join(result.output.split())  # the console wraps long lines
    assert line.startswith("error: scorer 'precomputed' lacks capability 'trainable' needed for interlens train")
    assert not (tmp_path / "run").exists()


def test_train_refuses_a_trainable_scorer_that_cannot_save(app, zoo_file, tmp_path, monkeypatch):
    cls = scorer_class("embedding")
    monkeypatch.setattr(cls, "capabilities", cls.capabilities - {Capability.SAVABLE})
    result = CliRunner().invoke(app, ["train", "--scorer", "embedding", "--dataset", str(zoo_file),
                                      "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    line = " ".join(result.output.split())
    assert line.startswith("error: scorer 'embedding' lacks capability 'savable' needed for interlens train "
                           "(saves with save_pretrained)")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("name", sorted(registered_scorers()))
def test_every_trainable_scorer_declares_save_and_load(name):
    """timm-style: a scorer registered as trainable must declare ``savable`` and define ``save_pretrained``
    and the classmethod ``from_pretrained`` on its own class hierarchy (never probed with hasattr)."""
    cls = scorer_class(name)
    if Capability.TRAINABLE not in cls.capabilities:
        assert Capability.SAVABLE not in cls.capabilities or callable(getattr(cls, "from_pretrained", None))
        return
    assert Capability.SAVABLE in cls.capabilities, f"{name} is trainable but does not declare 'savable'"
    assert callable(getattr(cls, "save_pretrained", None)), name
    assert isinstance(inspect.getattr_static(cls, "from_pretrained"), classmethod), name


def test_ensemble_instances_declare_exactly_the_class_capabilities():
    from interlens.scoring.registry import make_scorer

    ensemble = make_scorer("ensemble", base="embedding", members=2)
    assert ensemble.capabilities == scorer_class("ensemble").capabilities
    assert Capability.SAVABLE in ensemble.capabilities


def test_hf_lm_from_pretrained_reloads_the_saved_adapter_on_the_saved_base(tmp_path):
    from hf_tiny import single_thread
    from scorer_zoo import conformance_dataset, make

    data = conformance_dataset(audio=False)
    with single_thread():
        scorer = make("hf-lm").fit(data.split("train"), "utterance")
        scorer.save_pretrained(tmp_path / "saved")
        again = scorer_class("hf-lm").from_pretrained(tmp_path / "saved")
        test = data.split("test")
        expected = scorer.predict_proba(test, "utterance").probs
        got = again.predict_proba(test, "utterance").probs
        base = make("hf-lm").predict_proba(test, "utterance").probs
    assert again.adapter == "default" and str(again.model_path) == str(scorer.model_path)
    # the adapter is re-attached by PEFT to a freshly loaded base: same weights, same kernels, same numbers
    np.testing.assert_array_equal(got, expected)
    assert np.abs(base - expected).max() > 1e-3  # the saved adapter is what makes them so


def test_python_api_run_saves_the_results_json_of_the_cli(app, zoo_file, tmp_path):
    """Issue 29: ``methods.train.run`` + ``Result.save`` writes the results.json of ``interlens train`` (the
    CLI adds only its command line): the same keys, fingerprint and dev / test metrics, and stored predictions
    that ``interlens verify`` re-derives the metrics from."""
    from interlens.evidence.verify import verify_path
    from interlens.methods.train import TrainConfig, run
    from interlens.scoring.registry import make_scorer

    extra, views = CASES["embedding"]
    cli = CliRunner().invoke(app, ["train", "--scorer", "embedding", "--dataset", str(zoo_file), "--view",
                                   ",".join(views), "--out", str(tmp_path / "cli"), *extra])
    assert cli.exit_code == 0, cli.output
    scorer = make_scorer("embedding", epochs=5, hidden=16, rank=4, seed=0)
    result = run(TrainConfig(views=tuple(views)), resolve_dataset(zoo_file), scorer, workdir=tmp_path / "api")
    api = json.loads(result.save(tmp_path / "api").read_text())
    by_cli = json.loads((tmp_path / "cli" / "results.json").read_text())
    assert_api_matches_cli(api, by_cli, command="train", must_have=("metrics", "stored_predictions"))
    assert api["kind"] == "interlens.train"
    assert api["fingerprint"] == by_cli["fingerprint"] and api["model_dir"] == str(tmp_path / "api" / "model")
    assert set(api["metrics"]) == {"dev", "test"} and set(api["metrics"]["test"]) == set(views)
    assert api["metrics"] == by_cli["metrics"]
    assert 0.0 <= api["metrics"]["test"]["utterance"]["acc"] <= 1.0
    for where in (tmp_path / "api", tmp_path / "cli"):
        report = verify_path(where)
        assert report.exit_code == 0 and report.derived == len(api["stored_predictions"]["checks"]) > 0
