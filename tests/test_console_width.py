"""Readable logs (issue 28 item 5): when output is not a terminal (CI, batch logs, a pipe), rich tables
render at their full width instead of wrapping to 80 columns; a terminal keeps its own width."""

from __future__ import annotations

import io
import json

from typer.testing import CliRunner

from interlens.cli import app
from interlens.logs import WIDE_COLUMNS, make_console
from interlens.report import rich_table

runner = CliRunner()
MODALITIES = [f"modality_{k:02d}" for k in range(12)]  # + id, label, group: a 15-column samples table


def _table_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("┃", "│"))]


def test_a_15_column_cli_table_is_not_wrapped_when_output_is_not_a_terminal(tmp_path, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    rows = [{"uid": f"u{i}", "tag": "ab"[i % 2], **{m: f"value {m} of sample {i}" for m in MODALITIES}}
            for i in range(4)]
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "t.yaml").write_text(json.dumps({"name": "wide", "path": "t.jsonl", "id": "uid", "label": "tag",
                                                 "modalities": {m: m for m in MODALITIES}}))
    result = runner.invoke(app, ["data", "show", str(tmp_path / "t.yaml"), "--n", "4"])
    assert result.exit_code == 0, result.output
    start = result.output.index("first 4 samples")
    lines = _table_lines(result.output[start:])
    assert len(lines) == 1 + 4  # the header and one line per sample: no wrapped rows
    assert all(line.count("│") + line.count("┃") == 16 for line in lines)  # 15 columns, 16 borders
    assert "value modality_11 of sample 3" in lines[-1]
    assert max(map(len, result.output.splitlines())) > 300  # wider than any terminal default


def test_columns_env_and_terminals_keep_their_width(monkeypatch):
    table = rich_table([{f"column {k}": k * 1.5 for k in range(15)}])
    monkeypatch.delenv("COLUMNS", raising=False)
    piped = make_console(file=io.StringIO())
    assert piped.width == WIDE_COLUMNS
    piped.print(table)
    assert len(_table_lines(piped.file.getvalue())) == 2
    monkeypatch.setenv("COLUMNS", "80")
    narrow = make_console(file=io.StringIO())
    narrow.print(table)
    assert narrow.width == 80 and len(_table_lines(narrow.file.getvalue())) > 2  # wrapped, as asked for
    monkeypatch.delenv("COLUMNS")
    terminal = make_console(file=io.StringIO(), force_terminal=True, width=100)
    assert terminal.width == 100
