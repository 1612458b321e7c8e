"""Model families beyond Qwen2-VL / LLaVA-1.5 (issue 17): detection from a folder's ``config.json`` and the
prompt encoders that expand each family's media placeholders exactly as its own processor does.

* ``blip2``           BLIP-2 (``Blip2ForConditionalGeneration``, MMoE's strongest expert): each image becomes
  ``num_query_tokens`` ``<image>`` tokens filled by the Q-Former; labels are scored through the OPT/T5 head.
* ``internvl``        InternVL2.5 / 3 (``InternVLForConditionalGeneration``, MME-JD): each image is
  ``<img>`` + ``image_seq_length`` x ``<IMG_CONTEXT>`` per tile + ``</img>``; a video is its frames as tiles.
* ``llava-onevision`` LLaVA-OneVision (MMLA): any-resolution tiling, one ``<image>`` token per feature
  (base grid + unpadded tiles + row newlines, the processor's arithmetic); videos natively
  (``<video>``, pooled frames, ``pixel_values_videos``).
* ``llava-next-video`` LLaVA-NeXT-Video (MMLA): LLaVA-NeXT any-resolution images (base grid + unpadded tiles +
  row newlines) and native videos (``<video>``: each frame's grid pooled by ``spatial_pool_stride``).
* ``qwen2-audio``     Qwen2-Audio (``Qwen2AudioForConditionalGeneration``): each audio clip is
  ``<|audio_bos|>`` + one ``<|AUDIO|>`` per encoder frame + ``<|audio_eos|>``; log-mel features from the
  folder's WhisperFeatureExtractor (``input_features``, ``feature_attention_mask``).
* ``qwen2-vl`` video  Qwen2-VL / Qwen2.5-VL video kind: frames patchified in temporal pairs
  (``<|video_pad|>``, ``pixel_values_videos``, ``video_grid_thw``, M-RoPE with the video grid).

A folder of another architecture -- notably remote-code models (CogVLM2, MiniCPM-V, VideoLLaMA2), which
interlens never executes -- is refused with one line naming what it found.

Video frames are sampled by :func:`interlens.scoring.hf.media.load_frames` (uniform, a fixed count
``max_frames``, recorded in the scorer's fingerprint), identical for training and inference.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...errors import DataError
from ...registry import Registry
from .encoding import (  # noqa: F401 - FAMILIES and qwen_video_patches re-exported (their home until issue 29)
    FAMILIES,
    Batch,
    EncodedPrompt,
    LlavaEncoder,
    Qwen2VLEncoder,
    Tensors,
    TextEncoder,
    _VisionEncoder,
    model_family,
    qwen_video_patches,
    unwrap_model,
)

#: families a vision-LM scorer reads
VLM_FAMILIES = ("qwen2-vl", "llava", "blip2", "internvl", "llava-onevision", "llava-next-video", "qwen2-audio")
#: known unsupported architectures and why (the one line a user sees)
UNSUPPORTED: dict[str, str] = {
    "cogvlm2": "CogVLM2 needs trust_remote_code (interlens never runs remote code)",
    "cogvlm": "CogVLM needs trust_remote_code (interlens never runs remote code)",
    "minicpmv": "MiniCPM-V needs trust_remote_code (interlens never runs remote code)",
    "videollama2_qwen2": "VideoLLaMA2 needs trust_remote_code (interlens never runs remote code)",
    "videollama2_mistral": "VideoLLaMA2 needs trust_remote_code (interlens never runs remote code)",
    "albef": "ALBEF has no transformers class",
}


def read_config(path: str | os.PathLike) -> dict[str, Any]:
    """The folder's ``config.json`` as a dict (a DataError naming the file when absent or broken)."""
    file = Path(path).expanduser() / "config.json"
    if not file.is_file():
        raise DataError("not a model folder: expected a directory with config.json (from save_pretrained)",
                        file=str(Path(path)))
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read config.json: {err}", file=str(file)) from None


