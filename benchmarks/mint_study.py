"""The MINT study on 8 MMLA tasks with their text (issue 12 item 2; MINT Eq. 1-2, Table 2, Figs. 3-4).

Builds the eight tasks (utterance + context, train / dev / test), then calls
:func:`interlens.mint.run_mint_study`: per seed the interaction score of every task (multimodal
reference), the R / U / S groups, the four training regimes (group, all, single, INSTA) and the honest
baselines (training majority class, utterance-only and context-only models, paired permutation tests
vs. ``single`` and vs. the majority class). Writes ``--out`` (results.json with per-sample predictions,
table.md, radar.png) and ``--results`` (the same JSON without the per-sample predictions).

Tasks (MMLA tasks that have an utterance and a context text):

* ``mustard`` (registered loader; its speaker-independent split; context = the dialogue before the line);
* ``mintrec2`` and ``meld`` (emotion) with ``context=True, context_turns=3`` (official splits);
* ``annomi-client`` / ``annomi-therapist`` (registered ``annomi`` loader, ``task=client|therapist``;
  context = up to 3 previous turns; its group split by conversation);
* three built here from ``emotyda`` (Saha et al., ACL 2020; see its SOURCE.md):
  ``meld-da`` (MELD.csv, label ``Dialogue Act``, 12 classes; context = up to 3 previous turns of the
  same ``Dialogue_ID`` as ``Speaker: text`` lines; seeded group-disjoint (by dialogue) stratified
  train / dev / test split 80 / 10 / 10), ``iemocap-da`` (label ``DA``) and ``iemocap-emotion`` (label
  ``EMOTION`` restricted to MMLA's six classes neu fru ang sad hap exc; other codes, ``xxx`` and ``-``
  dropped). IEMOCAP context = up to 3 previous turns of the same dialogue (``TURN`` without its final
  ``_[FM]NNN`` part) in file order -- the ``NNN`` counters run per speaker, so the file order (the
  transcript order) is the dialogue order -- as ``F: text`` / ``M: text`` lines; split by session:
  sessions 1-3 train, 4 dev, 5 test (speaker-independent). Label names are MMLA's.

Cost cuts (2 CPU cores; see docs/mint.md for the sizing): ``--max-train`` keeps a seeded subset of each
task's train (drawn per seed), ``--max-dev`` a fixed seeded subset of dev (epoch selection and the
interaction score), ``--max-test`` a fixed seeded subset of test (the same samples for every seed and
regime, so the paired tests stay paired; ``--max-test 0`` evaluates on the whole test split).

    python benchmarks/mint_study.py --list              # build the 8 tasks and print their sizes (cheap)
    python benchmarks/mint_study.py                     # the full study: minilm-ft, 3 seeds
    python benchmarks/mint_study.py --scorer embedding --max-train 40 --seeds 1 --tasks mustard,meld-da
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from interlens.data.adapters import dialogue_contexts
from interlens.data.paths import data_root as find_data_root
from interlens.data.paths import portable_source
from interlens.data.resolve import resolve_dataset
from interlens.data.schema import Dataset, Sample
from interlens.data.splits import stratified_group_split
from interlens.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
CONTEXT_TURNS = 3
#: EMOTyDA dialogue-act codes -> MMLA label names (SOURCE.md; MMLA's candidate list order)
DIALOGUE_ACTS = {"g": "greeting", "q": "question", "ans": "answer", "o": "statement-opinion",
                 "s": "statement-non-opinion", "ap": "apology", "c": "command", "ag": "agreement",
                 "dag": "disagreement", "a": "acknowledge", "b": "backchannel", "oth": "others"}
#: IEMOCAP emotion codes kept by MMLA -> its label names (MMLA's order)
IEMOCAP_EMOTIONS = {"ang": "angry", "hap": "happy", "sad": "sad", "neu": "neutral", "fru": "frustrated",
                    "exc": "excited"}
#: Windows-1252 punctuation mis-decoded in EMOTyDA's MELD.csv (``let¬ís``)
MOJIBAKE = {"¬í": "'", "¬ë": "'", "¬ì": '"', "¬î": '"', "¬Ö": "...", "¬ó": "--", "¬ñ": "-", "¬†": " "}


def _clean(text: str) -> str:
    for bad, good in MOJIBAKE.items():
        text = text.replace(bad, good)

    def utf8(match: re.Match[str]) -> str:  # UTF-8 read as Mac Roman (``‚Äô``)
        try:
            return match.group().encode("mac_roman").decode("utf-8")
        except (UnicodeError, ValueError):
            return match.group()

    return re.sub("‚Ä.", utf8, text).strip()


def meld_da(root: Path, seed: int = 0) -> Dataset:
    """MELD dialogue acts (EMOTyDA MELD.csv): 12 classes, context = up to 3 previous turns of the
    dialogue, group = dialogue, stratified group-disjoint 80 / 10 / 10 split (``seed``)."""
    path = root / "emotyda" / "MELD.csv"
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    keys, lines, samples = [], [], []
    for row in rows:
        keys.append((row["Dialogue_ID"], int(row["Utterance_ID"])))
        lines.append(f"{row['Speaker'].strip()}: {_clean(row['Utterance'])}")
    contexts = dialogue_contexts(keys, lines, CONTEXT_TURNS)
    for n, (row, context) in enumerate(zip(rows, contexts, strict=True)):
        code = row["Dialogue Act"].strip()
        if code not in DIALOGUE_ACTS:
            raise DataError(f"unknown dialogue act {code!r}", file=str(path), record=n, field="Dialogue Act")
        samples.append(Sample(f"meld-da_{row['Dialogue_ID']}_{row['Utterance_ID']}",
                              {"text": _clean(row["Utterance"]), "context": context}, DIALOGUE_ACTS[code],
                              group=f"dia{row['Dialogue_ID']}", meta={"speaker": row["Speaker"]}))
    splits = stratified_group_split([s.id for s in samples], [s.group for s in samples],
                                    [s.label for s in samples], {"train": 0.8, "dev": 0.1, "test": 0.1}, seed=seed)
    return Dataset("meld-da", tuple(DIALOGUE_ACTS.values()), samples, ("text", "context"), splits=splits,
                   task="dialogue_act", dimension="dialogue_act", source=str(path),
                   kinds={"text": "text", "context": "text"},
                   info={"built_by": "benchmarks/mint_study.py", "split": f"stratified group split by dialogue "
                         f"80/10/10, seed {seed}", "context_turns": CONTEXT_TURNS})


def iemocap(root: Path, label: str) -> Dataset:
    """IEMOCAP transcripts (EMOTyDA iemocap_session{1..5}.csv): ``label="DA"`` (12 dialogue acts) or
    ``"EMOTION"`` (MMLA's 6 emotions; other codes dropped). Context = up to 3 previous turns of the
    dialogue in file order (every turn, whatever its label); sessions 1-3 train, 4 dev, 5 test."""
    name = "iemocap-da" if label == "DA" else "iemocap-emotion"
    codes = DIALOGUE_ACTS if label == "DA" else IEMOCAP_EMOTIONS
    samples, splits = [], {"train": [], "dev": [], "test": []}
    seen: dict[str, int] = {}
    for session in range(1, 6):
        path = root / "emotyda" / f"iemocap_session{session}.csv"
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        position: dict[str, int] = {}
        keys, lines = [], []
        for row in rows:
            dialogue, speaker = row["TURN"].rsplit("_", 1)
            keys.append((dialogue, position.setdefault(dialogue, 0)))
            position[dialogue] += 1
            lines.append(f"{speaker[0]}: {row['UTTERANCE'].strip()}")
        contexts = dialogue_contexts(keys, lines, CONTEXT_TURNS)
        split = "train" if session <= 3 else "dev" if session == 4 else "test"
        for n, (row, context, key) in enumerate(zip(rows, contexts, keys, strict=True)):
            code = row[label].strip()
            if code not in codes:
                if label == "DA":
                    raise DataError(f"unknown dialogue act {code!r}", file=str(path), record=n, field="DA")
                continue
            turn = row["TURN"] if row["TURN"] not in seen else f"{row['TURN']}#{seen[row['TURN']]}"
            seen[row["TURN"]] = seen.get(row["TURN"], 0) + 1  # session 5 repeats two FXX turn ids
            sample = Sample(f"{name}_{turn}", {"text": row["UTTERANCE"].strip(), "context": context},
                            codes[code], group=key[0], meta={"session": session})
            samples.append(sample)
            splits[split].append(sample.id)
    return Dataset(name, tuple(codes.values()), samples, ("text", "context"), splits=splits,
                   task="dialogue_act" if label == "DA" else "emotion",
                   dimension="dialogue_act" if label == "DA" else "emotion",
                   source=str(root / "emotyda" / "iemocap_session{1..5}.csv"),
                   kinds={"text": "text", "context": "text"},
                   info={"built_by": "benchmarks/mint_study.py", "split": "sessions 1-3 train, 4 dev, 5 test",
                         "context_turns": CONTEXT_TURNS})


#: task name -> how it is built (data root -> Dataset)
TASKS: dict[str, Callable[[Path], Dataset]] = {
    "mustard": lambda root: resolve_dataset("mustard", root),
    "mintrec2": lambda root: resolve_dataset("mintrec2", root, context=True, context_turns=CONTEXT_TURNS),
    "meld": lambda root: resolve_dataset("meld", root, context=True, context_turns=CONTEXT_TURNS),
    "annomi-client": lambda root: resolve_dataset("annomi", root, task="client"),
    "annomi-therapist": lambda root: resolve_dataset("annomi", root, task="therapist"),
    "meld-da": meld_da,
    "iemocap-da": lambda root: iemocap(root, "DA"),
    "iemocap-emotion": lambda root: iemocap(root, "EMOTION"),
}


def build_tasks(names: list[str], root: Path, max_dev: int | None, max_test: int | None = None) -> list[Dataset]:
    """The named tasks, each with its dev split capped at ``max_dev`` and its test split at ``max_test``
    (fixed seeded subsets, the same for every seed)."""
    unknown = [n for n in names if n not in TASKS]
    if unknown:
        raise SystemExit(f"unknown task(s) {unknown}; choose from {list(TASKS)}")
    return [TASKS[n](root).cap_split("dev", max_dev, seed=0).cap_split("test", max_test, seed=0) for n in names]


def scorer_options(scorer: str, args: argparse.Namespace) -> dict[str, Any]:
    from interlens.scoring.registry import scorer_class

    params = scorer_class(scorer).param_names()
    wanted = {"epochs": args.epochs, "max_length": args.max_length, "threads": args.threads, "progress": False,
              "batch_size": args.batch_size, "lr": args.lr}
    return {k: v for k, v in wanted.items() if k in params and v is not None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated subset of the 8 tasks")
    parser.add_argument("--list", action="store_true", help="build the tasks, print their sizes and exit")
    parser.add_argument("--scorer", default="minilm-ft")
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, ...)")
    parser.add_argument("--max-train", type=int, default=600, help="seeded subset of each task's train, per seed "
                        "(0: all)")
    parser.add_argument("--max-dev", type=int, default=200, help="fixed seeded subset of each task's dev (0: all)")
    parser.add_argument("--max-test", type=int, default=1000, help="fixed seeded subset of each task's test "
                        "(0: the whole test split)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds first-seed .. first-seed + seeds - 1 (a second process can compute later seeds "
                             "into the same --out; the study reuses every finished seed)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None,
                        help="scorer batch size (8: more optimizer steps for the same passes over small tasks)")
    parser.add_argument("--lr", type=float, default=None, help="scorer (encoder) learning rate")
    parser.add_argument("--max-length", type=int, default=96)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: far faster when other "
                        "processes share the cores; 2 on an idle 2-core machine)")
    parser.add_argument("--regimes", default="group,all,single,insta")
    parser.add_argument("--S", type=int, default=100, help="bootstrap resamples of the interaction score interval")
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "mint-study")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "mint_study.json")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    root = find_data_root(args.data_root)
    names = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    tasks = build_tasks(names, root, args.max_dev or None, args.max_test or None)
    for task in tasks:
        sizes = ", ".join(f"{k} {len(v)}" for k, v in task.splits.items())
        used = min(len(task.splits["train"]), args.max_train) if args.max_train else len(task.splits["train"])
        print(f"{task.name:17s} {len(task.labels):2d} labels  {sizes}  (train used: {used})", flush=True)
    if args.list:
        print(f"wall time {time.perf_counter() - start:.1f} s")
        return 0
    from interlens.mint import run_mint_study

    options = scorer_options(args.scorer, args)

    def say(line: str) -> None:
        print(f"[{time.perf_counter() - start:7.0f} s] {line}", flush=True)

    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    r = run_mint_study(tasks, args.scorer, scorer_options=options, regimes=args.regimes.split(","), S=args.S,
                       max_train=args.max_train or None, seeds=seeds, out=args.out, progress=say)
    wall = time.perf_counter() - start
    print((args.out / "table.md").read_text())
    summary = {k: v for k, v in r.items() if k != "predictions"}
    summary["benchmark"] = "mint_study"
    summary["regenerate"] = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv or sys.argv[1:])])
    summary["wall_s"] = wall
    summary["per_sample_predictions"] = str(args.out / "results.json")
    summary["tasks_built"] = {t.name: {"source": portable_source(t.source), "info": {k: v for k, v in t.info.items()
                                                                    if isinstance(v, str | int | float | dict)},
                                       "labels": list(t.labels)} for t in tasks}
    summary["settings"].update(max_dev=args.max_dev or None, max_test=args.max_test or None, scorer_options=options)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(summary, indent=1, default=str) + "\n")
    print(f"results: {args.results} (per-sample predictions: {args.out / 'results.json'})")
    print(f"wall time {wall:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
