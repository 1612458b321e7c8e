"""Device check for the model families of issue 17 (run on a GPU session; NOT run yet).

For each family, a real-size configuration with random weights in bf16 (no download): label-scoring
throughput (one-pass, all labels) on 32 image+text samples, and the wall time of one LoRA step.
Writes JSON to ``$OUT/device_families.json`` (or ``benchmarks/results/device_families.json``) beside the CPU
figures of ``tests/test_hf_families.py``.

Usage: ``python benchmarks/device_families.py [--families blip2,internvl,...] [--n 32]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hf_tiny import tiny_family_tokenizer, tiny_image  # noqa: E402

from interlens.data.schema import Dataset, Sample  # noqa: E402
from interlens.scoring.clip import ClipScorer  # noqa: E402
from interlens.scoring.hf import HFVLMScorer  # noqa: E402
from interlens.scoring.hf.training import TrainConfig  # noqa: E402

LABELS = ("complain", "praise", "apologise", "thank", "criticize", "agree", "taunt", "joke")


def _qwen2_text(tok, hidden=3584, layers=28, heads=28, kv=4, inter=18944):
    return dict(model_type="qwen2", vocab_size=152064, hidden_size=hidden, intermediate_size=inter,
                num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv,
                pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)


def build(family: str):
    """(model, tokenizer, image processor, image size) at real size, random bf16 weights on CUDA."""
    from transformers import (
        Blip2Config,
        Blip2ForConditionalGeneration,
        BlipImageProcessorPil,
        GotOcr2ImageProcessorPil,
        InternVLConfig,
        InternVLForConditionalGeneration,
        LlavaOnevisionConfig,
        LlavaOnevisionForConditionalGeneration,
        LlavaOnevisionImageProcessorPil,
    )

    kind = {"blip2": "plain", "internvl": "internvl", "llava-onevision": "onevision", "clip": "qwen"}[family]
    tok = tiny_family_tokenizer(kind)
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        if family == "blip2":  # blip2-opt-2.7b
            config = Blip2Config(
                vision_config=dict(hidden_size=1408, intermediate_size=6144, num_hidden_layers=39,
                                   num_attention_heads=16, image_size=224, patch_size=14),
                qformer_config=dict(encoder_hidden_size=1408),
                text_config=dict(model_type="opt", vocab_size=50272, hidden_size=2560, ffn_dim=10240,
                                 num_hidden_layers=32, num_attention_heads=32, word_embed_proj_dim=2560,
                                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id),
                num_query_tokens=32, image_token_index=tok.convert_tokens_to_ids("<image>"))
            model = Blip2ForConditionalGeneration(config)
            processor, size = BlipImageProcessorPil(size={"height": 224, "width": 224}), 224
        elif family == "internvl":  # InternVL2.5-8B-like (Qwen2-7B-size LM, 300M ViT)
            config = InternVLConfig(
                vision_config=dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                                   num_attention_heads=16, image_size=[448, 448], patch_size=[14, 14]),
                text_config=_qwen2_text(tok), image_token_id=tok.convert_tokens_to_ids("<IMG_CONTEXT>"),
                image_seq_length=256)
            model = InternVLForConditionalGeneration(config)
            processor, size = GotOcr2ImageProcessorPil(size={"height": 448, "width": 448}, crop_to_patches=False), 448
        elif family == "llava-onevision":  # llava-onevision-qwen2-7b
            config = LlavaOnevisionConfig(
                vision_config=dict(model_type="siglip_vision_model", hidden_size=1152, intermediate_size=4304,
                                   num_hidden_layers=26, num_attention_heads=16, image_size=384, patch_size=14),
                text_config=_qwen2_text(tok), image_token_index=tok.convert_tokens_to_ids("<image>"),
                video_token_index=tok.convert_tokens_to_ids("<video>"), vision_feature_select_strategy="full")
            model = LlavaOnevisionForConditionalGeneration(config)
            processor = LlavaOnevisionImageProcessorPil(size={"height": 384, "width": 384},
                                                        image_grid_pinpoints=config.image_grid_pinpoints)
            size = 384
        else:
            raise ValueError(family)
    torch.set_default_dtype(torch.float32)
    return model.eval(), tok, processor, size


def build_clip():
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel

    tok = tiny_family_tokenizer("qwen")
    config = CLIPConfig(text_config=dict(vocab_size=49408, pad_token_id=tok.pad_token_id,
                                         eos_token_id=tok.eos_token_id),
                        vision_config=dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                                           num_attention_heads=16, image_size=224, patch_size=14), projection_dim=768)
    model = CLIPModel(config).eval()  # CPU float32 scorer: CLIP is small (ViT-L/14)
    return model, tok, CLIPImageProcessorPil(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224})


def dataset(n: int, size: int) -> Dataset:
    samples = [Sample(f"s{i}", {"text": "the speaker says that this is a really good point", "image":
                                tiny_image(i, (size, size))}, LABELS[i % len(LABELS)]) for i in range(n)]
    return Dataset("device", LABELS, samples, ("text", "image"), dimension="intent",
                   splits={"train": [s.id for s in samples]})


def run(family: str, n: int) -> dict:
    t0 = time.time()
    if family == "clip":
        model, tok, processor = build_clip()
        scorer = ClipScorer(model=model, tokenizer=tok, image_processor=processor, batch_size=32)
        data = dataset(n, 224)
        scorer.logits(data, "text+image")
        t = time.time()
        scorer.logits(data, "text+image")
        return {"family": family, "build_s": t - t0, "samples_per_s": n / (time.time() - t), "device": "cpu"}
    model, tok, processor, size = build(family)
    build_s = time.time() - t0
    data = dataset(n, size)
    scorer = HFVLMScorer(model=model, tokenizer=tok, image_processor=processor, batch_size=8, device="cuda",
                         train=TrainConfig(epochs=1, max_steps=1, batch_size=4, eval_batch_size=8))
    scorer.logprobs(data.subset(data.ids[:8]), "text+image")  # warm-up
    torch.cuda.synchronize()
    t = time.time()
    scorer.logprobs(data, "text+image")
    torch.cuda.synchronize()
    score_s = time.time() - t
    t = time.time()
    scorer.fit(data.subset(data.ids[:4]), ["text+image"])
    torch.cuda.synchronize()
    lora_s = time.time() - t
    out = {"family": family, "params_b": sum(p.numel() for p in model.parameters()) / 1e9, "build_s": build_s,
           "label_scoring_samples_per_s": n / score_s, "labels": len(LABELS), "lora_step_s": lora_s,
           "max_memory_gib": torch.cuda.max_memory_allocated() / 2**30, "dtype": "bfloat16"}
    del scorer, model
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--families", default="clip,blip2,llava-onevision,internvl")
    parser.add_argument("--n", type=int, default=32)
    args = parser.parse_args()
    results = []
    for family in args.families.split(","):
        try:
            results.append(run(family, args.n))
        except Exception as err:  # one family's failure must not lose the others' figures
            results.append({"family": family, "error": f"{type(err).__name__}: {err}"})
        print(json.dumps(results[-1]), flush=True)
    folder = Path(os.environ.get("OUT") or Path(__file__).parent / "results")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "device_families.json").write_text(json.dumps({"torch": torch.__version__, "results": results},
                                                            indent=2))


if __name__ == "__main__":
    main()
