"""Dataset files (YAML describing a table), modality kinds, the seeded group split and ``data show FILE``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from interlens.cli import app
from interlens.data import read_table, resolve_dataset
from interlens.data.adapters import REGISTRY, DatasetCard, list_datasets, load_mustard
from interlens.data.files import read_dataset_file
from interlens.data.schema import infer_kind
from interlens.data.splits import crossing_groups, seeded_split
from interlens.data.synthetic import make_synthetic
from interlens.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "dialogues"
runner = CliRunner()

ROWS = [
    {"uid": "a1", "text": "hello there", "y": "pos", "part": "train", "who": "s1"},
    {"uid": "a2", "text": "not great", "y": "neg", "part": "Training", "who": "s2"},
    {"uid": "a3", "text": "fine, thanks", "y": "pos", "part": "valid", "who": "s1"},
    {"uid": "a4", "text": "awful day", "y": "neg", "part": "validation", "who": "s3"},
    {"uid": "a5", "text": "so so", "y": "neu", "part": "test", "who": "s2"},
]


def write_yaml(folder: Path, text: str, name: str = "data.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_table(path: Path, rows: list[dict]) -> Path:
    """``rows`` as the table format that ``path``'s suffix names (csv, tsv, parquet, jsonl)."""
    frame = pd.DataFrame(rows)
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        write_jsonl(path, rows)
    return path


BASIC = """name: tiny
path: {table}
id: uid
label: y
modalities:
  utterance: text
split: part
group: who
"""


# -- round trip over every table format ---------------------------------------------------------
@pytest.mark.parametrize("suffix", ["csv", "jsonl", "tsv", "parquet"])
def test_round_trip_every_format(tmp_path: Path, suffix: str) -> None:
    table = write_table(tmp_path / f"rows.{suffix}", ROWS)
    ds = read_dataset_file(write_yaml(tmp_path, BASIC.format(table=table.name)))
    assert ds.name == "tiny" and ds.ids == ["a1", "a2", "a3", "a4", "a5"]
    assert ds.labels == ("neg", "neu", "pos")  # sorted without `labels`
    assert ds.kinds == {"utterance": "text"}
    assert ds.splits == {"train": ["a1", "a2"], "dev": ["a3", "a4"], "test": ["a5"]}
    assert ds.info["split"] == {"column": "part", "values": {"train": "train", "Training": "train", "valid": "dev",
                                                             "validation": "dev", "test": "test"}}
    assert ds["a3"].inputs == {"utterance": "fine, thanks"} and ds["a3"].group == "s1"
    fingerprints = {ds.fingerprint()}
    # the same rows as JSONL give the same content fingerprint
    other = tmp_path / "other"
    other.mkdir()
    write_jsonl(other / "rows.jsonl", ROWS)
    fingerprints.add(read_dataset_file(write_yaml(other, BASIC.format(table="rows.jsonl"))).fingerprint())
    assert len(fingerprints) == 1


def test_labels_key_fixes_order(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "rows.jsonl", ROWS)
    ds = read_dataset_file(write_yaml(tmp_path, BASIC.format(table="rows.jsonl")
                                      + "labels: [pos, neg, neu, other]\ntask: mood\ndimension: sentiment\n"))
    assert ds.labels == ("pos", "neg", "neu", "other")
    assert ds.y.tolist() == [0, 1, 0, 1, 2]
    assert (ds.task, ds.dimension) == ("mood", "sentiment")
    with pytest.raises(DataError, match=r"record line 5, field 'y': unknown label 'neu' \(did you mean 'neg'\?\)"):
        read_dataset_file(write_yaml(tmp_path, BASIC.format(table="rows.jsonl") + "labels: [pos, neg]\n"))
    with pytest.raises(DataError, match="YAML reads unquoted yes/no"):
        read_dataset_file(write_yaml(tmp_path, BASIC.format(table="rows.jsonl") + "labels: [yes, no]\n"))


