"""The summariser of benchmarks/mmoe_real.py (issue 27 item 4) on a hand-made run: no training."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from interlens.errors import DataError

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("mmoe_real", ROOT / "benchmarks" / "mmoe_real.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


IDS = ["a", "b", "c", "d"]
GOLD = [0, 1, 1, 0]
#: model -> seed -> predictions on IDS
PREDS = {"baseline": {0: [0, 1, 0, 0], 1: [0, 0, 0, 0]},       # ACC 0.75, 0.5
         "router_soft": {0: [0, 1, 1, 0], 1: [0, 1, 1, 1]},    # ACC 1.0, 0.75
         "unimodal:utterance": {0: [0, 1, 1, 1]},              # ACC 0.75 (fitted once)
         "unimodal:context": {0: [0, 0, 0, 0]}}                # ACC 0.5 = the floors


def run_rows() -> list[dict]:
    return [{"id": i, "gold": g, "pred": p, "seed": seed, "model": model, "split": "test"}
            for model, by_seed in PREDS.items() for seed, preds in by_seed.items()
            for i, g, p in zip(IDS, GOLD, preds, strict=True)]


RESULTS = {"dataset": {"labels": ["no", "yes"], "splits": {"train": 10, "dev": 2, "test": 4}},
           "baselines": {"floors": {"train_majority": {"index": 0, "label": "no", "acc": 0.5, "fit_on": "train"}}},
           "summary": {}, "per_seed": [{}], "test_looks": {"mustard": 1}}


def test_summarise_run_hand_made():
    script = load_script()
    entry, rows, checks = script.summarise_run("mustard__embedding", RESULTS, run_rows(), n_boot=200)
    views = entry["views"]
    assert views["baseline"]["acc"] == 0.625 and views["baseline"]["acc_std"] == 0.125
    assert views["baseline"]["acc_per_seed"] == [0.75, 0.5] and views["baseline"]["seeds"] == [0, 1]
    # macro-F1: seed 0 (0.8 + 2/3) / 2, seed 1 (2/3 + 0) / 2 -> mean 8/15
    assert views["baseline"]["macro_f1"] == pytest.approx(8 / 15)
    assert views["router_soft"]["acc"] == 0.875 and views["unimodal:context"]["acc"] == 0.5
    assert views["unimodal:utterance"]["role"] == "unimodal" and views["baseline"]["role"] == "fused baseline"
    assert entry["floors"]["constant_floor"]["acc"] == 0.5 and entry["floors"]["highest_floor_acc"] == 0.5
    assert entry["best_unimodal"] == "unimodal:utterance"
    # router - baseline per item (seeds averaged): [1, 1, 1, .5] - [1, .5, 0, 1] = [0, .5, 1, -.5]; exact sign-flip
    # over the 3 nonzero: |sum| >= 1 in 6 of 8 flips
    router = entry["paired_over_items"]["router_soft - baseline"]
    assert router["delta"] == 0.25 and router["p_value"] == 0.75 and router["verdict"] == "not distinguishable"
    assert entry["paired_over_items"]["baseline - unimodal:utterance"]["delta"] == -0.125
    assert entry["paired_over_items"]["baseline - unimodal:context"]["delta"] == 0.125
    assert entry["baseline_vs_best_unimodal"] == entry["router_soft_vs_baseline"] == "not distinguishable"
    assert len(entry["warnings"]) == 1
    assert entry["warnings"][0].startswith("embedding mustard unimodal:context: test ACC 0.500 <= ")
    assert entry["test_looks"] == {"mustard": 1} and entry["n_train"] == 10 and entry["n_test"] == 4
    assert {r["model"] for r in rows} == {f"embedding/{m}" for m in PREDS} and {r["task"] for r in rows} == {"mustard"}
    # acc + acc per seed + macro-F1 of every model, and the constant floor: 4 + 4 + 3 + 3 + 1
    assert len(checks) == 15
    lo, hi = views["baseline"]["acc_ci95"]
    assert 0 <= lo <= 0.625 <= hi <= 1


def test_study_file_verifies_and_a_changed_number_is_named(tmp_path):
    """The study's stored rows and checks: `interlens verify` re-derives every number; an edit is named."""
    from interlens.evidence.store import save_study
    from interlens.evidence.verify import verify_path

    script = load_script()
    entry, rows, checks = script.summarise_run("mustard__embedding", RESULTS, run_rows(), n_boot=200)
    study = {"runs": {"mustard__embedding": entry}}
    path = save_study(tmp_path / "mmoe_real.json", study, predictions=rows, checks=checks)
    report = verify_path(tmp_path)
    assert report.exit_code == 0, report.mismatches[:5]
    assert report.derived == len(checks)
    saved = json.loads(path.read_text())
    saved["runs"]["mustard__embedding"]["views"]["router_soft"]["acc_per_seed"][1] = 0.5
    path.write_text(json.dumps(saved))
    assert verify_path(tmp_path).mismatches[0].startswith(
        "mmoe_real.json: /runs/mustard__embedding/views/router_soft/acc_per_seed/1: stored ")


