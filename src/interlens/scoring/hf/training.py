"""LoRA supervised fine-tuning on label answers (MMLA Sec. 3.3, SFT / instruction tuning).

The loss is the cross-entropy of the answer tokens only (label continuation, optionally plus the
end-of-turn token); prompt tokens are masked with -100. Model selection uses *label-level* accuracy
or F1 on the validation set, computed by label-likelihood scoring — not token accuracy, which the
MMLA code used (field notes). Several datasets may be given (instruction tuning over a task group);
each sample is prompted with its own task's labels, and selection averages the metric over tasks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import torch

from ...data.schema import Dataset
from ...errors import DataError, check_known_keys
from ...metrics import classification_metrics
from ...progress import progress as progress_of
from ...progress import report_metrics
from ...views import View
from .adapters import LoraSpec, adapter_names, add_lora_adapter, is_peft
from .batching import dataset_logprobs
from .encoding import EncodedPrompt
from .likelihood import model_dtype
from .prompting import PromptBuilder

SELECT_METRICS = ("acc", "macro_f1", "weighted_f1", "f1")


@dataclass
class TrainConfig:
    """Optimisation settings (defaults follow MINT Table 3 where it applies: cosine schedule, warmup 0.1)."""

    epochs: int = 1
    lr: float = 1e-4
    batch_size: int = 4
    grad_accum: int = 1
    warmup_ratio: float = 0.1
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    max_steps: int | None = None
    eval_every: int | None = None
    eval_batch_size: int = 8
    select_metric: str = "macro_f1"
    include_end_token: bool = True
    seed: int = 0
    lora: LoraSpec = field(default_factory=LoraSpec)

    def __post_init__(self) -> None:
        if self.select_metric not in SELECT_METRICS:
            raise DataError(f"select_metric must be one of {SELECT_METRICS}", field="select_metric")

    @classmethod
    def coerce(cls, value: TrainConfig | Mapping[str, Any] | None) -> TrainConfig:
        """A TrainConfig from itself, None (defaults) or a mapping such as ``{"epochs": 1, "lora": {"r": 4}}``
        (from ``-s train='{...}'``); unknown keys are refused with "did you mean"."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if not isinstance(value, Mapping):
            raise DataError(f"train must be a mapping of TrainConfig fields, got {type(value).__name__}",
                            field="train")
        known = [f.name for f in fields(cls)]
        items = dict(value)
        lora = items.pop("lora", None)
        _check_keys(items, known, "train")
        if lora is not None and not isinstance(lora, LoraSpec):
            if not isinstance(lora, Mapping):
                raise DataError("train.lora must be a mapping of LoraSpec fields", field="train.lora")
            _check_keys(lora, [f.name for f in fields(LoraSpec)], "train.lora")
            lora = LoraSpec(**lora)
        return cls(**items, **({"lora": lora} if lora is not None else {}))


def _check_keys(items: Mapping[str, Any], known: list[str], what: str) -> None:
    check_known_keys(items, known, f"{what} option", field=what)


@dataclass
class TrainResult:
    """Loss per optimiser step, validation metrics per evaluation, and the selected checkpoint."""

    adapter: str
    losses: list[float]
    evals: list[dict[str, Any]]
    best_step: int | None
    best_score: float | None
    n_train: int
    seconds: float
    config: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _answer_ids(builder: PromptBuilder, labels: Any, index: int, end: bool) -> list[int]:
    ids = list(labels.token_ids[index])
    eos = builder.tokenizer.eos_token_id
    return ids + [int(eos)] if end and eos is not None else ids


def build_examples(builder: PromptBuilder, datasets: Sequence[Dataset], view: View | str,
                   include_end_token: bool = True) -> list[tuple[EncodedPrompt, list[int]]]:
    """(prompt, answer ids) for every labelled sample of every dataset."""
    examples = []
    for dataset in datasets:
        labelled = [s for s in dataset.samples if s.label is not None]
        if not labelled:
            raise DataError(f"dataset {dataset.name!r} has no labelled samples to train on", file=dataset.source)
        prompts, labels, _ = builder.encode(dataset, view, labelled)
        index = {label: k for k, label in enumerate(dataset.labels)}
        examples += [(p, _answer_ids(builder, labels, index[s.label], include_end_token))
                     for p, s in zip(prompts, labelled, strict=True)]
    return examples


