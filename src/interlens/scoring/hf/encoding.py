"""Prompt strings + images -> left-padded model inputs with explicit position ids, per model family.

Left padding and explicit positions make every row's computation independent of its batch mates
(field notes: right padding breaks batched last-token logits). Families:

* ``text``     any causal LM (Qwen2, Llama, ...): 1-D positions ``cumsum(mask) - 1``.
* ``qwen2-vl`` Qwen2-VL / Qwen2.5-VL: PIL image processor, each ``<|image_pad|>`` expanded to
  ``grid_thw.prod() // merge**2`` tokens, ``mm_token_type_ids``, 3-D M-RoPE positions from the model's
  own ``get_rope_index`` (ecosystem notes, section 3).
* ``llava``    LLaVA-1.5 style: each ``<image>`` expanded to one token per vision patch.
* BLIP-2, InternVL, LLaVA-OneVision, LLaVA-NeXT-Video: :mod:`interlens.scoring.hf.families`.

A video-kind modality reaches a family with native video input (Qwen2-VL, LLaVA-OneVision, LLaVA-NeXT-Video) as one
video (its frames tagged by :func:`~interlens.scoring.hf.media.media_images`); other families see its frames as
a sequence of images.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ...errors import DataError
from ...registry import Registry

Tensors = dict[str, torch.Tensor]

#: config ``model_type`` -> interlens family (the encoder that feeds it; :func:`~.families.make_encoder` picks it
#: from :data:`~.families.ENCODERS`); an :class:`interlens.registry.Registry`
FAMILIES: Registry[str] = Registry("model type", entries={
    "qwen2_vl": "qwen2-vl", "qwen2_5_vl": "qwen2-vl", "llava": "llava", "blip-2": "blip2", "internvl": "internvl",
    "llava_onevision": "llava-onevision", "llava_next_video": "llava-next-video", "qwen2_audio": "qwen2-audio",
    "clip": "clip",
})


@dataclass
class EncodedPrompt:
    """One tokenised prompt with its image tensors (if any)."""

    ids: list[int]
    pixel_values: torch.Tensor | None = None
    image_grid_thw: torch.Tensor | None = None
    extra: dict[str, torch.Tensor] = field(default_factory=dict)  # family tensors (image sizes, videos, ...)


@dataclass
class Batch:
    """Left-padded model inputs; ``next_position[b]`` is the position id of the token after row b."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    position_ids: torch.Tensor
    next_position: torch.Tensor
    extra: dict[str, torch.Tensor] = field(default_factory=dict)
    #: tensors the label continuation (a text-only forward on the prompt's cache) also needs (BLIP-2)
    continuation: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def mrope(self) -> bool:
        return self.position_ids.ndim == 3

    def model_kwargs(self, *, positions: bool = True) -> dict[str, Any]:
        kw: dict[str, Any] = {"input_ids": self.input_ids, "attention_mask": self.attention_mask, **self.extra}
        if positions:
            kw["position_ids"] = self.position_ids
        return kw

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> Batch:
        def move(items: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
            return {k: (v.to(device, dtype) if k.startswith("pixel_values") and dtype is not None else v.to(device))
                    for k, v in items.items()}

        return Batch(self.input_ids.to(device), self.attention_mask.to(device), self.position_ids.to(device),
                     self.next_position.to(device), move(self.extra), move(self.continuation))


def unwrap_model(model: Any) -> Any:
    """The transformers model under a PEFT wrapper (or the model itself)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def model_family(model: Any) -> str:
    """``qwen2-vl``, ``llava``, ``blip2``, ``internvl``, ``llava-onevision``, ``llava-next-video``, ``qwen2-audio`` (see
    :data:`FAMILIES`) or ``text`` from the model config."""
    return FAMILIES.get(getattr(unwrap_model(model).config, "model_type", ""), "text")


class TextEncoder:
    """Tokenise prompt strings for a text-only causal LM."""

    family = "text"
    image_placeholder = ""

    def __init__(self, tokenizer: Any, model: Any = None) -> None:
        self.tokenizer = tokenizer
        self.model = model
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        if pad is None:
            raise DataError("the tokenizer has neither a pad nor an eos token; set tokenizer.pad_token")
        self.pad_id = int(pad)

    def encode(self, text: str, images: Sequence[Any] = (), *, record: str | None = None) -> EncodedPrompt:
        if images:
            raise DataError(f"a text-only model cannot take {len(images)} image(s); use the hf-vlm scorer or a "
                            "view without media", record=record, field="view")
        return EncodedPrompt(self._tokenize(text))

    def _tokenize(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def collate(self, prompts: Sequence[EncodedPrompt], continuations: Sequence[Sequence[int]] | None = None) -> Batch:
        """Left-pad ``prompt.ids + continuation`` rows; positions count real tokens only."""
        rows = [list(p.ids) + list(continuations[i] if continuations else ()) for i, p in enumerate(prompts)]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, width - len(row):] = torch.tensor(row, dtype=torch.long)
            mask[i, width - len(row):] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0) * mask
        extra = self._extra(prompts, ids, mask)
        if "image_grid_thw" in extra or "video_grid_thw" in extra:
            positions = self._mrope_positions(ids, mask, extra)
            return Batch(ids, mask, positions, positions.amax(dim=(0, 2)) + 1, extra)
        return Batch(ids, mask, positions, mask.sum(-1), extra)

    def _extra(self, prompts: Sequence[EncodedPrompt], ids: torch.Tensor, mask: torch.Tensor) -> Tensors:
        return {}

    def _mrope_positions(self, ids: torch.Tensor, mask: torch.Tensor, extra: Tensors) -> torch.Tensor:
        raise NotImplementedError


def _video_runs(images: Sequence[Any]) -> list[tuple[Any, list[Any]]]:
    """Consecutive runs of images: (video tag, frames) for a video's frames, (None, [image]) otherwise."""
    runs: list[tuple[Any, list[Any]]] = []
    for image in images:
        tag = getattr(image, "info", {}).get("interlens_video")
        if tag is not None and runs and runs[-1][0] == tag:
            runs[-1][1].append(image)
        else:
            runs.append((tag, [image]))
    return runs


class _VisionEncoder(TextEncoder):
    image_token = ""
    #: set by families that take a video natively (one video placeholder + video tensors)
    video_token_id: int | None = None
    #: the scorer's ``video_input="native"`` turns it on; ``num_frames``: the fixed frame count of a video
    native_video: bool = False
    num_frames: int | None = None

    def __init__(self, tokenizer: Any, image_processor: Any, model: Any) -> None:
        super().__init__(tokenizer, model)
        if image_processor is None:
            raise DataError(f"the {self.family} scorer needs an image processor (none given or found beside the model)")
        self.image_processor = image_processor
        self.image_token_id = int(tokenizer.convert_tokens_to_ids(self.image_token))

    def encode(self, text: str, images: Sequence[Any] = (), *, record: str | None = None) -> EncodedPrompt:
        ids = self._tokenize(text)
        found = sum(1 for t in ids if t == self.image_token_id)
        if found != len(images):
            raise DataError(f"the prompt holds {found} image placeholder(s) {self.image_token!r} but {len(images)} "
                            "image(s) were given (does the text itself contain the placeholder?)", record=record)
        if not images:
            return EncodedPrompt(ids)
        runs = _video_runs(images)
        if self.video_token_id is None or not self.native_video or all(tag is None for tag, _ in runs):
            return self._expand(ids, list(images))
        return self._encode_with_videos(ids, runs)

    def _encode_with_videos(self, ids: list[int], runs: list[tuple[Any, list[Any]]]) -> EncodedPrompt:
        """Collapse each video's frame placeholders into one video token (dropping the wrapper tokens between
        them), expand the images as usual, then each video token into the family's video token count."""
        where = [i for i, t in enumerate(ids) if t == self.image_token_id]
        out, k, start = [], 0, 0
        for tag, frames in runs:
            first, last = where[k], where[k + len(frames) - 1]
            out += ids[start:first] + [self.video_token_id if tag is not None else self.image_token_id]
            start, k = last + 1, k + len(frames)
        out += ids[start:]
        images = [frames[0] for tag, frames in runs if tag is None]
        encoded = self._expand(out, images) if images else EncodedPrompt(out)
        videos = [self.encode_video(self._fixed(frames)) for tag, frames in runs if tag is not None]
        final, n = [], 0
        for t in encoded.ids:
            if t == self.video_token_id:
                final += [t] * videos[n][0]
                n += 1
            else:
                final.append(t)
        extra = dict(encoded.extra)
        for key in videos[0][1]:
            extra[key] = torch.cat([tensors[key] for _, tensors in videos])
        return EncodedPrompt(final, encoded.pixel_values, encoded.image_grid_thw, extra)

    def _fixed(self, frames: list[Any]) -> list[Any]:
        """Exactly ``num_frames`` frames, sampled uniformly (repeating frames of a shorter video), so every
        video -- in training and at inference -- has the same recorded count."""
        if not self.num_frames or len(frames) == self.num_frames:
            return list(frames)
        picks = torch.linspace(0, len(frames) - 1, self.num_frames).round().long().tolist()
        return [frames[i] for i in picks]

    def encode_video(self, frames: list[Any]) -> tuple[int, dict[str, torch.Tensor]]:
        """(number of video tokens, tensors) of one video's frames (native-video families)."""
        raise NotImplementedError

    def _expand(self, ids: list[int], images: list[Any]) -> EncodedPrompt:
        raise NotImplementedError

    def _expand_tokens(self, ids: list[int], counts: list[int]) -> list[int]:
        out, n = [], 0
        for t in ids:
            if t == self.image_token_id:
                out.extend([t] * counts[n])
                n += 1
            else:
                out.append(t)
        return out


class Qwen2VLEncoder(_VisionEncoder):
    """Qwen2-VL without ``Qwen2VLProcessor`` (which needs torchvision): ecosystem notes, section 3."""

    family = "qwen2-vl"
    image_token = "<|image_pad|>"
    image_placeholder = "<|vision_start|><|image_pad|><|vision_end|>"

    def _expand(self, ids: list[int], images: list[Any]) -> EncodedPrompt:
        out = self.image_processor(images=images, return_tensors="pt")
        grid = out["image_grid_thw"]
        merge = int(getattr(self.image_processor, "merge_size", 2))
        counts = [int(g.prod()) // merge ** 2 for g in grid]
        return EncodedPrompt(self._expand_tokens(ids, counts), out["pixel_values"], grid)

    def __init__(self, tokenizer: Any, image_processor: Any, model: Any) -> None:
        super().__init__(tokenizer, image_processor, model)
        video = getattr(unwrap_model(model).config, "video_token_id", None)
        self.video_token_id = int(video) if video is not None else None

    def encode_video(self, frames: list[Any]) -> tuple[int, dict[str, torch.Tensor]]:
        """Frames in temporal pairs (:func:`qwen_video_patches`)."""
        pixels, grid = qwen_video_patches(self.image_processor, frames)
        merge = int(getattr(self.image_processor, "merge_size", 2))
        return int(grid.prod()) // merge ** 2, {"pixel_values_videos": pixels, "video_grid_thw": grid}

    def _extra(self, prompts: Sequence[EncodedPrompt], ids: torch.Tensor, mask: torch.Tensor) -> Tensors:
        with_images = [p for p in prompts if p.pixel_values is not None]
        with_videos = [p for p in prompts if "pixel_values_videos" in p.extra]
        if not with_images and not with_videos:
            return {}
        extra: Tensors = {}
        if with_images:
            extra["pixel_values"] = torch.cat([p.pixel_values for p in with_images])
            extra["image_grid_thw"] = torch.cat([p.image_grid_thw for p in with_images])
        if with_videos:
            extra["pixel_values_videos"] = torch.cat([p.extra["pixel_values_videos"] for p in with_videos])
            extra["video_grid_thw"] = torch.cat([p.extra["video_grid_thw"] for p in with_videos])
        types = (ids == self.image_token_id).int()
        if self.video_token_id is not None:
            types = types + 2 * (ids == self.video_token_id).int()
        extra["mm_token_type_ids"] = types
        return extra

    def _mrope_positions(self, ids: torch.Tensor, mask: torch.Tensor, extra: Tensors) -> torch.Tensor:
        inner = unwrap_model(self.model).model
        positions, _ = inner.get_rope_index(ids, mm_token_type_ids=extra["mm_token_type_ids"],
                                            image_grid_thw=extra.get("image_grid_thw"),
                                            video_grid_thw=extra.get("video_grid_thw"), attention_mask=mask)
        return positions * mask[None]


class LlavaEncoder(_VisionEncoder):
    """LLaVA-1.5 style: one ``<image>`` token per vision patch (+1 with the "full" feature strategy)."""

    family = "llava"
    image_token = "<image>"
    image_placeholder = "<image>\n"

    def __init__(self, tokenizer: Any, image_processor: Any, model: Any) -> None:
        config = unwrap_model(model).config
        self.image_token = tokenizer.convert_ids_to_tokens(int(config.image_token_id))
        super().__init__(tokenizer, image_processor, model)
        self.patch_size = int(config.vision_config.patch_size)
        self.extra_token = 1 if config.vision_feature_select_strategy == "full" else 0

    def _expand(self, ids: list[int], images: list[Any]) -> EncodedPrompt:
        pixels = self.image_processor(images=images, return_tensors="pt")["pixel_values"]
        per_image = (pixels.shape[-2] // self.patch_size) * (pixels.shape[-1] // self.patch_size) + self.extra_token
        return EncodedPrompt(self._expand_tokens(ids, [per_image] * len(images)), pixels)

    def _extra(self, prompts: Sequence[EncodedPrompt], ids: torch.Tensor, mask: torch.Tensor) -> Tensors:
        with_images = [p for p in prompts if p.pixel_values is not None]
        return {"pixel_values": torch.cat([p.pixel_values for p in with_images])} if with_images else {}


def qwen_video_patches(image_processor: Any, frames: list[Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """Qwen2-VL video input from PIL frames without its (torchvision) video processor: each frame is resized
    and normalised by the PIL image processor (all to the first frame's size), then the frames are patchified
    in temporal pairs (the last frame repeated to fill a pair) exactly as Qwen2VLVideoProcessor lays them out.
    Returns (pixel_values_videos (T'*H'*W', C*tp*p*p), video_grid_thw (1, 3))."""
    patch = int(image_processor.patch_size)
    merge = int(getattr(image_processor, "merge_size", 2))
    tp = int(getattr(image_processor, "temporal_patch_size", 2))
    size = frames[0].size
    planes = []
    grid_h = grid_w = 0
    for frame in frames:
        out = image_processor(images=[frame.resize(size)], return_tensors="np")
        flat = np.asarray(out["pixel_values"])
        _, grid_h, grid_w = (int(v) for v in out["image_grid_thw"][0])
        channels = flat.shape[1] // (tp * patch * patch)
        # undo the processor's patchify: (gh/m, gw/m, m, m, C, tp, p, p) -> (C, H, W), first temporal copy
        cube = flat.reshape(grid_h // merge, grid_w // merge, merge, merge, channels, tp, patch, patch)[..., 0, :, :]
        planes.append(cube.transpose(4, 0, 2, 5, 1, 3, 6).reshape(channels, grid_h * patch, grid_w * patch))
    while len(planes) % tp:
        planes.append(planes[-1])
    video = np.stack(planes)  # (T, C, H, W)
    grid_t = video.shape[0] // tp
    channels = video.shape[1]
    patches = video.reshape(grid_t, tp, channels, grid_h // merge, merge, patch, grid_w // merge, merge, patch)
    patches = patches.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    flat = patches.reshape(grid_t * grid_h * grid_w, channels * tp * patch * patch)
    return torch.from_numpy(np.ascontiguousarray(flat)), torch.tensor([[grid_t, grid_h, grid_w]])
