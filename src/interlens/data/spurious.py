"""Built-in synthetic two-modality data with *planted spurious cues* (the debiasing demo and tests).

Binary task (labels ``neg``, ``pos``), modality ``text`` (a templated review sentence) and ``image``
(an 8x8 scikit-learn digit scan, offline). The semantic evidence is present but *noisy*, so that in
training it is less reliable than the spurious cue (a model then prefers the cue) while at test it
is the only signal (a correction that removes the cue can flip decisions to the right label):

* text: a sentiment word is present with probability ``p_semantic`` (otherwise a neutral word such
  as "ordinary"); a present word names the true label with probability ``semantic_accuracy``
  and the other label otherwise;
* image: likewise a digit ``1`` (pos) / ``0`` (neg), or a neutral digit 2-9.

Two spurious cues co-occur with one label in ``train`` and are uncorrelated in ``dev``/``test``
(``eval_bias = 0.5``; below 0.5 they are anti-correlated):

* a **text cue**: the topic word ``"weather"`` (else movie / meal / trip), tied to ``pos``;
* an **image cue**: a bright 2x2 patch in the top-left corner, tied to ``neg``.

A cue is present in a fraction ``p_cue`` of samples; among them the label equals the cue's label
with probability ``train_bias`` (train) or ``eval_bias`` (dev, test). ``meta`` holds the ground
truth: ``cue`` (none / text / image / both), ``text_cue``, ``image_cue``, ``affected`` (some
present cue points at the wrong label), ``semantic_text``, ``semantic_image`` (the word / digit
points at a label: ``"right"``, ``"wrong"`` or ``"absent"``), ``topic``, ``digit``.
The dev split follows the *test* distribution: MID's alpha, beta are tuned on it (a small
unbiased validation set; on a biased one the best correction is none).
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .schema import Dataset, Sample

LABELS = ("neg", "pos")
TEXT_CUE, TEXT_CUE_LABEL = "weather", "pos"
IMAGE_CUE_LABEL = "neg"
TOPICS = ("movie", "meal", "trip")
WORDS = {"pos": ("great", "wonderful", "lovely", "excellent"),
         "neg": ("awful", "terrible", "horrible", "dreadful"),
         "neutral": ("ordinary", "average", "typical", "standard")}
FRAMES = ("Talking about the {topic}, honestly it was {word}.",
          "My note on the {topic}: it was {word}.",
          "Everyone agreed the {topic} was {word} today.")
DIGITS = {"neg": 0, "pos": 1}
PATCH = (slice(0, 2), slice(0, 2))


def _image(scan: np.ndarray, patch: bool, rng: np.random.Generator, noise: float) -> np.ndarray:
    img = scan.astype(np.float64) + rng.normal(0.0, noise, size=scan.shape)
    img = np.clip(img, 0.0, 16.0) / 16.0
    if patch:
        img[PATCH] = 1.0
    return img.astype(np.float32)


def make_spurious(n: int = 1200, *, p_semantic: float = 0.9, semantic_accuracy: float = 0.8, p_cue: float = 0.35,
                  train_bias: float = 0.95, eval_bias: float = 0.5,
                  split_fractions: tuple[float, float, float] = (0.5, 0.25, 0.25),
                  noise: float = 1.0, seed: int = 0) -> Dataset:
    """Generate ``n`` samples with planted spurious cues (see module docstring). Deterministic per seed."""
    for name, value in (("p_semantic", p_semantic), ("semantic_accuracy", semantic_accuracy), ("p_cue", p_cue),
                        ("train_bias", train_bias),
                        ("eval_bias", eval_bias)):
        if not 0.0 <= value <= 1.0:
            raise DataError(f"{name} must be in [0, 1], got {value}", field=name)
    if n < 40:
        raise DataError(f"n must be at least 40, got {n}", field="n")
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    pools: dict[str, dict[int, np.ndarray]] = {"train": {}, "dev": {}, "test": {}}
    for c in range(10):  # disjoint digit scans per split
        idx = rng.permutation(np.flatnonzero(digits.target == c))
        a, b = int(len(idx) * 0.5), int(len(idx) * 0.75)
        pools["train"][c], pools["dev"][c], pools["test"][c] = idx[:a], idx[a:b], idx[b:]
    n_train, n_dev = int(round(split_fractions[0] * n)), int(round(split_fractions[1] * n))
    samples, splits = [], {"train": [], "dev": [], "test": []}
    for i in range(n):
        split = "train" if i < n_train else "dev" if i < n_train + n_dev else "test"
        bias = train_bias if split == "train" else eval_bias
        text_cue, image_cue = bool(rng.random() < p_cue), bool(rng.random() < p_cue)
        # the label follows a present cue with probability `bias`; two cues disagree -> a fair coin
        votes = []
        if text_cue:
            votes.append(TEXT_CUE_LABEL if rng.random() < bias else "neg")
        if image_cue:
            votes.append(IMAGE_CUE_LABEL if rng.random() < bias else "pos")
        y = votes[int(rng.integers(len(votes)))] if votes else LABELS[int(rng.integers(2))]
        other = LABELS[1 - LABELS.index(y)]
        sem_t, sem_i = (("right" if rng.random() < semantic_accuracy else "wrong") if rng.random() < p_semantic
                        else "absent" for _ in range(2))
        word_label = {"right": y, "wrong": other, "absent": "neutral"}
        word = WORDS[word_label[sem_t]][int(rng.integers(4))]
        topic = TEXT_CUE if text_cue else TOPICS[int(rng.integers(len(TOPICS)))]
        text = FRAMES[int(rng.integers(len(FRAMES)))].format(topic=topic, word=word)
        digit = DIGITS[word_label[sem_i]] if sem_i != "absent" else int(rng.integers(2, 10))
        scan = digits.images[int(rng.choice(pools[split][digit]))]
        affected = (text_cue and y != TEXT_CUE_LABEL) or (image_cue and y != IMAGE_CUE_LABEL)
        cue = {(False, False): "none", (True, False): "text", (False, True): "image", (True, True): "both"}[
            (text_cue, image_cue)]
        sample_id = f"spu{seed}-{i:05d}"
        samples.append(Sample(id=sample_id, inputs={"text": text, "image": _image(scan, image_cue, rng, noise)},
                              label=y, meta={"cue": cue, "text_cue": text_cue, "image_cue": image_cue,
                                             "affected": bool(affected), "semantic_text": sem_t,
                                             "semantic_image": sem_i, "topic": topic, "digit": digit}))
        splits[split].append(sample_id)
    return Dataset(name=f"spurious-n{n}-s{seed}", labels=LABELS, samples=samples, modalities=("text", "image"),
                   splits=splits, task="synthetic spurious cues", dimension="synthetic",
                   source="interlens.data.spurious",
                   info={"p_semantic": p_semantic, "semantic_accuracy": semantic_accuracy, "p_cue": p_cue,
                         "train_bias": train_bias, "eval_bias": eval_bias,
                         "seed": seed, "noise": noise, "text_cue": TEXT_CUE, "image_cue_patch": "rows 0-1, cols 0-1"})


def affected_mask(dataset: Dataset) -> np.ndarray:
    """``meta["affected"]`` per sample (a present cue points at the wrong label)."""
    try:
        return np.array([bool(s.meta["affected"]) for s in dataset.samples])
    except KeyError:
        raise DataError("dataset has no planted spurious cues (meta['affected'])", file=dataset.source,
                        field="meta.affected") from None
