"""The MINT study on 8 MMLA tasks with their text (issues 12 item 2, 27 item 5; MINT Eq. 1-2, Table 2, Figs. 3-4).

Builds the eight tasks (utterance + context, train / dev / test), then calls
:func:`interlens.mint.run_mint_study`: per seed the interaction score of every task (multimodal
reference, with its dev count and interval), the R / U / S groups (both of MINT's Sec. 3.3 steps) and their
stability across seeds (adjusted Rand index), the four training regimes (group, all, single, INSTA), group vs
each other regime paired over test items, and the honest baselines (chance floors, training majority class,
utterance-only and context-only models). Default scorer: ``embedding`` (frozen MiniLM, trained heads).

Tasks (MMLA tasks that have an utterance and a context text):

* ``mustard`` (registered loader; its speaker-independent split; context = the dialogue before the line);
* ``mintrec2`` and ``meld`` (emotion) with ``context=True, context_turns=3`` (official splits);
* ``annomi-client`` / ``annomi-therapist`` (registered ``annomi`` loader, ``task=client|therapist``;
  context = up to 3 previous turns; its group split by conversation);
* three built here from ``emotyda`` (Saha et al., ACL 2020; see its SOURCE.md):
  ``meld-da`` (MELD.csv, label ``Dialogue Act``, 12 classes; context = up to 3 previous turns of the
  same ``Dialogue_ID`` as ``Speaker: text`` lines; seeded group-disjoint (by dialogue) stratified
  train / dev / test split 80 / 10 / 10), ``iemocap-da`` (label ``DA``) and ``iemocap-emotion`` (label
  ``EMOTION``), both over the turns labelled with one of MMLA's six emotions neu fru ang sad hap exc (other
  codes, ``xxx`` and ``-`` dropped), so the two tasks read the same inputs in the same order. IEMOCAP
  context = up to 3 previous turns of the same dialogue (``TURN`` without its final ``_[FM]NNN`` part) in
  file order -- the ``NNN`` counters run per speaker, so the file order (the transcript order) is the
  dialogue order -- as ``F: text`` / ``M: text`` lines; split by session: sessions 1-3 train, 4 dev, 5 test
  (speaker-independent). Label names are MMLA's.

Cost cuts (2 CPU cores; see docs/mint.md for the sizing): ``--max-train`` keeps a seeded subset of each
task's train (drawn per seed, or once with ``--subset-seed``), ``--max-dev`` a fixed seeded subset of dev
(epoch selection and the interaction score), ``--max-test`` a fixed seeded subset of test (the same samples
for every seed and regime, so the paired tests stay paired; ``0``: the whole split). The frozen encoder's
vectors can be computed beforehand (``--precompute``) into ``--embedding-cache`` and loaded by the study
(exact: a text's vector depends on the text alone).

Writes ``--out`` (results.json with per-sample predictions, table.md, radar.png, seeds/ for resuming) and
``--results`` (the study JSON with a provenance block; its per-sample test predictions beside it as
``<name>.predictions.jsonl.gz`` with declared checks, so ``interlens verify benchmarks/results`` re-derives
the accuracies), then regenerates the tables of ``--docs`` (docs/mint.md, between its ``mint-study``
markers; ``--markdown`` does only that, from ``--results``).

    python benchmarks/mint_study.py --list              # build the 8 tasks and print their sizes (cheap)
    python benchmarks/mint_study.py --precompute --embedding-cache runs/mint-embcache --subset-seed 0 --seeds 1
    python benchmarks/mint_study.py --subset-seed 0 --embedding-cache runs/mint-embcache   # the study (docs/mint.md)
    python benchmarks/mint_study.py --tasks mustard,meld-da --max-train 60 --seeds 1 --out /tmp/mint --results \
        /tmp/mint/mint_study.json --docs /tmp/none.md  # a smoke run
    python benchmarks/mint_study.py --markdown          # docs/mint.md's tables from benchmarks/results/mint_study.json
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

import numpy as np

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
    ``"EMOTION"`` (MMLA's 6 emotions), both over the turns labelled with one of MMLA's 6 emotions (other
    codes, ``xxx`` and ``-`` dropped), so the two tasks have the same samples in the same order (the same
    seeded subsets: identical inputs, different labels). Context = up to 3 previous turns of the dialogue in
    file order (every turn, whatever its label); sessions 1-3 train, 4 dev, 5 test."""
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
            if row["EMOTION"].strip() not in IEMOCAP_EMOTIONS:
                continue  # both tasks read the turns of MMLA's 6 emotions: the same inputs, other labels
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