def evaluate_labels(model: Any, builder: PromptBuilder, datasets: Sequence[Dataset], view: View | str, *,
                    adapter: str | None, batch_size: int = 8, device: str = "cpu",
                    logprobs_out: dict[str, Any] | None = None) -> dict[str, dict[str, float]]:
    """Label-level metrics (MMLA's six + task F1) per dataset, predictions by label likelihood
    (``logprobs_out``: filled with each dataset's [n, k] label log-likelihoods, for stored predictions)."""
    model.eval()
    results = {}
    for dataset in datasets:
        names = [adapter or "__base__"] * len(dataset) if is_peft(model) else None
        logprobs, _ = dataset_logprobs(model, builder, dataset, view, batch_size=batch_size, adapter_names=names,
                                       device=device)
        key = dataset.name if dataset.name not in results else f"{dataset.name}#{len(results)}"
        results[key] = classification_metrics(dataset.y, logprobs.argmax(axis=1), len(dataset.labels))
        if logprobs_out is not None:
            logprobs_out[key] = logprobs
    return results


def _schedule(optimizer: torch.optim.Optimizer, total: int, warmup_ratio: float) -> torch.optim.lr_scheduler.LambdaLR:
    warmup = int(math.ceil(total * warmup_ratio))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _as_list(data: Dataset | Sequence[Dataset] | None) -> list[Dataset]:
    if data is None:
        return []
    return [data] if isinstance(data, Dataset) else list(data)


def _accelerator(device: str | torch.device, grad_accum: int, mixed_precision: str | None) -> Any:
    """An :class:`accelerate.Accelerator` for ``device`` (``cuda``: the process's GPU under ``accelerate launch``)."""
    from accelerate import Accelerator

    return Accelerator(cpu=not str(device).startswith("cuda"), gradient_accumulation_steps=grad_accum,
                       mixed_precision=mixed_precision)


def _shard(batches: Sequence[torch.Tensor], rank: int, world: int) -> Sequence[torch.Tensor]:
    """This process's batches (every ``world``-th, wrapping round so every process gets as many)."""
    if world == 1:
        return batches
    return [batches[(rank + k * world) % len(batches)] for k in range(math.ceil(len(batches) / world))]


