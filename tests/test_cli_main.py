import json

import pytest
from typer.testing import CliRunner

from interlens.cli import app

runner = CliRunner()


def test_demo_writes_results(tmp_path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path), "--n", "600", "--no-experts"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "results.json").read_text())
    assert {"categorization_accuracy", "runtime_seconds", "counts", "interaction_score"} <= set(data)
    assert data["categorization_accuracy"] > 0.7  # small n; the full-size check is in test_measure
    assert (tmp_path / "report.md").exists() and (tmp_path / "cache.sqlite").exists()


def test_unknown_dataset_gets_did_you_mean(tmp_path):
    result = runner.invoke(app, ["predict", "--dataset", "mustrad", "--view", "utterance", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "Did you mean 'mustard'" in result.output


def test_bad_scorer_option(tmp_path, shared_data):
    result = runner.invoke(app, ["predict", "--dataset", "mustard", "--view", "utterance", "-s", "epochs",
                                 "--data-root", str(shared_data), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "expected KEY=VALUE, got 'epochs'" in result.output


@pytest.fixture()
def mmoe_files(shared_data):
    return shared_data / "mmoe_rus" / "mustard_data" / "data_gen_output"


def test_categorize_authors_predictions(tmp_path, shared_data, mmoe_files):
    """MMoE's own MUStARD test split: R 213, U 109 (= U1 + U2), AS 34."""
    result = runner.invoke(app, [
        "interactions", "categorize", "--dataset", "mustard", "--data-root", str(shared_data),
        "--modality1", "text", "--modality2", "vision", "--out", str(tmp_path),
        "--pred1", str(mmoe_files / "mustard_text_only_pred_test.json"),
        "--pred2", str(mmoe_files / "mustard_vision_only_pred_test.json")])
    assert result.exit_code == 0, result.output
    counts = json.loads((tmp_path / "results.json").read_text())["counts"]
    assert (counts["R"], counts["U1"] + counts["U2"], counts["S"]) == (213, 109, 34)


def test_predict_reuses_cache_then_group(tmp_path, shared_data):
    args = ["predict", "--dataset", "mustard", "--data-root", str(shared_data), "--view", "utterance",
            "--view", "context", "--view", "utterance+context", "-s", "epochs=5", "--cache", str(tmp_path / "c.db")]
    first = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, [*args, "--out", str(tmp_path / "b")])
    views = json.loads((tmp_path / "b" / "results.json").read_text())["views"]
    assert all(v["from_cache"] == 356 and v["computed"] == 0 for v in views.values()), second.output
    nocache = runner.invoke(app, [*args[:-2], "--no-cache", "--out", str(tmp_path / "c")])
    views = json.loads((tmp_path / "c" / "results.json").read_text())["views"]
    assert all(v["computed"] == 356 for v in views.values()), nocache.output

    for name in ("s1", "s2"):
        out = runner.invoke(app, ["interactions", "score", "--dataset", "mustard", "--data-root", str(shared_data),
                                  "-s", "epochs=5", "--cache", str(tmp_path / "c.db"), "--out", str(tmp_path / name)])
        assert out.exit_code == 0, out.output
    grouped = runner.invoke(app, ["interactions", "group", "--results", str(tmp_path / "s1"),
                                  "--results", str(tmp_path / "s2"), "--out", str(tmp_path / "g")])
    assert grouped.exit_code == 0, grouped.output
    summary = json.loads((tmp_path / "g" / "results.json").read_text())
    assert summary["distance"]["matrix"][0][1] == 0.0  # same data, same cached predictions
    assert set(summary["groups_prototype"].values()) <= {"R", "U", "S"}


def test_group_rejects_non_score_results(tmp_path):
    (tmp_path / "results.json").write_text('{"dataset": "x"}')
    result = runner.invoke(app, ["interactions", "group", "--results", str(tmp_path), "--out", str(tmp_path / "g")])
    assert result.exit_code == 2 and "no interaction_score.exact" in result.output
