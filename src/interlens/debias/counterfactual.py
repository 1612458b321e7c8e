"""Offline CPU counterfactual inputs (MME-JD App. B) for any scorer, chosen by modality *kind*.

The two roles of the paper -- the "text" ``T`` and the "image" ``I`` of Eq. 1-2 -- are two modalities
of the dataset picked by kind (:class:`DebiasModalities`); no modality needs to be named ``text`` or
``image``. A counterfactual is built according to the modality's kind:

* text kind (App. B.1): the paper asks an LLM for the task-relevant words and masks them, keeping the
  spurious context. Offline substitute: the leave-one-word-out effect of each word on the *gold*
  label probability of the scorer's unimodal model, averaged per word over a reference split
  (:func:`word_relevance`; use an unbiased dev split: a spurious word helps as often as it hurts
  there, so its mean effect is ~0, while semantic words keep a positive effect). Each text then has
  its top-``k`` relevant words replaced by ``[MASK]`` (:func:`text_counterfactuals`). Needs only
  the scorer's ``logits``. A text-form image view (MMSD2.0 attribute words) is masked the same way.
* image kind (App. B.2, Algorithm 1): attention maps of an MLLM are replaced by input-gradient
  saliency of the scorer's unimodal image model (``Scorer.input_gradients``, capability
  ``input_gradients``), gated by a reference relevance map (mean gradient x input towards the gold
  class over the reference split, clipped at 0), then normalised, enhanced, smoothed, interpolated
  and alpha-blended (:func:`interlens.debias.core.saliency_to_mask`).

Counterfactual inputs live in a dataset copy with the same ids (:func:`replace_inputs`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.schema import Dataset, Sample
from ..errors import DataError
from ..scoring.base import Capability, require
from .core import alpha_blend, mask_words, saliency_to_mask

MASK = "[MASK]"
WORD = re.compile(r"[A-Za-z0-9']+")
#: kinds a debias "image" role may have (a text-kind one is a text-form image view)
IMAGE_ROLE_KINDS = ("image", "text")


@dataclass(frozen=True)
class DebiasModalities:
    """The dataset modalities in the two roles of the paper: ``text`` (T, masked words) and
    ``image`` (I: an image-kind modality, or a text-kind one read as a text-form image view)."""

    text: str
    image: str
    image_kind: str

    @property
    def image_is_text(self) -> bool:
        return self.image_kind == "text"

    @property
    def views(self) -> tuple[str, str, str]:
        """The unimodal text view, the unimodal image view and the fused view."""
        return self.text, self.image, f"{self.text}+{self.image}"

    @property
    def fused(self) -> str:
        return f"{self.text}+{self.image}"


def pick_modalities(dataset: Dataset, text_modality: str | None = None, image_modality: str | None = None
                    ) -> DebiasModalities:
    """The debias roles by kind: ``text`` = the dataset's text-kind modality, ``image`` = its image-kind
    modality (or a second text-kind one, e.g. MMSD2.0 attribute words). When a kind has several
    modalities, ``text_modality`` / ``image_modality`` choose; a wrong choice names the candidates."""
    texts = dataset.modalities_of_kind("text")
    images = dataset.modalities_of_kind("image")
    src = dataset.source

    def check(name: str, option: str, kinds: tuple[str, ...]) -> str:
        if name not in dataset.modalities:
            raise DataError(f"{option}={name!r} is not a modality of {dataset.name!r} "
                            f"(has {dict(dataset.kinds)})", file=src, field=option)
        if dataset.kind(name) not in kinds:
            raise DataError(f"{option}={name!r} has kind {dataset.kind(name)!r}; debiasing needs kind "
                            f"{' or '.join(kinds)}", file=src, field=option)
        return name

    if image_modality is not None:  # an explicit choice is checked first
        check(image_modality, "image_modality", IMAGE_ROLE_KINDS)
    if text_modality is not None:
        text = check(text_modality, "text_modality", ("text",))
    else:
        candidates = [m for m in texts if m != image_modality]
        if len(candidates) != 1:
            raise DataError(f"debiasing needs one text-kind modality; {dataset.name!r} has "
                            f"{candidates or 'none'} (kinds {dict(dataset.kinds)}): choose with text_modality"
                            + ("" if images or image_modality else " (and image_modality for a text-form image view)"),
                            file=src, field="text_modality")
        text = candidates[0]
    if image_modality is not None:
        image = image_modality
    elif len(images) == 1:
        image = images[0]
    else:
        others = [m for m in texts if m != text]
        raise DataError(f"debiasing needs one image-kind modality (or a text-form image view); "
                        f"{dataset.name!r} has image-kind {images or 'none'} and other text-kind {others or 'none'}"
                        f" (kinds {dict(dataset.kinds)}): choose with image_modality", file=src,
                        field="image_modality")
    if image == text:
        raise DataError(f"text_modality and image_modality are both {text!r}", file=src, field="image_modality")
    return DebiasModalities(text, image, dataset.kind(image))


def blank_like(value: object, kind: str | None = None) -> object:
    """The "absent modality" input (phi in Eq. 1-2) by kind: ``[MASK]`` for a text-kind view, a black
    image of the image's size for an image (an array or an image file). ``kind`` defaults to the
    kind ``value`` looks like."""
    from ..data.schema import infer_kind

    if (kind or infer_kind(value)) == "text":
        return MASK
    return np.zeros_like(image_array(value), dtype=np.float32)


def replace_inputs(dataset: Dataset, modality: str, values: list, suffix: str) -> Dataset:
    """A copy of ``dataset`` (same ids, labels, meta, kinds) with ``modality`` replaced by ``values``."""
    if len(values) != len(dataset):
        raise DataError(f"{len(values)} values for {len(dataset)} samples", field=modality)
    samples = [Sample(s.id, {**s.inputs, modality: v}, s.label, s.group, s.meta)
               for s, v in zip(dataset.samples, values, strict=True)]
    return Dataset(name=f"{dataset.name}|{suffix}", labels=dataset.labels, samples=samples,
                   modalities=dataset.modalities, splits=dict(dataset.splits), task=dataset.task,
                   dimension=dataset.dimension, source=dataset.source, info=dict(dataset.info),
                   kinds=dict(dataset.kinds))


# -- text -------------------------------------------------------------------------------------------------
def word_effects(scorer: Any, dataset: Dataset, modality: str) -> list[dict[str, float]]:
    """Per sample: ``{word: p(gold | text) - p(gold | text with the word masked)}`` under the
    unimodal view of the text-kind ``modality`` (also a text-form image view). Needs ``logits`` only."""
    y = dataset.y
    variants, owners = [], []
    for n, s in enumerate(dataset.samples):
        text = dataset.text(s, modality)
        for w in dict.fromkeys(m.lower() for m in WORD.findall(text)):
            variants.append(Sample(f"{s.id}#{w}", {**s.inputs, modality: mask_words(text, [w], MASK)}, s.label))
            owners.append((n, w))
    base = scorer.predict_proba(dataset, modality).probs
    out: list[dict[str, float]] = [{} for _ in dataset.samples]
    if not variants:
        return out
    var_ds = dataset.derive(f"{dataset.name}|loo", variants)
    probs = scorer.predict_proba(var_ds, modality).probs
    for (n, w), p in zip(owners, probs, strict=True):
        out[n][w] = float(base[n, y[n]] - p[y[n]])
    return out


#: words seen in fewer reference texts get no relevance (chosen on the MMSD2.0 dev split, docs/debias.md)
DEFAULT_MIN_WORD_COUNT = 3


def relevance_from_effects(effects: list[dict[str, float]], min_count: int = 1) -> dict[str, float]:
    """Mean effect per word over the texts that contain it; words in fewer than ``min_count`` texts
    are dropped (a word seen once would get its single leave-one-out effect as its relevance)."""
    if min_count < 1:
        raise DataError(f"min_word_count must be >= 1, got {min_count}", field="min_word_count")
    sums: dict[str, list[float]] = defaultdict(list)
    for per_text in effects:
        for w, e in per_text.items():
            sums[w].append(e)
    return {w: float(np.mean(v)) for w, v in sorted(sums.items()) if len(v) >= min_count}


def word_relevance(scorer: Any, reference: Dataset, modality: str, *, min_count: int = DEFAULT_MIN_WORD_COUNT
                   ) -> dict[str, float]:
    """Mean leave-one-word-out effect on the gold label per (lower-case) word over ``reference``,
    for words in at least ``min_count`` reference texts (:func:`relevance_from_effects`)."""
    return relevance_from_effects(word_effects(scorer, reference, modality), min_count)


def text_counterfactuals(texts: list[Any], relevance: dict[str, float], k: int = 1,
                         min_relevance: float = 0.05) -> list[str]:
    """Mask the top-``k`` words of each text whose relevance exceeds ``min_relevance`` (Eq. 21).
    A list of dialogue turns is joined in order first."""
    from ..data.schema import text_of

    out = []
    for value in texts:
        text = text_of(value)
        words = dict.fromkeys(m.lower() for m in WORD.findall(text))
        ranked = sorted((w for w in words if relevance.get(w, 0.0) > min_relevance),
                        key=lambda w: -relevance[w])[:k]
        out.append(mask_words(text, ranked, MASK))
    return out


# -- image ------------------------------------------------------------------------------------------------
SALIENCY_PURPOSE = "saliency image counterfactuals (MME-JD Alg. 1, gradients w.r.t. the image)"


def image_array(value: Any, *, source: str | None = None, record: str | None = None) -> np.ndarray:
    """An image modality value as a float array in [0, 1] at its own resolution: arrays as given, files as
    HxWx3 RGB when in colour (a colour-reading scorer such as ``clip`` must not see a grey counterfactual of a
    colour image), else HxW grayscale."""
    if isinstance(value, np.ndarray):
        return value.astype(np.float64)
    from PIL import Image

    path = Path(str(value))
    if not path.is_file():
        raise DataError(f"image file not found: {path}", file=source, record=record, field="image")
    with Image.open(path) as img:
        colour = img.mode not in ("1", "L", "LA", "I", "I;16", "F")
        return np.asarray(img.convert("RGB" if colour else "L"), dtype=np.float64) / 255.0


def pixel_gradients(scorer: Any, dataset: Dataset, target: np.ndarray | None = None, *, modality: str
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``(pixels, d margin / d pixels)`` of the scorer's unimodal ``modality`` model
    (``Scorer.input_gradients``; margin = logit of ``target``, default the predicted class, minus the
    mean logit). ``pixels`` is the image as the scorer reads it (resized to the gradient's shape)."""
    require(scorer, Capability.INPUT_GRADIENTS, SALIENCY_PURPOSE)
    from ..scoring.encoders import image_to_array

    grads = scorer.input_gradients(dataset, modality, modality, target=target)
    g = np.stack([np.asarray(a, dtype=np.float64) for a in grads])
    if g.ndim != 3:
        raise DataError(f"scorer {scorer.name!r} returned image gradients of shape {g.shape[1:]}; "
                        "expected one 2-D map per sample", field="input_gradients")
    x = np.stack([image_to_array(s.inputs[modality], g.shape[1], source=dataset.source, record=s.id)
                  for s in dataset.samples])
    return x, g


