"""Run the MME-JD debiasing experiment on the planted-spurious-cue data over several seeds (router
targets: the paper's Sec. 4.2.1 rule, and again with ``router_target="benefit"``) and write
``results.json`` per seed + ``summary.json`` (mean +- std of test accuracy and of the error on
cue-affected / unaffected samples per method) and figures (seed 0).

    python benchmarks/debias_spurious.py [out_dir] [n_seeds]     # ~1 min per seed on 2 idle cores
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from interlens.data.spurious import make_spurious
from interlens.debias.evaluate import run_experiment
from interlens.io import write_json


def main(out: str = "docs/results/debias", n_seeds: str = "3") -> None:
    out_dir, per_seed = Path(out), []
    for seed in range(int(n_seeds)):
        started = time.perf_counter()
        results = run_experiment(make_spurious(3000, seed=seed), out=out_dir if seed == 0 else None, seed=seed)
        # the same with router targets that mark what each route corrects (an option beyond the paper)
        benefit = run_experiment(make_spurious(3000, seed=seed), seed=seed, router_target="benefit")
        for method in ("MRID", "MME-JD", "MME-JD (oracle router)"):
            for table in ("main", "affected_error", "error_by_category", "error_by_cue"):
                results[table][f"{method} [benefit router]"] = benefit[table][method]
        results["router_benefit"] = benefit["router"]
        results["weights_benefit"] = benefit["weights"]
        results["wall_s"] = round(time.perf_counter() - started, 1)
        write_json(out_dir / f"results_seed{seed}.json", results)
        per_seed.append(results)
        print(f"seed {seed}: {results['wall_s']} s", flush=True)
    summary = {"n": 3000, "seeds": list(range(int(n_seeds))), "methods": {}}
    for method in per_seed[0]["main"]:
        row = {}
        for key, (table, field) in (("acc", ("main", "acc")), ("affected_error", ("affected_error", "affected")),
                                    ("unaffected_error", ("affected_error", "unaffected"))):
            values = np.array([r[table][method][field] for r in per_seed])
            row[key] = {"mean": round(float(values.mean()), 2), "std": round(float(values.std()), 2),
                        "per_seed": values.tolist()}
        summary["methods"][method] = row
        print(f"{method:24s} acc {row['acc']['mean']:6.2f} ± {row['acc']['std']:4.2f}   affected err "
              f"{row['affected_error']['mean']:6.2f} ± {row['affected_error']['std']:4.2f}   unaffected err "
              f"{row['unaffected_error']['mean']:6.2f} ± {row['unaffected_error']['std']:4.2f}")
    summary["n_affected"] = [r["affected_error"]["baseline"]["n_affected"] for r in per_seed]
    write_json(out_dir / "summary.json", summary)


if __name__ == "__main__":
    main(*sys.argv[1:])
