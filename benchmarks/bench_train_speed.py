"""Training speed of ``minilm-ft``, side by side in one run on the same data and the same steps.

Paths (each fine-tunes all-MiniLM-L6-v2 + mean pooling + a linear head, batch 32, the same token ids,
the same optimizer groups, schedule, clipping and number of optimizer steps):

- ``fp32``: ``minilm-ft`` with ``precision="fp32"`` -- the previous training path exactly;
- ``bf16``: ``minilm-ft`` with ``precision="bf16"`` -- the new default (bf16 autocast, fused AdamW);
- ``trainer``: the route a user would otherwise take -- the same model under ``transformers.Trainer``
  (float32, random batches padded per batch by ``DataCollatorWithPadding``);
- ``trainer_bf16``: ``Trainer`` at its fastest CPU settings (``bf16=True``, ``group_by_length``).

Each path's test accuracy is measured with one shared float32 scoring loop. A short per-phase
profile (forward / backward / clip / optimizer step) of fp32 vs bf16 shows where the time goes.
Wall seconds depend on the machine's load (recorded); process CPU seconds are reported too.

    .venv/bin/python benchmarks/bench_train_speed.py                 # MIntRec, 3 epochs, ~3-6 min
    .venv/bin/python benchmarks/bench_train_speed.py --epochs 1 --max-train 320 --paths fp32 bf16
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from interlens.bench import parse_tasks
from interlens.bench.runner import Runner
from interlens.data.schema import Dataset
from interlens.io import write_json
from interlens.scoring.encoders import _load_minilm
from interlens.scoring.minilm_ft import MiniLMFineTuneScorer, _Model
from interlens.views import View

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "train_speed.json"
PATHS = ("fp32", "bf16", "trainer", "trainer_bf16")


def load_task(name: str, max_train: int | None, seed: int) -> tuple[Dataset, Dataset, str]:
    task = parse_tasks(name)[0]
    runner = Runner([task], "minilm-ft", "sft", [0], Path("/tmp/interlens-train-speed"))
    train, test = runner.split(task, "fit"), runner.split(task, "eval")
    view = runner.view(MiniLMFineTuneScorer(), task)
    if max_train is not None and len(train) > max_train:
        keep = np.sort(np.random.default_rng(seed).choice(len(train), max_train, replace=False))
        train = train.subset([train.samples[i].id for i in keep])
    return train, test, view


def accuracy(model: _Model, scorer: MiniLMFineTuneScorer, test: Dataset, view: str) -> float:
    """Test accuracy with one shared float32 scoring loop (minilm-ft's own ``_run``)."""
    logits = scorer._run(model, test, View.parse(view))
    return float((logits.argmax(1) == test.y).mean())


def timed(func: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = func()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def run_minilm(precision: str, train: Dataset, test: Dataset, view: str, args: argparse.Namespace,
               seed: int) -> dict[str, Any]:
    scorer = MiniLMFineTuneScorer(epochs=args.epochs, precision=precision, threads=args.threads, progress=False,
                                  seed=seed)
    _, wall, cpu = timed(lambda: scorer.fit(train, [view]))
    key = scorer._key(View.parse(view))
    steps = args.epochs * math.ceil(len(train) / scorer.batch_size)
    return {"train_wall_s": wall, "train_cpu_s": cpu, "steps": steps,
            "epoch_wall_s": [e["seconds"] for e in scorer.train_log_[key]],
            "final_loss": scorer.train_log_[key][-1]["loss"],
            "test_acc": accuracy(scorer.models_[key], scorer, test, view)}


class _Encoded(torch.utils.data.Dataset):
    def __init__(self, encoded: list[tuple[list[int], list[int]]], y: np.ndarray) -> None:
        self.items = [{"input_ids": ids, "token_type_ids": types, "attention_mask": [1] * len(ids), "labels": int(t)}
                      for (ids, types), t in zip(encoded, y, strict=True)]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.items[i]


class _WithLoss(torch.nn.Module):
    """minilm-ft's model (MiniLM + mean pooling + linear head) with the loss Trainer expects."""

    def __init__(self, model: _Model) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor,
                labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        logits = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = torch.nn.functional.cross_entropy(logits.float(), labels)
        return out


def run_trainer(fast: bool, train: Dataset, test: Dataset, view: str, args: argparse.Namespace,
                seed: int) -> dict[str, Any]:
    """The same model, tokens, optimizer groups, schedule and steps under ``transformers.Trainer``."""
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    ref = MiniLMFineTuneScorer(epochs=args.epochs, seed=seed)  # the recipe's hyper-parameters
    tokenizer, base = _load_minilm()
    ref.tokenizer_, ref.labels_ = tokenizer, tuple(train.labels)

    def build_and_train() -> tuple[_Model, int]:
        encoded = ref._encode(train, View.parse(view))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = _Model(copy.deepcopy(base), len(train.labels), ref.dropout)
        groups = [{"params": model.encoder.parameters(), "lr": ref.lr},
                  {"params": model.head.parameters(), "lr": ref.head_lr}]
        opt = torch.optim.AdamW(groups, weight_decay=ref.weight_decay, fused=True)  # Trainer's default kind
        steps = args.epochs * math.ceil(len(train) / ref.batch_size)
        warm = max(1, int(ref.warmup * steps))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
        targs = TrainingArguments(
            output_dir="/tmp/interlens-train-speed/trainer", per_device_train_batch_size=ref.batch_size,
            num_train_epochs=args.epochs, max_grad_norm=1.0, use_cpu=True, report_to="none", save_strategy="no",
            logging_strategy="no", disable_tqdm=True, dataloader_num_workers=0, seed=seed, bf16=fast,
            train_sampling_strategy="group_by_length" if fast else "random")
        trainer = Trainer(model=_WithLoss(model), args=targs, train_dataset=_Encoded(encoded, train.y),
                          data_collator=DataCollatorWithPadding(tokenizer), optimizers=(opt, sched))
        result = trainer.train()
        return model, int(result.global_step)

    with torch.random.fork_rng(devices=[]):
        (model, steps), wall, cpu = timed(build_and_train)
    model.eval()
    return {"train_wall_s": wall, "train_cpu_s": cpu, "steps": steps, "test_acc": accuracy(model, ref, test, view)}


def profile(train: Dataset, view: str, n_steps: int) -> dict[str, Any]:
    """Median seconds per phase of one optimizer step, fp32 (foreach AdamW) vs bf16 (autocast, fused)."""
    tokenizer, base = _load_minilm()
    scorer = MiniLMFineTuneScorer()
    scorer.tokenizer_ = tokenizer
    encoded = scorer._encode(train, View.parse(view))
    lengths = [len(ids) for ids, _ in encoded]
    batches = scorer._train_batches(lengths, torch.Generator().manual_seed(0))[:n_steps]
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    real = sum(lengths[i] for b in batches for i in b)
    y = torch.tensor(train.y)
    out: dict[str, Any] = {"steps": len(batches), "tokens_per_sample_mean": float(np.mean(lengths)),
                           "pad_fraction": 1 - real / padded}
    for name, bf16 in (("fp32", False), ("bf16", True)):
        torch.manual_seed(0)
        model = _Model(copy.deepcopy(base), len(train.labels), 0.1).train()
        opt = torch.optim.AdamW(model.parameters(), lr=5e-5, fused=True if bf16 else None)
        phases: dict[str, list[float]] = {"forward": [], "backward": [], "clip": [], "optimizer": []}
        for idx in batches:
            batch = scorer._collate(encoded, idx)
            t0 = time.perf_counter()
            opt.zero_grad()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = model(**batch)
            loss = torch.nn.functional.cross_entropy(logits.float(), y[idx])
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            t3 = time.perf_counter()
            opt.step()
            t4 = time.perf_counter()
            for key, value in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                phases[key].append(value)
        out[name] = {k: float(np.median(v[1:] or v)) for k, v in phases.items()}
        out[name]["step"] = sum(out[name][k] for k in phases)
    out["step_speedup"] = out["fp32"]["step"] / out["bf16"]["step"]
    print(f"profile ({len(batches)} steps, {out['tokens_per_sample_mean']:.1f} tokens/sample, pad "
          f"{100 * out['pad_fraction']:.1f}%): fp32 {out['fp32']}, bf16 {out['bf16']}", flush=True)
    return out


#: torch.profiler op names per kind of work (self CPU time; the rest is elementwise ops and framework overhead)
OP_KINDS = {
    "matmul": ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::_addmm_activation",
               "mkldnn::_linear_pointwise", "aten::mkldnn_linear"),
    "attention": ("aten::_scaled_dot_product_flash_attention_for_cpu",
                  "aten::_scaled_dot_product_flash_attention_for_cpu_backward", "aten::_softmax",
                  "aten::_softmax_backward_data"),
    "optimizer": ("aten::_fused_adamw_",),
    "clip": ("aten::linalg_vector_norm", "aten::_foreach_norm", "aten::_foreach_mul_", "aten::stack"),
    "casts_copies": ("aten::copy_", "aten::_to_copy", "aten::to"),
    "dropout_rng": ("aten::bernoulli_",),
    "embedding": ("aten::embedding_dense_backward", "aten::index_select", "aten::index_add_",
                  "aten::embedding_backward"),
}


def op_profile(train: Dataset, view: str, n_steps: int) -> dict[str, Any]:
    """torch.profiler op table of ``n_steps`` bf16 training steps (minilm-ft's loop: autocast, fused AdamW,
    clipping): the share of self CPU time per kind of op (``OP_KINDS``) and the top ops -- where a step's time
    goes, i.e. what a faster loop could still remove (issue 31 goal 3)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    tokenizer, base = _load_minilm()
    scorer = MiniLMFineTuneScorer()
    scorer.tokenizer_ = tokenizer
    encoded = scorer._encode(train, View.parse(view))
    lengths = [len(ids) for ids, _ in encoded]
    batches = scorer._train_batches(lengths, torch.Generator().manual_seed(0))[:n_steps + 2]
    y = torch.tensor(train.y)
    torch.manual_seed(0)
    model = _Model(copy.deepcopy(base), len(train.labels), 0.1).train()
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, fused=True)

    def step(idx: list[int]) -> None:
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(**scorer._collate(encoded, idx))
        loss = torch.nn.functional.cross_entropy(logits.float(), y[idx])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    for idx in batches[:2]:  # warm-up
        step(idx)
    wall = time.perf_counter()
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        for idx in batches[2:]:
            step(idx)
    wall = time.perf_counter() - wall
    events = [e for e in prof.key_averages() if e.self_cpu_time_total > 0]
    total = sum(e.self_cpu_time_total for e in events)
    shares = {kind: sum(e.self_cpu_time_total for e in events if e.key in names) / total
              for kind, names in OP_KINDS.items()}
    shares["other"] = 1 - sum(shares.values())
    top = sorted(events, key=lambda e: -e.self_cpu_time_total)[:15]
    out = {"steps": len(batches) - 2, "wall_s_profiled": wall, "self_cpu_s": total / 1e6, "shares": shares,
           "top_ops": [{"op": e.key, "self_cpu_share": e.self_cpu_time_total / total, "calls": e.count}
                       for e in top],
           "ops_per_step": sum(e.count for e in events) / max(1, len(batches) - 2)}
    print("op profile shares: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in shares.items()), flush=True)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="mintrec")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-train", type=int, default=None, help="cap on training samples (default: all)")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=PATHS)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for every path (default: torch's; 1 on a shared, loaded machine)")
    parser.add_argument("--profile-steps", type=int, default=8)
    parser.add_argument("--op-profile-steps", type=int, default=8,
                        help="torch.profiler op table of bf16 steps (0: none)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    train, test, view = load_task(args.task, args.max_train, 0)
    print(f"{args.task}: train {len(train)}, test {len(test)}, view {view}, {args.epochs} epochs, "
          f"threads {torch.get_num_threads()}", flush=True)
    started = time.perf_counter()
    prof = profile(train, view, args.profile_steps) if args.profile_steps else None
    ops = op_profile(train, view, args.op_profile_steps) if args.op_profile_steps else None
    runs: dict[str, list[dict[str, Any]]] = {p: [] for p in args.paths}
    for seed in range(args.seeds):
        for path in args.paths:  # interleaved, so changing machine load hits every path alike
            load = os.getloadavg()[0]
            if path in ("fp32", "bf16"):
                row = run_minilm(path, train, test, view, args, seed)
            else:
                row = run_trainer(path == "trainer_bf16", train, test, view, args, seed)
            row.update(seed=seed, load_average_before=load)
            runs[path].append(row)
            print(f"seed {seed} {path:12s}: {row['steps']} steps, train {row['train_wall_s']:.1f}s wall "
                  f"{row['train_cpu_s']:.1f}s cpu, test acc {100 * row['test_acc']:.2f} (load {load:.1f})", flush=True)
    summary = {}
    for path, rows in runs.items():
        summary[path] = {"train_wall_s": float(np.mean([r["train_wall_s"] for r in rows])),
                         "train_cpu_s": float(np.mean([r["train_cpu_s"] for r in rows])),
                         "test_acc_mean": float(np.mean([r["test_acc"] for r in rows])),
                         "test_acc_per_seed": [r["test_acc"] for r in rows], "steps": rows[0]["steps"]}
    ratios = {}
    for slow in ("fp32", "trainer", "trainer_bf16"):
        if slow in summary and "bf16" in summary:
            ratios[f"{slow}_over_bf16_wall"] = summary[slow]["train_wall_s"] / summary["bf16"]["train_wall_s"]
            ratios[f"{slow}_over_bf16_cpu"] = summary[slow]["train_cpu_s"] / summary["bf16"]["train_cpu_s"]
    report = {
        "benchmark": "train_speed", "scorer": "minilm-ft", "task": args.task, "view": view,
        "n_train": len(train), "n_test": len(test), "epochs": args.epochs, "batch_size": 32,
        "seeds": args.seeds, "threads": torch.get_num_threads(), "paths": summary, "ratios": ratios, "runs": runs,
        "profile": prof, "op_profile": ops, "targets": {"fp32_over_bf16_wall": 2.0, "trainer_over_bf16_wall": 1.5},
        "wall_s": time.perf_counter() - started,
        "notes": "same data, token ids, optimizer groups (encoder 5e-5, head 1e-3, AdamW wd 0.01), linear "
                 "warm-up/decay, clipping 1.0 and optimizer steps for every path; no validation or epoch "
                 "selection; test accuracy from one shared float32 scoring loop. train_*_s covers fit (model "
                 "copy, tokenising, training). Wall time depends on machine load (load_average_before).",
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(),
                    "torch": torch.__version__},
    }
    path = write_json(args.out, report)
    print(f"ratios: {ratios}\nwritten: {path}", flush=True)
    return report


if __name__ == "__main__":
    main()
