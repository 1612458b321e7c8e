"""The Python API that feels like ``datasets`` / pandas (issue 28 item 4): a short ``repr``, ``select`` /
``filter`` / ``map``, ``to_pandas`` with the gold label on datasets and predictions, and docs/api.md, whose
code blocks run here as written."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from interlens import Dataset, Predictions, Sample
from interlens.errors import DataError

FUNCTIONS = (types.FunctionType, classmethod, staticmethod)
ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "api.md"


def make(n: int = 6, **kw) -> Dataset:
    labels = kw.pop("labels", ("no", "yes"))
    samples = [Sample(f"s{i}", {"text": f"t{i}", "image": f"p{i}.png"}, labels[i % len(labels)]) for i in range(n)]
    args = {"name": "toy", "labels": labels, "samples": samples, "modalities": ("text", "image"),
            "splits": {"train": [f"s{i}" for i in range(n - 2)], "test": [f"s{n - 2}", f"s{n - 1}"]}}
    return Dataset(**(args | kw))


# -- docs/api.md -----------------------------------------------------------------------------------------------
def test_the_api_page_runs_as_written():
    text = DOC.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 5
    namespace: dict = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    shown = re.search(r"```text\n(Dataset\(.*?)\n```", text, re.S).group(1)
    assert printed.getvalue().splitlines()[0] == shown  # the repr the page shows is the real one


def test_the_api_page_names_every_public_member():
    text = DOC.read_text()
    for cls in (Dataset, Predictions):
        public = [n for n, v in vars(cls).items() if not n.startswith("_") and isinstance(v, FUNCTIONS)]
        missing = [n for n in public if f".{n}(" not in text and f"{cls.__name__}.{n}" not in text]
        assert missing == [], f"docs/api.md does not mention {cls.__name__}.{missing}"


# -- repr ------------------------------------------------------------------------------------------------------
def test_repr_is_one_short_line():
    assert repr(make()) == ("Dataset(name='toy', n=6, labels[2]=['no', 'yes'], modalities={text: text, "
                            "image: image}, splits={train: 4, test: 2})")


def test_repr_stays_short_for_any_dataset():
    labels = tuple(f"label-{'x' * 300}-{i}" for i in range(200))
    mods = tuple(f"m{i}" * 50 for i in range(40))
    samples = [Sample(f"{'id' * 100}{i}", {m: "t" * 10_000 for m in mods}, labels[i % 200]) for i in range(400)]
    splits = {f"split-{k}" * 20: [s.id for s in samples[k::50]] for k in range(50)}
    ds = Dataset("n" * 5000, labels, samples, mods, splits=splits)
    text = repr(ds)
    assert len(text) < 1000 and "\n" not in text
    assert "n=400" in text and "labels[200]=" in text and "+188 more" in text


def test_repr_of_a_real_sized_dataset_is_short():
    from interlens.data import resolve_dataset

    ds = resolve_dataset("synthetic", n=1200)
    assert len(repr(ds)) < 200 and len(ds) == 1200


# -- select / filter / map ------------------------------------------------------------------------------------
def test_select_keeps_order_and_split_membership():
    ds = make()
    part = ds.select([5, 0, 1])
    assert part.ids == ["s5", "s0", "s1"]
    assert part.splits == {"train": ["s0", "s1"], "test": ["s5"]}
    assert ds.select(np.array([4])).splits == {"test": ["s4"]}  # an empty split is dropped, not refused
    assert ds[-1].id == "s5" and ds["s2"].id == "s2" and ds[np.int64(1)].id == "s1"


@pytest.mark.parametrize(("call", "message"), [
    (lambda ds: ds.select([6]), "field 'indices': select(): position 6 out of range for 6 samples"),
    (lambda ds: ds.select(["a"]), "field 'indices': select() takes integer positions"),
    (lambda ds: ds.filter("yes"), "field 'function': filter() takes a function of a Sample"),
    (lambda ds: ds.map(lambda s: Sample("other", s.inputs, s.label)),
     "record id 's0', field 'id': map(): the function must return a Sample with the same id"),
    (lambda ds: ds.map(lambda s: setattr(s, "label", "maybe")), "field 'label': unknown label 'maybe'"),
])
def test_helpers_refuse_bad_arguments(call, message):
    with pytest.raises(DataError) as err:
        call(make(source="toy.jsonl"))
    assert message in str(err.value)


def test_filter_and_map():
    ds = make()
    yes = ds.filter(lambda s: s.label == "yes")
    assert yes.ids == ["s1", "s3", "s5"] and yes.splits == {"train": ["s1", "s3"], "test": ["s5"]}
    tagged = ds.map(lambda s: setattr(s, "group", s.label))
    assert [s.group for s in tagged] == ["no", "yes"] * 3 and all(s.group is None for s in ds)
    assert tagged.fingerprint() == ds.fingerprint()  # groups are not content
    relabelled = ds.map(lambda s: Sample(s.id, s.inputs, "no"))
    assert relabelled.label_counts() == {"no": 6, "yes": 0} and ds.label_counts() == {"no": 3, "yes": 3}


# -- to_pandas -------------------------------------------------------------------------------------------------
def test_dataset_to_pandas_has_gold_label_and_split():
    ds = make(4, splits={"train": ["s0", "s1"], "test": ["s2"]})  # s3 is in no split
    frame = ds.to_pandas()
    assert frame.drop(columns="split").to_dict("list") == {
        "id": ["s0", "s1", "s2", "s3"], "text": ["t0", "t1", "t2", "t3"],
        "image": ["p0.png", "p1.png", "p2.png", "p3.png"], "label": ["no", "yes", "no", "yes"], "group": [None] * 4}
    assert frame["split"].tolist()[:3] == ["train", "train", "test"] and pd.isna(frame["split"].iloc[3])
    assert frame.attrs == {"name": "toy", "labels": ["no", "yes"], "kinds": {"text": "text", "image": "image"}}


def test_dataset_to_pandas_refuses_a_modality_named_like_a_fixed_column():
    samples = [Sample("a", {"label": "x"}, "no")]
    with pytest.raises(DataError, match="modality 'label' has the name of a fixed column"):
        Dataset("clash", ("no",), samples, ("label",)).to_pandas()


def test_predictions_to_pandas_joins_gold_by_id():
    ds = make(4)
    probs = np.array([[0.9, 0.1], [np.nan, np.nan], [0.2, 0.8]])
    pred = Predictions(["s3", "s0", "s2"], ("no", "yes"), probs, "text")
    frame = pred.to_pandas(dataset=ds)
    assert frame[["id", "gold"]].to_dict("list") == {"id": ["s3", "s0", "s2"], "gold": ["yes", "no", "no"]}
    assert [None if pd.isna(v) else v for v in frame["pred"]] == ["no", None, "yes"]
    assert [None if pd.isna(v) else v for v in frame["correct"]] == [False, None, False]
    assert frame["correct"].sum() == 0 and frame["correct"].count() == 2
    assert "gold" not in pred.to_pandas().columns  # without a dataset: as before
    with pytest.raises(DataError, match=r"1 predicted ids are not in dataset 'toy' \(view text\), e.g. \['zz'\]"):
        Predictions(["zz"], ("no", "yes"), [[0.5, 0.5]], "text").to_pandas(dataset=ds)
    with pytest.raises(DataError, match="takes an interlens Dataset, got DataFrame"):
        pred.to_pandas(dataset=pd.DataFrame())


# -- the API reference from docstrings (mkdocs + mkdocstrings, --strict) --------------------------------------
def _mkdocs(config: Path, site: Path) -> subprocess.CompletedProcess:
    try:
        import mkdocstrings  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("mkdocs and mkdocstrings are needed (requirements-dev.txt)")
        pytest.skip("mkdocs and mkdocstrings are needed (requirements-dev.txt)")
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(config),
                           "-d", str(site)], capture_output=True, text=True, timeout=600)


def test_api_reference_builds_from_docstrings_with_warnings_as_errors(tmp_path):
    done = _mkdocs(ROOT / "mkdocs.yml", tmp_path / "site")
    assert done.returncode == 0, done.stdout + done.stderr
    page = (tmp_path / "site" / "reference" / "index.html").read_text()
    for text in ("The samples at positions", "joined by sample id", "The samples for which"):
        assert text in page, text
    assert (tmp_path / "site" / "api" / "index.html").exists()


def test_api_reference_build_fails_on_a_warning(tmp_path):
    """The strict build can fail: a reference to an object that does not exist is an error."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "api.md").write_text("# api\n")
    (docs / "reference.md").write_text("# reference\n\n::: interlens.data.schema.NoSuchThing\n")
    config = (ROOT / "mkdocs.yml").read_text().replace("paths: [src]", f"paths: [{ROOT / 'src'}]")
    (tmp_path / "mkdocs.yml").write_text(config)
    done = _mkdocs(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert done.returncode != 0 and "NoSuchThing" in done.stdout + done.stderr
