"""Bench runner over real scorers (embedding, minilm-ft) on tiny task files: SFT / IT / zero-shot,
capability refusals before any work, resume after an interruption, and the CLI's one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interlens.bench import Runner, parse_tasks, run_benchmark, task_from_file
from interlens.cli.bench import app
from interlens.errors import DataError
from interlens.scoring.base import CapabilityError

WORDS = {"a": "great lovely wonderful", "b": "awful terrible bad", "c": "table chair window",
         "x": "yes sure agree", "y": "no never refuse"}
FAST = {"epochs": 2, "hidden": 8, "rank": 2}


def task_file(folder: Path, name: str, labels: tuple[str, ...], *, n: int = 12, splits: tuple[str, ...] = (
        "train", "dev", "test"), dimension: str | None = "intent", drop: str | None = None,
        context: bool = False) -> Path:
    """A dataset file (YAML + JSONL) with ``n`` rows per split, label words in the utterance."""
    rows = []
    for split in splits:
        for i in range(n):
            label = labels[i % len(labels)]
            row = {"uid": f"{split}{i}", "utt": f"{WORDS.get(label, label)} number {i}", "tag": label, "part": split,
                   **({"ctx": ["earlier turn", f"turn {i}"]} if context else {})}
            rows.append({k: v for k, v in row.items() if k != drop})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    spec = {"name": name, "path": f"{name}.jsonl", "id": "uid", "label": "tag", "labels": list(labels),
            "modalities": {"utterance": "utt", **({"context": "ctx"} if context else {})}, "split": "part",
            **({"dimension": dimension} if dimension else {})}
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(spec), encoding="utf-8")  # JSON is YAML
    return path


@pytest.fixture()
def tasks(tmp_path):
    return [task_from_file(task_file(tmp_path / "data", "alpha", ("a", "b", "c"))),
            task_from_file(task_file(tmp_path / "data", "beta", ("x", "y")))]


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_task_from_file_splits_labels_dimension(tmp_path):
    task = task_from_file(task_file(tmp_path, "alpha", ("a", "b", "c"), splits=("train", "test")))
    assert task.name == "alpha" and task.labels == ("a", "b", "c") and task.dimension == "intent"
    assert task.splits == {"fit": "train", "val": None, "eval": "test"} and task.evaluation_split == "test"
    data = task.load()
    assert data.dimension == "intent" and data.modalities == ("utterance",) and len(data.split("test")) == 12
    assert parse_tasks(f"{task.file},{task.file}") == [task]


def test_task_file_without_test_split_is_refused(tmp_path):
    path = task_file(tmp_path, "alpha", ("a", "b"), splits=("train", "dev"))
    with pytest.raises(DataError, match="needs a 'test' split"):
        task_from_file(path)


def test_sft_resumes_after_interruption(tmp_path, tasks):
    out = tmp_path / "run"

    def killed_after_alpha(message):
        if message.startswith("alpha seed 0: acc"):
            raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        Runner(tasks, "embedding", "sft", [0], out, scorer_params=FAST, log=killed_after_alpha, n_boot=0).run()
    assert sorted(p.name for p in (out / "units").glob("*.json")) == ["sft__alpha__seed0.json"]
    runner = Runner(tasks, "embedding", "sft", [0, 1], out, scorer_params=FAST, n_boot=0)
    results = runner.run()
    assert runner.computed == [("beta", 0), ("alpha", 1), ("beta", 1)]
    alpha = next(t for t in results.tasks if t.task == "alpha")
    assert alpha.seeds == [0, 1] and alpha.per_seed["0"]["n"] == 12 and alpha.summary["acc"]["n"] == 2
    # a different seed gives a different model (the seed reaches the scorer)
    assert results.scorer_fingerprints["alpha/seed0"] != results.scorer_fingerprints["alpha/seed1"]
    again = Runner(tasks, "embedding", "sft", [0, 1], out, scorer_params=FAST, n_boot=0)
    again.run()
    assert again.computed == []
    changed = Runner(tasks[:1], "embedding", "sft", [0], out, scorer_params=FAST, n_boot=0, limit=5)
    changed.run()
    assert changed.computed == [("alpha", 0)]


def test_sft_unit_killed_mid_fit_resumes_from_its_finished_members(tmp_path, tasks, monkeypatch):
    """An ensemble unit killed while fitting member 2 restores members 0-1 from <out>/checkpoints/<unit>
    on the rerun; the unit equals an uninterrupted run's, and its checkpoint folder is gone once recorded."""
    from interlens.scoring.registry import scorer_class

    params = {"base": "embedding", "members": 3, "base_params": FAST}
    cls = scorer_class("embedding")
    real_fit, fits = cls.fit, []

    def killed_at_member_2(self, *args, **kwargs):
        fits.append(self.seed)
        if self.seed == 2000 and kill:
            raise KeyboardInterrupt("killed")
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(cls, "fit", killed_at_member_2)
    out, kill = tmp_path / "run", True
    with pytest.raises(KeyboardInterrupt):
        Runner(tasks[:1], "ensemble", "sft", [0], out, scorer_params=params, n_boot=0).run()
    assert len(list((out / "checkpoints" / "sft__alpha__seed0").glob("*.safetensors"))) == 2
    assert not (out / "units").exists() or not list((out / "units").iterdir())
    fits.clear()
    kill = False
    logs: list[str] = []
    resumed = Runner(tasks[:1], "ensemble", "sft", [0], out, scorer_params=params, n_boot=0, log=logs.append).run()
    assert fits == [2000]
    assert not (out / "checkpoints" / "sft__alpha__seed0").exists()
    fits.clear()
    whole = Runner(tasks[:1], "ensemble", "sft", [0], tmp_path / "whole", scorer_params=params, n_boot=0).run()
    assert fits == [0, 1000, 2000]
    assert resumed.tasks[0].per_seed == whole.tasks[0].per_seed
    assert (out / "samples" / "sft__alpha__seed0.jsonl").read_text() == (
        tmp_path / "whole" / "samples" / "sft__alpha__seed0.jsonl").read_text()