def pixel_relevance(scorer: Any, reference: Dataset, *, modality: str) -> np.ndarray:
    """Mean gradient x input towards the gold class over ``reference``, clipped at 0."""
    x, g = pixel_gradients(scorer, reference, reference.y, modality=modality)
    return np.clip((x * g).mean(axis=0), 0.0, None)


def image_counterfactuals(scorer: Any, dataset: Dataset, relevance: np.ndarray | None = None, *, modality: str,
                          enhance: float = 2.0, power: float = 1.0, sigma: float = 0.5,
                          baseline: float | str = 0.0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Algorithm 1 with gradient saliency: ``(counterfactual images, masks)``; salient (semantic)
    regions are blended to ``baseline``, the context stays."""
    _x, g = pixel_gradients(scorer, dataset, None, modality=modality)
    gate = np.ones_like(g[0]) if relevance is None else relevance / max(float(relevance.max()), 1e-12)
    images, masks = [], []
    for s, gi in zip(dataset.samples, g, strict=True):
        img = image_array(s.inputs[modality], source=dataset.source, record=s.id)
        mask = saliency_to_mask(np.abs(gi) * gate, img.shape[:2], enhance=enhance, power=power, sigma=sigma)
        if img.ndim == 3:
            mask = mask[..., None] * np.ones(img.shape[-1])
        images.append(alpha_blend(img, mask, baseline).astype(np.float32))
        masks.append(mask if mask.ndim == 2 else mask[..., 0])
    return images, masks


def save_image_grid(path: str | Path, rows: list[tuple[str, list[np.ndarray]]], titles: list[str] | None = None
                    ) -> Path:
    """A PNG grid (one row per named image list) for inspecting counterfactual images."""
    from ..report.plots import pyplot

    plt = pyplot()

    n_cols = max(len(images) for _, images in rows)
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(1.4 * n_cols, 1.5 * len(rows)), squeeze=False)
    for r, (name, images) in enumerate(rows):
        for c in range(n_cols):
            ax = axes[r][c]
            ax.axis("off")
            if c < len(images):
                ax.imshow(images[c], cmap="gray", vmin=0, vmax=1)
                if r == 0 and titles:
                    ax.set_title(titles[c], fontsize=6)
        axes[r][0].text(-0.5, 0.5, name, transform=axes[r][0].transAxes, ha="right", va="center", fontsize=7)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path
