"""MINT group tuning through the Scorer contract: one adapter per group vs all tasks vs one per task vs INSTA
instruction groups (hf-lm fast path), the merged-label path for other trainable scorers, capability refusal."""

from __future__ import annotations

import numpy as np
import pytest
from hf_tiny import single_thread, tiny_qwen2, toy_dataset

from interlens.errors import DataError
from interlens.mint.group_tuning import (
    check_grouping,
    insta_grouping,
    merge_tasks,
    predicted_labels,
    run_group_tuning,
    task_instruction,
)
from interlens.scoring.base import CapabilityError
from interlens.scoring.hf import HFLMScorer, TrainConfig
from interlens.scoring.hf.adapters import saved_adapter_names
from interlens.scoring.registry import make_scorer


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with single_thread():
        yield


def _task(name: str, labels: tuple[str, ...], dimension: str, seed: int):
    data = toy_dataset(12, labels, dimension=dimension, name=name, seed=seed)
    return data.split("train"), data.split("dev"), data.split("test")


@pytest.fixture(scope="module")
def tasks():
    return {"sarcasm": _task("sarcasm", ("sarcastic", "sincere"), "speaking_style", 0),
            "humour": _task("humour", ("humorous", "serious"), "speaking_style", 1),
            "intent": _task("intent", ("complain", "praise", "ask for help"), "intent", 2)}


def test_grouping_must_partition_the_tasks():
    names = ["a", "b", "c"]
    assert check_grouping({"R": ["a", "b"], "U": ["c"]}, names) == {"R": ["a", "b"], "U": ["c"]}
    with pytest.raises(DataError, match="in no group"):
        check_grouping({"R": ["a"]}, names)
    with pytest.raises(DataError, match="in groups 'R' and 'S'"):
        check_grouping({"R": ["a", "b"], "S": ["b", "c"]}, names)
    with pytest.raises(DataError, match="unknown task 'd'"):
        check_grouping({"R": ["a", "b", "c", "d"]}, names)


def test_insta_clusters_by_instruction_similarity():
    vectors = {"x1": [1.0, 0.0, 0.1], "x2": [0.9, 0.1, 0.0], "y1": [0.0, 1.0, 0.0], "y2": [0.1, 0.9, 0.2]}
    groups = insta_grouping({k: k for k in vectors}, 2, embed=lambda texts: np.array([vectors[t] for t in texts]))
    assert groups == {"insta-1": ["x1", "x2"], "insta-2": ["y1", "y2"]}
    assert insta_grouping({"x1": "x1"}, 3) == {"insta-1": ["x1"]}


def test_task_instruction_has_no_sample_content(tasks):
    text = task_instruction(tasks["intent"][0], "text")
    assert "<text>" in text and "[complain, praise, ask for help]" in text and "what is the intent" in text


def test_run_group_tuning_compares_strategies(tasks, tmp_path):
    model, tok = tiny_qwen2(seed=7, init_range=0.3)
    scorer = HFLMScorer(model=model, tokenizer=tok, train=TrainConfig(epochs=1, lr=1e-2, batch_size=4))
    result = run_group_tuning(tasks, {"R": ["sarcasm", "humour"], "S": ["intent"]}, scorer=scorer,
                              adapters_dir=tmp_path / "ad")
    table = result.table
    assert result.eval_split == "test"
    assert set(table["strategy"]) == {"zero-shot", "interaction", "all", "single", "insta"}
    assert len(table) == 5 * 3 and set(table.groupby("strategy").size()) == {3}
    assert table[["acc", "macro_f1"]].apply(lambda c: c.between(0, 1)).all().all()
    assert set(table.loc[table.strategy == "interaction", "adapter"]) == {"interaction-R", "interaction-S"}
    assert result.groupings["all"] == {"all": ["sarcasm", "humour", "intent"]}
    assert result.groupings["single"] == {n: [n] for n in tasks}
    insta = result.groupings["insta"]  # real MiniLM embeddings of the MMLA instructions, cut into 2 groups
    assert len(insta) == 2 and sorted(t for g in insta.values() for t in g) == sorted(tasks)
    assert any(set(g) == {"sarcasm", "humour"} for g in insta.values())  # same dimension, similar wording
    wide = result.wide("acc")
    assert list(wide.index) == ["humour", "intent", "sarcasm", "mean"] and wide.shape[1] == 5
    n_adapters = 2 + 1 + 3 + 2
    assert len(result.train_results) == n_adapters and all(r.best_step for r in result.train_results.values())
    assert len(saved_adapter_names(tmp_path / "ad")) == n_adapters
    assert result.to_dict()["rows"][0]["strategy"] == "zero-shot"


