"""Auxiliary training data for SFT (``bench run --auxiliary``, ``--modalities``): the fit split grows by the
auxiliary task's samples with shared labels; dev / test stay the task's own; resume keys include it."""

from __future__ import annotations

import json

import pytest
from test_bench_runner import FAST, task_file
from typer.testing import CliRunner

from interlens.bench import Runner, parse_tasks, run_benchmark, task_from_file
from interlens.bench.pooling import (
    parse_auxiliary,
    parse_task_options,
    restrict_modalities,
    with_auxiliary_training,
    with_data_options,
)
from interlens.cli.bench import app
from interlens.errors import DataError


@pytest.fixture()
def pair(tmp_path):
    """alpha (labels a, b) and beta (labels a, b, c; with context): beta's a/b samples can help alpha."""
    alpha = task_from_file(task_file(tmp_path / "data", "alpha", ("a", "b"), n=6))
    beta = task_from_file(task_file(tmp_path / "data", "beta", ("a", "b", "c"), n=9, context=True))
    return alpha, beta


def test_pooling_keeps_shared_labels_only_and_prefixes_ids(pair):
    alpha, beta = pair
    train = alpha.load().split("train")
    pooled = with_auxiliary_training(train, [beta.load().split("train")])
    # beta's 9 training rows cycle a, b, c: 6 carry a label alpha has
    assert len(pooled) == 6 + 6 and pooled.labels == ("a", "b") and pooled.modalities == ("utterance",)
    added = pooled.samples[6:]
    assert [s.id for s in added] == [f"beta/train/train{i}" for i in (0, 1, 3, 4, 6, 7)]
    assert [s.label for s in added] == ["a", "b"] * 3
    assert all(set(s.inputs) == {"utterance"} and s.meta["auxiliary"] == "beta/train" for s in added)
    fingerprint = beta.load().split("train").fingerprint()
    assert pooled.info["auxiliary"] == [{"dataset": "beta/train", "fingerprint": fingerprint, "n": 6, "of": 9}]
    assert with_auxiliary_training(train, []) is train


def test_pooling_renames_synonymous_labels_and_drops_classes_without_counterpart(tmp_path):
    """IEMOCAP -> MELD: "angry" is "anger", "happy" is "joy"; "excited" has no MELD class and is dropped."""
    meld = task_from_file(task_file(tmp_path / "m", "meld", ("neutral", "anger", "joy"), n=3))
    iemocap = task_from_file(task_file(tmp_path / "i", "iemo", ("angry", "happy", "excited", "neutral"), n=8))
    pooled = with_auxiliary_training(meld.load().split("train"), [iemocap.load().split("train")])
    # iemo's 8 training rows cycle angry, happy, excited, neutral: 6 kept, under MELD's names
    assert [s.label for s in pooled.samples[3:]] == ["anger", "joy", "neutral"] * 2
    assert pooled.labels == ("neutral", "anger", "joy")
    assert pooled.info["auxiliary"][0]["renamed"] == {"angry": "anger", "happy": "joy"}
    assert pooled.info["auxiliary"][0]["n"] == 6


def test_pooling_refuses_an_auxiliary_without_the_modalities_or_shared_labels(pair, tmp_path):
    alpha, beta = pair
    with pytest.raises(DataError, match=r"lacks modalities \['context'\]"):
        with_auxiliary_training(beta.load().split("train"), [alpha.load().split("train")])
    gamma = task_from_file(task_file(tmp_path / "other", "gamma", ("x", "y"), n=4))
    with pytest.raises(DataError, match=r"no sample with one of 'alpha/train''s labels \(a, b\)"):
        with_auxiliary_training(alpha.load().split("train"), [gamma.load().split("train")])


def test_runner_fits_on_the_pooled_split_and_keys_resume_on_it(tmp_path, pair):
    alpha, beta = pair
    out = tmp_path / "run"
    runner = Runner([alpha], "embedding", "sft", [0], out, scorer_params=FAST, n_boot=0, auxiliary={"alpha": [beta]})
    assert len(runner.fit_split(alpha, "utterance")) == 12
    assert len(runner.split(alpha, "val")) == 6 and len(runner.split(alpha, "eval")) == 6  # own dev / test
    run_benchmark([alpha], "embedding", "sft", [0], out, scorer_params=FAST, n_boot=0, auxiliary={"alpha": [beta]})
    assert json.loads((out / "results.json").read_text())["auxiliary"] == {"alpha": ["beta"]}
    plain = Runner([alpha], "embedding", "sft", [0], out, scorer_params=FAST, n_boot=0)
    assert plain.config(alpha, 0) != runner.config(alpha, 0)
    plain.run()
    assert plain.computed == [("alpha", 0)]  # not resumed from the pooled unit