# -- kinds --------------------------------------------------------------------------------------
def test_kinds_declared_and_inferred_paths_resolved(tmp_path: Path) -> None:
    from PIL import Image

    (tmp_path / "img").mkdir()
    Image.new("RGB", (4, 4), (255, 0, 0)).save(tmp_path / "img" / "a.png")
    Image.new("RGB", (4, 4), (0, 255, 0)).save(tmp_path / "img" / "b.png")
    (tmp_path / "clip.wav").write_bytes(b"RIFF")
    rows = [{"id": 1, "turns": ["A: hi", "B: hello.png"], "pic": "img/a.png", "vec": [0.5, 1, 2],
             "snd": "clip.wav", "label": 0},
            {"id": 2, "turns": ["A: bye"], "pic": "img/b.png", "vec": [1.5, 0, 0], "snd": "clip.wav", "label": 1},
            {"id": 3, "turns": [], "pic": "img/b.png", "vec": [0, 0, 0], "snd": "clip.wav", "label": 1}]
    write_jsonl(tmp_path / "t.jsonl", rows)
    yaml_path = write_yaml(tmp_path, """path: t.jsonl
id: id
label: label
labels: [0, 1]
modalities:
  dialogue: turns
  photo: pic
  emb: vec
  voice: {column: snd, kind: audio}
""")
    ds = read_dataset_file(yaml_path)
    assert ds.name == "data" and ds.labels == ("0", "1")
    assert ds.kinds == {"dialogue": "text", "photo": "image", "emb": "features", "voice": "audio"}
    assert ds.modalities_of_kind("text") == ["dialogue"]
    assert ds.text(ds["1"], "dialogue") == "A: hi\nB: hello.png"  # a list of turns is text, joined in order
    assert ds["2"].inputs["photo"] == str((tmp_path / "img" / "b.png").resolve())
    assert ds["1"].inputs["voice"] == str((tmp_path / "clip.wav").resolve())
    assert ds["1"].inputs["emb"].dtype == np.float32 and ds["1"].inputs["emb"].tolist() == [0.5, 1.0, 2.0]
    # a declared kind wins over inference: the turns as "features" are refused with the record
    bad = yaml_path.read_text().replace("dialogue: turns", "dialogue: {column: turns, kind: features}")
    with pytest.raises(DataError, match=r"record line 1, field 'turns': a features value must be"):
        read_dataset_file(write_yaml(tmp_path, bad, "bad.yaml"))


def test_infer_kind_of_lists() -> None:
    assert infer_kind(["A: hi", "B: ho"]) == "text"
    assert infer_kind([]) == "text"
    assert infer_kind([0.1, 2]) == "features"
    assert infer_kind(["f1.png", "f2.png"]) == "video"
    assert infer_kind('["a", "b"]') == "text"


