"""Benchmark: one-pass label scoring vs. naive per-label forwards vs. generate-and-parse.

All three run in one process on the same model: a Qwen2-0.5B-shaped causal LM with random weights
(hidden 896, 24 layers, 14 heads, 2 KV heads, intermediate 4864, vocab 151936, tied embeddings) and
a byte-level BPE tokenizer trained locally (label words are kept out of its corpus, so every label is
several tokens, as rare words are for real tokenizers). Prompts are MMLA prompts (Appendix D) for
K = 2, 7 and 30 labels (MUStARD, MELD, MIntRec2.0 label sets).

Run: ``.venv/bin/python benchmarks/bench_label_scoring.py [--quick] [--device cuda] [--dtype auto]
[--n 8] [--out PATH]``. ``--quick`` uses a tiny config (seconds). ``--dtype auto`` times one forward
in float32 and bfloat16 and keeps the faster. Results are printed and written as JSON.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from interlens.data.schema import Dataset, Sample
from interlens.io import write_json

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "label_scoring.json"
LABEL_SETS = {
    2: ("sarcastic", "sincere"),
    7: ("neutral", "surprise", "fear", "sadness", "joy", "anger", "disgust"),
    30: ("complain", "praise", "apologise", "thank", "criticize", "agree", "taunt", "flaunt", "joke", "oppose",
         "comfort", "care", "inform", "advise", "arrange", "introduce", "leave", "prevent", "greet", "ask for help",
         "doubt", "acknowledge", "refuse", "warn", "emphasize", "ask for opinions", "confirm", "explain", "invite",
         "plan"),
}
DIMENSIONS = {2: "speaking_style", 7: "emotion", 30: "intent"}
QWEN2_05B = dict(hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                 intermediate_size=4864, vocab_size=151936)
TINY = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            intermediate_size=128, vocab_size=2048)
CHAT_TEMPLATE = ("{%- for m in messages -%}{{- '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' -}}"
                 "{%- endfor -%}{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%}")
_FILLER_TEXT = ("well i mean we could go to the place tomorrow if you really want but honestly i think it is going "
                "to rain and nobody will show up so maybe we should just stay home and watch something instead "
                "what do you say "
                "the speaker says that this is a really good point based on the text video what is the of this "
                "speaker candidate labels for are respond in the format only one label should be provided")
FILLER = _FILLER_TEXT.split()


def _halves() -> list[str]:
    """Each label word split in two pieces: BPE learns the pieces, never the whole word, so every
    label is at least two tokens (real tokenizers split rarer label words similarly)."""
    words = {w for labels in LABEL_SETS.values() for label in labels for w in label.split() if len(w) > 3}
    return [piece for w in sorted(words) for piece in (w[: len(w) // 2], w[len(w) // 2:])]


def build_tokenizer(vocab_size: int) -> Any:
    """Byte-level BPE trained on filler text plus label-word halves, with ChatML special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    rng = random.Random(0)
    vocabulary = FILLER + _halves()
    corpus = [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(5, 30))) for _ in range(3000)]
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"]
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    tk.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                       show_progress=False))
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|im_end|>", pad_token="<pad>")
    tok.chat_template = CHAT_TEMPLATE
    return tok


def build_model(shape: dict[str, int], tok: Any, dtype: torch.dtype, device: str) -> Any:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    config = Qwen2Config(**shape, tie_word_embeddings=True, pad_token_id=tok.pad_token_id,
                         eos_token_id=tok.eos_token_id, max_position_embeddings=4096)
    config._attn_implementation = "sdpa"
    with torch.device(device):
        model = Qwen2ForCausalLM(config)
    return model.to(dtype).eval()


def make_dataset(k: int, n: int, words: int) -> Dataset:
    rng = random.Random(k)
    samples = [Sample(f"p{i}", {"text": " ".join(rng.choice(FILLER) for _ in range(words))}, LABEL_SETS[k][i % k])
               for i in range(n)]
    return Dataset(f"bench-k{k}", LABEL_SETS[k], samples, ("text",), dimension=DIMENSIONS[k])


