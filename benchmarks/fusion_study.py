"""Fused views that use every input (issue 27 items 1-2): the fusion default chosen on dev, then one test look.

For MUStARD (utterance vs. context), MIntRec2.0 and MELD emotion (utterance vs. dialogue context), with the
fine-tuned MiniLM (``minilm-ft``) and the frozen-encoder ``embedding`` scorer:

* **dev phase** (``--phase dev``): every candidate fusion of ``CANDIDATES`` trains the fused view on train
  (at most ``MAX_TRAIN`` samples, the same seeded subset for every model) with epoch selection on dev and is
  scored on dev; the unimodal views (whose models no fusion option changes) are trained and scored once per
  seed. The default is picked by the rule of the plan file (``benchmarks/plans/fusion_default.yaml``, its
  sha256 recorded): the highest dev accuracy of the fused view pooled over the three datasets' dev items,
  ties to the earlier (simpler) candidate. Nothing is evaluated on test in this phase.
* **test phase** (``--phase test``): the chosen default of each scorer, 3 seeds, every view scored on test,
  recorded in the test-look ledger; per dataset the floors (constant floor = test prior, train majority),
  each unimodal view, the fused view, and per-item paired tests (seeds averaged per item; sign-flip test,
  item-bootstrap CI) of fused minus each unimodal view.

Resumable: fitted models are checkpointed (safetensors) under ``--work`` and each scored split is kept
there as JSON, so a killed run recomputes nothing finished. Writes ``benchmarks/results/fusion_study.json``
with its per-sample predictions (``fusion_study.predictions.jsonl.gz``; ``interlens verify`` re-derives
every accuracy) and ``docs/results/fusion_study.md``.

    .venv/bin/python benchmarks/fusion_study.py --phase dev
    .venv/bin/python benchmarks/fusion_study.py --phase test
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "results" / "fusion_study.json"
PLAN = ROOT / "benchmarks" / "plans" / "fusion_default.yaml"
#: (name, registered dataset, loader options)
DATASETS = [("mustard", "mustard", {}), ("mintrec2", "mintrec2", {"context": "true"}),
            ("meld", "meld", {"context": "true"})]
#: the training subset of the two large corpora (MUStARD: all 300); the same seeded subset for every model
MAX_TRAIN = 2000
SEEDS = (0, 1, 2)
#: scorer -> base parameters of every model of the study
BASE = {"minilm-ft": {"threads": 1, "progress": False}, "embedding": {}}
#: parameters that change no result (left out of the stored scores' keys)
UNHASHED = ("threads", "progress")
#: scorer -> candidate name -> parameters of the fused view (the first is today's default)
CANDIDATES: dict[str, dict[str, dict[str, Any]]] = {
    "minilm-ft": {
        "joint": {},
        "segments-gated": {"pooling": "segments", "fusion": "gated"},
        "separate-gated": {"pooling": "separate", "fusion": "gated"},
    },
    "embedding": {
        "tensor": {},
        "tensor-residual": {"residual": True},
        "late": {"fusion": "late"},
        "concat-residual": {"fusion": "concat", "residual": True},
        "gated-residual": {"fusion": "gated", "residual": True},
    },
}
#: test seeds where the CPU budget allowed fewer (plan amendment): fine-tuning on 2,000 samples takes ~15 min per
#: model on the shared, oversubscribed 2-core machine
TEST_SEEDS = {("minilm-ft", "mintrec2"): (0, 1), ("minilm-ft", "meld"): (0,)}
#: seeds of the dev phase: the fine-tuned scorer is costly, so its candidates are compared on seed 0
DEV_SEEDS = {"minilm-ft": (0,), "embedding": SEEDS}


def load(name: str, options: dict[str, str]) -> tuple[Any, Any, Any, Any]:
    """(dataset, train subset, dev, test) of a registered dataset."""
    from interlens.data.resolve import resolve_dataset

    ds = resolve_dataset(name, **options)
    train, dev, test = ds.split("train"), ds.split("dev"), ds.split("test")
    if len(train) > MAX_TRAIN:
        keep = np.sort(np.random.default_rng(0).choice(len(train), MAX_TRAIN, replace=False))
        train = train.subset([train.samples[i].id for i in keep], name=f"{train.name}[{MAX_TRAIN}]")
    return ds, train, dev, test


def _portable(arg: str) -> str:
    """A command-line argument with this checkout's path made relative (no machine paths in results)."""
    return arg.replace(f"{ROOT}/", "")


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