def test_csv_cell_with_json_list_stays_a_string(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text('id,ctx,label\n1,"[""a"", ""b""]",x\n2,plain,y\n3,more,y\n', encoding="utf-8")
    ds = read_dataset_file(write_yaml(tmp_path, "path: t.csv\nid: id\nlabel: label\nmodalities: {context: ctx}\n"))
    assert ds["1"].inputs["context"] == '["a", "b"]' and ds.kinds == {"context": "text"}


def test_read_table_keeps_list_values(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "t.jsonl", [{"id": 7, "ctx": ["x", "y"], "label": "a"}, {"id": 8, "ctx": [], "label": "b"}])
    ds = read_table(tmp_path / "t.jsonl", id="id", label="label", modalities={"context": "ctx"})
    assert ds["7"].inputs["context"] == ["x", "y"] and ds["8"].inputs["context"] == []
    assert ds.kinds == {"context": "text"} and ds.text(ds["8"], "context") == ""


# -- errors -------------------------------------------------------------------------------------
def test_missing_column_names_yaml_table_record_field(tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS]
    del rows[2]["text"]
    write_jsonl(tmp_path / "rows.jsonl", rows)
    yaml_path = write_yaml(tmp_path, BASIC.format(table="rows.jsonl"))
    with pytest.raises(DataError) as err:
        read_dataset_file(yaml_path)
    message = str(err.value)
    assert message.startswith(f"file {tmp_path / 'rows.jsonl'}, record line 3, field 'text': missing column 'text'")
    assert message.endswith(f"(dataset file {yaml_path})")
    # in a CSV the header is checked first, with a "did you mean"
    (tmp_path / "rows.csv").write_text("uid,txt,y,part,who\na1,hi,pos,train,s1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"record line 1 \(header\), field 'text': missing column 'text' "
                                        r"\(did you mean 'txt'\?\)"):
        read_dataset_file(write_yaml(tmp_path, BASIC.format(table="rows.csv"), "csv.yaml"))


@pytest.mark.parametrize(("extra", "expected"), [
    ("lables: [a]\n", "unknown key 'lables' (did you mean 'labels'?); keys: name, path, id, label, labels,"),
    ("modalities:\n  utterance: {colum: text}\n",
     "unknown key 'colum' in modalities.utterance (did you mean 'column'?)"),
    ("modalities:\n  utterance: {column: text, kind: picture}\n", "key 'modalities.utterance.kind': Input should be"),
    ("modalities: {}\n", "key 'modalities': map at least one modality name to a column"),
])
def test_bad_keys_are_explained(tmp_path: Path, extra: str, expected: str) -> None:
    write_jsonl(tmp_path / "rows.jsonl", ROWS)
    text = BASIC.format(table="rows.jsonl")
    if extra.startswith("modalities"):
        text = text.replace("modalities:\n  utterance: text\n", extra)
    else:
        text += extra
    with pytest.raises(DataError) as err:
        read_dataset_file(write_yaml(tmp_path, text))
    assert expected in str(err.value) and str(err.value).startswith(f"file {tmp_path / 'data.yaml'}: ")


def test_missing_required_keys_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="missing required key 'path'; missing required key 'id'"):
        read_dataset_file(write_yaml(tmp_path, "label: y\nmodalities: {a: b}\n"))
    with pytest.raises(DataError, match=r"record line 2: not valid YAML"):
        read_dataset_file(write_yaml(tmp_path, "path: x.csv\n  id: [\n"))
    with pytest.raises(DataError, match="empty dataset file"):
        read_dataset_file(write_yaml(tmp_path, "# nothing\n"))
    with pytest.raises(DataError, match="dataset file not found"):
        read_dataset_file(tmp_path / "absent.yaml")
    with pytest.raises(DataError, match=r"a dataset file is a YAML file .* or a table \(\.csv, .*'id' and 'label'"):
        read_dataset_file(write_jsonl(tmp_path / "rows.txt", ROWS))
    with pytest.raises(DataError, match=r"a table given directly needs columns 'id' and 'label'"):
        read_dataset_file(write_jsonl(tmp_path / "rows.jsonl", ROWS))


def test_missing_table_is_one_line(tmp_path: Path) -> None:
    yaml_path = write_yaml(tmp_path, BASIC.format(table="sub/none.csv"))
    with pytest.raises(DataError) as err:
        read_dataset_file(yaml_path)
    assert str(err.value) == (f"file {yaml_path}, field 'path': table not found: sub/none.csv "
                              f"(key 'path' is relative to {tmp_path.resolve()})")


def test_paths_may_not_leave_the_folder(tmp_path: Path) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    write_jsonl(tmp_path / "rows.jsonl", ROWS)
    with pytest.raises(DataError, match=r"field 'path': path '../rows.jsonl' leaves the dataset file's folder"):
        read_dataset_file(write_yaml(inner, BASIC.format(table="../rows.jsonl")))
    with pytest.raises(DataError, match=r"field 'path': absolute path .* not allowed"):
        read_dataset_file(write_yaml(inner, BASIC.format(table=tmp_path / "rows.jsonl")))
    # an image value escaping the folder, and one that does not exist, name the record and field
    (tmp_path / "secret.png").write_bytes(b"x")
    write_jsonl(inner / "t.jsonl", [{"id": "1", "img": "ok.png", "label": "a"},
                                    {"id": "2", "img": "sub/../../secret.png", "label": "b"}])
    (inner / "ok.png").write_bytes(b"x")
    text = "path: t.jsonl\nid: id\nlabel: label\nmodalities:\n  photo: {column: img, kind: image}\n"
    with pytest.raises(DataError, match=r"record line 2, field 'img': path 'sub/../../secret.png' leaves"):
        read_dataset_file(write_yaml(inner, text))
    write_jsonl(inner / "t.jsonl", [{"id": "1", "img": "ok.png", "label": "a"}, {"id": "2", "img": "no.png",
                                                                                "label": "b"}])
    with pytest.raises(DataError, match=r"record line 2, field 'img': image file not found: no.png"):
        read_dataset_file(write_yaml(inner, text))