class PeakMemory:
    """Peak RSS (sampled every 5 ms) over a block; CUDA peak on GPU; tracemalloc peak (Python heap only,
it does not see tensor storage, and slows Python code) with ``python_heap``."""

    def __init__(self, device: str, python_heap: bool = False) -> None:
        import psutil

        self.process, self.device, self.python_heap = psutil.Process(), device, python_heap
        self.tracemalloc_peak: int | None = None
        self.peak_rss = self.base_rss = 0
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
            self._stop.wait(0.005)

    def __enter__(self) -> PeakMemory:
        self.base_rss = self.peak_rss = self.process.memory_info().rss
        if self.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        if self.python_heap:
            tracemalloc.start()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self.python_heap:
            self.tracemalloc_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        self.cuda_peak = torch.cuda.max_memory_allocated() if self.device.startswith("cuda") else None

    def report(self) -> dict[str, Any]:
        mib = 2 ** 20
        return {"rss_peak_mib": round(self.peak_rss / mib, 1),
                "rss_increase_mib": round((self.peak_rss - self.base_rss) / mib, 1),
                "tracemalloc_peak_mib": (None if self.tracemalloc_peak is None
                                         else round(self.tracemalloc_peak / mib, 2)),
                "cuda_peak_mib": None if self.cuda_peak is None else round(self.cuda_peak / mib, 1)}


def timed(func: Callable[[], Any], device: str, repeats: int,
          python_heap: bool = False) -> tuple[float, Any, dict[str, Any]]:
    """Best wall time over ``repeats`` runs (memory measured on the first)."""
    best, result, memory = float("inf"), None, {}
    for r in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        with PeakMemory(device, python_heap and r == 0) as peak:
            start = time.perf_counter()
            result = func()
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        if r == 0:
            memory = peak.report()
    return best, result, memory


def pick_dtype(requested: str, shape: dict[str, int], tok: Any, device: str) -> tuple[torch.dtype, dict[str, float]]:
    """The requested dtype, or (auto) the faster of float32 / bfloat16 on one 8x128 forward."""
    if requested != "auto":
        return {"float32": torch.float32, "bfloat16": torch.bfloat16}[requested], {}
    probe = torch.randint(10, 200, (8, 128), device=device)
    seconds = {}
    for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        model = build_model(shape, tok, dtype, device)
        with torch.inference_mode():
            model(input_ids=probe[:1, :16], logits_to_keep=1)
            start = time.perf_counter()
            model(input_ids=probe, logits_to_keep=1)
            seconds[name] = time.perf_counter() - start
        del model
    best = min(seconds, key=seconds.get)
    return {"float32": torch.float32, "bfloat16": torch.bfloat16}[best], seconds


