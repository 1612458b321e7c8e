"""The test-look ledger and pre-registered plans (issue 26, item 4): the count of distinct configurations
evaluated on a test split rises with a second configuration (not with a rerun), results.json and
``bench compare`` show it, and a second configuration under one plan is refused without --new-look."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_bench_runner import FAST, task_file
from typer.testing import CliRunner

from interlens.bench import run_benchmark, task_from_file
from interlens.bench.report import compare_table, load_run
from interlens.cli import app
from interlens.evidence.ledger import LEDGER_ENV, count_looks, ledger_path, looks, record_evaluation, record_look
from interlens.evidence.plan import PlanViolation, load_plan


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_count_is_distinct_configurations_per_data_and_split(tmp_path):
    path = tmp_path / "ledger.sqlite"
    record_look("data1", "test", "cfgA", path=path)
    record_look("data1", "test", "cfgA", path=path)  # a rerun: not a new look
    assert count_looks("data1", "test", path=path) == 1
    record_look("data1", "test", "cfgB", path=path)
    record_look("data1", "dev", "cfgC", path=path)
    record_look("data2", "test", "cfgC", path=path)
    assert count_looks("data1", "test", path=path) == 2 and count_looks("data1", "dev", path=path) == 1
    assert [lk.config_fp for lk in looks("data1", "test", path=path)] == ["cfgA", "cfgA", "cfgB"]
    assert count_looks("nothing", "test", path=tmp_path / "absent.sqlite") == 0


def test_ledger_lives_beside_the_cache_unless_the_env_names_it(tmp_path, monkeypatch):
    monkeypatch.delenv(LEDGER_ENV)
    assert ledger_path(tmp_path / "c" / "cache.sqlite") == tmp_path / "c" / "ledger.sqlite"
    monkeypatch.setenv("INTERLENS_CACHE", str(tmp_path / "d" / "p.sqlite"))
    assert ledger_path() == tmp_path / "d" / "ledger.sqlite"  # --no-cache: beside the default cache
    monkeypatch.setenv(LEDGER_ENV, str(tmp_path / "x.sqlite"))
    assert ledger_path(tmp_path / "c" / "cache.sqlite") == tmp_path / "x.sqlite"
    assert record_evaluation("fp", "test", {"scorer": "embedding", "epochs": 2}) == 1
    assert record_evaluation("fp", "test", {"scorer": "embedding", "epochs": 3}) == 2


@pytest.fixture()
def alpha(tmp_path):
    return task_from_file(task_file(tmp_path / "data", "alpha", ("a", "b", "c")))


def test_second_configuration_on_the_same_test_split_raises_the_count(tmp_path, alpha):
    run_benchmark([alpha], "embedding", "sft", [0], tmp_path / "a", scorer_params=FAST, n_boot=0)
    assert json.loads((tmp_path / "a" / "results.json").read_text())["test_looks"] == {"alpha": 1}
    run_benchmark([alpha], "embedding", "sft", [0], tmp_path / "a", scorer_params=FAST, n_boot=0)  # resume
    run_benchmark([alpha], "embedding", "sft", [0], tmp_path / "a2", scorer_params=FAST, n_boot=0)  # rerun
    assert json.loads((tmp_path / "a2" / "results.json").read_text())["test_looks"] == {"alpha": 1}
    other = {**FAST, "epochs": 3}
    run_benchmark([alpha], "embedding", "sft", [0], tmp_path / "b", scorer_params=other, n_boot=0)
    assert json.loads((tmp_path / "b" / "results.json").read_text())["test_looks"] == {"alpha": 2}
    rows = [r for r in compare_table(load_run(tmp_path / "a")).splitlines() if r.startswith("| ALPHA")
            or r.startswith("| alpha")]
    assert len(rows) == 1 and rows[0].split(" | ")[-3] == "2"  # the first run's row shows the later look too
    assert len(looks(path=os.environ[LEDGER_ENV])) == 3  # a, a2 and b evaluated; the resume evaluated nothing


def _plan(folder: Path, task: Path, epochs: int, name: str = "tiny-plan") -> Path:
    path = folder / f"plan{epochs}.yaml"
    path.write_text(json.dumps({
        "name": name, "tasks": [str(task)], "method": "sft", "scorer": "embedding",
        "scorer_params": {**FAST, "epochs": epochs}, "seeds": [0], "metric": "acc",
        "reference": {"values": {"alpha": 50.0}}, "analysis": "mean test ACC over seeds"}), encoding="utf-8")
    return path


def test_plan_refuses_a_second_configuration_unless_new_look(tmp_path, alpha):
    first, second = _plan(tmp_path, alpha.file, 2), _plan(tmp_path, alpha.file, 3)
    run_benchmark([alpha], "embedding", "sft", [0], tmp_path / "p1", scorer_params=FAST, n_boot=0, plan=first)
    results = json.loads((tmp_path / "p1" / "results.json").read_text())
    assert results["plan"] == {"name": "tiny-plan", "sha256": load_plan(first)[1], "unplanned_looks": []}
    (look,) = looks(path=os.environ[LEDGER_ENV])
    assert look.plan_name == "tiny-plan" and look.plan_sha256 == load_plan(first)[1]
    # the same configuration again (another folder) is not a new look
    run_benchmark([alpha], "embedding", "sft", [0], tmp_path / "p1b", scorer_params=FAST, n_boot=0, plan=first)
    other = {**FAST, "epochs": 3}
    with pytest.raises(PlanViolation, match="plan 'tiny-plan' already evaluated test of task 'alpha'"):
        run_benchmark([alpha], "embedding", "sft", [0], tmp_path / "p2", scorer_params=other, n_boot=0, plan=second)
    assert not (tmp_path / "p2" / "units").exists()  # refused before any evaluation
    run_benchmark([alpha], "embedding", "sft", [0], tmp_path / "p2", scorer_params=other, n_boot=0, plan=second,
                  new_look=True)
    results = json.loads((tmp_path / "p2" / "results.json").read_text())
    assert results["test_looks"] == {"alpha": 2} and results["plan"]["unplanned_looks"] == ["alpha"]


def test_plan_must_match_the_run(tmp_path, alpha):
    with pytest.raises(Exception, match="the run's scorer_params .* is not the plan's"):
        run_benchmark([alpha], "embedding", "sft", [0], tmp_path / "x", scorer_params={**FAST, "epochs": 5},
                      n_boot=0, plan=_plan(tmp_path, alpha.file, 2))


def test_cli_plan_refusal_is_one_line_exit_2_and_new_look_is_shown(tmp_path, alpha):
    cli = CliRunner()
    first, second = _plan(tmp_path, alpha.file, 2), _plan(tmp_path, alpha.file, 3)
    base = ["bench", "run", "--n-boot", "0", "--no-save-models"]
    result = cli.invoke(app, [*base, "--plan", str(first), "--out", str(tmp_path / "c1")])
    assert result.exit_code == 0, result.output
    assert "test looks: 1" in result.output
    result = cli.invoke(app, [*base, "--plan", str(second), "--out", str(tmp_path / "c2")])
    assert result.exit_code == 2 and "pass --new-look" in one_line(result.output)
    result = cli.invoke(app, [*base, "--plan", str(second), "--new-look", "--out", str(tmp_path / "c2")])
    assert result.exit_code == 0 and "NEW TEST LOOK: alpha under plan 'tiny-plan'" in one_line(result.output)
    assert "test looks: 2" in result.output
    result = cli.invoke(app, [*base, "--plan", str(first), "--scorer", "embedding", "--out", str(tmp_path / "c3")])
    assert result.exit_code == 2 and "--plan fixes --scorer" in one_line(result.output)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntasks: []\n", encoding="utf-8")
    result = cli.invoke(app, [*base, "--plan", str(bad), "--out", str(tmp_path / "c4")])
    assert result.exit_code == 2 and "field 'tasks'" in one_line(result.output)


def test_committed_mmla_conditions_plan_is_valid():
    plan, sha = load_plan(Path(__file__).resolve().parents[1] / "benchmarks" / "plans" / "mmla_conditions.yaml")
    assert plan.name == "mmla-conditions" and plan.seeds == [0, 1, 2] and len(sha) == 64
    assert plan.modalities == {"mintrec": ["text"], "mintrec2": ["text"], "meld-emotion": ["text"]}
