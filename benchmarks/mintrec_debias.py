"""MID-style correction and the MME-JD debias categories on the real MIntRec modality-removal runs.

Inputs (``../shared/data/mintrec``): ``Phase-2-Automated-Annotation`` -- one model (SDIF on MIntRec,
MulT on MIntRec2.0) trained and tested with modalities removed -- and ``Debiased/`` -- the test rows
that at least two of three text-heavy models get wrong (the "text bias" subset).

Mapping to MME-JD: p0 = all modalities, p_t = the text-only run, p_i = the nonverbal (audio+video)
run. These are *whole-modality* removals, not the paper's context-only counterfactuals (semantic
words are not masked), i.e. the CF-MSA-style estimate the paper contrasts itself with. Only the
predicted class and the gold-class probability are stored; full vectors are constructed
(``read_mintrec_removal``), so corrections act on approximate distributions. There are no dev-set
predictions: alpha, beta are tuned by 2-fold cross-fitting on test (tune on one half, apply to
the other). Writes ``docs/results/mintrec_debias.{json,md}``.

Run: ``.venv/bin/python benchmarks/mintrec_debias.py [--data-root DIR] [--out-dir docs/results]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mintrec_crosstab import SETS, read_tsv  # noqa: E402

from interlens.data.paths import data_root  # noqa: E402
from interlens.debias.core import debias_categories, mid_correct  # noqa: E402
from interlens.debias.methods import tune_mid  # noqa: E402
from interlens.io import atomic_write_text, write_json  # noqa: E402
from interlens.scoring.precomputed import mintrec_label_order, read_mintrec_removal  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEBIASED = {"mintrec1": "MIntRec-1", "mintrec2": "MIntRec-2"}
VARIANTS = {"MID (alpha, beta)": (True, True), "MID text only (beta)": (False, True),
            "MID nonverbal only (alpha)": (True, False)}


def cross_fit_mid(p0, pi, pt, y, *, use_alpha: bool, use_beta: bool, seed: int = 0, n_trials: int = 50):
    """2-fold cross-fitted MID: alpha, beta tuned on one half of the rows, applied to the other."""
    rng = np.random.default_rng(seed)
    fold = rng.permutation(len(y)) % 2
    out, params = np.zeros_like(p0), []
    for k in (0, 1):
        fit, apply = fold != k, fold == k

        def objective(a: float, b: float, fit=fit) -> float:
            p = mid_correct(p0[fit], pi[fit], pt[fit], a if use_alpha else 0.0, b if use_beta else 0.0)
            return float((p.argmax(1) == y[fit]).mean())

        bo = tune_mid(p0[fit], pi[fit], pt[fit], y[fit], n_trials=n_trials, seed=seed, objective=objective)
        a, b = (bo["alpha"] if use_alpha else 0.0), (bo["beta"] if use_beta else 0.0)
        out[apply] = mid_correct(p0[apply], pi[apply], pt[apply], a, b)
        params.append({"alpha": round(a, 3), "beta": round(b, 3), "tune_acc": round(bo["value"], 4)})
    return out, params


def run(name: str, root: Path) -> dict[str, Any]:
    spec = SETS[name]
    auto = root / "mintrec" / "Phase-2-Automated-Annotation" / spec["auto"]
    test = read_tsv(auto / "test.tsv")
    debiased = read_tsv(root / "mintrec" / "Debiased" / DEBIASED[name] / "debiased_test.tsv")
    key = spec["key"]
    in_debiased = test.set_index(key).index.isin(debiased.set_index(key).index)
    labels = mintrec_label_order(auto / "test.tsv", auto / f"{spec['prefix']}_all.csv")
    ids = [str(i) for i in range(len(test))]
    read = {v: read_mintrec_removal(auto / f"{spec['prefix']}_{v}.csv", labels=labels, ids=ids).probs
            for v in ("all", "text", "audio_video")}
    p0, pt, pi = read["all"], read["text"], read["audio_video"]
    gold_names = read_mintrec_removal(auto / f"{spec['prefix']}_all.csv", labels=labels, ids=ids).meta["targets"]
    y = np.array([labels.index(gold_names[i]) for i in ids])

    def acc(p: np.ndarray, mask: np.ndarray | None = None) -> float:
        m = np.ones(len(y), bool) if mask is None else mask
        return round(100 * float((p.argmax(1) == y)[m].mean()), 2)

    rows = {"original (all modalities)": (p0, None), "text-only run": (pt, None), "nonverbal-only run": (pi, None)}
    for variant, (ua, ub) in VARIANTS.items():
        rows[variant] = cross_fit_mid(p0, pi, pt, y, use_alpha=ua, use_beta=ub)
    table = {m: {"acc": acc(p), "acc_debiased_subset": acc(p, in_debiased), "acc_rest": acc(p, ~in_debiased),
                 **({"params_per_fold": params} if params else {})} for m, (p, params) in rows.items()}
    cats = debias_categories(p0, pi, pt, y, eps=0.1)
    err = p0.argmax(1) != y
    by_cat = {c: {"share": round(float((cats == c).mean()), 4), "n": int((cats == c).sum()),
                  "original_error": round(100 * float(err[cats == c].mean()), 2) if (cats == c).any() else None,
                  "share_in_debiased_subset": round(float(in_debiased[cats == c].mean()), 4)
                  if (cats == c).any() else None}
              for c in ("none", "image", "text", "both", "excluded")}
    return {"dataset": spec["title"], "n_test": len(y), "n_debiased_subset": int(in_debiased.sum()),
            "table": table, "categories": by_cat}


def markdown(results: dict[str, Any]) -> str:
    md = ["# MID and debias categories on the MIntRec modality-removal runs", "",
          "Generated by `benchmarks/mintrec_debias.py`. p0 = all modalities, p_t = text-only run, p_i = "
          "nonverbal (audio+video) run of the same model; alpha, beta by 2-fold cross-fitting on test "
          "(no dev predictions exist); *debiased subset* = `Debiased/.../debiased_test.tsv` rows (test items "
          "that text-heavy models get wrong). Probabilities are constructed from the stored predicted class "
          "and gold probability. Accuracy in %.", ""]
    for r in results.values():
        md += [f"## {r['dataset']} (n = {r['n_test']}, debiased subset {r['n_debiased_subset']})", "",
               "| predictions | acc | acc on debiased subset | acc on the rest | alpha, beta per fold |",
               "|---|---|---|---|---|"]
        for m, row in r["table"].items():
            params = "; ".join(f"{p['alpha']}, {p['beta']}" for p in row.get("params_per_fold", [])) or "-"
            md.append(f"| {m} | {row['acc']} | {row['acc_debiased_subset']} | {row['acc_rest']} | {params} |")
        md += ["", "Debias categories (MME-JD Sec. 4.2.1, eps = 0.1; p_i = nonverbal, p_t = text):", "",
               "| category | share | n | error of p0 (%) | share of rows in the debiased subset |",
               "|---|---|---|---|---|"]
        for c, row in r["categories"].items():
            md.append(f"| {c} | {row['share']:.3f} | {row['n']} | {row['original_error']} | "
                      f"{row['share_in_debiased_subset']} |")
        md.append("")
    return "\n".join(md)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--out-dir", type=Path, default=REPO / "docs" / "results")
    args = parser.parse_args()
    root = data_root(args.data_root)
    results = {name: run(name, root) for name in ("mintrec1", "mintrec2")}
    write_json(args.out_dir / "mintrec_debias.json", results)
    text = markdown(results)
    atomic_write_text(args.out_dir / "mintrec_debias.md", text)
    print(text)


if __name__ == "__main__":
    main()
