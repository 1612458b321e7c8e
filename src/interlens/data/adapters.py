"""Loaders for the real corpora under ``<data root>/<name>/`` (each folder's SOURCE.md describes it).

``REGISTRY`` is an explicit dict ``name -> DatasetCard`` (loader + static facts); add a dataset by
writing a ``load_<name>(root, **options)`` function with a docstring and one entry below.
Every loader returns a validated :class:`Dataset` with ordered labels, the official splits (named
``train``/``dev``/``test``), ``group`` = speaker, dialogue or transcript, and ``source`` = the file(s).

Label order follows the MMLA benchmark's candidate lists (thuiar/MMLA), which for MIntRec and
MIntRec2.0 is also the class-index order of the authors' released predictions. Binary sarcasm labels
are ``("not_sarcastic", "sarcastic")`` so that index 1 is the positive class of the 0/1 originals.
"""

from __future__ import annotations

import ast
import inspect
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError, InterlensError, unknown_name
from ..io import read_json
from ..registry import Registry
from .paths import data_root as resolve_root
from .readers import Record, get_field, read_records
from .schema import Dataset, Sample
from .splits import group_split, stratified_group_split

SARCASM_LABELS = ("not_sarcastic", "sarcastic")
# MIntRec (Zhang et al., ACM MM 2022) paper order = thuiar/MIntRec `intent_labels` = MMLA prompt order;
# checked: class indices 0..19 of Phase-2-Automated-Annotation/MIntRec-1-auto-annotate follow it.
MINTREC_LABELS = ("Complain", "Praise", "Apologise", "Thank", "Criticize", "Agree", "Taunt", "Flaunt",
                  "Joke", "Oppose", "Comfort", "Care", "Inform", "Advise", "Arrange", "Introduce", "Leave",
                  "Prevent", "Greet", "Ask for help")
# MIntRec2.0 (Zhang et al., ICLR 2024) code and MMLA list the 30 intents alphabetically; the class
# indices 0..29 of Phase-2-Automated-Annotation/MIntRec-2-auto-annotate follow this order too.
MINTREC2_LABELS = ("Acknowledge", "Advise", "Agree", "Apologise", "Arrange", "Ask for help",
                   "Asking for opinions", "Care", "Comfort", "Complain", "Confirm", "Criticize", "Doubt",
                   "Emphasize", "Explain", "Flaunt", "Greet", "Inform", "Introduce", "Invite", "Joke",
                   "Leave", "Oppose", "Plan", "Praise", "Prevent", "Refuse", "Taunt", "Thank", "Warn")
MELD_EMOTIONS = ("neutral", "surprise", "fear", "sadness", "joy", "anger", "disgust")  # MMLA order
MELD_SENTIMENTS = ("negative", "neutral", "positive")  # ordinal
ANNOMI_CLIENT = ("neutral", "change", "sustain")  # MMLA order
ANNOMI_THERAPIST = ("question", "therapist_input", "reflection", "other")  # MMLA order

#: every registered corpus is text here: MMSD2.0's ``image_attributes`` is the text form of the image
TEXT_KINDS = {"text": "text", "context": "text", "utterance": "text", "image_attributes": "text"}

CONTEXT_START = "[start of dialogue]"
CONTEXT_GAP = "[...]"
#: opens the following turns of the dialogue (``turns_after``); ``CONTEXT_END`` when there are none
CONTEXT_NEXT = "[next]"
CONTEXT_END = "[end of dialogue]"
SPLITS = ("train", "dev", "test")


# -- helpers ----------------------------------------------------------------------------------
def require(root: Path, *relative: str) -> Path:
    """``root/relative``; a clear error naming the missing path and the data root searched."""
    path = Path(root).joinpath(*relative)
    if not path.exists():
        raise DataError(f"missing {'/'.join(relative)} under data root {root} (see "
                        f"{Path(root) / relative[0] / 'SOURCE.md'}; pass --data-root or set "
                        "$INTERLENS_DATA to another folder)", file=str(path))
    return path