def test_unknown_split_value_names_the_record(tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS]
    rows[3]["part"] = "holdout"
    write_jsonl(tmp_path / "rows.jsonl", rows)
    with pytest.raises(DataError, match=r"record line 4, field 'part': unknown split 'holdout'; use train, dev"):
        read_dataset_file(write_yaml(tmp_path, BASIC.format(table="rows.jsonl")))


# -- the seeded split ---------------------------------------------------------------------------
def _grouped(tmp_path: Path, n_groups: int = 12, per_group: int = 3) -> Path:
    rows = [{"id": f"g{g}_{k}", "text": f"sample {g} {k}", "label": "ab"[(g + k) % 2], "spk": f"spk{g}"}
            for g in range(n_groups) for k in range(per_group)]
    rows[0]["spk"] = ""  # an empty group: a group of its own
    write_jsonl(tmp_path / "g.jsonl", rows)
    return write_yaml(tmp_path, "path: g.jsonl\nid: id\nlabel: label\nmodalities: {text: text}\ngroup: spk\n",
                      "g.yaml")


def test_seeded_group_split_is_deterministic_disjoint_and_recorded(tmp_path: Path) -> None:
    yaml_path = _grouped(tmp_path)
    first, again = read_dataset_file(yaml_path), read_dataset_file(yaml_path, seed=0)
    assert first.splits == again.splits and list(first.splits) == ["train", "dev", "test"]
    assert sorted(i for ids in first.splits.values() for i in ids) == sorted(first.ids)
    assert crossing_groups(first.splits, {s.id: s.group for s in first}) == set()
    made = first.info["split_made"]
    assert made["seed"] == 0 and made["fractions"] == {"train": 0.7, "dev": 0.1, "test": 0.2}
    assert made["by"] == "group" and made["group_column"] == "spk" and made["ungrouped_samples"] == 1
    assert made["sizes"] == {k: len(v) for k, v in first.splits.items()}
    assert first.summary()["split_made"] == made and "split_made" not in make_synthetic(n=40).summary()
    other = read_dataset_file(yaml_path, seed=5, fractions=[0.5, 0.25, 0.25])
    assert other.info["split_made"]["seed"] == 5
    assert other.info["split_made"]["fractions"] == {"train": 0.5, "dev": 0.25, "test": 0.25}
    assert other.splits != first.splits
    assert crossing_groups(other.splits, {s.id: s.group for s in other}) == set()
    with pytest.raises(DataError, match=r"unknown option 'sed' for a dataset file \(did you mean 'seed'\?\)"):
        read_dataset_file(yaml_path, sed=1)
    with pytest.raises(DataError, match=r"fraction of 'dev' must be a positive number"):
        read_dataset_file(yaml_path, fractions={"train": 1, "dev": 0})


def test_split_by_sample_without_group_and_options_refused_with_split_column(tmp_path: Path) -> None:
    rows = [{"id": str(i), "text": f"t{i}", "label": "ab"[i % 2]} for i in range(20)]
    write_jsonl(tmp_path / "s.jsonl", rows)
    ds = read_dataset_file(write_yaml(tmp_path, "path: s.jsonl\nid: id\nlabel: label\nmodalities: {t: text}\n"))
    made = ds.info["split_made"]
    assert made["by"] == "sample" and made["group_column"] is None and made["sizes"] == {"train": 14, "dev": 2,
                                                                                          "test": 4}
    write_jsonl(tmp_path / "rows.jsonl", ROWS)
    with pytest.raises(DataError, match=r"options \['seed'\] only apply when the dataset file has no 'split'"):
        read_dataset_file(write_yaml(tmp_path, BASIC.format(table="rows.jsonl")), seed=1)


def test_seeded_split_function() -> None:
    ids = [f"s{i}" for i in range(10)]
    splits, record = seeded_split(ids, None, None, {"train": 0.6, "dev": 0.2, "test": 0.2}, seed=3)
    assert {k: len(v) for k, v in splits.items()} == {"train": 6, "dev": 2, "test": 2}
    assert record == {"seed": 3, "fractions": {"train": 0.6, "dev": 0.2, "test": 0.2}, "by": "sample",
                      "stratified": False, "sizes": {"train": 6, "dev": 2, "test": 2},
                      "groups": {"train": 6, "dev": 2, "test": 2}, "ungrouped_samples": 0}
    with pytest.raises(DataError, match="2 groups cannot fill 3 splits"):
        seeded_split(ids, ["a"] * 5 + ["b"] * 5, None, seed=0)