def study_texts(tasks: list[Dataset], max_train: int | None, seeds: list[int], eval_split: str = "test"
                ) -> list[list[str]]:
    """The texts the frozen encoder will read, one tier per task (in the order given) and seed: dev, the
    evaluation split and the train subset of the first seed, then the later seeds' train subsets (no text
    twice; what ``run_mint_study`` prepares). A killed precompute has then finished whole tasks first."""
    from interlens.mint.study import prepare_task, subset_train

    tiers: list[list[str]] = []
    seen: set[str] = set()
    for n, seed in enumerate(seeds):
        for data in tasks:
            task = subset_train(prepare_task(data, eval_split=eval_split), max_train, seed)
            splits = ("dev", eval_split, "train") if n == 0 else ("train",)
            tier: list[str] = []
            for split in splits:
                part = task.dataset.split(split)
                for sample in part.samples:
                    for m in part.modalities:
                        text = part.text(sample, m)
                        if text not in seen:
                            seen.add(text)
                            tier.append(text)
            tiers.append(tier)
    return tiers


def load_embedding_cache(path: Path) -> int:
    """Put the vectors of ``path`` (``texts.json`` + ``vectors.npy``, written by ``--precompute``) into the shared
    MiniLM encoder's memo. Exact: a text's vector is a function of the text alone (fixed batch rows and threads;
    interlens.scoring.encoders), so the study's scores are the same with or without the cache."""
    import numpy as np

    from interlens.scoring.encoders import shared_text_encoder

    if not (path / "texts.json").exists():
        return 0
    texts = json.loads((path / "texts.json").read_text())
    vectors = np.load(path / "vectors.npy")
    n = min(len(texts), len(vectors))  # both follow the memo's insertion order: a file written later only extends
    texts, vectors = texts[:n], vectors[:n]
    memo = shared_text_encoder()._memo  # noqa: SLF001 - the encoder's own per-text memo
    memo.update(zip(texts, vectors, strict=True))
    return len(texts)


def precompute_embeddings(tiers: list[list[str]], path: Path, chunk: int = 512) -> None:
    """Encode ``tiers`` (each tier in token-length order, so the encoder's same-length batches fill up) and save
    ``path/texts.json`` + ``path/vectors.npy`` after every chunk (a killed run keeps what it finished)."""
    import numpy as np

    from interlens.io import atomic_write_text
    from interlens.scoring.encoders import _load_minilm, shared_text_encoder

    encoder = shared_text_encoder()
    done = load_embedding_cache(path)
    tokenizer, _ = _load_minilm()
    path.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for n_tier, tier in enumerate(tiers):
        todo = [t for t in tier if t not in encoder._memo]  # noqa: SLF001
        if not todo:
            continue
        lengths = [len(ids) for ids in tokenizer(todo, truncation=True, max_length=encoder.max_length)["input_ids"]]
        todo = [t for _, t in sorted(zip(lengths, todo, strict=True))]
        for i in range(0, len(todo), chunk):
            encoder.encode(todo[i:i + chunk])
            texts = list(encoder._memo)  # noqa: SLF001
            tmp = path / "vectors.tmp.npy"
            np.save(tmp, np.stack([encoder._memo[t] for t in texts]))  # noqa: SLF001
            tmp.replace(path / "vectors.npy")
            atomic_write_text(path / "texts.json", json.dumps(texts))
            done += min(chunk, len(todo) - i)
            print(f"[{time.perf_counter() - start:6.0f} s] encoded {len(texts)} texts (tier {n_tier + 1} of "
                  f"{len(tiers)}: {i + min(chunk, len(todo) - i)} of {len(todo)} new)", flush=True)


def scorer_options(scorer: str, args: argparse.Namespace) -> dict[str, Any]:
    from interlens.scoring.registry import scorer_class

    params = scorer_class(scorer).param_names()
    wanted = {"epochs": args.epochs, "max_length": args.max_length, "threads": args.threads, "progress": False,
              "batch_size": args.batch_size, "lr": args.lr}
    return {k: v for k, v in wanted.items() if k in params and v is not None}