def rows(path: Path, columns: Sequence[str]) -> list[Record]:
    """All records of a table, checking the first has ``columns``."""
    records = list(read_records(path))
    if not records:
        raise DataError("no rows", file=str(path))
    for column in columns:
        get_field(records[0], column, str(path), required=False)
    return records


def value(record: Record, column: str, path: Path) -> str:
    """A required, stripped string cell."""
    return str(get_field(record, column, str(path))).strip()


def check_label(label: str, labels: Sequence[str], record: Record, column: str, path: Path) -> str:
    if label not in labels:
        raise DataError(f"unknown label {label!r}; expected one of {list(labels)}", file=str(path),
                        record=record.where, field=column)
    return label


def build_context(turns: Sequence[tuple[int, str]], position: int, max_turns: int | None,
                  turns_after: int = 0) -> str:
    """Previous turns of a dialogue as lines (oldest first), with ``[...]`` where utterance numbers
    jump (turns missing from the file) and ``[start of dialogue]`` when there is nothing before.
    ``turns_after`` > 0 appends a ``[next]`` line and up to that many following turns (the offline
    setting of conversational emotion recognition, e.g. EmoBERTa, Kim & Vossen 2021, which reads
    past and future turns), or ``[end of dialogue]``; they come last, so a model that keeps the most
    recent tokens of the context keeps them.

    ``turns`` holds ``(utterance number, "SPEAKER: text")`` in dialogue order.
    """
    start = 0 if max_turns is None else max(0, position - max_turns)
    lines: list[str] = []
    previous = turns[start][0] - 1 if start > 0 else -1  # a truncated window gets no leading [...]
    for number, line in turns[start:position]:
        if number != previous + 1:
            lines.append(CONTEXT_GAP)
        lines.append(line)
        previous = number
    if turns[position][0] != previous + 1:
        lines.append(CONTEXT_GAP)
    past = "\n".join(lines) if lines else CONTEXT_START
    if turns_after <= 0:
        return past
    following = turns[position + 1:position + 1 + turns_after]
    if not following:
        return f"{past}\n{CONTEXT_NEXT}\n{CONTEXT_END}"
    after, previous = [CONTEXT_NEXT], turns[position][0]
    for number, line in following:
        if number != previous + 1:
            after.append(CONTEXT_GAP)
        after.append(line)
        previous = number
    return "\n".join([past, *after])


def dialogue_contexts(keys: Sequence[tuple[str, int]], lines: Sequence[str],
                      max_turns: int | None, turns_after: int = 0) -> list[str]:
    """For rows keyed ``(dialogue, utterance number)``, the context string of each row."""
    by_dialogue: dict[str, list[int]] = defaultdict(list)
    for index, (dialogue, _) in enumerate(keys):
        by_dialogue[dialogue].append(index)
    out = [""] * len(keys)
    for members in by_dialogue.values():
        members.sort(key=lambda i: keys[i][1])
        turns = [(keys[i][1], lines[i]) for i in members]
        for position, index in enumerate(members):
            out[index] = build_context(turns, position, max_turns, turns_after)
    return out


def carve_dev(train: list[str], group_of: dict[str, str], fraction: float, seed: int
              ) -> tuple[list[str], list[str]]:
    """Split ``train`` into (train, dev) by group: no group in both."""
    parts = group_split(train, [group_of[i] for i in train], {"train": 1 - fraction, "dev": fraction},
                        seed=seed)
    return parts["train"], parts["dev"]


_ASCII = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2026": "...",
                        "\u2014": "--", "\u2013": "-", "\u00a0": " "})


def plain_text(text: str) -> str:
    """Curly quotes, ellipsis and dashes as ASCII; runs of whitespace as one space."""
    return " ".join(text.translate(_ASCII).split())


def as_int(record: Record, column: str, path: Path) -> int:
    text = value(record, column, path)
    try:
        return int(text)
    except ValueError:
        raise DataError(f"expected an integer, got {text!r}", file=str(path), record=record.where,
                        field=column) from None


