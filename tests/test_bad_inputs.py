"""Bad input, CLI and API (issue 11): every expected failure is ONE line naming the file / record /
field, exit code 2, no traceback, and no results.json left behind; internal errors say so (exit 1)
and point to --debug; --debug / INTERLENS_DEBUG=1 show the traceback; every command is wrapped."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from interlens.cli import app
from interlens.cli.common import describe_error
from interlens.errors import DataError, InterlensError, check_size

runner = CliRunner()
LABELS = ("a", "b")


def _rows(n: int = 6) -> list[dict]:
    return [{"uid": f"{split}{i}", "utt": f"{'good nice' if i % 2 == 0 else 'bad awful'} {i}",
             "ctx": f"context {i}", "tag": LABELS[i % 2], "part": split}
            for split in ("train", "dev", "test") for i in range(n)]


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _spec(**over: object) -> dict:
    spec = {"name": "tiny", "path": "rows.jsonl", "id": "uid", "label": "tag", "labels": list(LABELS),
            "modalities": {"utterance": "utt", "context": "ctx"}, "split": "part"}
    spec.update(over)
    return {k: v for k, v in spec.items() if v is not None}


def _dataset(folder: Path, name: str = "ds", rows: list[dict] | None = None, **over: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _write_jsonl(folder / "rows.jsonl", _rows() if rows is None else rows)
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(_spec(**over)), encoding="utf-8")
    return path


def _preds(path: Path, ids: list[str], probs: list[list[float]] | np.ndarray, labels=LABELS, view="utterance") -> Path:
    path.write_text(json.dumps({"ids": ids, "labels": list(labels), "probs": np.asarray(probs).tolist(),
                                "view": view, "scorer": "hand", "dataset": "tiny", "meta": {}}), encoding="utf-8")
    return path


TEST_IDS = [f"test{i}" for i in range(6)]
GOOD = [[0.7, 0.3]] * 6


@pytest.fixture()
def ws(tmp_path: Path) -> dict[str, Path]:
    """A workspace: a good dataset file, good prediction files, an output folder."""
    ds = _dataset(tmp_path / "data")
    return {"root": tmp_path, "ds": ds, "out": tmp_path / "out",
            "p1": _preds(tmp_path / "p1.json", TEST_IDS, GOOD),
            "p2": _preds(tmp_path / "p2.json", TEST_IDS, [[0.2, 0.8]] * 6, view="context")}


def _file(ws: dict[str, Path], name: str, content: str | bytes) -> Path:
    path = ws["root"] / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _ds_variant(ws: dict[str, Path], rows: list[dict] | None = None, table: str | bytes | None = None,
                **over: object) -> Path:
    folder = ws["root"] / "variant"
    path = _dataset(folder, rows=rows, **over)
    if table is not None:
        name = str(over.get("path", "rows.jsonl"))
        (folder / name).write_bytes(table if isinstance(table, bytes) else table.encode())
    return path


def _predict(ds: Path | str, *extra: str) -> list[str]:
    return ["predict", "--dataset", str(ds), *extra]


def _categorize(ws: dict[str, Path], p1: Path, p2: Path | None = None, *extra: str) -> list[str]:
    args = ["interactions", "categorize", "--dataset", str(ws["ds"]), "--modality1", "utterance", "--modality2",
            "context", "--pred1", str(p1)]
    return [*args, *(["--pred2", str(p2)] if p2 is not None else []), *extra]


def _score_results(ws: dict[str, Path], entry: object) -> Path:
    return _file(ws, "scored/results.json", json.dumps({"dataset": "x", "interaction_score": {"exact": entry}}))


def _mid(ws: dict[str, Path], **over: Path) -> list[str]:
    gold = _file(ws, "gold.json", json.dumps({i: LABELS[n % 2] for n, i in enumerate(TEST_IDS)}))
    files = {"original": ws["p1"], "image-cf": ws["p1"], "text-cf": ws["p2"], "gold": gold, **over}
    args = ["debias", "mid", "--n-trials", "2"]
    for key, path in files.items():
        args += [f"--{key}", str(path)]
    return args


def _garbage_cache(ws: dict[str, Path]) -> Path:
    return _file(ws, "cache.sqlite", b"this is not a database" * 100)


def _altered_cache(ws: dict[str, Path]) -> Path:
    """A real cache whose one row was edited behind its checksum."""
    from interlens.cache import PredictionCache

    path = ws["root"] / "altered.sqlite"
    with PredictionCache(path) as cache:
        cache.put("s", "v", "d", ["x"], np.array([[0.5, 0.5]]))
    con = sqlite3.connect(path)
    con.execute("UPDATE predictions_v2 SET probs=?", (np.array([0.9, 0.1]).tobytes(),))
    con.commit()
    con.close()
    return path


def _png_table(ws: dict[str, Path], image: bytes | None) -> Path:
    folder = ws["root"] / "imgdata"
    folder.mkdir(parents=True, exist_ok=True)
    rows = _rows()
    for r in rows:
        r["img"] = "pics/x.png"
    if image is not None:
        (folder / "pics").mkdir(exist_ok=True)
        (folder / "pics" / "x.png").write_bytes(image)
    return _dataset(folder, rows=rows, modalities={"utterance": "utt", "photo": {"column": "img", "kind": "image"}})


# (case id, argv builder, fragments the one error line must contain)
Case = tuple[str, Callable[[dict[str, Path]], list[str]], tuple[str, ...]]
CLI_CASES: list[Case] = [
    # -- dataset files -----------------------------------------------------------------------------
    ("ds-missing", lambda w: _predict(w["root"] / "nope.yaml"), ("nope.yaml", "not found")),
    ("ds-yaml-syntax", lambda w: _predict(_file(w, "bad.yaml", "name: [oops\n")), ("bad.yaml", "not valid YAML")),
    ("ds-yaml-list", lambda w: _predict(_file(w, "list.yaml", "- a\n- b\n")), ("list.yaml", "mapping")),
    ("ds-yaml-empty", lambda w: _predict(_file(w, "empty.yaml", "")), ("empty.yaml", "empty dataset file")),
    ("ds-yaml-not-utf8", lambda w: _predict(_file(w, "latin.yaml", "name: caf\xe9\n".encode("latin-1"))),
     ("latin.yaml", "UTF-8")),
    ("ds-unknown-key", lambda w: _predict(_ds_variant(w, lables=["a"])), ("ds.yaml", "lables")),
    ("ds-missing-key", lambda w: _predict(_ds_variant(w, id=None)), ("ds.yaml", "id")),
    ("ds-bool-labels", lambda w: _predict(_ds_variant(w, labels=[True, False])), ("ds.yaml", "quote the labels")),
    ("ds-table-missing", lambda w: _predict(_ds_variant(w, path="gone.jsonl")), ("ds.yaml", "gone.jsonl")),
    ("ds-table-escapes", lambda w: _predict(_ds_variant(w, path="../p1.json")), ("ds.yaml", "leaves")),
    ("ds-table-absolute", lambda w: _predict(_ds_variant(w, path="/etc/hostname")), ("ds.yaml", "absolute path")),
    ("ds-jsonl-bad-line", lambda w: _predict(_ds_variant(w, table='{"uid": "x"\n')), ("rows.jsonl", "line 1")),
    ("ds-jsonl-not-utf8", lambda w: _predict(_ds_variant(w, table=b'{"uid": "\xff\xfe"}\n')), ("rows.jsonl", "UTF-8")),
    ("ds-label-column-missing", lambda w: _predict(_ds_variant(w, label="nolabel")), ("nolabel",)),
    ("ds-label-unknown", lambda w: _predict(_ds_variant(w, labels=["a", "z"])), ("'b'",)),
    ("ds-duplicate-ids", lambda w: _predict(_ds_variant(w, rows=_rows() + _rows()[:1])), ("train0", "uid")),
    ("ds-unknown-split", lambda w: _predict(_ds_variant(w, rows=[{**r, "part": "holdout"} for r in _rows()])),
     ("holdout",)),
    ("ds-csv-broken", lambda w: _predict(_ds_variant(w, path="rows.csv", table='uid,utt\n"a,b\n')), ("rows.csv",)),
    ("ds-is-folder", lambda w: _predict(w["root"]), ("YAML file",)),
    ("ds-image-missing", lambda w: _predict(_png_table(w, None), "--view", "photo"), ("x.png", "image")),
    ("ds-unknown-registered", lambda w: _predict("mustrad"), ("Did you mean 'mustard'",)),
    ("ds-option-unknown", lambda w: _predict(w["ds"], "-d", "sed=1"), ("sed",)),
    ("ds-option-seed-type", lambda w: _predict(_ds_variant(w, split=None), "-d", "seed=x"), ("seed",)),
    ("ds-option-not-kv", lambda w: _predict(w["ds"], "-d", "seed"), ("expected KEY=VALUE",)),
    # -- scorer, views, splits, roots, cache ----------------------------------------------------------
    ("view-unknown", lambda w: _predict(w["ds"], "--view", "audio"), ("audio",)),
    ("view-unknown-in-pair", lambda w: _predict(w["ds"], "--view", "utterance+audio"), ("audio",)),
    ("split-unknown", lambda w: _predict(w["ds"], "--split", "valid8"), ("valid8",)),
    ("scorer-unknown", lambda w: _predict(w["ds"], "--scorer", "embeding"), ("Did you mean 'embedding'",)),
    ("scorer-option-typo", lambda w: _predict(w["ds"], "-s", "epoch=1"), ("Did you mean 'epochs'",)),
    ("scorer-batch-size-0", lambda w: _predict(w["ds"], "-s", "batch_size=0"), ("batch_size", ">= 1")),
    ("scorer-hidden-negative", lambda w: _predict(w["ds"], "-s", "hidden=-4"), ("hidden", ">= 1")),
    ("scorer-epochs-fraction", lambda w: _predict(w["ds"], "-s", "epochs=1.5"), ("epochs",)),
    ("scorer-epochs-bool", lambda w: _predict(w["ds"], "-s", "epochs=true"), ("epochs",)),
    ("scorer-option-not-kv", lambda w: _predict(w["ds"], "-s", "epochs"), ("expected KEY=VALUE",)),
    ("scorer-fusion-unknown", lambda w: _predict(w["ds"], "-s", "fusion=magic", "--no-cache", "--out",
                                                 str(w["out"])), ("fusion",)),
    ("data-root-missing", lambda w: _predict("mustard", "--data-root", str(w["root"] / "nowhere")),
     ("nowhere", "does not exist")),
    ("data-root-is-file", lambda w: _predict("mustard", "--data-root", str(w["p1"])), ("p1.json", "not a folder")),
    ("cache-is-folder", lambda w: _predict(w["ds"], "--cache", str(w["root"])), ("folder",)),
    ("cache-garbage", lambda w: _predict(w["ds"], "--cache", str(_garbage_cache(w))), ("cache.sqlite", "--no-cache")),
    # -- prediction files (interactions categorize) ---------------------------------------------------
    ("pred-missing", lambda w: _categorize(w, w["root"] / "gone.json", w["p2"]), ("gone.json",)),
    ("pred-malformed-json", lambda w: _categorize(w, _file(w, "m.json", '{"ids": ['), w["p2"]), ("m.json", "JSON")),
    ("pred-negative", lambda w: _categorize(w, _preds(w["root"] / "n.json", TEST_IDS, [[1.2, -0.2]] * 6), w["p2"]),
     ("n.json", "outside [0, 1]")),
    ("pred-not-summing", lambda w: _categorize(w, _preds(w["root"] / "s.json", TEST_IDS, [[0.5, 0.6]] * 6), w["p2"]),
     ("probs",)),
    ("pred-unknown-labels", lambda w: _categorize(w, _preds(w["root"] / "l.json", TEST_IDS, GOOD, labels=("yes", "no")),
                                                  w["p2"]), ("yes",)),
    ("pred-other-ids", lambda w: _categorize(w, _preds(w["root"] / "i.json", [f"x{i}" for i in range(6)], GOOD),
                                             w["p2"]), ("id",)),
    ("pred-duplicate-ids", lambda w: _categorize(w, _preds(w["root"] / "d.json", ["test0"] * 6, GOOD), w["p2"]),
     ("test0",)),
    ("pred-wrong-width", lambda w: _categorize(w, _preds(w["root"] / "w.json", TEST_IDS, [[0.2, 0.3, 0.5]] * 6),
                                               w["p2"]), ("w.json",)),
    ("pred-is-folder", lambda w: _categorize(w, w["root"] / "data", w["p2"]), ("data", "format")),
    ("pred-not-utf8", lambda w: _categorize(w, _file(w, "u.json", b'{"ids": ["\xff"]}'), w["p2"]), ("u.json",)),
    ("pred-only-one", lambda w: _categorize(w, w["p1"]), ("--pred2",)),
    ("pred-label-map-bad", lambda w: _categorize(w, w["p1"], w["p2"], "--label-map", "a"), ("KEY=VALUE",)),
    # -- interactions group -----------------------------------------------------------------------------
    ("group-missing", lambda w: ["interactions", "group", "--results", str(w["root"] / "nothere")], ("nothere",)),
    ("group-not-object", lambda w: ["interactions", "group", "--results", str(_file(w, "arr/results.json", "[1]"))],
     ("results.json", "JSON object")),
    ("group-score-out-of-range", lambda w: ["interactions", "group", "--results", str(_score_results(
        w, {"score": 2.7, "ci_low": 2.5, "ci_high": 2.9}))], ("results.json", "2.7")),
    ("group-score-missing-field", lambda w: ["interactions", "group", "--results", str(_score_results(
        w, {"score": 1.0}))], ("results.json", "ci_low")),
    ("group-malformed", lambda w: ["interactions", "group", "--results", str(_file(w, "mal/results.json", "{"))],
     ("results.json", "JSON")),
    # -- debias mid ---------------------------------------------------------------------------------------
    ("mid-gold-not-object", lambda w: _mid(w, gold=_file(w, "g.json", "[1, 2]")), ("g.json", "JSON object")),
    ("mid-gold-unknown-label", lambda w: _mid(w, gold=_file(w, "g2.json", json.dumps({"test0": "zz"}))),
     ("g2.json", "zz")),
    ("mid-original-missing", lambda w: _mid(w, original=w["root"] / "orig.json"), ("orig.json",)),
    ("mid-negative-probs", lambda w: _mid(w, **{"image-cf": _preds(w["root"] / "neg.json", TEST_IDS,
                                                                   [[1.5, -0.5]] * 6)}), ("probs",)),
    ("mid-tune-ids-not-list", lambda w: _mid(w, **{"tune-ids": _file(w, "t.json", "7")}), ("t.json",)),
    # -- bench, data -------------------------------------------------------------------------------------
    ("bench-task-unknown", lambda w: ["bench", "run", "--tasks", "mintrec-2"], ("Did you mean 'mintrec2'",)),
    ("bench-task-file-missing", lambda w: ["bench", "run", "--tasks", str(w["root"] / "t.yaml")], ("t.yaml",)),
    ("bench-report-missing", lambda w: ["bench", "report", str(w["root"] / "norun")], ("norun",)),
    ("bench-compare-malformed", lambda w: ["bench", "compare", str(_file(w, "bad/results.json", "{,"))],
     ("results.json",)),
    ("data-show-unknown", lambda w: ["data", "show", "mustrad"], ("Did you mean 'mustard'",)),
    ("data-show-bad-yaml", lambda w: ["data", "show", str(_file(w, "b2.yaml", "a: [\n"))], ("b2.yaml",)),
]


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_bad_input_is_one_line_exit_2(case: Case, ws: dict[str, Path]) -> None:
    _, build, fragments = case
    argv = build(ws)
    if "--out" not in argv and argv[0] not in ("data", "bench") or argv[:2] == ["bench", "run"]:
        argv = [*argv, "--out", str(ws["out"])]
    result = runner.invoke(app, argv)
    lines = _error_lines(result.output)
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert not (ws["out"] / "results.json").exists()


USAGE_CASES = [
    (["predict", "--dataset", "x", "--batch-size", "0"], "--batch-size"),
    (["bench", "run", "--seeds", "0"], "--seeds"),
    (["bench", "run", "--limit", "0"], "--limit"),
    (["interactions", "score", "--dataset", "x", "--draws", "0"], "--draws"),
    (["interactions", "group", "--results", "x", "--n-groups", "0"], "--n-groups"),
    (["demo", "--n", "0"], "--n"),
    (["train", "--model", "m", "--batch-size", "0"], "--batch-size"),
    (["train", "--model", "m", "--grad-accum", "0"], "--grad-accum"),
    (["debias", "mid", "--original", "a", "--image-cf", "b", "--text-cf", "c", "--gold", "d", "--n-trials", "0"],
     "--n-trials"),
    (["experts", "train", "--dataset", "x", "--folds", "1"], "--folds"),
    (["interactions", "score", "--dataset", "x", "--reference", "golden"], "--reference"),
]


@pytest.mark.parametrize(("argv", "option"), USAGE_CASES, ids=[f"{a[0]}-{o}" for a, o in USAGE_CASES])
def test_option_sizes_and_choices_are_refused_before_work(argv: list[str], option: str, tmp_path: Path) -> None:
    """typer's own usage errors: exit 2, the option named on one line of its message, nothing written."""
    result = runner.invoke(app, [*argv, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert any(option in line and ("Invalid value" in line or "is not" in line) for line in lines), result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


# -- the same failures from the Python API: DataError naming file / record / field -------------------------
def _api_resolve(ws: dict[str, Path], path: Path) -> None:
    from interlens.data import resolve_dataset

    resolve_dataset(str(path))


def _api_predictions(path: Path) -> None:
    from interlens.predictions import Predictions

    Predictions.load(path).check_probs()


ApiCase = tuple[str, Callable[[dict[str, Path]], object], tuple[str, ...]]
API_CASES: list[ApiCase] = [
    ("api-resolve-missing", lambda w: _api_resolve(w, w["root"] / "no.yaml"), ("no.yaml",)),
    ("api-resolve-table-escape", lambda w: _api_resolve(w, _ds_variant(w, path="../../x.jsonl")), ("leaves",)),
    ("api-preds-malformed", lambda w: _api_predictions(_file(w, "bad.json", "{")), ("bad.json",)),
    ("api-preds-negative", lambda w: _api_predictions(_preds(w["root"] / "n.json", TEST_IDS, [[1.1, -0.1]] * 6)),
     ("n.json", "probs")),
    ("api-preds-nan-row-part", lambda w: _api_predictions(_file(w, "nan.json", json.dumps(
        {"ids": ["a"], "labels": ["a", "b"], "probs": [[0.5, None]], "view": "v", "scorer": "s", "dataset": "d",
         "meta": {}}))), ("probs",)),
    ("api-read-json", lambda w: __import__("interlens.io", fromlist=["read_json"]).read_json(_file(w, "r.json", "[1,")),
     ("r.json", "line 1")),
    ("api-cache-garbage", lambda w: __import__("interlens.cache", fromlist=["x"]).PredictionCache(_garbage_cache(w))
     .get("s", "v", "d", ["x"]), ("cache.sqlite", "--no-cache")),
    ("api-cache-altered-row", lambda w: __import__("interlens.cache", fromlist=["x"]).PredictionCache(
        _altered_cache(w)).get("s", "v", "d", ["x"]), ("altered.sqlite", "integrity", "id x")),
    ("api-make-scorer-batch-0", lambda w: __import__("interlens.scoring.registry", fromlist=["x"]).make_scorer(
        "embedding", batch_size=0), ("batch_size",)),
    ("api-make-scorer-minilm-max-length", lambda w: __import__("interlens.scoring.registry", fromlist=["x"])
     .make_scorer("minilm-ft", max_length=0), ("max_length",)),
    ("api-data-root-missing", lambda w: __import__("interlens.data.paths", fromlist=["x"]).find_data_root(
        w["root"] / "void"), ("void", "does not exist")),
    ("api-score-range", lambda w: __import__("interlens.interactions.score", fromlist=["x"]).check_score_range(
        -2.38, "score"), ("-2.38",)),
    ("api-image-not-an-image", lambda w: __import__("interlens.scoring.encoders", fromlist=["x"]).image_to_array(
        str(_file(w, "fake.png", b"not a png")), 8, source="ds.yaml", record="r1"), ("fake.png", "r1", "image")),
    ("api-check-size-bool", lambda w: check_size(True, "epochs"), ("epochs",)),
    ("api-cached-predict-batch-0", lambda w: __import__("interlens.scoring.base", fromlist=["x"]).cached_predict(
        None, None, "t", batch_size=0), ("batch_size",)),
]


@pytest.mark.parametrize("case", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_bad_input_raises_one_line_data_error(case: ApiCase, ws: dict[str, Path]) -> None:
    _, call, fragments = case
    with pytest.raises(InterlensError) as info:
        call(ws)
    message, code = describe_error(info.value)
    assert code == 2 and "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


# -- the boundary itself: foreign exceptions -> one line, exit 2; internal ones -> exit 1 ------------------
def _raise_in_reader(exc: BaseException) -> BaseException:
    """Raise ``exc`` from a frame of a data-reading module (as a real reader would)."""
    import interlens.data.readers as readers

    code = compile("def _boom(path, exc):\n    raise exc\n", readers.__file__, "exec")
    namespace = {"__name__": readers.__name__}
    exec(code, namespace)  # noqa: S102 - a frame that belongs to interlens.data.readers
    try:
        namespace["_boom"](__file__, exc)
    except BaseException as err:  # noqa: BLE001
        return err
    raise AssertionError("not raised")


def _yaml_error() -> BaseException:
    import yaml

    try:
        yaml.safe_load("a: [")
    except yaml.YAMLError as err:
        return err
    raise AssertionError


def _pydantic_error() -> BaseException:
    from interlens.data.files import DatasetFile

    try:
        DatasetFile.model_validate({"path": 3})
    except Exception as err:  # noqa: BLE001
        return err
    raise AssertionError


def _pandas_error(tmp: Path) -> BaseException:
    import pandas as pd

    path = tmp / "t.csv"
    path.write_text('a,b\n"x,y\n')
    try:
        pd.read_csv(path)
    except Exception as err:  # noqa: BLE001
        return err
    raise AssertionError


def _pil_error(tmp: Path) -> BaseException:
    from PIL import Image

    path = tmp / "x.png"
    path.write_bytes(b"nope")
    try:
        Image.open(path)
    except Exception as err:  # noqa: BLE001
        return err
    raise AssertionError


def _sqlite_error(tmp: Path) -> BaseException:
    path = tmp / "x.db"
    path.write_bytes(b"garbage" * 200)
    try:
        sqlite3.connect(path).execute("SELECT 1 FROM t")
    except sqlite3.Error as err:
        return err
    raise AssertionError


BOUNDARY = [
    ("file-not-found", lambda t: FileNotFoundError(2, "No such file or directory", str(t / "gone.csv")),
     2, "gone.csv"),
    ("permission", lambda t: PermissionError(13, "Permission denied", str(t / "secret.csv")), 2, "secret.csv"),
    ("is-a-directory", lambda t: IsADirectoryError(21, "Is a directory", str(t)), 2, "folder"),
    # --out given a file: the message names that file, not the path made under it
    ("not-a-directory", lambda t: NotADirectoryError(20, "Not a directory", str(_a_file(t) / "checkpoints" / "u")),
     2, "expected a folder, got a file: "),
    ("unicode", lambda t: _raise_in_reader(UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")),
     2, "utf-8"),
    ("json", lambda t: _raise_in_reader(json.JSONDecodeError("Expecting value", "x", 0)), 2, "line 1, column 1"),
    ("yaml", lambda t: _yaml_error(), 2, "malformed YAML at line"),
    ("sqlite", _sqlite_error, 2, "--no-cache"),
    ("pil", _pil_error, 2, "x.png"),
    ("pandas", _pandas_error, 2, "cannot parse the table"),
    ("pydantic", lambda t: _pydantic_error(), 2, "field"),
    ("reader-keyerror", lambda t: _raise_in_reader(KeyError("label")), 2, "missing key 'label'"),
    ("reader-valueerror", lambda t: _raise_in_reader(ValueError("could not convert 'x' to float")), 2,
     "could not convert"),
    ("internal", lambda t: RuntimeError("boom"), 1, "internal error: RuntimeError: boom (run with --debug"),
    ("internal-keyerror", lambda t: KeyError("k"), 1, "internal error"),
]


@pytest.mark.parametrize(("make", "code", "fragment"), [b[1:] for b in BOUNDARY], ids=[b[0] for b in BOUNDARY])
def test_error_boundary_maps_exceptions(make, code: int, fragment: str, tmp_path: Path) -> None:
    message, exit_code = describe_error(make(tmp_path))
    assert exit_code == code and "\n" not in message
    assert fragment in message, message


def _a_file(folder: Path) -> Path:
    path = folder / "results.csv"
    path.write_text("x\n")
    return path


def test_not_a_directory_names_the_file_in_the_way(tmp_path: Path) -> None:
    message, _ = describe_error(NotADirectoryError(20, "Not a directory", str(_a_file(tmp_path) / "a" / "b")))
    assert message == f"expected a folder, got a file: {tmp_path / 'results.csv'}"


def _commands(typer_app: typer.Typer, prefix: str = "") -> list[tuple[str, object]]:
    found = [(f"{prefix}{c.name or c.callback.__name__}", c.callback) for c in typer_app.registered_commands]
    for group in typer_app.registered_groups:
        found += _commands(group.typer_instance, f"{prefix}{group.name} ")
    return found


def test_every_command_is_behind_the_error_boundary() -> None:
    commands = _commands(app)
    assert len(commands) >= 20
    unwrapped = [name for name, callback in commands if not getattr(callback, "friendly_errors", False)]
    assert unwrapped == []


def test_debug_flag_and_env_show_the_traceback(ws: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    argv = _predict(ws["root"] / "nope.yaml")
    result = runner.invoke(app, ["--debug", *argv])
    assert isinstance(result.exception, DataError) and "nope.yaml" in str(result.exception)
    plain = runner.invoke(app, argv)  # the flag does not stick
    assert plain.exit_code == 2 and plain.exception is None or isinstance(plain.exception, SystemExit)
    monkeypatch.setenv("INTERLENS_DEBUG", "1")
    assert isinstance(runner.invoke(app, argv).exception, DataError)


def test_internal_error_exit_1_points_to_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    import interlens.cli.scorers as scorers_cli

    def broken(*_a, **_k):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("interlens.scoring.registry.registered_scorers", broken)
    result = runner.invoke(app, ["scorers"])
    lines = _error_lines(result.output)
    assert result.exit_code == 1, result.output
    assert lines == ["internal error: ZeroDivisionError: division by zero (run with --debug for the traceback)"]
    assert scorers_cli is not None
