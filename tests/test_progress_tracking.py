"""Progress bars (``interlens.logs.progress_bar``) and the optional ``--tracker`` (``interlens.tracking``)."""

from __future__ import annotations

import importlib.util
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from rich.console import Console
from typer.testing import CliRunner

from interlens.cli import app
from interlens.logs import configure, current_progress, progress_bar, progress_enabled
from interlens.tracking import Tracker, TrackerUnavailable, check_tracker, final_metrics, flatten

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _terminal() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=True, width=100), buf


@pytest.fixture(autouse=True)
def _not_quiet() -> Iterator[None]:
    configure(quiet=False)
    yield
    configure(quiet=False)


def test_bar_counts_and_renders_on_a_terminal() -> None:
    console, buf = _terminal()
    with progress_bar(5, "bench sft: units", console=console) as bar:
        assert bar.shown
        bar.advance()
        bar.advance(2)
        bar.update("bench sft: units (mintrec)")
    text = ANSI.sub("", buf.getvalue())
    assert bar.completed == 3
    assert "3/5" in text and "bench sft: units (mintrec)" in text and "ETA" in text


def test_bar_is_a_noop_when_quiet_or_not_a_terminal() -> None:
    configure(quiet=True)
    assert not progress_enabled()
    console, buf = _terminal()
    with progress_bar(4, "hidden", console=console) as bar:
        bar.advance(4)
        bar.update("still hidden")
    assert not bar.shown and bar.completed == 4 and buf.getvalue() == ""
    configure(quiet=False)
    plain = io.StringIO()
    with progress_bar(4, "hidden", console=Console(file=plain)) as bar:  # a file, not a terminal
        bar.advance()
    assert not bar.shown and plain.getvalue() == ""
    with progress_bar(4, "off", console=_terminal()[0], enabled=False) as bar:  # e.g. not the main process
        assert not bar.shown


def test_nested_bar_shares_the_display_and_named_lookup() -> None:
    console, _ = _terminal()
    with progress_bar(2, "outer", console=console, name="experts") as outer:
        with progress_bar(3, "inner") as inner:
            assert inner.shown and inner._progress is outer._progress  # one display, two rows
            current_progress("experts").advance()
        assert current_progress("experts") is outer and outer.completed == 1
    missing = current_progress("experts")  # none open: a no-op bar
    missing.advance()
    assert not missing.shown


def test_embedding_training_epochs_tick_an_enclosing_bar_without_changing_results() -> None:
    from interlens.scoring.embedding import train_module

    def run() -> list[float]:
        torch.manual_seed(0)
        module = _Linear()
        x, y = torch.randn(12, 3, generator=torch.Generator().manual_seed(1)), torch.tensor([0, 1] * 6)
        return train_module(module, [x], y, epochs=3, lr=0.1, weight_decay=0.0, batch_size=4, seed=0)["losses"]

    console, _ = _terminal()
    plain = run()
    with progress_bar(1, "outer", console=console):
        shown = run()
    assert shown == plain and len(plain) == 3


class _Linear(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(3, 2)

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        return self.layer(feats[0])


def test_experts_training_advances_the_seeds_x_parts_bar() -> None:
    from test_experts import StubScorer, _dataset

    from interlens.experts import InteractionRouter, train_experts

    data, cats = _dataset({"R": 12, "U1": 6, "U2": 6, "S": 10})
    with progress_bar(10, "experts", name="experts") as bar:
        train_experts(StubScorer(), data, cats, cats, router=False)
        assert bar.completed == 4  # baseline + R, U, S
        train_experts(StubScorer(), data, cats, cats, router=InteractionRouter(epochs=5))
        assert bar.completed == 9  # + baseline, 3 experts, router


# -- tracking -----------------------------------------------------------------------------------------------
def test_metrics_and_settings_are_flattened() -> None:
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": True, "e": float("nan")}, numeric=True) == {"a/b": 1.0}
    bench = {"tasks": [{"task": "mintrec", "summary": {"acc": {"mean": 0.5, "std": 0.1}}}]}
    assert final_metrics(bench) == {"mintrec/acc/mean": 0.5, "mintrec/acc/std": 0.1}
    experts = {"summary": {"rows": [{"strategy": "oracle", "acc_mean": 0.9, "acc_std": 0.0}]}}
    assert final_metrics(experts) == {"oracle/acc_mean": 0.9, "oracle/acc_std": 0.0}
    train = {"train": {"losses": [2.0, 1.5], "best_score": 0.25, "seconds": 3}, "test": {"t": {"acc": 0.4}}}
    assert final_metrics(train) == {"train/best_score": 0.25, "train/steps": 2.0, "train/final_loss": 1.5,
                                    "train/seconds": 3.0, "test/t/acc": 0.4}
    assert check_tracker(None) is None


@pytest.mark.parametrize("kind", list(Tracker))
def test_missing_tracker_package_is_one_line_exit_2(kind: Tracker, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    find_spec = importlib.util.find_spec  # the package looks missing, installed (mlflow: a dev pin) or not
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == kind.value else find_spec(name, *a))
    with pytest.raises(TrackerUnavailable, match=f"pip install {kind.value}"):
        check_tracker(kind)
    runner = CliRunner()
    commands = [["bench", "run", "--tasks", "no-such-task", "--out", str(tmp_path / "b")],
                ["experts", "train", "--scorer", "no-such-scorer", "--out", str(tmp_path / "e")],
                ["train", "--model", str(tmp_path / "no-model"), "--dataset", "no-such", "--out", str(tmp_path / "t")]]
    for args in commands:  # refused before the (bad) task, scorer or model is even looked at
        result = runner.invoke(app, [*args, "--tracker", kind.value])
        assert result.exit_code == 2, (args, result.output)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and f"needs the package '{kind.value}'" in lines[0], result.output
        assert not (tmp_path / args[-1]).exists()


def test_tracker_typo_is_refused_with_the_choices(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "run", "--tracker", "wandbb", "--out", str(tmp_path)])
    assert result.exit_code == 2
    text = ANSI.sub("", result.output)
    assert "wandbb" in text and "wandb" in text and "mlflow" in text


def test_minilm_ft_logs_one_line_per_epoch_with_eta_when_no_bar_is_drawn(caplog: pytest.LogCaptureFixture) -> None:
    """In a log file (no terminal) a long fine-tuning run still shows its progress: epoch, loss, dev
    macro-F1 and an ETA, one INFO line per epoch."""
    from interlens.scoring.registry import make_scorer
    from tests.scorer_zoo import conformance_dataset

    data = conformance_dataset(16, audio=False)
    with caplog.at_level("INFO", logger="interlens"):
        make_scorer("minilm-ft", epochs=2, max_length=24, batch_size=8).fit(
            data.split("train"), ["utterance"], val=data.split("dev"))
    lines = [r.getMessage() for r in caplog.records if r.name == "interlens.scoring.minilm_ft"]
    assert len(lines) == 2, lines
    assert re.fullmatch(r"minilm-ft utterance epoch 1/2: loss \d+\.\d{4}, dev macro-F1 \d\.\d{4} ACC \d\.\d{4}, "
                        r"\d+ s, ETA \d+ s", lines[0])
    assert lines[1].startswith("minilm-ft utterance epoch 2/2") and lines[1].endswith("ETA 0 s")