def choice(option: str, given: Any, allowed: Iterable[Any]) -> None:
    allowed = list(allowed)
    if given not in allowed:
        raise DataError(f"option {option}={given!r} is not one of {allowed}", field=option)


# -- MUStARD ----------------------------------------------------------------------------------
def load_mustard(root: Path, *, split: str = "speaker_independent", fold: int | None = None,
                 dev_fraction: float = 0.1, seed: int = 0, speaker_prefix: bool = False) -> Dataset:
    """MUStARD sarcasm in TV dialogue (Castro et al., ACL 2019): utterance + preceding context turns.

    Splits: ``split="speaker_independent"`` (default) as the authors' loader does it (test = the 356
    FRIENDS clips, train = the 334 others; its docstring says BBT but the code tests FRIENDS), or
    ``fold=0..4`` (``split="fold"``) = the 5 stratified folds of ``split_indices.json`` (552/138;
    positions index the keys of ``sarcasm_data.json`` in file order). ``dev`` (``dev_fraction`` of
    train, 0 for none) is carved from train by speaker with ``seed`` - no speaker in both. Groups are
    ``SHOW:SPEAKER`` (the placeholder speakers PERSON/PERSON1 occur in two shows and are different
    people). ``context`` = one ``SPEAKER: text`` line per preceding turn; ``speaker_prefix`` also
    prefixes the utterance. Ids are the clip ids (``"1_60"``).
    """
    choice("split", split, ("speaker_independent", "fold"))
    path = require(root, "mustard", "sarcasm_data.json")
    data = read_json(path)
    samples: list[Sample] = []
    for position, (clip, item) in enumerate(data.items()):
        where = Record(f"key {clip!r}", item)
        for column in ("utterance", "speaker", "context", "context_speakers", "show", "sarcasm"):
            get_field(where, column, str(path), required=column != "sarcasm")
        if len(item["context"]) != len(item["context_speakers"]):
            raise DataError("context and context_speakers differ in length", file=str(path),
                            record=where.where, field="context_speakers")
        speaker, utterance = item["speaker"], item["utterance"].strip()
        context = "\n".join(f"{s}: {t.strip()}" for s, t in zip(item["context_speakers"], item["context"],
                                                                 strict=True))
        samples.append(Sample(
            id=str(clip), label=SARCASM_LABELS[bool(item["sarcasm"])], group=f"{item['show']}:{speaker}",
            inputs={"utterance": f"{speaker}: {utterance}" if speaker_prefix else utterance,
                    "context": context},
            meta={"speaker": speaker, "show": item["show"], "position": position,
                  "context_speakers": list(item["context_speakers"])}))
    ids = [s.id for s in samples]
    if fold is not None or split == "fold":
        if fold is None:
            raise DataError("split='fold' needs fold=0..4", field="fold")
        folds = read_json(require(root, "mustard", "split_indices.json"))
        choice("fold", fold, range(len(folds)))
        train, test = ([ids[i] for i in folds[fold][part]] for part in ("train", "test"))
        split_name = f"fold{fold}"
    else:
        test = [s.id for s in samples if s.meta["show"] == "FRIENDS"]
        train = [s.id for s in samples if s.meta["show"] != "FRIENDS"]
        split_name = "speaker_independent"
    splits = {"train": train, "test": test}
    if dev_fraction > 0:
        splits["train"], splits["dev"] = carve_dev(train, {s.id: s.group or "" for s in samples},
                                                   dev_fraction, seed)
    splits = {k: splits[k] for k in SPLITS if k in splits}
    return Dataset(name="mustard" if split_name == "speaker_independent" else f"mustard-{split_name}",
                   labels=SARCASM_LABELS, samples=samples, modalities=("utterance", "context"),
                   kinds={"utterance": "text", "context": "text"},
                   splits=splits, dimension="sarcasm", source=str(path),
                   info={"split": split_name, "dev": f"{dev_fraction:g} of train by speaker, seed {seed}",
                         "options": {"speaker_prefix": speaker_prefix}})


