"""PID (Liang et al. 2023, CVX estimator) beside the MINT score and MMoE categories on real and synthetic data.

Run: ``.venv/bin/python benchmarks/pid_real_data.py [--train 1000] [--dev 200] [--test 600] [--boot 200]
[--only NAME ...] [--out PATH]``;
``--table JSON`` prints the Markdown table of docs/pid.md from a results file.

Each dataset is measured with the ``embedding`` scorer (frozen MiniLM / pixel encoders + trained
heads, seed 0): x_i = the unimodal model's predicted label on modality i, y = the gold label, on the
test split. Every split is a seeded random subset (sizes above; the whole split when smaller) so
that a dataset takes a few minutes on 2 CPU cores. Besides R / U1 / U2 / S (bits, 95 % percentile
bootstrap) the script records a permutation floor (the PID of (x1, x2, shuffled y): what the
plug-in estimator reports when there is no information, i.e. its small-sample bias), the MINT
score (exact and soft delta, multimodal reference) and the MMoE category shares of the same run.
Written atomically as JSON (default ``benchmarks/results/pid_real_data.json``).

Datasets: MUStARD (utterance vs. dialogue context), MIntRec2.0 and MELD (utterance vs. previous
turns, ``context=True``), and the built-in synthetic data with one planted type (R, U1, U2, S; text
vs. image; n = 1000).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from interlens.data.resolve import resolve_dataset
from interlens.data.schema import Dataset
from interlens.interactions import pid
from interlens.interactions.pid import TERMS
from interlens.io import read_json, write_json
from interlens.methods.pid import measure_pid
from interlens.scoring.embedding import EmbeddingScorer

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "pid_real_data.json"
REAL = {"mustard": {}, "mintrec2": {"context": True}, "meld": {"context": True}}
SYNTHETIC = ("R", "U1", "U2", "S")


def subsample(data: Dataset, sizes: dict[str, int], seed: int = 0) -> Dataset:
    """A seeded random subset of each split (the whole split when it is smaller)."""
    rng = np.random.default_rng(seed)
    splits = {}
    for split, ids in data.splits.items():
        ids = list(ids)
        keep = sizes.get(split, len(ids))
        splits[split] = sorted(ids) if keep >= len(ids) else [ids[i] for i in sorted(rng.choice(len(ids), keep,
                                                                                                replace=False))]
    wanted = {i for ids in splits.values() for i in ids}
    samples = [s for s in data.samples if s.id in wanted]
    return data.derive(data.name, samples, splits=splits)


def measure(name: str, data: Dataset, *, boot: int, seed: int) -> dict[str, Any]:
    start = time.perf_counter()
    report, result = measure_pid(data, EmbeddingScorer(seed=seed), source="predictions", target="gold",
                                 reference="multimodal", n_boot=boot, seed=seed, S=100)
    m1, m2 = report.modalities
    x1, x2 = report.predictions[m1].argmax(), report.predictions[m2].argmax()
    null = pid(x1, x2, np.random.default_rng(seed).permutation(report.y_gold))
    n = max(1, len(report.ids))
    row = {"dataset": name, "n_test": len(report.ids), "n_train": len(data.splits.get("train", [])),
           "modalities": [m1, m2], "labels": len(data.labels), "pid": result.to_dict(),
           "pid_permutation_floor": null.terms, "mint_score": {d: s.to_dict() for d, s in report.scores.items()},
           "mmoe_shares": {c: report.counts.get(c, 0) / n for c in TERMS},
           "accuracy": {v: m["acc"] for v, m in report.metrics.items()}, "seconds": time.perf_counter() - start}
    terms = " ".join(f"{t}={result[t]:.3f}" for t in TERMS)
    print(f"{name:>14}: I={result.mi:.3f} bits {terms} dominant={result.dominant} "
          f"MINT exact={report.scores['exact'].score:.2f} ({row['seconds']:.0f} s)", flush=True)
    return row


def markdown(results: dict[str, Any]) -> str:
    """The docs/pid.md table from a results JSON of this script."""
    head = ("| dataset | n test | acc m1 / m2 / m1+m2 | I(X1,X2;Y) | R | U1 | U2 | S | dominant | floor (sum) "
            "| MINT exact | MINT soft | MMoE R / U1 / U2 / S |")
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for row in results["results"]:
        p, ci = row["pid"], row["pid"].get("ci", {})
        acc = " / ".join(f"{a:.2f}" for a in row["accuracy"].values())
        terms = " | ".join(f"{p[t]:.3f} [{ci[t][0]:.3f}, {ci[t][1]:.3f}]" if t in ci else f"{p[t]:.3f}"
                           for t in TERMS)
        floor = sum(row["pid_permutation_floor"].values())
        shares = " / ".join(f"{row['mmoe_shares'][t]:.2f}" for t in TERMS)
        lines.append(f"| {row['dataset']} | {row['n_test']} | {acc} | {p['I(X1,X2;Y)']:.3f} | {terms} | "
                     f"{p['dominant']} | {floor:.3f} | {row['mint_score']['exact']['score']:.2f} | "
                     f"{row['mint_score']['soft']['score']:.2f} | {shares} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=1000)
    parser.add_argument("--dev", type=int, default=200)
    parser.add_argument("--test", type=int, default=600)
    parser.add_argument("--boot", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", default=None, help="dataset names (mustard, mintrec2, meld, "
                                                                  "synthetic-R, ...)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--table", type=Path, default=None, help="only print the Markdown table of this JSON")
    args = parser.parse_args()
    if args.table is not None:
        print(markdown(read_json(args.table)))
        return
    sizes = {"train": args.train, "dev": args.dev, "test": args.test}
    rows, skipped = [], {}
    for name, options in REAL.items():
        if args.only and name not in args.only:
            continue
        try:
            data = resolve_dataset(name, **options)
        except Exception as err:  # data absent on this machine: say so, keep going
            skipped[name] = str(err)
            print(f"{name:>14}: skipped ({err})")
            continue
        rows.append(measure(name, subsample(data, sizes, args.seed), boot=args.boot, seed=args.seed))
    for kind in SYNTHETIC:
        name = f"synthetic-{kind}"
        if args.only and name not in args.only:
            continue
        data = resolve_dataset("synthetic", n=1000, proportions={kind: 1.0}, seed=args.seed)
        rows.append(measure(name, data, boot=args.boot, seed=args.seed))
    out = {"scorer": "embedding (defaults, seed 0)", "x_i": "unimodal predicted label", "y": "gold label",
           "split": "test", "subset_sizes": sizes, "subset_seed": args.seed, "bootstrap": args.boot,
           "unit": "bits", "results": rows, "skipped": skipped}
    print(f"written: {write_json(args.out, out)}")
    print(markdown(out))


if __name__ == "__main__":
    main()