def test_prefit_members_splits_an_ensemble_unit_over_processes(tmp_path, tasks, monkeypatch):
    """Members 2 and 1 prefitted (as another process would) into the unit's checkpoint folder: the run fits
    only member 0 and its unit equals one process fitting all three."""
    from interlens.scoring.registry import scorer_class

    params = {"base": "embedding", "members": 3, "base_params": FAST}
    cls = scorer_class("embedding")
    real_fit, fits = cls.fit, []

    def counted(self, *args, **kwargs):
        fits.append(self.seed)
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(cls, "fit", counted)
    out = tmp_path / "run"
    helper = Runner(tasks[:1], "ensemble", "sft", [0], out, scorer_params=params, n_boot=0)
    assert helper.prefit_members([2, 1]) == [("alpha", 0, 2, "fitted"), ("alpha", 0, 1, "fitted")]
    assert fits == [2000, 1000]
    fits.clear()
    split = Runner(tasks[:1], "ensemble", "sft", [0], out, scorer_params=params, n_boot=0).run()
    assert fits == [0]
    whole = Runner(tasks[:1], "ensemble", "sft", [0], tmp_path / "whole", scorer_params=params, n_boot=0).run()
    assert split.tasks[0].per_seed == whole.tasks[0].per_seed
    assert helper.prefit_members([2]) == []  # the unit is recorded: nothing left to fit
    with pytest.raises(DataError, match="member must be 0..2 for 3 members, got 3"):
        Runner(tasks[:1], "ensemble", "sft", [1], out, scorer_params=params, n_boot=0).prefit_members([3])
    with pytest.raises(DataError, match="needs method sft and scorer 'ensemble', not sft with 'embedding'"):
        Runner(tasks[:1], "embedding", "sft", [0], out, scorer_params=FAST, n_boot=0).prefit_members([0])