# -- MIntRec ----------------------------------------------------------------------------------
def load_mintrec(root: Path) -> Dataset:
    """MIntRec intent recognition, 20 intents (Zhang et al., ACM MM 2022): utterance text.

    Official train/dev/test (1334/445/445) from ``mintrec/Original/MIntRec-1``. Ids
    ``S05_E16_329`` (season_episode_clip, as in MMLA's ``MIntRec_S05_E16_329``); group = episode
    (``S05_E16``) - the official splits are *not* episode-disjoint (every episode is in all three).
    """
    samples, splits = [], {}
    for split in SPLITS:
        path = require(root, "mintrec", "Original", "MIntRec-1", f"{split}.tsv")
        splits[split] = []
        for record in rows(path, ("season", "episode", "clip", "text", "label")):
            season, episode = value(record, "season", path), value(record, "episode", path)
            clip = value(record, "clip", path)
            sample_id = f"{season}_{episode}_{clip}"
            label = check_label(value(record, "label", path), MINTREC_LABELS, record, "label", path)
            samples.append(Sample(sample_id, {"text": value(record, "text", path)}, label,
                                  f"{season}_{episode}", {"split": split, "record": record.where}))
            splits[split].append(sample_id)
    return Dataset(name="mintrec", labels=MINTREC_LABELS, samples=samples, modalities=("text",),
                   kinds=TEXT_KINDS, splits=splits, dimension="intent",
                   source=str(root / "mintrec" / "Original" / "MIntRec-1" / "{train,dev,test}.tsv"),
                   info={"groups_cross_splits": True})


def load_mintrec2(root: Path, *, context: bool = False, context_turns: int | None = None,
                  turns_after: int = 0) -> Dataset:
    """MIntRec2.0 in-scope intents, 30 classes (Zhang et al., ICLR 2024): utterance (+ context).

    Official train/dev/test (6165/1106/2033) from ``mintrec/Original/MIntRec-2``; dialogues never
    cross splits. Ids ``{Dialogue_id}_{Utterance_id}`` (MMLA's ``MIntRec2.0_{d}_{u}``), group
    ``dia{Dialogue_id}``. ``context=True`` adds the previous in-scope utterances of the dialogue
    (``context_turns`` at most, all by default) as ``speaker: text`` lines; out-of-scope utterances
    are not in the files, so skipped utterance numbers show as ``[...]``; ``turns_after`` > 0 also adds
    that many following turns after a ``[next]`` line (:func:`build_context`).
    """
    samples, splits = [], {}
    for split in SPLITS:
        path = require(root, "mintrec", "Original", "MIntRec-2", f"{split}.tsv")
        records = rows(path, ("Dialogue_id", "Utterance_id", "Text", "Label", "speakername"))
        keys = [(value(r, "Dialogue_id", path), as_int(r, "Utterance_id", path)) for r in records]
        texts = [value(r, "Text", path) for r in records]
        speakers = [str(get_field(r, "speakername", str(path), required=False)).strip() or "?"
                    for r in records]
        contexts = dialogue_contexts(keys, [f"{s}: {t}" for s, t in zip(speakers, texts, strict=True)],
                                     context_turns, turns_after) if context else None
        splits[split] = []
        for index, record in enumerate(records):
            dialogue, number = keys[index]
            sample_id = f"{dialogue}_{number}"
            label = check_label(value(record, "Label", path), MINTREC2_LABELS, record, "Label", path)
            inputs = {"text": texts[index]}
            if contexts is not None:
                inputs["context"] = contexts[index]
            meta = {"split": split, "speaker": speakers[index], "show": record.fields.get("Source"),
                    "start": record.fields.get("Start_timestamp"), "end": record.fields.get("End_timestamp"),
                    "record": record.where}
            samples.append(Sample(sample_id, inputs, label, f"dia{dialogue}", meta))
            splits[split].append(sample_id)
    return Dataset(name="mintrec2", labels=MINTREC2_LABELS, samples=samples,
                   modalities=("text", "context") if context else ("text",), splits=splits,
                   dimension="intent", kinds=TEXT_KINDS,
                   source=str(root / "mintrec" / "Original" / "MIntRec-2" / "{train,dev,test}.tsv"),
                   info={"options": {"context": context, "context_turns": context_turns,
                                     "turns_after": turns_after}})


