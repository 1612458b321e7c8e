"""Built-in synthetic two-modality data with *known* interaction types (the demo's data and the
tests' ground truth).

Modality ``text`` is a generated sentence naming a class through a synonym; modality ``image`` is
an 8x8 handwritten digit from the scikit-learn digits set (shipped inside scikit-learn, offline).
Each sample draws a label ``y`` and an interaction type, then sets what each modality "says"
(``c_text``, ``c_image``):

* **R** (redundancy): ``c_text = c_image = y`` -- both modalities carry the label.
* **U1** (uniqueness, text): ``c_text = y``, ``c_image != y`` -- only the text carries it.
* **U2** (uniqueness, image): ``c_image = y``, ``c_text != y``.
* **S** (synergy): ``y = (c_text + c_image) mod K`` with ``c_text != y``, ``c_image != y`` and
  -- neither alone predicts ``y``; together they do (XOR generalised to K).

A unimodal model can therefore be right only where its modality carries the label, which is the
definition MMoE Algorithm 1 categorises by. So that a *router* can tell U1 / U2 / S apart from the
inputs (MMoE Sec. 3.3) without letting a unimodal model do so, each sample also carries a text
style ``a`` (sentence frame) and an image style ``b`` (a bright mark in one of the four corners)
with ``(a + b) mod 4`` encoding the type: each style alone is independent of the type.

``meta`` holds the ground truth: ``interaction``, ``c_text``, ``c_image``, ``text_style``,
``image_style``. Images in the train and test splits come from disjoint pools of digit scans.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import DataError
from .schema import Dataset, Sample

INTERACTIONS = ("R", "U1", "U2", "S")
CLASS_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SYNONYMS = {
    "zero": ["zero", "nothing at all", "nil", "naught"],
    "one": ["one", "a single one", "just one", "a lone unit"],
    "two": ["two", "a pair", "a couple", "double"],
    "three": ["three", "a trio", "triple", "thrice"],
    "four": ["four", "a quartet", "quadruple", "two pairs"],
    "five": ["five", "a handful", "a quintet", "half of ten"],
    "six": ["six", "half a dozen", "a sextet", "two trios"],
    "seven": ["seven", "a week's worth of days", "a septet", "lucky seven"],
    "eight": ["eight", "an octet", "two quartets", "a figure of eight"],
    "nine": ["nine", "a nonet", "three trios", "one short of ten"],
}
FRAMES = (
    ("The note says {w}.", "Written on the card: {w}.", "The label reads {w}."),
    ("Someone whispered {w} twice.", "I heard a voice say {w}.", "They kept shouting {w}."),
    ("A tag about {w} hangs on the box.", "The sign on the door shows {w}.", "A sticker mentions {w}."),
    ("In my dream there was {w}.", "Last night I dreamt of {w}.", "My dream kept returning to {w}."),
)
DEFAULT_PROPORTIONS = {"R": 0.4, "U1": 0.2, "U2": 0.2, "S": 0.2}
TYPE_CODE = {"R": 0, "U1": 1, "U2": 2, "S": 3}


def _style_image(image: np.ndarray, style: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    image = image.copy()
    row, col = divmod(style, 2)  # a bright mark in one of the four corners
    image[row * 7, col * 7] = 16.0
    image = image + rng.normal(0.0, noise, size=image.shape)
    return np.clip(image, 0.0, 16.0).astype(np.float32) / 16.0


def _draw_contents(kind: str, y: int, k: int, rng: np.random.Generator) -> tuple[int, int]:
    others = [c for c in range(k) if c != y]
    if kind == "R":
        return y, y
    if kind == "U1":
        return y, int(rng.choice(others))
    if kind == "U2":
        return int(rng.choice(others)), y
    c_text = int(rng.choice([c for c in others if c != 0]))
    return c_text, (y - c_text) % k


def make_synthetic(n: int = 2000, *, n_classes: int = 4, proportions: Mapping[str, float] | None = None,
                   split_fractions: tuple[float, float, float] = (0.6, 0.2, 0.2), noise: float = 0.5,
                   seed: int = 0) -> Dataset:
    """Generate ``n`` samples with known interaction types (see module docstring).

    Deterministic for a given ``seed``. Labels are the first ``n_classes`` digit names.
    """
    if not 3 <= n_classes <= 10:
        raise DataError(f"n_classes must be between 3 and 10 (synergy needs 3), got {n_classes}",
                        field="n_classes")
    proportions = dict(proportions or DEFAULT_PROPORTIONS)
    unknown = set(proportions) - set(INTERACTIONS)
    if unknown or not proportions or min(proportions.values()) < 0:
        raise DataError(f"proportions must map {INTERACTIONS} to non-negative shares, got {proportions}",
                        field="proportions")
    if n < 30:
        raise DataError(f"n must be at least 30, got {n}", field="n")
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    labels = CLASS_NAMES[:n_classes]
    kinds = list(proportions)
    shares = np.array([proportions[t] for t in kinds], dtype=float)
    n_train, n_dev = int(round(split_fractions[0] * n)), int(round(split_fractions[1] * n))
    # disjoint pools of digit scans per split (no image is shared between train and test)
    pools: dict[str, dict[int, np.ndarray]] = {"train": {}, "dev": {}, "test": {}}
    for c in range(n_classes):
        idx = rng.permutation(np.flatnonzero(digits.target == c))
        a, b = int(len(idx) * 0.6), int(len(idx) * 0.8)
        pools["train"][c], pools["dev"][c], pools["test"][c] = idx[:a], idx[a:b], idx[b:]
    samples, splits = [], {"train": [], "dev": [], "test": []}
    for i in range(n):
        split = "train" if i < n_train else "dev" if i < n_train + n_dev else "test"
        kind = kinds[int(rng.choice(len(kinds), p=shares / shares.sum()))]
        y = int(rng.integers(n_classes))
        c_text, c_image = _draw_contents(kind, y, n_classes, rng)
        a = int(rng.integers(4))
        b = (TYPE_CODE[kind] - a) % 4
        frame = FRAMES[a][int(rng.integers(len(FRAMES[a])))]
        word = SYNONYMS[labels[c_text]][int(rng.integers(4))]
        scan = digits.images[int(rng.choice(pools[split][c_image]))]
        sample_id = f"syn{seed}-{i:05d}"
        samples.append(Sample(
            id=sample_id, inputs={"text": frame.format(w=word), "image": _style_image(scan, b, rng, noise)},
            label=labels[y], group=None,
            meta={"interaction": kind, "c_text": c_text, "c_image": c_image, "text_style": a, "image_style": b}))
        splits[split].append(sample_id)
    return Dataset(name=f"synthetic-k{n_classes}-n{n}-s{seed}", labels=labels, samples=samples,
                   modalities=("text", "image"), kinds={"text": "text", "image": "image"}, splits=splits,
                   task="synthetic interactions",
                   dimension="synthetic", source="interlens.data.synthetic",
                   info={"proportions": proportions, "seed": seed, "noise": noise})


def ground_truth(dataset: Dataset) -> np.ndarray:
    """The planted interaction type of each sample (``meta["interaction"]``)."""
    try:
        return np.array([s.meta["interaction"] for s in dataset.samples])
    except KeyError:
        raise DataError("dataset has no planted interaction types (meta['interaction'])",
                        file=dataset.source, field="meta.interaction") from None
