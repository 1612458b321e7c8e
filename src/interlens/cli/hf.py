"""``interlens train``: LoRA SFT of a Hugging Face LM / VLM on one dataset (thin wrapper over
:func:`interlens.scoring.hf.workflow.train_adapter`). Other commands reach ``hf-lm`` / ``hf-vlm`` through
the scorer registry (``--scorer hf-lm -s model_path=DIR``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import DataError
from .common import console, friendly_errors, write_results
from .options import DataRoot, ScorerOptions, TrackerOption, load_data, parse_options


def _load_data(dataset: str | None, data: Path | None, data_root: Path | None, options: dict[str, Any],
               id_col: str, label_col: str, modality: list[str] | None, split_col: str | None,
               dimension: str | None) -> Any:
    if (dataset is None) == (data is None):
        raise DataError("give exactly one of --dataset NAME or --data FILE", field="dataset")
    if dataset is not None:
        return load_data(dataset, data_root, options)
    from ..data import read_table

    columns = dict(pair.split("=", 1) for pair in (modality or ["text=text"]) if "=" in pair)
    if not columns:
        raise DataError("--modality takes NAME=COLUMN, e.g. text=utterance", field="modality")
    return read_table(data, id=id_col, label=label_col, modalities=columns, split=split_col,
                      dimension=dimension)


def train(
    model: Annotated[Path, typer.Option(help="Local model folder (save_pretrained output); nothing is downloaded.")],
    out: Annotated[Path, typer.Option(help="Output folder: adapters/<name>/, results.json.")] = Path("runs/train"),
    scorer: Annotated[str, typer.Option(help="hf-lm (causal LM) or hf-vlm (vision LM).")] = "hf-lm",
    dataset: Annotated[str | None, typer.Option(help="Registered dataset name (see `interlens data list`) or a "
                                                     "dataset file (YAML).")] = None,
    data: Annotated[Path | None, typer.Option(help="Or a table file (jsonl/json/csv/tsv/parquet).")] = None,
    dataset_option: Annotated[list[str] | None, typer.Option("--dataset-option", "-d",
                                                             help="Dataset option KEY=VALUE.")] = None,
    id_col: Annotated[str, typer.Option("--id", help="Id column of --data.")] = "id",
    label_col: Annotated[str, typer.Option("--label", help="Label column of --data.")] = "label",
    modality: Annotated[list[str] | None, typer.Option(help="NAME=COLUMN of --data (repeatable).")] = None,
    split_col: Annotated[str | None, typer.Option("--split-col", help="Split column of --data.")] = None,
    dimension: Annotated[str | None, typer.Option(help="Dimension named in the prompt (MMLA), e.g. intent.")] = None,
    view: Annotated[str | None, typer.Option(help="Modalities in the prompt, e.g. text or text+video.")] = None,
    template: Annotated[str, typer.Option(help="Prompt template id[@version] or a .yaml path.")] = "mmla",
    template_var: Annotated[list[str] | None, typer.Option(help="Template variable KEY=VALUE.")] = None,
    adapter: Annotated[str, typer.Option(help="Adapter name.")] = "default",
    lora_r: Annotated[int, typer.Option(min=1, help="LoRA rank.")] = 8,
    lora_alpha: Annotated[int, typer.Option(help="LoRA alpha.")] = 16,
    lora_dropout: Annotated[float, typer.Option(help="LoRA dropout.")] = 0.0,
    epochs: Annotated[int, typer.Option(min=1, help="Epochs.")] = 1,
    lr: Annotated[float, typer.Option(help="Learning rate.")] = 1e-4,
    batch_size: Annotated[int, typer.Option(min=1, help="Training batch size.")] = 4,
    grad_accum: Annotated[int, typer.Option(min=1, help="Gradient accumulation steps.")] = 1,
    max_steps: Annotated[int | None, typer.Option(min=1, help="Stop after this many optimiser steps.")] = None,
    eval_every: Annotated[int | None, typer.Option(min=1, help="Validate every N steps (default: each epoch).")] = None,
    select_metric: Annotated[str, typer.Option(help="Label-level selection metric: acc, macro_f1, ...")] = "macro_f1",
    seed: Annotated[int, typer.Option(help="Seed (adapter init and data order).")] = 0,
    dtype: Annotated[str, typer.Option(help="auto, float32 or bfloat16.")] = "auto",
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    scorer_option: ScorerOptions = None,
    data_root: DataRoot = None,
    save_models: Annotated[bool, typer.Option("--save-models/--no-save-models",
                                              help="Save the trained adapter (PEFT format) under "
                                                   "OUT/adapters/<name>/.")] = True,
    tracker: TrackerOption = None,
) -> dict[str, Any]:
    """LoRA-tune a local HF model on a dataset's train split; select by label accuracy/F1 on its dev split."""
    from ..scoring.hf import LoraSpec, TrainConfig
    from ..scoring.hf.workflow import train_adapter
    from ..tracking import check_tracker, log_run

    check_tracker(tracker)  # a missing package is refused before any work
    data_set = _load_data(dataset, data, data_root, parse_options(dataset_option), id_col, label_col, modality,
                          split_col, dimension)
    config = TrainConfig(epochs=epochs, lr=lr, batch_size=batch_size, grad_accum=grad_accum, max_steps=max_steps,
                         eval_every=eval_every, select_metric=select_metric, seed=seed,
                         lora=LoraSpec(r=lora_r, alpha=lora_alpha, dropout=lora_dropout))
    extra = {"template": template, "template_vars": parse_options(template_var), "dtype": dtype, "device": device,
             **parse_options(scorer_option)}
    summary = train_adapter(data_set, scorer=scorer, model_path=model, view=view, adapter=adapter, config=config,
                            out=out if save_models else None, **extra)
    if "adapter_dir" in summary:
        summary["models"] = {adapter: summary["adapter_dir"]}
    if "test" in summary:  # issue 26: a test look
        from ..evidence.ledger import record_evaluation

        summary["test_looks"] = {data_set.name: record_evaluation(data_set, "test", {
            "method": "train", "scorer": scorer, "fingerprint": summary["fingerprint"], "view": summary["view"]})}
    best = summary["train"]["best_score"]
    losses = summary["train"]["losses"]
    console.print(f"adapter {adapter!r}: {len(losses)} steps, loss {losses[0]:.4f} -> {losses[-1]:.4f}"
                  + (f", best val {select_metric} {best:.4f}" if best is not None else "")
                  + (f"; saved to {summary['adapter_dir']}" if "adapter_dir" in summary else "; not saved"))
    path = write_results(out, summary)
    if tracker is not None:
        from ..io import read_json

        console.print(f"tracked ({tracker.value}): [bold]{log_run(tracker, out, read_json(path))}[/]")
    return summary


def register(app: typer.Typer) -> None:
    """Attach ``interlens train`` to ``app``."""
    app.command("train")(friendly_errors(train))