def test_too_few_groups_suggests_fewer_splits(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "t.jsonl", [{"id": i, "t": "x", "l": "a", "g": i % 2} for i in range(4)])
    yaml_path = write_yaml(tmp_path, "path: t.jsonl\nid: id\nlabel: l\nmodalities: {t: t}\ngroup: g\n")
    with pytest.raises(DataError, match=r"field 'g': cannot make a split: 2 groups cannot fill 3 splits .* add a "
                                        r"split column or fewer splits"):
        read_dataset_file(yaml_path)
    ds = read_dataset_file(yaml_path, fractions={"train": 0.5, "test": 0.5})
    assert sorted(ds.splits) == ["test", "train"] and ds.info["split_made"]["groups"] == {"train": 1, "test": 1}


def test_resolve_dataset_accepts_a_file(tmp_path: Path) -> None:
    yaml_path = _grouped(tmp_path)
    ds = resolve_dataset(str(yaml_path), seed=2)
    assert ds.info["split_made"]["seed"] == 2 and ds.source == str(yaml_path)
    assert resolve_dataset(yaml_path).fingerprint() == ds.fingerprint()


# -- the documented worked example --------------------------------------------------------------
def test_docs_example_snippet_runs_and_the_file_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = (ROOT / "docs" / "datasets.md").read_text(encoding="utf-8")
    snippet = next(b for b in re.findall(r"```python\n(.*?)```", doc, re.S) if 'read_csv("turns.csv")' in b)
    assert len(snippet.strip().splitlines()) <= 11
    shutil.copy(EXAMPLE / "turns.csv", tmp_path / "turns.csv")
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet, "docs/datasets.md", "exec"), {})
    made = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    committed = [json.loads(line) for line in (EXAMPLE / "samples.jsonl").read_text().splitlines()]
    assert made == committed and len(made) == 22
    yaml_in_doc = next(b for b in re.findall(r"```yaml\n(.*?)```", doc, re.S) if "office dialogues" in b)
    assert yaml_in_doc.strip() in (EXAMPLE / "dialogues.yaml").read_text()
    ds = read_dataset_file(EXAMPLE / "dialogues.yaml")
    assert (ds.name, len(ds), ds.labels, ds.dimension) == ("office-sarcasm", 22, ("not_sarcastic", "sarcastic"),
                                                           "sarcasm")
    assert ds.kinds == {"utterance": "text", "context": "text"}
    assert ds.text(ds["d1_3"], "context") == ("ANNA: The printer is jammed again.\n"
                                              "BEN: Oh great, my favourite way to start a Monday.")
    assert ds["d1_1"].inputs["context"] == ["[start of dialogue]"] and ds["d6_4"].label == "sarcastic"
    assert len({s.group for s in ds}) == 6
    assert crossing_groups(ds.splits, {s.id: s.group for s in ds}) == set()
    assert ds.info["split_made"]["group_column"] == "dialogue"


# -- registered datasets declare their kinds ----------------------------------------------------
def test_registered_cards_declare_kinds(tmp_path: Path) -> None:
    for name, card in REGISTRY.items():
        assert set(card.kinds) == {*card.modalities, *card.optional_modalities}, name
    assert REGISTRY["mmsd2"].kinds == {"text": "text", "image_attributes": "text"}
    rows = {r["name"]: r for r in list_datasets(tmp_path, sizes=False)}
    assert rows["mustard"]["kinds"] == {"utterance": "text", "context": "text"}
    with pytest.raises(ValueError, match=r"declares no kind for \['context'\]"):
        DatasetCard(load_mustard, "sarcasm", ("utterance", "context"), ("a", "b"), (), kinds={"utterance": "text"})
    assert make_synthetic(n=40).kinds == {"text": "text", "image": "image"}


def test_registered_loader_kinds(shared_data: Path) -> None:
    assert resolve_dataset("mustard", shared_data).kinds == {"utterance": "text", "context": "text"}


