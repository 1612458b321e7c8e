"""``interlens data list`` / ``show`` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from interlens.cli import app
from interlens.cli.data import parse_options

runner = CliRunner()


def test_list(shared_data: Path) -> None:
    result = runner.invoke(app, ["data", "list", "--data-root", str(shared_data)], env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    for name in ("mustard", "mintrec2", "meld", "annomi", "mmsd2"):
        assert name in result.output
    assert "train 1334 / dev 445 / test 445" in result.output
    assert "train 19816 / dev 2410 / test 2409" in result.output


def test_list_without_data(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "list", "--data-root", str(tmp_path)], env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    assert result.output.count("data not found") == 6


def test_show_mustard_writes_results(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["data", "show", "mustard", "--data-root", str(shared_data), "--n", "3",
                                 "--out", str(out)], env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    assert "690 samples" in result.output and "1_60" in result.output
    results = json.loads((out / "results.json").read_text())
    assert results["n"] == 690 and results["splits"]["test"] == 356
    assert results["splits"]["train"] + results["splits"]["dev"] == 334
    assert results["label_counts"] == {"not_sarcastic": 345, "sarcastic": 345}
    assert results["label_counts_by_split"]["test"] == {"not_sarcastic": 204, "sarcastic": 152}
    assert [s["id"] for s in results["samples"]] == ["1_60", "1_70", "1_80"]


def test_show_with_options_and_split(shared_data: Path) -> None:
    result = runner.invoke(app, ["data", "show", "meld", "--data-root", str(shared_data),
                                 "-o", "task=sentiment", "--split", "test", "--n", "1"],
                           env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    assert "meld-sentiment/test" in result.output and "2610 samples" in result.output


def test_show_errors_are_one_line() -> None:
    result = runner.invoke(app, ["data", "show", "mustrad"], env={"COLUMNS": "220"})
    assert result.exit_code == 2
    assert "error: unknown dataset 'mustrad'. Did you mean 'mustard'" in result.output
    assert "Traceback" not in result.output


def test_parse_options() -> None:
    assert parse_options(["fold=2", "context=true", "task=sentiment", "context_turns=null"]) == {
        "fold": 2, "context": True, "task": "sentiment", "context_turns": None}
