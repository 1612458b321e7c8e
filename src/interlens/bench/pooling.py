"""Auxiliary training data for SFT: a task's training split pooled with related tasks' training samples
that carry one of its labels (the multi-task lever of issue 13; MMLA Sec. 3.3 trains one model on all
tasks, MINT Sec. 3 groups tasks that help each other).

Only the *fit* split grows: model selection stays on the task's own dev split and evaluation on its own
test split. Auxiliary samples keep their label *name*, so they must share the task's label vocabulary
(MIntRec's 20 intents are all MIntRec2.0 intents) or name the same class in another word form
(:data:`LABEL_SYNONYMS`: IEMOCAP's "angry" is MELD's "anger"); samples with other labels are dropped, and
ids are prefixed with the auxiliary dataset's name so they never collide.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from ..data.schema import Dataset, Sample
from ..errors import DataError
from ..io import json_or_text
from ..methods.config import split_pair
from .registry import TaskSpec, parse_tasks

#: registered tasks whose training samples share label names with a task (same dimension, same corpus
#: family): used by ``bench --auxiliary`` and benchmarks/bench_mmla_cpu.py
SISTER_TASKS = {"mintrec": "mintrec2", "mintrec2": "mintrec"}

#: the same class under another word form (adjective -> noun, as the emotion corpora differ: IEMOCAP says
#: "angry", MELD "anger"). Used only when the auxiliary label is not itself one of the task's labels and
#: its synonym is; classes without a counterpart (IEMOCAP's "frustrated", "excited") are dropped.
LABEL_SYNONYMS = {"angry": "anger", "happy": "joy", "sad": "sadness", "fearful": "fear",
                  "surprised": "surprise", "disgusted": "disgust"}


def _own_label(label: str | None, own: set[str]) -> str | None:
    """``label`` as one of ``own`` (itself or its :data:`LABEL_SYNONYMS` entry), or None."""
    if label in own:
        return label
    synonym = LABEL_SYNONYMS.get(label or "")
    return synonym if synonym in own else None


def with_auxiliary_training(train: Dataset, auxiliaries: Sequence[Dataset]) -> Dataset:
    """``train`` plus every auxiliary sample whose label is one of ``train.labels``, directly or through
    :data:`LABEL_SYNONYMS` (inputs restricted to ``train``'s modalities, which each auxiliary dataset must
    have). Labels, modalities and kinds are ``train``'s; ``info["auxiliary"]`` records what was added and
    which labels were renamed."""
    if not auxiliaries:
        return train
    added: list[Sample] = []
    record = []
    own = set(train.labels)
    for aux in auxiliaries:
        missing = [m for m in train.modalities if m not in aux.modalities]
        if missing:
            raise DataError(f"auxiliary dataset {aux.name!r} lacks modalities {missing} of {train.name!r}",
                            file=aux.source, field="modalities")
        mapped = {s.label: _own_label(s.label, own) for s in aux.samples}
        kept = [Sample(f"{aux.name}/{s.id}", {m: s.inputs[m] for m in train.modalities}, mapped[s.label],
                       s.group, {**s.meta, "auxiliary": aux.name}) for s in aux.samples if mapped[s.label]]
        if not kept and len(aux):
            raise DataError(f"auxiliary dataset {aux.name!r} has no sample with one of {train.name!r}'s labels "
                            f"({', '.join(train.labels)})", file=aux.source, field="labels")
        added += kept
        renamed = {a: b for a, b in sorted(mapped.items(), key=str) if b and a != b}
        record.append({"dataset": aux.name, "fingerprint": aux.fingerprint(), "n": len(kept), "of": len(aux),
                       **({"renamed": renamed} if renamed else {})})
    return train.derive(f"{train.name}+aux", [*train.samples, *added],
                        info={**train.info, "auxiliary": record})


def parse_auxiliary(specs: Sequence[str] | None, tasks: Sequence[TaskSpec]) -> dict[str, list[TaskSpec]]:
    """``["TASK=AUX[,AUX]", ...]`` (or ``["sisters"]``: :data:`SISTER_TASKS` for the run's tasks) -> task
    name -> auxiliary task specs. Unknown names and malformed entries are refused in one line."""
    names = {t.name for t in tasks}
    out: dict[str, list[TaskSpec]] = {}
    for spec in specs or []:
        if spec == "sisters":
            pairs = [(name, SISTER_TASKS[name]) for name in names if name in SISTER_TASKS]
        else:
            try:
                pairs = [split_pair(spec, field="auxiliary", empty_value=False)]
            except DataError:
                raise DataError(f"--auxiliary takes TASK=AUX[,AUX] or 'sisters', got {spec!r}",
                                field="auxiliary") from None
        for name, aux in pairs:
            if name not in names:
                raise DataError(f"--auxiliary {spec!r}: task {name!r} is not in the run ({sorted(names)})",
                                field="auxiliary")
            out.setdefault(name, []).extend(parse_tasks(aux))
    return out


def restrict_modalities(tasks: Sequence[TaskSpec], specs: str | Sequence[str] | None) -> list[TaskSpec]:
    """The tasks with ``TaskSpec.modalities`` set: each spec is ``"a,b"`` (every task) or ``"TASK=a,b"`` (one
    task; later specs win). None or empty: unchanged. A modality a task's data lacks is refused when the
    task is loaded; a TASK not in the run is refused here."""
    if not specs:
        return list(tasks)
    chosen: dict[str | None, tuple[str, ...]] = {}
    names = {t.name for t in tasks}
    for spec in [specs] if isinstance(specs, str) else specs:
        name, value = split_pair(spec, field="modalities", key_optional=True)
        modalities = tuple(m.strip() for m in value.split(","))
        if not all(modalities):
            raise DataError(f"empty modality name in {spec!r}", field="modalities")
        if name and name not in names:
            raise DataError(f"--modalities {spec!r}: task {name!r} is not in the run ({sorted(names)})",
                            field="modalities")
        chosen[name or None] = modalities
    return [dataclasses.replace(t, modalities=chosen.get(t.name, chosen.get(None, t.modalities))) for t in tasks]


def with_data_options(tasks: Sequence[TaskSpec], options: dict[str, dict]) -> list[TaskSpec]:
    """The tasks with extra loader options merged into their own (``{"meld-emotion": {"turns_after": 1}}``:
    a per-task data choice, e.g. made on dev). A task not in the run is refused; an option the task's loader
    does not take is refused when the task is loaded."""
    names = {t.name for t in tasks}
    unknown = sorted(set(options) - names)
    if unknown:
        raise DataError(f"data options for {unknown}, which are not in the run ({sorted(names)})", field="tasks")
    return [dataclasses.replace(t, options=_merged_options(t, options.get(t.name, {}))) for t in tasks]


def _merged_options(task: TaskSpec, extra: dict[str, Any]) -> dict[str, Any]:
    """A task's loader options plus ``extra``: a dataset-file task keeps its reader's options under
    ``"options"`` (next to ``"path"``), a registered task has them at the top level."""
    if not extra:
        return task.options
    if task.adapter == "file":
        return {**task.options, "options": {**task.options.get("options", {}), **extra}}
    return {**task.options, **extra}


def parse_task_options(specs: Sequence[str] | None, tasks: Sequence[TaskSpec]) -> dict[str, dict[str, Any]]:
    """``["meld-emotion:turns_after=1", ...]`` (``bench run --task-option``) -> ``{"meld-emotion":
    {"turns_after": 1}}`` for :func:`with_data_options`; values are JSON literals, else text. A malformed
    entry or a task not in the run is refused in one line."""
    names = {t.name for t in tasks}
    out: dict[str, dict[str, Any]] = {}
    for spec in specs or []:
        name, _, pair = spec.partition(":")
        try:
            key, raw = split_pair(pair, field="task_option")
        except DataError:
            raise DataError(f"--task-option takes TASK:KEY=VALUE, got {spec!r}", field="task_option") from None
        if not name.strip():
            raise DataError(f"--task-option takes TASK:KEY=VALUE, got {spec!r}", field="task_option")
        if name.strip() not in names:
            raise DataError(f"--task-option {spec!r}: task {name.strip()!r} is not in the run ({sorted(names)})",
                            field="task_option")
        out.setdefault(name.strip(), {})[key] = json_or_text(raw)
    return out
