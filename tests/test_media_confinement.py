"""Media paths in a table resolve against the table's folder (never the current directory) and may not
leave it unless the caller allows it (issue 11, item 6)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from interlens.data import read_table
from interlens.errors import DataError


def _table(folder: Path, image: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "t.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "hi", "img": image, "y": "x"}) + "\n", encoding="utf-8")
    return path


def _png(path: Path, value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((4, 4), value, dtype=np.uint8)).save(path)


def test_relative_image_resolves_against_the_table_not_the_cwd(tmp_path, monkeypatch) -> None:
    data = tmp_path / "data"
    _png(data / "pic.png", 200)
    _png(tmp_path / "cwd" / "pic.png", 7)  # a decoy in the current directory
    monkeypatch.chdir(tmp_path / "cwd")
    ds = read_table(_table(data, "pic.png"), id="id", label="y", modalities={"text": "text", "image": "img"})
    assert ds.samples[0].inputs["image"] == str((data / "pic.png").resolve())
    assert ds.kind("image") == "image"


@pytest.mark.parametrize("value, message", [("../outside.png", "leaves"), ("/etc/passwd.png", "absolute path")])
def test_escaping_paths_are_refused_naming_record_and_field(tmp_path, value, message) -> None:
    _png(tmp_path / "outside.png", 1)
    with pytest.raises(DataError, match=message) as err:
        read_table(_table(tmp_path / "data", value), id="id", label="y", modalities={"text": "text", "image": "img"})
    assert err.value.record == "line 1" and err.value.field == "img"


def test_missing_image_is_one_error(tmp_path) -> None:
    with pytest.raises(DataError, match="image file not found"):
        read_table(_table(tmp_path / "data", "nope.png"), id="id", label="y", modalities={"image": "img"})


def test_allow_outside_is_explicit(tmp_path) -> None:
    _png(tmp_path / "outside.png", 1)
    ds = read_table(_table(tmp_path / "data", "../outside.png"), id="id", label="y", modalities={"image": "img"},
                    allow_outside=True)
    assert Path(ds.samples[0].inputs["image"]).resolve() == (tmp_path / "outside.png").resolve()
