"""Benchmark: one-pass label scoring vs. naive per-label forwards vs. generate-and-parse vs. lm-eval.

All three run in one process on the same model: a Qwen2-0.5B-shaped causal LM with random weights
(hidden 896, 24 layers, 14 heads, 2 KV heads, intermediate 4864, vocab 151936, tied embeddings) and
a byte-level BPE tokenizer trained locally. By default (``--label-words split``) label words are kept out
of its corpus, so every label is several tokens, as rare words are for real tokenizers: the worst case for
one-pass scoring, whose label trie then has many inner nodes. ``--label-words whole`` puts the label words
in the corpus, so single-word labels are one token, as common English words are in Qwen2's 151k vocabulary.
Prompts are MMLA prompts (Appendix D) for K = 2, 7 and 30 labels (MUStARD, MELD, MIntRec2.0 label sets).

When lm-evaluation-harness is installed (an optional benchmark dependency: ``pip install lm-eval``;
never needed by tests), its ``HFLM.loglikelihood`` scores the same prompts x labels (context = the
prompt text, continuation = each label's text, n x K requests, ``batch_size = --n``) on the same model
object, and the report gives its time over one-pass (``speedup_vs_lm_eval``) and the largest
log-probability difference. ``--no-lm-eval`` skips it.

Run: ``.venv/bin/python benchmarks/bench_label_scoring.py [--quick] [--device cuda] [--dtype auto]
[--n 8] [--no-lm-eval] [--out PATH]``. ``--quick`` uses a tiny config (seconds). ``--dtype auto`` times one forward
in float32 and bfloat16 and keeps the faster. Results are printed and written as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
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


def build_tokenizer(vocab_size: int, label_words: str = "split") -> Any:
    """Byte-level BPE trained on filler text plus label-word halves (``label_words="split"``) or the whole
    label words (``"whole"``), with ChatML special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    rng = random.Random(0)
    if label_words not in ("split", "whole"):
        raise ValueError(f"label_words must be 'split' or 'whole', got {label_words!r}")
    whole = sorted({w for labels in LABEL_SETS.values() for label in labels for w in label.split()})
    vocabulary = FILLER + (_halves() if label_words == "split" else whole)
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

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Do not count what runs inside (another method measured on its own)."""
        peak = self.peak_rss
        yield
        self.peak_rss = peak

    def report(self) -> dict[str, Any]:
        mib = 2 ** 20
        return {"rss_peak_mib": round(self.peak_rss / mib, 1),
                "rss_increase_mib": round((self.peak_rss - self.base_rss) / mib, 1),
                "tracemalloc_peak_mib": (None if self.tracemalloc_peak is None
                                         else round(self.tracemalloc_peak / mib, 2)),
                "cuda_peak_mib": None if self.cuda_peak is None else round(self.cuda_peak / mib, 1)}


def measure(func: Callable[[], Any], device: str, python_heap: bool = False) -> tuple[float, float, Any, dict]:
    """Wall seconds, process CPU seconds, result and peak memory of one call."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    with PeakMemory(device, python_heap) as peak:
        wall, cpu = time.perf_counter(), time.process_time()
        result = func()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, result, peak.report()


def summary(walls: list[float], cpus: list[float], n: int, memory: dict[str, Any]) -> dict[str, Any]:
    best = min(walls)
    return {"seconds": best, "seconds_median": float(np.median(walls)), "seconds_all": walls,
            "cpu_seconds": float(np.median(cpus)), "items_per_s": n / best, "memory": memory}


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


def flop_ceiling(shape: dict[str, int], k: int, prompt_tokens: float, label_tokens_mean: float,
                 trie_nodes: int) -> dict[str, float]:
    """The largest one-pass / naive speed-up any implementation can reach on this workload, by counting
    matmul FLOPs (attention scores and elementwise work left out; both methods have them alike).

    naive: K forwards of prompt + label (P + L_k tokens through the body) with LM-head logits at the
    L_k + 1 last positions; one-pass: the prompt once, the ``trie_nodes`` inner nodes of the label trie
    once (leaves never run), and full-vocabulary logits at the root and each inner node (each node's
    log-sum-exp needs all of them). Body FLOPs per token = 2 x (attention + MLP weights); head = 2 x
    hidden x vocab."""
    h, inter, layers = shape["hidden_size"], shape["intermediate_size"], shape["num_hidden_layers"]
    kv = h // shape["num_attention_heads"] * shape["num_key_value_heads"]
    body = 2 * layers * (2 * h * h + 2 * h * kv + 3 * h * inter)
    head = 2 * h * shape["vocab_size"]
    naive = k * prompt_tokens * body + k * label_tokens_mean * body + k * (label_tokens_mean + 1) * head
    one_pass = (prompt_tokens + trie_nodes) * body + (trie_nodes + 1) * head
    return {"naive_gflop": naive / 1e9, "one_pass_gflop": one_pass / 1e9, "speedup_ceiling": naive / one_pass}