def test_runner_refuses_auxiliary_outside_sft_or_the_run(tmp_path, pair):
    alpha, beta = pair
    with pytest.raises(DataError, match="for sft"):
        Runner([alpha, beta], "embedding", "it", [0], tmp_path, scorer_params=FAST, auxiliary={"alpha": [beta]})
    with pytest.raises(DataError, match=r"tasks not in the run: \['beta'\]"):
        Runner([alpha], "embedding", "sft", [0], tmp_path, scorer_params=FAST, auxiliary={"beta": [alpha]})


def test_parse_auxiliary_and_restrict_modalities(pair):
    alpha, beta = pair
    assert parse_auxiliary([f"alpha={beta.file}"], [alpha]) == {"alpha": [beta]}
    assert parse_auxiliary(None, [alpha]) == {}
    mintrec = parse_tasks("mintrec")
    assert [t.name for t in parse_auxiliary(["sisters"], mintrec)["mintrec"]] == ["mintrec2"]
    for bad, message in (("alpha", "TASK=AUX"), ("=beta", "TASK=AUX"), (f"gamma={beta.file}", "not in the run")):
        with pytest.raises(DataError, match=message):
            parse_auxiliary([bad], [alpha])
    (only,) = restrict_modalities([beta], "utterance")
    assert only.modalities == ("utterance",) and restrict_modalities([beta], None) == [beta]
    one, other = restrict_modalities([alpha, beta], ["beta=utterance"])
    assert one.modalities is None and other.modalities == ("utterance",)
    one, other = restrict_modalities([alpha, beta], ["utterance", "beta=utterance,context"])
    assert one.modalities == ("utterance",) and other.modalities == ("utterance", "context")
    with pytest.raises(DataError, match="empty modality"):
        restrict_modalities([beta], "utterance,")
    with pytest.raises(DataError, match="'gamma' is not in the run"):
        restrict_modalities([beta], ["gamma=utterance"])


def test_with_data_options_merges_per_task_loader_options(pair):
    alpha, beta = pair
    meld, mintrec = with_data_options(parse_tasks("meld-emotion,mintrec"), {"meld-emotion": {"turns_after": 1}})
    assert meld.options == {"task": "emotion", "context": True, "context_turns": 3, "turns_after": 1}
    assert mintrec == parse_tasks("mintrec")[0]
    with pytest.raises(DataError, match=r"data options for \['gamma'\], which are not in the run"):
        with_data_options([alpha, beta], {"gamma": {"x": 1}})


def test_cli_auxiliary_and_modalities(tmp_path, pair):
    alpha, beta = pair
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, ["run", "--tasks", beta.file, "--scorer", "embedding", "--scorer-option",
                                      "epochs=2", "--seeds", "1", "--out", str(out), "--n-boot", "0",
                                      "--modalities", "utterance", "--auxiliary", f"beta={alpha.file}"])
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    assert results["auxiliary"] == {"beta": ["alpha"]}
    bad = CliRunner().invoke(app, ["run", "--tasks", beta.file, "--scorer", "embedding", "--seeds", "1",
                                   "--out", str(out), "--auxiliary", f"beta={alpha.file}"])
    assert bad.exit_code == 2 and "lacks modalities ['context']" in " ".join(bad.output.split())


def test_portable_source_hides_the_data_folder(tmp_path, monkeypatch):
    from interlens.data.paths import portable_source

    monkeypatch.setenv("INTERLENS_DATA", str(tmp_path))
    assert portable_source(f"{tmp_path}/mustard/sarcasm_data.json") == "<data_root>/mustard/sarcasm_data.json"
    assert portable_source(f"{tmp_path}x/file.json") == f"{tmp_path}x/file.json"  # a sibling folder is not the root
    assert portable_source("/elsewhere/file.json") == "/elsewhere/file.json" and portable_source(None) is None