# -- MELD -------------------------------------------------------------------------------------
def load_meld(root: Path, *, task: str = "emotion", context: bool = False,
              context_turns: int | None = None, turns_after: int = 0, ascii_text: bool = False,
              speaker_prefix: bool = False) -> Dataset:
    """MELD emotion (7) or sentiment (3) in Friends dialogues (Poria et al., ACL 2019).

    Official train/dev/test (9989/1109/2610) from ``meld/MELD/*_sent_emo.csv`` (read as UTF-8; the
    text keeps its curly quotes and ellipses; train has 1038 dialogues - id 60 is absent though the
    README counts 1039). ``Dialogue_ID`` restarts in every split, so ids are
    ``{split}_dia{D}_utt{U}`` and groups ``{split}_dia{D}``. ``context=True`` adds the previous
    turns of the dialogue (``context_turns`` at most) as ``Speaker: text`` lines, ``[...]`` marking
    skipped utterance numbers; ``turns_after`` > 0 also adds that many following turns after a ``[next]``
    line (:func:`build_context`). ``ascii_text=True`` turns curly quotes, ellipses and dashes into ASCII
    and collapses whitespace (the release mixes ``’`` and ``'``). ``meta`` keeps the other task's label.
    """
    choice("task", task, ("emotion", "sentiment"))
    labels = MELD_EMOTIONS if task == "emotion" else MELD_SENTIMENTS
    column = "Emotion" if task == "emotion" else "Sentiment"
    samples, splits = [], {}
    for split in SPLITS:
        path = require(root, "meld", "MELD", f"{split}_sent_emo.csv")
        records = rows(path, ("Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID"))
        keys = [(value(r, "Dialogue_ID", path), as_int(r, "Utterance_ID", path)) for r in records]
        texts = [value(r, "Utterance", path) for r in records]
        if ascii_text:
            texts = [plain_text(t) for t in texts]
        speakers = [value(r, "Speaker", path) for r in records]
        contexts = dialogue_contexts(keys, [f"{s}: {t}" for s, t in zip(speakers, texts, strict=True)],
                                     context_turns, turns_after) if context else None
        splits[split] = []
        for index, record in enumerate(records):
            dialogue, number = keys[index]
            sample_id = f"{split}_dia{dialogue}_utt{number}"
            label = check_label(value(record, column, path).lower(), labels, record, column, path)
            inputs = {"text": f"{speakers[index]}: {texts[index]}" if speaker_prefix else texts[index]}
            if contexts is not None:
                inputs["context"] = contexts[index]
            meta = {"split": split, "clip": f"dia{dialogue}_utt{number}", "speaker": speakers[index],
                    "emotion": record.fields["Emotion"], "sentiment": record.fields["Sentiment"],
                    "season": record.fields.get("Season"), "episode": record.fields.get("Episode"),
                    "record": record.where}
            samples.append(Sample(sample_id, inputs, label, f"{split}_dia{dialogue}", meta))
            splits[split].append(sample_id)
    return Dataset(name="meld" if task == "emotion" else "meld-sentiment", labels=labels, samples=samples,
                   modalities=("text", "context") if context else ("text",), splits=splits, dimension=task,
                   kinds=TEXT_KINDS,
                   source=str(root / "meld" / "MELD" / "{train,dev,test}_sent_emo.csv"),
                   info={"options": {"task": task, "context": context, "context_turns": context_turns,
                                     "turns_after": turns_after, "ascii_text": ascii_text,
                                     "speaker_prefix": speaker_prefix}})