def family_of_config(config: Mapping[str, Any] | Any, *, where: str | None = None) -> str:
    """The interlens family of a config (dict or ``PretrainedConfig``); one clear line when unsupported."""
    if not isinstance(config, Mapping):
        config = {"model_type": getattr(config, "model_type", ""),
                  "architectures": getattr(config, "architectures", None) or [],
                  "auto_map": getattr(config, "auto_map", None)}
    model_type = str(config.get("model_type", "") or "")
    arch = ", ".join(config.get("architectures") or []) or "?"
    if model_type in FAMILIES:
        return FAMILIES[model_type]
    if model_type in UNSUPPORTED:
        reason = UNSUPPORTED[model_type]
    elif config.get("auto_map"):
        reason = "it is a remote-code model (auto_map in config.json; interlens never runs remote code)"
    else:
        reason = "no interlens family reads it"
    raise DataError(f"unsupported architecture {arch} (model_type {model_type!r}): {reason}; supported families: "
                    f"{', '.join(sorted(set(FAMILIES.values())))}", file=where)


def detect_family(path: str | os.PathLike) -> str:
    """The family of a local model folder, from its config's ``model_type`` / ``architectures``."""
    return family_of_config(read_config(path), where=str(path))


def _cat(prompts: Sequence[EncodedPrompt], key: str) -> torch.Tensor | None:
    parts = [p.extra[key] for p in prompts if key in p.extra]
    return torch.cat(parts) if parts else None


class Blip2Encoder(_VisionEncoder):
    """BLIP-2: ``num_query_tokens`` ``<image>`` tokens per image (Blip2Processor's expansion). The model
    always runs its vision tower, so a batch without images (and the label continuation) gets one
    blank image whose query outputs fill no token."""

    family = "blip2"
    image_token = "<image>"
    image_placeholder = "<image>"

    def __init__(self, tokenizer: Any, image_processor: Any, model: Any) -> None:
        config = unwrap_model(model).config
        if not config.use_decoder_only_language_model:
            raise DataError("BLIP-2 with an encoder-decoder (T5) language model is not supported for label scoring "
                            "yet; use an OPT-based BLIP-2")
        self.image_token = tokenizer.convert_ids_to_tokens(int(config.image_token_index))
        super().__init__(tokenizer, image_processor, model)
        self.n_query = int(config.num_query_tokens)
        size = int(config.vision_config.image_size)
        self.blank = torch.zeros((1, 3, size, size))

    def _expand(self, ids: list[int], images: list[Any]) -> EncodedPrompt:
        pixels = self.image_processor(images=images, return_tensors="pt")["pixel_values"]
        return EncodedPrompt(self._expand_tokens(ids, [self.n_query] * len(images)), pixels)

    def _extra(self, prompts: Sequence[EncodedPrompt], ids: torch.Tensor, mask: torch.Tensor) -> Tensors:
        with_images = [p.pixel_values for p in prompts if p.pixel_values is not None]
        return {"pixel_values": torch.cat(with_images) if with_images else self.blank}

    def collate(self, prompts: Sequence[EncodedPrompt], continuations: Sequence[Sequence[int]] | None = None) -> Batch:
        batch = super().collate(prompts, continuations)
        batch.continuation = {"pixel_values": self.blank}
        return batch