def train_lora(model: Any, builder: PromptBuilder, train: Dataset | Sequence[Dataset],
               val: Dataset | Sequence[Dataset] | None = None, *, adapter: str = "default",
               view: View | str | None = None, config: TrainConfig | None = None,
               device: str = "cpu", use_accelerate: bool = True,
               mixed_precision: str | None = None) -> tuple[Any, TrainResult]:
    """Add (or continue) LoRA adapter ``adapter`` on ``model`` and fine-tune it on the label answers.

    Returns the PEFT model (with the best validation checkpoint loaded when ``val`` is given) and a
    :class:`TrainResult`. Other adapters on the same base are left untouched. ``view`` defaults to every
    text-kind modality of the (first) training set.

    The loop runs through :class:`accelerate.Accelerator` (``use_accelerate``, default): device placement,
    mixed precision (``mixed_precision``, default from ``accelerate launch`` / config), gradient
    accumulation (``config.grad_accum``) and DDP, so ``accelerate launch -m interlens train ...`` trains on
    several GPUs; each process takes every N-th batch of the shared shuffled order. On one process the
    updates equal the plain loop (``use_accelerate=False``).
    """
    from peft.utils import get_peft_model_state_dict, set_peft_model_state_dict

    config = config or TrainConfig()
    start = time.perf_counter()
    torch.manual_seed(config.seed)  # adapter init, LoRA dropout
    if adapter not in adapter_names(model):
        model = add_lora_adapter(model, adapter, config.lora, seed=config.seed)
    model.set_adapter(adapter)
    for name, param in model.named_parameters():
        param.requires_grad_("lora_" in name and f".{adapter}." in name)
    builder.encoder.model = model
    trainable = [p for p in model.parameters() if p.requires_grad]
    train_sets, val_sets = _as_list(train), _as_list(val)
    if not train_sets:
        raise DataError("no training data given", field="train")
    if view is None:
        text = train_sets[0].modalities_of_kind("text")
        if not text:
            raise DataError(f"dataset {train_sets[0].name!r} has no text-kind modality; give view=",
                            file=train_sets[0].source, field="view")
        view = "+".join(text)
    examples = build_examples(builder, train_sets, view, config.include_end_token)
    accelerator = _accelerator(device, config.grad_accum, mixed_precision) if use_accelerate else None
    rank, world = (accelerator.process_index, accelerator.num_processes) if accelerator else (0, 1)
    per_epoch = math.ceil(math.ceil(len(examples) / config.batch_size) / world)
    total = config.max_steps or math.ceil(per_epoch * config.epochs / config.grad_accum)
    optimizer = torch.optim.AdamW(trainable, lr=config.lr, weight_decay=config.weight_decay)
    scheduler = _schedule(optimizer, total, config.warmup_ratio)
    wrapped = model
    if accelerator is not None:
        wrapped, optimizer = accelerator.prepare(model, optimizer)  # placement, DDP, mixed precision
        device = accelerator.device
    generator = torch.Generator().manual_seed(config.seed)
    losses: list[float] = []
    evals: list[dict[str, Any]] = []
    best: tuple[float, int, dict[str, torch.Tensor]] | None = None

    def evaluate(step: int) -> None:
        nonlocal best
        bar.update(f"LoRA {adapter}: validating at step {step}")
        metrics = evaluate_labels(model, builder, val_sets, view, adapter=adapter, batch_size=config.eval_batch_size,
                                  device=device)
        score = float(np.mean([m[config.select_metric] for m in metrics.values()]))
        evals.append({"step": step, "score": score, "metric": config.select_metric, "tasks": metrics})
        report_metrics({f"val_{config.select_metric}": score, **{f"val/{task}/{k}": v for task, m in metrics.items()
                                                                 for k, v in m.items()}},
                       step=step, prefix=f"lora/{adapter}")  # to a tracker run, if any
        if best is None or score > best[0]:
            state = get_peft_model_state_dict(model, adapter_name=adapter, save_embedding_layers=False)
            best = (score, step, {k: v.detach().clone() for k, v in state.items()})
        model.train()
        bar.update(f"LoRA {adapter}")

    step, micro = 0, 0
    dtype = model_dtype(model)
    model.train()
    optimizer.zero_grad()
    with progress_of(total, f"LoRA {adapter}", "step", enabled=rank == 0) as bar:
        while step < total:
            order = torch.randperm(len(examples), generator=generator).split(config.batch_size)
            for idx in _shard(order, rank, world):
                rows = [examples[i] for i in idx.tolist()]
                batch = builder.encoder.collate([p for p, _ in rows], [a for _, a in rows]).to(device, dtype)
                labels = torch.full_like(batch.input_ids, -100)
                for r, (_, answer) in enumerate(rows):
                    labels[r, -len(answer):] = torch.tensor(answer)
                if accelerator is not None:
                    with accelerator.accumulate(wrapped):  # no gradient all-reduce between accumulation steps
                        loss = wrapped(**batch.model_kwargs(), labels=labels.to(device)).loss
                        accelerator.backward(loss)  # divides by grad_accum, as below
                else:
                    loss = model(**batch.model_kwargs(), labels=labels.to(device)).loss
                    (loss / config.grad_accum).backward()
                micro += 1
                if micro % config.grad_accum:
                    continue
                if accelerator is not None:
                    accelerator.clip_grad_norm_(trainable, config.max_grad_norm)
                    optimizer.step()
                    if not accelerator.optimizer_step_was_skipped:  # fp16 overflow skips the step
                        scheduler.step()
                else:
                    torch.nn.utils.clip_grad_norm_(trainable, config.max_grad_norm)
                    optimizer.step()
                    scheduler.step()
                optimizer.zero_grad()
                losses.append(float(loss.detach()))
                step += 1
                report_metrics({"loss": losses[-1]}, step=step, prefix=f"lora/{adapter}")  # to a tracker run, if any
                bar.advance()
                if val_sets and config.eval_every and step % config.eval_every == 0:
                    evaluate(step)
                if step >= total:
                    break
            if val_sets and not config.eval_every:
                evaluate(step)
        if val_sets and (not evals or evals[-1]["step"] != step):
            evaluate(step)
    if best is not None:
        set_peft_model_state_dict(model, best[2], adapter_name=adapter)
    model.eval()
    for param in model.parameters():
        param.requires_grad_(False)
    return model, TrainResult(adapter=adapter, losses=losses, evals=evals, best_step=best[1] if best else None,
                              best_score=best[0] if best else None, n_train=len(examples),
                              seconds=time.perf_counter() - start, config=asdict(config))
