"""``--tracker`` logs while the run goes (issue 28 item 5): training loops and the bench runner call
``interlens.progress.report_metrics`` (a no-op unless a tracker run is armed by ``interlens.tracking.start_run``);
the commands' runs are read back from MLflow's local store with MLflow's own client."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from interlens.progress import metrics_scope, report_metrics, set_metrics_sink
from interlens.tracking import close_run, final_metrics, metric_key, start_run


@pytest.fixture(autouse=True)
def _no_run_left_open():
    yield
    close_run()  # a failed command's run must not leak into the next test
    set_metrics_sink(None)


def test_report_metrics_is_a_noop_without_a_run_and_scoped_with_one() -> None:
    report_metrics({"loss": 1.0}, step=0)  # nothing armed: nothing happens, nothing fails
    got: list[tuple[dict[str, float], int | None]] = []
    set_metrics_sink(lambda metrics, step: got.append((metrics, step)))
    report_metrics({"loss": 0.5, "acc": 1, "bad": math.nan, "inf": math.inf, "flag": True, "name": "x"}, step=3,
                   prefix="minilm-ft/utterance")
    with metrics_scope("mintrec/seed1"), metrics_scope("inner"):
        report_metrics({"loss": 0.25}, step=np_int(2))
    report_metrics({"only": math.nan})  # nothing finite: not sent
    report_metrics({"acc": 0.75})
    assert got == [({"minilm-ft/utterance/loss": 0.5, "minilm-ft/utterance/acc": 1.0}, 3),
                   ({"mintrec/seed1/inner/loss": 0.25}, 2), ({"acc": 0.75}, None)]
    assert type(got[1][1]) is int
    assert start_run(None, "anywhere") is None  # no tracker: the sink is cleared
    report_metrics({"loss": 9.0})
    assert len(got) == 3
    assert metric_key("mintrec:Complain/acc (x)") == "mintrec_Complain/acc _x_"
    # interlens train of a scorer other than hf-lm: its epochs went live; the fit time at the end
    assert final_metrics({"scorer": "minilm-ft", "fit_seconds": 2.5, "views": ["utterance"]}) == {
        "train/fit_seconds": 2.5}


def np_int(value: int) -> Any:
    import numpy as np

    return np.int64(value)


# -- a real tracker: MLflow's local file store, read back with MLflow's client --------------------------------
def _client(out: Path) -> tuple[Any, Any]:
    """MLflow's client on ``out/mlruns`` and the one run in its ``interlens`` experiment."""
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=(out / "mlruns").resolve().as_uri())
    experiment = client.get_experiment_by_name("interlens")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1, [r.info.run_name for r in runs]
    return client, runs[0]


def _history(client: Any, run: Any, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in sorted(client.get_metric_history(run.info.run_id, key),
                                              key=lambda m: (m.timestamp, m.step))]


def test_train_lora_logs_every_step_and_validation_live_and_the_final_metrics(tmp_path, monkeypatch) -> None:
    """``interlens train --scorer hf-lm --tracker mlflow``: each optimiser step's loss and each validation's
    scores are in the run while it goes (read back in the middle of training), one value per step / per
    validation, equal to results.json; the final metrics and the provenance are logged into the same run."""
    pytest.importorskip("mlflow")
    from hf_tiny import hf_cli_app, save_tiny, single_thread, tiny_qwen2
    from test_hf_cli import _write_data

    import interlens.scoring.hf.training as training

    model, tok = tiny_qwen2(seed=9, init_range=0.3)
    folder = save_tiny(model, tok, tmp_path / "model")
    data = _write_data(tmp_path / "data.jsonl")
    out = tmp_path / "run"
    seen: list[tuple[str, list[float]]] = []  # at each validation: the run's status and its loss values so far
    evaluate = training.evaluate_labels

    def spying(*args: Any, **kwargs: Any) -> Any:
        client, run = _client(out)
        seen.append((run.info.status, [v for _, v in _history(client, run, "lora/sarc/loss")]))
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(training, "evaluate_labels", spying)
    with single_thread():
        result = CliRunner().invoke(hf_cli_app(), [
            "train", "--model", str(folder), "--data", str(data), "--modality", "text=utterance", "--split-col",
            "split", "--dimension", "speaking_style", "--adapter", "sarc", "--epochs", "2", "--lr", "0.01",
            "--batch-size", "3", "--select-metric", "acc", "--no-save-models", "--out", str(out),
            "--tracker", "mlflow"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "results.json").read_text())
    losses, evals = summary["train"]["losses"], summary["train"]["evals"]
    assert len(losses) == 4 and [e["step"] for e in evals] == [2, 4]
    # live: at the first validation (after epoch 1) the run was open and held the first two losses;
    # the later calls are the final test evaluation's
    assert seen[0] == ("RUNNING", losses[:2]) and seen[1] == ("RUNNING", losses)
    client, run = _client(out)
    assert run.info.status == "FINISHED" and run.info.run_name == "run"
    assert _history(client, run, "lora/sarc/loss") == [(k + 1, v) for k, v in enumerate(losses)]
    assert _history(client, run, "lora/sarc/val_acc") == [(e["step"], e["score"]) for e in evals]
    assert _history(client, run, "lora/sarc/val/data/dev/macro_f1") == [
        (e["step"], e["tasks"]["data/dev"]["macro_f1"]) for e in evals]
    final = final_metrics(summary)
    assert final["train/final_loss"] == losses[-1] and final["train/steps"] == 4.0 and "test/acc" in final
    assert {k: run.data.metrics[metric_key(k)] for k in final} == final
    params = run.data.params  # the provenance, flat
    assert params["command"] == summary["provenance"]["command"] and "--tracker mlflow" in params["command"]
    assert (params["settings/lr"], params["settings/adapter"], params["scorer/name"]) == ("0.01", "sarc", "hf-lm")
    assert "tracked (mlflow)" in result.output