# -- AnnoMI -----------------------------------------------------------------------------------
def _mmla_annomi(root: Path, task: str) -> tuple[dict[str, str], list[str]]:
    """clip key ``<transcript>_<utterance>`` -> MMLA split, and the files read."""
    membership: dict[str, str] = {}
    files = []
    for split in ("train", "dev"):
        path = require(root, "mmla", f"AnnoMi-{task}_{split}_text_communication_behavior_llamafactory.json")
        files.append(str(path))
        prefix = f"AnnoMi-{task}_"
        for number, item in enumerate(read_json(path), start=1):
            video = str(item.get("video", ""))
            if not video.startswith(prefix):
                raise DataError(f"clip id {video!r} does not start with {prefix!r}", file=str(path),
                                record=f"row {number}", field="video")
            membership[video[len(prefix):].rsplit(".", 1)[0]] = split
    return membership, files


def load_annomi(root: Path, *, task: str = "client", split: str = "group", context_turns: int = 3,
                seed: int = 0, turns_after: int = 0) -> Dataset:
    """AnnoMI counselling dialogues (Wu et al., ICASSP 2022): client talk type or therapist behaviour.

    ``task="client"`` (neutral/change/sustain) or ``"therapist"`` (question/therapist_input/
    reflection/other), from ``AnnoMI-simple.csv``. ``text`` = the utterance, ``context`` = up to
    ``context_turns`` previous turns of the conversation (both speakers, ``client: ...`` lines), and with
    ``turns_after`` > 0 that many following turns after a ``[next]`` line (:func:`build_context`).
    Group = transcript. No official split: ``split="group"`` draws an 80/10/10 transcript-wise split
    stratified by label (``splits.stratified_group_split``, ``seed``). ``split="mmla"`` uses the MMLA
    benchmark's train/dev clip ids (``AnnoMi-<task>_<transcript>_<utterance>``) and puts every other
    utterance in ``rest`` (MMLA's test set, 1129 client / 1140 therapist utterances, is not in the
    store; ``rest`` is larger - 1233 / 1249 - and MMLA's train and dev share one transcript).
    Ids ``<transcript>_<utterance>``.
    """
    choice("task", task, ("client", "therapist"))
    choice("split", split, ("group", "mmla"))
    labels, column = ((ANNOMI_CLIENT, "client_talk_type") if task == "client"
                      else (ANNOMI_THERAPIST, "main_therapist_behaviour"))
    path = require(root, "annomi", "AnnoMI-simple.csv")
    records = rows(path, ("transcript_id", "utterance_id", "interlocutor", "utterance_text", column))
    keys = [(value(r, "transcript_id", path), as_int(r, "utterance_id", path)) for r in records]
    texts = [value(r, "utterance_text", path) for r in records]
    who = [value(r, "interlocutor", path) for r in records]
    contexts = dialogue_contexts(keys, [f"{w}: {t}" for w, t in zip(who, texts, strict=True)], context_turns,
                                 turns_after)
    samples = []
    for index, record in enumerate(records):
        if who[index] != task:
            continue
        transcript, number = keys[index]
        label = check_label(value(record, column, path), labels, record, column, path)
        meta = {"transcript_id": transcript, "utterance_id": number, "topic": record.fields.get("topic"),
                "mi_quality": record.fields.get("mi_quality"), "record": record.where}
        samples.append(Sample(f"{transcript}_{number}", {"text": texts[index], "context": contexts[index]},
                              label, transcript, meta))
    ids = [s.id for s in samples]
    sources = [str(path)]
    if split == "mmla":
        membership, files = _mmla_annomi(root, task)
        sources += files
        unknown = sorted(set(membership) - set(ids))
        if unknown:
            raise DataError(f"{len(unknown)} MMLA clip ids not in AnnoMI-simple.csv, e.g. {unknown[:3]}",
                            file=files[0], field="video")
        splits = {name: [i for i in ids if membership.get(i, "rest") == name]
                  for name in ("train", "dev", "rest")}
    else:
        splits = stratified_group_split(ids, [s.group or "" for s in samples],
                                        [s.label or "" for s in samples],
                                        {"train": 0.8, "dev": 0.1, "test": 0.1}, seed=seed)
    return Dataset(name=f"annomi-{task}", labels=labels, samples=samples, modalities=("text", "context"),
                   kinds=TEXT_KINDS,
                   splits=splits, dimension="communication_behavior", source=", ".join(sources),
                   info={"options": {"task": task, "split": split, "context_turns": context_turns,
                                     "turns_after": turns_after, "seed": seed}})


