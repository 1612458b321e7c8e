"""``interlens bench export --format lm-eval`` (issue 28, item 3): the exported tasks load in lm-eval's
``TaskManager(include_path=...)``; run through ``lm_eval.simple_evaluate`` on a tiny local Qwen2
(tests/hf_tiny.py, no network) they give the label log-likelihoods and the accuracy of interlens's own
zero-shot ``hf-lm`` run (chat-template and plain variants); ``bench run --samples-format lm-eval`` writes
lm-eval's samples layout."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml
from hf_tiny import save_tiny, single_thread, tiny_qwen2
from test_bench_runner import task_file
from typer.testing import CliRunner

from interlens.bench import task_from_file
from interlens.cli.bench import app

pytest.importorskip("lm_eval")

LABELS = ("sarcastic", "sincere", "ask for help")


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    """No network; the datasets cache lm-eval fills goes to a temporary folder."""
    import datasets

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-datasets")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    model, tok = tiny_qwen2(seed=0, init_range=0.5)  # answers vary with the input (not one constant label)
    return str(save_tiny(model, tok, tmp_path_factory.mktemp("tiny-qwen2")))


@pytest.fixture()
def task_path(tmp_path):
    return task_file(tmp_path / "data", "tiny-intent", LABELS, n=8, dimension="intent", context=True)


def _export(task_path, out, *extra):
    return CliRunner().invoke(app, ["export", "--format", "lm-eval", "--tasks", str(task_path), "--out", str(out),
                                    *extra])


def test_export_writes_multiple_choice_tasks_with_interlens_prompts(tmp_path, task_path):
    from lm_eval.tasks import TaskManager

    from interlens.prompts import render_prompt

    out = tmp_path / "lm"
    result = _export(task_path, out, "--limit", "4")
    assert result.exit_code == 0, result.output
    assert "tiny-intent: interlens_tiny_intent / interlens_tiny_intent_plain (4 docs)" in result.output
    chat = yaml.safe_load((out / "interlens_tiny_intent.yaml").read_text())
    plain = yaml.safe_load((out / "interlens_tiny_intent_plain.yaml").read_text())
    data_file = out / "data" / "interlens_tiny_intent.jsonl"
    assert chat["dataset_path"] == "json" and chat["dataset_kwargs"]["data_files"] == {"test": str(data_file.resolve())}
    assert (chat["output_type"], chat["doc_to_choice"], chat["doc_to_target"]) == ("multiple_choice", list(LABELS),
                                                                                   "label_id")
    assert (chat["doc_to_text"], plain["doc_to_text"], chat["tag"], plain["tag"]) == (
        "prompt", "plain_prompt", ["interlens"], ["interlens_plain"])
    assert chat["gen_prefix"] == "answer_prefix" and chat["target_delimiter"] == " "
    docs = [json.loads(line) for line in data_file.read_text().splitlines()]
    dataset = task_from_file(task_path).load().split("test")
    assert [d["id"] for d in docs] == dataset.ids[:4]
    sample = dataset.samples[1]
    rendered = render_prompt("mmla@1", sample, LABELS, "utterance+context", kinds=dataset.kinds, dimension="intent")
    assert docs[1]["prompt"] == rendered.messages[0].text and "context: earlier turn\nturn 1" in docs[1]["prompt"]
    assert docs[1]["answer_prefix"] == "intent:" and docs[1]["label"] == sample.label
    assert docs[1]["label_id"] == LABELS.index(sample.label)
    assert docs[1]["plain_prompt"] == f"User: {rendered.messages[0].text}\n\nAssistant:"
    manager = TaskManager(include_path=str(out))
    assert {"interlens_tiny_intent", "interlens_tiny_intent_plain"} <= set(manager.all_tasks)
    bad = _export(task_path, tmp_path / "x", "--format", "helm")
    assert bad.exit_code == 2 and "unknown export format 'helm'; one of lm-eval" in bad.output


def _lm_eval(out, task, model_dir, chat):
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    lm = HFLM(pretrained=model_dir, batch_size=4, device="cpu", dtype="float32")
    res = simple_evaluate(model=lm, tasks=[task], task_manager=TaskManager(include_path=str(out)),
                          apply_chat_template=chat, log_samples=True)
    samples = sorted(res["samples"][task], key=lambda s: s["doc_id"])
    loglik = np.array([[float(r[0][0]) for r in s["resps"]] for s in samples])
    return res["results"][task]["acc,none"], loglik, samples


@pytest.mark.parametrize("chat", [True, False], ids=["chat-template", "plain"])
def test_lm_eval_run_matches_interlens_zero_shot(tmp_path, task_path, model_dir, chat):
    from interlens.scoring.hf import HFLMScorer

    out = tmp_path / "lm"
    assert _export(task_path, out).exit_code == 0
    name = "interlens_tiny_intent" if chat else "interlens_tiny_intent_plain"
    with single_thread():
        acc, loglik, samples = _lm_eval(out, name, model_dir, chat)
        test = task_from_file(task_path).load().split("test")
        scorer = HFLMScorer(model_path=model_dir, use_chat_template=chat)
        ours = scorer.logits(test, "utterance+context")
    np.testing.assert_allclose(loglik, ours, atol=1e-4)  # summed label log-likelihoods, sample by sample
    ours_acc = float((ours.argmax(1) == test.y).mean())
    assert acc == pytest.approx(ours_acc, abs=1e-12)
    assert 0 < ours_acc < 1 and len({int(k) for k in ours.argmax(1)}) > 1  # not a constant answer
    if chat:
        assert samples[0]["arguments"][0][0].endswith("<|im_start|>assistant\nintent:")
    else:
        assert samples[0]["arguments"][0][0].endswith("\n\nAssistant: intent:")


def test_bench_run_writes_lm_eval_samples_with_the_same_accuracy(tmp_path, task_path, model_dir):
    from interlens.bench.export import lm_eval_name

    run = tmp_path / "run"
    with single_thread():
        result = CliRunner().invoke(app, ["run", "--tasks", str(task_path), "--scorer", "hf-lm", "-s",
                                          f"model_path={model_dir}", "--method", "zero-shot", "--seeds", "1",
                                          "--n-boot", "0", "--out", str(run), "--samples-format", "lm-eval"])
        assert result.exit_code == 0, result.output
        assert _export(task_path, tmp_path / "lm").exit_code == 0
        acc, loglik, theirs = _lm_eval(tmp_path / "lm", "interlens_tiny_intent", model_dir, True)
    written = json.loads((run / "results.json").read_text())
    assert written["tasks"][0]["per_seed"]["0"]["acc"] == pytest.approx(acc, abs=1e-12)
    files = list((run / "lm-eval" / "seed0").glob(f"samples_{lm_eval_name('tiny-intent')}_*.jsonl"))
    assert len(files) == 1
    rows = [json.loads(line) for line in files[0].read_text().splitlines()]
    assert [r["doc_id"] for r in rows] == list(range(8)) and [r["doc"]["id"] for r in rows] == [
        s["doc"]["id"] for s in theirs]
    assert set(rows[0]) >= {"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "acc", "doc_hash",
                            "prompt_hash", "target_hash", "filter", "metrics"}
    assert [r["acc"] for r in rows] == [s["acc"] for s in theirs]
    assert [r["target"] for r in rows] == [str(s["target"]) for s in theirs]
    assert rows[0]["arguments"]["gen_args_2"]["arg_1"] == " ask for help"
    # resps: log p(label) of interlens's distribution = lm-eval's log-likelihoods minus their logsumexp
    ours = np.array([[float(r[0][0]) for r in row["resps"]] for row in rows])
    expected = loglik - np.log(np.exp(loglik).sum(1, keepdims=True))
    np.testing.assert_allclose(ours, expected, atol=1e-4)
    assert all(math.isclose(np.exp(o).sum(), 1.0, abs_tol=1e-9) for o in ours)
    bad = CliRunner().invoke(app, ["run", "--tasks", str(task_path), "--samples-format", "csv", "--out",
                                   str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "--samples-format is 'interlens' or 'lm-eval', got 'csv'" in bad.output


def test_every_registered_text_task_exports_and_loads_in_lm_eval(tmp_path, shared_data):
    """All MMLA tasks of the registry (real data, first 2 test samples each) load as lm-eval tasks whose
    choices are the task's labels (as its verbaliser words them) and whose docs carry the gold label index."""
    from lm_eval.tasks import TaskManager

    from interlens.bench import get_task, task_names
    from interlens.bench.export import lm_eval_name

    out = tmp_path / "all"
    result = CliRunner().invoke(app, ["export", "--tasks", "all", "--out", str(out), "--limit", "2",
                                      "--data-root", str(shared_data)])
    assert result.exit_code == 0, result.output
    names = {lm_eval_name(t): t for t in task_names()}
    loaded = TaskManager(include_path=str(out)).load(["interlens"])["tasks"]  # the tag: every chat-variant task
    assert set(loaded) == set(names)
    for name, task in loaded.items():
        spec = get_task(names[name])
        docs = list(task.test_docs())
        words = [(spec.verbalizer or {}).get(label, label) for label in spec.labels]  # mustard: sincere/sarcastic
        assert len(docs) == 2 and task.doc_to_choice(docs[0]) == words
        assert all(spec.labels[task.doc_to_target(d)] == d["label"] for d in docs)
        assert task.config.gen_prefix == "answer_prefix" and docs[0]["answer_prefix"] == f"{spec.dimension}:"
