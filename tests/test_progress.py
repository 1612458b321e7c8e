"""The one progress system (``interlens.progress``, issue 29 item 5 / issue 31 goal 2): a rich bar with ETA
on a terminal; otherwise a plain log line at least every interval (20 s by default) and at the end."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from rich.console import Console
from typer.testing import CliRunner

from interlens import progress as progress_mod
from interlens.logs import configure
from interlens.progress import format_seconds, log_interval, progress, progress_line, set_log_interval

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _reset(monkeypatch) -> Iterator[None]:
    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)  # configure() may set it: restored after
    configure(quiet=False)
    yield
    configure(quiet=False)
    set_log_interval(None)


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "interlens.progress"]


def test_line_format_has_count_rate_elapsed_and_eta() -> None:
    assert progress_line("train", 30, 120, "step", 15.0) == \
        "train: 30/120 step (25%), 2.0 step/s, elapsed 15s, ETA 45s"
    assert progress_line("score", 1, 4, "batch", 130.0) == \
        "score: 1/4 batch (25%), 130.0 s/batch, elapsed 2m10s, ETA 6m30s"
    assert progress_line("fit", 0, None, "it", 5.0) == "fit: 0 it, ? it/s, elapsed 5s, ETA ?"
    assert progress_line("x", 4, 4, "it", 2.0, finished=True) == "x: 4/4 it (100%), 2.0 it/s, elapsed 2s, ETA 0s (done)"
    assert [format_seconds(s) for s in (0, 59.6, 61, 3723, float("nan"))] == ["0s", "1m00s", "1m01s", "1h02m03s", "?"]


def test_not_a_terminal_writes_a_line_every_30_fake_seconds_and_at_the_end(caplog) -> None:
    caplog.set_level(logging.INFO, logger="interlens")
    clock = FakeClock()
    console = Console(file=io.StringIO())  # not a terminal
    with progress(10, "minilm-ft text training", "step", console=console, interval=30, clock=clock) as bar:
        assert bar.logging and not bar.shown
        for _ in range(10):
            clock.now += 10  # a step every 10 fake seconds: a line after steps 3, 6 and 9
            bar.advance()
        clock.now += 5
    assert _lines(caplog) == [
        "minilm-ft text training: 3/10 step (30%), 10.0 s/step, elapsed 30s, ETA 1m10s",
        "minilm-ft text training: 6/10 step (60%), 10.0 s/step, elapsed 1m00s, ETA 40s",
        "minilm-ft text training: 9/10 step (90%), 10.0 s/step, elapsed 1m30s, ETA 10s",
        "minilm-ft text training: 10/10 step (100%), 10.5 s/step, elapsed 1m45s, ETA 0s (done)",
    ]
    assert console.file.getvalue() == ""  # nothing drawn


def test_interval_zero_writes_every_step_and_quiet_writes_nothing(caplog) -> None:
    caplog.set_level(logging.INFO, logger="interlens")
    plain = Console(file=io.StringIO())
    with progress(3, "units", "unit", console=plain, interval=0, clock=FakeClock()) as bar:
        bar.advance(1)
        bar.advance(2)  # all done: no periodic line, the end line follows
    assert _lines(caplog) == ["units: 1/3 unit (33%), ? unit/s, elapsed 0s, ETA ?",
                              "units: 3/3 unit (100%), ? unit/s, elapsed 0s, ETA 0s (done)"]
    caplog.clear()
    configure(quiet=True)
    with progress(3, "units", "unit", console=plain, interval=0, clock=FakeClock()) as bar:
        bar.advance(3)
    assert _lines(caplog) == [] and bar.completed == 3 and not bar.logging


def test_a_short_inner_bar_stays_quiet_but_a_long_one_reports(caplog) -> None:
    caplog.set_level(logging.INFO, logger="interlens")
    clock, plain = FakeClock(), Console(file=io.StringIO())
    with progress(2, "outer", console=plain, interval=30, clock=clock) as outer:
        with progress(4, "short inner", interval=30, clock=clock) as inner:
            inner.advance(4)
        with progress(4, "long inner", interval=30, clock=clock) as inner:
            clock.now += 31
            inner.advance(4)
        outer.advance(2)
    assert [line.split(":")[0] for line in _lines(caplog)] == ["long inner", "outer"]


def test_interval_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv(progress_mod.INTERVAL_ENV, "5")
    assert log_interval() == 5.0
    monkeypatch.setenv(progress_mod.INTERVAL_ENV, "soon")
    assert log_interval() == progress_mod.DEFAULT_INTERVAL_S == 20.0  # issue 31 goal 2: a line at least every 30 s
    set_log_interval(0)
    assert log_interval() == 0.0
    with pytest.raises(ValueError, match="progress interval must be >= 0 seconds, got -1"):
        set_log_interval(-1)


def test_heartbeat_counts_from_the_last_line_of_any_bar(caplog) -> None:
    """A line from another bar just after a heartbeat check must not push the next heartbeat a whole extra
    interval out (it waited a fixed interval and skipped when a line was recent: gaps of up to 2 intervals)."""
    import time

    caplog.set_level(logging.INFO, logger="interlens")
    console = Console(file=io.StringIO())  # not a terminal
    interval = 0.4

    def records() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "interlens.progress"]

    with progress(None, "outer", "part", console=console, interval=interval) as outer:
        time.sleep(interval * 1.15)  # just after the first heartbeat
        before = len(records())
        outer._maybe_log(force=True)  # another line, as an inner bar's would be
        time.sleep(interval * 2.2)
    spoke, following = records()[before], records()[before + 1]
    assert before >= 1 and following.created - spoke.created < interval * 1.5  # not ~2 intervals


def test_a_terminal_shows_a_rich_bar_with_eta(caplog) -> None:
    caplog.set_level(logging.INFO, logger="interlens")
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120)
    with progress(8, "scoring embedding · text", "sample", console=console) as bar:
        assert bar.shown and not bar.logging
        bar.advance(5)
    text = ANSI.sub("", buf.getvalue())
    assert "scoring embedding · text" in text and "5/8" in text and "sample" in text and "ETA" in text
    assert _lines(caplog) == []  # a terminal gets the bar, not lines


def test_cli_without_a_terminal_writes_progress_lines_with_eta(tmp_path, monkeypatch) -> None:
    from test_cli_main import _synthetic_files

    from interlens.cli import app

    _, files = _synthetic_files(tmp_path)
    monkeypatch.setenv(progress_mod.INTERVAL_ENV, "0")
    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)  # set by the CLI: restored afterwards
    result = CliRunner().invoke(app, ["interactions", "score", "--dataset", "synthetic", "-d", "n=60", "--scorer",
                                      "precomputed", "-s", f"files={json.dumps(files)}", "--no-cache",
                                      "--draw-size", "5", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if "interlens.progress" in line]
    assert any(re.search(r"scoring precomputed · text: \d+/\d+ sample \(100%\).*ETA 0s \(done\)", line)
               for line in lines), result.stderr
    assert all("ETA" in line for line in lines) and lines


def test_track_advances_after_each_item_and_reports_at_the_end(caplog) -> None:
    caplog.set_level(logging.INFO, logger="interlens")
    clock, seen = FakeClock(), []
    for seed in progress_mod.track([3, 4, 5], "mint study", "seed", console=Console(file=io.StringIO()),
                                   interval=30, clock=clock):
        clock.now += 20
        seen.append(seed)
    assert seen == [3, 4, 5]
    assert _lines(caplog) == ["mint study: 2/3 seed (67%), 20.0 s/seed, elapsed 40s, ETA 20s",
                              "mint study: 3/3 seed (100%), 20.0 s/seed, elapsed 1m00s, ETA 0s (done)"]


def test_transformers_bars_are_hidden_when_stderr_is_not_a_terminal(monkeypatch) -> None:
    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)  # set by configure() before import
    hf_logging = pytest.importorskip("transformers.utils.logging")
    import sys

    hf_logging.enable_progress_bar()
    try:
        monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
        configure()
        assert hf_logging.is_progress_bar_enabled()  # a terminal keeps "Loading weights" & co.
        monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
        configure()
        assert not hf_logging.is_progress_bar_enabled()
    finally:
        hf_logging.enable_progress_bar()
