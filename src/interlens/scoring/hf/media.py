"""Turn a sample's media values into PIL images: an image is a PIL image, an array or a file path;
a video is a list of frames (each an image) or a folder of frame files, sampled uniformly to at most
``max_frames`` frames; each frame carries ``info["interlens_video"]`` so that families with native video
input (Qwen2-VL, LLaVA-OneVision) regroup them into one video, the others read them as images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def load_image(value: Any, *, record: str | None = None, field: str = "image"):
    """A PIL RGB image from a PIL image, an HxWx3 (or HxW) uint8 array, or a path."""
    from PIL import Image

    if isinstance(value, Image.Image):
        return value.convert("RGB")
    if isinstance(value, np.ndarray):
        if value.ndim not in (2, 3) or value.size == 0:
            raise DataError(f"image array has shape {value.shape}; expected HxW or HxWxC", record=record, field=field)
        return Image.fromarray(np.ascontiguousarray(value).astype(np.uint8)).convert("RGB")
    if isinstance(value, str | Path):
        path = Path(value)
        if not path.is_file():
            raise DataError(f"image file not found: {path}", record=record, field=field)
        try:
            with Image.open(path) as img:
                return img.convert("RGB")
        except OSError as err:
            raise DataError(f"cannot read image {path}: {err}", record=record, field=field) from None
    raise DataError(f"cannot use a {type(value).__name__} as an image", record=record, field=field)


def load_frames(value: Any, *, max_frames: int | None = None, record: str | None = None,
                field: str = "video") -> list:
    """Video frames as PIL images: a list of image values or a folder of image files (sorted by name).

    With ``max_frames`` the frames are subsampled uniformly (first and last kept)."""
    if isinstance(value, str | Path) and Path(value).is_dir():
        items: list[Any] = sorted(p for p in Path(value).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    elif isinstance(value, list | tuple):
        items = list(value)
    elif isinstance(value, str | Path):
        raise DataError(f"video must be a list of frames or a folder of frame images; {value} is neither "
                        "(decoding video files needs torchvision, which is not used here)", record=record, field=field)
    else:
        items = [value]
    if not items:
        raise DataError("video has no frames", record=record, field=field)
    if max_frames is not None and len(items) > max_frames:
        picks = np.linspace(0, len(items) - 1, max_frames).round().astype(int)
        items = [items[i] for i in picks]
    return [load_image(item, record=record, field=field) for item in items]


def media_images(media: tuple[tuple[str, Any], ...], *, max_frames: int | None = None,
                 record: str | None = None, kinds: tuple[str, ...] = ()) -> list:
    """All images of a rendered prompt's media, in order (a video-kind modality contributes its frames;
    ``kinds`` aligns with ``media``, a list value counts as a video when no kind is given)."""
    images = []
    for n, (modality, value) in enumerate(media):
        kind = kinds[n] if n < len(kinds) else None
        if kind == "video" or (kind is None and isinstance(value, list | tuple)):
            frames = load_frames(value, max_frames=max_frames, record=record, field=modality)
            for frame in frames:  # native-video families regroup a video's frames by this tag
                frame.info["interlens_video"] = n
            images.extend(frames)
        else:
            images.append(load_image(value, record=record, field=modality))
    return images
