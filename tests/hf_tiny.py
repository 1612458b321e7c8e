"""Tiny Hugging Face models and tokenizers built offline from configs (ecosystem notes, section 3).

Every builder is deterministic (fixed seed) and cached per process, so test modules can share one
model. Nothing here touches the network: tokenizers are trained in milliseconds on a synthetic corpus.
"""

from __future__ import annotations

import functools
import random
from pathlib import Path

import numpy as np
import torch

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                  "<|image_pad|>", "<|video_pad|>", "<image>", "<pad>"]

# ChatML as used by Qwen2 / Qwen2-VL; list contents carry {"type": "image"} parts.
QWEN_CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\n' -}}"
    "{%- if message['content'] is string -%}{{- message['content'] -}}"
    "{%- else -%}{%- for part in message['content'] -%}"
    "{%- if part['type'] == 'image' -%}{{- '<|vision_start|><|image_pad|><|vision_end|>' -}}"
    "{%- elif part['type'] == 'text' -%}{{- part['text'] -}}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{- '<|im_end|>\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%}"
)

# A LLaVA-1.5-style template: "USER: <image>\n... ASSISTANT:".
LLAVA_CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'system' -%}{{- message['content'] + '\n' -}}"
    "{%- else -%}{{- message['role'].upper() + ': ' -}}"
    "{%- if message['content'] is string -%}{{- message['content'] -}}"
    "{%- else -%}{%- for part in message['content'] -%}"
    "{%- if part['type'] == 'image' -%}{{- '<image>\n' -}}"
    "{%- elif part['type'] == 'text' -%}{{- part['text'] -}}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}{{- '\n' -}}{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- 'ASSISTANT:' -}}{%- endif -%}"
)

_TEXT = ("the speaker says that this is a really good point and we should go now because it is late "
          "sarcastic sincere humorous serious complain praise apologise thank criticize agree taunt "
          "flaunt joke oppose comfort care inform advise arrange introduce leave prevent greet ask for "
          "help yes no neutral joy anger sadness fear disgust surprise positive negative video image "
          "candidate labels intent emotion respond format only one label should be provided based on "
          "text what is of")
_WORDS = _TEXT.split()


def corpus(n: int = 400, seed: int = 0) -> list[str]:
    """Deterministic pseudo-sentences over a small vocabulary."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 14))) for _ in range(n)]


@functools.cache
def tiny_tokenizer(kind: str = "qwen", vocab_size: int = 400):
    """A byte-level BPE tokenizer trained locally; ``kind`` picks the chat template (qwen / llava)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=SPECIAL_TOKENS, show_progress=False)
    tk.train_from_iterator(corpus(), trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|im_end|>", pad_token="<pad>",
                                  additional_special_tokens=SPECIAL_TOKENS[1:8])
    tok.chat_template = LLAVA_CHAT_TEMPLATE if kind == "llava" else QWEN_CHAT_TEMPLATE
    return tok


def _text_config(tok, **extra):
    return dict(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, bos_token_id=None, **extra)