class InternVLEncoder(_VisionEncoder):
    """InternVL: the text holds one ``<IMG_CONTEXT>`` per image, expanded to ``<img>`` + ``image_seq_length`` x
    ``<IMG_CONTEXT>`` per tile + ``</img>`` (InternVLProcessor.replace_image_token)."""

    family = "internvl"
    image_token = "<IMG_CONTEXT>"
    image_placeholder = "<IMG_CONTEXT>\n"

    def __init__(self, tokenizer: Any, image_processor: Any, model: Any) -> None:
        config = unwrap_model(model).config
        self.image_token = tokenizer.convert_ids_to_tokens(int(config.image_token_id))
        super().__init__(tokenizer, image_processor, model)
        self.seq = int(config.image_seq_length)
        self.start_id = int(tokenizer.convert_tokens_to_ids("<img>"))
        self.end_id = int(tokenizer.convert_tokens_to_ids("</img>"))
        unk = getattr(tokenizer, "unk_token_id", None)
        if unk is not None and unk in (self.start_id, self.end_id):
            raise DataError("the InternVL tokenizer lacks the <img> / </img> tokens")

    def _expand(self, ids: list[int], images: list[Any]) -> EncodedPrompt:
        out = self.image_processor(images=images, return_tensors="pt")
        tiles = [int(n) for n in out["num_patches"]] if "num_patches" in out else [1] * len(images)
        expanded, n = [], 0
        for t in ids:
            if t == self.image_token_id:
                expanded += [self.start_id] + [t] * (self.seq * tiles[n]) + [self.end_id]
                n += 1
            else:
                expanded.append(t)
        return EncodedPrompt(expanded, out["pixel_values"])

    def _extra(self, prompts: Sequence[EncodedPrompt], ids: torch.Tensor, mask: torch.Tensor) -> Tensors:
        with_images = [p.pixel_values for p in prompts if p.pixel_values is not None]
        return {"pixel_values": torch.cat(with_images)} if with_images else {}


class LlavaOnevisionEncoder(_VisionEncoder):
    """LLaVA-OneVision: any-resolution images (token count by LlavaOnevisionProcessor's arithmetic: base grid +
    unpadded tiles + one newline per row, capped by ``anyres_max_N``; several images in one prompt use the
    base grid + 1 each) and native videos (``<video>``: frames at the base size, 2x2-pooled, + 1 newline)."""

    family = "llava-onevision"
    image_token = "<image>"
    image_placeholder = "<image>\n"
    video_token = "<video>"

    def __init__(self, tokenizer: Any, image_processor: Any, model: Any) -> None:
        from transformers import LlavaOnevisionProcessor

        config = unwrap_model(model).config
        self.image_token = tokenizer.convert_ids_to_tokens(int(config.image_token_index))
        super().__init__(tokenizer, image_processor, model)
        self.video_token = tokenizer.convert_ids_to_tokens(int(config.video_token_index))
        self.video_token_id = int(config.video_token_index)
        vision = config.vision_config
        grid = int(vision.image_size) // int(vision.patch_size)
        # the processor's own token arithmetic, without its video processor (which needs torchvision)
        counter = LlavaOnevisionProcessor.__new__(LlavaOnevisionProcessor)
        counter.image_processor = image_processor
        counter.num_image_tokens = grid * grid
        counter.vision_feature_select_strategy = config.vision_feature_select_strategy
        counter.vision_aspect_ratio = config.vision_aspect_ratio
        self.counter = counter
        self.base_tokens = grid * grid
        self.drop = 1 if config.vision_feature_select_strategy == "default" else 0

    def _image_tokens(self, sizes: torch.Tensor, patch: torch.Tensor, several: bool) -> list[int]:
        height, width = patch.shape[-2:]
        if several:
            return [self.base_tokens + 1 - self.drop] * len(sizes)
        return [self.counter._get_number_of_features(int(h), int(w), height, width) - self.drop for h, w in sizes]

    def _expand(self, ids: list[int], images: list[Any]) -> EncodedPrompt:
        out = self.image_processor(images=images, return_tensors="pt")
        counts = self._image_tokens(out["image_sizes"], out["pixel_values"][0][0], len(images) > 1)
        return EncodedPrompt(self._expand_tokens(ids, counts), out["pixel_values"],
                             extra={"image_sizes": out["image_sizes"], "batch_num_images": torch.tensor([len(images)])})

    def encode_video(self, frames: list[Any]) -> tuple[int, dict[str, torch.Tensor]]:
        """(token count, tensors) of one video: each frame resized to the base size (the first anyres patch)."""
        pixels = torch.stack([self.image_processor(images=[f], return_tensors="pt")["pixel_values"][0][0]
                              for f in frames])
        pooled = math.ceil(math.sqrt(self.base_tokens) / 2)
        return len(frames) * pooled * pooled + 1, {"pixel_values_videos": pixels[None]}

    def _extra(self, prompts: Sequence[EncodedPrompt], ids: torch.Tensor, mask: torch.Tensor) -> Tensors:
        extra: Tensors = {}
        pixels = [p.pixel_values for p in prompts if p.pixel_values is not None]
        if pixels:
            most = max(x.shape[1] for x in pixels)
            extra["pixel_values"] = torch.cat([torch.nn.functional.pad(x, (0, 0, 0, 0, 0, 0, 0, most - x.shape[1]))
                                               for x in pixels])
            extra["image_sizes"] = _cat(prompts, "image_sizes")
            extra["batch_num_images"] = torch.cat([p.extra.get("batch_num_images", torch.tensor([0]))
                                                   for p in prompts])
        videos = _cat(prompts, "pixel_values_videos")
        if videos is not None:
            extra["pixel_values_videos"] = videos
        return extra


