"""Every method x every registered scorer, end to end on tiny real models and data: each cell either
runs to its result or is refused at once with the one-line capability error -- exactly as the table
in docs/scorers.md (generated from the registry) says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from interlens.methods.matrix import METHOD_NEEDS, matrix_markdown, supports
from interlens.scoring.base import CapabilityError
from interlens.scoring.registry import scorer_class
from tests.scorer_zoo import MEASURE_PAIR, ZOO, conformance_dataset, make, write_dataset_file

pytestmark = pytest.mark.slow
NAMES = sorted(ZOO)


def run_measure(name: str, tmp: Path) -> dict[str, Any]:
    from interlens.measure import measure_interactions

    report = measure_interactions(conformance_dataset(), make(name), modalities=MEASURE_PAIR[name], split="test",
                                  reference="multimodal" if name != "hf-vlm" else "gold", S=20)
    counts = report.counts
    assert sum(counts[c] for c in ("R", "U1", "U2", "S")) == 6
    for score in report.scores.values():
        assert 0.0 <= score.score <= 2.0
    return {"counts": counts}


def _pid(source: str) -> Callable[[str, Path], Any]:
    def run(name: str, tmp: Path) -> Any:
        from interlens.methods.pid import measure_pid

        _, result = measure_pid(conformance_dataset(), make(name), modalities=MEASURE_PAIR[name], source=source,
                                k=2, n_boot=5, S=10)
        assert result.mi >= -1e-6 and all(v >= -1e-4 for v in result.terms.values())
        return result

    return run


def run_experts(name: str, tmp: Path) -> dict[str, Any]:
    from interlens.experts.pipeline import train_experts_study

    results = train_experts_study(conformance_dataset(), make(name), categories="measured", seeds=(0,), delta=0.0,
                                  modalities=MEASURE_PAIR[name], min_subset=2, expert_epochs=1)
    strategies = {row["strategy"] for row in results["summary"]["rows"]}
    assert {"baseline", "oracle"} <= strategies
    return results


def _debias(methods: tuple[str, ...], image_modality: str) -> Callable[[str, Path], Any]:
    def run(name: str, tmp: Path) -> Any:
        from interlens.debias.evaluate import run_experiment

        params, _ = ZOO[name]
        results = run_experiment(conformance_dataset(audio=False), scorer=name, scorer_options=params(),
                                 text_modality="utterance", image_modality=image_modality, methods=methods,
                                 finetune_epochs=1, n_trials=3)
        assert results
        return results

    return run


def run_mint(name: str, tmp: Path) -> Any:
    from interlens.mint.group_tuning import run_group_tuning

    def task(seed: int, labels: tuple[str, str]) -> tuple:
        data = conformance_dataset(12, seed=seed, audio=False, name=f"t{seed}").with_modalities(["utterance"])
        return data.split("train"), data.split("dev"), data.split("test")

    tasks = {"a": task(0, ("no", "yes")), "b": task(1, ("no", "yes")), "c": task(2, ("no", "yes"))}
    result = run_group_tuning(tasks, {"R": ["a", "b"], "S": ["c"]}, scorer=make(name),
                              strategies=("interaction", "all"), view="utterance", zero_shot=False)
    assert set(result.table["task"]) == {"a", "b", "c"}
    return result


def _bench(method: str) -> Callable[[str, Path], Any]:
    def run(name: str, tmp: Path) -> Any:
        from interlens.bench.registry import task_from_file
        from interlens.bench.runner import Runner

        params = {k: v for k, v in ZOO[name][0]().items() if k != "seed"}  # the benchmark sets seeds
        task = task_from_file(write_dataset_file(tmp / "task"))
        runner = Runner([task], name, method, [0], tmp / "out", scorer_params=params, n_boot=20)
        results = runner.run()
        unit = next(iter(results.units.values())) if hasattr(results, "units") else results
        return unit

    return run


def run_train(name: str, tmp: Path) -> Any:
    from interlens.methods.train import TrainConfig, run

    result = run(TrainConfig(views=(MEASURE_PAIR[name][0],)), conformance_dataset(), make(name), workdir=tmp)
    assert (tmp / "model").is_dir() and set(result.payload["metrics"]) == {"dev", "test"}
    return result


RUNNERS: dict[str, Callable[[str, Path], Any]] = {
    "interactions score / categorize": run_measure,
    "interactions pid (predictions)": _pid("predictions"),
    "interactions pid (features)": _pid("features"),
    "experts train (MMoE)": run_experts,
    "debias MID (text-form views)": _debias(("mid",), "context"),
    "debias image counterfactuals (saliency)": _debias(("mid",), "photo"),
    "debias MCTD": _debias(("mctd",), "context"),
    "debias MME-JD / MRID": _debias(("mmejd",), "context"),
    "MINT group tuning": run_mint,
    "bench zero-shot": _bench("zero-shot"),
    "bench sft": _bench("sft"),
    "bench it": _bench("it"),
    "train (fit + save_pretrained)": run_train,
}


def test_every_method_has_a_runner() -> None:
    missing = [m for m in METHOD_NEEDS if m not in RUNNERS]
    assert not missing, f"methods without a matrix runner: {missing}"


#: hf-vlm subclasses that differ from it only in the encoder (prompt tokens / pixel tensors): the
#: conformance suite runs fit, finetune, features and zero-shot on each of them; here they run the
#: methods that exercise the encoder on new inputs, and the training-heavy methods (the same hf-vlm
#: code path, 2-3 min each on 2 cores) run for hf-vlm itself. Every cell still checks the declared support.
ENCODER_ONLY_FAMILIES = {"blip2", "internvl", "llava-onevision", "llava-next-video", "qwen2-audio"}
ENCODER_METHODS = {"interactions score / categorize", "interactions pid (predictions)", "bench zero-shot"}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("method", list(METHOD_NEEDS))
def test_method_runs_or_refuses_in_one_line(method: str, name: str, tmp_path: Path) -> None:
    if method not in RUNNERS:
        pytest.fail(f"no runner for {method}")
    cls = scorer_class(name)
    if name in ENCODER_ONLY_FAMILIES and method not in ENCODER_METHODS:
        assert supports(cls, method) == supports(scorer_class("hf-vlm"), method)
        assert issubclass(cls, scorer_class("hf-vlm"))
        return
    if supports(cls, method):
        RUNNERS[method](name, tmp_path)
    else:
        with pytest.raises(CapabilityError) as err:
            RUNNERS[method](name, tmp_path)
        text = str(err.value)
        assert "\n" not in text and text.startswith(f"scorer '{name}' lacks capability")


def test_docs_show_the_generated_matrix() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "scorers.md").read_text(encoding="utf-8")
    start, end = doc.index("<!-- matrix:start -->\n") + len("<!-- matrix:start -->\n"), doc.index("<!-- matrix:end -->")
    assert doc[start:end] == matrix_markdown(), "docs/scorers.md is stale: run `interlens scorers --markdown`"


def test_matrix_is_not_trivial() -> None:
    cells = {(m, n): supports(scorer_class(n), m) for m in METHOD_NEEDS for n in NAMES}
    assert any(cells.values()) and not all(cells.values())
    assert np.mean(list(cells.values())) > 0.5
