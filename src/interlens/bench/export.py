"""MMLA tasks for lm-evaluation-harness, and bench results in its samples layout (issue 28, item 3).

:func:`export_lm_eval` writes, per task, its evaluation split as a local jsonl file and two task YAMLs that
lm-eval's ``TaskManager(include_path=DIR)`` loads (``dataset_path: json`` + ``data_files``, absolute paths:
re-export after moving the folder):

* ``interlens_<task>`` (tag ``interlens``) -- for chat models, run with ``--apply_chat_template``: the user
  turn is interlens's rendered prompt (``prompt``), the assistant turn starts with the answer prefix
  (``gen_prefix``, e.g. ``intent:``), each label is scored as the continuation `` <label>`` -- the string
  interlens's ``hf-lm`` scorer builds from the tokenizer's chat template;
* ``interlens_<task>_plain`` (tag ``interlens_plain``) -- for models without a chat template (run without
  ``--apply_chat_template``): interlens's plain ``User: ...\\n\\nAssistant: <prefix>`` format.

Both are ``output_type: multiple_choice`` over the task's label set (``doc_to_choice``), with lm-eval's
``acc`` (argmax of the summed label log-likelihoods = ``hf-lm`` with ``length_norm=False``; lm-eval's
``acc_norm`` divides by the label's length in *bytes*, interlens's ``length_norm`` by its *tokens*, so
those two differ). Prompts are rendered by :func:`interlens.prompts.render_prompt` exactly as the scorer
renders them (the task's template, verbaliser and dimension; the modalities a prompt-based scorer sees:
``prompt_modalities``, else ``modalities``, text kinds only).

:func:`write_lm_eval_samples` writes a finished ``bench run``'s per-sample predictions as lm-eval's
``samples_<task>_<timestamp>.jsonl`` (``doc_id``, ``doc``, ``target``, ``arguments``, ``resps``,
``filtered_resps``, ``acc``, the hashes). ``resps`` hold ``log p(label)`` of interlens's distribution over
the labels (for ``hf-lm``: the label log-likelihoods up to one constant per sample), not raw
log-likelihoods; ``arguments`` carry the plain-format context.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from ..data.schema import Dataset, text_of
from ..errors import DataError
from ..io import atomic_write_text
from .registry import TaskSpec

FORMATS = ("lm-eval",)
#: prefix of the exported task names (lm-eval's own registry has no such names)
PREFIX = "interlens_"


@dataclass(frozen=True)
class ExportedTask:
    """One exported task: its lm-eval names, files and size."""

    task: str
    chat_task: str
    plain_task: str
    yaml_chat: Path
    yaml_plain: Path
    data_file: Path
    n_docs: int


def lm_eval_name(task: str, plain: bool = False) -> str:
    """``mintrec`` -> ``interlens_mintrec`` (``_plain`` for the chat-template-free variant)."""
    safe = "".join(c if c.isalnum() or c == "_" else "_" for c in task)
    return f"{PREFIX}{safe}{'_plain' if plain else ''}"


def _limit(dataset: Dataset, n: int | None) -> Dataset:
    return dataset if n is None or len(dataset) <= n else dataset.subset(dataset.ids[:n], name=dataset.name)


def prompt_dataset(task: TaskSpec, dataset: Dataset, limit: int | None = None) -> Dataset:
    """The task's evaluation split (of its loaded ``dataset``, first ``limit`` samples as ``bench run --limit``)
    restricted to the text modalities a prompt-based scorer sees."""
    modalities = task.prompt_modalities or task.modalities or dataset.modalities
    text = [m for m in modalities if dataset.kind(m) == "text"]
    if not text:
        raise DataError(f"task {task.name} has no text modality to prompt with ({dataset.kinds})",
                        file=task.file or None, field="modalities")
    split = task.splits["eval"]
    return _limit(dataset.with_modalities(text).split(split), limit)


def _variables(dataset: Dataset) -> dict[str, Any]:
    """The template variables the ``hf-lm`` scorer passes (its ``PromptBuilder.variables``)."""
    found: dict[str, Any] = {"dimension": dataset.dimension} if dataset.dimension else {}
    found.update(dataset.info.get("prompt_vars", {}) or {})
    return found


def task_docs(task: TaskSpec, dataset: Dataset) -> tuple[list[dict[str, Any]], list[str], str]:
    """(docs, choices, target delimiter): one doc per sample with the rendered prompt (``prompt``, the user
    turn; ``system``; ``plain_prompt``, the plain format up to ``Assistant:``), the answer prefix, the
    sample's text inputs and its gold label (``label``, ``label_id``)."""
    from ..prompts import render_prompt
    from ..scoring.hf.chat import plain_prompt

    view = "+".join(dataset.modalities)
    docs, label_texts = [], None
    for sample in dataset.samples:
        if sample.label not in dataset.labels:
            raise DataError(f"sample {sample.id!r} of the evaluation split has no label", file=dataset.source,
                            record=sample.id, field="label")
        rendered = render_prompt(task.prompt, sample, dataset.labels, view, verbalizer=task.verbalizer,
                                 kinds=dataset.kinds, **_variables(dataset))
        label_texts = label_texts or rendered.label_texts
        users = [m for m in rendered.messages if m.role == "user"]
        if len(users) != 1 or len(rendered.messages) - len(users) > 1:
            raise DataError(f"template {task.prompt} renders {len(rendered.messages)} turns; lm-eval export takes "
                            "one user turn (and an optional system turn)", field="prompt")
        system = next((m.text for m in rendered.messages if m.role == "system"), "")
        plain = plain_prompt(rendered, 0, "")
        plain_context = plain[: len(plain) - len(rendered.answer_prefix)].rstrip()
        docs.append({"id": sample.id, "prompt": users[0].text, "system": system, "plain_prompt": plain_context,
                     "answer_prefix": rendered.answer_prefix,
                     "inputs": {m: text_of(sample.inputs.get(m)) for m in dataset.modalities},
                     "label": sample.label, "label_id": dataset.labels.index(sample.label)})
    texts = list(label_texts or ())
    if texts and all(t.startswith(" ") and not t.startswith("  ") for t in texts):
        return docs, [t[1:] for t in texts], " "
    return docs, texts, ""


