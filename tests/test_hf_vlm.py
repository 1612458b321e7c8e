"""Vision LMs (Qwen2-VL, LLaVA): one-pass label scoring with images equals K forwards, batching does not
change scores, a view without the image leaves no image token in the prompt, videos become frames."""

from __future__ import annotations

import numpy as np
import pytest
from hf_tiny import (
    save_tiny,
    single_thread,
    tiny_image,
    tiny_llava,
    tiny_qwen2,
    tiny_qwen2_5_vl,
    tiny_qwen2_vl,
    toy_dataset,
)

from interlens.data.schema import Dataset, Sample
from interlens.errors import DataError
from interlens.scoring.hf import HFLMScorer, HFVLMScorer

LABELS = ("sarcastic", "sincere", "ask for help")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with single_thread():
        yield


@pytest.fixture(scope="module")
def data() -> Dataset:
    return toy_dataset(5, LABELS, images=True, splits=False)


BUILDERS = {"qwen2-vl": tiny_qwen2_vl, "qwen2.5-vl": tiny_qwen2_5_vl, "llava": tiny_llava}


@pytest.fixture(scope="module", params=list(BUILDERS))
def vlm(request):
    model, tok, processor = BUILDERS[request.param](seed=1)
    family = "qwen2-vl" if request.param.startswith("qwen") else request.param
    return family, HFVLMScorer(model=model, tokenizer=tok, image_processor=processor, batch_size=5)


def test_one_pass_equals_naive_with_images(vlm, data):
    family, scorer = vlm
    fast = scorer.logprobs(data, "text+image")
    np.testing.assert_allclose(fast, scorer.logprobs(data, "text+image", naive=True), atol=1e-4)
    assert scorer.builder_.encoder.family == family


def test_batch_size_does_not_change_vlm_scores(vlm, data):
    _, scorer = vlm
    batched = scorer.logprobs(data, "text+image")
    scorer.batch_size = 1
    try:
        np.testing.assert_allclose(scorer.logprobs(data, "text+image"), batched, atol=1e-5)
    finally:
        scorer.batch_size = 5


def test_masked_image_leaves_no_image_tokens(vlm, data):
    family, scorer = vlm
    encoder = scorer.load().builder_.encoder
    with_image, _, _ = scorer.builder_.encode(data, "text+image")
    without, _, rendered = scorer.builder_.encode(data, "text")
    image_id = encoder.image_token_id
    per_image = 16  # qwen2-vl: 56x56 -> 4x4 patches / merge 2x2 = 4 tokens (84x56 -> 6); llava: 4x4 patches
    counts = [p.ids.count(image_id) for p in with_image]
    assert all(c > 0 for c in counts) and (family == "qwen2-vl" or counts == [per_image] * 5)
    assert all(image_id not in p.ids and p.pixel_values is None for p in without)
    assert all(r.media == () for r in rendered)
    text_only = scorer.logprobs(data, "text")
    assert np.abs(text_only - scorer.logprobs(data, "text+image")).max() > 1e-3
    image_only = scorer.logprobs(data, "image")  # the utterance is absent: no text of it in the prompt
    assert image_only.shape == (5, 3)
    _, _, image_prompts = scorer.builder_.encode(data, "image")
    assert all(data.samples[i].inputs["text"] not in image_prompts[i].to_text() for i in range(5))


