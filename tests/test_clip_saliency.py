"""The MME-JD image path with the ``clip`` scorer on image files (issue 27 item 6): input-gradient saliency mapped
from CLIP's centre crop back onto the whole image, colour counterfactuals, and [0, 1] float images read back."""

from __future__ import annotations

import numpy as np
import pytest
from hf_tiny import single_thread, tiny_clip, tiny_image

from interlens.data.schema import Dataset, Sample
from interlens.debias.counterfactual import image_array, image_counterfactuals
from interlens.errors import DataError
from interlens.scoring.clip import ClipScorer
from interlens.scoring.encoders import image_to_array
from interlens.scoring.hf.media import load_image

#: (width, height): a wide, a tall and a square image (the tiny CLIP reads a 28 x 28 centre crop)
SIZES = [(56, 28), (28, 42), (28, 28), (56, 28), (28, 42), (28, 28)]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("jpegs")
    samples = []
    for i, size in enumerate(SIZES):
        path = folder / f"{i}.jpg"
        tiny_image(i, size).save(path, "JPEG", quality=95)
        samples.append(Sample(str(i), {"caption": "the speaker says yes", "cartoon": str(path)}, "ab"[i % 2]))
    data = Dataset("jpegs", ("a", "b"), samples, ("caption", "cartoon"), splits={"train": [s.id for s in samples]},
                   kinds={"caption": "text", "cartoon": "image"})
    model, tok, processor = tiny_clip()
    with single_thread():
        scorer = ClipScorer(model=model, tokenizer=tok, image_processor=processor, epochs=5).fit(data, ["cartoon"])
    return scorer, data


def test_load_image_reads_unit_floats_as_intensities() -> None:
    assert np.asarray(load_image(np.full((2, 3), 0.5))).tolist() == [[[128] * 3] * 3] * 2
    assert np.asarray(load_image(np.full((2, 3), 200, dtype=np.uint8)))[0, 0].tolist() == [200, 200, 200]


def test_image_array_keeps_colour_and_encoders_read_it_as_pil_luma(tmp_path) -> None:
    rgb, grey = tmp_path / "rgb.png", tmp_path / "grey.png"
    tiny_image(3, (5, 5)).save(rgb)
    tiny_image(3, (5, 5)).convert("L").save(grey)
    colour = image_array(str(rgb))
    assert colour.shape == (5, 5, 3)
    assert np.array_equal(colour * 255, np.asarray(tiny_image(3, (5, 5)), dtype=np.float64))
    assert image_array(str(grey)).shape == (5, 5)
    # the embedding scorer reads a colour counterfactual array as it reads the file: PIL's L, up to its rounding
    assert np.abs(image_to_array(colour, 5) - image_to_array(str(rgb), 5)).max() <= 0.5 / 255 + 1e-9


def test_clip_input_gradients_cover_only_the_centre_crop(fitted) -> None:
    scorer, data = fitted
    with single_thread():
        maps = scorer.input_gradients(data, "cartoon", "cartoon")
    assert [m.shape for m in maps] == [(28, 28)] * len(SIZES)
    covered = {(56, 28): (slice(0, 28), slice(7, 21)), (28, 42): (slice(5, 23), slice(0, 28)),
               (28, 28): (slice(0, 28), slice(0, 28))}
    for grad, size in zip(maps, SIZES, strict=True):
        rows, cols = covered[size]
        inside = np.zeros((28, 28), dtype=bool)
        inside[rows, cols] = True
        assert np.all(grad[~inside] == 0.0), size  # what the centre crop cut away has no gradient
        assert np.all(np.isfinite(grad)) and np.count_nonzero(grad[inside]) == inside.sum(), size


def test_clip_input_gradients_on_a_square_image_are_the_pixel_gradients(fitted) -> None:
    """On an image the processor reads as it is (28 x 28) the map is d margin / d pixel_values, summed over the
    channels with the processor's scale (intensity 0..1 -> normalised pixel values)."""
    import torch

    scorer, data = fitted
    square = data.subset(["2"])
    with single_thread():
        (grad,) = scorer.input_gradients(square, "cartoon", "cartoon", target=[1])
        pixels = scorer.processor_(images=[load_image(square.samples[0].inputs["cartoon"])],
                                   return_tensors="pt")["pixel_values"].requires_grad_(True)
        emb = scorer.model_.get_image_features(pixel_values=pixels)
        emb = torch.nn.functional.normalize(getattr(emb, "pooler_output", emb).float(), dim=-1)
        logits = scorer.heads_["cartoon"](emb)
        (direct,) = torch.autograd.grad(logits[0, 1] - logits[0].mean(), pixels)
    scale = torch.tensor(scorer._pixel_scale()[0], dtype=torch.float32)
    direct = (direct[0] * scale[:, None, None]).sum(0).double().numpy()
    assert np.corrcoef(grad.ravel(), direct.ravel())[0, 1] > 0.99
    assert grad.sum() == pytest.approx(direct.sum(), rel=0.05)


def test_counterfactuals_keep_colour_and_read_back_unmasked_pixels(fitted) -> None:
    scorer, data = fitted
    with single_thread():
        images, masks = image_counterfactuals(scorer, data, None, modality="cartoon")
    for sample, cf, mask in zip(data.samples, images, masks, strict=True):
        original = image_array(sample.inputs["cartoon"])
        assert cf.shape == original.shape and cf.ndim == 3 and mask.shape == original.shape[:2]
        assert mask.max() > 0.5
        assert np.allclose(cf, (1 - mask[..., None]) * original, atol=1e-6)  # Alg. 1 line 10, baseline 0
        # the scorer reads the [0, 1] float counterfactual as that image, not as a black one
        assert np.array_equal(np.asarray(load_image(cf)), np.round(cf.astype(np.float64) * 255).astype(np.uint8))


def test_clip_input_gradients_refuse_a_text_view(fitted) -> None:
    scorer, data = fitted
    with pytest.raises(DataError, match="input gradients need the unimodal view of an image-kind modality"):
        scorer.input_gradients(data, "caption", "caption")