def _seeded(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def tiny_qwen2(seed: int = 0, attn: str = "sdpa", dtype: torch.dtype = torch.float32, init_range: float = 0.02):
    """Qwen2ForCausalLM, 2 layers, hidden 64 (about 100k parameters), in eval mode. A larger
    ``init_range`` widens the logit range, so a few LoRA steps can make the model answer a label."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tok = tiny_tokenizer("qwen")
    _seeded(seed)
    config = Qwen2Config(**_text_config(tok), initializer_range=init_range)
    config._attn_implementation = attn
    model = Qwen2ForCausalLM(config).to(dtype).eval()
    return model, tok


def tiny_qwen2_vl(seed: int = 0):
    """Qwen2VLForConditionalGeneration with a 2-block vision tower, plus its PIL image processor."""
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLImageProcessorPil

    tok = tiny_tokenizer("qwen")
    ids = tok.convert_tokens_to_ids
    text = _text_config(tok, rope_parameters={"rope_type": "default", "mrope_section": [2, 3, 3],
                                              "rope_theta": 1e4})
    _seeded(seed)
    config = Qwen2VLConfig(
        text_config=text,
        vision_config=dict(depth=2, embed_dim=32, hidden_size=64, num_heads=2, patch_size=14,
                           spatial_merge_size=2, temporal_patch_size=2),
        image_token_id=ids("<|image_pad|>"), video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"), vision_end_token_id=ids("<|vision_end|>"),
        tie_word_embeddings=True)
    model = Qwen2VLForConditionalGeneration(config).eval()
    image_processor = Qwen2VLImageProcessorPil(size={"shortest_edge": 56 * 56, "longest_edge": 112 * 112})
    return model, tok, image_processor


def tiny_qwen2_5_vl(seed: int = 0):
    """Qwen2_5_VLForConditionalGeneration (window-attention vision tower) with the Qwen2-VL PIL processor."""
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2VLImageProcessorPil

    tok = tiny_tokenizer("qwen")
    ids = tok.convert_tokens_to_ids
    text = _text_config(tok, rope_parameters={"rope_type": "default", "mrope_section": [2, 3, 3],
                                              "rope_theta": 1e4})
    _seeded(seed)
    config = Qwen2_5_VLConfig(
        text_config=text,
        vision_config=dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, patch_size=14,
                           spatial_merge_size=2, temporal_patch_size=2, out_hidden_size=64, window_size=112,
                           fullatt_block_indexes=[1]),
        image_token_id=ids("<|image_pad|>"), video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"), vision_end_token_id=ids("<|vision_end|>"),
        tie_word_embeddings=True)
    model = Qwen2_5_VLForConditionalGeneration(config).eval()
    image_processor = Qwen2VLImageProcessorPil(size={"shortest_edge": 56 * 56, "longest_edge": 112 * 112})
    return model, tok, image_processor


def tiny_llava(seed: int = 0):
    """LlavaForConditionalGeneration: tiny CLIP vision tower (32 px, patch 8 -> 16 image tokens) + Qwen2."""
    from transformers import (
        CLIPImageProcessorPil,
        CLIPVisionConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        Qwen2Config,
    )

    tok = tiny_tokenizer("llava")
    _seeded(seed)
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                       num_attention_heads=2, image_size=32, patch_size=8),
        text_config=Qwen2Config(**_text_config(tok)),
        image_token_index=tok.convert_tokens_to_ids("<image>"), image_seq_length=16,
        vision_feature_select_strategy="default", vision_feature_layer=-1, tie_word_embeddings=True)
    model = LlavaForConditionalGeneration(config).eval()
    image_processor = CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return model, tok, image_processor


def save_tiny(model, tok, path: Path, image_processor=None) -> Path:
    """Write a loadable local checkpoint (config, weights, tokenizer, image processor)."""
    path = Path(path)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    if image_processor is not None:
        image_processor.save_pretrained(path)
    return path


def tiny_image(seed: int = 0, size: tuple[int, int] = (56, 56)):
    """A deterministic random RGB PIL image."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, size=(size[1], size[0], 3), dtype=np.uint8))


def single_thread():  # noqa: ANN201 - a context manager
    """Tiny models run fastest on one thread (and do not fight other processes for cores)."""
    from interlens.torch_utils import torch_threads

    return torch_threads(1)


def toy_dataset(n: int = 12, labels: tuple[str, ...] = ("sarcastic", "sincere"), *, images: bool = False,
                dimension: str = "speaking_style", name: str = "toy", seed: int = 0, splits: bool = True):
    """A small labelled dataset of pseudo-sentences (and random images): train / dev / test thirds."""
    from interlens.data.schema import Dataset, Sample

    texts = corpus(n, seed=seed + 11)
    samples = []
    for i in range(n):
        inputs = {"text": texts[i]}
        if images:
            inputs["image"] = tiny_image(seed + i, (56, 56) if i % 2 else (84, 56))
        samples.append(Sample(f"{name}-{i}", inputs, labels[i % len(labels)]))
    ids = [s.id for s in samples]
    third = n // 3
    parts = {"train": ids[:third], "dev": ids[third:2 * third], "test": ids[2 * third:]} if splits else {}
    return Dataset(name, labels, samples, ("text", "image") if images else ("text",), splits=parts,
                   dimension=dimension)


# -- further model families (issue 17): BLIP-2, InternVL, LLaVA-OneVision, LLaVA-NeXT-Video, CLIP -------------
FAMILY_SPECIAL_TOKENS = [*SPECIAL_TOKENS, "<video>", "<IMG_CONTEXT>", "<img>", "</img>"]
#: Qwen2-Audio's placeholders (only in the ``audio`` tokenizer, so the other families keep their vocabulary)
AUDIO_SPECIAL_TOKENS = ["<|audio_bos|>", "<|AUDIO|>", "<|audio_eos|>"]


@functools.cache
def tiny_family_tokenizer(kind: str = "qwen", vocab_size: int = 400):
    """:func:`tiny_tokenizer` plus the placeholder tokens of the newer families (``<video>``, InternVL's
    ``<IMG_CONTEXT>``/``<img>``/``</img>``); a separate vocabulary so the older tiny models keep theirs."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    specials = FAMILY_SPECIAL_TOKENS + (AUDIO_SPECIAL_TOKENS if kind == "audio" else [])
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=specials, show_progress=False)
    tk.train_from_iterator(corpus(), trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, eos_token="<|im_end|>", pad_token="<pad>",
                                  additional_special_tokens=[t for t in specials[1:] if t != "<pad>"])
    tok.chat_template = FAMILY_TEMPLATES[kind]
    return tok


def chatml_template(image_text: str) -> str:
    """ChatML (:data:`QWEN_CHAT_TEMPLATE`) with ``image_text`` for each image part."""
    return QWEN_CHAT_TEMPLATE.replace("<|vision_start|><|image_pad|><|vision_end|>", image_text)


#: tokenizer kind -> chat template (``plain``: none, as BLIP-2's OPT tokenizer)
FAMILY_TEMPLATES = {"qwen": QWEN_CHAT_TEMPLATE, "llava": LLAVA_CHAT_TEMPLATE, "plain": None,
                    "internvl": chatml_template("<IMG_CONTEXT>\n"), "onevision": chatml_template("<image>\n"),
                    "audio": QWEN_CHAT_TEMPLATE.replace(
                        "{%- if part['type'] == 'image' -%}{{- '<|vision_start|><|image_pad|><|vision_end|>' -}}",
                        "{%- if part['type'] == 'audio' -%}{{- 'Audio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\n' -}}")}


def _small_text_config(tok, **extra):
    """Hidden 32, 2 layers: the families' language models."""
    return dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, bos_token_id=None, **extra)


