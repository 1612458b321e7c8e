"""Pure functions of the MME-JD paper (Wu et al.): counterfactual text masking (App. B.1), the
saliency-mask pipeline of Algorithm 1 (App. B.2), MID (Eq. 5), debias categories (Sec. 4.2.1),
MME-JD combination (Eq. 15) and MRID (Eq. 23).

Probability arrays are ``(n, K)`` (a single ``(K,)`` vector is accepted too).
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping, Sequence

import numpy as np

from ..errors import DataError
from ..torch_utils import softmax

CATEGORIES = ("none", "image", "text", "both", "excluded")
# router classes c = 0..3 of Sec. 4.3.2: GE only, GE + IDE, GE + TDE, GE + IDE + TDE
ROUTER_CLASSES = ("none", "image", "text", "both")
NORMALISE = ("none", "clip", "softmax")


# -- counterfactual text (App. B.1, Eq. 21) ------------------------------------------------------
def mask_words(text: str, words: Iterable[str], mask_token: str = "[MASK]", *,
               vocab: Container[str] | None = None) -> str:
    """Replace every whole-word occurrence of each of ``words`` by ``mask_token``.

    Matching is case-insensitive on word boundaries (``"cat"`` does not touch ``"concat"``);
    multi-word phrases are allowed and longer phrases are replaced first. With a tokenizer
    ``vocab`` the mask token must be in it (otherwise the counterfactual would be tokenised into
    pieces of the literal string ``[MASK]``).
    """
    if not isinstance(text, str) or not text.strip():
        raise DataError("cannot mask words in an empty text", field="text")
    if not mask_token:
        raise DataError("mask_token must be a non-empty string", field="mask_token")
    if vocab is not None and mask_token not in vocab:
        raise DataError(f"mask token {mask_token!r} is not in the tokenizer's vocabulary", field="mask_token")
    phrases = sorted({w.strip() for w in words if w and w.strip()}, key=len, reverse=True)
    if not phrases:
        return text
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(p) for p in phrases) + r")(?!\w)", re.IGNORECASE)
    return pattern.sub(lambda _m: mask_token, text)


# -- counterfactual image (Algorithm 1) ------------------------------------------------------------
def saliency_to_mask(saliency: np.ndarray, size: tuple[int, int], *, enhance: float = 1.0, power: float = 1.0,
                     sigma: float = 0.5) -> np.ndarray:
    """Algorithm 1 lines 6-9: normalise to [0, 1] -> enhance -> smooth -> interpolate to ``size``.

    Enhancement is ``clip(enhance * m ** power, 0, 1)`` (line 7 scales by the factor alpha; a
    ``power`` > 1 sharpens the contrast). Smoothing is a gaussian filter (the paper's Conv2D with a
    smoothing kernel; ``sigma = 0`` skips it); interpolation is bilinear (``scipy.ndimage.zoom``,
    order 1). A constant map normalises to all zeros. Returns a ``size`` array in [0, 1].
    """
    from scipy import ndimage
    s = np.asarray(saliency, dtype=np.float64)
    if s.ndim != 2 or s.size == 0:
        raise DataError(f"saliency must be a non-empty 2-D array, got shape {s.shape}", field="saliency")
    if not np.isfinite(s).all():
        raise DataError("saliency has non-finite values", field="saliency")
    lo, hi = s.min(), s.max()
    m = (s - lo) / (hi - lo) if hi > lo else np.zeros_like(s)
    m = np.clip(enhance * m ** power, 0.0, 1.0)
    if sigma > 0:
        m = ndimage.gaussian_filter(m, sigma=sigma, mode="nearest")
    h, w = size
    if (h, w) != m.shape:
        m = ndimage.zoom(m, (h / m.shape[0], w / m.shape[1]), order=1, mode="nearest", grid_mode=True)
    return np.clip(m, 0.0, 1.0)


def alpha_blend(image: np.ndarray, mask: np.ndarray, baseline: np.ndarray | float | str = "blur", *,
                blur_sigma: float = 2.0) -> np.ndarray:
    """Algorithm 1 line 10: ``(1 - mask) * image + mask * baseline``.

    Salient regions (mask near 1) are replaced by the baseline, leaving the spurious context.
    ``baseline``: an array of the image's shape, a constant, or ``"blur"`` (a gaussian blur of the
    image with ``blur_sigma``).
    """
    from scipy import ndimage
    image = np.asarray(image, dtype=np.float64)
    mask = np.asarray(mask, dtype=np.float64)
    if mask.shape != image.shape:
        raise DataError(f"mask shape {mask.shape} differs from image shape {image.shape}", field="mask")
    if isinstance(baseline, str):
        if baseline != "blur":
            raise DataError(f"unknown baseline {baseline!r}; use 'blur', a constant or an array", field="baseline")
        base = ndimage.gaussian_filter(image, sigma=blur_sigma, mode="nearest")
    else:
        base = np.broadcast_to(np.asarray(baseline, dtype=np.float64), image.shape)
    return (1.0 - mask) * image + mask * base


# -- MID (Eq. 5-6) -----------------------------------------------------------------------------------
def _probs(p: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(p, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise DataError(f"{name} must be (n, K) probabilities, got shape {a.shape}", field=name)
    return a


def normalise(scores: np.ndarray, how: str = "clip") -> np.ndarray:
    """Turn corrected scores back into distributions.

    ``"none"``: leave them (argmax only; the paper's Eq. 5 as written), ``"clip"``: clip at 0 and
    renormalise (rows that are all <= 0 become uniform), ``"softmax"``: the ``norm`` of Eq. 7.
    """
    if how == "none":
        return scores
    if how == "softmax":
        return softmax(scores, axis=1)
    if how == "clip":
        c = np.clip(scores, 0.0, None)
        total = c.sum(axis=1, keepdims=True)
        uniform = np.full_like(c, 1.0 / c.shape[1])
        return np.where(total > 0, c / np.where(total > 0, total, 1.0), uniform)
    raise DataError(f"unknown normalisation {how!r}; choose one of {NORMALISE}", field="normalise")


def mid_correct(p0: np.ndarray, p_img_cf: np.ndarray, p_txt_cf: np.ndarray, alpha: float, beta: float, *,
                normalise_how: str = "none") -> np.ndarray:
    """MID, Eq. 5: ``p~ = p0 - alpha * p_i - beta * p_t``, then :func:`normalise`.

    Default ``"none"``: the literal Eq. 5 scores, decided by their argmax (the paper subtracts and
    takes the argmax; Eq. 7's ``norm`` is a softmax, which keeps that argmax). ``"clip"`` (an option,
    the earlier default) clips at 0 and renormalises: a row that is all <= 0 becomes uniform, which
    changes its argmax.
    """
    p0, pi, pt = _probs(p0, "p0"), _probs(p_img_cf, "p_img_cf"), _probs(p_txt_cf, "p_txt_cf")
    if not (p0.shape == pi.shape == pt.shape):
        raise DataError(f"probability shapes differ: p0 {p0.shape}, p_img_cf {pi.shape}, p_txt_cf {pt.shape}",
                        field="probs")
    return normalise(p0 - alpha * pi - beta * pt, normalise_how)


# -- debias categories (Sec. 4.2.1) ---------------------------------------------------------------------
def debias_category(p0_y: float, pi_y: float, pt_y: float, eps: float = 0.1) -> str:
    """Category of one sample from the gold-label probabilities (Sec. 4.2.1, tolerance ``eps``).

    * none:  ``p_t(y) > p0(y) + eps`` and ``p_i(y) > p0(y) + eps`` (both contexts aid);
    * image: ``p_i(y) + eps < p0(y) < p_t(y) - eps``;
    * text:  ``p_t(y) + eps < p0(y) < p_i(y) - eps``;
    * both:  ``p_t(y) + eps < p0(y)`` and ``p_i(y) + eps < p0(y)``;
    * excluded: everything else (inside the margin). The four rules are mutually exclusive.
    """
    if pt_y > p0_y + eps and pi_y > p0_y + eps:
        return "none"
    if pi_y + eps < p0_y < pt_y - eps:
        return "image"
    if pt_y + eps < p0_y < pi_y - eps:
        return "text"
    if pt_y + eps < p0_y and pi_y + eps < p0_y:
        return "both"
    return "excluded"


def debias_categories(p0: np.ndarray, p_img_cf: np.ndarray, p_txt_cf: np.ndarray, y: Sequence[int],
                      eps: float = 0.1) -> np.ndarray:
    """:func:`debias_category` per sample; ``y`` are gold label indices."""
    p0, pi, pt = _probs(p0, "p0"), _probs(p_img_cf, "p_img_cf"), _probs(p_txt_cf, "p_txt_cf")
    y = np.asarray(y, dtype=np.int64)
    if len(y) != len(p0) or (y < 0).any() or (y >= p0.shape[1]).any():
        raise DataError("gold labels must be valid indices, one per sample", field="label")
    r = np.arange(len(y))
    return np.array([debias_category(a, b, c, eps) for a, b, c in zip(p0[r, y], pi[r, y], pt[r, y], strict=True)],
                    dtype=object)


def router_targets(categories: Sequence[str], excluded_as: str | None = "none") -> np.ndarray:
    """Router class per sample: ``excluded`` becomes ``excluded_as`` (the paper does not say what
    the router learns for excluded samples; "none" = leave them to the general expert)."""
    return np.array([excluded_as if c == "excluded" else c for c in categories], dtype=object)


def benefit_targets(p_ge: np.ndarray, p_ide: np.ndarray, p_tde: np.ndarray, y: Sequence[int],
                    eps: float = 0.1) -> np.ndarray:
    """Router targets from what each route *does* for the sample (beyond the paper, an option): the
    route whose Eq. 15 combination with unit weights (``p_GE``, ``+ p_IDE``, ``+ p_TDE``, ``+ both``,
    averaged) gives the gold label the highest probability; ``none`` unless that beats ``p_GE(y)``
    by more than ``eps``. Unlike the Sec. 4.2.1 rule it marks the samples that debiasing corrects."""
    ge, ide, tde = _probs(p_ge, "p_ge"), _probs(p_ide, "p_ide"), _probs(p_tde, "p_tde")
    y = np.asarray(y, dtype=np.int64)
    if not (ge.shape == ide.shape == tde.shape) or len(y) != len(ge) or (y < 0).any() or (y >= ge.shape[1]).any():
        raise DataError("expert probabilities must share one (n, K) shape, with one valid gold index per row",
                        field="label")
    r = np.arange(len(y))
    routes = {"none": ge, "image": (ge + ide) / 2, "text": (ge + tde) / 2, "both": (ge + ide + tde) / 3}
    gold = np.stack([routes[c][r, y] for c in ROUTER_CLASSES], axis=1)
    best = gold.argmax(1)
    best = np.where(gold[r, best] > gold[:, 0] + eps, best, 0)
    return np.array([ROUTER_CLASSES[b] for b in best], dtype=object)


# -- MME-JD (Eq. 15) and MRID (Eq. 23) -------------------------------------------------------------------
def _check_route(route: Sequence[str], n: int) -> np.ndarray:
    route = np.asarray(route, dtype=object)
    bad = sorted({str(c) for c in route if c not in ROUTER_CLASSES})
    if len(route) != n or bad:
        raise DataError(f"route must give one of {ROUTER_CLASSES} per sample (bad: {bad})", field="route")
    return route


def _weights(weights: Mapping[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    out = {"none": (0.0, 0.0), **{k: (float(a), float(b)) for k, (a, b) in weights.items()}}
    missing = [c for c in ROUTER_CLASSES if c not in out]
    if missing:
        raise DataError(f"weights missing for route classes {missing}", field="weights")
    return out


def mmejd_combine(p_ge: np.ndarray, p_ide: np.ndarray, p_tde: np.ndarray, route: Sequence[str],
                  weights: Mapping[str, tuple[float, float]]) -> np.ndarray:
    """Eq. 15: ``p_GE`` (c=0), ``+ alpha_1 p_IDE`` (1), ``+ beta_2 p_TDE`` (2), ``+ alpha_3 p_IDE +
    beta_3 p_TDE`` (3). ``weights[c] = (alpha_c, beta_c)``; the unused one of c=1/2 is ignored.
    Rows are renormalised to sum to 1 (argmax unchanged: all terms are non-negative)."""
    ge, ide, tde = _probs(p_ge, "p_ge"), _probs(p_ide, "p_ide"), _probs(p_tde, "p_tde")
    route = _check_route(route, len(ge))
    w = _weights(weights)
    a = np.array([0.0 if c in ("none", "text") else w[c][0] for c in route])[:, None]
    b = np.array([0.0 if c in ("none", "image") else w[c][1] for c in route])[:, None]
    out = ge + a * ide + b * tde
    return out / out.sum(axis=1, keepdims=True)


def mrid_correct(p0: np.ndarray, p_img_cf: np.ndarray, p_txt_cf: np.ndarray, route: Sequence[str],
                 weights: Mapping[str, tuple[float, float]], *, normalise_how: str = "none") -> np.ndarray:
    """Eq. 23: MID gated by the router -- ``p0`` (c=0), ``p0 - alpha_1 p_i`` (1), ``p0 - beta_2 p_t``
    (2), ``p0 - alpha_3 p_i - beta_3 p_t`` (3); then :func:`normalise`."""
    p0, pi, pt = _probs(p0, "p0"), _probs(p_img_cf, "p_img_cf"), _probs(p_txt_cf, "p_txt_cf")
    route = _check_route(route, len(p0))
    w = _weights(weights)
    a = np.array([0.0 if c in ("none", "text") else w[c][0] for c in route])[:, None]
    b = np.array([0.0 if c in ("none", "image") else w[c][1] for c in route])[:, None]
    return normalise(p0 - a * pi - b * pt, normalise_how)