def test_experts_training_names_each_part_s_metrics_by_seed_and_part() -> None:
    """Inside ``train_experts`` the baseline's and each expert's training metrics are scoped
    ``seed<k>/<part>/...`` (what a scorer reports while it trains reaches the tracker apart per part)."""
    from test_experts import StubScorer, _dataset

    from interlens.experts import train_experts

    class Reporting(StubScorer):
        def fit(self, dataset: Any, views: Any = None, *, val: Any = None) -> Any:
            report_metrics({"loss": 1.0}, step=0, prefix="stub")
            return super().fit(dataset, views, val=val)

        def finetune(self, dataset: Any, view: Any, **kwargs: Any) -> Any:
            report_metrics({"loss": 0.5}, step=0, prefix="stub")
            return super().finetune(dataset, view, **kwargs)

    got: list[str] = []
    set_metrics_sink(lambda metrics, step: got.extend(metrics))
    data, cats = _dataset({"R": 12, "U1": 6, "U2": 6, "S": 10})
    train_experts(Reporting(seed=3), data, cats, cats, router=False)
    assert got == ["seed3/baseline/stub/loss", "seed3/R/stub/loss", "seed3/U/stub/loss", "seed3/S/stub/loss"]


def test_experts_seeds_log_their_fusion_results_live(tmp_path) -> None:
    """Experts over 2 seeds (``run_seeds``, what ``experts train`` runs) with an MLflow run armed: each fusion
    strategy's test metrics at step = seed as the seed finishes, equal to the per-seed rows; ``log_run`` adds
    the final mean / std of the summary to the same run."""
    pytest.importorskip("mlflow")
    from test_experts import StubScorer, _dataset

    from interlens.experts.pipeline import run_seeds
    from interlens.tracking import log_run

    data, cats = _dataset({"R": 12, "U1": 6, "U2": 6, "S": 10})
    out = tmp_path / "experts"
    start_run("mlflow", out)
    result = run_seeds(StubScorer(), data, cats, seeds=[0, 1], router=False)
    written = {"summary": result["summary"]}
    assert log_run("mlflow", out, written) == (out / "mlruns").resolve()
    client, run = _client(out)
    assert run.info.status == "FINISHED"
    strategies = [row["strategy"] for row in result["seeds"][0]["rows"]]
    assert {"baseline", "oracle"} <= set(strategies)
    for name in strategies:
        expected = [(rep["seed"], next(r for r in rep["rows"] if r["strategy"] == name)["acc"])
                    for rep in result["seeds"]]
        assert sorted(_history(client, run, metric_key(f"{name}/acc"))) == expected, name
    final = final_metrics(written)
    assert "baseline/acc_mean" in final and len(final) == 10 * len(strategies)
    assert {k: run.data.metrics[metric_key(k)] for k in final} == final


def test_bench_run_logs_each_epoch_and_each_unit_live(tmp_path, monkeypatch) -> None:
    """``bench run --scorer minilm-ft --tracker mlflow`` (1 task x 2 seeds, 2 epochs): each unit's epochs
    (loss, dev macro-F1 and ACC) under ``<task>/seed<k>/minilm-ft/<view>/``, one value per epoch equal to the
    scorer's own epoch log; each finished unit's metrics under ``<task>/per_seed/`` at step = seed, equal to
    its unit file; the final metrics equal results.json's task summary."""
    pytest.importorskip("mlflow")
    from test_bench_runner import task_file

    from interlens.cli.bench import app
    from interlens.scoring.minilm_ft import MiniLMFineTuneScorer

    logs: dict[int, dict[str, list[dict[str, Any]]]] = {}
    fit = MiniLMFineTuneScorer.fit

    def keep(self: Any, *args: Any, **kwargs: Any) -> Any:
        done = fit(self, *args, **kwargs)
        logs[self.seed] = {k: list(v) for k, v in self.train_log_.items()}
        return done

    monkeypatch.setattr(MiniLMFineTuneScorer, "fit", keep)
    task = task_file(tmp_path / "data", "alpha", ("a", "b"), n=4)
    out = tmp_path / "bench"
    result = CliRunner().invoke(app, ["run", "--tasks", str(task), "--scorer", "minilm-ft", "-s", "epochs=2", "-s",
                                      "max_length=16", "-s", "batch_size=4", "-s", "threads=1", "--method", "sft",
                                      "--seeds", "2", "--n-boot", "0", "--no-save-models", "--out", str(out),
                                      "--tracker", "mlflow"])
    assert result.exit_code == 0, result.output
    written = json.loads((out / "results.json").read_text())
    client, run = _client(out)
    assert run.info.status == "FINISHED" and sorted(logs) == [0, 1]
    for seed, per_view in logs.items():
        (view, epochs), = per_view.items()
        assert len(epochs) == 2
        head = f"alpha/seed{seed}/minilm-ft/{view}"
        for name in ("loss", "val_macro_f1", "val_acc"):
            assert _history(client, run, f"{head}/{name}") == [(e["epoch"], e[name]) for e in epochs], name
    units = [json.loads((out / "units" / f"sft__alpha__seed{seed}.json").read_text()) for seed in (0, 1)]
    for name in ("acc", "macro_f1"):  # one value per finished unit, step = its seed
        assert sorted(_history(client, run, f"alpha/per_seed/{name}")) == [(u["seed"], u["metrics"][name])
                                                                          for u in units]
    final = final_metrics(written)
    assert {"alpha/acc/mean", "alpha/acc/std", "alpha/macro_f1/mean"} <= set(final)
    assert {k: run.data.metrics[metric_key(k)] for k in final} == final
