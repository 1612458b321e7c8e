"""Tiny, real configurations of every registered scorer, for the conformance suite and the
method x scorer matrix (timm habit: tests enumerate the registry, so a scorer registered without an
entry here fails ``test_every_registered_scorer_has_a_tiny_config``).

The conformance dataset has two text modalities with different signal (``utterance`` carries the label
word in 5 of 6 samples, ``context`` in 2 of 3), an image-kind modality ``photo`` (RGB arrays whose
brightness follows the label) and an audio-kind modality ``clip`` (16-bit WAV files whose pitch follows the
label) that only ``qwen2-audio`` reads, so every scorer has an unsupported view to refuse (``clip``, or
``photo`` for the audio scorer: :data:`UNSUPPORTED_VIEW`). Modality names are deliberately not ``text`` / ``image``.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from interlens.data.schema import Dataset, Sample

LABELS = ("no", "yes")
WORDS = ('the', 'speaker', 'says', 'that', 'this', 'is', 'a', 'really', 'good', 'point',
         'and', 'we', 'should', 'go', 'now', 'because', 'it', 'is', 'late')


def conformance_dataset(n: int = 24, seed: int = 0, *, audio: bool = True, name: str = "zoo") -> Dataset:
    """``n`` samples, train / dev / test = 1/2, 1/4, 1/4, modalities utterance, context (text), photo (image),
    clip (WAV files written once per process; read by audio scorers only)."""
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        y = i % 2
        label = LABELS[y]
        words = list(rng.choice(WORDS, size=6))
        cue = label if i % 6 else LABELS[1 - y]
        utterance = " ".join([*words[:3], cue, *words[3:]])
        context = [" ".join(rng.choice(WORDS, size=4)), "yes indeed" if (y == 1) == (i % 3 != 0) else "no way"]
        photo = np.full((28, 28, 3), 60 + 120 * y, dtype=np.uint8)
        photo = (photo + rng.integers(0, 40, size=photo.shape)).astype(np.uint8)
        inputs: dict[str, Any] = {"utterance": utterance, "context": context, "photo": photo}
        if audio:
            inputs["clip"] = _wav(seed, i, 300.0 if y == 0 else 900.0, 0.25 + 0.05 * (i % 4))
        samples.append(Sample(f"{name}-{i}", inputs, label, group=f"g{i // 2}"))
    ids = [s.id for s in samples]
    half, quarter = n // 2, n // 4
    mods = ("utterance", "context", "photo", *(("clip",) if audio else ()))
    kinds = {"utterance": "text", "context": "text", "photo": "image", "clip": "audio"}
    return Dataset(name, LABELS, samples, mods, splits={"train": ids[:half], "dev": ids[half:half + quarter],
                                                         "test": ids[half + quarter:]},
                   dimension="sarcasm", kinds={m: kinds[m] for m in mods})


@functools.cache
def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="interlens-zoo-"))


@functools.cache
def _wav(seed: int, i: int, freq: float, seconds: float, rate: int = 8000) -> str:
    """A mono 16-bit WAV (a sine at ``freq`` + noise) at 8 kHz, so audio scorers resample it."""
    from hf_tiny import write_wav

    return str(write_wav(_tmp() / f"clips-{seed}" / f"{i}.wav", seconds, rate, freq, seed=seed * 1000 + i))


@functools.cache
def tiny_lm_path() -> str:
    from tests.hf_tiny import save_tiny, tiny_qwen2

    model, tok = tiny_qwen2()
    return str(save_tiny(model, tok, _tmp() / "tiny-qwen2"))


@functools.cache
def tiny_vlm_path() -> str:
    from tests.hf_tiny import save_tiny, tiny_qwen2_vl

    model, tok, processor = tiny_qwen2_vl()
    return str(save_tiny(model, tok, _tmp() / "tiny-qwen2-vl", image_processor=processor))


@functools.cache
def tiny_family_path(builder: str) -> str:
    """A tiny model of one family (``tests.hf_tiny.<builder>``) saved as a local folder, once per process."""
    import tests.hf_tiny as tiny

    model, tok, processor = getattr(tiny, builder)()
    return str(tiny.save_tiny(model, tok, _tmp() / builder, image_processor=processor))


@functools.cache
def precomputed_files(seed: int = 0) -> dict[str, str]:
    """Deterministic probabilities for three views of :func:`conformance_dataset`, saved as interlens JSON."""
    from interlens.predictions import Predictions

    data = conformance_dataset()
    rng = np.random.default_rng(seed)
    files = {}
    for n, view in enumerate(("utterance", "context", "utterance+context")):
        probs = rng.dirichlet([1.0, 1.0], size=len(data))
        path = _tmp() / f"pre-{n}.json"
        Predictions(data.ids, data.labels, probs, view, "file", data.fingerprint()).save(path)
        files[view] = str(path)
    return files


HF_TRAIN = {"epochs": 1, "batch_size": 4, "lr": 5e-3, "eval_batch_size": 8}

#: name -> (params factory, two supported views that must give different outputs)
ZOO: dict[str, tuple[Callable[[], dict[str, Any]], tuple[str, str]]] = {
    "embedding": (lambda: {"epochs": 5, "hidden": 16, "rank": 4, "seed": 0}, ("utterance", "photo")),
    "minilm-ft": (lambda: {"epochs": 1, "max_length": 32, "batch_size": 8, "seed": 0}, ("utterance", "context")),
    "hf-lm": (lambda: {"model_path": tiny_lm_path(), "train": dict(HF_TRAIN), "batch_size": 4},
              ("utterance", "context")),
    "hf-vlm": (lambda: {"model_path": tiny_vlm_path(), "train": dict(HF_TRAIN), "batch_size": 4},
               ("utterance", "utterance+photo")),
    "precomputed": (lambda: {"files": precomputed_files()}, ("utterance", "context")),
    "ensemble": (lambda: {"base": "embedding", "members": 2, "base_params": {"epochs": 5, "hidden": 16, "rank": 4},
                          "seed": 0}, ("utterance", "photo")),
    "clip": (lambda: {"model_path": tiny_family_path("tiny_clip"), "epochs": 30, "seed": 0},
             ("utterance", "photo")),
    "blip2": (lambda: {"model_path": tiny_family_path("tiny_blip2"), "train": dict(HF_TRAIN), "batch_size": 4},
              ("utterance", "utterance+photo")),
    "internvl": (lambda: {"model_path": tiny_family_path("tiny_internvl"), "train": dict(HF_TRAIN), "batch_size": 4},
                 ("utterance", "utterance+photo")),
    "llava-onevision": (lambda: {"model_path": tiny_family_path("tiny_llava_onevision"), "train": dict(HF_TRAIN),
                                 "batch_size": 4}, ("utterance", "utterance+photo")),
    "llava-next-video": (lambda: {"model_path": tiny_family_path("tiny_llava_next_video"), "train": dict(HF_TRAIN),
                                  "batch_size": 4}, ("utterance", "utterance+photo")),
    "qwen2-audio": (lambda: {"model_path": tiny_family_path("tiny_qwen2_audio"), "train": dict(HF_TRAIN),
                             "batch_size": 4}, ("utterance", "utterance+clip")),
}

#: a view each scorer must refuse on :func:`conformance_dataset` (default ``clip``: audio)
UNSUPPORTED_VIEW: dict[str, str] = {"qwen2-audio": "photo"}


def make(name: str, **overrides: Any):
    """A fresh tiny scorer of registry ``name``."""
    from interlens.scoring.registry import make_scorer

    params, _ = ZOO[name]
    return make_scorer(name, **{**params(), **overrides})


def write_dataset_file(folder: Path, n: int = 24, *, audio: bool = False, video: bool = False) -> Path:
    """:func:`conformance_dataset` as a JSONL table + PNG files (+ WAV clips with ``audio``, + a folder of
    4 frames per sample as a ``frames`` video with ``video``) + a YAML dataset file, the way a user
    brings their own corpus."""
    import json
    import shutil

    from PIL import Image

    folder = Path(folder)
    (folder / "photos").mkdir(parents=True, exist_ok=True)
    data = conformance_dataset(n, audio=audio)
    split_of = {i: s for s, ids in data.splits.items() for i in ids}
    with open(folder / "table.jsonl", "w", encoding="utf-8") as handle:
        for s in data.samples:
            Image.fromarray(s.inputs["photo"]).save(folder / "photos" / f"{s.id}.png")
            row = {"sid": s.id, "said": s.inputs["utterance"], "before": s.inputs["context"],
                   "picture": f"photos/{s.id}.png", "gold": s.label, "part": split_of[s.id]}
            if audio:
                (folder / "clips").mkdir(exist_ok=True)
                shutil.copy(s.inputs["clip"], folder / "clips" / f"{s.id}.wav")
                row["wav"] = f"clips/{s.id}.wav"
            if video:
                frames = folder / "frames" / s.id
                frames.mkdir(parents=True, exist_ok=True)
                for k in range(4):
                    Image.fromarray(np.roll(s.inputs["photo"], 3 * k, axis=1)).save(frames / f"{k}.png")
                row["frames"] = [f"frames/{s.id}/{k}.png" for k in range(4)]
            handle.write(json.dumps(row) + "\n")
    extra = ("  sound: {column: wav, kind: audio}\n" if audio else "") + (
        "  movie: {column: frames, kind: video}\n" if video else "")
    (folder / "zoo.yaml").write_text(
        "name: zoo-file\npath: table.jsonl\nid: sid\nlabel: gold\nlabels: ['no', 'yes']\n"
        "modalities:\n  utterance: said\n  context: before\n  photo: {column: picture, kind: image}\n" + extra
        + "split: part\ntask: classification\ndimension: sarcasm\n", encoding="utf-8")
    return folder / "zoo.yaml"


#: the two modalities whose interaction each tiny scorer measures (both readable by that scorer)
MEASURE_PAIR: dict[str, tuple[str, str]] = {
    "embedding": ("utterance", "photo"), "minilm-ft": ("utterance", "context"), "hf-lm": ("utterance", "context"),
    "hf-vlm": ("utterance", "photo"), "precomputed": ("utterance", "context"), "ensemble": ("utterance", "photo"),
    "clip": ("utterance", "photo"), "blip2": ("utterance", "photo"), "internvl": ("utterance", "photo"),
    "llava-onevision": ("utterance", "photo"), "llava-next-video": ("utterance", "photo"),
    "qwen2-audio": ("utterance", "clip"),
}
