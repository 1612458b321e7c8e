"""Bench runner: SFT / IT / zero-shot over tiny synthetic tasks; resume after an interruption."""

from __future__ import annotations

import json

import numpy as np
import pytest

from interlens.bench.registry import TaskSpec
from interlens.bench.runner import Runner, run_benchmark
from interlens.bench.scorers import register_scorer
from interlens.data.schema import Dataset, Sample
from interlens.predictions import Predictions

FITS: list[str] = []


class Majority:
    """Predicts the training majority class; records each fit; can be told to fail."""

    name = "majority"
    fail_on: set[str] = set()

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    @property
    def fingerprint(self) -> str:
        return f"maj-{self.seed}-{getattr(self, 'fitted_', None)}"

    def fit(self, dataset: Dataset, view=None):
        if dataset.name.split("/")[0] in self.fail_on:
            raise KeyboardInterrupt("killed")
        FITS.append(dataset.name)
        self.labels_ = dataset.labels
        self.fitted_ = int(np.bincount(dataset.y, minlength=len(dataset.labels)).argmax())
        return self

    def predict_proba(self, dataset: Dataset, view="text") -> Predictions:
        probs = np.full((len(dataset), len(dataset.labels)), 0.0)
        probs[:, self.fitted_ if dataset.labels == self.labels_ else 0] = 1.0
        return Predictions(dataset.ids, dataset.labels, probs, str(view), self.fingerprint)


register_scorer("majority-test", Majority)


def _task(name: str, labels: tuple[str, ...]) -> TaskSpec:
    return TaskSpec(name=name, title=name.upper(), dimension="intent", labels=labels, prompt="mmla@1",
                    adapter="synthetic", options={}, splits={"fit": "train", "val": None, "eval": "test"},
                    evaluation_split="test")


def _data(task: TaskSpec) -> Dataset:
    rng = np.random.default_rng(len(task.name))
    samples = [Sample(f"{task.name}{i}", {"text": f"utterance {i}"}, task.labels[int(rng.integers(0, 2)) if i % 3
                                                                                   else 0])
               for i in range(30)]
    return Dataset(name=task.name, labels=task.labels, samples=samples, modalities=("text",),
                   splits={"train": [s.id for s in samples[:20]], "test": [s.id for s in samples[20:]]})


TASKS = [_task("alpha", ("a", "b", "c")), _task("beta", ("x", "y"))]


def test_sft_is_resumable_after_interruption(tmp_path):
    FITS.clear()
    Majority.fail_on = {"beta"}
    with pytest.raises(KeyboardInterrupt):
        Runner(TASKS, "majority-test", "sft", [0, 1], tmp_path, load=_data, n_boot=10).run()
    assert (tmp_path / "units" / "sft__alpha__seed0.json").exists()
    assert FITS == ["alpha/train"]
    Majority.fail_on = set()
    runner = Runner(TASKS, "majority-test", "sft", [0, 1], tmp_path, load=_data, n_boot=10)
    results = runner.run()
    assert ("alpha", 0) not in runner.computed and len(runner.computed) == 3
    assert FITS.count("alpha/train") == 2  # seed 0 once before the kill, seed 1 once after
    again = Runner(TASKS, "majority-test", "sft", [0, 1], tmp_path, load=_data, n_boot=10)
    again.run()
    assert again.computed == []
    alpha = next(t for t in results.tasks if t.task == "alpha")
    assert alpha.summary["acc"]["n"] == 2 and alpha.summary["acc"]["std"] == 0.0


def test_changed_config_is_recomputed(tmp_path):
    Majority.fail_on = set()
    Runner(TASKS[:1], "majority-test", "sft", [0], tmp_path, load=_data, n_boot=0).run()
    runner = Runner(TASKS[:1], "majority-test", "sft", [0], tmp_path, load=_data, n_boot=0, limit=5)
    runner.run()
    assert runner.computed == [("alpha", 0)]


def test_it_fits_once_per_seed_over_prefixed_union(tmp_path):
    FITS.clear()
    Majority.fail_on = set()
    results = run_benchmark(TASKS, "majority-test", "it", [0], tmp_path, load=_data, n_boot=0)
    assert FITS == ["it-union"]
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["method"] == "it" and {t["task"] for t in written["tasks"]} == {"alpha", "beta"}
    assert all(t.per_seed["0"]["n"] == 10 for t in results.tasks)


def test_zero_shot_needs_a_zero_shot_scorer(tmp_path):
    from interlens.errors import DataError

    with pytest.raises(DataError, match="zero-shot"):
        Runner(TASKS, "majority-test", "zero-shot", [0], tmp_path, load=_data)