class Work:
    """Fitted models (checkpoints) and scored splits (JSON) of the study, so a killed run resumes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "scores").mkdir(parents=True, exist_ok=True)

    def probs(self, scorer_name: str, params: dict[str, Any], train: Any, dev: Any, target: Any, view: str,
              split: str) -> np.ndarray:
        """[n, K] probabilities of the ``view`` model (trained on ``train``, epochs picked on ``dev``) on ``target``."""
        from interlens.checkpoints import fit_or_restore
        from interlens.io import atomic_write_text
        from interlens.scoring.registry import make_scorer

        hashed = {k: v for k, v in params.items() if k not in UNHASHED}  # threads / progress change no result
        path = self.root / "scores" / f"{_key(scorer_name, hashed, train.fingerprint(), view, split)}.json"
        if path.exists():
            return np.asarray(json.loads(path.read_text())["probs"], dtype=np.float64)
        scorer = make_scorer(scorer_name, **params)
        planned = scorer.planned_fingerprint(train, [view], dev)
        started = time.perf_counter()
        how = fit_or_restore(scorer, train, [view], dev, fingerprint=planned, directory=self.root / "checkpoints")
        probs = scorer.predict_proba(target, view).probs
        print(f"  {scorer_name} {params} {view} on {target.name} {split}: {how}, "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        atomic_write_text(path, json.dumps({"ids": list(target.ids), "probs": np.asarray(probs).tolist()}))
        return np.asarray(probs, dtype=np.float64)


def views_of(ds: Any) -> tuple[str, str, str]:
    a, b = ds.modalities[:2]
    return a, b, f"{a}+{b}"


def dev_phase(work: Work) -> dict[str, Any]:
    """Dev accuracy of every candidate's fused view (and the unimodal views) and the chosen default."""
    out: dict[str, Any] = {}
    for scorer_name, candidates in CANDIDATES.items():
        rows: dict[str, Any] = {}
        for name, registered, options in DATASETS:
            ds, train, dev, _ = load(registered, options)
            a, b, fused = views_of(ds)
            y = dev.y
            entry: dict[str, Any] = {"n_dev": len(dev), "n_train": len(train), "unimodal": {}, "fused": {}}
            for cand, params in candidates.items():
                accs = [float(np.mean(work.probs(scorer_name, {**BASE[scorer_name], **params, "seed": s}, train, dev,
                                                  dev, fused, "dev").argmax(1) == y)) for s in DEV_SEEDS[scorer_name]]
                entry["fused"][cand] = float(np.mean(accs))
            for view in (a, b):
                accs = [float(np.mean(work.probs(scorer_name, {**BASE[scorer_name], "seed": s}, train, dev, dev, view,
                                                  "dev").argmax(1) == y)) for s in DEV_SEEDS[scorer_name]]
                entry["unimodal"][view] = float(np.mean(accs))
            rows[name] = entry
        pooled = {cand: sum(rows[n]["fused"][cand] * rows[n]["n_dev"] for n in rows) / sum(r["n_dev"] for r in
                                                                                              rows.values())
                  for cand in candidates}
        best = max(candidates, key=lambda c: (round(pooled[c], 12), -list(candidates).index(c)))
        out[scorer_name] = {"per_dataset": rows, "pooled_dev_acc": pooled, "chosen": best,
                            "chosen_params": candidates[best], "dev_seeds": list(DEV_SEEDS[scorer_name])}
    return out


def _verdict(test: dict[str, Any]) -> str:
    lo, hi = test["ci95"]
    return "above" if lo > 0 else "below" if hi < 0 else "not distinguishable"


