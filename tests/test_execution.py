"""Executors (issue 14): a local Ray runtime with 2 CPUs gives the same results as the local executor for
``bench run`` (task x seed units as Ray tasks), ``predict`` (scoring sharded over Ray actors, the driver
writes the cache) and ``experts train`` (seeds as Ray tasks), including resume after a killed run; a
dying worker is retried or stops the run in one line; bad executor names and unreachable clusters are
refused in one line, quickly."""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

ray = pytest.importorskip("ray", reason="the dist extra (ray) is not installed")

from interlens.bench import Runner, task_from_file  # noqa: E402
from interlens.bench.results import TIMING_FIELDS  # noqa: E402
from interlens.cli import app  # noqa: E402
from interlens.execution import (  # noqa: E402
    ExecutionError,
    LocalExecutor,
    RayExecutor,
    current_executor,
    executor_session,
    make_executor,
)
from interlens.execution.ray_executor import set_worker_threads  # noqa: E402

ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers get this module's functions by value

runner = CliRunner()
WORDS = {"a": "great lovely wonderful", "b": "awful terrible bad", "c": "table chair window",
         "x": "yes sure agree", "y": "no never refuse"}
FAST = ["-s", "epochs=2", "-s", "hidden=8", "-s", "rank=2"]


@pytest.fixture(scope="module", autouse=True)
def ray_runtime():
    """One local Ray runtime (2 CPUs) for the whole module."""
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def one_line(text: str) -> str:
    return " ".join(text.split())


def task_file(folder: Path, name: str, labels: tuple[str, ...], n: int = 10) -> Path:
    """A dataset file (YAML + JSONL): ``n`` rows per split, label words in the text."""
    rows = [{"uid": f"{split}{i}", "utt": f"{WORDS[labels[i % len(labels)]]} number {i}",
             "tag": labels[i % len(labels)], "part": split} for split in ("train", "dev", "test") for i in range(n)]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    spec = {"name": name, "path": f"{name}.jsonl", "id": "uid", "label": "tag", "labels": list(labels),
            "modalities": {"utterance": "utt"}, "split": "part", "dimension": "intent"}
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def units(out: Path) -> dict[str, dict]:
    """Unit files without their timings."""
    found = {}
    for path in sorted((out / "units").glob("*.json")):
        unit = json.loads(path.read_text())
        found[path.name] = {k: v for k, v in unit.items() if k not in TIMING_FIELDS}
    return found


# -- executor basics -----------------------------------------------------------------------------------
def _square(x: int) -> tuple[int, int]:
    import torch

    return x * x, torch.get_num_threads()


def test_ray_tasks_run_one_torch_thread_per_cpu_and_local_is_the_default():
    assert isinstance(current_executor(), LocalExecutor)
    with executor_session("ray") as ex:
        assert current_executor() is ex and isinstance(ex, RayExecutor)
        got = dict(ex.map_unordered(_square, [1, 2, 3], num_cpus=1))
        assert got == {0: (1, 1), 1: (4, 1), 2: (9, 1)}
        two = dict(ex.map_unordered(_square, [4], num_cpus=2))
        assert two == {0: (16, 2)}  # a worker owning 2 CPUs runs 2 torch threads
        assert ex.pool_size(3, num_cpus=1) == 2 and ex.pool_size(1, num_cpus=1) == 1
    assert isinstance(current_executor(), LocalExecutor) and ray.is_initialized()  # not ours to shut down
    assert set_worker_threads(0.5) == 1


def _die_once(args: tuple[str, int]) -> int:
    marker, x = args
    if x == 1 and not os.path.exists(marker):
        Path(marker).write_text("died")
        os._exit(1)  # the worker process dies mid-task
    return x


def test_dead_worker_is_retried_or_stops_the_run_in_one_line(tmp_path):
    marker = str(tmp_path / "died")
    got = dict(RayExecutor(max_retries=1).map_unordered(_die_once, [(marker, 0), (marker, 1), (marker, 2)]))
    assert got == {0: 0, 1: 1, 2: 2} and Path(marker).exists()  # Ray re-ran the task of the dead worker
    with pytest.raises(ExecutionError, match=r"^a Ray worker died \(WorkerCrashedError\); finished work is saved: "
                                             r"rerun the same command to resume$"):
        dict(RayExecutor(max_retries=0).map_unordered(_die_once, [(str(tmp_path / "again"), 1)]))


def test_worker_data_errors_surface_unchanged():
    from interlens.errors import DataError

    def bad(_x):
        raise DataError("broken row", file="f.jsonl", record=3)

    with pytest.raises(DataError, match=r"^file f.jsonl, record 3: broken row$"):
        dict(RayExecutor().map_unordered(bad, [0]))