def annotate_ceiling(report: dict[str, Any]) -> dict[str, Any]:
    """Add the FLOP ceiling (:func:`flop_ceiling`) and measured / ceiling to each K's row of ``report``."""
    for row in report["results"]:
        ceiling = flop_ceiling(report["model_shape"], row["k"], row["prompt_tokens_mean"], row["label_tokens_mean"],
                               row["trie_nodes"])
        row["flop_ceiling"] = ceiling
        row["robust_over_ceiling"] = row["speedup_vs_naive_robust"] / ceiling["speedup_ceiling"]
        row["issue13_target_over_ceiling"] = 0.8 * row["k"] / ceiling["speedup_ceiling"]
    report["flop_ceiling_model"] = ("matmul FLOPs: naive = K x (P + L) body tokens + K x (L + 1) LM-head rows; "
                                    "one-pass = (P + trie inner nodes) body tokens + (inner nodes + 1) LM-head rows")
    return report


def bench_k(model: Any, tok: Any, k: int, args: argparse.Namespace) -> dict[str, Any]:
    """Time the three methods on one label set: one-pass and generation ``--repeats`` times (interleaved
    with the naive method's K per-label forwards, each timed on its own)."""
    from interlens.scoring.hf import HFLMScorer, build_label_set, greedy_generate, label_logprobs
    from interlens.scoring.hf.chat import prompt_string
    from interlens.scoring.hf.generation import parse_label
    from interlens.scoring.hf.likelihood import naive_label_logprobs

    data = make_dataset(k, args.n, args.words)
    scorer = HFLMScorer(model=model, tokenizer=tok, batch_size=args.n, device=args.device).load()
    encode_start = time.perf_counter()
    prompts, labels, rendered = scorer.builder_.encode(data, "text")
    batch = scorer.builder_.encoder.collate(prompts).to(args.device)
    encode_seconds = time.perf_counter() - encode_start
    fast_w, fast_c, gen_w, gen_c, naive_w, naive_c, columns = [], [], [], [], [], [], []
    fast = texts = None
    m_fast = m_gen = {}
    # interleave: a one-pass and a generate run before, between and after the K naive forwards, so that
    # changing machine load hits all three methods alike
    checkpoints = set(np.linspace(0, k, args.repeats).round().astype(int).tolist())
    with PeakMemory(args.device, args.tracemalloc) as peak:
        for step in range(k + 1):
            if step in checkpoints:
                with peak.paused():
                    wall, cpu, fast, memory = measure(lambda: label_logprobs(model, batch, labels), args.device,
                                                      args.tracemalloc)
                    fast_w.append(wall), fast_c.append(cpu)
                    m_fast = m_fast or memory
                    generate_once = lambda: greedy_generate(model, tok, batch,  # noqa: E731
                                                            max_new_tokens=args.max_new_tokens)
                    wall, cpu, texts, memory = measure(generate_once, args.device, args.tracemalloc)
                    gen_w.append(wall), gen_c.append(cpu)
                    m_gen = m_gen or memory
            if step < k:
                one = build_label_set(tok, [labels.texts[step]])
                wall, cpu, column, _ = measure(lambda o=one: naive_label_logprobs(
                    model, scorer.builder_.encoder, prompts, o, device=args.device), args.device)
                naive_w.append(wall), naive_c.append(cpu), columns.append(column[:, 0])
    naive = torch.stack(columns, dim=1)
    fast_np, naive_np = fast.cpu().numpy(), naive.cpu().numpy()
    words = rendered[0].verbalized
    one_pass = summary(fast_w, fast_c, args.n, m_fast)
    generate = summary(gen_w, gen_c, args.n, m_gen)
    failures = sum(parse_label(t, words).index < 0 for t in texts)
    generate.update(max_new_tokens=args.max_new_tokens, parse_failures=failures)
    naive_sum = float(sum(naive_w))
    naive_row = {"seconds": naive_sum, "items_per_s": args.n / naive_sum, "cpu_seconds": float(sum(naive_c)),
                 "per_label_seconds": naive_w, "seconds_robust": k * min(naive_w), "memory": peak.report()}
    row = {
        "k": k, "n_prompts": args.n, "encode_seconds": encode_seconds,
        "prompt_tokens_mean": float(np.mean([len(p.ids) for p in prompts])),
        "label_tokens_mean": float(np.mean([len(t) for t in labels.token_ids])),
        "label_tokens_max": max(len(t) for t in labels.token_ids), "trie_nodes": len(labels.node_token),
        "one_pass": one_pass, "naive": naive_row, "generate": generate,
        "speedup_vs_naive": naive_sum / one_pass["seconds_median"],
        "speedup_vs_naive_median": k * float(np.median(naive_w)) / one_pass["seconds_median"],
        "speedup_vs_naive_robust": naive_row["seconds_robust"] / one_pass["seconds"],
        "speedup_vs_naive_cpu": naive_row["cpu_seconds"] / one_pass["cpu_seconds"],
        "speedup_vs_generate": generate["seconds"] / one_pass["seconds"],
        "target_speedup": 0.6 * k,
        "max_abs_diff_logprob": float(np.abs(fast_np - naive_np).max()),
        "same_argmax": float((fast_np.argmax(1) == naive_np.argmax(1)).mean()),
    }
    row["target_met"] = bool(row["speedup_vs_naive_robust"] >= row["target_speedup"])
    row["target_speedup_issue13"] = 0.8 * k
    row["target_met_issue13"] = bool(row["speedup_vs_naive_robust"] >= 0.8 * k)
    if args.lm_eval:
        texts_for_lm_eval = [prompt_string(tok, r, 0, use_chat_template=scorer.use_chat_template) for r in rendered]
        row["lm_eval"] = bench_lm_eval(model, tok, texts_for_lm_eval, labels.texts, fast_np, args)
        if row["lm_eval"].get("seconds"):
            row["speedup_vs_lm_eval"] = row["lm_eval"]["seconds"] / one_pass["seconds"]
    if "speedup_vs_lm_eval" in row:
        print(f"K={k:2d}: lm-eval loglikelihood {row['lm_eval']['seconds']:.2f}s -> one-pass "
              f"{row['speedup_vs_lm_eval']:.1f}x faster, max|diff| {row['lm_eval']['max_abs_diff_logprob']:.2e}",
              flush=True)
    print(f"K={k:2d}: prompt {row['prompt_tokens_mean']:.0f} tok, labels {row['label_tokens_mean']:.1f} tok "
          f"(trie {row['trie_nodes']} nodes) | one-pass {one_pass['seconds']:.2f}s | naive {naive_sum:.2f}s "
          f"(robust {naive_row['seconds_robust']:.2f}s) | generate {generate['seconds']:.2f}s | speed-up "
          f"{row['speedup_vs_naive']:.1f}x measured, {row['speedup_vs_naive_robust']:.1f}x robust, "
          f"{row['speedup_vs_naive_cpu']:.1f}x cpu (target {0.6 * k:.1f}x) | max|diff| "
          f"{row['max_abs_diff_logprob']:.2e}", flush=True)
    return row


