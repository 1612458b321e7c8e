"""Turn a sample's media values into PIL images: an image is a PIL image, an array or a file path;
a video is a list of frames (each an image) or a folder of frame files, sampled uniformly to at most
``max_frames`` frames; each frame carries ``info["interlens_video"]`` so that families with native video
input (Qwen2-VL, LLaVA-OneVision, LLaVA-NeXT-Video) regroup them into one video, the others read them as
images. An audio value (a WAV file or an array) becomes a mono waveform at the feature extractor's rate
(:func:`load_audio`: stdlib ``wave`` + ``numpy`` resampling; no audio library needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def load_image(value: Any, *, record: str | None = None, field: str = "image"):
    """A PIL RGB image from a PIL image, an HxWx3 (or HxW) array (uint8 values, or floats in [0, 1] as the debias
    counterfactual images are), or a path."""
    from PIL import Image

    if isinstance(value, Image.Image):
        return value.convert("RGB")
    if isinstance(value, np.ndarray):
        if value.ndim not in (2, 3) or value.size == 0:
            raise DataError(f"image array has shape {value.shape}; expected HxW or HxWxC", record=record, field=field)
        if value.dtype.kind == "f" and value.max(initial=0.0) <= 1.0:  # [0, 1] floats (debias counterfactuals)
            value = np.round(np.clip(value, 0.0, 1.0) * 255.0)
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


def load_audio(value: Any, rate: int, *, record: str | None = None, field: str = "audio") -> np.ndarray:
    """A mono float32 waveform at ``rate`` Hz from a WAV file (stdlib ``wave``: 8/16/32-bit PCM), an
    ``(array, rate)`` pair or an array already at ``rate``; other rates are resampled by linear interpolation
    (``numpy.interp``), channels are averaged."""
    import wave

    source_rate = rate
    if isinstance(value, tuple) and len(value) == 2:
        value, source_rate = value
    if isinstance(value, str | Path):
        path = Path(value)
        if not path.is_file():
            raise DataError(f"audio file not found: {path}", record=record, field=field)
        try:
            with wave.open(str(path), "rb") as handle:
                width, channels = handle.getsampwidth(), handle.getnchannels()
                source_rate = handle.getframerate()
                raw = handle.readframes(handle.getnframes())
        except (OSError, EOFError, wave.Error) as err:
            raise DataError(f"cannot read audio {path} (WAV PCM only): {err}", record=record, field=field) from None
        if width not in (1, 2, 4):
            raise DataError(f"audio {path} has {8 * width}-bit samples; 8, 16 or 32-bit PCM is read", record=record,
                            field=field)
        if width == 1:
            samples = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
        else:
            dtype = np.int16 if width == 2 else np.int32
            samples = np.frombuffer(raw, dtype).astype(np.float32) / float(np.iinfo(dtype).max)
        wav = samples.reshape(-1, channels).mean(axis=1)
    elif isinstance(value, np.ndarray | list):
        wav = np.asarray(value, dtype=np.float32)
        if wav.ndim == 2:
            wav = wav.mean(axis=0 if wav.shape[0] < wav.shape[1] else 1)
        if wav.ndim != 1:
            raise DataError(f"audio array has shape {wav.shape}; expected (samples,) or (channels, samples)",
                            record=record, field=field)
    else:
        raise DataError(f"cannot use a {type(value).__name__} as audio (a .wav path or an array)", record=record,
                        field=field)
    if wav.size == 0:
        raise DataError("audio has no samples", record=record, field=field)
    if int(source_rate) != int(rate):
        n = max(1, round(wav.size * int(rate) / int(source_rate)))
        wav = np.interp(np.arange(n) * (int(source_rate) / int(rate)), np.arange(wav.size), wav).astype(np.float32)
    return wav
