"""A corpus that is not in the registry -- EMOTyDA dialogue acts on MELD transcripts
(../shared/data/emotyda, long format: one row per turn) -- converted the way docs/datasets.md shows and
described by a dataset file, runs through ``interactions score``, ``experts train``, ``debias evaluate``
and ``bench run --tasks FILE.yaml`` as a new user would run them; bad dataset files get one line, exit 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interlens.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()
ACTS = ["s", "q", "ans", "o"]  # the four most frequent dialogue acts (others dropped for a tiny run)


@pytest.fixture(scope="module")
def corpus(shared_data: Path, tmp_path_factory) -> Path:
    """Long-format EMOTyDA turns -> one JSONL row per turn with its previous turns as context."""
    folder = tmp_path_factory.mktemp("emotyda")
    with open(shared_data / "emotyda" / "MELD.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    dialogues: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        dialogues.setdefault(row["Dialogue_ID"], []).append(row)
    with open(folder / "turns.jsonl", "w", encoding="utf-8") as out:
        for dialogue_id in list(dialogues)[:30]:
            turns = sorted(dialogues[dialogue_id], key=lambda r: int(r["Utterance_ID"]))
            for n, turn in enumerate(turns):
                act = turn["Dialogue Act"].strip()
                if act not in ACTS:
                    continue
                context = [f"{t['Speaker']}: {t['Utterance']}" for t in turns[max(0, n - 3):n]] or ["[start]"]
                out.write(json.dumps({"uid": f"{dialogue_id}-{turn['Utterance_ID']}", "text": turn["Utterance"],
                                      "previous": context, "act": act, "dialogue": dialogue_id}) + "\n")
    (folder / "emotyda.yaml").write_text(
        "name: emotyda-da\npath: turns.jsonl\nid: uid\nlabel: act\nlabels: [s, q, ans, o]\n"
        "modalities:\n  utterance: text\n  context: {column: previous, kind: text}\n"
        "group: dialogue\ntask: dialogue act classification\ndimension: dialogue_act\n", encoding="utf-8")
    return folder / "emotyda.yaml"


def _ok(args: list[str], out: Path) -> dict:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads((out / "results.json").read_text())


def test_interactions_score(corpus: Path, tmp_path: Path) -> None:
    res = _ok(["interactions", "score", "--dataset", str(corpus), "--scorer", "embedding", "-s", "epochs=10",
               "--draws", "20", "--out", str(tmp_path), "--no-cache"], tmp_path)
    assert res["dataset"] == "emotyda-da" and res["modalities"] == ["utterance", "context"]
    assert sum(res["counts"][c] for c in ("R", "U1", "U2", "S")) == res["n"] > 20


def test_experts_train(corpus: Path, tmp_path: Path) -> None:
    res = _ok(["experts", "train", "--dataset", str(corpus), "--scorer", "embedding", "-s", "epochs=10",
               "--seed", "0", "--delta", "0", "--min-subset", "4", "--out", str(tmp_path)], tmp_path)
    assert {"baseline", "oracle"} <= {row["strategy"] for row in res["summary"]["rows"]}


def test_debias_evaluate(corpus: Path, tmp_path: Path) -> None:
    res = _ok(["debias", "evaluate", "--dataset", str(corpus), "--image-modality", "context", "--method", "mid",
               "-s", "epochs=10", "--setting", "n_trials=5", "--out", str(tmp_path)], tmp_path)
    assert res


def test_bench_run_task_file(corpus: Path, tmp_path: Path) -> None:
    res = _ok(["bench", "run", "--tasks", str(corpus), "--scorer", "embedding", "-s", "epochs=10", "--method", "sft",
               "--seeds", "1", "--n-boot", "20", "--out", str(tmp_path)], tmp_path)
    assert "emotyda-da" in json.dumps(res)


@pytest.mark.parametrize("command", [
    ["interactions", "score"], ["experts", "train"], ["debias", "evaluate"], ["bench", "run"]])
@pytest.mark.parametrize("broken, expected", [
    ("name: x\npath: turns.jsonl\nid: uid\nlabel: act\nmodalities:\n  utterance: nope\n", "missing column 'nope'"),
    ("name: x\npath: turns.jsonl\nid: uid\nlabel: act\nlables: [s]\nmodalities:\n  utterance: text\n",
     "did you mean 'labels'"),
    ("name: x\npath: ../escape.jsonl\nid: uid\nlabel: act\nmodalities:\n  utterance: text\n", "escape.jsonl"),
])
def test_bad_dataset_file_one_line_exit_2(corpus: Path, tmp_path: Path, command: list[str], broken: str,
                                          expected: str) -> None:
    bad = corpus.parent / f"bad-{abs(hash(broken)) % 10**8}.yaml"
    bad.write_text(broken, encoding="utf-8")
    flag = "--tasks" if command == ["bench", "run"] else "--dataset"
    extra = ["--method", "sft"] if command == ["bench", "run"] else []
    result = runner.invoke(app, [*command, flag, str(bad), *extra, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], result.output
    assert not (tmp_path / "o" / "results.json").exists()


@pytest.mark.parametrize("args, expected", [
    (["interactions", "score", "--dataset", "synthetic", "--scorer", "embeding"], "Did you mean 'embedding'"),
    (["experts", "train", "--dataset", "synthetic", "--scorer", "precomputed"], "lacks capability"),
    (["interactions", "score", "--dataset", "synthetic", "-s", "epoch=3"], "Did you mean 'epochs'"),
    (["interactions", "score", "--dataset", "synthetic", "--scorer", "minilm-ft", "--modality2", "image"],
     "cannot honour view image"),
    (["bench", "run", "--tasks", "mintrec", "--scorer", "embedding", "--method", "zero-shot"], "lacks capability"),
    (["debias", "evaluate", "--dataset", "spurious", "--scorer", "minilm-ft"], "lacks capability"),
    (["debias", "evaluate", "--dataset", "spurious", "--setting", "mid_trials=5"], "Did you mean 'n_trials'"),
])
def test_bad_scorer_input_one_line_exit_2(args: list[str], expected: str, tmp_path: Path) -> None:
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], result.output
    assert not (tmp_path / "o" / "results.json").exists()