def bench_lm_eval(model: Any, tok: Any, contexts: list[str], label_texts: tuple[str, ...], fast: np.ndarray,
                  args: argparse.Namespace) -> dict[str, Any]:
    """lm-evaluation-harness ``HFLM.loglikelihood`` on the same model and prompts x labels (best of
    ``--lm-eval-repeats``); its log-probabilities next to one-pass's (``fast``, prompts x labels)."""
    try:
        from lm_eval.api.instance import Instance
        from lm_eval.models.huggingface import HFLM
    except ImportError as exc:
        return {"available": False, "reason": f"lm-eval not installed ({exc}); pip install lm-eval"}
    import importlib.metadata

    # log-softmax in float32, as one-pass does (lm-eval's default keeps the model dtype)
    lm = HFLM(pretrained=model, tokenizer=tok, batch_size=args.n, device=args.device, dtype=model.dtype,
              softmax_dtype=torch.float32)
    requests = [Instance(request_type="loglikelihood", doc={}, arguments=(ctx, cont), idx=j)
                for ctx in contexts for j, cont in enumerate(label_texts)]
    walls, cpus, out = [], [], None
    for _ in range(args.lm_eval_repeats):
        wall, cpu, out, memory = measure(lambda: lm.loglikelihood(requests, disable_tqdm=True), args.device)
        walls.append(wall), cpus.append(cpu)
    scores = np.array([ll for ll, _ in out]).reshape(len(contexts), len(label_texts))
    row = summary(walls, cpus, len(contexts), memory)
    row.update(available=True, version=importlib.metadata.version("lm-eval"), n_requests=len(requests),
               max_abs_diff_logprob=float(np.abs(scores - fast).max()),
               same_argmax=float((scores.argmax(1) == fast.argmax(1)).mean()))
    return row