def test_cli_prefit_members_then_run(tmp_path):
    path = task_file(tmp_path / "data", "alpha", ("a", "b", "c"))
    common = ["run", "--tasks", str(path), "--scorer", "ensemble", "-s", "base=embedding", "-s", "members=2",
              "-s", 'base_params={"epochs": 2, "hidden": 8, "rank": 2}', "--seeds", "1", "--n-boot", "0",
              "--out", str(tmp_path / "run"), "--no-save-models"]
    cli = CliRunner()
    pre = cli.invoke(app, [*common, "--prefit-members", "1"])
    assert pre.exit_code == 0, pre.output
    assert "alpha seed 0: member 1 fitted" in one_line(pre.output)
    assert len(list((tmp_path / "run" / "checkpoints" / "sft__alpha__seed0").glob("*.safetensors"))) == 1
    assert not (tmp_path / "run" / "results.json").exists()
    full = cli.invoke(app, [*common])
    assert full.exit_code == 0, full.output
    assert (tmp_path / "run" / "results.json").exists()
    assert not (tmp_path / "run" / "checkpoints" / "sft__alpha__seed0").exists()
    bad = cli.invoke(app, [*common, "--prefit-members", "one"])
    assert bad.exit_code == 2 and "--prefit-members takes member numbers like '4,3', got 'one'" in one_line(
        bad.output)
    assert len(bad.output.strip().splitlines()) == 1


def test_it_classifier_trains_one_model_over_prefixed_labels(tmp_path, tasks):
    runner = Runner(tasks, "embedding", "it", [0], tmp_path, scorer_params=FAST, n_boot=0)
    union = runner._prefixed_union("fit", ("alpha:a", "alpha:b", "alpha:c", "beta:x", "beta:y"), "utterance")
    assert len(union) == 24 and union["beta/train1"].label == "beta:y"
    results = run_benchmark(tasks, "embedding", "it", [0], tmp_path, scorer_params=FAST, n_boot=0)
    assert results.scorer_fingerprints["alpha/seed0"] == results.scorer_fingerprints["beta/seed0"]
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["method"] == "it" and [t["task"] for t in written["tasks"]] == ["alpha", "beta"]
    assert all(t.per_seed["0"]["n"] == 12 for t in results.tasks)


def test_zero_shot_with_a_trainable_only_scorer_is_refused_before_loading(tmp_path, tasks):
    def never(task):
        raise AssertionError("data loaded before the capability check")

    with pytest.raises(CapabilityError) as err:
        Runner(tasks, "embedding", "zero-shot", [0], tmp_path, load=never)
    message = str(err.value)
    assert "'embedding'" in message and "'zero_shot'" in message and "bench zero-shot" in message
    assert "\n" not in message


def test_sft_without_training_split_is_an_error_not_zero_shot(tmp_path):
    task = task_from_file(task_file(tmp_path, "gamma", ("a", "b"), splits=("test",)))
    assert task.splits["fit"] is None
    with pytest.raises(DataError, match="task 'gamma' has no training split; method sft needs one"):
        Runner([task], "embedding", "sft", [0], tmp_path)
    with pytest.raises(DataError, match="method it needs one"):
        Runner([task], "embedding", "it", [0], tmp_path)


def test_bad_runner_arguments(tmp_path, tasks):
    with pytest.raises(DataError, match="no seeds"):
        Runner(tasks, "embedding", "sft", [], tmp_path)
    with pytest.raises(DataError, match="Did you mean 'epochs'"):
        Runner(tasks, "embedding", "sft", [0], tmp_path, scorer_params={"epoch": 1})
    with pytest.raises(DataError, match="seed is set per run"):
        Runner(tasks, "embedding", "sft", [0], tmp_path, scorer_params={"seed": 3})
    with pytest.raises(Exception, match="Did you mean 'minilm-ft'"):
        Runner(tasks, "minilm-fit", "sft", [0], tmp_path)
    with pytest.raises(Exception, match="Did you mean 'sft'"):
        Runner(tasks, "embedding", "sfr", [0], tmp_path)


