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
