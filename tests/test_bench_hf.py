"""``interlens bench run --scorer hf-lm`` on a tiny local Qwen2 (tests/hf_tiny.py): zero-shot, SFT and
instruction tuning (each task trained and scored with its own dimension and labels)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hf_tiny import save_tiny, single_thread, tiny_qwen2
from test_bench_runner import one_line, task_file
from typer.testing import CliRunner

from interlens.bench import Runner, task_from_file
from interlens.cli.bench import app

TRAIN = {"epochs": 1, "batch_size": 4, "eval_batch_size": 8}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    model, tok = tiny_qwen2(init_range=0.2)
    return str(save_tiny(model, tok, tmp_path_factory.mktemp("tiny-qwen2")))


@pytest.fixture()
def two_tasks(tmp_path):
    return [task_file(tmp_path, "alpha", ("praise", "complain"), n=4, dimension="intent"),
            task_file(tmp_path, "beta", ("joy", "anger", "neutral"), n=3, dimension="emotion")]


def _run(args, out):
    with single_thread():
        return CliRunner().invoke(app, ["run", *args, "--scorer", "hf-lm", "--seeds", "1", "--n-boot", "0",
                                        "--out", str(out)])


def test_zero_shot_cli(tmp_path, model_dir, two_tasks):
    out = tmp_path / "zs"
    result = _run(["--tasks", f"{two_tasks[0]},{two_tasks[1]}", "--method", "zero-shot", "-s",
                   f"model_path={model_dir}", "--limit", "3"], out)
    assert result.exit_code == 0, result.output
    written = json.loads((out / "results.json").read_text())
    assert written["method"] == "zero-shot" and [t["task"] for t in written["tasks"]] == ["alpha", "beta"]
    assert [t["per_seed"]["0"]["n"] for t in written["tasks"]] == [3, 3]
    assert "view utterance" in one_line(result.output)


def test_sft_cli_trains_and_refuses_without_train_split(tmp_path, model_dir, two_tasks):
    out = tmp_path / "sft"
    result = _run(["--tasks", str(two_tasks[0]), "--method", "sft", "-s", f"model_path={model_dir}",
                   "-s", f"train={json.dumps(TRAIN)}", "--limit", "4"], out)
    assert result.exit_code == 0, result.output
    written = json.loads((out / "results.json").read_text())
    zero = Runner([task_from_file(two_tasks[0])], "hf-lm", "zero-shot", [0], tmp_path / "z",
                  scorer_params={"model_path": model_dir})
    # the trained adapter is a different model from the zero-shot base
    assert written["scorer_fingerprints"]["alpha/seed0"] != zero._make(0).fingerprint
    no_train = task_file(tmp_path / "nt", "gamma", ("praise", "complain"), splits=("test",))
    result = _run(["--tasks", str(no_train), "--method", "sft", "-s", f"model_path={model_dir}"], tmp_path / "x")
    assert result.exit_code == 2
    assert "task 'gamma' has no training split; method sft needs one" in one_line(result.output)


def test_it_one_adapter_each_task_with_its_own_prompt(tmp_path, model_dir, two_tasks):
    tasks = [task_from_file(p) for p in two_tasks]
    runner = Runner(tasks, "hf-lm", "it", [0], tmp_path, limit=4, n_boot=0,
                    scorer_params={"model_path": model_dir, "train": TRAIN})
    with single_thread():
        results = runner.run()
    model = runner.it_models[0]
    (result,) = model.train_results_.values()
    assert result.n_train == 4 + 3  # alpha's 4 (limit) + beta's 3 training samples, one adapter
    assert len(result.evals[-1]["tasks"]) == 2  # selection scored each task on its own labels
    assert results.scorer_fingerprints["alpha/seed0"] == results.scorer_fingerprints["beta/seed0"]
    assert [t.per_seed["0"]["n"] for t in results.tasks] == [4, 3]
    # each task's prompt names its own dimension and only its own labels
    for task in tasks:
        data = runner.split(task, "fit")
        text = model.builder_.render(data, data.samples[0], "utterance").to_text()
        others = [label for t in tasks if t is not task for label in t.labels]
        assert f"what is the {task.dimension} of this speaker" in text
        assert all(label in text for label in task.labels) and not any(label in text for label in others)


def test_view_is_the_scorers_default_over_the_tasks_modalities(tmp_path, model_dir):
    task = task_from_file(task_file(tmp_path, "alpha", ("praise", "complain"), n=2, context=True))
    utterance_only = dataclasses.replace(task, prompt_modalities=("utterance",))
    hf = Runner([task], "hf-lm", "zero-shot", [0], tmp_path, scorer_params={"model_path": model_dir})
    assert hf.view(hf._make(0), task) == "utterance+context"  # a list of turns is text
    hf = Runner([utterance_only], "hf-lm", "zero-shot", [0], tmp_path, scorer_params={"model_path": model_dir})
    assert hf.view(hf._make(0), utterance_only) == "utterance"
    clf = Runner([utterance_only], "embedding", "sft", [0], tmp_path)
    assert clf.view(clf._make(0), utterance_only) == "utterance+context"  # prompt_modalities: prompts only
    assert hf.config(utterance_only, 0) != hf.config(task, 0)


def test_runner_gives_prompt_scorers_the_tasks_verbalizer(tmp_path, model_dir):
    """A task's verbaliser reaches the hf-lm scorer the runner builds (issue 28): MUStARD's label words
    (``not_sarcastic`` -> ``sincere``) are the candidate words of the rendered prompt, the scores are those of
    a scorer given the words, and results.json records them."""
    import numpy as np

    from interlens.bench import get_task
    from interlens.errors import DataError
    from interlens.scoring.hf import HFLMScorer

    words = get_task("mustard").verbalizer
    assert words == {"not_sarcastic": "sincere", "sarcastic": "sarcastic"}
    plain = task_from_file(task_file(tmp_path / "data", "sarcasm", ("not_sarcastic", "sarcastic"), n=3,
                                     dimension="speaking_style"))
    task = dataclasses.replace(plain, verbalizer=words)
    runner = Runner([task], "hf-lm", "zero-shot", [0], tmp_path / "run", n_boot=0,
                    scorer_params={"model_path": model_dir})
    assert runner.prompt_params([task]) == {"template": "mmla@1", "verbalizer": words}
    model = runner._make(0, [task])
    test = runner.split(task, "eval")
    rendered = model.load().builder_.render(test, test.samples[0], "utterance")
    assert rendered.verbalized == ("sincere", "sarcastic") and rendered.label_texts == (" sincere", " sarcastic")
    assert "The candidate labels for speaking_style are: [sincere, sarcastic]." in rendered.messages[0].text
    with single_thread():
        runner.run()
        expected = HFLMScorer(model_path=model_dir, verbalizer=words).predict_proba(test, "utterance").probs
        raw = HFLMScorer(model_path=model_dir).predict_proba(test, "utterance").probs
    rows = [json.loads(line) for line in runner.samples_path(task, 0).read_text().splitlines()]
    np.testing.assert_array_equal(np.array([[r["probs"][k] for k in task.labels] for r in rows]), expected)
    assert not np.array_equal(expected, raw)  # the words change the scores
    assert runner.settings()["prompt_params"] == {"sarcasm": {"template": "mmla@1", "verbalizer": words}}
    # the words are part of the unit's configuration (a run without them does not resume it) ...
    assert runner.config(task, 0) != Runner([plain], "hf-lm", "zero-shot", [0], tmp_path / "p",
                                            scorer_params={"model_path": model_dir}).config(plain, 0)
    # ... the run's own verbalizer= wins, and scorers without one (classifiers) get none
    own = Runner([task], "hf-lm", "zero-shot", [0], tmp_path / "o",
                 scorer_params={"model_path": model_dir, "verbalizer": ["no", "yes"]})
    assert own.prompt_params([task]) == {"template": "mmla@1"} and own._make(0, [task]).verbalizer == ["no", "yes"]
    assert Runner([task], "embedding", "sft", [0], tmp_path / "e").prompt_params([task]) == {}
    # one instruction-tuned model, one verbalizer: every task's words, and a clash is refused
    other = dataclasses.replace(plain, name="sarcasm2", verbalizer={"not_sarcastic": "serious", "sarcastic": "ironic"})
    with pytest.raises(DataError, match="label 'not_sarcastic' is worded 'sincere' and 'serious'"):
        Runner([task, other], "hf-lm", "it", [0], tmp_path / "it", scorer_params={"model_path": model_dir})
