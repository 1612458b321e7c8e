"""Generic table readers: round trips and every bad-input message."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from interlens.data import read_table
from interlens.errors import DataError

ROWS = [
    {"uid": "a1", "utt": "hello there", "ctx": "A: hi", "y": "yes", "spk": "A", "part": "train"},
    {"uid": "a2", "utt": "oh great", "ctx": "B: it broke", "y": "no", "spk": "B", "part": "train"},
    {"uid": "a3", "utt": "sure, \"fine\"", "ctx": "A: ok?", "y": "yes", "spk": "C", "part": "test"},
]
MAPPING = {"id": "uid", "label": "y", "modalities": {"text": "utt", "context": "ctx"}, "group": "spk",
           "split": "part"}


def write(path: Path, rows: list[dict]) -> Path:
    suffix = path.suffix
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif suffix == ".parquet":
        pd.DataFrame(rows).to_parquet(path)
    else:
        pd.DataFrame(rows).to_csv(path, sep="\t" if suffix == ".tsv" else ",", index=False)
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".tsv", ".parquet"])
def test_round_trip(tmp_path: Path, suffix: str) -> None:
    ds = read_table(write(tmp_path / f"d{suffix}", ROWS), **MAPPING)
    assert ds.name == "d"
    assert ds.ids == ["a1", "a2", "a3"]
    assert ds.labels == ("no", "yes")  # sorted unique
    assert ds.modalities == ("text", "context")
    assert ds["a3"].inputs == {"text": 'sure, "fine"', "context": "A: ok?"}
    assert ds["a2"].group == "B" and ds["a2"].label == "no"
    assert ds.splits == {"train": ["a1", "a2"], "test": ["a3"]}
    assert ds.label_counts() == {"no": 1, "yes": 2}
    assert ds.source == str(tmp_path / f"d{suffix}")


def test_json_list_and_explicit_label_order(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps([{"i": 1, "t": "x", "l": 1}, {"i": 2, "t": "y", "l": 0}]))
    ds = read_table(path, id="i", label="l", modalities={"text": "t"}, labels=[1, 0], name="mine")
    assert ds.name == "mine" and ds.labels == ("1", "0") and ds.ids == ["1", "2"]
    assert ds.y.tolist() == [0, 1]
    assert ds.splits == {}


def test_64bit_ids_stay_exact(tmp_path: Path) -> None:
    big = 840006160660983809  # an MMSD2.0 tweet id; float64 would make it ...983808
    assert str(int(float(big))) != str(big)
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text(json.dumps({"image_id": big, "text": "x", "label": 1}) + "\n")
    csv_path = write(tmp_path / "t.csv", [{"image_id": big, "text": "x", "label": 1}])
    pq_path = write(tmp_path / "t.parquet", [{"image_id": big, "text": "x", "label": 1}])
    for path in (jsonl, csv_path, pq_path):
        ds = read_table(path, id="image_id", label="label", modalities={"text": "text"})
        assert ds.ids == ["840006160660983809"], path


def test_float_id_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text('{"i": 8.400061606609838e17, "t": "x"}\n')
    with pytest.raises(DataError, match=r"line 1.*'i'.*float"):
        read_table(path, id="i", modalities={"text": "t"})


def test_malformed_json_line_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"uid": "a", "utt": "x"}\n\n{"uid": "b", "utt": "y"\n')
    with pytest.raises(DataError) as err:
        read_table(path, id="uid", modalities={"text": "utt"})
    assert str(err.value).startswith(f"file {path}, record line 3: malformed JSON")


def test_malformed_csv_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text('uid,utt,y\na,"hello",yes\nb,two,no,extra\n')
    with pytest.raises(DataError, match=r"bad\.csv, record line 3: malformed CSV: expected 3 fields .* 4"):
        read_table(path, id="uid", label="y", modalities={"text": "utt"})
    path.write_text('uid,utt\na,"unclosed\n')
    with pytest.raises(DataError, match=r"record line 2: malformed CSV"):
        read_table(path, id="uid", modalities={"text": "utt"})


def test_multiline_csv_field_keeps_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text('uid,utt\na,"two\nlines"\nb,\n')
    with pytest.raises(DataError) as err:
        read_table(path, id="uid", modalities={"text": "utt"})
    assert err.value.record == "line 4" and err.value.field == "utt"
    assert "missing value for modality 'text'" in str(err.value)


def test_missing_column_lists_available(tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", ROWS)
    with pytest.raises(DataError) as err:
        read_table(path, id="uid", modalities={"text": "utterance"})
    message = str(err.value)
    assert "missing column 'utterance'" in message and "did you mean 'utt'" in message
    assert "['uid', 'utt', 'ctx', 'y', 'spk', 'part']" in message
    assert err.value.record == "line 1 (header)" and err.value.field == "utterance"
    rows = [ROWS[0], {k: v for k, v in ROWS[1].items() if k != "ctx"}]
    with pytest.raises(DataError) as err:
        read_table(write(tmp_path / "d.jsonl", rows), **MAPPING)
    assert err.value.record == "line 2" and "missing column 'ctx'" in str(err.value)


def test_missing_modality_value(tmp_path: Path) -> None:
    rows = [dict(ROWS[0]), dict(ROWS[1], ctx="  ")]
    with pytest.raises(DataError) as err:
        read_table(write(tmp_path / "d.jsonl", rows), **MAPPING)
    assert err.value.record == "line 2" and err.value.field == "ctx"
    assert "missing value for modality 'context'" in str(err.value)


def test_unknown_label(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        read_table(write(tmp_path / "d.tsv", ROWS), **MAPPING, labels=["no", "yess"])
    assert err.value.record == "line 2" and err.value.field == "y"
    assert "unknown label 'yes' (did you mean 'yess'?); expected one of ['no', 'yess']" in str(err.value)


def test_duplicate_ids(tmp_path: Path) -> None:
    rows = [ROWS[0], ROWS[1], dict(ROWS[2], uid="a1")]
    with pytest.raises(DataError) as err:
        read_table(write(tmp_path / "d.csv", rows), **MAPPING)
    assert err.value.record == "line 4" and err.value.field == "uid"
    assert "duplicate id 'a1' (first at line 2)" in str(err.value)


def test_empty_split(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"split 'dev' is empty"):
        read_table(write(tmp_path / "d.csv", ROWS), **MAPPING, splits=["train", "dev", "test"])
    with pytest.raises(DataError, match=r"record line 4, field 'part': unknown split 'test'"):
        read_table(write(tmp_path / "d.csv", ROWS), **MAPPING, splits=["train", "dev"])
    rows = [ROWS[0], dict(ROWS[1], part="")]
    with pytest.raises(DataError, match=r"record line 3, field 'part': missing value"):
        read_table(write(tmp_path / "e.csv", rows), **MAPPING)


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"unsupported file type '\.xlsx'"):
        read_table(tmp_path / "d.xlsx", id="i", modalities={"text": "t"})
    with pytest.raises(DataError, match="file not found"):
        read_table(tmp_path / "nope.csv", id="i", modalities={"text": "t"})


def test_not_utf8_names_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("uid,utt\na,ok\nb,caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"record line 3: not valid UTF-8"):
        read_table(path, id="uid", modalities={"text": "utt"})