def provenance(argv: list[str], wall: float, options: dict[str, Any]) -> dict[str, Any]:
    """Where the numbers come from: script, argv, revision, versions, scorer options, wall time."""
    from interlens.provenance import environment, interlens_revision, interlens_version

    return {"script": "benchmarks/mint_study.py", "argv": argv, "interlens_version": interlens_version(),
            "git_revision": interlens_revision(), "environment": environment(), "wall_s": wall,
            "scorer_options": options}


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def markdown(summary: dict[str, Any], results: Path | None = None) -> str:
    """The tables of docs/mint.md (between the markers of ``results``) from the study JSON."""
    tasks = summary["tasks"]
    seeds = summary["settings"]["seeds"]
    inter = summary["interaction"]["scores"]
    name = f"benchmarks/results/{results.name}" if results is not None else "benchmarks/results/mint_study.json"
    option = "" if results is None or results.stem == "mint_study" else f" --results {name}"
    lines = [f"Generated by `python benchmarks/mint_study.py --markdown{option}` from `{name}` "
             f"(scorer `{summary['scorer']['name']}`, seeds {', '.join(map(str, seeds))}; grouping "
             f"`{summary['settings']['grouping']}`).", "",
             "**Interaction scores** (MINT Eq. 1, multimodal reference, on dev; 95 % bootstrap CI over dev samples "
             "per seed; n = dev samples behind each score; groups per seed: prototype (Step 1) / clustering "
             "(Step 2); * = a view behind the score is at its chance floor in that seed):", "",
             "| task | n dev | score per seed [95 % CI] | mean ± std | prototype | clustering |",
             "|---|---|---|---|---|---|"]
    proto, clust = summary["grouping_per_seed"]["prototype"], summary["grouping_per_seed"]["clustering"]
    for t in tasks:
        sc = inter[t]
        cells = ", ".join(f"{v:.2f} [{lo:.2f}, {hi:.2f}]" + ("*" if int(s) in sc["uninformative_in_seeds"] else "")
                          for v, (lo, hi), s in zip(sc["values"], sc["ci95_per_seed"], seeds, strict=True))
        std = f" ± {sc['std']:.2f}" if sc["std"] is not None else ""
        lines.append(f"| {t} | {'/'.join(str(n) for n in sorted(set(sc['n_per_seed'])))} | {cells} | "
                     f"{sc['mean']:.2f}{std} | {' '.join(proto[str(s)][t] for s in seeds)} | "
                     f"{' '.join(clust[str(s)][t] for s in seeds)} |")
    lines += ["", "**Groups and their stability across seeds** (adjusted Rand index between the seeds' partitions; "
              "R / U / S sizes per seed):", "", "| grouping | sizes per seed (R/U/S) | seeds with a task in each of "
              "R, U, S | pairwise ARI | mean ARI |", "|---|---|---|---|---|"]
    for kind, span_key in (("prototype", "prototype"), ("prototype, informative scores only",
                                                        "prototype_informative_only"), ("clustering", "clustering")):
        span = summary["span"][span_key]
        sizes = "; ".join("/".join(str(v["sizes"][g]) for g in "RUS") for v in span["per_seed"].values())
        stab = summary["stability"].get(kind)
        ari = ", ".join(f"{k}: {v:.2f}" for k, v in stab["adjusted_rand_index"].items()) if stab else "–"
        mean = f"{stab['mean_ari']:.2f}" if stab and stab["mean_ari"] is not None else "–"
        lines.append(f"| {kind} | {sizes} | {span['seeds_with_all']} of {span['n_seeds']} | {ari} | {mean} |")
    reason = summary["span"]["reason"]
    lines += ["", "Lowest / highest score per seed: " + "; ".join(
        f"seed {s}: {r['lowest']['task']} {r['lowest']['score']:.2f} [{r['lowest']['ci95'][0]:.2f}, "
        f"{r['lowest']['ci95'][1]:.2f}] (n={r['lowest']['n']}) / {r['highest']['task']} {r['highest']['score']:.2f} "
        f"[{r['highest']['ci95'][0]:.2f}, {r['highest']['ci95'][1]:.2f}] (n={r['highest']['n']})"
        for s, r in reason["per_seed"].items()) + ". Share of dev samples whose fused prediction agrees with "
        "neither unimodal model (per-sample S), mean over seeds: " + ", ".join(
        f"{t} {_pct(float(np.mean(v['neither'])))} %" for t, v in reason["per_task_share"].items()) + ".", ""]
    regimes = summary["settings"]["regimes"]
    columns = [*regimes, "majority", "utterance", "context"]
    lines += [f"**Test accuracy (%)**, mean ± std over {len(seeds)} seeds; floor = the higher of the test prior's "
              "constant floor and the train majority; n = training samples per task (seed 0):", "",
              "| task | n train | floor | " + " | ".join(columns) + " |", "|---|---|---|" + "---|" * len(columns)]
    acc = summary["summary"]["acc"]
    for t in [*tasks, "mean"]:
        floor = _pct(summary["floors"][t]["highest_floor_acc"]) if t in summary["floors"] else "–"
        n_train = summary["train_used"].get(t, "–") if t != "mean" else "–"
        cells = [(_pct(acc[t][c]["mean"]) + (f" ± {100 * acc[t][c]['std']:.1f}" if acc[t][c]["std"] is not None
                                             else "")) for c in columns]
        lines.append(f"| {t} | {n_train} | {floor} | " + " | ".join(cells) + " |")
    lines += ["", "**group vs all / single / INSTA** (paired over test items, seeds averaged per item; Δ in accuracy "
              "points with its item-bootstrap 95 % CI and sign-flip p; verdict: gain / loss when the CI excludes 0, "
              "else no gain):", "", "| task | " + " | ".join(summary["comparisons"]) + " |",
              "|---|" + "---|" * len(summary["comparisons"])]

    def cell(test: dict[str, Any]) -> str:
        lo, hi = test["ci95"]
        return (f"{100 * test['delta']:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}] p={test['p_value']:.3g} "
                f"{test['verdict']}")

    for t in tasks:
        lines.append(f"| {t} | " + " | ".join(cell(c["per_task"][t]) for c in summary["comparisons"].values()) + " |")
    lines.append("| all tasks' items pooled | " + " | ".join(cell(c["pooled"]) for c in
                                                             summary["comparisons"].values()) + " |")
    lines += ["", "Per task: " + "; ".join(f"{k}: {v['tasks']['gain']} gain, {v['tasks']['loss']} loss, "
                                             f"{v['tasks']['no gain']} no gain"
                                             for k, v in summary["comparisons"].items()) + ".",
              "", f"Verdict: {summary['verdict']}"]
    if summary.get("warnings"):
        lines += ["", "Warnings:", ""] + [f"- {w}" for w in summary["warnings"]]
    return "\n".join(lines) + "\n"


