"""MMoE on real data, re-run with the per-modality fusion (issue 27 item 4; first run: issue 12 item 1; MMoE
paper Tables 1-2, RQ1-RQ4): the fused baseline vs. its unimodal views and the floors, interaction experts +
router, every fusion strategy, oracle, per-interaction F1, router confusion and RQ4, on MUStARD, MIntRec2.0
and MELD emotion (utterance vs. conversational context), with the fine-tuned MiniLM (``minilm-ft``) and the
frozen-encoder ``embedding`` scorer under their default fusion, 3 seeds, measured categories on train with
the δ = 0.1 filter and rebalancing (the defaults of ``interlens experts train``).

Budget (issue 27 item 4): MUStARD all of train (300); MIntRec2.0 and MELD a seeded subset of 2,000 training
samples (``--max-train``, :meth:`Dataset.cap_split` with the first seed); RQ4 everywhere. Each
(dataset, scorer) is exactly one CLI command::

    interlens experts train --dataset mintrec2 -d context=true --scorer embedding --max-train 2000 \\
        --seed 0 --seed 1 --seed 2 --rq4 --no-save-models --out runs/mmoe-real/mintrec2__embedding

run in-process in the order of ``ORDER`` (the cheap frozen-encoder runs first); resumable: a run folder
with a ``results.json`` is finished and kept. Each run folder stores every strategy's and unimodal view's
per-sample test predictions (``predictions.jsonl.gz``); after every finished run this script re-reads all
finished run folders and writes ``benchmarks/results/mmoe_real.json`` (per dataset × scorer: floors, every
view and strategy with its item-bootstrap CI, per-item paired tests of router vs. baseline and of baseline
vs. each unimodal view, warnings, test looks, RQ4; the runs not finished listed under ``missing``) with
its stored predictions (``mmoe_real.predictions.jsonl.gz``; ``interlens verify benchmarks/results``
re-derives every accuracy, macro-F1 and floor), ``docs/results/mmoe_real.md`` and the generated table of
``docs/experts.md``.

    .venv/bin/python benchmarks/mmoe_real.py                          # the whole study (resumes)
    .venv/bin/python benchmarks/mmoe_real.py --summarise-only         # JSON + docs from the finished runs
    .venv/bin/python benchmarks/mmoe_real.py --only mustard__embedding --max-train 60 --seeds 1 \\
        --out /tmp/mmoe-smoke --results /tmp/mmoe-smoke/mmoe_real.json --markdown /tmp/mmoe-smoke/m.md \\
        --experts-doc none                                            # a smoke test
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
#: (name, registered dataset, loader options)
DATASETS = [("mustard", "mustard", {}), ("mintrec2", "mintrec2", {"context": "true"}),
            ("meld", "meld", {"context": "true"})]
#: scorer -> its -s options (the fusion is the scorer's default: issue 27 items 1-2 chose it on dev)
SCORERS: dict[str, dict[str, str]] = {"embedding": {}, "minilm-ft": {"progress": "false", "threads": "1"}}
#: the order runs are made in: the frozen encoder first (minutes), then the fine-tuned MiniLM (hours)
ORDER = [f"{d}__{s}" for s in SCORERS for d, _, _ in DATASETS]
#: training samples kept of MIntRec2.0 / MELD (MUStARD's 300 are all kept)
MAX_TRAIN = 2000
#: the strategies of the main table (besides the unimodal views)
MAIN = ("baseline", "router_soft", "router_top1", "best_single", "oracle")
CATEGORIES = ("R", "U1", "U2", "S")
N_BOOT = 2000


# -- commands ---------------------------------------------------------------------------------------------
def command(dataset: str, options: Mapping[str, str], scorer: str, scorer_options: Mapping[str, str],
            seeds: Sequence[int], out: Path, max_train: int | None, rq4: bool) -> list[str]:
    """The ``interlens experts train`` command of one (dataset, scorer)."""
    cmd = ["interlens", "experts", "train", "--dataset", dataset]
    for k, v in options.items():
        cmd += ["-d", f"{k}={v}"]
    cmd += ["--scorer", scorer]
    for k, v in scorer_options.items():
        cmd += ["-s", f"{k}={v}"]
    if max_train:
        cmd += ["--max-train", str(max_train)]
    for s in seeds:
        cmd += ["--seed", str(s)]
    if rq4:
        cmd += ["--rq4"]
    return cmd + ["--no-save-models", "--out", str(out)]


def run_one(cmd: list[str]) -> float:
    from typer.main import get_command

    from interlens.cli import app

    started = time.perf_counter()
    get_command(app).main(args=cmd[1:], prog_name="interlens", standalone_mode=False)
    return time.perf_counter() - started


# -- the summary of one finished run (pure: results.json + stored rows in, study entry out) -----------------
def _role(name: str) -> str:
    if name.startswith("unimodal:"):
        return "unimodal"
    if name == "baseline":
        return "fused baseline"
    if name.startswith("router"):
        return "router"
    if name.startswith("single:") or name == "best_single":
        return "single expert"
    return "oracle (uses the gold label)" if name == "oracle" else "fixed-weight fusion"


def correctness(rows: Sequence[Mapping[str, Any]], model: str, ids: Sequence[str]
                ) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray]:
    """(seeds, gold [n], pred [n, seeds] with -1 = no prediction, correct [n, seeds]) of ``model`` on ``ids``."""
    from interlens.errors import DataError

    by_seed: dict[Any, dict[str, Mapping[str, Any]]] = {}
    for r in rows:
        if r["model"] == model:
            by_seed.setdefault(r["seed"], {})[r["id"]] = r
    seeds = sorted(by_seed, key=lambda s: (s is None, s if s is not None else 0))
    if not seeds:
        raise DataError(f"no stored predictions for model {model!r}", field="model")
    pred = np.full((len(ids), len(seeds)), -1, dtype=np.int64)
    gold = np.full(len(ids), -1, dtype=np.int64)
    for j, s in enumerate(seeds):
        for i, sample in enumerate(ids):
            r = by_seed[s].get(sample)
            if r is None:
                raise DataError(f"model {model!r} seed {s} has no prediction for sample {sample!r}", field="id")
            gold[i] = r["gold"]
            pred[i, j] = -1 if r["pred"] is None else r["pred"]
    return seeds, gold, pred, (pred == gold[:, None]).astype(np.float64)


def item_ci(correct: np.ndarray, *, n_boot: int = N_BOOT, seed: int = 0) -> list[float]:
    """95 % percentile bootstrap CI of the accuracy over test items (per-item correctness averaged over seeds)."""
    per_item = np.asarray(correct, dtype=np.float64).mean(axis=1)
    idx = np.random.default_rng(seed).integers(0, len(per_item), size=(n_boot, len(per_item)))
    boots = per_item[idx].mean(axis=1)
    return [float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975))]


def fallback_experts(results: Mapping[str, Any]) -> list[str]:
    """The interaction groups (MMoE grouping: R, U = U1 + U2, S) whose expert had fewer than ``min_subset``
    training samples and therefore *is* the baseline (experts.train falls back); all of them: every strategy
    equals the baseline by construction and the run cannot test the experts."""
    cats = (results.get("category_counts") or {}).get("train") or {}
    from interlens.experts.train import MIN_SUBSET

    need = int((results.get("settings") or {}).get("min_subset") or MIN_SUBSET)
    groups = {"R": cats.get("R", 0), "U": cats.get("U1", 0) + cats.get("U2", 0), "S": cats.get("S", 0)}
    return [g for g, n in groups.items() if n < need]


def filter_fallback_reason(out: Path) -> str | None:
    """Why the run in ``out`` cannot test the experts with the δ filter on (None: it can): no results (no
    training sample kept a category) or every expert fell back to the baseline (too few kept per group)."""
    if not (out / "results.json").exists():
        return "with the δ = 0.1 filter no training sample kept a category (every unimodal top-2 margin <= 0.1)"
    fell_back = fallback_experts(json.loads((out / "results.json").read_text(encoding="utf-8")))
    if len(fell_back) == 3:
        return ("with the δ = 0.1 filter every expert (R, U, S) had fewer training samples than min_subset and "
                "fell back to the baseline, so every strategy equalled it")
    return None


def start_fallback(out: Path, reason: str) -> None:
    """Move the filtered run in ``out`` aside (``<out>.filtered``, kept for the record) and mark ``out`` for a
    run with ``--no-train-filters`` (``fallback.txt`` says why)."""
    if out.exists():
        aside = out.with_name(out.name + ".filtered")
        shutil.rmtree(aside, ignore_errors=True)
        out.rename(aside)
    out.mkdir(parents=True, exist_ok=True)
    (out / "fallback.txt").write_text(reason + "; re-run with --no-train-filters\n")


def _verdict(test: Mapping[str, Any]) -> str:
    lo, hi = test["ci95"]
    return "above" if lo > 0 else "below" if hi < 0 else "not distinguishable"


def _escape(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def summarise_run(key: str, results: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], *,
                  n_boot: int = N_BOOT) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """One finished ``experts train`` run -> (study entry, its rows re-tagged for the study file, the checks
    that re-derive the entry's accuracies, macro-F1 and constant floor from those rows).

    Rows are re-tagged ``model = <scorer>/<strategy or view>``, ``task = <dataset>``; every view and strategy
    gets its mean test ACC over seeds (and per seed), macro-F1, and a 95 % item-bootstrap CI; the paired
    tests (test item as the unit, seeds averaged per item; :func:`interlens.baselines.paired_over_items`)
    are router_soft − baseline and baseline − each unimodal view; a warning for each row at or below the
    highest floor (:func:`interlens.baselines.floor_warning`)."""
    from interlens.baselines import floor_warning, floors, paired_over_items
    from interlens.errors import DataError
    from interlens.evidence.store import check
    from interlens.metrics import classification_metrics

    name, scorer = key.split("__", 1)
    labels = list(results["dataset"]["labels"])
    k = len(labels)
    test_rows = [r for r in rows if r["split"] == "test"]
    models = list(dict.fromkeys(r["model"] for r in test_rows))
    if "baseline" not in models:
        raise DataError(f"run {key}: no stored predictions of the baseline", field="model")
    ids = list(dict.fromkeys(r["id"] for r in test_rows if r["model"] == "baseline"))
    prefix = f"/runs/{_escape(key)}"
    views: dict[str, Any] = {}
    correct: dict[str, np.ndarray] = {}
    checks: list[dict[str, Any]] = []
    gold = None
    for model in models:
        seeds, gold, pred, c = correctness(test_rows, model, ids)
        correct[model] = c
        accs = [float(np.mean(pred[:, j] == gold)) for j in range(len(seeds))]
        f1s: list[float] | None = []
        for j in range(len(seeds)):
            try:
                f1s.append(float(classification_metrics(gold, pred[:, j], k)["macro_f1"]))  # type: ignore[union-attr]
            except DataError:  # a binary task with failed predictions (see docs/experts.md, known limitations)
                f1s = None
                break
        views[model] = {"role": _role(model), "acc": float(np.mean(accs)), "acc_std": float(np.std(accs)),
                        "acc_per_seed": accs, "seeds": seeds, "acc_ci95": item_ci(c, n_boot=n_boot),
                        "macro_f1": float(np.mean(f1s)) if f1s is not None else None}
        tagged = f"{scorer}/{model}"
        where = f"{prefix}/views/{_escape(model)}"
        checks.append(check(f"{where}/acc", "acc", model=tagged, split="test", task=name, n_labels=k))
        checks += [check(f"{where}/acc_per_seed/{j}", "acc", model=tagged, split="test", task=name, n_labels=k,
                         seed=s) for j, s in enumerate(seeds) if s is not None]
        if f1s is not None:
            checks.append(check(f"{where}/macro_f1", "macro_f1", model=tagged, split="test", task=name, n_labels=k))
    y_train_majority = results.get("baselines", {}).get("floors", {}).get("train_majority")
    floor = floors(None, gold, labels)
    if y_train_majority is not None:  # the training majority as the run measured it (train labels are not stored)
        floor["train_majority"] = dict(y_train_majority)
        floor["highest_floor_acc"] = max(floor["constant_floor"]["acc"], float(y_train_majority["acc"]))
    checks.append(check(f"{prefix}/floors/constant_floor/acc", "constant_floor", model=f"{scorer}/baseline",
                        split="test", task=name, n_labels=k))
    warnings = [w for m, v in views.items()
                if (w := floor_warning(f"{scorer} {name} {m}", v["acc"], floor)) is not None]
    unimodal = [m for m in views if m.startswith("unimodal:")]
    paired: dict[str, Any] = {}
    if "router_soft" in correct:
        paired["router_soft - baseline"] = paired_over_items(correct["router_soft"], correct["baseline"],
                                                             n_boot=n_boot)
    for m in unimodal:
        paired[f"baseline - {m}"] = paired_over_items(correct["baseline"], correct[m], n_boot=n_boot)
    for t in paired.values():
        t["verdict"] = _verdict(t)
    best_uni = max(unimodal, key=lambda m: views[m]["acc"]) if unimodal else None
    summary = results.get("summary") or {}
    rq4 = results.get("rq4") or {}
    per_seed = results.get("per_seed") or [{}]
    fell_back = fallback_experts(results)
    entry = {
        "dataset": name, "scorer": scorer, "n_test": len(ids), "n_labels": k,
        "experts_fell_back": fell_back,
        "n_train": (results["dataset"].get("splits") or {}).get("train"),
        "floors": floor, "views": views,
        "best_unimodal": best_uni,
        "baseline_vs_best_unimodal": paired[f"baseline - {best_uni}"]["verdict"] if best_uni else None,
        "router_soft_vs_baseline": (paired["router_soft - baseline"]["verdict"] if "router_soft - baseline" in paired
                                    else None),
        "paired_over_items": paired, "warnings": warnings,
        "test_looks": results.get("test_looks"),
        "per_interaction_f1": summary.get("per_interaction"),
        "ce_moe": [summary.get("ce_moe_mean"), summary.get("ce_moe_std")],
        "category_counts": results.get("category_counts"),
        "router_confusion_seed0": per_seed[0].get("router_confusion"),
        "router_dev_seed0": per_seed[0].get("router_dev"),
        "rq4": {x: rq4[x] for x in ("interaction", "random", "baseline") if x in rq4} or None,
    }
    study_rows = [{**r, "model": f"{scorer}/{r['model']}", "task": name} for r in test_rows]
    return entry, study_rows, checks


# -- tables -----------------------------------------------------------------------------------------------
def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f}"


def _cell(v: Mapping[str, Any] | None) -> str:
    if v is None:
        return "–"
    lo, hi = v["acc_ci95"]
    std = f" ± {100 * v['acc_std']:.1f}" if len(v["seeds"]) > 1 else ""
    return f"{100 * v['acc']:.1f}{std} [{100 * lo:.1f}, {100 * hi:.1f}]"


def _delta(t: Mapping[str, Any] | None) -> str:
    if t is None:
        return "–"
    return (f"{100 * t['delta']:+.1f} [{100 * t['ci95'][0]:+.1f}, {100 * t['ci95'][1]:+.1f}] "
            f"p={t['p_value']:.3g}")


def _utterance(views: Mapping[str, Any]) -> str:
    """The utterance view's row (named ``text`` in MIntRec2.0 / MELD, ``utterance`` in MUStARD)."""
    return next((m for m in views if m.startswith("unimodal:") and m != "unimodal:context"), "unimodal:utterance")


def main_table(study: Mapping[str, Any]) -> list[str]:
    """The main table (one row per finished dataset × scorer) and the paired tests; cited by docs/experts.md."""
    lines = ["| dataset | scorer | n train | floor (test prior / train majority) | utterance | context | "
             "fused baseline | router soft | router top-1 | best single | oracle |", "|" + "---|" * 11]
    for run in study["runs"].values():
        v, fl = run["views"], run["floors"]
        tm = fl.get("train_majority", {}).get("acc")
        lines.append(f"| {run['dataset']} | {run['scorer']} | {run['n_train']} | "
                     f"{_pct(fl['constant_floor']['acc'])} / {_pct(tm)} | "
                     + " | ".join(_cell(v.get(m)) for m in (_utterance(v), "unimodal:context", *MAIN)) + " |")
    lines += ["", "Test ACC in %: mean ± std over seeds [95 % item-bootstrap CI, seeds averaged per item]; the "
              "unimodal views are fitted once (the scorer's seed 0).", "",
              "| dataset | scorer | baseline − best unimodal: Δ [CI] p | verdict | router soft − baseline: Δ [CI] p "
              "| verdict |", "|---|---|---|---|---|---|"]
    for run in study["runs"].values():
        p = run["paired_over_items"]
        best = run["best_unimodal"]
        lines.append(f"| {run['dataset']} | {run['scorer']} | {best}: {_delta(p.get(f'baseline - {best}'))} | "
                     f"{run['baseline_vs_best_unimodal'] or '–'} | {_delta(p.get('router_soft - baseline'))} | "
                     f"{run['router_soft_vs_baseline'] or '–'} |")
    lines += ["", "Δ in points; paired over test items (per-item correctness averaged over seeds), sign-flip "
              "permutation p, 95 % item-bootstrap CI; verdict: above / below when the CI excludes 0."]
    return lines


def markdown(study: Mapping[str, Any]) -> str:
    """docs/results/mmoe_real.md from the study JSON."""
    lines = ["# MMoE on real data with the per-modality fusion (issue 27 item 4)", "",
             "Generated by `benchmarks/mmoe_real.py` from `benchmarks/results/mmoe_real.json` (per-sample "
             "predictions in `mmoe_real.predictions.jsonl.gz`; `interlens verify benchmarks/results` re-derives "
             f"every accuracy). Seeds {study['seeds']}; MUStARD all of train, MIntRec2.0 / MELD a seeded subset of "
             f"{study['max_train']} training samples; each scorer's default fusion.", ""]
    lines += main_table(study)
    strategies = list(dict.fromkeys(m for run in study["runs"].values() for m in run["views"]
                                    if not m.startswith("unimodal:")))
    lines += ["", "Every strategy (test ACC %, mean ± std over seeds; macro-F1 mean after the slash):", "",
              "| dataset | scorer | " + " | ".join(strategies) + " |", "|" + "---|" * (2 + len(strategies))]
    for run in study["runs"].values():
        cells = []
        for m in strategies:
            v = run["views"].get(m)
            cells.append("–" if v is None else f"{100 * v['acc']:.1f} ± {100 * v['acc_std']:.1f} / "
                                               f"{_pct(v['macro_f1'])}")
        lines.append(f"| {run['dataset']} | {run['scorer']} | " + " | ".join(cells) + " |")
    lines += ["", "Per-interaction F1 on test (MMoE Table 2 style; categories measured on test from the unimodal "
              "models; F1 mean over seeds, %):", "",
              "| dataset | scorer | strategy | " + " | ".join(CATEGORIES) + " |", "|" + "---|" * (3 + len(CATEGORIES))]
    for run in study["runs"].values():
        per = run.get("per_interaction_f1") or {}
        for strategy in ("baseline", "single:R", "single:U", "single:S", "router_soft"):
            if strategy in per:
                cells = [f"{100 * per[strategy][c]['f1_mean']:.1f} (n={per[strategy][c]['n']})"
                         if c in per[strategy] else "–" for c in CATEGORIES]
                lines.append(f"| {run['dataset']} | {run['scorer']} | {strategy} | " + " | ".join(cells) + " |")
    lines += ["", "| dataset | scorer | train categories | router acc on test (seed 0) | RQ4 CE_moe interaction "
              "subsets | random subsets | baseline CE | test looks |", "|---|---|---|---|---|---|---|---|"]
    for run in study["runs"].values():
        conf, rq4 = run.get("router_confusion_seed0") or {}, run.get("rq4") or {}
        acc = f"{100 * conf['acc']:.1f}" if "acc" in conf else "–"
        ce = [f"{rq4[x]:.4f}" if x in rq4 else "not run" for x in ("interaction", "random", "baseline")]
        cats = (run.get("category_counts") or {}).get("train") or {}
        looks = ", ".join(f"{d}: {n}" for d, n in (run.get("test_looks") or {}).items()) or "–"
        lines.append(f"| {run['dataset']} | {run['scorer']} | "
                     + (" ".join(f"{c} {n}" for c, n in cats.items()) or "–") + f" | {acc} | " + " | ".join(ce)
                     + f" | {looks} |")
    degenerate = [f"{run['scorer']} {run['dataset']}: the experts of {', '.join(run['experts_fell_back'])} had fewer "
                  f"training samples than min_subset after the δ filter and are the baseline"
                  + (" -- every strategy equals the baseline, the run does not test the experts"
                     if len(run["experts_fell_back"]) == 3 else "")
                  for run in study["runs"].values() if run.get("experts_fell_back")]
    if degenerate:
        lines += ["", "Experts that fell back to the baseline (too few training samples kept):", ""] + [
            f"- {d}" for d in degenerate]
    unfiltered = [f"{run['scorer']} {run['dataset']}: {run['fallback'].strip()}"
                  for run in study["runs"].values() if run.get("fallback")]
    if unfiltered:
        lines += ["", "Trained without MMoE's δ filter and rebalancing (`--no-train-filters`):", ""] + [
            f"- {u}" for u in unfiltered]
    warnings = [w for run in study["runs"].values() for w in run["warnings"]]
    if warnings:
        lines += ["", "Warnings (at or below the highest floor):", ""] + [f"- {w}" for w in warnings]
    if study.get("missing"):
        lines += ["", "Not finished:", ""] + [f"- {k}: {v}" for k, v in study["missing"].items()]
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- mmoe_real: begin (generated by benchmarks/mmoe_real.py) -->", "<!-- mmoe_real: end -->"


def splice(text: str, table: Sequence[str]) -> str:
    """``text`` with the lines between the BEGIN / END markers replaced by ``table``."""
    from interlens.errors import DataError

    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise DataError("needs exactly one pair of mmoe_real markers", field="markers")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + BEGIN + "\n" + "\n".join(table) + "\n" + END + tail


# -- the frozen encoder's text vectors, computed once (exact: a vector is a function of the text alone) -------
def study_texts(max_train: int, seed: int = 0) -> list[str]:
    """Every text the ``embedding`` runs encode: each modality of the capped train split (the subset
    ``experts train --max-train`` keeps: :meth:`Dataset.cap_split` with the first seed), dev and test of each
    dataset; no text twice, in the order found."""
    from interlens.data.resolve import resolve_dataset

    seen: dict[str, None] = {}
    for _, registered, options in DATASETS:
        ds = resolve_dataset(registered, **options).cap_split("train", max_train, seed=seed)
        for split in ("dev", "test", "train"):
            part = ds.split(split)
            for sample in part.samples:
                for m in part.modalities:
                    if part.kinds.get(m) == "text":
                        seen.setdefault(part.text(sample, m), None)
    return list(seen)


def load_embedding_cache(path: Path) -> int:
    """Put the vectors of ``path`` (``texts.json`` + ``vectors.npy``) into the shared MiniLM encoder's per-text
    memo (the format of benchmarks/mint_study.py's cache). Exact: a text's vector does not depend on what it
    was encoded with (fixed batch rows and threads; interlens.scoring.encoders), so results are the same
    with or without the cache."""
    from interlens.scoring.encoders import shared_text_encoder

    if not (path / "texts.json").exists() or not (path / "vectors.npy").exists():
        return 0
    texts = json.loads((path / "texts.json").read_text())
    vectors = np.load(path / "vectors.npy")
    n = min(len(texts), len(vectors))
    shared_text_encoder()._memo.update(zip(texts[:n], vectors[:n], strict=True))  # noqa: SLF001
    return n


def precompute_embeddings(texts: Sequence[str], path: Path, chunk: int = 1024) -> None:
    """Encode ``texts`` (shortest first, so the encoder's same-length batches fill up) into ``path``, saving
    after every chunk (a killed run keeps what it finished)."""
    from interlens.io import atomic_write_text
    from interlens.scoring.encoders import _load_minilm, shared_text_encoder

    encoder = shared_text_encoder()
    memo = encoder._memo  # noqa: SLF001 - the encoder's own per-text memo
    todo = [t for t in texts if t not in memo]
    tokenizer, _ = _load_minilm()
    lengths = [len(ids) for ids in tokenizer(todo, truncation=True, max_length=encoder.max_length)["input_ids"]]
    todo = [t for _, t in sorted(zip(lengths, todo, strict=True))]
    path.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for i in range(0, len(todo), chunk):
        encoder.encode(todo[i:i + chunk])
        known = list(memo)
        np.save(path / "vectors.tmp.npy", np.stack([memo[t] for t in known]))
        (path / "vectors.tmp.npy").replace(path / "vectors.npy")
        atomic_write_text(path / "texts.json", json.dumps(known))
        print(f"[{time.perf_counter() - started:6.0f} s] {min(i + chunk, len(todo))} of {len(todo)} new texts "
              f"encoded", flush=True)


# -- the study --------------------------------------------------------------------------------------------
def build_study(out: Path, keys: Sequence[str], *, commands: Mapping[str, str], seeds: Sequence[int],
                max_train: int, walls: Mapping[str, float | None], missing_reason: str
                ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The study over every finished run folder ``out/<key>`` (others listed under ``missing``)."""
    from interlens.evidence.store import read_predictions

    study: dict[str, Any] = {"study": "MMoE on real data with the per-modality fusion (issue 27 item 4)",
                             "issue": 27, "seeds": list(seeds), "max_train": max_train, "runs": {}, "missing": {}}
    rows: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    for key in keys:
        folder = out / key
        if not (folder / "results.json").exists():
            study["missing"][key] = missing_reason
            continue
        results = json.loads((folder / "results.json").read_text())
        entry, run_rows, run_checks = summarise_run(key, results, read_predictions(folder))
        fallback, wall = folder / "fallback.txt", folder / "wall_s.txt"
        study["runs"][key] = {
            **entry, "command": commands.get(key),
            "wall_s": float(wall.read_text()) if wall.exists() else walls.get(key),
            "fallback": fallback.read_text() if fallback.exists() else None,
            "settings": results["settings"], "scorer_params": results["scorer"]["params"],
            "dataset_provenance": results["dataset"],
            "run_provenance": {k: (results.get("provenance") or {}).get(k)
                               for k in ("interlens_version", "interlens_revision", "created", "command")
                               if (results.get("provenance") or {}).get(k) is not None}}
        rows += run_rows
        checks += run_checks
    return study, rows, checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-train", type=int, default=MAX_TRAIN, help="training samples kept of each dataset")
    parser.add_argument("--rq4", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--only", action="append", default=None, help="dataset__scorer to run (repeatable)")
    parser.add_argument("--summarise-only", action="store_true", help="train nothing; summarise the finished runs")
    parser.add_argument("--missing-reason", default="not finished when this file was written (2-core CPU budget)")
    parser.add_argument("--embedding-cache", type=Path, action="append", default=None,
                        help="texts.json + vectors.npy of frozen-encoder vectors loaded first (repeatable; "
                             "default runs/mmoe-embcache; --precompute writes the first)")
    parser.add_argument("--precompute", action="store_true",
                        help="only encode the embedding runs' texts into the first --embedding-cache")
    parser.add_argument("--out", type=Path, default=Path("runs/mmoe-real"))
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "mmoe_real.json")
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs" / "results" / "mmoe_real.md")
    parser.add_argument("--experts-doc", default=str(ROOT / "docs" / "experts.md"),
                        help="the doc whose marked table is regenerated ('none': skip)")
    args = parser.parse_args()
    from interlens.evidence.store import save_study
    from interlens.io import atomic_write_text
    from interlens.provenance import environment, interlens_revision, interlens_version

    seeds = list(range(args.seeds))
    caches = args.embedding_cache or [Path("runs/mmoe-embcache")]
    loaded = sum(load_embedding_cache(c) for c in caches)
    print(f"embedding cache: {loaded} text vectors loaded", flush=True)
    if args.precompute:
        precompute_embeddings(study_texts(args.max_train, seed=0), caches[0])
        return
    unknown = set(args.only or ()) - set(ORDER)
    if unknown:
        parser.error(f"unknown --only {sorted(unknown)}; known: {', '.join(ORDER)}")
    datasets = {name: (registered, options) for name, registered, options in DATASETS}
    commands: dict[str, str] = {}
    previous = json.loads(args.results.read_text()) if args.results.exists() else {}
    walls: dict[str, float | None] = {k: r.get("wall_s") for k, r in previous.get("runs", {}).items()}
    started = time.perf_counter()

    def write() -> None:
        study, rows, checks = build_study(args.out, ORDER, commands=commands, seeds=seeds, max_train=args.max_train,
                                          walls=walls, missing_reason=args.missing_reason)
        study["provenance"] = {"script": "benchmarks/mmoe_real.py", "argv": sys.argv[1:],
                               "interlens_version": interlens_version(), "git_revision": interlens_revision(),
                               "environment": environment(), "wall_s": round(time.perf_counter() - started, 1)}
        if rows:
            save_study(args.results, study, predictions=rows, checks=checks)
        atomic_write_text(args.markdown, markdown(study))
        if args.experts_doc != "none" and study["runs"]:
            doc = Path(args.experts_doc)
            if BEGIN in doc.read_text():
                atomic_write_text(doc, splice(doc.read_text(), main_table(study)))
            else:
                print(f"{doc}: no mmoe_real markers, its table is not regenerated", flush=True)

    for key in ORDER:
        name, scorer = key.split("__", 1)
        registered, options = datasets[name]
        out = args.out / key
        cmd = command(registered, options, scorer, SCORERS[scorer], seeds, out, args.max_train, args.rq4)
        selected = not args.summarise_only and (not args.only or key in args.only)
        if selected and (out / "results.json").exists() and not (out / "fallback.txt").exists():
            reason = filter_fallback_reason(out)  # a finished run whose experts all fell back: redo it unfiltered
            if reason:
                start_fallback(out, reason)
        if (out / "fallback.txt").exists():  # an earlier run needed the fallback below
            cmd = [*cmd[:-2], "--no-train-filters", *cmd[-2:]]
        commands[key] = shlex.join(cmd)
        if not selected or (out / "results.json").exists():
            continue
        print("$ " + shlex.join(cmd), flush=True)
        wall = run_one(cmd)
        reason = filter_fallback_reason(out)
        if reason and "--no-train-filters" not in cmd:
            # the δ filter (top-2 margin > 0.1, defined by MMoE for two classes) can drop (nearly) every training
            # sample of a many-class task under weak unimodal models: then train without the filters; the
            # filtered run is kept beside it for the record
            start_fallback(out, reason)
            cmd = [*cmd[:-2], "--no-train-filters", *cmd[-2:]]
            commands[key] = shlex.join(cmd)
            print("$ " + shlex.join(cmd), flush=True)
            wall += run_one(cmd)
        walls[key] = round(wall, 1)
        (out / "wall_s.txt").write_text(f"{wall:.1f}\n")
        print(f"{key}: {wall:.0f} s", flush=True)
        write()
    write()


if __name__ == "__main__":
    main()