def run(args: argparse.Namespace) -> dict[str, Any]:
    from interlens.scoring.hf import HFLMScorer
    from interlens.scoring.hf.generation import parse_label

    torch.set_num_threads(args.threads)
    shape = TINY if args.quick else QWEN2_05B
    tok = build_tokenizer(2000 if args.quick else 4000)
    load_before = os.getloadavg()
    dtype, probe = pick_dtype(args.dtype, shape, tok, args.device)
    start = time.perf_counter()
    model = build_model(shape, tok, dtype, args.device)
    build_seconds = time.perf_counter() - start
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params / 1e6:.1f}M params, {dtype}, {args.device}, built in {build_seconds:.1f}s")
    warm = make_dataset(2, 2, 5)
    HFLMScorer(model=model, tokenizer=tok, device=args.device).logprobs(warm, "text")  # warm-up
    results = []
    for k in args.k:
        data = make_dataset(k, args.n, args.words)
        scorer = HFLMScorer(model=model, tokenizer=tok, batch_size=args.n, device=args.device,
                            max_new_tokens=args.max_new_tokens)
        prompts, labels, _ = scorer.load().builder_.encode(data, "text")
        heap = args.tracemalloc
        t_fast, fast, m_fast = timed(lambda s=scorer, d=data: s.logprobs(d, "text"), args.device, args.repeats, heap)
        t_naive, naive, m_naive = timed(lambda s=scorer, d=data: s.logprobs(d, "text", naive=True), args.device, 1,
                                        heap)
        t_gen, (texts, words), m_gen = timed(lambda s=scorer, d=data: s.generate(d, "text"), args.device, 1, heap)
        failures = sum(parse_label(t, words).index < 0 for t in texts)
        row = {
            "k": k, "n_prompts": args.n,
            "prompt_tokens_mean": float(np.mean([len(p.ids) for p in prompts])),
            "label_tokens_mean": float(np.mean([len(t) for t in labels.token_ids])),
            "label_tokens_max": max(len(t) for t in labels.token_ids),
            "trie_nodes": len(labels.node_token),
            "one_pass": {"seconds": t_fast, "items_per_s": args.n / t_fast, "memory": m_fast},
            "naive": {"seconds": t_naive, "items_per_s": args.n / t_naive, "memory": m_naive},
            "generate": {"seconds": t_gen, "items_per_s": args.n / t_gen, "memory": m_gen,
                         "max_new_tokens": args.max_new_tokens, "parse_failures": failures},
            "speedup_vs_naive": t_naive / t_fast,
            "speedup_vs_generate": t_gen / t_fast,
            "target_speedup": 0.6 * k,
            "max_abs_diff_logprob": float(np.abs(fast - naive).max()),
            "same_argmax": float((fast.argmax(1) == naive.argmax(1)).mean()),
        }
        row["target_met"] = row["speedup_vs_naive"] >= row["target_speedup"]
        results.append(row)
        print(f"K={k:2d}: prompt {row['prompt_tokens_mean']:.0f} tok, labels {row['label_tokens_mean']:.1f} tok "
              f"(trie {row['trie_nodes']} nodes) | one-pass {t_fast:.2f}s ({args.n / t_fast:.2f}/s) | naive "
              f"{t_naive:.2f}s | generate {t_gen:.2f}s | speed-up {row['speedup_vs_naive']:.1f}x "
              f"(target {0.6 * k:.1f}x) | max|diff| {row['max_abs_diff_logprob']:.2e}")
    return {
        "benchmark": "label_scoring", "quick": args.quick, "device": args.device, "dtype": str(dtype).split(".")[-1],
        "dtype_probe_seconds": probe, "threads": torch.get_num_threads(), "model_shape": shape,
        "n_params": n_params, "model_build_seconds": build_seconds, "tokenizer_vocab": len(tok),
        "repeats_one_pass": args.repeats, "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "results": results,
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(),
                    "torch": torch.__version__,
                    "gpu": torch.cuda.get_device_name() if args.device.startswith("cuda") else None},
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny model config (smoke test, seconds)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--dtype", default=None, choices=["auto", "float32", "bfloat16"],
                        help="default: auto (float32 with --quick)")
    parser.add_argument("--tracemalloc", action="store_true", help="also record the Python-heap peak")
    parser.add_argument("--k", type=int, nargs="+", default=[2, 7, 30], choices=sorted(LABEL_SETS))
    parser.add_argument("--n", type=int, default=8, help="prompts per K (one batch)")
    parser.add_argument("--words", type=int, default=30, help="utterance length in words")
    parser.add_argument("--max-new-tokens", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2, help="timed repeats of the one-pass method (best)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.dtype = args.dtype or ("float32" if args.quick else "auto")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda requested but torch.cuda.is_available() is False")
    report = run(args)
    path = write_json(args.out, report)
    print(f"written: {path}")
    return report


if __name__ == "__main__":
    main()
