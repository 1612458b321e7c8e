"""Bench task registry: every task loads, its labels match its data, its prompt is pinned."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from interlens.bench import get_task, parse_tasks, task_names, tasks_by_dimension
from interlens.bench.registry import DIMENSIONS, render_task_prompt
from interlens.data.schema import Sample
from interlens.errors import RegistryError

SNAPSHOT = Path(__file__).parent / "snapshots" / "bench_prompts.json"


def test_twelve_mmla_tasks_over_six_dimensions():
    assert len(task_names()) == 12
    groups = tasks_by_dimension()
    assert set(groups) == set(DIMENSIONS) and all(len(v) == 2 for v in groups.values())
    for name in task_names():
        task = get_task(name)
        assert task.prompt == "mmla@1" and task.splits["eval"]
        if not task.comparable_to_paper:
            assert task.notes or task.evaluation_split != "test" or task.name == "mustard"


def test_did_you_mean_and_parse():
    with pytest.raises(RegistryError, match="mintrec2"):
        get_task("mintrec-2")
    assert [t.name for t in parse_tasks("mintrec, meld-emotion,mintrec")] == ["mintrec", "meld-emotion"]
    assert {t.name for t in parse_tasks("sentiment")} == {"mosi", "chsims2"}


def test_every_task_loads_with_matching_labels(shared_data):
    for name in task_names():
        task = get_task(name)
        data = task.load(shared_data)
        assert tuple(data.labels) == task.labels
        ev = data.split(task.splits["eval"])
        assert len(ev) > 0 and (ev.y >= 0).all()
        used = {s.label for s in data.samples}
        assert used <= set(task.labels)
        if task.splits["fit"]:
            assert not set(data.splits[task.splits["fit"]]) & set(data.splits[task.splits["eval"]])
        prompt = render_task_prompt(task, ev.samples[0])
        assert all((task.verbalizer or {}).get(label, label) in prompt for label in task.labels)


def test_prompt_snapshot():
    """Pins every task's exact prompt (on a placeholder utterance: no corpus text in the repo).
    Regenerate deliberately with INTERLENS_UPDATE_SNAPSHOTS=1 after a reviewed prompt change."""
    sample = Sample("x", {"text": "<UTTERANCE>"})
    prompts = {name: render_task_prompt(get_task(name), sample) for name in task_names()}
    if os.environ.get("INTERLENS_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(prompts, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert prompts == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_mmla_only_tasks_are_marked_dev():
    for name in ("iemocap-emotion", "mosi", "chsims2", "meld-da", "iemocap-da", "urfunny"):
        task = get_task(name)
        assert task.adapter == "mmla" and task.evaluation_split.startswith("dev") and not task.comparable_to_paper
