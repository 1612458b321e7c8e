"""``interlens experts train|evaluate``: results.json, plots and friendly errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interlens.cli.experts import app, train_command

runner = CliRunner()


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_evaluate_precomputed_files(tmp_path: Path) -> None:
    ids = ["a", "b", "c", "d"]
    target = [1, 0, 1, 0]
    logits = {"R": [[0, 2], [2, 0], [2, 0], [0, 2]], "U": [[2, 0], [2, 0], [0, 2], [2, 0]],
              "S": [[0, 1], [1, 0], [1, 0], [1, 0]], "baseline": [[0, 1], [0, 1], [0, 1], [1, 0]]}
    files = {name: _write_jsonl(tmp_path / f"{name}.jsonl",
                                [{"image_id": i, "target": t, "pred": int(v[1] > v[0]), "logits": v}
                                 for i, t, v in zip(ids, target, rows, strict=True)])
             for name, rows in logits.items()}
    (tmp_path / "router.json").write_text(json.dumps({i: [0.0, 0.0, 0.0] for i in ids}))
    (tmp_path / "cats.json").write_text(json.dumps({"a": "R", "b": "R", "c": "U", "d": "AS"}))
    out = tmp_path / "out"
    result = runner.invoke(app, ["evaluate", "--out", str(out), "--expert", f"R={files['R']}", "--expert",
                                 f"U={files['U']}", "--expert", f"S={files['S']}", "--baseline",
                                 str(files["baseline"]), "--router", str(tmp_path / "router.json"),
                                 "--categories", str(tmp_path / "cats.json"), "--prior", "R=1", "--prior", "U=1",
                                 "--prior", "S=2"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "results.json").read_text())
    rows = {r["strategy"]: r for r in data["report"]["rows"]}
    assert rows["oracle"]["acc"] == 1.0  # a->R, b->R, c->U, d->S are all right
    assert rows["baseline"]["acc"] == 0.75
    assert data["router_missing"] == 0
    assert (out / "fusion_precomputed.png").stat().st_size > 0
    assert (out / "per_interaction_precomputed.png").stat().st_size > 0


def test_evaluate_errors_are_friendly(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--mmoe-authors" in " ".join(result.output.split())
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"image_id": "a", "target": 1, "logits": [0, 1]}\nnot json\n')
    result = runner.invoke(app, ["evaluate", "--out", str(tmp_path), "--expert", f"R={bad}"])
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and "bad.jsonl, record 2: not a valid expert-logits line" in text


@pytest.mark.shared_data
def test_evaluate_mmoe_authors(shared_data: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", "--mmoe-authors", "albef", "--data-root", str(shared_data),
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["n"] == 356 and data["router_missing"] == 0
    names = [r["strategy"] for r in data["report"]["rows"]]
    assert "best_single" not in names and "single:R" in names  # no validation logits: nothing chosen on test


@pytest.mark.slow
def test_train_command_small(tmp_path: Path) -> None:
    results = train_command(tmp_path, n=300, seeds=[0], categories="planted",
                            scorer_options={"epochs": 15})
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["categories_source"] == "planted" and saved["seeds"] == [0]
    names = [r["strategy"] for r in results["summary"]["rows"]]
    assert {"baseline", "router_soft", "oracle", "best_single"} <= set(names)
    assert "router_confusion" in saved["per_seed"][0]
    assert all(Path(p).exists() for p in saved["plots"])
