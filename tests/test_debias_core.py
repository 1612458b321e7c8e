"""Exact hand-made tests of the MME-JD pure functions (debias/core.py)."""

import numpy as np
import pytest

from interlens.debias.core import (
    alpha_blend,
    debias_categories,
    debias_category,
    mask_words,
    mid_correct,
    mmejd_combine,
    mrid_correct,
    normalise,
    router_targets,
    saliency_to_mask,
)
from interlens.errors import DataError


def test_mask_words_word_boundaries_and_phrases():
    assert mask_words("nothing says equality like discrimination", ["equality", "discrimination"]) == \
        "nothing says [MASK] like [MASK]"
    assert mask_words("concat the cat, Cat!", ["cat"]) == "concat the [MASK], [MASK]!"
    assert mask_words("too much and much", ["too much", "much"], "<m>") == "<m> and <m>"
    assert mask_words("keep it", []) == "keep it"


def test_mask_words_errors():
    with pytest.raises(DataError, match="empty text"):
        mask_words("  ", ["a"])
    with pytest.raises(DataError, match="vocabulary"):
        mask_words("a b", ["a"], "[MASK]", vocab={"a", "b", "<mask>"})
    assert mask_words("a b", ["a"], "<mask>", vocab={"<mask>"}) == "<mask> b"


def test_saliency_pipeline_exact():
    s = np.array([[0.0, 2.0], [4.0, 4.0]])
    m = saliency_to_mask(s, (2, 2), sigma=0)
    assert np.allclose(m, [[0, 0.5], [1, 1]])
    m = saliency_to_mask(s, (2, 2), power=2, enhance=2, sigma=0)  # 2 * m^2, clipped
    assert np.allclose(m, [[0, 0.5], [1, 1]])
    m = saliency_to_mask(s, (2, 2), enhance=0.5, sigma=0)
    assert np.allclose(m, [[0, 0.25], [0.5, 0.5]])
    assert np.allclose(saliency_to_mask(np.ones((3, 3)), (6, 6)), 0)  # constant map -> nothing salient
    big = saliency_to_mask(s, (8, 8), sigma=0.5)
    assert big.shape == (8, 8) and big.min() >= 0 and big.max() <= 1
    assert big[0, 0] < big[-1, -1]
    with pytest.raises(DataError, match="2-D"):
        saliency_to_mask(np.ones(4), (2, 2))


def test_alpha_blend():
    img = np.array([[1.0, 0.0], [0.5, 0.5]])
    mask = np.array([[1.0, 0.0], [0.5, 0.0]])
    assert np.allclose(alpha_blend(img, mask, 0.0), [[0, 0], [0.25, 0.5]])
    blurred = alpha_blend(img, np.ones_like(img), "blur", blur_sigma=100)
    assert np.allclose(blurred, blurred.mean(), atol=0.05)
    with pytest.raises(DataError, match="shape"):
        alpha_blend(img, np.ones((3, 3)))


def test_mid_correct_and_normalise():
    p0 = np.array([[0.6, 0.4]])
    pi = np.array([[0.9, 0.1]])
    pt = np.array([[0.5, 0.5]])
    raw = mid_correct(p0, pi, pt, 0.5, 0.2, normalise_how="none")
    assert np.allclose(raw, [[0.6 - 0.45 - 0.1, 0.4 - 0.05 - 0.1]])  # [0.05, 0.25]
    assert np.allclose(mid_correct(p0, pi, pt, 0.5, 0.2), raw)  # the literal Eq. 5 is the default
    assert np.allclose(mid_correct(p0, pi, pt, 0.5, 0.2, normalise_how="clip"), [[1 / 6, 5 / 6]])
    assert np.allclose(mid_correct(p0, pi, pt, 0, 0), p0)
    assert np.allclose(normalise(np.array([[-1.0, -2.0]]), "clip"), [[0.5, 0.5]])
    assert np.allclose(normalise(np.array([[0.0, 0.0]]), "softmax"), [[0.5, 0.5]])
    with pytest.raises(DataError, match="shapes differ"):
        mid_correct(p0, pi[:, :1], pt, 1, 1)


@pytest.mark.parametrize("p0,pi,pt,expected", [
    (0.5, 0.7, 0.7, "none"),
    (0.5, 0.3, 0.7, "image"),
    (0.5, 0.7, 0.3, "text"),
    (0.5, 0.3, 0.3, "both"),
    (0.5, 0.55, 0.7, "excluded"),   # image inside the margin
    (0.5, 0.3, 0.55, "excluded"),   # image harms but text inside the margin
    (0.5, 0.6, 0.6, "excluded"),    # exactly eps: strict inequalities
])
def test_debias_category_rules(p0, pi, pt, expected):
    assert debias_category(p0, pi, pt, eps=0.1) == expected


def test_debias_categories_vectorised():
    p0 = np.array([[0.5, 0.5], [0.2, 0.8]])
    pi = np.array([[0.3, 0.7], [0.2, 0.8]])
    pt = np.array([[0.7, 0.3], [0.9, 0.1]])
    assert list(debias_categories(p0, pi, pt, [0, 1])) == ["image", "excluded"]
    assert list(router_targets(["excluded", "both"])) == ["none", "both"]


def test_mmejd_and_mrid():
    ge = np.array([[0.6, 0.4]] * 4)
    ide = np.array([[0.0, 1.0]] * 4)
    tde = np.array([[1.0, 0.0]] * 4)
    w = {"image": (1.0, 9.0), "text": (9.0, 0.5), "both": (1.0, 1.0)}
    out = mmejd_combine(ge, ide, tde, ["none", "image", "text", "both"], w)
    assert np.allclose(out, [[0.6, 0.4], [0.3, 0.7], [1.1 / 1.5, 0.4 / 1.5], [1.6 / 3, 1.4 / 3]])
    r = mrid_correct(ge, ide, tde, ["none", "image", "text", "both"], {"image": (0.2, 9), "text": (9, 0.2),
                                                                         "both": (0.2, 0.2)}, normalise_how="none")
    assert np.allclose(r, [[0.6, 0.4], [0.6, 0.2], [0.4, 0.4], [0.4, 0.2]])
    with pytest.raises(DataError, match="route"):
        mrid_correct(ge, ide, tde, ["none", "x", "text", "both"], w)


def test_benefit_targets_pick_the_route_that_corrects_the_sample():
    from interlens.debias.core import benefit_targets

    ge = np.array([[0.8, 0.2], [0.6, 0.4], [0.6, 0.4], [0.9, 0.1]])
    ide = np.array([[0.8, 0.2], [0.0, 1.0], [0.6, 0.4], [0.9, 0.1]])
    tde = np.array([[0.8, 0.2], [0.6, 0.4], [0.0, 1.0], [0.5, 0.5]])
    y = [0, 1, 1, 1]
    # row 0: nothing beats GE; row 1: GE+IDE gives p(y) 0.7 vs 0.4; row 2: GE+TDE 0.7; row 3: GE+TDE
    # 0.3 beats both (0.233) and GE (0.1) by 0.2 -- a route only when eps < 0.2
    assert benefit_targets(ge, ide, tde, y, eps=0.1).tolist() == ["none", "image", "text", "text"]
    assert benefit_targets(ge, ide, tde, y, eps=0.25).tolist() == ["none", "image", "text", "none"]
    with pytest.raises(DataError, match="gold"):
        benefit_targets(ge, ide, tde, [0, 1, 2, 0])