def exactness_check(shape: dict[str, int], tok: Any, device: str, k: int = 30, n: int = 2) -> dict[str, Any]:
    """float32 one-pass vs naive on the same architecture (bf16 rounding aside, the methods agree)."""
    from interlens.scoring.hf import HFLMScorer

    model = build_model(shape, tok, torch.float32, device)
    scorer = HFLMScorer(model=model, tokenizer=tok, batch_size=n, device=device)
    data = make_dataset(k, n, 30)
    fast, naive = scorer.logprobs(data, "text"), scorer.logprobs(data, "text", naive=True)
    diff = float(np.abs(fast - naive).max())
    print(f"float32 exactness, K={k}, {n} prompts: max|one-pass - naive| = {diff:.2e}", flush=True)
    return {"k": k, "n_prompts": n, "dtype": "float32", "max_abs_diff_logprob": diff}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from interlens.scoring.hf import HFLMScorer

    torch.set_num_threads(args.threads)
    shape = TINY if args.quick else QWEN2_05B
    tok = build_tokenizer(2000 if args.quick else 4000, args.label_words)
    load_before = os.getloadavg()
    dtype, probe = pick_dtype(args.dtype, shape, tok, args.device)
    start = time.perf_counter()
    model = build_model(shape, tok, dtype, args.device)
    build_seconds = time.perf_counter() - start
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params / 1e6:.1f}M params, {dtype}, {args.device}, built in {build_seconds:.1f}s", flush=True)
    HFLMScorer(model=model, tokenizer=tok, device=args.device).logprobs(make_dataset(2, 2, 5), "text")  # warm-up
    results = [bench_k(model, tok, k, args) for k in args.k]
    exact = None
    if args.check_fp32 and dtype != torch.float32:
        del model
        exact = exactness_check(shape, tok, args.device)
    return annotate_ceiling({
        "benchmark": "label_scoring", "quick": args.quick, "device": args.device, "dtype": str(dtype).split(".")[-1],
        "dtype_probe_seconds": probe, "threads": torch.get_num_threads(), "model_shape": shape,
        "n_params": n_params, "model_build_seconds": build_seconds, "tokenizer_vocab": len(tok),
        "label_words": args.label_words,
        "repeats": args.repeats, "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "results": results, "float32_exactness": exact,
        "notes": "seconds = best of repeats (one-pass, generate; interleaved with the naive forwards); naive = "
                 "one run of K per-label forwards (seconds = their sum, seconds_robust = K x fastest one); "
                 "speedup_vs_naive = naive sum / one-pass median; _median = K x median per-label / one-pass "
                 "median; _robust = K x fastest per-label / fastest one-pass (target_met uses it); _cpu = "
                 "process CPU time ratio; speedup_vs_lm_eval = lm-eval HFLM.loglikelihood (n x K requests, "
                 "best of --lm-eval-repeats) / fastest one-pass; target_met_issue13: robust >= 0.8 K; "
                 "flop_ceiling: the matmul-FLOP bound of one-pass / naive for this workload (flop_ceiling()).",
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(),
                    "torch": torch.__version__,
                    "gpu": torch.cuda.get_device_name() if args.device.startswith("cuda") else None},
    })


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny model config (smoke test, seconds)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--dtype", default=None, choices=["auto", "float32", "bfloat16"],
                        help="default: auto (float32 with --quick)")
    parser.add_argument("--tracemalloc", action="store_true", help="also record the Python-heap peak")
    parser.add_argument("--k", type=int, nargs="+", default=[2, 7, 30], choices=sorted(LABEL_SETS))
    parser.add_argument("--n", type=int, default=8, help="prompts per K (one batch)")
    parser.add_argument("--label-words", default="split", choices=["split", "whole"],
                        help="split: every label several tokens (worst case); whole: label words in the "
                             "tokenizer's vocabulary, as in real large vocabularies")
    parser.add_argument("--words", type=int, default=30, help="utterance length in words")
    parser.add_argument("--max-new-tokens", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of one-pass and generate (best)")
    parser.add_argument("--no-check-fp32", dest="check_fp32", action="store_false",
                        help="skip the float32 one-pass vs naive check after a bfloat16 run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-lm-eval", dest="lm_eval", action="store_false",
                        help="skip lm-evaluation-harness's loglikelihood (run when lm-eval is installed)")
    parser.add_argument("--lm-eval-repeats", type=int, default=1, help="timed repeats of lm-eval (best)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--annotate", type=Path, default=None,
                        help="only add the FLOP ceiling to an existing results JSON (no timing) and write it back")
    args = parser.parse_args(argv)
    if args.annotate:
        from interlens.io import read_json

        report = annotate_ceiling(read_json(args.annotate))
        write_json(args.annotate, report)
        for row in report["results"]:
            print(f"K={row['k']:2d}: ceiling {row['flop_ceiling']['speedup_ceiling']:.1f}x, measured (robust) "
                  f"{row['speedup_vs_naive_robust']:.1f}x = {100 * row['robust_over_ceiling']:.0f}% of it; "
                  f"0.8 K = {0.8 * row['k']:.1f}x")
        return report
    args.dtype = args.dtype or ("float32" if args.quick else "auto")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda requested but torch.cuda.is_available() is False")
    report = run(args)
    path = write_json(args.out, report)
    print(f"written: {path}")
    return report


if __name__ == "__main__":
    main()