# -- CLI ----------------------------------------------------------------------------------------
def test_cli_data_show_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["data", "show", str(EXAMPLE / "dialogues.yaml"), "-d", "seed=1", "--n", "2",
                                 "--out", str(out)], env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    assert "office-sarcasm (sarcasm): 22 samples, 6 groups, modalities utterance (text), context (text)" \
        in result.output
    assert "split made (no split column): seed 1, train 0.7 / dev 0.1 / test 0.2 by group column 'dialogue'" \
        in result.output
    assert "[start of dialogue]" in result.output  # sample values are not read as rich markup
    results = json.loads((out / "results.json").read_text())
    assert results["info"]["split_made"]["seed"] == 1 and results["kinds"]["context"] == "text"


def test_cli_broken_file_exits_2_with_one_line(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "rows.jsonl", ROWS)
    yaml_path = write_yaml(tmp_path, BASIC.format(table="rows.jsonl") + "lables: [a]\n")
    result = runner.invoke(app, ["data", "show", str(yaml_path)], env={"COLUMNS": "1000"})
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: file {yaml_path}: unknown key 'lables' (did you mean")
    result = runner.invoke(app, ["data", "show", str(tmp_path / "missing.yaml")], env={"COLUMNS": "1000"})
    assert result.exit_code == 2 and "dataset file not found" in result.output and "Traceback" not in result.output


def test_cli_data_list_prints_kinds(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "list", "--data-root", str(tmp_path), "--no-sizes"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "utterance (text), context (text)" in result.output
    assert "text (text), image_attributes (text)" in result.output
    assert "text (text) (+context (text))" in result.output



# -- a table given directly: read by convention ---------------------------------------------------
CONVENTIONAL = [{"id": r["uid"], "text": r["text"], "label": r["y"], "split": r["part"], "group": r["who"]}
                for r in ROWS]


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_table_given_directly_equals_its_dataset_file(tmp_path: Path, suffix: str) -> None:
    table = write_table(tmp_path / f"rows.{suffix}", CONVENTIONAL)
    direct = resolve_dataset(str(table))
    described = read_dataset_file(write_yaml(tmp_path, f"name: rows\npath: {table.name}\nid: id\nlabel: label\n"
                                                       "modalities: {text: text}\nsplit: split\ngroup: group\n"))
    assert direct.fingerprint() == described.fingerprint()
    assert (direct.name, direct.modalities, direct.kinds) == ("rows", ("text",), {"text": "text"})
    assert direct.splits == {"train": ["a1", "a2"], "dev": ["a3", "a4"], "test": ["a5"]}
    assert direct["a3"].group == "s1"
    assert direct.info["read_by_convention"] == {"id": "id", "label": "label", "split": "split", "group": "group"}


def test_table_given_directly_without_split_gets_the_seeded_split(tmp_path: Path) -> None:
    rows = [{"id": f"r{i}", "label": "ab"[i % 2], "utterance": f"u{i}", "context": f"c{i}"} for i in range(40)]
    ds = resolve_dataset(str(write_jsonl(tmp_path / "plain.jsonl", rows)), seed=3)
    assert ds.modalities == ("utterance", "context")
    assert sorted(ds.splits) == ["dev", "test", "train"] and sum(map(len, ds.splits.values())) == 40
    assert ds.info["split_made"]["seed"] == 3


def test_table_given_directly_needs_id_and_label(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "bad.jsonl", ROWS)
    with pytest.raises(DataError) as err:
        resolve_dataset(str(tmp_path / "bad.jsonl"))
    assert str(err.value) == (
        f"file {tmp_path / 'bad.jsonl'}, record line 1: a table given directly needs columns 'id' and 'label' "
        "(missing: id, label; it has 'uid', 'text', 'y', 'part', 'who'); to name other columns, describe it in "
        "a YAML dataset file (docs/datasets.md)")
    only = write_jsonl(tmp_path / "only.jsonl", [{"id": "a", "label": "x", "split": "train"}])
    with pytest.raises(DataError, match="at least one column besides id, label, split and group"):
        resolve_dataset(str(only))
    result = runner.invoke(app, ["data", "show", str(tmp_path / "bad.jsonl")])
    assert result.exit_code == 2
    assert "needs columns 'id' and 'label' (missing: id, label" in result.output