def test_cli_errors_are_one_line_exit_2(tmp_path):
    good = task_file(tmp_path, "alpha", ("a", "b"))
    broken = task_file(tmp_path / "broken", "delta", ("a", "b"), drop="tag")
    cli = CliRunner()
    cases = [
        (["--tasks", str(broken)], "missing column 'tag'"),
        (["--tasks", str(good), "--method", "zero-shot", "--scorer", "embedding"], "lacks capability 'zero_shot'"),
        (["--tasks", "mintrec-2"], "Did you mean 'mintrec2'"),
        (["--tasks", str(good), "-s", "epoch=1"], "Did you mean 'epochs'"),
    ]
    for args, expected in cases:
        result = cli.invoke(app, ["run", *args, "--out", str(tmp_path / "out")])
        assert result.exit_code == 2, result.output
        assert expected in one_line(result.output), result.output
        assert "Traceback" not in result.output and result.output.count("error:") == 1
    for args in (["--seeds", "0"], ["--method", "fewshot"]):
        result = cli.invoke(app, ["run", "--tasks", str(good), *args, "--out", str(tmp_path / "out")])
        assert result.exit_code == 2 and ("seeds" in result.output or "fewshot" in result.output)
    assert not (tmp_path / "out").exists()


def test_cli_minilm_ft_sft_on_a_task_file(tmp_path):
    path = task_file(tmp_path, "alpha", ("a", "b"), n=6)
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", "--tasks", str(path), "--scorer", "minilm-ft", "-s", "epochs=1",
                                      "-s", "batch_size=4", "-s", "max_length=16", "--method", "sft", "--seeds", "1",
                                      "--n-boot", "0", "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = json.loads((out / "results.json").read_text())
    assert written["scorer"] == "minilm-ft" and written["scorer_params"] == {"epochs": 1, "batch_size": 4,
                                                                              "max_length": 16}
    (task,) = written["tasks"]
    assert task["task"] == "alpha" and task["evaluation_split"] == "test" and task["per_seed"]["0"]["n"] == 6
    assert "view utterance" in one_line(result.output)


def test_unit_fit_s_total_counts_members_fitted_elsewhere(tmp_path, tasks, monkeypatch):
    """An ensemble unit whose members 1 and 2 were prefitted by another process records the cost of all three
    fits (``fit_s_total``: each restored member keeps the time its fit took), not only this process's."""
    import types

    ticks = iter(range(0, 1000, 5))  # every fit_or_restore fit lasts exactly 5 "seconds"
    monkeypatch.setattr("interlens.checkpoints.time", types.SimpleNamespace(perf_counter=lambda: next(ticks)))
    params = {"base": "embedding", "members": 3, "base_params": FAST}
    out = tmp_path / "run"
    Runner(tasks[:1], "ensemble", "sft", [0], out, scorer_params=params, n_boot=0).prefit_members([1, 2])
    results = Runner(tasks[:1], "ensemble", "sft", [0], out, scorer_params=params, n_boot=0).run()
    unit = json.loads((out / "units" / "sft__alpha__seed0.json").read_text())
    assert unit["fit_s_total"] == 15  # 3 members x 5 s, two of them fitted by the "other process"
    assert results.tasks[0].timing_per_seed["0"]["fit_s_total"] == 15 and results.tasks[0].fit_cost() == 15
    single = Runner(tasks[:1], "embedding", "sft", [0], tmp_path / "one", scorer_params=FAST, n_boot=0)
    single.run()
    assert json.loads((tmp_path / "one" / "units" / "sft__alpha__seed0.json").read_text())["fit_s_total"] == 5


def test_fit_seconds_is_unknown_for_a_scorer_fitted_directly(tasks):
    from interlens.scoring.registry import make_scorer

    data = tasks[0].load()
    model = make_scorer("embedding", **FAST).fit(data.split("train"), ["utterance"])
    assert model.fit_seconds is None
    ensemble = make_scorer("ensemble", base="embedding", members=2, base_params=FAST)
    assert ensemble.fit_seconds is None  # not fitted
