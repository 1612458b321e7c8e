"""The MMLA task registry, as data: one YAML file per dataset-task under ``bench/tasks/``.

A task names its dimension, ordered label set, versioned prompt id (``mmla@1``), the data adapter
(a ``load_dataset`` name, or ``mmla`` for MMLA's own text files) with its options, and the splits used
to fit, validate and evaluate. ``evaluation_split`` says on what the numbers are computed (``test``,
``dev``, ``dev_carved`` or ``rest``) and ``comparable_to_paper`` whether they can stand next to
MMLA Table 3. Add a task by dropping a YAML file next to the others.

A **dataset file** (the YAML any ``--dataset`` accepts, :mod:`interlens.data.files`) is a task too
(:func:`task_from_file`): its splits ``train`` / ``dev`` / ``test`` fit / validate / evaluate, the
evaluation split is ``test``, labels, dimension and name come from the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from ..data.schema import Dataset, Sample
from ..errors import DataError
from ..registry import Registry

DIMENSIONS = ("intent", "dialogue_act", "emotion", "sentiment", "speaking_style", "communication_behavior")
_REQUIRED = ("name", "title", "dimension", "labels", "prompt", "data", "splits", "evaluation_split")


@dataclass(frozen=True)
class TaskSpec:
    """One benchmark task (see the module docstring)."""

    name: str
    title: str
    dimension: str
    labels: tuple[str, ...]
    prompt: str
    adapter: str
    options: dict[str, Any]
    splits: dict[str, str | None]
    evaluation_split: str
    comparable_to_paper: bool = False
    reference: str | None = None
    verbalizer: dict[str, str] | None = None
    rename: dict[str, str] = field(default_factory=dict)
    notes: str = ""
    file: str = ""
    #: modalities the task exposes to scorers (None: all of the data's); the view is the scorer's
    #: default view over these
    modalities: tuple[str, ...] | None = None
    #: modalities prompt-based (zero-shot capable) scorers read, when fewer (MMLA prompts: utterance only)
    prompt_modalities: tuple[str, ...] | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any], file: str = "") -> TaskSpec:
        missing = [k for k in _REQUIRED if k not in raw]
        if missing:
            raise DataError(f"task file lacks {missing}", file=file, field=missing[0])
        if raw["dimension"] not in DIMENSIONS:
            raise DataError(f"unknown dimension {raw['dimension']!r}; one of {DIMENSIONS}", file=file,
                            field="dimension")
        data = raw["data"]
        splits = {k: raw["splits"].get(k) for k in ("fit", "val", "eval")}
        if not splits["eval"]:
            raise DataError("splits.eval is required", file=file, field="splits")
        return cls(name=str(raw["name"]), title=str(raw["title"]), dimension=raw["dimension"],
                   labels=tuple(str(x) for x in raw["labels"]), prompt=str(raw["prompt"]),
                   adapter=str(data["adapter"]), options=dict(data.get("options") or {}), splits=splits,
                   evaluation_split=str(raw["evaluation_split"]),
                   comparable_to_paper=bool(raw.get("comparable_to_paper", False)),
                   reference=raw.get("reference"), verbalizer=raw.get("verbalizer"),
                   rename=dict(data.get("rename") or {}), notes=str(raw.get("notes", "")), file=file,
                   modalities=tuple(raw["modalities"]) if raw.get("modalities") else None,
                   prompt_modalities=tuple(raw["prompt_modalities"]) if raw.get("prompt_modalities") else None)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "dimension": self.dimension, "labels": list(self.labels),
                "prompt": self.prompt, "adapter": self.adapter, "options": self.options, "splits": self.splits,
                "evaluation_split": self.evaluation_split, "comparable_to_paper": self.comparable_to_paper,
                "reference": self.reference, "notes": self.notes,
                **({"modalities": list(self.modalities)} if self.modalities else {})}

    # -- data ------------------------------------------------------------------------------------
    def load(self, data_root: str | os.PathLike | None = None) -> Dataset:
        """The task's dataset (registered tasks: ``text`` + ``context`` where the corpus has it), its labels
        (checked against the data's), the adapter's splits and the task's dimension (for prompts)."""
        from ..data.paths import data_root as resolve_root

        if self.adapter == "file":
            from ..data.resolve import resolve_dataset

            dataset = resolve_dataset(self.options["path"], **self.options.get("options", {}))
        elif self.adapter == "mmla":
            from .mmla_data import load_mmla

            dataset = load_mmla(resolve_root(data_root), labels=self.labels, name=self.name, **self.options)
        else:
            from ..data import load_dataset

            dataset = load_dataset(self.adapter, data_root, **self.options)
        if self.rename:
            dataset = _rename(dataset, self.rename)
        if tuple(dataset.labels) != self.labels:
            raise DataError(f"task {self.name}: labels {list(self.labels)} differ from the data's "
                            f"{list(dataset.labels)}", file=self.file, field="labels")
        missing = [m for m in (*(self.modalities or ()), *(self.prompt_modalities or ()))
                   if m not in dataset.modalities]
        if missing:
            raise DataError(f"task {self.name}: modalities {missing} not in the data ({list(dataset.modalities)})",
                            file=self.file, field="modalities")
        for key, split in self.splits.items():
            if split and split not in dataset.splits:
                raise DataError(f"task {self.name}: split {key}={split!r} not in the data "
                                f"({sorted(dataset.splits)})", file=self.file, field="splits")
        dataset.dimension = self.dimension
        return dataset


def _rename(dataset: Dataset, mapping: dict[str, str]) -> Dataset:
    samples = [Sample(s.id, {mapping.get(k, k): v for k, v in s.inputs.items()}, s.label, s.group, s.meta)
               for s in dataset.samples]
    return Dataset(name=dataset.name, labels=dataset.labels, samples=samples,
                   modalities=tuple(mapping.get(m, m) for m in dataset.modalities), splits=dataset.splits,
                   task=dataset.task, dimension=dataset.dimension, source=dataset.source, info=dataset.info,
                   kinds={mapping.get(m, m): k for m, k in dataset.kinds.items()})


#: splits a dataset file must / may have to be a task (fit, val, eval)
FILE_SPLITS = {"fit": "train", "val": "dev", "eval": "test"}
#: prompt wording when a dataset file names no dimension
DEFAULT_DIMENSION = "label"


def task_from_file(path: str | os.PathLike, **options: Any) -> TaskSpec:
    """A task defined by a dataset file (:mod:`interlens.data.files`): ``train`` / ``dev`` / ``test``
    splits (``train`` and ``dev`` optional: without ``train`` only zero-shot can run), evaluated on
    ``test``; name, labels and dimension from the file. ``options`` go to the file reader."""
    from ..data.resolve import resolve_dataset

    dataset = resolve_dataset(str(path), **options)
    if FILE_SPLITS["eval"] not in dataset.splits:
        raise DataError(f"a task needs a {FILE_SPLITS['eval']!r} split to evaluate on; the data has "
                        f"{sorted(dataset.splits) or 'no splits'} (give a split column with train/dev/test, "
                        "or a group column for a seeded split)", file=str(path), field="split")
    splits = {key: (name if name in dataset.splits else None) for key, name in FILE_SPLITS.items()}
    dimension = dataset.dimension or DEFAULT_DIMENSION
    return TaskSpec(name=dataset.name, title=dataset.name, dimension=dimension, labels=tuple(dataset.labels),
                    prompt="mmla@1", adapter="file", options={"path": str(path), "options": dict(options)},
                    splits=splits, evaluation_split=FILE_SPLITS["eval"], comparable_to_paper=False,
                    notes=f"dataset file {path}", file=str(path))


def _load_task_files() -> None:
    folder = resources.files("interlens.bench") / "tasks"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml"):
            continue
        spec = TaskSpec.from_dict(yaml.safe_load(entry.read_text(encoding="utf-8")), file=str(entry))
        if spec.name in TASKS:
            raise DataError(f"task {spec.name!r} defined twice", file=str(entry), field="name")
        TASKS.add(spec.name, spec)


#: the registered tasks (:class:`interlens.registry.Registry`), read from ``bench/tasks/*.yaml`` on first use
TASKS: Registry[TaskSpec] = Registry("task", load=_load_task_files, normalize=lambda name: name.strip().lower())


def task_names() -> list[str]:
    return TASKS.names()


def get_task(name: str) -> TaskSpec:
    """A registered task by name; an unknown name raises with "did you mean" suggestions."""
    return TASKS.get(name)


def parse_tasks(spec: str | list[str], **file_options: Any) -> list[TaskSpec]:
    """``"mintrec,meld-emotion"``, ``"all"``, a dimension name or dataset files (``my_task.yaml``) ->
    task specs (``file_options`` go to the dataset-file reader). Unknown names get "did you mean"."""
    from ..data.resolve import is_dataset_file

    names = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[TaskSpec] = []
    for name in (n.strip() for n in names if n.strip()):
        if name == "all":
            out += list(TASKS.values())
        elif name in DIMENSIONS:
            out += [t for t in TASKS.values() if t.dimension == name]
        elif is_dataset_file(name):
            out.append(task_from_file(name, **file_options))
        else:
            out.append(get_task(name))
    if not out:
        raise DataError("no tasks given", field="tasks")
    seen: dict[str, TaskSpec] = {}
    for task in out:
        if task.name in seen and seen[task.name] != task:
            raise DataError(f"two tasks are named {task.name!r} ({seen[task.name].file or 'registry'} and "
                            f"{task.file or 'registry'})", file=task.file, field="name")
        seen.setdefault(task.name, task)
    return list(seen.values())


def tasks_by_dimension() -> dict[str, list[TaskSpec]]:
    return {d: [t for t in TASKS.values() if t.dimension == d] for d in DIMENSIONS}


def render_task_prompt(task: TaskSpec, sample: Sample) -> str:
    """The task's prompt for one sample (text view), as plain text."""
    from ..prompts import render_prompt

    words = task.dimension
    return render_prompt(task.prompt, sample, task.labels, "text", verbalizer=task.verbalizer,
                         dimension=words).to_text()