START, END = "<!-- mint-study:start -->", "<!-- mint-study:end -->"


def markers(results: Path) -> tuple[str, str]:
    """The docs markers of a results file: ``mint-study`` for mint_study.json, ``<stem>`` for another."""
    if results.stem == "mint_study":
        return START, END
    return f"<!-- {results.stem}:start -->", f"<!-- {results.stem}:end -->"


def write_docs(summary: dict[str, Any], docs: Path, results: Path | None = None) -> None:
    """Replace the block between the markers of ``results`` (:func:`markers`) in ``docs`` with :func:`markdown`."""
    start, end = markers(results) if results is not None else (START, END)
    text = docs.read_text()
    if start not in text or end not in text:
        raise SystemExit(f"{docs} has no {start} ... {end} block")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    docs.write_text(f"{head}{start}\n{markdown(summary, results)}{end}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated subset of the 8 tasks")
    parser.add_argument("--list", action="store_true", help="build the tasks, print their sizes and exit")
    parser.add_argument("--scorer", default="embedding")
    parser.add_argument("-s", "--scorer-option", action="append", default=[], metavar="KEY=VALUE",
                        help="scorer parameter (repeatable), e.g. -s fusion=late -s residual=true")
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, ...)")
    parser.add_argument("--max-train", type=int, default=1000, help="seeded subset of each task's train, per seed "
                        "(0: all)")
    parser.add_argument("--subset-seed", type=int, default=None,
                        help="one fixed train subset (drawn with this seed) for every seed (default: drawn per seed)")
    parser.add_argument("--max-dev", type=int, default=500, help="fixed seeded subset of each task's dev (0: all)")
    parser.add_argument("--max-test", type=int, default=400, help="fixed seeded subset of each task's test "
                        "(0: the whole test split)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds first-seed .. first-seed + seeds - 1 (a second process can compute later seeds "
                             "into the same --out; the study reuses every finished seed)")
    parser.add_argument("--grouping", choices=("prototype", "clustering"), default="clustering",
                        help="the partition the group regime trains on: MINT Sec. 3.3 Step 2 (clustering of the "
                             "Eq. 2 distances into R / U / S) or Step 1 (nearest prototype); both are reported")
    parser.add_argument("--epochs", type=int, default=None, help="scorer epochs (default: the scorer's own)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="scorer batch size (8: more optimizer steps for the same passes over small tasks)")
    parser.add_argument("--lr", type=float, default=None, help="scorer (encoder) learning rate")
    parser.add_argument("--max-length", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: far faster when other "
                        "processes share the cores; 2 on an idle 2-core machine)")
    parser.add_argument("--regimes", default="group,all,single,insta")
    parser.add_argument("--S", type=int, default=100, help="bootstrap resamples of the interaction score interval")
    parser.add_argument("--embedding-cache", type=Path, default=None,
                        help="folder of frozen MiniLM text vectors (texts.json + vectors.npy) loaded before the "
                             "study (exact: the same vectors the encoder computes); with --precompute: written")
    parser.add_argument("--precompute", action="store_true",
                        help="only encode the study's texts into --embedding-cache (dev, test and the first "
                             "seed's train subset first, then the later seeds' train subsets)")
    parser.add_argument("--markdown", action="store_true",
                        help="only regenerate docs/mint.md's tables from --results (no training)")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "mint.md")
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "mint-study")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "mint_study.json")
    args = parser.parse_args(argv)
    if args.markdown:
        write_docs(json.loads(args.results.read_text()), args.docs, args.results)
        print(f"wrote {args.docs}")
        return 0
    start = time.perf_counter()
    root = find_data_root(args.data_root)
    names = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    tasks = build_tasks(names, root, args.max_dev or None, args.max_test or None)
    train_used = {}
    for task in tasks:
        sizes = ", ".join(f"{k} {len(v)}" for k, v in task.splits.items())
        used = min(len(task.splits["train"]), args.max_train) if args.max_train else len(task.splits["train"])
        train_used[task.name] = used
        print(f"{task.name:17s} {len(task.labels):2d} labels  {sizes}  (train used: {used})", flush=True)
    if args.list:
        print(f"wall time {time.perf_counter() - start:.1f} s")
        return 0
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    if args.precompute:
        if args.embedding_cache is None:
            raise SystemExit("--precompute needs --embedding-cache")
        tiers = study_texts(tasks, args.max_train or None, seeds if args.subset_seed is None else [args.subset_seed])
        print(f"texts to encode: {[len(t) for t in tiers]}", flush=True)
        precompute_embeddings(tiers, args.embedding_cache)
        return 0
    if args.embedding_cache is not None:
        print(f"embedding cache: {load_embedding_cache(args.embedding_cache)} texts", flush=True)
    from interlens.evidence.store import read_predictions, save_study
    from interlens.methods.config import parse_overrides
    from interlens.mint import run_mint_study

    options = {**scorer_options(args.scorer, args), **parse_overrides(args.scorer_option, field="scorer_option")}

    def say(line: str) -> None:
        print(f"[{time.perf_counter() - start:7.0f} s] {line}", flush=True)

    r = run_mint_study(tasks, args.scorer, scorer_options=options, regimes=args.regimes.split(","), S=args.S,
                       max_train=args.max_train or None, seeds=seeds, subset_seed=args.subset_seed,
                       grouping=args.grouping, out=args.out, progress=say)
    wall = time.perf_counter() - start
    print((args.out / "table.md").read_text())
    stored = json.loads((args.out / "results.json").read_text())["stored_predictions"]
    summary = {k: v for k, v in r.items() if k != "predictions"}
    summary["benchmark"] = "mint_study"
    summary["issue"] = 27
    portable = [str(a).replace(f"{ROOT}/", "") for a in (argv or sys.argv[1:])]  # no machine paths in results
    script = str(Path(sys.argv[0]).resolve()).replace(f"{ROOT}/", "")
    summary["regenerate"] = "python " + " ".join(shlex.quote(a) for a in [script, *portable])
    summary["train_used"] = train_used
    summary["below_1000_train"] = {t: n for t, n in train_used.items() if n < 1000}
    summary["tasks_built"] = {t.name: {"source": portable_source(t.source), "info": {k: v for k, v in t.info.items()
                                                                    if isinstance(v, str | int | float | dict)},
                                       "labels": list(t.labels)} for t in tasks}
    summary["settings"].update(max_dev=args.max_dev or None, max_test=args.max_test or None, scorer_options=options)
    summary["provenance"] = provenance(portable, wall, options)
    save_study(args.results, summary, predictions=read_predictions(args.out, stored), checks=stored.get("checks"))
    if args.docs.exists() and markers(args.results)[0] in args.docs.read_text():
        write_docs(json.loads(args.results.read_text()), args.docs, args.results)
    print(f"results: {args.results} (per-sample predictions beside it)")
    print(f"wall time {wall:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
