"""Fine-tuning fast enough for a new dataset (issue 31 goal 2): ``interactions score`` wall time of
``--scorer minilm-ft`` vs ``--scorer embedding`` on the same ~1,200-sample, 3-view text dataset.

The dataset is a fixed subset of real dialogue data written as a YAML + JSONL dataset file (as a new
user would bring it): whole MELD training dialogues (Poria et al., ACL 2019; emotion, 7 labels) in a
seeded order until ~1,200 utterances, two text modalities -- ``utterance`` and ``context`` (the previous
turns, ``Speaker: text`` lines) -- so ``interactions score`` fits and scores three views (utterance,
context, utterance+context). No split column: the loader's seeded dialogue-disjoint 70/10/20 split.

Each configuration runs the real command line in a subprocess with a fresh ``--cache`` (cold: nothing
reused; its test-look ledger stays in the temp folder), interleaved per repetition so that the
machine's load hits every configuration alike (``--parallel``: all at the same time, for a machine whose
load changes faster than a run; then compare the children's own CPU seconds, recorded too):

- ``embedding``: the default scorer;
- ``minilm-ft`` with today's defaults (``minilm-ft``), and with the proposed faster defaults given as
  ``-s`` options (``minilm-ft-candidate``, see ``CANDIDATE``; ``--candidate KEY=VALUE`` replaces them), so
  both are measured in one run.

Per configuration: wall seconds, the ratio to ``embedding`` in the same repetition, the dev accuracy /
macro-F1 of the kept epoch per view (from the fitted scorer's checkpoint, ``train_log_``), the test
accuracy per view (``results.json``), and the longest gap between two lines on stderr (progress when
stderr is not a terminal: issue 31 asks for a line at least every 30 s).

    .venv/bin/python benchmarks/bench_finetune_speed.py                   # 2 repetitions, ~10 min
    .venv/bin/python benchmarks/bench_finetune_speed.py --reps 1 --configs embedding minilm-ft
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "finetune_speed.json"
ROOT = Path(__file__).resolve().parents[1]
#: the faster defaults proposed for minilm-ft (issue 31 goal 2), as ``-s`` options: 2 epochs instead of 3 (a third
#: fewer steps) and 64 tokens instead of 96 (22 % fewer padded tokens per epoch on this set; the utterance is never
#: cut for context, so only the oldest context turns go). --candidate replaces them.
CANDIDATE: dict[str, str] = {"epochs": "2", "max_length": "64"}
CONFIGS: dict[str, tuple[str, list[str]]] = {
    "embedding": ("embedding", []),
    "minilm-ft": ("minilm-ft", []),  # today's defaults
    "minilm-ft-candidate": ("minilm-ft", [f"{k}={v}" for k, v in CANDIDATE.items()]),
}


def build_dataset(folder: Path, n: int, seed: int, data_root: Path | None) -> dict[str, Any]:
    """Write ``folder/dialogues.yaml`` + ``samples.jsonl``: whole MELD training dialogues in a seeded order
    until ``n`` utterances; modalities utterance + context (previous turns). Returns a summary."""
    from interlens.data.resolve import resolve_dataset

    kwargs = {"root": data_root} if data_root else {}
    meld = resolve_dataset("meld", context=True, **kwargs).split("train")
    dialogues: dict[str, list[Any]] = {}
    for sample in meld.samples:
        dialogues.setdefault(str(sample.group), []).append(sample)
    order = sorted(dialogues)
    rows: list[dict[str, Any]] = []
    for k in np.random.default_rng(seed).permutation(len(order)):
        if len(rows) >= n:
            break
        rows += [{"id": s.id, "label": s.label, "utterance": s.inputs["text"], "context": s.inputs["context"],
                  "dialogue": s.group} for s in dialogues[order[k]]]
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "samples.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    labels = ", ".join(meld.labels)
    (folder / "dialogues.yaml").write_text(
        "name: meld-dialogues-1200\npath: samples.jsonl\nid: id\nlabel: label\n"
        f"labels: [{labels}]\nmodalities:\n  utterance: {{column: utterance, kind: text}}\n"
        "  context: {column: context, kind: text}\ngroup: dialogue\ntask: emotion recognition in dialogue\n",
        encoding="utf-8")
    return {"source": "MELD train (context=True), whole dialogues, seeded order", "seed": seed,
            "n_samples": len(rows), "n_dialogues": len({r["dialogue"] for r in rows}),
            "modalities": ["utterance", "context"], "labels": list(meld.labels)}


def _dev_from_checkpoints(folder: Path) -> dict[str, Any]:
    """Per view: dev accuracy / macro-F1 of the kept epoch, the kept epoch and epochs run (minilm-ft's
    ``train_log_`` in the run's checkpoint header)."""
    from interlens.checkpoints import _metadata

    out: dict[str, Any] = {}
    for path in sorted(folder.glob("*.safetensors")):
        header = json.loads(_metadata(path.read_bytes()).get("interlens", "{}"))
        meta = header.get("meta") or header.get("state") or header
        logs, best = meta.get("train_log_"), meta.get("best_epoch_")
        if not logs:
            continue
        for view, log in logs.items():
            kept = best.get(view, len(log) - 1) if best else len(log) - 1
            entry = log[kept]
            out[view] = {"dev_acc": entry.get("val_acc"), "dev_macro_f1": entry.get("val_macro_f1"),
                         "kept_epoch": kept, "epochs_run": len(log),
                         "train_seconds": float(sum(e["seconds"] for e in log))}
    return out


def run_config(name: str, dataset: Path, work: Path, rep: int) -> dict[str, Any]:
    """One ``interlens interactions score`` run from a cold (fresh, empty) cache; wall time and results."""
    scorer, options = CONFIGS[name]
    out = work / f"{name}-{rep}"
    cache = work / f"cache-{name}-{rep}" / "predictions.sqlite"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(cache.parent, ignore_errors=True)
    cmd = [sys.executable, "-m", "interlens", "interactions", "score", "--dataset", str(dataset), "--scorer", scorer,
           "--out", str(out), "--cache", str(cache)]
    for option in options:
        cmd += ["-s", option]
    env = {**os.environ, "COLUMNS": "200"}
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    stamps: list[float] = []
    err_lines: list[str] = []

    def read_err() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            stamps.append(time.perf_counter() - started)
            err_lines.append(line.rstrip())

    reader = threading.Thread(target=read_err)
    reader.start()
    stdout = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)  # the child's own CPU seconds, whatever else runs
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    wall = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"{name}: exit {proc.returncode}\n{stdout[-2000:]}\n" + "\n".join(err_lines[-30:]))
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    metrics = results.get("metrics") or {}
    gaps = np.diff([0.0, *stamps, wall])
    row: dict[str, Any] = {
        "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "load_average_before": load,
        "command": " ".join(cmd[1:]).replace(str(work), "<work>"),  # no machine paths in the committed JSON
        "test": {v: {"acc": m.get("acc"), "macro_f1": m.get("macro_f1")} for v, m in metrics.items()},
        "stderr_lines": len(err_lines), "max_stderr_gap_s": float(gaps.max()),
    }
    if scorer == "minilm-ft":
        row["dev"] = _dev_from_checkpoints(out / "checkpoints")
        row["stderr_sample"] = err_lines[:3] + err_lines[-3:]
    return row


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--n", type=int, default=1200, help="samples in the dataset (whole dialogues)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--work", type=Path, default=None, help="temp folder (default: a new one, removed)")
    parser.add_argument("--candidate", action="append", default=None, metavar="KEY=VALUE",
                        help="minilm-ft-candidate's scorer options (repeatable; default: CANDIDATE)")
    parser.add_argument("--parallel", action="store_true",
                        help="run a repetition's configurations at the same time (one shared load; compare CPU s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.candidate:
        CONFIGS["minilm-ft-candidate"] = ("minilm-ft", list(args.candidate))
    work = args.work or Path(tempfile.mkdtemp(prefix="interlens-finetune-speed-"))
    started = time.perf_counter()
    data = build_dataset(work / "data", args.n, args.seed, args.data_root)
    dataset = work / "data" / "dialogues.yaml"
    print(f"dataset {dataset}: {data['n_samples']} samples, {data['n_dialogues']} dialogues", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {c: [] for c in args.configs}
    for rep in range(args.reps):
        if args.parallel:  # the same load for every configuration
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(len(args.configs)) as pool:
                rows = list(pool.map(lambda c, r=rep: run_config(c, dataset, work, r), args.configs))
        else:  # interleaved
            rows = [run_config(name, dataset, work, rep) for name in args.configs]
        for name, row in zip(args.configs, rows, strict=True):
            row["rep"] = rep
            runs[name].append(row)
            dev = {v: round(d["dev_acc"], 4) for v, d in row.get("dev", {}).items()}
            print(f"rep {rep} {name:20s}: {row['wall_s']:.1f}s wall, {row['cpu_s']:.1f}s CPU (load "
                  f"{row['load_average_before']:.1f}), max stderr gap {row['max_stderr_gap_s']:.1f}s, dev acc {dev}",
                  flush=True)
    summary: dict[str, Any] = {}
    for name, rows in runs.items():
        walls = [r["wall_s"] for r in rows]
        summary[name] = {"wall_s_mean": float(np.mean(walls)),
                         "cpu_s_mean": float(np.mean([r["cpu_s"] for r in rows])), "wall_s_min": float(np.min(walls)),
                         "wall_s_max": float(np.max(walls)),
                         "max_stderr_gap_s": float(max(r["max_stderr_gap_s"] for r in rows))}
        if rows[0].get("dev"):
            summary[name]["dev_acc_per_view"] = rows[0]["dev"] and {
                v: rows[0]["dev"][v]["dev_acc"] for v in rows[0]["dev"]}
            summary[name]["dev_macro_f1_per_view"] = {v: rows[0]["dev"][v]["dev_macro_f1"] for v in rows[0]["dev"]}
        summary[name]["test_acc_per_view"] = {v: t["acc"] for v, t in rows[0]["test"].items()}
    ratios: dict[str, Any] = {}
    if "embedding" in runs:
        for name in runs:
            if name == "embedding":
                continue
            per_rep = [r["wall_s"] / e["wall_s"] for r, e in zip(runs[name], runs["embedding"], strict=True)]
            ratios[f"{name}_over_embedding_wall"] = {"mean": float(np.mean(per_rep)), "per_rep": per_rep,
                                                      "of_means": summary[name]["wall_s_mean"]
                                                      / summary["embedding"]["wall_s_mean"]}
            per_rep = [r["cpu_s"] / e["cpu_s"] for r, e in zip(runs[name], runs["embedding"], strict=True)]
            ratios[f"{name}_over_embedding_cpu"] = {"mean": float(np.mean(per_rep)), "per_rep": per_rep}
    report = {
        "benchmark": "finetune_speed", "issue": "31 goal 2", "dataset": data, "reps": args.reps,
        "parallel": args.parallel, "candidate": CONFIGS["minilm-ft-candidate"][1],
        "configs": {k: CONFIGS[k] for k in args.configs}, "summary": summary,
        "ratios": ratios, "runs": runs, "targets": {"minilm-ft_over_embedding_wall": 4.0,
                                                    "max_stderr_gap_s": 30.0},
        "wall_s": time.perf_counter() - started,
        "notes": "interlens interactions score on the same dataset file, each run in its own process from a "
                 "fresh --cache (cold), configurations interleaved per repetition; wall_s includes process start, "
                 "imports, model load, fitting the three views and scoring the test split. Dev figures are the "
                 "kept epoch's (the dev split selects it); test figures are results.json's.",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
    }
    from interlens.io import write_json

    path = write_json(args.out, report)
    print(f"ratios: {json.dumps(ratios)}\nwritten: {path}", flush=True)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return report


if __name__ == "__main__":
    main()