def test_summarise_run_refuses_a_missing_prediction():
    script = load_script()
    rows = [r for r in run_rows() if not (r["model"] == "router_soft" and r["seed"] == 1 and r["id"] == "c")]
    with pytest.raises(DataError, match="'router_soft' seed 1 has no prediction for sample 'c'"):
        script.summarise_run("mustard__embedding", RESULTS, rows)


def test_tables_and_the_spliced_doc():
    script = load_script()
    entry, _, _ = script.summarise_run("mustard__embedding", RESULTS, run_rows(), n_boot=200)
    study = {"seeds": [0, 1], "max_train": 2000, "runs": {"mustard__embedding": entry},
             "missing": {"meld__minilm-ft": "not finished"}}
    table = script.main_table(study)
    row = next(line for line in table if line.startswith("| mustard | embedding | 10 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[3] == "50.0 / 50.0" and cells[4].startswith("75.0 [") and cells[6].startswith("62.5 ± 12.5 [")
    text = script.markdown(study)
    assert "--no-train-filters" not in text
    assert "- embedding mustard: why; re-run with --no-train-filters" in script.markdown(
        {**study, "runs": {"mustard__embedding": {**entry, "fallback": "why; re-run with --no-train-filters\n"}}})
    assert "- meld__minilm-ft: not finished" in text and "- embedding mustard unimodal:context: test ACC 0.500" in text
    doc = f"intro\n{script.BEGIN}\nold table\n{script.END}\nafter\n"
    spliced = script.splice(doc, table)
    assert spliced.startswith(f"intro\n{script.BEGIN}\n| dataset |") and spliced.endswith(f"{script.END}\nafter\n")
    assert "old table" not in spliced and script.splice(spliced, table) == spliced
    with pytest.raises(DataError, match="exactly one pair of mmoe_real markers"):
        script.splice("no markers", table)


def test_fallback_fires_when_every_expert_falls_back(tmp_path):
    """No results, or every group below min_subset -> a reason; one group large enough -> None; the
    filtered run is moved aside and the folder marked for --no-train-filters."""
    script = load_script()
    out = tmp_path / "mintrec2__minilm-ft"
    assert "no training sample kept" in script.filter_fallback_reason(out)
    out.mkdir()
    few = {"category_counts": {"train": {"R": 2, "U1": 1, "U2": 0, "S": 1, "filtered": 1996}},
           "settings": {"min_subset": 8}}
    (out / "results.json").write_text(json.dumps(few))
    assert script.fallback_experts(few) == ["R", "U", "S"]
    assert "every expert (R, U, S)" in script.filter_fallback_reason(out)
    enough_u = {**few, "category_counts": {"train": {"R": 2, "U1": 5, "U2": 3, "S": 1}}}  # U = 8 = min_subset
    (out / "results.json").write_text(json.dumps(enough_u))
    assert script.fallback_experts(enough_u) == ["R", "S"]
    assert script.filter_fallback_reason(out) is None
    (out / "results.json").write_text(json.dumps(few))
    script.start_fallback(out, script.filter_fallback_reason(out))
    assert json.loads((tmp_path / "mintrec2__minilm-ft.filtered" / "results.json").read_text()) == few
    assert sorted(p.name for p in out.iterdir()) == ["fallback.txt"]
    assert (out / "fallback.txt").read_text().endswith("re-run with --no-train-filters\n")