def test_qwen2_vl_video_frames_and_mrope():
    model, tok, processor = tiny_qwen2_vl(seed=2)
    frames = [[tiny_image(10 * i + f) for f in range(3)] for i in range(3)]
    samples = [Sample(f"v{i}", {"text": f"clip {i} says hello", "video": frames[i]}, LABELS[i]) for i in range(3)]
    data = Dataset("clips", LABELS, samples, ("text", "video"), dimension="intent")
    scorer = HFVLMScorer(model=model, tokenizer=tok, image_processor=processor, max_frames=2)
    prompts, _, rendered = scorer.load().builder_.encode(data, "text+video")
    assert rendered[0].messages[-1].text.startswith("You are presented with a video in which the speaker says")
    assert all(p.image_grid_thw.shape == (2, 3) for p in prompts)  # subsampled to 2 frames, one image each
    batch = scorer.builder_.encoder.collate(prompts)
    assert batch.mrope and batch.position_ids.shape[0] == 3
    assert (batch.next_position < batch.attention_mask.sum(-1)).all()  # M-RoPE positions are compressed
    np.testing.assert_allclose(scorer.logprobs(data, "text+video"), scorer.logprobs(data, "text+video", naive=True),
                               atol=1e-4)


def test_image_errors_are_clear(tmp_path):
    model, tok, processor = tiny_qwen2_vl(seed=0)
    scorer = HFVLMScorer(model=model, tokenizer=tok, image_processor=processor)
    missing = Dataset("m", LABELS, [Sample("gone", {"text": "hi", "image": str(tmp_path / "gone.png")}, LABELS[0])],
                      ("text", "image"), dimension="intent")
    with pytest.raises(DataError, match="record gone, field 'image': image file not found"):
        scorer.predict_proba(missing, "text+image")
    text_model, text_tok = tiny_qwen2(seed=0)
    pictures = toy_dataset(2, LABELS, images=True, splits=False)
    with pytest.raises(DataError, match="scorer 'hf-lm' cannot honour view image \\(modality kinds "
                                        "\\{'image': 'image'\\}\\); supported views: \\['text'\\]"):
        HFLMScorer(model=text_model, tokenizer=text_tok).predict_proba(pictures, "image")
    with pytest.raises(DataError, match="needs an image processor"):
        HFVLMScorer(model=model, tokenizer=tok).load()
    tiny_image(0).save(tmp_path / "ok.png")
    by_path = Dataset("p", LABELS, [Sample("ok", {"text": "hi", "image": str(tmp_path / "ok.png")}, LABELS[0])],
                      ("text", "image"), dimension="intent")
    assert scorer.predict_proba(by_path, "text+image").probs.shape == (1, 3)


def test_vlm_loads_offline_from_a_folder(tmp_path, data):
    model, tok, processor = tiny_llava(seed=3)
    folder = save_tiny(model, tok, tmp_path / "llava", processor)
    from_path = HFVLMScorer(folder, batch_size=5)
    in_memory = HFVLMScorer(model=model, tokenizer=tok, image_processor=processor, batch_size=5)
    np.testing.assert_allclose(from_path.predict_proba(data, "text+image").probs,
                               in_memory.predict_proba(data, "text+image").probs, atol=1e-6)
    assert from_path.fingerprint != in_memory.fingerprint  # path-based vs parameter-based identity
    assert from_path.fingerprint == HFVLMScorer(folder).fingerprint


def test_media_are_placed_by_kind_not_by_name(data):
    model, tok, processor = tiny_qwen2_vl(seed=1)
    scorer = HFVLMScorer(model=model, tokenizer=tok, image_processor=processor, batch_size=5)
    renamed = Dataset("renamed", LABELS, [Sample(s.id, {"utterance": s.inputs["text"], "picture": s.inputs["image"]},
                                                 s.label) for s in data.samples], ("utterance", "picture"),
                      dimension=data.dimension)
    assert renamed.kinds == {"utterance": "text", "picture": "image"}
    assert scorer.default_view(renamed) == "utterance+picture"
    np.testing.assert_allclose(scorer.logits(renamed, "utterance+picture"), scorer.logits(data, "text+image"),
                               atol=1e-6)
    np.testing.assert_allclose(scorer.logits(renamed, "picture"), scorer.logits(data, "image"), atol=1e-6)
    feats = scorer.features(renamed)  # pooled hidden state of the default (joint) view's prompt
    assert feats.shape == (5, 64) and np.isfinite(feats).all()
