"""Crash safety (issue 11): ``kill -9`` in the middle of ``interlens predict`` (and of ``bench run``),
then the same command resumes -- the fitted scorer is restored from ``<out>/checkpoints`` (no refit),
finished bench units are not recomputed -- and the results equal an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from interlens.cli import app

ENV = {**os.environ, "INTERLENS_DEBUG": "1", "PYTHONHASHSEED": "0"}


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "interlens", *args], env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 240) -> None:
    """SIGKILL ``proc`` as soon as ``ready()`` holds (fails if it exits first)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"finished before it could be killed:\n{proc.communicate()[0]}"
        assert time.monotonic() < deadline, "never reached the kill point"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def _run(args: list[str]) -> str:
    proc = subprocess.run([sys.executable, "-m", "interlens", *args], env=ENV, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def _probs(folder: Path, view: str) -> tuple[list[str], np.ndarray]:
    data = json.loads((folder / f"predictions_{view}.json").read_text())
    return data["ids"], np.array(data["probs"])


@pytest.mark.slow
def test_predict_killed_after_fitting_resumes_without_refit(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["predict", "--dataset", "synthetic", "-d", "n=200", "--view", "text", "--view", "image", "--view",
            "text+image", "-s", "epochs=5", "--batch-size", "1", "--out", str(out), "--cache", str(out / "c.sqlite")]
    proc = _start(args)
    _kill_when(proc, lambda: any((out / "checkpoints").glob("*.safetensors")))
    assert not (out / "results.json").exists()  # killed mid-way: no finished-run marker
    (checkpoint,) = (out / "checkpoints").glob("*.safetensors")
    stamp = checkpoint.stat().st_mtime_ns

    log = _run(args)
    assert "reusing fitted scorer embedding from checkpoint" in " ".join(log.split()), log
    assert "saved fitted scorer" not in log
    assert checkpoint.stat().st_mtime_ns == stamp and list((out / "checkpoints").glob("*.safetensors")) == [checkpoint]
    summary = json.loads((out / "results.json").read_text())
    assert summary["views"]["text"]["n"] == 40

    # an uninterrupted run (fresh folder, no cache) gives the same predictions
    fresh = tmp_path / "fresh"
    result = CliRunner().invoke(app, [*args[:-4], "--out", str(fresh), "--no-cache"])
    assert result.exit_code == 0, result.output
    for view in ("text", "image", "text_image"):
        ids_a, a = _probs(out, view)
        ids_b, b = _probs(fresh, view)
        assert ids_a == ids_b
        assert (a.argmax(1) == b.argmax(1)).all()
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)  # stated tolerance (padding of text batches)
    assert json.loads((fresh / "results.json").read_text())["views"]["text"]["scorer_fingerprint"] == \
        summary["views"]["text"]["scorer_fingerprint"]


def _task_file(folder: Path) -> Path:
    words = {"a": "great lovely wonderful", "b": "awful terrible bad"}
    rows = [{"uid": f"{split}{i}", "utt": f"{words['ab'[i % 2]]} number {i}", "tag": "ab"[i % 2], "part": split}
            for split in ("train", "dev", "test") for i in range(10)]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alpha.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    spec = {"name": "alpha", "path": "alpha.jsonl", "id": "uid", "label": "tag", "labels": ["a", "b"],
            "modalities": {"utterance": "utt"}, "split": "part", "dimension": "sentiment"}
    path = folder / "alpha.yaml"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


@pytest.mark.slow
def test_bench_killed_after_a_unit_resumes_without_recomputing_it(tmp_path: Path) -> None:
    task = _task_file(tmp_path / "data")
    out = tmp_path / "bench"
    args = ["bench", "run", "--tasks", str(task), "--scorer", "embedding", "-s", "epochs=3", "-s", "hidden=8",
            "--seeds", "3", "--n-boot", "0", "--out", str(out)]
    proc = _start(args)
    units = out / "units"
    _kill_when(proc, lambda: units.is_dir() and any(units.glob("*.json")))
    assert not (out / "results.json").exists()
    finished = {p.name: (p.stat().st_mtime_ns, p.read_text()) for p in units.glob("*.json")}
    assert 1 <= len(finished) < 3

    log = " ".join(_run(args).split())
    for name, (stamp, text) in finished.items():
        seed = name.split("seed")[-1].removesuffix(".json")
        assert f"alpha seed {seed}: done (resumed)" in log, log
        assert (units / name).stat().st_mtime_ns == stamp and (units / name).read_text() == text
    resumed = json.loads((out / "results.json").read_text())

    fresh = tmp_path / "fresh"
    result = CliRunner().invoke(app, [*args[:-2], "--out", str(fresh)])
    assert result.exit_code == 0, result.output
    uninterrupted = json.loads((fresh / "results.json").read_text())
    assert resumed["scorer_fingerprints"] == uninterrupted["scorer_fingerprints"]
    (a,), (b,) = resumed["tasks"], uninterrupted["tasks"]
    assert a["seeds"] == b["seeds"] == [0, 1, 2]
    for seed in map(str, range(3)):
        assert a["per_seed"][seed]["n"] == b["per_seed"][seed]["n"] == 10
        assert a["per_seed"][seed]["acc"] == pytest.approx(b["per_seed"][seed]["acc"], abs=1e-9)


def _toy_report():
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from test_measure import _onehot, _toy_dataset

    from interlens.measure import measure_interactions

    data = _toy_dataset()
    ids = data.ids
    preds = {"a": _onehot(ids, [0, 1, 0, 1], "a"), "b": _onehot(ids, [0, 0, 1, 1], "b"),
             "a+b": _onehot(ids, [0, 1, 1, 0], "a+b")}
    return measure_interactions(data, predictions=preds, reference="gold", S=5, C=4)


def test_results_json_is_written_last_and_not_after_a_failed_plot(tmp_path: Path, monkeypatch) -> None:
    from interlens.measure import write_report

    paths = write_report(_toy_report(), tmp_path / "ok")
    results = paths["results"].stat().st_mtime_ns
    assert all(p.stat().st_mtime_ns <= results for p in (tmp_path / "ok").iterdir())
    assert oct(paths["results"].stat().st_mode & 0o777) == oct(0o666 & ~_umask())  # 0644 under umask 022

    def broken_plot(*_a, **_k):
        raise OSError(28, "No space left on device", "interaction_score.png")

    monkeypatch.setattr("interlens.report.plots.score_with_ci", broken_plot)
    with pytest.raises(OSError):
        write_report(_toy_report(), tmp_path / "failed")
    assert not (tmp_path / "failed" / "results.json").exists()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_outputs_are_0644_under_umask_022(tmp_path: Path) -> None:
    from interlens.io import write_json

    old = os.umask(0o022)
    try:
        path = write_json(tmp_path / "r.json", {"a": 1})
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644 and json.loads(path.read_text()) == {"a": 1}


def test_corrupt_checkpoint_is_refused_and_a_wrong_one_never_restored(tmp_path: Path) -> None:
    from interlens.checkpoints import checkpoint_path, load_checkpoint, save_checkpoint
    from interlens.errors import DataError, IntegrityError
    from interlens.scoring.embedding import EmbeddingScorer
    from interlens.scoring.minilm_ft import MiniLMFineTuneScorer

    scorer = EmbeddingScorer(epochs=1)
    checkpoint_path(tmp_path, "abc").write_bytes(b"truncated")  # no .sha256 beside it: never read (issue 30)
    with pytest.raises(IntegrityError, match="no .sha256 beside it"):
        load_checkpoint(scorer, tmp_path, "abc")
    save_checkpoint(EmbeddingScorer(epochs=2), tmp_path, "def")  # unfitted: its fingerprint is not "def"
    assert load_checkpoint(scorer, tmp_path, "def") is None and scorer.epochs == 1
    save_checkpoint(MiniLMFineTuneScorer(), tmp_path, "ghi")
    assert load_checkpoint(scorer, tmp_path, "ghi") is None
    with pytest.raises(DataError):
        checkpoint_path(tmp_path, "../escape")


#: fields that say when or how long, not what was computed (issue 30: exact equality, timing fields aside)
_TIMING = ("time", "wall", "runtime", "created", "seconds", "elapsed", "fit_s", "argv", "command")


def _strip_timing(value):
    """``value`` without its provenance block and timing fields (any key naming a time or a duration)."""
    if isinstance(value, dict):
        return {k: _strip_timing(v) for k, v in value.items()
                if k != "provenance" and not any(t in k.lower() for t in _TIMING)}
    if isinstance(value, list):
        return [_strip_timing(v) for v in value]
    return value


def _has_entries(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("command, cached", [
    (["interactions", "score", "--dataset", "synthetic", "-d", "n=300", "-s", "epochs=4", "--draws", "20"], True),
    (["experts", "train", "--dataset", "synthetic", "-d", "n=300", "-s", "epochs=3", "--expert-epochs", "2",
      "--seed", "0", "--seed", "1", "--no-rq4"], False),
    (["bench", "run", "--tasks", "{task}", "--scorer", "embedding", "-s", "epochs=3", "-s", "hidden=8", "--seeds", "3",
      "--n-boot", "50"], False),
], ids=["interactions-score", "experts-train", "bench-run"])
def test_killed_run_resumed_equals_an_uninterrupted_run_exactly(tmp_path: Path, command: list[str],
                                                                  cached: bool) -> None:
    """Issue 30: ``kill -9`` in the middle of the run (once it has cached its first predictions, saved its
    first seed's models or finished its first bench unit), then the same command with the same --out (and
    cache): results.json equals an uninterrupted run's exactly (every number; timing aside), and the stored
    per-sample predictions are byte-identical."""
    command = [str(_task_file(tmp_path / "data")) if c == "{task}" else c for c in command]
    out, cache = tmp_path / "run", tmp_path / "cache.sqlite"
    with_cache = ["--cache", str(cache)] if cached else []
    args = [*command, "--out", str(out), *with_cache]
    proc = _start(args)
    _kill_when(proc, (lambda: cache.exists() and cache.stat().st_size > 0) if cached
               else (lambda: _has_entries(out / "models") or _has_entries(out / "units")))
    assert not (out / "results.json").exists()  # killed mid-way
    _run(args)
    resumed = json.loads((out / "results.json").read_text().replace(str(out), "<out>"))

    fresh = tmp_path / "fresh"
    _run([*command, "--out", str(fresh), *(["--cache", str(tmp_path / "fresh.sqlite")] if cached else [])])
    uninterrupted = json.loads((fresh / "results.json").read_text().replace(str(fresh), "<out>"))
    assert _strip_timing(resumed) == _strip_timing(uninterrupted)
    stored = sorted(p.name for p in out.glob("predictions*.jsonl.gz"))
    assert stored, "the run stores its per-sample predictions"
    for name in stored:
        assert (out / name).read_bytes() == (fresh / name).read_bytes()