class LlavaNextVideoEncoder(LlavaOnevisionEncoder):
    """LLaVA-NeXT-Video: images by LlavaNextVideoProcessor's arithmetic (base grid + unpadded tiles + one newline
    per row, every image of a prompt tiled; the CLS feature dropped by the "default" strategy) and native videos
    (``<video>``: each frame at the base size, its grid pooled by ``spatial_pool_stride``, no newline)."""

    family = "llava-next-video"

    def __init__(self, tokenizer: Any, image_processor: Any, model: Any) -> None:
        from transformers import LlavaNextVideoProcessor

        config = unwrap_model(model).config
        if config.vision_feature_select_strategy != "default":
            raise DataError("LLaVA-NeXT-Video is read with vision_feature_select_strategy='default' only (as its "
                            f"released checkpoints); this config has {config.vision_feature_select_strategy!r}")
        self.image_token = tokenizer.convert_ids_to_tokens(int(config.image_token_index))
        _VisionEncoder.__init__(self, tokenizer, image_processor, model)
        self.video_token = tokenizer.convert_ids_to_tokens(int(config.video_token_index))
        self.video_token_id = int(config.video_token_index)
        vision = config.vision_config
        self.patch_size = int(vision.patch_size)
        grid = int(vision.image_size) // self.patch_size
        # the processor's own token arithmetic, without its video processor (which needs torchvision)
        counter = LlavaNextVideoProcessor.__new__(LlavaNextVideoProcessor)
        counter.image_processor = image_processor
        counter.patch_size = self.patch_size
        counter.num_additional_image_tokens = 0  # "default" drops the CLS feature
        counter.vision_feature_select_strategy = "default"
        self.counter = counter
        self.base_tokens = grid * grid
        self.drop = 0
        self.pooled = grid // int(config.spatial_pool_stride)

    def _image_tokens(self, sizes: torch.Tensor, patch: torch.Tensor, several: bool) -> list[int]:
        height, width = patch.shape[-2:]
        return [self.counter._get_number_of_features(int(h), int(w), height, width) for h, w in sizes]

    def _expand(self, ids: list[int], images: list[Any]) -> EncodedPrompt:
        out = self.image_processor(images=images, return_tensors="pt")
        counts = self._image_tokens(out["image_sizes"], out["pixel_values"][0][0], len(images) > 1)
        return EncodedPrompt(self._expand_tokens(ids, counts), out["pixel_values"],
                             extra={"image_sizes": out["image_sizes"]})

    def encode_video(self, frames: list[Any]) -> tuple[int, dict[str, torch.Tensor]]:
        """(token count, tensors) of one video: each frame at the base size, ``(grid // stride)**2`` tokens."""
        pixels = torch.stack([self.image_processor(images=[f], return_tensors="pt")["pixel_values"][0][0]
                              for f in frames])
        return len(frames) * self.pooled * self.pooled, {"pixel_values_videos": pixels[None]}

    def _extra(self, prompts: Sequence[EncodedPrompt], ids: torch.Tensor, mask: torch.Tensor) -> Tensors:
        extra = super()._extra(prompts, ids, mask)
        extra.pop("batch_num_images", None)
        return extra


