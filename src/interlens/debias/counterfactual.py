"""Offline CPU counterfactual inputs (MME-JD App. B) for an :class:`EmbeddingScorer`.

* Text (App. B.1): the paper asks an LLM for the task-relevant words and masks them, keeping the
  spurious context. Offline substitute: the leave-one-word-out effect of each word on the *gold*
  label probability of the trained text head, averaged per word over a reference split
  (:func:`word_relevance`; use an unbiased dev split: a spurious word helps as often as it hurts
  there, so its mean effect is ~0, while semantic words keep a positive effect). Each text then has
  its top-``k`` relevant words replaced by ``[MASK]`` (:func:`text_counterfactuals`).
* Image (App. B.2, Algorithm 1): attention maps of an MLLM are replaced by input-gradient saliency
  of the image head (torch autograd on the pixels), gated by a reference relevance map (mean
  gradient x input towards the gold class over the reference split, clipped at 0), then normalised,
  enhanced, smoothed, interpolated and alpha-blended (:func:`interlens.debias.core.saliency_to_mask`).

Counterfactual inputs live in a dataset copy (:func:`counterfactual_dataset`); their predictions
carry the view names ``text|cf_text`` and ``image|cf_image`` so they cache like any other view.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from ..data.schema import Dataset, Sample
from ..errors import DataError
from .core import alpha_blend, mask_words, saliency_to_mask

MASK = "[MASK]"
WORD = re.compile(r"[A-Za-z0-9']+")
CF_TEXT_VIEW, CF_IMAGE_VIEW = "text|cf_text", "image|cf_image"


def blank_like(value: object) -> object:
    """The "absent modality" input (phi in Eq. 1-2): a black image, or ``[MASK]`` for a text-form view."""
    if isinstance(value, str):
        return MASK
    return np.zeros_like(np.asarray(value, dtype=np.float32))


def replace_inputs(dataset: Dataset, modality: str, values: list, suffix: str) -> Dataset:
    """A copy of ``dataset`` (same ids, labels, meta) with ``modality`` replaced by ``values``."""
    if len(values) != len(dataset):
        raise DataError(f"{len(values)} values for {len(dataset)} samples", field=modality)
    samples = [Sample(s.id, {**s.inputs, modality: v}, s.label, s.group, s.meta)
               for s, v in zip(dataset.samples, values, strict=True)]
    return Dataset(name=f"{dataset.name}|{suffix}", labels=dataset.labels, samples=samples,
                   modalities=dataset.modalities, splits=dict(dataset.splits), task=dataset.task,
                   dimension=dataset.dimension, source=dataset.source, info=dict(dataset.info))


# -- text -------------------------------------------------------------------------------------------------
def word_effects(scorer, dataset: Dataset, view: str = "text") -> list[dict[str, float]]:
    """Per sample: ``{word: p(gold | text) - p(gold | text with the word masked)}`` under the
    unimodal ``view`` (any text-form modality, e.g. image attribute words)."""
    y = dataset.y
    variants, owners = [], []
    for n, s in enumerate(dataset.samples):
        text = str(s.inputs[view])
        for w in dict.fromkeys(m.lower() for m in WORD.findall(text)):
            variants.append(Sample(f"{s.id}#{w}", {**s.inputs, view: mask_words(text, [w], MASK)}, s.label))
            owners.append((n, w))
    base = scorer.predict_proba(dataset, view).probs
    var_ds = Dataset("loo", dataset.labels, variants, dataset.modalities)
    probs = scorer.predict_proba(var_ds, view).probs
    out: list[dict[str, float]] = [{} for _ in dataset.samples]
    for (n, w), p in zip(owners, probs, strict=True):
        out[n][w] = float(base[n, y[n]] - p[y[n]])
    return out


def word_relevance(scorer, reference: Dataset, view: str = "text") -> dict[str, float]:
    """Mean leave-one-word-out effect on the gold label per (lower-case) word over ``reference``."""
    sums: dict[str, list[float]] = defaultdict(list)
    for effects in word_effects(scorer, reference, view):
        for w, e in effects.items():
            sums[w].append(e)
    return {w: float(np.mean(v)) for w, v in sorted(sums.items())}


def text_counterfactuals(texts: list[str], relevance: dict[str, float], k: int = 1,
                         min_relevance: float = 0.05) -> list[str]:
    """Mask the top-``k`` words of each text whose relevance exceeds ``min_relevance`` (Eq. 21)."""
    out = []
    for text in texts:
        words = dict.fromkeys(m.lower() for m in WORD.findall(text))
        ranked = sorted((w for w in words if relevance.get(w, 0.0) > min_relevance),
                        key=lambda w: -relevance[w])[:k]
        out.append(mask_words(text, ranked, MASK))
    return out


# -- image ------------------------------------------------------------------------------------------------
def pixel_gradients(scorer, dataset: Dataset, target: np.ndarray | None = None, modality: str = "image"
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``(pixels, d margin / d pixels)`` for the image head, where margin = logit of ``target``
    (default: the predicted class) minus the mean logit. Shapes ``(n, side, side)``."""
    head = scorer.heads_[modality]
    x = scorer._raw(dataset, modality).clone().requires_grad_(True)
    logits = head([x])
    tgt = torch.as_tensor(target if target is not None else logits.argmax(1).detach().numpy())
    margin = logits.gather(1, tgt.long()[:, None]).squeeze(1) - logits.mean(1)
    (grad,) = torch.autograd.grad(margin.sum(), x)
    side = scorer.image_size
    return x.detach().numpy().reshape(-1, side, side), grad.numpy().reshape(-1, side, side)


def pixel_relevance(scorer, reference: Dataset, modality: str = "image") -> np.ndarray:
    """Mean gradient x input towards the gold class over ``reference``, clipped at 0."""
    x, g = pixel_gradients(scorer, reference, reference.y, modality)
    return np.clip((x * g).mean(axis=0), 0.0, None)


def image_counterfactuals(scorer, dataset: Dataset, relevance: np.ndarray | None = None, *,
                          modality: str = "image", enhance: float = 2.0, power: float = 1.0, sigma: float = 0.5,
                          baseline: float | str = 0.0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Algorithm 1 with gradient saliency: ``(counterfactual images, masks)``; salient (semantic)
    regions are blended to ``baseline``, the context stays."""
    x, g = pixel_gradients(scorer, dataset, None, modality)
    gate = np.ones_like(x[0]) if relevance is None else relevance / max(float(relevance.max()), 1e-12)
    images, masks = [], []
    for s, _xi, gi in zip(dataset.samples, x, g, strict=True):
        img = np.asarray(s.inputs[modality], dtype=np.float64)
        mask = saliency_to_mask(np.abs(gi) * gate, img.shape, enhance=enhance, power=power, sigma=sigma)
        images.append(alpha_blend(img, mask, baseline).astype(np.float32))
        masks.append(mask)
    return images, masks


def save_image_grid(path: str | Path, rows: list[tuple[str, list[np.ndarray]]], titles: list[str] | None = None
                    ) -> Path:
    """A PNG grid (one row per named image list) for inspecting counterfactual images."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