def _clip_vision(image_size: int = 28, **extra):
    from transformers import CLIPVisionConfig

    return CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                            image_size=image_size, patch_size=14, projection_dim=32, **extra)


def tiny_blip2(seed: int = 0):
    """Blip2ForConditionalGeneration: 2-layer vision tower (28 px, patch 14), 1-layer Q-Former with 4 query
    tokens, a 2-layer OPT language model; BLIP's PIL image processor."""
    from transformers import Blip2Config, Blip2ForConditionalGeneration, BlipImageProcessorPil, OPTConfig

    tok = tiny_family_tokenizer("plain")
    _seeded(seed)
    text = OPTConfig(vocab_size=len(tok), hidden_size=32, ffn_dim=64, num_hidden_layers=2, num_attention_heads=4,
                     word_embed_proj_dim=32, max_position_embeddings=512, pad_token_id=tok.pad_token_id,
                     eos_token_id=tok.eos_token_id, bos_token_id=tok.eos_token_id, tie_word_embeddings=True)
    config = Blip2Config(
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=28, patch_size=14),
        qformer_config=dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                            encoder_hidden_size=32, vocab_size=len(tok)),
        text_config=text.to_dict(), num_query_tokens=4, image_token_index=tok.convert_tokens_to_ids("<image>"))
    model = Blip2ForConditionalGeneration(config).eval()
    processor = BlipImageProcessorPil(size={"height": 28, "width": 28})
    return model, tok, processor


def tiny_internvl(seed: int = 0):
    """InternVLForConditionalGeneration: 2-layer InternViT (56 px, patch 14, pixel-shuffle 0.5 -> 4 tokens per
    tile) + Qwen2; GOT-OCR2's PIL image processor (one tile per image)."""
    from transformers import GotOcr2ImageProcessorPil, InternVLConfig, InternVLForConditionalGeneration

    tok = tiny_family_tokenizer("internvl")
    _seeded(seed)
    config = InternVLConfig(
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=[56, 56], patch_size=[14, 14]),
        text_config=dict(model_type="qwen2", **_small_text_config(tok)),
        image_token_id=tok.convert_tokens_to_ids("<IMG_CONTEXT>"), image_seq_length=4, downsample_ratio=0.5,
        tie_word_embeddings=True)
    model = InternVLForConditionalGeneration(config).eval()
    processor = GotOcr2ImageProcessorPil(size={"height": 56, "width": 56}, crop_to_patches=False)
    return model, tok, processor


def tiny_llava_onevision(seed: int = 0):
    """LlavaOnevisionForConditionalGeneration: SigLIP tower (28 px, patch 14 -> 2x2 grid), any-resolution tiling
    over pinpoints 28..56, Qwen2 language model; its PIL image processor."""
    from transformers import (
        LlavaOnevisionConfig,
        LlavaOnevisionForConditionalGeneration,
        LlavaOnevisionImageProcessorPil,
        Qwen2Config,
        SiglipVisionConfig,
    )

    tok = tiny_family_tokenizer("onevision")
    _seeded(seed)
    pinpoints = [[28, 28], [28, 56], [56, 28], [56, 56]]
    vision = SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                                image_size=28, patch_size=14)
    config = LlavaOnevisionConfig(
        vision_config=vision, text_config=Qwen2Config(**_small_text_config(tok)),
        image_token_index=tok.convert_tokens_to_ids("<image>"), video_token_index=tok.convert_tokens_to_ids("<video>"),
        vision_feature_select_strategy="full", vision_feature_layer=-1, image_grid_pinpoints=pinpoints,
        vision_aspect_ratio="anyres_max_9", tie_word_embeddings=True)
    model = LlavaOnevisionForConditionalGeneration(config).eval()
    processor = LlavaOnevisionImageProcessorPil(size={"height": 28, "width": 28}, image_grid_pinpoints=pinpoints,
                                                crop_size={"height": 28, "width": 28})
    return model, tok, processor