def test_cli_runs_a_view_diverse_ensemble_and_records_it(tmp_path):
    """bench run --scorer ensemble -s member_views=[...]: members alternate utterance / utterance+context."""
    path = task_file(tmp_path / "data", "beta", ("a", "b", "c"), n=9, context=True)
    out = tmp_path / "run"
    result = CliRunner().invoke(app, [
        "run", "--tasks", str(path), "--method", "sft", "--scorer", "ensemble", "-s", "base=embedding",
        "-s", "members=2", "-s", 'base_params={"epochs": 2, "hidden": 8, "rank": 2}',
        "-s", 'member_views=["utterance", "utterance+context"]', "--seeds", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "results.json").read_text())
    assert saved["scorer_params"]["member_views"] == ["utterance", "utterance+context"]
    bad = CliRunner().invoke(app, [
        "run", "--tasks", str(path), "--method", "sft", "--scorer", "ensemble", "-s", "base=embedding",
        "-s", "member_views=utterance", "--seeds", "1", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "member_views must be a non-empty list of views" in bad.output


def test_parse_task_options_and_file_tasks(tmp_path, pair):
    """--task-option TASK:KEY=VALUE: JSON values, one task's options; a file task's go to its reader."""
    alpha, beta = pair
    assert parse_task_options(["beta:seed=3", "beta:fractions=[0.5,0.25,0.25]", "alpha:name=x"], [alpha, beta]) \
        == {"beta": {"seed": 3, "fractions": [0.5, 0.25, 0.25]}, "alpha": {"name": "x"}}
    assert parse_task_options(None, [alpha]) == {}
    for bad in ("beta", "beta:seed", ":seed=1", "beta:=1"):
        with pytest.raises(DataError, match="--task-option takes TASK:KEY=VALUE"):
            parse_task_options([bad], [alpha, beta])
    with pytest.raises(DataError, match="task 'gamma' is not in the run"):
        parse_task_options(["gamma:seed=1"], [alpha, beta])
    (merged,) = with_data_options([beta], {"beta": {"seed": 3}})
    assert merged.options == {"path": beta.file, "options": {"seed": 3}}
    with pytest.raises(DataError, match="unknown option 'sed' for a dataset file"):
        with_data_options([beta], {"beta": {"sed": 3}})[0].load()


def test_cli_task_option_reaches_the_loader_and_the_unit_key(tmp_path, pair):
    alpha, beta = pair
    base = ["run", "--tasks", f"{alpha.file},{beta.file}", "--scorer", "embedding", "-s", "epochs=1",
            "--seeds", "1", "--n-boot", "0", "--modalities", "utterance"]
    bad = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "bad"), "--task-option", "beta:turns_after=1"])
    assert bad.exit_code == 2 and "unknown option 'turns_after' for a dataset file" in " ".join(bad.output.split())
    malformed = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "bad"), "--task-option", "beta=1"])
    assert malformed.exit_code == 2 and "--task-option takes TASK:KEY=VALUE" in " ".join(malformed.output.split())
    assert not (tmp_path / "bad" / "results.json").exists()


def test_cli_task_option_on_a_registered_task(tmp_path, shared_data):
    """meld-emotion:turns_after=1 reaches MELD's loader: recorded in results.json, with a new data fingerprint;
    an option MELD's loader lacks exits with code 2."""
    base = ["run", "--tasks", "meld-emotion", "--scorer", "embedding", "-s", "epochs=1", "--seeds", "1",
            "--n-boot", "0", "--limit", "8", "--data-root", str(shared_data), "--out", str(tmp_path / "run")]
    plain = CliRunner().invoke(app, base)
    assert plain.exit_code == 0, plain.output
    before = json.loads((tmp_path / "run" / "results.json").read_text())
    assert "turns_after" not in before["task_options"]["meld-emotion"]
    nxt = CliRunner().invoke(app, [*base, "--task-option", "meld-emotion:turns_after=1"])
    assert nxt.exit_code == 0, nxt.output
    after = json.loads((tmp_path / "run" / "results.json").read_text())
    assert after["task_options"]["meld-emotion"]["turns_after"] == 1
    assert after["data_fingerprints"]["meld-emotion"] != before["data_fingerprints"]["meld-emotion"]
    bad = CliRunner().invoke(app, [*base, "--task-option", "meld-emotion:turns_afterr=1"])
    assert bad.exit_code == 2 and "turns_afterr" in bad.output
