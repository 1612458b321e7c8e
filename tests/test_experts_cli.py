"""``interlens experts train|evaluate``: results.json, plots and friendly errors (exit 2, one line)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interlens.cli.experts import app

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


def _one_line(output: str) -> str:
    return " ".join(output.split())


def test_train_unknown_scorer_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--scorer", "embeding", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown scorer 'embeding'. Did you mean 'embedding'" in _one_line(result.output)
    assert not (tmp_path / "results.json").exists()


def test_train_unknown_scorer_option_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--scorer", "embedding", "-s", "epoch=3", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "unknown option 'epoch'" in _one_line(result.output)
    assert "Did you mean 'epochs'" in _one_line(result.output)


def test_train_scorer_without_finetune_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--scorer", "precomputed", "-s", 'files={"text": "x.jsonl"}',
                                 "--dataset", "no-such-dataset", "--out", str(tmp_path)])
    text = _one_line(result.output)
    assert result.exit_code == 2, result.output
    # refused on the capability, before the (bad) dataset is even loaded
    assert "scorer 'precomputed' lacks capability 'finetune' needed for MMoE experts; scorers that have it:" in text
    assert "embedding" in text and "minilm-ft" in text
    assert text.startswith("error: scorer 'precomputed'") and text.count("error:") == 1  # one message


def test_train_choice_options_are_enums(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--grouping", "mmo", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "mmoe" in result.output and "split_u" in result.output
    result = runner.invoke(app, ["train", "--categories", "plant", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "measured" in result.output


def test_train_dataset_without_dev_split_exits_2(tmp_path: Path) -> None:
    rows = [{"id": f"s{i}", "text": f"sample {i}", "label": "a" if i % 2 else "b",
             "split": "train" if i < 6 else "test"} for i in range(8)]
    _write_jsonl(tmp_path / "rows.jsonl", rows)
    (tmp_path / "d.yaml").write_text("name: nodev\npath: rows.jsonl\nid: id\nlabel: label\n"
                                     "modalities: {text: text}\nsplit: split\n")
    result = runner.invoke(app, ["train", "--dataset", str(tmp_path / "d.yaml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "dataset 'nodev' has splits ['test', 'train']; MMoE experts need train, dev and test (missing: dev)" \
        in _one_line(result.output)


@pytest.mark.slow
def test_train_embedding_synthetic(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--dataset", "synthetic", "-d", "n=300", "--seed", "0",
                                 "--categories", "planted", "-s", "epochs=15", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "router_soft" in result.output and "oracle" in result.output  # the fusion table
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["settings"]["categories"] == "planted" and saved["settings"]["seeds"] == [0]
    assert saved["scorer"]["name"] == "embedding" and saved["scorer"]["params"]["epochs"] == 15
    assert saved["dataset"]["name"].startswith("synthetic") and saved["dataset"]["splits"]["train"] == 180
    names = [r["strategy"] for r in saved["summary"]["rows"]]
    assert {"baseline", "router_soft", "oracle", "best_single"} <= set(names)
    assert "router_confusion" in saved["per_seed"][0]
    assert all(Path(p).exists() for p in saved["plots"])