def test_phase(work: Work, selection: dict[str, Any], plan_sha: str) -> tuple[dict[str, Any], list[dict[str, Any]],
                                                                           list[dict[str, Any]]]:
    """The chosen default of each scorer on test: floors, every view, per-item paired tests; one look each."""
    from interlens.baselines import floor_warning, floors, paired_over_items
    from interlens.evidence.ledger import record_evaluation
    from interlens.evidence.store import check, rows_from_arrays

    results: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    warnings: list[str] = []
    for scorer_name in CANDIDATES:
        chosen = selection[scorer_name]["chosen_params"]
        per_scorer: dict[str, Any] = {}
        for name, registered, options in DATASETS:
            ds, train, dev, test = load(registered, options)
            a, b, fused = views_of(ds)
            params = {a: BASE[scorer_name], b: BASE[scorer_name], fused: {**BASE[scorer_name], **chosen}}
            looks = record_evaluation(test, "test", {"study": "fusion_study", "scorer": scorer_name,
                                                     "params": params, "train": train.fingerprint(),
                                                     "plan_sha256": plan_sha})
            y = test.y
            floor = floors(train.y, y, list(ds.labels))
            views: dict[str, Any] = {}
            correct: dict[str, np.ndarray] = {}
            for view, p in params.items():
                per_seed = []
                for s in TEST_SEEDS.get((scorer_name, name), SEEDS):
                    probs = work.probs(scorer_name, {**p, "seed": s}, train, dev, test, view, "test")
                    # predicted indices only (the accuracies and paired tests need no more; keeps the file small)
                    rows += rows_from_arrays(test.ids, y, probs.argmax(1), model=f"{scorer_name}/{view}", seed=s,
                                             split="test", task=name)
                    per_seed.append(probs.argmax(1) == y)
                c = np.stack(per_seed, axis=1).astype(float)
                correct[view] = c
                accs = c.mean(axis=0)
                views[view] = {"acc": float(accs.mean()), "acc_per_seed": [float(v) for v in accs],
                               "role": "fused" if view == fused else "unimodal"}
                checks.append(check(f"/results/{scorer_name}/{name}/views/{view}/acc", "acc",
                                    model=f"{scorer_name}/{view}", split="test", task=name,
                                    n_labels=len(ds.labels)))
                warning = floor_warning(f"{scorer_name} {name} {view}", views[view]["acc"], floor)
                if warning:
                    warnings.append(warning)
            best_uni = max((a, b), key=lambda v: views[v]["acc"])
            tests = {v: paired_over_items(correct[fused], correct[v]) for v in (a, b)}
            for t in tests.values():
                t["verdict"] = _verdict(t)
            per_scorer[name] = {
                "n_train": len(train), "n_test": len(test), "floors": floor, "views": views,
                "seeds": list(TEST_SEEDS.get((scorer_name, name), SEEDS)),
                "fused_view": fused, "fused_params": chosen, "best_unimodal_on_test": best_uni,
                "fused_minus_unimodal": tests,
                "fused_vs_best_unimodal": tests[best_uni]["verdict"], "test_looks": looks,
                "dev_acc": {"fused": selection[scorer_name]["per_dataset"][name]["fused"][
                    selection[scorer_name]["chosen"]], **selection[scorer_name]["per_dataset"][name]["unimodal"]},
            }
        results[scorer_name] = per_scorer
    return {"results": results, "warnings": warnings}, rows, checks