class Qwen2AudioEncoder(TextEncoder):
    """Qwen2-Audio: the text holds ``<|audio_bos|><|AUDIO|><|audio_eos|>`` per clip; ``<|AUDIO|>`` is expanded to
    the encoder's frame count of the clip, ``((L - 1) // 2 + 1 - 2) // 2 + 1`` for ``L`` unpadded mel frames
    (Qwen2AudioProcessor's arithmetic). The waveform (already at the extractor's rate) is padded / cut to the
    extractor's window (``chunk_length`` seconds), as the model's encoder requires."""

    family = "qwen2-audio"
    audio_placeholder = "<|audio_bos|><|AUDIO|><|audio_eos|>"

    def __init__(self, tokenizer: Any, feature_extractor: Any, model: Any) -> None:
        super().__init__(tokenizer, model)
        if feature_extractor is None or not hasattr(feature_extractor, "sampling_rate"):
            raise DataError("the qwen2-audio scorer needs an audio feature extractor (WhisperFeatureExtractor saved "
                            "beside the model as preprocessor_config.json)")
        self.feature_extractor = feature_extractor
        self.sampling_rate = int(feature_extractor.sampling_rate)
        self.audio_token_id = int(unwrap_model(model).config.audio_token_index)

    def encode(self, text: str, images: Sequence[Any] = (), *, audios: Sequence[np.ndarray] = (),
               record: str | None = None) -> EncodedPrompt:
        if images:
            raise DataError(f"Qwen2-Audio reads no images ({len(images)} given); use a view of text and audio",
                            record=record, field="view")
        ids = self._tokenize(text)
        found = ids.count(self.audio_token_id)
        if found != len(audios):
            raise DataError(f"the prompt holds {found} audio placeholder(s) but {len(audios)} clip(s) were given",
                            record=record)
        if not audios:
            return EncodedPrompt(ids)
        out = self.feature_extractor(list(audios), sampling_rate=self.sampling_rate, return_attention_mask=True,
                                     padding="max_length", return_tensors="pt")
        frames = out["attention_mask"].sum(-1)
        counts = [int(((n - 1) // 2 + 1 - 2) // 2 + 1) for n in frames.tolist()]
        if min(counts) < 2:
            raise DataError(f"audio clip too short ({int(frames.min())} mel frames); it needs at least 7",
                            record=record)
        expanded, n = [], 0
        for t in ids:
            if t == self.audio_token_id:
                expanded += [t] * counts[n]
                n += 1
            else:
                expanded.append(t)
        return EncodedPrompt(expanded, extra={"input_features": out["input_features"],
                                              "feature_attention_mask": out["attention_mask"]})

    def _extra(self, prompts: Sequence[EncodedPrompt], ids: torch.Tensor, mask: torch.Tensor) -> Tensors:
        features = _cat(prompts, "input_features")
        if features is None:
            return {}
        return {"input_features": features, "feature_attention_mask": _cat(prompts, "feature_attention_mask")}


#: interlens family -> the prompt encoder of a vision LM of that family (:func:`make_encoder`); a
#: :class:`interlens.registry.Registry`, so a new family is one ``ENCODERS.add(name, EncoderClass)``
ENCODERS: Registry[type[TextEncoder]] = Registry("vision family", entries={
    "qwen2-vl": Qwen2VLEncoder, "llava": LlavaEncoder, "blip2": Blip2Encoder, "internvl": InternVLEncoder,
    "llava-onevision": LlavaOnevisionEncoder, "llava-next-video": LlavaNextVideoEncoder,
    "qwen2-audio": Qwen2AudioEncoder})


def make_encoder(model: Any, tokenizer: Any, image_processor: Any = None, *, vision: bool = False) -> TextEncoder:
    """The encoder for ``model``'s family (``vision=False`` forces text-only input). Lives here, above every
    encoder it picks from (was in :mod:`.encoding` until issue 29)."""
    family = model_family(model)
    if not vision:
        return TextEncoder(tokenizer, model)
    if family in ENCODERS:
        return ENCODERS[family](tokenizer, image_processor, model)
    family_of_config(unwrap_model(model).config)  # one line naming what is unsupported
    raise DataError(f"the {family} family is not a vision LM for hf-vlm (use its own scorer)")
