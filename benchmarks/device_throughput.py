"""Device check (issue 14, item 5): label-scoring and LoRA-step throughput of a real-size, random-weight
causal LM on one GPU, written as JSON. Never needed by CI; NOT run yet (no GPU was lent to that task).

The model is Qwen2-7B-shaped (hidden 3584, 28 layers, 28 heads, 4 KV heads, intermediate 18944,
vocab 152064) with random weights in bfloat16, built on the meta device and materialised on the GPU
(no download, no slow CPU init). Two measurements:

* **label scoring** -- what ``hf-lm`` does per sample (MMLA prompt + one pass over the label tokens):
  forwards of ``--prompt-tokens`` + ``--label-tokens`` tokens, batch ``--batch``, no gradients;
  reported as samples/s and tokens/s per GPU (the plan in docs/scale-out.md uses samples/s);
* **LoRA step** -- PEFT LoRA (r=16 on q/k/v/o) training steps (forward + backward + AdamW) through
  ``accelerate.Accelerator`` (bf16), batch ``--train-batch`` x ``--train-tokens`` tokens; steps/s and
  tokens/s, peak memory.

Run (one GPU, ~3-5 min): ``python benchmarks/device_throughput.py --out $OUT/device_throughput.json``;
``--quick`` uses a 4-layer model of the same width (seconds; checks the script).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import torch

SHAPE_7B = {"hidden_size": 3584, "num_hidden_layers": 28, "num_attention_heads": 28, "num_key_value_heads": 4,
            "intermediate_size": 18944, "vocab_size": 152064, "max_position_embeddings": 4096}


def build_model(layers: int | None, device: str) -> Any:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    shape = dict(SHAPE_7B, **({"num_hidden_layers": layers} if layers else {}))
    config = Qwen2Config(**shape, torch_dtype="bfloat16", tie_word_embeddings=False)
    with torch.device("meta"):
        model = Qwen2ForCausalLM(config)
    model = model.to_empty(device=device).to(torch.bfloat16)
    gen = torch.Generator(device=device).manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0.0, 0.02, generator=gen)
    model.eval()
    return model


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def time_it(fn: Any, repeats: int) -> float:
    fn()  # warm-up (kernels, allocator)
    sync()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    sync()
    return (time.perf_counter() - t0) / repeats


def label_scoring(model: Any, batch: int, prompt: int, label: int, repeats: int, device: str) -> dict[str, Any]:
    tokens = prompt + label
    ids = torch.randint(0, model.config.vocab_size, (batch, tokens), device=device)

    @torch.inference_mode()
    def step() -> None:
        logits = model(input_ids=ids, logits_to_keep=label + 1).logits  # only the label positions' logits
        torch.log_softmax(logits.float(), dim=-1)

    seconds = time_it(step, repeats)
    return {"batch": batch, "tokens_per_sample": tokens, "seconds_per_batch": seconds,
            "samples_per_s": batch / seconds, "tokens_per_s": batch * tokens / seconds}


def lora_steps(model: Any, batch: int, tokens: int, repeats: int, device: str) -> dict[str, Any]:
    from accelerate import Accelerator
    from peft import LoraConfig, get_peft_model

    accelerator = Accelerator(mixed_precision="bf16", cpu=device == "cpu")
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj", "k_proj", "v_proj",
                                                                                  "o_proj"]))
    model.gradient_checkpointing_enable()
    model.enable_input_require_grads()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4)
    model, optimizer = accelerator.prepare(model, optimizer)
    model.train()
    ids = torch.randint(0, 1000, (batch, tokens), device=accelerator.device)

    def step() -> None:
        loss = model(input_ids=ids, labels=ids).loss
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()

    seconds = time_it(step, repeats)
    return {"batch": batch, "tokens": tokens, "lora_r": 16, "trainable_params": sum(p.numel() for p in trainable),
            "seconds_per_step": seconds, "steps_per_s": 1 / seconds, "tokens_per_s": batch * tokens / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 layers (script check)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--prompt-tokens", type=int, default=160)
    parser.add_argument("--label-tokens", type=int, default=8)
    parser.add_argument("--train-batch", type=int, default=8)
    parser.add_argument("--train-tokens", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "device_throughput.json")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    t0 = time.perf_counter()
    model = build_model(4 if args.quick else None, device)
    result: dict[str, Any] = {
        "benchmark": "device_throughput", "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "platform": platform.platform(), "torch": torch.__version__, "quick": args.quick,
        "model_shape": dict(SHAPE_7B, **({"num_hidden_layers": 4} if args.quick else {})),
        "n_params": sum(p.numel() for p in model.parameters()), "dtype": "bfloat16",
        "build_seconds": time.perf_counter() - t0}
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    result["label_scoring"] = [label_scoring(model, b, args.prompt_tokens, args.label_tokens, args.repeats, device)
                               for b in sorted({8, args.batch})]
    if device == "cuda":
        result["label_scoring_peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
        torch.cuda.reset_peak_memory_stats()
    result["lora_step"] = lora_steps(model, args.train_batch, args.train_tokens, max(3, args.repeats // 2), device)
    if device == "cuda":
        result["lora_step"]["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
