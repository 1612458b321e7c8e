"""Saved models load with the ecosystem's own loaders and reproduce the scores; in-memory tables in;
predictions out as a DataFrame; bench comparisons and radar honest about limits and missing tasks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from hf_tiny import single_thread, tiny_qwen2, toy_dataset

from interlens.data.schema import Dataset
from interlens.errors import DataError
from interlens.predictions import Predictions


def _texts(n: int = 12) -> Dataset:
    words = {"pos": "great lovely fine", "neg": "awful bad sad"}
    rows = [{"id": i, "text": f"{words['pos' if i % 2 else 'neg']} day {i}", "label": "pos" if i % 2 else "neg",
             "split": ("train", "dev", "test")[i % 3]} for i in range(n)]
    return Dataset.from_pandas(pd.DataFrame(rows), id="id", label="label", modalities={"text": "text"},
                               split="split", name="tiny-text")


def test_minilm_ft_reloads_with_automodel_and_reproduces_scores(tmp_path):
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    from interlens.scoring.minilm_ft import MiniLMFineTuneScorer

    data = _texts()
    scorer = MiniLMFineTuneScorer(epochs=1, batch_size=4, max_length=16, threads=1).fit(data.split("train"), "text")
    folders = scorer.save_pretrained(tmp_path / "model")
    folder = folders["text"]
    meta = json.loads((folder / "interlens.json").read_text())
    assert meta["labels"] == ["neg", "pos"] and meta["pooling"] == "mean" and meta["fingerprint"] == scorer.fingerprint
    test = data.split("test")
    expected = scorer.logits(test, "text")
    # the folder is a BertForSequenceClassification (tests/test_hf_format.py); its first layers are the encoder
    encoder = AutoModel.from_pretrained(folder, num_hidden_layers=meta["encoder_layers"]).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    head = load_file(str(folder / "head.safetensors"))
    batch = tokenizer([test.text(s, "text") for s in test], truncation=True, max_length=meta["max_length"],
                      padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        logits = pooled @ head["weight"].T + head["bias"]
    np.testing.assert_allclose(logits.double().numpy(), expected, atol=1e-4)
    assert (expected.argmax(1) == logits.argmax(1).numpy()).all()


def test_hf_adapters_load_with_plain_peft(tmp_path):
    from peft import PeftModel

    from interlens.scoring.hf import HFLMScorer, TrainConfig

    data = toy_dataset(12, ("sarcastic", "sincere"))
    with single_thread():
        model, tok = tiny_qwen2(seed=6, init_range=0.3)
        scorer = HFLMScorer(model=model, tokenizer=tok, train=TrainConfig(epochs=1, lr=1e-2, batch_size=4))
        scorer.fit(data.split("train"), "text")
        folders = scorer.save_pretrained(tmp_path / "adapters")
        assert set(folders) == {"default"}
        assert (tmp_path / "adapters" / "default" / "adapter_model.safetensors").is_file()
        assert json.loads((tmp_path / "adapters" / "interlens.json").read_text())["views"] == {"text": "default"}
        base, _ = tiny_qwen2(seed=6, init_range=0.3)  # the same base weights
        loaded = PeftModel.from_pretrained(base, str(tmp_path / "adapters" / "default")).eval()
        again = HFLMScorer(model=loaded, tokenizer=tok, adapter="default")
        np.testing.assert_allclose(again.logprobs(data.split("test"), "text"),
                                   scorer.logprobs(data.split("test"), "text"), atol=1e-5)


def test_embedding_heads_saved_as_safetensors(tmp_path):
    from safetensors.torch import load_file

    from interlens.scoring.embedding import EmbeddingScorer

    data = Dataset.from_pandas(pd.DataFrame({"id": range(9), "a": [[float(i), 1.0] for i in range(9)],
                                             "b": [[1.0, float(-i)] for i in range(9)],
                                             "y": ["lo", "hi", "lo"] * 3}),
                               id="id", label="y", modalities={"a": "a", "b": {"column": "b", "kind": "features"}},
                               fractions=[0.6, 0.1, 0.3], seed=1)
    scorer = EmbeddingScorer(fusion="concat", epochs=2).fit(data, "a+b")
    files = scorer.save_pretrained(tmp_path)
    meta = json.loads((tmp_path / "interlens.json").read_text())
    assert meta["labels"] == ["hi", "lo"] and meta["dims"] == {"a": 2, "b": 2}
    state = load_file(str(files["a+b"]))
    for name, tensor in scorer.heads_["a+b"].state_dict().items():
        assert torch.equal(state[name], tensor)


def test_from_pandas_uses_the_dataset_file_mapping():
    frame = pd.DataFrame({"uid": [10, 11, 12, 13], "utt": ["a", "b", "c", "d"], "tag": ["x", "y", "x", "y"],
                          "part": ["training", "val", "test", "test"], "extra": [1, 2, 3, 4]})
    data = Dataset.from_pandas(frame, id="uid", label="tag", modalities={"utterance": "utt"}, split="part",
                               name="mine", dimension="intent")
    assert data.ids == ["10", "11", "12", "13"] and data.labels == ("x", "y") and data.kinds == {"utterance": "text"}
    assert data.splits == {"train": ["10"], "dev": ["11"], "test": ["12", "13"]} and data.dimension == "intent"
    assert data["12"].meta["extra"] == 3 and data.source == "mine"
    with pytest.raises(DataError, match=r"file mine, record row 1, field 'utterance': missing column 'utterance' "
                                        r"\(did you mean 'utterance_'\?\)"):
        Dataset.from_pandas(frame.rename(columns={"utt": "utterance_"}), id="uid", label="tag",
                            modalities={"u": "utterance"}, name="mine")
    with pytest.raises(DataError, match=r"record row 2, field 'tag': unknown label 'y'"):
        Dataset.from_pandas(frame, id="uid", label="tag", labels=["x"], modalities={"u": "utt"}, name="mine")
    with pytest.raises(DataError, match="unknown key 'modalites'.*did you mean 'modalities'"):
        Dataset.from_pandas(frame, id="uid", label="tag", modalites={"u": "utt"})
    with pytest.raises(DataError, match="expected a pandas DataFrame, got list"):
        Dataset.from_pandas([1, 2], id="uid", label="tag", modalities={"u": "utt"})


def test_from_hf_takes_a_dataset_dict_and_keeps_in_memory_images():
    from PIL import Image

    class FakeHF(list):  # the two things from_hf uses: iteration over row dicts and column_names
        column_names = ["idx", "sentence", "img", "label"]

    def part(start: int) -> FakeHF:
        return FakeHF({"idx": start + i, "sentence": f"s{start + i}", "img": Image.new("RGB", (4, 4)),
                       "label": "ab"[i % 2]} for i in range(2))

    data = Dataset.from_hf({"train": part(0), "validation": part(2), "test": part(4)}, id="idx", label="label",
                           modalities={"sentence": "sentence", "photo": "img"}, name="hf")
    assert data.splits == {"train": ["0", "1"], "dev": ["2", "3"], "test": ["4", "5"]}
    assert data.kinds == {"sentence": "text", "photo": "image"} and data["5"].inputs["photo"].size == (4, 4)
    single = Dataset.from_hf(part(0), id="idx", label="label", modalities={"sentence": "sentence"}, name="one",
                             fractions={"train": 0.5, "test": 0.5})
    assert sorted(len(v) for v in single.splits.values()) == [1, 1]
    with pytest.raises(DataError, match="expected a Hugging Face"):
        Dataset.from_hf(42, id="idx", label="label", modalities={"s": "sentence"})


def test_predictions_to_pandas():
    pred = Predictions(["a", "b", "c"], ("no", "yes"), np.array([[0.9, 0.1], [0.2, 0.8], [np.nan, np.nan]]),
                       "text", scorer="abc123", dataset="fp")
    frame = pred.to_pandas()
    assert list(frame.columns) == ["id", "p_no", "p_yes", "pred"]
    assert frame["pred"].tolist()[:2] == ["no", "yes"] and frame["pred"].isna().tolist() == [False, False, True]
    assert frame.loc[1, "p_yes"] == 0.8 and np.isnan(frame.loc[2, "p_no"])
    assert frame.attrs == {"view": "text", "scorer": "abc123", "dataset": "fp", "labels": ["no", "yes"]}


def test_limited_bench_run_is_never_comparable_and_radar_shows_missing_tasks(tmp_path):
    from interlens.bench.report import compare_table, load_run, radar, radar_values
    from interlens.bench.results import RunResults, TaskSummary
    from interlens.io import write_json
    from interlens.report.html import bench_tables

    def run(tasks: list[str]) -> RunResults:
        return RunResults("sft", "minilm-ft", {}, {}, [0], [
            TaskSummary(t, t.upper(), dim, "test", True, [0], {}, {"acc": {"mean": 0.7, "std": 0.0, "n": 1}})
            for t, dim in tasks], {})

    full = run([("mintrec", "intent"), ("meld-emotion", "emotion"), ("mosi", "sentiment")])
    data = full.to_dict() | {"provenance": {"limits": {"limit": 200}}}
    write_json(tmp_path / "limited" / "results.json", data)
    limited = load_run(tmp_path / "limited")
    assert "| yes |" not in compare_table(limited) and "no (--limit 200)" in compare_table(limited)
    assert "| yes |" in compare_table(full)
    assert "no (--limit 200)" in bench_tables(data) and "yes" not in bench_tables(data).split("comparable")[1]
    partial = run([("mintrec", "intent"), ("mosi", "sentiment")])
    values = radar_values([full, partial])
    assert values[0] == pytest.approx([70.0, 70.0, 70.0]) and values[1].count(None) == 1
    assert values[1][[t for t in ("mintrec", "meld-emotion", "mosi")].index("meld-emotion")] is None
    assert radar([full, partial], tmp_path).stat().st_size > 1000