# -- MMSD2.0 ----------------------------------------------------------------------------------
def read_image_attributes(path: Path) -> dict[str, str]:
    """``mmsd/extract/extract_all``: one Python-literal list ``['<tweet id>', w1, .., w5]`` per line
    (CRLF endings) -> tweet id -> ``"w1, w2, w3, w4, w5"``."""
    out: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if not line:
                continue
            parts = line[2:-2].split("', '") if line.startswith("['") and line.endswith("']") else []
            if len(parts) != 6 or any("'" in p for p in parts):
                try:
                    parts = [str(p) for p in ast.literal_eval(line)]
                except (ValueError, SyntaxError):
                    raise DataError("expected a list literal [id, w1, .., w5]", file=str(path),
                                    record=f"line {number}") from None
            if len(parts) < 2:
                raise DataError(f"expected an id and attribute words, got {parts}", file=str(path),
                                record=f"line {number}")
            out[parts[0]] = ", ".join(parts[1:])
    return out


def load_mmsd2(root: Path, *, image_attributes: bool = True) -> Dataset:
    """MMSD2.0 Twitter sarcasm (Qin et al., ACL Findings 2023): tweet text + image attribute words.

    Official train/valid/test (19816/2410/2409; ``valid`` is named ``dev`` here) from
    ``mmsd2/text_json_final``; label 0/1 -> not_sarcastic/sarcastic. The images are not in the store:
    ``image_attributes`` is their text-form view, the five attribute words per tweet from
    ``mmsd/extract/extract_all`` (Cai et al., ACL 2019). Ids are the 64-bit tweet ids as exact strings.
    """
    attributes = read_image_attributes(require(root, "mmsd", "extract", "extract_all")) if image_attributes \
        else {}
    samples, splits = [], {}
    for split, file in (("train", "train"), ("dev", "valid"), ("test", "test")):
        path = require(root, "mmsd2", "text_json_final", f"{file}.json")
        splits[split] = []
        for record in read_records(path):
            raw = get_field(record, "image_id", str(path))
            if not isinstance(raw, int | str):
                raise DataError(f"image_id must be an integer, got {raw!r}", file=str(path),
                                record=record.where, field="image_id")
            sample_id = str(raw)
            label = get_field(record, "label", str(path), required=False)
            if label not in (0, 1):
                raise DataError(f"label must be 0 or 1, got {label!r}", file=str(path), record=record.where,
                                field="label")
            inputs = {"text": str(get_field(record, "text", str(path))).strip()}
            if image_attributes:
                if sample_id not in attributes:
                    raise DataError(f"no image attributes for tweet {sample_id}", file=str(path),
                                    record=record.where, field="image_id")
                inputs["image_attributes"] = attributes[sample_id]
            samples.append(Sample(sample_id, inputs, SARCASM_LABELS[label], None,
                                  {"split": split, "record": record.where}))
            splits[split].append(sample_id)
    return Dataset(name="mmsd2", labels=SARCASM_LABELS, samples=samples,
                   modalities=("text", "image_attributes") if image_attributes else ("text",), splits=splits,
                   kinds=TEXT_KINDS,
                   dimension="sarcasm",
                   source=str(root / "mmsd2" / "text_json_final" / "{train,valid,test}.json"),
                   info={"options": {"image_attributes": image_attributes}})


# -- registry ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DatasetCard:
    """Static facts about a registered dataset (known without reading it)."""

    loader: Callable[..., Dataset]
    dimension: str
    modalities: tuple[str, ...]
    labels: tuple[str, ...]
    files: tuple[str, ...]
    optional_modalities: tuple[str, ...] = ()
    notes: dict[str, str] = field(default_factory=dict)
    #: the kind of every modality (optional ones included), declared, not inferred
    kinds: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        undeclared = [m for m in (*self.modalities, *self.optional_modalities) if m not in self.kinds]
        if undeclared:
            raise ValueError(f"dataset card for {self.loader.__name__} declares no kind for {undeclared}")

    @property
    def description(self) -> str:
        return (inspect.getdoc(self.loader) or "").splitlines()[0]

    @property
    def options(self) -> dict[str, Any]:
        params = list(inspect.signature(self.loader).parameters.values())[1:]
        return {p.name: p.default for p in params}