# -- bench run ------------------------------------------------------------------------------------------
def test_bench_run_on_ray_resumes_a_killed_run_with_units_equal_to_local(tmp_path):
    files = [task_file(tmp_path / "data", "alpha", ("a", "b", "c")), task_file(tmp_path / "data", "beta", ("x", "y"))]
    args = ["bench", "run", "--tasks", ",".join(map(str, files)), "--scorer", "embedding", *FAST, "--seeds", "2",
            "--n-boot", "0"]
    local = runner.invoke(app, [*args, "--out", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    assert len(units(tmp_path / "local")) == 4
    # a killed run: two of its four units never finished -> only those run (as Ray tasks), identically
    shutil.copytree(tmp_path / "local", tmp_path / "ray")
    (tmp_path / "ray" / "results.json").unlink()
    for unit in ("sft__alpha__seed1", "sft__beta__seed0"):
        (tmp_path / "ray" / "units" / f"{unit}.json").unlink()
        (tmp_path / "ray" / "samples" / f"{unit}.jsonl").unlink()
        shutil.rmtree(tmp_path / "ray" / "models" / unit)
    remote = runner.invoke(app, [*args, "--out", str(tmp_path / "ray"), "--executor", "ray"])
    assert remote.exit_code == 0, remote.output
    assert one_line(remote.output).count("done (resumed)") == 2
    assert units(tmp_path / "ray") == units(tmp_path / "local")

    def summary(folder: Path) -> dict:
        found = json.loads((folder / "results.json").read_text())
        found["tasks"] = [{k: v for k, v in t.items() if k != "timing_per_seed"} for t in found["tasks"]]
        return {k: v for k, v in found.items() if k not in ("wall_s", "created", "provenance")}

    assert summary(tmp_path / "ray") == summary(tmp_path / "local")
    again = Runner([task_from_file(f) for f in files], "embedding", "sft", [0, 1], tmp_path / "ray", n_boot=0,
                   scorer_params={"epochs": 2, "hidden": 8, "rank": 2})
    again.run(RayExecutor())
    assert again.computed == []  # everything is done now


# -- predict ----------------------------------------------------------------------------------------------
def test_predict_sharded_over_ray_actors_resumes_from_the_cache_equal_to_local(tmp_path):
    data = task_file(tmp_path / "data", "alpha", ("a", "b", "c"), n=12)
    cache = tmp_path / "cache.sqlite"
    args = ["predict", "--dataset", str(data), "--scorer", "embedding", *FAST, "--batch-size", "1", "--cache",
            str(cache)]
    local = runner.invoke(app, [*args, "--out", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    with sqlite3.connect(cache) as conn:  # a killed run: three rows never reached the cache
        assert conn.execute("SELECT COUNT(*) FROM predictions_v2").fetchone()[0] == 12
        conn.execute("DELETE FROM predictions_v2 WHERE sample_id IN ('test1', 'test5', 'test9')")
    remote = runner.invoke(app, [*args, "--out", str(tmp_path / "ray"), "--executor", "ray"])
    assert remote.exit_code == 0, remote.output
    summary = json.loads((tmp_path / "ray" / "results.json").read_text())["views"]["utterance"]
    assert (summary["from_cache"], summary["computed"]) == (9, 3)  # 3 batches over a pool of 2 actors
    with sqlite3.connect(cache) as conn:  # the driver wrote them back into the one cache file
        assert conn.execute("SELECT COUNT(*) FROM predictions_v2").fetchone()[0] == 12

    def preds(folder: Path) -> dict:
        return {k: v for k, v in json.loads((folder / "predictions_utterance.json").read_text()).items()
                if k != "meta"}

    assert preds(tmp_path / "ray") == preds(tmp_path / "local")


# -- experts train ----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_experts_train_seeds_on_ray_equal_local(tmp_path):
    args = ["experts", "train", "--dataset", "synthetic", "-d", "n=120", "--seed", "0", "--seed", "1",
            "--categories", "planted", "-s", "epochs=2", "-s", "hidden=8", "--router", "logreg", "--min-subset", "4"]
    local = runner.invoke(app, [*args, "--out", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    remote = runner.invoke(app, [*args, "--out", str(tmp_path / "ray"), "--executor", "ray"])
    assert remote.exit_code == 0, remote.output

    def results(folder: Path) -> dict:
        found = json.loads((folder / "results.json").read_text())
        return {k: found[k] for k in ("summary", "per_seed", "settings", "scorer")}

    # metrics are identical; cross-entropies may differ in the last bits (1e-12) when this process's
    # MiniLM embedding cache holds vectors computed in other batches by earlier tests
    assert_same(results(tmp_path / "ray"), results(tmp_path / "local"))
    assert [r["seed"] for r in results(tmp_path / "ray")["per_seed"]] == [0, 1]


def assert_same(a, b, path: str = "") -> None:
    """Equal structure and values; floats equal within 1e-9 relative."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b), path
        for key in a:
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for n, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{n}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (path, a, b)
    else:
        assert a == b, (path, a, b)


# -- bad input ------------------------------------------------------------------------------------------
def test_unknown_executor_is_refused_before_any_work(tmp_path):
    result = runner.invoke(app, ["bench", "run", "--executor", "spark", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "'spark' is not one of" in result.output and "'local'" in result.output and "'ray'" in result.output
    from interlens.errors import RegistryError

    with pytest.raises(RegistryError, match=r"^unknown executor 'rey'. Did you mean 'ray'\? Known: local, ray.$"):
        make_executor("rey")


def test_unreachable_ray_address_fails_in_one_line_quickly(tmp_path, monkeypatch):
    data = task_file(tmp_path / "data", "alpha", ("a", "b"), n=4)
    env = {**os.environ, "RAY_ADDRESS": "127.0.0.1:9"}  # honoured when --ray-address is absent; nothing listens
    done = subprocess.run([sys.executable, "-m", "interlens", "predict", "--dataset", str(data), "--no-cache",
                           "--out", str(tmp_path / "o"), "--executor", "ray"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert one_line(done.stdout + done.stderr) == (
        "error: cannot reach the Ray cluster at 127.0.0.1:9 (Connection refused); start one with `ray start --head` "
        "or drop --ray-address / RAY_ADDRESS")
    assert not (tmp_path / "o").exists()  # refused before any work
    monkeypatch.setenv("RAY_ADDRESS", "10.1.2.3:6379")
    assert RayExecutor().resolved_address() == "10.1.2.3:6379"
    assert RayExecutor(address="local").resolved_address() is None
    with pytest.raises(ExecutionError, match="is not HOST:PORT"):
        RayExecutor(address="nowhere")._connect(ray, "nowhere")
