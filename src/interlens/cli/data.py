"""``interlens data list`` and ``interlens data show NAME|FILE.yaml`` (same as ``list_datasets`` /
``describe_dataset`` in :mod:`interlens.data`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from ..data.adapters import list_datasets
from ..data.resolve import describe_dataset
from ..data.schema import text_of
from .common import console, friendly_errors, write_results
from .options import parse_options

app = typer.Typer(no_args_is_help=True)


def _short(value: Any, width: int = 90) -> str:
    text = (text_of(value) if isinstance(value, list) else str(value)).replace("\n", " | ")
    return escape(text if len(text) <= width else text[: width - 1] + "…")


def _with_kinds(modalities: list[str], kinds: dict[str, str]) -> str:
    """``utterance (text), photo (image)``."""
    return ", ".join(f"{m} ({kinds.get(m, '?')})" for m in modalities)


@app.command("list")
@friendly_errors
def list_cmd(data_root: Path | None = typer.Option(None, "--data-root", help="Folder holding the datasets."),
             sizes: bool = typer.Option(True, "--sizes/--no-sizes", help="Load each dataset for split sizes"),
             ) -> list[dict[str, Any]]:
    """List the registered datasets."""
    rows = list_datasets(data_root, sizes=sizes)
    table = Table(title="datasets")
    for column in ("name", "task", "modalities", "#labels", "splits", "description"):
        table.add_column(column, overflow="fold")
    for row in rows:
        modalities = _with_kinds(row["modalities"], row["kinds"]) + "".join(
            f" (+{m} ({row['kinds'].get(m, '?')}))" for m in row["optional_modalities"])
        if row["splits"]:
            splits = " / ".join(f"{k} {v}" for k, v in row["splits"].items())
        else:
            splits = row.get("error") or ("data found" if row["available"] else "[dim]data not found[/]")
        table.add_row(row["name"], row["dimension"], modalities, str(row["n_labels"]), splits,
                      row["description"])
    console.print(table)
    return rows


@app.command("show")
@friendly_errors
def show_cmd(name: str = typer.Argument(..., help="Dataset name (see `interlens data list`), 'synthetic', or "
                                                  "a dataset file (YAML, see docs/datasets.md)."),
             data_root: Path | None = typer.Option(None, "--data-root", help="Folder holding the datasets."),
             split: str | None = typer.Option(None, "--split", help="Show one split only."),
             n: int = typer.Option(5, "--n", min=0, help="How many samples to print."),
             option: list[str] | None = typer.Option(None, "--option", "-o", "--dataset-option", "-d",
                                                      help="Loader option KEY=VALUE (repeatable)."),
             out: Path | None = typer.Option(None, "--out", help="Write OUT/results.json."),
             ) -> dict[str, Any]:
    """Summary, label counts and the first samples of a dataset (registered, synthetic or a YAML file)."""
    summary = describe_dataset(name, data_root, split=split, n=n, options=parse_options(option))
    console.print(f"[bold]{escape(summary['name'])}[/] ({summary['dimension']}): {summary['n']} samples, "
                  f"{summary['groups']} groups, modalities {_with_kinds(summary['modalities'], summary['kinds'])}")
    made = summary["info"].get("split_made")
    if made:
        by = f"group column {made['group_column']!r}" if made.get("group_column") else "sample"
        shares = " / ".join(f"{k} {v:g}" for k, v in made["fractions"].items())
        console.print(f"split made (no split column): seed {made['seed']}, {shares} by {by}")
    crossing = summary["groups_in_several_splits"]
    console.print(f"splits: {', '.join(f'{k} {v}' for k, v in summary['splits'].items())}"
                  + (f"  [yellow]({crossing} groups occur in several splits)[/]" if crossing else ""))
    console.print(f"source: {escape(str(summary['source']))}   fingerprint: {summary['fingerprint']}")
    counts = Table(title="label counts")
    counts.add_column("label")
    split_names = list(summary["label_counts_by_split"])
    for column in [*split_names, "total"]:
        counts.add_column(column, justify="right")
    for label in summary["labels"]:
        by_split = [summary["label_counts_by_split"][s][label] for s in split_names]
        counts.add_row(escape(label), *map(str, by_split), str(sum(by_split)))
    console.print(counts)
    if n:
        samples = Table(title=f"first {min(n, len(summary['samples']))} samples")
        for column in ("id", "label", "group", *summary["modalities"]):
            samples.add_column(column, overflow="fold")
        for sample in summary["samples"]:
            samples.add_row(escape(sample["id"]), escape(str(sample["label"])), escape(str(sample["group"])),
                            *(_short(sample["inputs"][m]) for m in summary["modalities"]))
        console.print(samples)
    if out is not None:
        write_results(out, summary)
    return summary
