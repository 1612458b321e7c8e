"""Adapter for MMLA's released text-only train/dev files (``<data root>/mmla/*_llamafactory.json``).

Used only for the MMLA tasks whose original corpus (with its test split) is *not* in the data store:
IEMOCAP, IEMOCAP-DA, MELD-DA, MOSI, CH-SIMS v2 and UR-FUNNY-v2. Those tasks are evaluated on MMLA's
**dev** split, not the paper's test split, so their numbers are not directly comparable with MMLA Table 3.

Each file element holds a prompt ``The speaker says: <utterance>. Based on the text, what is the <dim>
of this speaker? The candidate labels for <dim> are: [..]`` and the answer ``<dim>: <label>``. The
utterance is cut out of the prompt and the answer label is matched case-insensitively against the
task's label set (label case varies between files). When a dataset has no train file in the store
(MELD-DA, IEMOCAP-DA, UR-FUNNY), ``carve`` > 0 moves that fraction of the dev file, group-wise and
stratified by label, into a ``train`` split so that supervised methods can run; the remaining dev
samples are then the evaluation set (marked ``dev_carved`` in the task and its report).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ..data.adapters import require
from ..data.schema import Dataset, Sample
from ..data.splits import stratified_group_split
from ..errors import DataError
from ..io import read_json

_PROMPT = re.compile(r"^The speaker says: (?P<text>.*?)\.? ?Based on the text, what is the (?P<dim>[\w ]+?) of "
                     r"this speaker\?", re.S)


def mmla_file(root: Path, stem: str, split: str, dimension: str) -> Path:
    return require(root, "mmla", f"{stem}_{split}_text_{dimension}_llamafactory.json")


def read_mmla_file(path: Path, labels: Sequence[str], split: str) -> list[Sample]:
    """Samples of one MMLA llamafactory file; labels are mapped onto ``labels`` ignoring case."""
    lookup = {label.lower(): label for label in labels}
    samples = []
    for number, item in enumerate(read_json(path)):
        where = f"element {number}"
        try:
            human, answer = item["conversations"][0]["value"], item["conversations"][1]["value"]
            video = str(item["video"])
        except (KeyError, IndexError, TypeError) as err:
            raise DataError(f"unexpected element layout ({err!r})", file=str(path), record=where) from None
        match = _PROMPT.match(human)
        if match is None:
            raise DataError("prompt does not start with 'The speaker says: ...'", file=str(path), record=where,
                            field="conversations")
        raw = answer.split(":", 1)[1].strip() if ":" in answer else answer.strip()
        if raw.lower() not in lookup:
            raise DataError(f"unknown label {raw!r}; expected one of {list(labels)}", file=str(path),
                            record=where, field="conversations")
        stem = video.rsplit(".", 1)[0]
        sample_id = stem.split("_", 1)[1] if "_" in stem else stem
        group = sample_id.rsplit("_", 1)[0] if "_" in sample_id else sample_id
        samples.append(Sample(sample_id, {"text": match.group("text").strip()}, lookup[raw.lower()], group,
                              {"split": split, "video": video, "record": where}))
    return samples


def load_mmla(root: Path, *, stem: str, dimension: str, labels: Sequence[str], carve: float = 0.0,
              group_by: str = "prefix", seed: int = 0, name: str | None = None) -> Dataset:
    """MMLA text file(s) of one dataset as a Dataset with splits ``train`` (file or carved) and ``dev``.

    ``group_by="prefix"`` groups samples by the clip id without its last ``_`` part (dialogue,
    session-script or video); ``"none"`` makes every sample its own group.
    """
    root = Path(root)
    dev_path = mmla_file(root, stem, "dev", dimension)
    samples = read_mmla_file(dev_path, labels, "dev")
    sources = [str(dev_path)]
    splits = {"dev": [s.id for s in samples]}
    train_path = root / "mmla" / f"{stem}_train_text_{dimension}_llamafactory.json"
    if carve > 0:
        groups = [s.group if group_by == "prefix" else s.id for s in samples]
        parts = stratified_group_split([s.id for s in samples], [str(g) for g in groups],
                                       [s.label or "" for s in samples],
                                       {"train": carve, "dev": 1.0 - carve}, seed=seed)
        splits = {"train": parts["train"], "dev": parts["dev"]}
    elif train_path.exists():
        train = read_mmla_file(train_path, labels, "train")
        known = {s.id for s in samples}
        clash = [s.id for s in train if s.id in known]
        if clash:
            raise DataError(f"{len(clash)} clip ids in both train and dev, e.g. {clash[:3]}", file=str(train_path))
        samples = train + samples
        splits = {"train": [s.id for s in train], **splits}
        sources.insert(0, str(train_path))
    if group_by == "none":
        for s in samples:
            s.group = s.id
    return Dataset(name=name or stem.lower(), labels=tuple(labels), samples=samples, modalities=("text",),
                   splits=splits, dimension=dimension, source=", ".join(sources),
                   info={"options": {"stem": stem, "carve": carve, "group_by": group_by, "seed": seed}})