def write_markdown(summary: dict[str, Any], path: Path) -> None:
    """docs/results/fusion_study.md from the study JSON."""
    lines = ["# Fused views vs. their unimodal parts (issue 27)", "",
             "Generated by `benchmarks/fusion_study.py --phase test` from `benchmarks/results/fusion_study.json`. "
             "Test ACC (%), mean over the seeds of each row (3, except minilm-ft: MIntRec2.0 2, MELD 1 -- CPU "
             "budget); the fused view's default was chosen on dev "
             f"(plan `{summary['plan']['file']}`, sha256 `{summary['plan']['sha256'][:12]}…`); "
             "Δ = fused − unimodal, 95 % item-bootstrap CI, sign-flip p over test items (seeds averaged per item).", "",
             "| scorer | dataset | fused default | floor | view A | view B | fused | Δ vs A [CI] p | Δ vs B [CI] p | "
             "fused vs best unimodal |", "|---|---|---|---|---|---|---|---|---|---|"]
    for scorer_name, per in summary["results"].items():
        for name, r in per.items():
            a, b = [v for v in r["views"] if v != r["fused_view"]]
            f = r["fused_minus_unimodal"]
            cell = lambda t: (f"{100 * t['delta']:+.1f} [{100 * t['ci95'][0]:+.1f}, {100 * t['ci95'][1]:+.1f}] "  # noqa: E731
                              f"{t['p_value']:.3f}")
            lines.append(f"| {scorer_name} | {name} | {summary['selection'][scorer_name]['chosen']} | "
                         f"{100 * r['floors']['highest_floor_acc']:.1f} | {a} {100 * r['views'][a]['acc']:.1f} | "
                         f"{b} {100 * r['views'][b]['acc']:.1f} | {100 * r['views'][r['fused_view']]['acc']:.1f} | "
                         f"{cell(f[a])} | {cell(f[b])} | {r['fused_vs_best_unimodal']} |")
    lines += ["", "Dev selection (fused-view dev ACC pooled over the three dev splits, %):", ""]
    for scorer_name, sel in summary["selection"].items():
        ranked = ", ".join(f"{c} {100 * v:.2f}" for c, v in sel["pooled_dev_acc"].items())
        lines.append(f"- {scorer_name}: {ranked} → **{sel['chosen']}**")
    if summary["warnings"]:
        lines += ["", "Warnings:", ""] + [f"- {w}" for w in summary["warnings"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def dev_worker(work: Work, scorer_name: str, dataset: str) -> None:
    """Compute one dataset's dev-phase fused candidates (a second process; :func:`dev_phase` reuses them)."""
    registered, options = next((r, o) for n, r, o in DATASETS if n == dataset)
    ds, train, dev, _ = load(registered, options)
    fused = views_of(ds)[2]
    for params in reversed(list(CANDIDATES[scorer_name].values())):
        for s in DEV_SEEDS[scorer_name]:
            work.probs(scorer_name, {**BASE[scorer_name], **params, "seed": s}, train, dev, dev, fused, "dev")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", choices=("dev", "test"), required=True)
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "fusion-study")
    parser.add_argument("--worker", nargs=2, metavar=("SCORER", "DATASET"),
                        help="dev phase: only this scorer's fused candidates on this dataset (a parallel process)")
    args = parser.parse_args()
    work = Work(args.work)
    if args.worker:
        dev_worker(work, *args.worker)
        return
    if args.phase == "dev":
        selection = dev_phase(work)
        (args.work / "dev_selection.json").write_text(json.dumps(selection, indent=2))
        for scorer_name, sel in selection.items():
            dev_acc = {k: round(100 * v, 2) for k, v in sel["pooled_dev_acc"].items()}
            print(scorer_name, "chosen:", sel["chosen"], dev_acc)
        return
    from interlens.evidence.store import save_study
    from interlens.provenance import environment, interlens_revision, interlens_version

    selection = json.loads((args.work / "dev_selection.json").read_text())
    plan_sha = hashlib.sha256(PLAN.read_bytes()).hexdigest()
    started = time.perf_counter()
    body, rows, checks = test_phase(work, selection, plan_sha)
    summary = {
        "study": "fusion_study", "issue": 27,
        "question": "Is the fused view at least as accurate as its best unimodal view on test?",
        "plan": {"file": str(PLAN.relative_to(ROOT)), "sha256": plan_sha},
        "selection": selection, "seeds": list(SEEDS), "max_train": MAX_TRAIN, "base_params": BASE,
        "candidates": CANDIDATES, **body,
        "provenance": {"script": "benchmarks/fusion_study.py", "argv": [_portable(a) for a in sys.argv[1:]],
                       "interlens_version": interlens_version(), "git_revision": interlens_revision(),
                       "environment": environment(), "wall_s": time.perf_counter() - started,
                       "datasets": {n: dict(o) for n, _, o in DATASETS}},
    }
    save_study(OUT, summary, predictions=rows, checks=checks)
    write_markdown(summary, ROOT / "docs" / "results" / "fusion_study.md")
    print((ROOT / "docs" / "results" / "fusion_study.md").read_text())


if __name__ == "__main__":
    main()
