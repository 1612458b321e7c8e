"""Bench report and CLI: ranking/compare tables, PNG charts, HTML page; CLI run -> report -> compare."""

from __future__ import annotations

from typer.testing import CliRunner

from interlens.bench.report import build_report, compare_table, load_run, ranking_table
from interlens.bench.results import RunResults, TaskSummary
from interlens.cli.bench import app


def _run(scorer: str, acc: float) -> RunResults:
    tasks = [TaskSummary(name, name.upper(), dim, "test", name == "mintrec", [0, 1], {},
                         {"acc": {"mean": acc, "std": 0.01, "n": 2},
                          "macro_f1": {"mean": acc - 0.1, "std": 0.0, "n": 2}})
             for name, dim in (("mintrec", "intent"), ("meld-emotion", "emotion"), ("mosi", "sentiment"))]
    return RunResults("sft", scorer, {}, {}, [0, 1], tasks, {})


def test_tables_and_html(tmp_path):
    runs = [_run("low", 0.5), _run("high", 0.7)]
    table = ranking_table(runs)
    assert table.index("high") < table.index("low") and "70.00 ± 1.00" in table
    cmp = compare_table(runs[1])
    assert "70.11" in cmp and "74.61" in cmp and "-0.11" in cmp and "MMLA" in cmp
    paths = build_report(runs, tmp_path)
    assert (tmp_path / "radar.png").stat().st_size > 1000 and len(paths["figures"]) == 4
    assert "<table>" in (tmp_path / "index.html").read_text()


def test_compare_table_shows_each_task_s_full_fit_cost(tmp_path):
    run = _run("x", 0.6)
    run.tasks[0].timing_per_seed = {"0": {"wall_s": 9.0, "fit_s": 1.0, "fit_s_total": 1000.0},
                                    "1": {"wall_s": 9.0, "fit_s": 2.0, "fit_s_total": 1500.0}}
    run.tasks[1].timing_per_seed = {"0": {"fit_s_total": 10.0}, "1": {"fit_s_total": None}}
    rows = {line.split(" | ")[0].strip("| "): line for line in compare_table(run).splitlines() if line.startswith("|")}
    assert rows["MINTREC"].endswith("| yes | 1,250 |")  # mean of the seeds' full costs
    assert rows["MELD-EMOTION"].endswith("| - |") and rows["MOSI"].endswith("| - |")  # a seed unknown / none
    assert RunResults.from_dict(run.to_dict()).tasks[0].fit_cost() == 1250.0  # survives results.json
    build_report([run], tmp_path)
    assert "full fitting cost" in (tmp_path / "index.html").read_text()


def test_cli_list_and_errors(tmp_path):
    runner = CliRunner()
    listed = runner.invoke(app, ["list"])
    assert listed.exit_code == 0 and "intent" in listed.output
    bad = runner.invoke(app, ["run", "--tasks", "mintrek", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "mintrec" in bad.output
    missing = runner.invoke(app, ["compare", str(tmp_path / "nothing")])
    assert missing.exit_code == 2


def test_cli_report_from_saved_run(tmp_path):
    from interlens.io import write_json

    write_json(tmp_path / "a" / "results.json", _run("x", 0.6).to_dict())
    assert load_run(tmp_path / "a").scorer == "x"
    runner = CliRunner()
    result = runner.invoke(app, ["report", str(tmp_path / "a"), "--out", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "rep" / "index.html").exists()
    assert "63.95" in runner.invoke(app, ["compare", str(tmp_path / "a")]).output
