"""``interlens train`` (registered by interlens.cli.hf.register) on a tiny local model and a JSONL file."""

from __future__ import annotations

import json

import pytest
import typer
from hf_tiny import corpus, hf_cli_app, save_tiny, single_thread, tiny_qwen2
from typer.testing import CliRunner


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with single_thread():
        yield


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    return hf_cli_app()


def _write_data(path, n=12):
    labels = ["sarcastic", "sincere"]
    splits = ["train"] * 6 + ["dev"] * 3 + ["test"] * 3
    with path.open("w") as f:
        for i, text in enumerate(corpus(n, seed=3)):
            f.write(json.dumps({"id": f"u{i}", "utterance": text, "label": labels[i % 2], "split": splits[i]}) + "\n")
    return path


def test_train_command_writes_adapter_and_results(app, tmp_path):
    model, tok = tiny_qwen2(seed=9, init_range=0.3)
    folder = save_tiny(model, tok, tmp_path / "model")
    data = _write_data(tmp_path / "data.jsonl")
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", "--model", str(folder), "--data", str(data), "--modality",
                                      "text=utterance", "--split-col", "split", "--dimension", "speaking_style",
                                      "--adapter", "sarc", "--epochs", "2", "--lr", "0.01", "--batch-size", "3",
                                      "--select-metric", "acc", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "adapter 'sarc': 4 steps" in result.output
    summary = json.loads((out / "results.json").read_text())
    assert summary["adapter"] == "sarc" and summary["view"] == "text" and len(summary["train"]["losses"]) == 4
    assert summary["train"]["evals"][-1]["tasks"]["data/dev"]["acc"] >= 0
    assert 0 <= summary["test"]["acc"] <= 1
    assert (out / "adapters" / "sarc" / "adapter_config.json").is_file()


def test_train_command_reports_a_missing_model_cleanly(app, tmp_path):
    data = _write_data(tmp_path / "data.jsonl")
    result = CliRunner().invoke(app, ["train", "--model", str(tmp_path / "none"), "--data", str(data),
                                      "--modality", "text=utterance", "--split-col", "split",
                                      "--dimension", "intent"])
    assert result.exit_code == 2
    assert "model path does not exist" in result.output


def test_train_command_refuses_an_unknown_scorer_option(app, tmp_path):
    model, tok = tiny_qwen2(seed=9)
    folder = save_tiny(model, tok, tmp_path / "model")
    data = _write_data(tmp_path / "data.jsonl")
    result = CliRunner().invoke(app, ["train", "--model", str(folder), "--data", str(data), "--modality",
                                      "utterance=utterance", "--split-col", "split", "--dimension", "intent",
                                      "-s", "lenght_norm=true"])
    assert result.exit_code == 2
    output = " ".join(result.output.split())  # the console wraps long lines
    assert "unknown option 'lenght_norm' for scorer 'hf-lm'. Did you mean 'length_norm'?" in output