def tiny_llava_next_video(seed: int = 0):
    """LlavaNextVideoForConditionalGeneration: CLIP tower (56 px, patch 14 -> 4x4 grid, pooled 2x2 per frame),
    any-resolution images over pinpoints 56..112, Qwen2 language model; LLaVA-NeXT's PIL image processor."""
    from transformers import (
        LlavaNextImageProcessorPil,
        LlavaNextVideoConfig,
        LlavaNextVideoForConditionalGeneration,
        Qwen2Config,
    )

    tok = tiny_family_tokenizer("llava")
    _seeded(seed)
    pinpoints = [[56, 56], [56, 112], [112, 56]]
    config = LlavaNextVideoConfig(
        vision_config=_clip_vision(56), text_config=Qwen2Config(**_small_text_config(tok)),
        image_token_index=tok.convert_tokens_to_ids("<image>"), video_token_index=tok.convert_tokens_to_ids("<video>"),
        vision_feature_select_strategy="default", vision_feature_layer=-1, image_grid_pinpoints=pinpoints,
        spatial_pool_stride=2, tie_word_embeddings=True)
    model = LlavaNextVideoForConditionalGeneration(config).eval()
    processor = LlavaNextImageProcessorPil(size={"shortest_edge": 56}, image_grid_pinpoints=pinpoints,
                                           crop_size={"height": 56, "width": 56})
    return model, tok, processor


def tiny_qwen2_audio(seed: int = 0):
    """Qwen2AudioForConditionalGeneration: 2-layer Whisper-style encoder (16 mel bins, 1 s windows: 100 frames,
    ``max_source_positions`` 50) + Qwen2; a WhisperFeatureExtractor built locally (16 kHz, hop 160)."""
    from transformers import Qwen2AudioConfig, Qwen2AudioForConditionalGeneration, WhisperFeatureExtractor

    tok = tiny_family_tokenizer("audio")
    _seeded(seed)
    config = Qwen2AudioConfig(
        audio_config=dict(num_mel_bins=16, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=64,
                          d_model=32, max_source_positions=50),
        text_config=dict(model_type="qwen2", **_small_text_config(tok)),
        audio_token_index=tok.convert_tokens_to_ids("<|AUDIO|>"), tie_word_embeddings=True)
    model = Qwen2AudioForConditionalGeneration(config).eval()
    extractor = WhisperFeatureExtractor(feature_size=16, sampling_rate=16000, hop_length=160, chunk_length=1,
                                        n_fft=400, return_attention_mask=True)
    return model, tok, extractor


def write_wav(path: Path, seconds: float = 0.5, rate: int = 8000, freq: float = 440.0, seed: int = 0) -> Path:
    """A 16-bit mono WAV: a sine at ``freq`` plus a little noise (``rate`` differs from 16 kHz on purpose)."""
    import wave

    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    wav = 0.5 * np.sin(2 * np.pi * freq * t) + 0.05 * rng.standard_normal(t.size)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes((np.clip(wav, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def tiny_clip(seed: int = 0):
    """CLIPModel: 2-layer text and vision towers (hidden 32, 28 px, patch 14), a local BPE tokenizer."""
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel

    tok = tiny_family_tokenizer("qwen")
    _seeded(seed)
    config = CLIPConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=64, projection_dim=32,
                         pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, bos_token_id=0),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=28, patch_size=14, projection_dim=32),
        projection_dim=32)
    model = CLIPModel(config).eval()
    processor = CLIPImageProcessorPil(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28})
    return model, tok, processor


def write_frames(folder: Path, n: int = 4, seed: int = 0, size: tuple[int, int] = (28, 28)) -> Path:
    """A folder of ``n`` PNG frames (a video as the issue's frame folders)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        tiny_image(seed * 100 + i, size).save(folder / f"frame_{i:03d}.png")
    return folder


def hf_cli_app():
    """A typer app with the hf commands (``train``, ...) registered, plus a second command that keeps typer in
    multi-command mode (so ``invoke(app, ["train", ...])`` works as on the real CLI)."""
    import typer

    from interlens.cli.hf import register

    app = typer.Typer()
    register(app)

    @app.command("version")
    def _version() -> None:
        pass

    return app
