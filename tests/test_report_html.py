"""Every kind of run writes results.json with provenance and a report.html that a real headless
browser (Debian's chromium + chromedriver via selenium; .ci/run installs them) opens without console
errors, with every image loaded, the main table present and the provenance naming version and command.

Set INTERLENS_SCREENSHOTS=docs/screenshots to refresh the screenshots kept in the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from interlens.cli import app
from interlens.predictions import Predictions
from interlens.provenance import interlens_revision, interlens_version, validate_results

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


# -- the browser --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    chromedriver, chromium = shutil.which("chromedriver"), shutil.which("chromium")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        webdriver = None
    if webdriver is None or not chromedriver or not chromium:
        why = "selenium, chromium and chromium-driver are needed (.ci/run installs them)"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1200,900"):
        options.add_argument(arg)
    options.binary_location = chromium
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)  # no driver download
    yield driver
    driver.quit()


def open_page(driver, page: Path) -> dict:
    """Load ``page``; return its console errors, images (complete, natural size), tables and provenance."""
    from selenium.webdriver.common.by import By

    driver.get(page.resolve().as_uri())
    driver.execute_script("return document.readyState")
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
    main = driver.find_elements(By.CSS_SELECTOR, "#main-table tr")
    prov = driver.find_elements(By.ID, "provenance")
    return {"errors": errors, "images": images, "main_rows": len(main), "provenance": prov[0].text if prov else ""}


def check_report(driver, out: Path, command: str, shot: str | None, *, min_images: int = 1) -> dict:
    """The assertions of the issue on ``out/report.html``; returns results.json."""
    results = json.loads((out / "results.json").read_text())
    validate_results(results)
    assert results["provenance"]["command"].startswith(command), results["provenance"]["command"]
    assert results["provenance"]["argv"] == []  # run in-process (CliRunner): sys.argv is pytest's
    page = open_page(driver, out / "report.html")
    assert page["errors"] == []
    assert len(page["images"]) >= min_images
    assert all(done and w > 0 and h > 0 for done, w, h in page["images"]), page["images"]
    assert page["main_rows"] >= 2  # header + at least one row
    assert f"interlens version {interlens_version()}" in page["provenance"]
    assert command in page["provenance"]
    target = os.environ.get("INTERLENS_SCREENSHOTS")
    if target and shot:
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1200, min(max(900, height + 40), 6000))
        Path(target).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(target) / f"{shot}.png"))
        driver.set_window_size(1200, 900)
    return results


def test_checker_fails_on_a_broken_page(browser, tmp_path):
    """The checks can fail: a missing image has natural width 0 and a failing script logs an error."""
    page = tmp_path / "bad.html"
    page.write_text("<!doctype html><html><head><link rel='icon' href='data:,'></head><body>"
                    "<img src='nowhere.png'><script>undefinedFunction()</script></body></html>")
    seen = open_page(browser, page)
    assert seen["images"] == [[True, 0, 0]]
    assert any("undefinedFunction" in e for e in seen["errors"])
    assert seen["main_rows"] == 0 and seen["provenance"] == ""


# -- the runs -----------------------------------------------------------------------------------------------
def _invoke(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "report.html" in result.output


def test_score_group_and_predict_reports(browser, tmp_path):
    from interlens.data import resolve_dataset

    _invoke(["interactions", "score", "--dataset", "synthetic", "-d", "n=40", "-s", "epochs=1", "--draws", "20",
             "--no-cache", "--out", str(tmp_path / "score")])
    results = check_report(browser, tmp_path / "score", "interlens interactions score",
                           "interactions-score", min_images=3)
    prov = results["provenance"]
    assert results["kind"] == "interlens.interactions.score"
    assert prov["datasets"][0]["fingerprint"] == resolve_dataset("synthetic", n=40).fingerprint()
    assert prov["scorer"]["name"] == "embedding" and prov["scorer"]["params"]["epochs"] == 1
    assert set(prov["scorer"]["fitted"]) == {"text", "image", "text+image"}
    assert prov["settings"]["draws"] == 20 and prov["limits"] == {"dataset.n": "40"}
    assert prov["interlens_revision"] == interlens_revision()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    if head:  # a checkout: the revision is interlens's own commit (this repository's HEAD)
        assert prov["interlens_revision"].removesuffix("+dirty") == head
    assert oct((tmp_path / "score" / "report.html").stat().st_mode & 0o777) == oct(0o666 & ~_umask())

    _invoke(["interactions", "group", "--results", str(tmp_path / "score"), "--out", str(tmp_path / "group")])
    grouped = check_report(browser, tmp_path / "group", "interlens interactions group",
                           "interactions-group")
    assert grouped["kind"] == "interlens.interactions.group"

    _invoke(["predict", "--dataset", "synthetic", "-d", "n=40", "-s", "epochs=1", "--view", "text", "--no-cache",
             "--out", str(tmp_path / "predict")])
    check_report(browser, tmp_path / "predict", "interlens predict", "predict")

    # `interlens report` rebuilds the page from results.json alone (figures drawn from the numbers)
    for png in (tmp_path / "score").glob("*.png"):
        png.unlink()
    (tmp_path / "score" / "report.html").unlink()
    _invoke(["report", str(tmp_path / "score")])
    check_report(browser, tmp_path / "score", "interlens interactions score", None, min_images=3)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _expert_files(folder: Path) -> list[str]:
    ids, target = ["a", "b", "c", "d"], [1, 0, 1, 0]
    logits = {"R": [[0, 2], [2, 0], [2, 0], [0, 2]], "U": [[2, 0], [2, 0], [0, 2], [2, 0]],
              "S": [[0, 1], [1, 0], [1, 0], [1, 0]]}
    args = []
    for name, rows in logits.items():
        path = folder / f"{name}.jsonl"
        path.write_text("".join(json.dumps({"image_id": i, "target": t, "pred": int(v[1] > v[0]), "logits": v}) + "\n"
                                for i, t, v in zip(ids, target, rows, strict=True)))
        args += ["--expert", f"{name}={path}"]
    return args


def test_experts_evaluate_and_debias_mid_reports(browser, tmp_path):
    _invoke(["experts", "evaluate", *_expert_files(tmp_path), "--out", str(tmp_path / "experts")])
    results = check_report(browser, tmp_path / "experts", "interlens experts evaluate", "experts-evaluate")
    assert results["kind"] == "interlens.experts.evaluate"

    rng = np.random.default_rng(0)
    n, labels = 40, ("no", "yes")
    ids = [f"s{i}" for i in range(n)]
    y = rng.integers(0, 2, n)
    files = {}
    for name in ("p0", "pi", "pt"):
        p = rng.uniform(0.1, 0.9, n)
        files[name] = Predictions(ids, labels, np.c_[1 - p, p], name).save(tmp_path / f"{name}.json")
    (tmp_path / "gold.json").write_text(json.dumps({i: labels[v] for i, v in zip(ids, y, strict=True)}))
    _invoke(["debias", "mid", "--original", str(files["p0"]), "--image-cf", str(files["pi"]), "--text-cf",
             str(files["pt"]), "--gold", str(tmp_path / "gold.json"), "--n-trials", "5",
             "--out", str(tmp_path / "mid")])
    mid = check_report(browser, tmp_path / "mid", "interlens debias mid", "debias-mid")
    assert mid["provenance"]["seeds"] == [0] and mid["provenance"]["settings"]["n_trials"] == 5


def test_bench_run_report_with_limit_is_not_comparable(browser, tmp_path):
    rows = [{"uid": f"{split}{i}", "utt": f"{'yes please' if i % 2 else 'no thanks'} {i}", "tag": "ab"[i % 2],
             "part": split} for split in ("train", "dev", "test") for i in range(8)]
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "t.yaml").write_text(json.dumps({"name": "tiny", "path": "t.jsonl", "id": "uid", "label": "tag",
                                                 "modalities": {"utterance": "utt"}, "split": "part"}))
    _invoke(["bench", "run", "--tasks", str(tmp_path / "t.yaml"), "--scorer", "embedding", "-s", "epochs=2",
             "--seeds", "1", "--limit", "6", "--n-boot", "0", "--out", str(tmp_path / "bench")])
    results = check_report(browser, tmp_path / "bench", "interlens bench run", "bench-run")
    assert results["kind"] == "interlens.bench.run" and results["provenance"]["limits"] == {"limit": 6}
    assert "no (--limit 6)" in (tmp_path / "bench" / "report.html").read_text()


@pytest.mark.slow
def test_demo_report(browser, tmp_path):
    _invoke(["demo", "--n", "200", "--no-experts", "--no-cache", "--out", str(tmp_path / "demo")])
    results = check_report(browser, tmp_path / "demo", "interlens demo", "demo",
                           min_images=3)
    assert results["kind"] == "interlens.demo" and results["provenance"]["seeds"] == [0]
    html = (tmp_path / "demo" / "report.html").read_text()
    assert "categorization confusion" in html and "interaction score" in html


def test_report_command_and_schema_refuse_bad_input(tmp_path):
    from interlens.errors import DataError

    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "no results.json here" in " ".join(result.output.split())
    with pytest.raises(DataError, match="field 'provenance'"):
        validate_results({"kind": "interlens.demo"})
    with pytest.raises(DataError, match="field 'provenance.command'"):
        validate_results({"kind": "x", "provenance": {"kind": "x", "interlens_version": "0", "interlens_revision": None,
                                                      "created": "now"}})


def test_experts_train_and_debias_evaluate_reports(browser, tmp_path):
    _invoke(["experts", "train", "--dataset", "synthetic", "-d", "n=300", "--seed", "0", "--categories", "planted",
             "-s", "epochs=3", "--no-save-models", "--out", str(tmp_path / "experts")])
    experts = check_report(browser, tmp_path / "experts", "interlens experts train", "experts-train")
    assert experts["kind"] == "interlens.experts.train" and "models" not in experts
    assert experts["provenance"]["seeds"] == [0] and not (tmp_path / "experts" / "models").exists()
    _invoke(["debias", "evaluate", "--n", "400", "--method", "mid", "--setting", "n_trials=5",
             "--out", str(tmp_path / "debias")])
    debias = check_report(browser, tmp_path / "debias", "interlens debias evaluate", "debias-evaluate")
    assert debias["kind"] == "interlens.debias.evaluate" and "MID" in debias["main"]
