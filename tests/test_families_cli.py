"""Every model family, from the command line on a dataset file with the inputs it reads (images, a
folder of frames as video, WAV audio): ``bench run --method zero-shot --limit 8`` and ``experts train``
(LoRA experts on one tiny base) run to their tables (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interlens.cli import app
from tests.scorer_zoo import ZOO, write_dataset_file

pytestmark = pytest.mark.slow
runner = CliRunner()
#: family -> (the second modality of the experts' view, dataset-file extras)
FAMILIES = {"blip2": ("photo", {}), "internvl": ("photo", {}), "llava-onevision": ("movie", {"video": True}),
            "llava-next-video": ("movie", {"video": True}), "qwen2-audio": ("sound", {"audio": True})}


def _options(name: str) -> list[str]:
    out = []
    for key, value in ZOO[name][0]().items():
        out += ["-s", f"{key}={json.dumps(value) if not isinstance(value, str) else value}"]
    return out


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_zero_shot_bench_and_experts_from_the_cli(name: str, tmp_path: Path) -> None:
    second, extras = FAMILIES[name]
    spec = write_dataset_file(tmp_path / "data", **extras)
    bench = runner.invoke(app, ["bench", "run", "--tasks", str(spec), "--scorer", name, *_options(name),
                                "--method", "zero-shot", "--limit", "8", "--seeds", "1", "--n-boot", "10",
                                "--out", str(tmp_path / "bench")])
    assert bench.exit_code == 0, bench.output
    results = json.loads((tmp_path / "bench" / "results.json").read_text())
    assert "zoo-file" in json.dumps(results)
    experts = runner.invoke(app, ["experts", "train", "--dataset", str(spec), "--scorer", name, *_options(name),
                                  "--modality", "utterance", "--modality", second, "--view", f"utterance+{second}",
                                  "--seed", "0", "--delta", "0", "--min-subset", "2", "--expert-epochs", "1",
                                  "--no-save-models", "--out", str(tmp_path / "experts")])
    assert experts.exit_code == 0, experts.output
    rows = json.loads((tmp_path / "experts" / "results.json").read_text())["summary"]["rows"]
    assert {"baseline", "oracle", "router_top1"} <= {row["strategy"] for row in rows}