def _task_yaml(name: str, tag: str, data_file: Path, choices: list[str], delimiter: str, *, plain: bool,
               system: bool, source: TaskSpec) -> dict[str, Any]:
    config: dict[str, Any] = {
        "task": name, "tag": [tag], "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data_file.resolve())}},
        "test_split": "test", "output_type": "multiple_choice",
        "doc_to_text": "plain_prompt" if plain else "prompt", "doc_to_target": "label_id",
        "doc_to_choice": choices, "gen_prefix": "answer_prefix", "target_delimiter": delimiter,
        "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
        "metadata": {"version": 1.0, "interlens_task": source.name, "dimension": source.dimension,
                     "prompt": source.prompt, "chat_template": not plain}}
    if system and not plain:
        config["description"] = "{{system}}"
    return config


def export_lm_eval(tasks: Sequence[TaskSpec], out: str | os.PathLike, *, data_root: str | os.PathLike | None = None,
                   limit: int | None = None) -> list[ExportedTask]:
    """Write lm-eval task YAMLs and data files for ``tasks`` under ``out`` (see the module docstring)."""
    root = Path(out)
    exported = []
    for task in tasks:
        dataset = prompt_dataset(task, task.load(data_root), limit)
        docs, choices, delimiter = task_docs(task, dataset)
        name = lm_eval_name(task.name)
        data_file = root / "data" / f"{name}.jsonl"
        atomic_write_text(data_file, "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs))
        system = any(d["system"] for d in docs)
        paths = {}
        for plain in (False, True):
            config = _task_yaml(lm_eval_name(task.name, plain), "interlens_plain" if plain else "interlens",
                                data_file, choices, delimiter, plain=plain, system=system, source=task)
            paths[plain] = atomic_write_text(root / f"{lm_eval_name(task.name, plain)}.yaml",
                                             yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=1000))
        exported.append(ExportedTask(task.name, name, lm_eval_name(task.name, True), paths[False], paths[True],
                                     data_file, len(docs)))
    return exported


# -- bench run -> lm-eval samples ---------------------------------------------------------------------------
def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def lm_eval_sample(doc_id: int, doc: dict[str, Any], choices: list[str], delimiter: str,
                   row: dict[str, Any]) -> dict[str, Any]:
    """One lm-eval ``samples_*.jsonl`` record from a bench samples row (``id``, ``gold``, ``pred``, ``probs``)."""
    context = f"{doc['plain_prompt']} {doc['answer_prefix']}" if doc.get("plain_prompt") else ""
    arguments = {f"gen_args_{k}": {"arg_0": context, "arg_1": f"{delimiter}{c}"} for k, c in enumerate(choices)}
    probs = row.get("probs")
    scores = [math.log(p) if p and p > 0 else float("-inf") for p in probs.values()] if probs else []
    target = doc.get("label_id", "")
    return {"doc_id": doc_id, "doc": doc, "target": str(target), "arguments": arguments,
            "resps": [[[str(s), "False"]] for s in scores], "filtered_resps": [[str(s), "False"] for s in scores],
            "filter": "none", "metrics": ["acc"],
            "doc_hash": _sha(json.dumps(doc, indent=2, ensure_ascii=False)), "prompt_hash": _sha(context),
            "target_hash": _sha(str(target)),
            "acc": None if row.get("pred") is None else float(row["pred"] == row["gold"])}


def write_lm_eval_samples(runner: Any, out: str | os.PathLike | None = None, *,
                          date_id: str | None = None) -> list[Path]:
    """Each finished unit's ``samples/<unit>.jsonl`` of a bench ``runner`` as lm-eval samples files,
    ``<out>/lm-eval/seed<k>/samples_interlens_<task>_<timestamp>.jsonl`` (``out``: the run folder)."""
    root = Path(out or runner.out) / "lm-eval"
    stamp = date_id or datetime.now().isoformat().replace(":", "-")
    written = []
    for task in runner.tasks:
        units = [(seed, runner.samples_path(task, seed)) for seed in runner.seeds]
        units = [(seed, path) for seed, path in units if path.is_file()]
        if not units:
            continue
        try:
            dataset = prompt_dataset(task, runner.data(task), runner.limit)
            docs, choices, delimiter = task_docs(task, dataset)
        except DataError:  # a task without text prompts: its rows with what they carry
            docs, choices, delimiter = [], list(task.labels), " "
        by_id = {d["id"]: d for d in docs}
        for seed, path in units:
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            lines = []
            for doc_id, row in enumerate(rows):
                doc = by_id.get(row["id"]) or {"id": row["id"], "label": row.get("gold"),
                                               "label_id": list(task.labels).index(row["gold"])
                                               if row.get("gold") in task.labels else ""}
                lines.append(json.dumps(lm_eval_sample(doc_id, doc, choices, delimiter, row), ensure_ascii=False))
            target = root / f"seed{seed}" / f"samples_{lm_eval_name(task.name)}_{stamp}.jsonl"
            written.append(atomic_write_text(target, "".join(line + "\n" for line in lines)))
    return written