#: registered datasets (:class:`interlens.registry.Registry`; names are looked up case-insensitively)
REGISTRY: Registry[DatasetCard] = Registry("dataset", normalize=lambda name: name.strip().lower(), entries={
    "mustard": DatasetCard(load_mustard, "sarcasm", ("utterance", "context"), SARCASM_LABELS,
                           ("mustard/sarcasm_data.json", "mustard/split_indices.json"),
                           kinds={"utterance": "text", "context": "text"}),
    "mintrec": DatasetCard(load_mintrec, "intent", ("text",), MINTREC_LABELS,
                           tuple(f"mintrec/Original/MIntRec-1/{s}.tsv" for s in SPLITS), kinds={"text": "text"}),
    "mintrec2": DatasetCard(load_mintrec2, "intent", ("text",), MINTREC2_LABELS,
                            tuple(f"mintrec/Original/MIntRec-2/{s}.tsv" for s in SPLITS), ("context",),
                            kinds={"text": "text", "context": "text"}),
    "meld": DatasetCard(load_meld, "emotion", ("text",), MELD_EMOTIONS,
                        tuple(f"meld/MELD/{s}_sent_emo.csv" for s in SPLITS), ("context",),
                        {"task=sentiment": f"labels {', '.join(MELD_SENTIMENTS)}"},
                        kinds={"text": "text", "context": "text"}),
    "annomi": DatasetCard(load_annomi, "communication_behavior", ("text", "context"), ANNOMI_CLIENT,
                          ("annomi/AnnoMI-simple.csv",), (),
                          {"task=therapist": f"labels {', '.join(ANNOMI_THERAPIST)}"},
                          kinds={"text": "text", "context": "text"}),
    "mmsd2": DatasetCard(load_mmsd2, "sarcasm", ("text", "image_attributes"), SARCASM_LABELS,
                         tuple(f"mmsd2/text_json_final/{s}.json" for s in ("train", "valid", "test"))
                         + ("mmsd/extract/extract_all",),
                         kinds={"text": "text", "image_attributes": "text"}),  # attribute words: text form
})


def get_card(name: str) -> DatasetCard:
    """The card of a registered dataset ("unknown dataset 'x'. Did you mean ...?" otherwise)."""
    return REGISTRY.get(name)


def load_dataset(name: str, data_root: str | os.PathLike | None = None, **options: Any) -> Dataset:
    """Load a registered dataset by name (``list_datasets()`` shows the names and their options)."""
    card = get_card(name)
    for option in options:
        if option not in card.options:
            raise unknown_name(f"{name} option", option, list(card.options))
    return card.loader(resolve_root(data_root), **options)


def list_datasets(data_root: str | os.PathLike | None = None, *, sizes: bool = False) -> list[dict[str, Any]]:
    """One row per registered dataset: name, description, dimension, modalities, labels, options and
    whether its files are under the data root; ``sizes=True`` also loads it for split sizes."""
    from .paths import find_data_root

    root = find_data_root(data_root)
    out = []
    for name, card in REGISTRY.items():
        available = root is not None and all((root / f).exists() for f in card.files)
        row: dict[str, Any] = {
            "name": name, "description": card.description, "dimension": card.dimension,
            "modalities": list(card.modalities), "optional_modalities": list(card.optional_modalities),
            "kinds": dict(card.kinds),
            "n_labels": len(card.labels), "labels": list(card.labels), "options": card.options,
            "variants": dict(card.notes), "available": available, "splits": None}
        if sizes and available:
            try:
                row["splits"] = {k: len(v) for k, v in card.loader(root).splits.items()}
            except InterlensError as err:
                row["error"] = str(err)
        out.append(row)
    return out
