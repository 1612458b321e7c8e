"""Runs keep what they trained: ``--save-models`` of ``bench run`` and ``experts train`` (reloadable
models and routers), bench's per-sample predictions, and the global ``-v`` / ``--quiet`` options."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from test_bench_runner import FAST, task_file
from typer.testing import CliRunner

from interlens.cli import app
from interlens.experts.pipeline import save_router
from interlens.experts.router import InteractionRouter


def _minilm_probs(folder: Path, texts: list[str]) -> np.ndarray:
    """Softmax of a saved ``minilm-ft`` view, reloaded with plain ``transformers`` (as in test_saved_models)."""
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    meta = json.loads((folder / "interlens.json").read_text())
    # the first layers of the saved BertForSequenceClassification are the encoder (docs/saved-models.md)
    encoder = AutoModel.from_pretrained(folder, num_hidden_layers=meta["encoder_layers"]).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    head = load_file(str(folder / "head.safetensors"))
    batch = tokenizer(texts, truncation=True, max_length=meta["max_length"], padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        logits = ((hidden * mask).sum(1) / mask.sum(1)) @ head["weight"].T + head["bias"]
    return torch.softmax(logits.double(), dim=1).numpy()


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_bench_minilm_ft_saves_a_reloadable_model_and_per_sample_predictions(tmp_path):
    path = task_file(tmp_path, "alpha", ("a", "b"), n=6)
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["bench", "run", "--tasks", str(path), "--scorer", "minilm-ft", "-s", "epochs=1",
                                      "-s", "batch_size=4", "-s", "max_length=16", "--seeds", "1", "--n-boot", "0",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = json.loads((out / "results.json").read_text())
    assert written["models"] == {"sft__alpha__seed0": "models/sft__alpha__seed0"}
    assert written["samples"] == {"sft__alpha__seed0": "samples/sft__alpha__seed0.jsonl"}
    folder = out / "models" / "sft__alpha__seed0" / "utterance"
    assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()
    rows = _rows(out / "samples" / "sft__alpha__seed0.jsonl")
    assert [r["id"] for r in rows] == [f"test{i}" for i in range(6)]
    assert [r["gold"] for r in rows] == ["a", "b"] * 3
    assert all(set(r["probs"]) == {"a", "b"} and r["pred"] == max(r["probs"], key=r["probs"].get) for r in rows)
    texts = [f"{w} number {i}" for i, w in enumerate(["great lovely wonderful", "awful terrible bad"] * 3)]
    reloaded = _minilm_probs(folder, texts)
    np.testing.assert_allclose(reloaded, [[r["probs"]["a"], r["probs"]["b"]] for r in rows], atol=1e-4)
    acc = np.mean([r["pred"] == r["gold"] for r in rows])
    assert written["tasks"][0]["per_seed"]["0"]["acc"] == pytest.approx(acc)


def test_bench_no_save_models_keeps_samples_only_and_verbosity_options(tmp_path):
    path = task_file(tmp_path, "beta", ("x", "y"), n=4)
    args = ["bench", "run", "--tasks", str(path), "--scorer", "embedding", *sum((["-s", f"{k}={v}"]
            for k, v in FAST.items()), []), "--seeds", "1", "--n-boot", "0"]
    quiet = CliRunner().invoke(app, ["--quiet", *args, "--no-save-models", "--out", str(tmp_path / "a")])
    assert quiet.exit_code == 0, quiet.output
    written = json.loads((tmp_path / "a" / "results.json").read_text())
    assert written["models"] == {} and not (tmp_path / "a" / "models").exists()
    assert len(_rows(tmp_path / "a" / written["samples"]["sft__beta__seed0"])) == 4
    assert "saved model" not in quiet.output and "DEBUG" not in quiet.output
    from interlens.logs import progress_enabled

    assert not progress_enabled()  # --quiet: progress bars off
    plain = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert plain.exit_code == 0, plain.output
    assert "INFO interlens.bench.runner: saved model" in plain.output and "DEBUG" not in plain.output
    assert progress_enabled()
    heads = json.loads((tmp_path / "b" / "models" / "sft__beta__seed0" / "interlens.json").read_text())
    assert heads["labels"] == ["x", "y"] and heads["scorer"] == "embedding"
    loud = CliRunner().invoke(app, ["-v", *args, "--out", str(tmp_path / "c")])
    assert loud.exit_code == 0, loud.output
    assert "DEBUG interlens.bench.runner: unit sft__beta__seed0: embedding on view utterance" in loud.output


def test_experts_train_saves_baseline_experts_and_router(tmp_path):
    result = CliRunner().invoke(app, ["experts", "train", "--dataset", "synthetic", "-d", "n=300", "--seed", "0",
                                      "--categories", "planted", "-s", "epochs=3", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "results.json").read_text())
    parts = saved["models"]["seed0"]
    assert set(parts) == {"baseline", "R", "U", "S", "router"}
    assert all(Path(p).is_dir() for p in parts.values())
    assert json.loads((Path(parts["baseline"]) / "interlens.json").read_text())["scorer"] == "embedding"
    router = json.loads((Path(parts["router"]) / "router.json").read_text())
    assert router["classes"] == ["R", "U", "S"] and router["label2id"] == {"R": 0, "U": 1, "S": 2}
    assert (Path(parts["router"]) / "router.safetensors").is_file() and "models" not in saved["per_seed"][0]


@pytest.mark.parametrize("kind", ["mlp", "logreg"])
def test_saved_router_reloads_and_reproduces_probabilities(tmp_path, kind):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)) + np.repeat(np.eye(3)[:, :3] * 3, [14, 13, 13], axis=0)
    y = ["R"] * 14 + ["U"] * 13 + ["S"] * 13
    router = InteractionRouter(kind, epochs=30, classes=("R", "U", "S")).fit(X, y)
    folder = save_router(router, tmp_path / "router")
    meta = json.loads((folder / "router.json").read_text())
    Xs = (X - np.array(meta["mean"])) / np.array(meta["scale"])
    if kind == "logreg":  # tensors + JSON, no pickle (issue 30)
        from safetensors.numpy import load_file

        state = load_file(str(folder / meta["weights"]))
        z = Xs @ state["coef"].T + state["intercept"]
        probs = np.exp(z - z.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        assert meta["model_classes"] == [0, 1, 2]
    else:
        from safetensors.torch import load_file

        net = InteractionRouter(kind, hidden=meta["params"]["hidden"])._build(meta["n_features"], 3)
        net.load_state_dict(load_file(str(folder / meta["weights"])))
        with torch.no_grad():
            probs = torch.softmax(net(torch.tensor(Xs)), dim=1).numpy()
    np.testing.assert_allclose(probs, router.predict_proba(X), atol=1e-8)
    assert meta["classes"] == ["R", "U", "S"] and meta["kind"] == kind