def test_only_some_strategies_and_val_evaluation(tasks):
    model, tok = tiny_qwen2(seed=8)
    two = {name: data[:2] for name, data in tasks.items()}
    scorer = HFLMScorer(model=model, tokenizer=tok, train={"epochs": 1, "lr": 1e-2, "batch_size": 6})
    result = run_group_tuning(two, {"R": ["sarcasm", "humour", "intent"]}, scorer=scorer,
                              strategies=["interaction"], zero_shot=False)
    assert result.eval_split == "val" and list(result.groupings) == ["interaction"]
    assert len(result.table) == 3 and set(result.table["adapter"]) == {"interaction-R"}
    with pytest.raises(DataError, match="unknown strategy"):
        run_group_tuning(two, {"R": list(two)}, scorer=scorer, strategies=["random"])
    assert list(result.train_results) == ["interaction-R"]


def test_zero_shot_rows_equal_the_unfitted_scorer(tasks):
    model, tok = tiny_qwen2(seed=9)
    scorer = HFLMScorer(model=model, tokenizer=tok, train={"max_steps": 1, "batch_size": 4})
    one = {"intent": tasks["intent"]}
    result = run_group_tuning(one, {"S": ["intent"]}, scorer=scorer, strategies=["single"])
    zero = result.table[result.table.strategy == "zero-shot"].iloc[0]
    test = tasks["intent"][2]
    expected = (scorer.logits(test, "text").argmax(axis=1) == test.y).mean()
    assert zero["acc"] == pytest.approx(expected) and zero["n"] == len(test)


def test_merged_label_path_for_scorers_without_fit_tasks(tasks):
    merged = merge_tasks({"sarcasm": tasks["sarcasm"][0], "intent": tasks["intent"][0]}, "text")
    assert merged.labels == ("sarcasm::sarcastic", "sarcasm::sincere", "intent::complain", "intent::praise",
                             "intent::ask for help")
    assert merged.ids[0] == "sarcasm::" + tasks["sarcasm"][0].ids[0] and len(merged) == 8
    assert merged.samples[0].label == "sarcasm::" + tasks["sarcasm"][0].samples[0].label
    np.testing.assert_array_equal(predicted_labels(np.array([[0.0, 2.0], [np.nan, np.nan], [1.0, np.nan]])),
                                  [1, 2, 0])  # an all-NaN row (parse failure) counts as an error
    scorer = make_scorer("embedding", epochs=5, hidden=8)
    pair = {"sarcasm": tasks["sarcasm"], "intent": tasks["intent"]}
    result = run_group_tuning(pair, {"G": ["sarcasm", "intent"]}, scorer=scorer, strategies=["interaction"])
    assert "zero-shot" not in set(result.table.strategy)  # embedding has no ZERO_SHOT capability
    assert list(result.table.task) == ["sarcasm", "intent"] and result.table["acc"].between(0, 1).all()
    with pytest.raises(CapabilityError, match="lacks capability 'zero_shot'.*hf-lm"):
        run_group_tuning(pair, {"G": list(pair)}, scorer=scorer, zero_shot=True)
    with pytest.raises(CapabilityError, match="scorer 'precomputed' lacks capability 'trainable'"):
        run_group_tuning(pair, {"G": list(pair)}, scorer=make_scorer("precomputed"))


def test_fast_paths_are_declared_capabilities_not_probed(tasks, tmp_path):
    """``fit_tasks`` / ``save_adapters`` are read from MULTI_TASK / ADAPTERS (issue 29): every registered scorer
    that has the method declares the capability and the other way round; a scorer without ADAPTERS is refused
    at once when adapters are to be saved (no silent skip)."""
    from interlens.scoring.base import Capability
    from interlens.scoring.registry import registered_scorers

    for name, cls in registered_scorers().items():
        assert (Capability.MULTI_TASK in cls.capabilities) == callable(getattr(cls, "fit_tasks", None)), name
        assert (Capability.ADAPTERS in cls.capabilities) == callable(getattr(cls, "save_adapters", None)), name
    assert Capability.MULTI_TASK in registered_scorers()["hf-lm"].capabilities
    assert Capability.ADAPTERS in registered_scorers()["hf-vlm"].capabilities
    pair = {"sarcasm": tasks["sarcasm"], "intent": tasks["intent"]}
    with pytest.raises(CapabilityError, match="scorer 'embedding' lacks capability 'adapters'"):
        run_group_tuning(pair, {"G": list(pair)}, scorer=make_scorer("embedding"), adapters_dir=tmp_path)
    assert not any(tmp_path.iterdir())
