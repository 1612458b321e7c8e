"""``interlens train``: train any registered scorer that declares ``trainable`` and ``savable`` on one dataset
and save it with its own ``save_pretrained`` (issue 29). ``hf-lm`` / ``hf-vlm`` (and the other Hugging Face
LM scorers) keep their LoRA SFT (thin wrapper over :func:`interlens.scoring.hf.workflow.train_adapter`); every
other scorer is built from ``--scorer`` and ``-s KEY=VALUE`` and trained by :func:`interlens.methods.train.run`:
fitted on the train split (selection on the validation split) for the ``--view`` views, scored on the validation
and test splits and saved under ``OUT/model/`` (reload: ``<Scorer>.from_pretrained``, docs/saved-models.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import DataError
from .common import console, friendly_errors, save_run, write_results
from .options import DataRoot, ScorerOptions, TrackerOption, load_data, parse_options


def _load_data(dataset: str | None, data: Path | None, data_root: Path | None, options: dict[str, Any],
               id_col: str, label_col: str, modality: list[str] | None, split_col: str | None,
               dimension: str | None) -> Any:
    if (dataset is None) == (data is None):
        raise DataError("give exactly one of --dataset NAME or --data FILE", field="dataset")
    if dataset is not None:
        return load_data(dataset, data_root, options)
    from ..data import read_table
    from ..methods.config import parse_overrides

    columns = parse_overrides(modality or ["text=text"], field="modality", typed=False, empty_value=False)
    return read_table(data, id=id_col, label=label_col, modalities=columns, split=split_col,
                      dimension=dimension)


def _is_lora_scorer(name: str) -> bool:
    """Whether ``name`` is trained by LoRA SFT (the Hugging Face LM scorers)."""
    from ..scoring.hf import HFLMScorer
    from ..scoring.registry import scorer_class

    return issubclass(scorer_class(name), HFLMScorer)


def _train_scorer(name: str, data_set: Any, *, view: str | None, out: Path, scorer_option: list[str] | None,
                  save_models: bool, **defaults: Any) -> Any:
    """Scorer ``name`` (``-s`` options; ``defaults`` fill the parameters it has) trained by
    :func:`interlens.methods.train.run` on ``data_set`` for the comma-separated ``view`` views (default: the
    scorer's), saved under ``out/model``; returns the method's Result."""
    from ..methods.train import TrainConfig, run
    from .options import build_scorer

    model = build_scorer(name, scorer_option, **{k: v for k, v in defaults.items() if v is not None})
    config = TrainConfig.from_mapping({"views": tuple(v.strip() for v in view.split(",")) if view else None,
                                       "save_models": save_models})
    result = run(config, data_set, model, workdir=out)
    summary = result.payload
    views = summary["views"]
    console.print(f"trained {name} on {summary['train_set']} ({summary['n_train']} samples, views "
                  f"{', '.join(views) if views else 'default'})"
                  + (f"; saved to {summary['model_dir']}" if save_models else "; not saved"))
    return result


def _train_lora(scorer: str, model: Path | None, data_set: Any, *, view: str | None, out: Path | None, adapter: str,
                config: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """LoRA SFT of ``scorer`` (hf-lm / hf-vlm) on a local model (:func:`~interlens.scoring.hf.workflow.train_adapter`),
    adapter saved under ``out/adapters/<adapter>/`` unless ``out`` is None."""
    from ..scoring.hf import LoraSpec, TrainConfig
    from ..scoring.hf.workflow import train_adapter

    if model is None:
        raise DataError(f"--model is required for {scorer} (a local model folder)", field="model")
    train_config = TrainConfig(**{**config, "lora": LoraSpec(**config["lora"])})
    summary = train_adapter(data_set, scorer=scorer, model_path=model, view=view, adapter=adapter,
                            config=train_config, out=out, **extra)
    if "adapter_dir" in summary:
        summary["models"] = {adapter: summary["adapter_dir"]}
    if "test" in summary:  # issue 26: a test look
        from ..evidence.ledger import record_evaluation

        summary["test_looks"] = {data_set.name: record_evaluation(data_set, "test", {
            "method": "train", "scorer": scorer, "fingerprint": summary["fingerprint"], "view": summary["view"]})}
    best = summary["train"]["best_score"]
    losses = summary["train"]["losses"]
    console.print(f"adapter {adapter!r}: {len(losses)} steps, loss {losses[0]:.4f} -> {losses[-1]:.4f}"
                  + (f", best val {config['select_metric']} {best:.4f}" if best is not None else "")
                  + (f"; saved to {summary['adapter_dir']}" if "adapter_dir" in summary else "; not saved"))
    return summary


def train(
    model: Annotated[Path | None, typer.Option(help="Local model folder (save_pretrained output; required for "
                                                    "hf-lm / hf-vlm, model_path of the others); nothing is "
                                                    "downloaded.")] = None,
    out: Annotated[Path, typer.Option(help="Output folder: adapters/<name>/ (hf-lm / hf-vlm) or model/ (other "
                                           "scorers), results.json.")] = Path("runs/train"),
    scorer: Annotated[str, typer.Option(help="hf-lm (causal LM), hf-vlm (vision LM), or any registered scorer "
                                             "that is trainable and savable (`interlens scorers`).")] = "hf-lm",
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
    view: Annotated[str | None, typer.Option(help="Modalities in the prompt, e.g. text or text+video (other "
                                                  "scorers: comma-separated views to fit, e.g. text,text+image)."
                                             )] = None,
    template: Annotated[str, typer.Option(help="Prompt template id[@version] or a .yaml path.")] = "mmla",
    template_var: Annotated[list[str] | None, typer.Option(help="Template variable KEY=VALUE.")] = None,
    adapter: Annotated[str, typer.Option(help="Adapter name.")] = "default",
    lora_r: Annotated[int, typer.Option(min=1, help="LoRA rank.")] = 8,
    lora_alpha: Annotated[int, typer.Option(help="LoRA alpha.")] = 16,
    lora_dropout: Annotated[float, typer.Option(help="LoRA dropout.")] = 0.0,
    epochs: Annotated[int | None, typer.Option(min=1, help="Epochs (hf-lm / hf-vlm default 1; other scorers: "
                                                           "their own default).")] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate (hf-lm / hf-vlm default 1e-4).")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Training batch size (hf-lm / hf-vlm default 4)."
                                                   )] = None,
    grad_accum: Annotated[int, typer.Option(min=1, help="Gradient accumulation steps.")] = 1,
    max_steps: Annotated[int | None, typer.Option(min=1, help="Stop after this many optimiser steps.")] = None,
    eval_every: Annotated[int | None, typer.Option(min=1, help="Validate every N steps (default: each epoch).")] = None,
    select_metric: Annotated[str, typer.Option(help="Label-level selection metric: acc, macro_f1, ...")] = "macro_f1",
    seed: Annotated[int | None, typer.Option(help="Seed (adapter init and data order; hf-lm / hf-vlm default 0)."
                                             )] = None,
    dtype: Annotated[str, typer.Option(help="auto, float32 or bfloat16.")] = "auto",
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    scorer_option: ScorerOptions = None,
    data_root: DataRoot = None,
    save_models: Annotated[bool, typer.Option("--save-models/--no-save-models",
                                              help="Save the trained adapter (PEFT format) under "
                                                   "OUT/adapters/<name>/.")] = True,
    tracker: TrackerOption = None,
) -> dict[str, Any]:
    """Train a scorer on a dataset's train split and save it: LoRA SFT of a local HF model (hf-lm / hf-vlm;
    selection by label accuracy/F1 on the dev split), or any trainable, savable scorer (saved under OUT/model)."""
    from ..scoring.base import Capability, require
    from ..tracking import log_run, start_run

    start_run(tracker, out)  # a missing package is refused before any work; metrics go live from here
    if _is_lora_scorer(scorer):
        summary = _train_lora(scorer, model, _load_data(dataset, data, data_root, parse_options(dataset_option),
                                                        id_col, label_col, modality, split_col, dimension),
                              view=view, out=out if save_models else None, adapter=adapter,
                              config=dict(epochs=epochs or 1, lr=1e-4 if lr is None else lr,
                                          batch_size=batch_size or 4, grad_accum=grad_accum, max_steps=max_steps,
                                          eval_every=eval_every, select_metric=select_metric, seed=seed or 0,
                                          lora=dict(r=lora_r, alpha=lora_alpha, dropout=lora_dropout)),
                              extra={"template": template, "template_vars": parse_options(template_var),
                                     "dtype": dtype, "device": device, **parse_options(scorer_option)})
        path = write_results(out, summary)
    else:
        from ..scoring.registry import scorer_class

        require(scorer_class(scorer), Capability.TRAINABLE, "interlens train")  # refused before any work
        require(scorer_class(scorer), Capability.SAVABLE, "interlens train (saves with save_pretrained)")
        data_set = _load_data(dataset, data, data_root, parse_options(dataset_option), id_col, label_col, modality,
                              split_col, dimension)
        result = _train_scorer(scorer, data_set, view=view, out=out, scorer_option=scorer_option,
                               save_models=save_models, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                               model_path=str(model) if model is not None else None)
        path = save_run(out, result)  # stored predictions, results.json with provenance, report.html
        summary = result.payload
    if tracker is not None:
        from ..io import read_json

        console.print(f"tracked ({tracker.value}): [bold]{log_run(tracker, out, read_json(path))}[/]")
    return summary


def register(app: typer.Typer) -> None:
    """Attach ``interlens train`` to ``app``."""
    app.command("train")(friendly_errors(train))
