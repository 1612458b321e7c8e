"""Model families of issue 17 (BLIP-2, InternVL, LLaVA-OneVision, LLaVA-NeXT-Video, Qwen2-VL video, CLIP) on tiny
random-weight models: one-pass label scores equal K naive forwards, batch size does not change scores, videos reach the
family's native video input with a fixed frame count, folders are detected by their config, and an
unsupported architecture is refused in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hf_tiny import (
    save_tiny,
    single_thread,
    tiny_blip2,
    tiny_clip,
    tiny_image,
    tiny_internvl,
    tiny_llava_next_video,
    tiny_llava_onevision,
    tiny_qwen2_audio,
    tiny_qwen2_vl,
    toy_dataset,
    write_frames,
    write_wav,
)

from interlens.data.schema import Dataset, Sample
from interlens.errors import DataError
from interlens.scoring.clip import ClipScorer
from interlens.scoring.hf import HFVLMScorer
from interlens.scoring.hf.families import detect_family, family_of_config
from interlens.scoring.hf.media import load_audio
from interlens.scoring.hf.scorers import Qwen2AudioScorer
from interlens.scoring.registry import make_scorer

LABELS = ("sarcastic", "sincere", "ask for help")
BUILDERS = {"blip2": tiny_blip2, "internvl": tiny_internvl, "llava-onevision": tiny_llava_onevision,
            "llava-next-video": tiny_llava_next_video, "qwen2-vl": tiny_qwen2_vl}
NATIVE_VIDEO = ("llava-onevision", "llava-next-video", "qwen2-vl")


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with single_thread():
        yield


@pytest.fixture(scope="module")
def data() -> Dataset:
    return toy_dataset(5, LABELS, images=True, splits=False)


@pytest.fixture(scope="module")
def videos(tmp_path_factory, data) -> Dataset:
    """Frame folders of 3 and 5 frames (a fixed 4 are sampled) beside each sample's text."""
    root = tmp_path_factory.mktemp("videos")
    samples = [Sample(s.id, {"text": s.inputs["text"], "clip": str(write_frames(root / s.id, n=3 + 2 * (i % 2),
                                                                                   seed=i))}, s.label)
               for i, s in enumerate(data.samples)]
    return Dataset("videos", LABELS, samples, ("text", "clip"), dimension="intent",
                   kinds={"text": "text", "clip": "video"})


@pytest.fixture(scope="module", params=list(BUILDERS))
def family(request):
    model, tok, processor = BUILDERS[request.param](seed=1)
    video = "native" if request.param in NATIVE_VIDEO else "frames"
    return request.param, HFVLMScorer(model=model, tokenizer=tok, image_processor=processor, batch_size=5,
                                      max_frames=4, video_input=video)


def assert_one_pass_exact(scorer, cases, name: str) -> None:
    """One-pass = the naive K-forward reference, and batch 2 = batch 5, for each (dataset, view)."""
    for dataset, view in cases:
        fast = scorer.logprobs(dataset, view)
        np.testing.assert_allclose(fast, scorer.logprobs(dataset, view, naive=True), atol=1e-4,
                                   err_msg=f"{name} {view}")
        scorer.batch_size = 2
        try:
            np.testing.assert_allclose(scorer.logprobs(dataset, view), fast, atol=1e-5, err_msg=f"{name} {view}")
        finally:
            scorer.batch_size = 5


def test_one_pass_equals_naive_and_is_batch_size_free(family, data, videos):
    name, scorer = family
    assert_one_pass_exact(scorer, ((data, "text+image"), (data, "text"), (videos, "text+clip")), name)
    assert scorer.builder_.encoder.family == name
    assert not np.allclose(scorer.logprobs(data, "text+image"), scorer.logprobs(data, "text"))


def test_video_reaches_native_input_with_a_fixed_frame_count(family, videos):
    name, scorer = family
    prompts, _, _ = scorer.builder_.encode(videos, "text+clip")
    if name == "qwen2-vl":  # 4 frames in temporal pairs -> t = 2; 28 px frames upscaled to the 56 px minimum
        assert all(p.extra["video_grid_thw"].tolist() == [[2, 4, 4]] for p in prompts)
        assert all(p.pixel_values is None for p in prompts)
    elif name == "llava-onevision":  # 4 frames x pooled 1x1 + 1 newline = 5 <video> tokens
        assert all(p.extra["pixel_values_videos"].shape[:2] == (1, 4) for p in prompts)
        video_id = scorer.builder_.encoder.video_token_id
        assert all(p.ids.count(video_id) == 5 for p in prompts)
    elif name == "llava-next-video":  # 4 frames x (4x4 grid pooled by stride 2 -> 2x2), no newline = 16 tokens
        assert all(p.extra["pixel_values_videos"].shape == (1, 4, 3, 56, 56) for p in prompts)
        video_id = scorer.builder_.encoder.video_token_id
        assert all(p.ids.count(video_id) == 16 for p in prompts)
        assert all(scorer.builder_.encoder.image_token_id not in p.ids for p in prompts)
    else:  # frames as images: <= max_frames images
        assert all(0 < p.pixel_values.shape[0] <= 4 for p in prompts)


def test_blip2_expands_each_image_to_its_query_tokens(data):
    model, tok, processor = tiny_blip2(seed=1)
    scorer = HFVLMScorer(model=model, tokenizer=tok, image_processor=processor).load()
    prompts, _, _ = scorer.builder_.encode(data, "text+image")
    image_id = model.config.image_token_index
    assert all(p.ids.count(image_id) == 4 for p in prompts)  # num_query_tokens
    text_only, _, _ = scorer.builder_.encode(data, "text")
    assert all(image_id not in p.ids for p in text_only)


def test_internvl_wraps_tiles_in_img_tokens(data):
    model, tok, processor = tiny_internvl(seed=1)
    scorer = HFVLMScorer(model=model, tokenizer=tok, image_processor=processor).load()
    prompts, _, _ = scorer.builder_.encode(data, "text+image")
    ctx, start, end = (tok.convert_tokens_to_ids(t) for t in ("<IMG_CONTEXT>", "<img>", "</img>"))
    for p in prompts:
        i = p.ids.index(start)
        assert p.ids[i + 1:i + 5] == [ctx] * 4 and p.ids[i + 5] == end


def test_llava_onevision_counts_anyres_tokens_like_its_processor(data):
    model, tok, processor = tiny_llava_onevision(seed=1)
    scorer = HFVLMScorer(model=model, tokenizer=tok, image_processor=processor).load()
    prompts, _, _ = scorer.builder_.encode(data, "text+image")
    image_id = model.config.image_token_index
    # 56x56 -> pinpoint 56x56: base 2x2 + unpadded 4x4 + 4 newlines = 24; 84 wide x 56 -> pinpoint 56x56 with
    # padding rows removed: base 4 + 4x2 unpadded + 2 newlines = 14 (the processor's arithmetic)
    counter = scorer.builder_.encoder.counter
    for p, s in zip(prompts, data.samples, strict=True):
        w, h = s.inputs["image"].size
        assert p.ids.count(image_id) == counter._get_number_of_features(h, w, 28, 28)
    assert {p.ids.count(image_id) for p in prompts} == {24, 14}


def test_llava_next_video_counts_anyres_tokens_like_its_processor(data):
    model, tok, processor = tiny_llava_next_video(seed=1)
    scorer = HFVLMScorer(model=model, tokenizer=tok, image_processor=processor).load()
    prompts, _, _ = scorer.builder_.encode(data, "text+image")
    image_id = model.config.image_token_index
    # 56x56 -> pinpoint 56x56: base 4x4 + unpadded 4x4 + 4 newlines = 36 (CLS dropped by "default"); 84 wide x 56
    # high -> pinpoint 56 high x 112 wide, unpadded, + newlines: 44 (LlavaNextVideoProcessor's arithmetic)
    counts = {p.ids.count(image_id) for p in prompts}
    assert counts == {36, 44}
    for p, s in zip(prompts, data.samples, strict=True):
        w, h = s.inputs["image"].size
        assert p.ids.count(image_id) == scorer.builder_.encoder.counter._get_number_of_features(h, w, 56, 56)


def test_folders_are_detected_and_family_scorers_refuse_other_families(tmp_path):
    model, tok, processor = tiny_internvl(seed=1)
    folder = save_tiny(model, tok, tmp_path / "internvl", image_processor=processor)
    assert detect_family(folder) == "internvl"
    scorer = make_scorer("internvl", model_path=str(folder)).load()
    assert scorer.builder_.encoder.family == "internvl"
    assert make_scorer("hf-vlm", model_path=str(folder)).load().builder_.encoder.family == "internvl"
    with pytest.raises(DataError, match="scorer 'blip2' reads blip2 models, but the model is internvl"):
        make_scorer("blip2", model_path=str(folder)).load()


def test_unsupported_architecture_is_one_line(tmp_path):
    folder = tmp_path / "cogvlm2"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "cogvlm2", "architectures": ["CogVLMForCausalLM"],
                                                    "auto_map": {"AutoModelForCausalLM": "modeling_cogvlm.X"}}))
    with pytest.raises(DataError) as err:
        make_scorer("hf-vlm", model_path=str(folder)).load()
    text = str(err.value)
    assert "\n" not in text and "unsupported architecture CogVLMForCausalLM (model_type 'cogvlm2')" in text
    assert "trust_remote_code" in text
    with pytest.raises(DataError, match="remote-code model"):
        family_of_config({"model_type": "minicpm_x", "auto_map": {"AutoModel": "m.M"}})
    with pytest.raises(DataError, match="CogVLM2 needs trust_remote_code"):
        make_scorer("hf-lm", model_path=str(folder)).load()


def test_clip_zero_shot_is_cosine_of_label_prompts(data):
    model, tok, processor = tiny_clip(seed=1)
    scorer = ClipScorer(model=model, tokenizer=tok, image_processor=processor, batch_size=2)
    logits = scorer.logits(data, "image")
    img = scorer.encode_images([s.inputs["image"] for s in data.samples])
    lab = scorer.encode_texts([f"a photo of {label}" for label in LABELS])
    np.testing.assert_allclose(logits, model.logit_scale.exp().item() * img @ lab.T, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(img, axis=1), 1.0, atol=1e-6)
    scorer.batch_size = 5
    np.testing.assert_allclose(scorer.logits(data, "image"), logits, atol=1e-5)
    both = scorer.logits(data, "text+image")
    assert both.shape == (5, 3) and not np.allclose(both, logits)


def test_clip_fit_head_learns_a_separable_task():
    model, tok, processor = tiny_clip(seed=1)
    labels = ("dark", "bright")
    samples = [Sample(f"s{i}", {"image": np.full((28, 28, 3), 20 if i % 2 == 0 else 230, dtype=np.uint8)},
                      labels[i % 2]) for i in range(12)]
    data = Dataset("bright", labels, samples, ("image",), kinds={"image": "image"})
    scorer = ClipScorer(model=model, tokenizer=tok, image_processor=processor, epochs=60, lr=5e-2)
    before = scorer.fingerprint
    assert scorer.fit(data, ["image"]) is scorer and scorer.fingerprint != before
    assert (scorer.predict_proba(data, "image").probs.argmax(1) == np.arange(12) % 2).all()
    other = Dataset("t", labels, [Sample("t", {"image": tiny_image(0, (28, 28)), "text": "x"}, "dark")],
                    ("image", "text"), kinds={"image": "image", "text": "text"})
    with pytest.raises(DataError, match="fitted on views"):
        scorer.logits(other, "text")
    assert scorer.features(data).shape == (12, 32)


# -- audio: Qwen2-Audio ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sounds(tmp_path_factory, data) -> Dataset:
    """8 kHz WAV clips of 0.3 / 0.5 / 0.7 s beside each sample's text (resampled to the extractor's 16 kHz)."""
    root = tmp_path_factory.mktemp("sounds")
    samples = [Sample(s.id, {"text": s.inputs["text"], "voice": str(write_wav(root / f"{s.id}.wav", 0.3 + 0.2 * (i % 3),
                                                                                 freq=200.0 + 100 * i, seed=i))},
                      s.label) for i, s in enumerate(data.samples)]
    return Dataset("sounds", LABELS, samples, ("text", "voice"), dimension="intent",
                   kinds={"text": "text", "voice": "audio"})


def test_qwen2_audio_one_pass_equals_naive_and_is_batch_size_free(sounds):
    model, tok, extractor = tiny_qwen2_audio(seed=1)
    scorer = Qwen2AudioScorer(model=model, tokenizer=tok, image_processor=extractor, batch_size=5)
    assert [str(v) for v in scorer.supported_views(sounds)] == ["text", "voice", "text+voice"]
    assert_one_pass_exact(scorer, [(sounds, view) for view in ("text+voice", "voice", "text")], "qwen2-audio")
    assert not np.allclose(scorer.logprobs(sounds, "text+voice"), scorer.logprobs(sounds, "text"))
    # 0.3 / 0.5 / 0.7 s at 16 kHz, hop 160 -> 30 / 50 / 70 mel frames -> ((L-1)//2+1-2)//2+1 = 7 / 12 / 17 tokens
    prompts, _, _ = scorer.builder_.encode(sounds, "text+voice")
    audio_id = model.config.audio_token_index
    assert [p.ids.count(audio_id) for p in prompts] == [7, 12, 17, 7, 12]
    assert all(p.extra["input_features"].shape == (1, 16, 100) for p in prompts)
    rendered = scorer.builder_.render(sounds, sounds.samples[0], "text+voice")
    assert "presented with an audio clip" in rendered.messages[-1].text


def test_load_audio_reads_wav_and_resamples(tmp_path):
    path = tmp_path / "a.wav"
    import wave

    with wave.open(str(path), "wb") as handle:  # 4 samples at 4 Hz: 0, 0.5, -0.5, 1 (16-bit)
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(4)
        handle.writeframes(np.array([0, 16384, -16384, 32767], dtype="<i2").tobytes())
    np.testing.assert_allclose(load_audio(path, 4), [0, 16384 / 32767, -16384 / 32767, 1.0], atol=1e-6)
    # 8 Hz: linear interpolation at 0, 0.5, 1, ... source samples (the last value held)
    np.testing.assert_allclose(load_audio(path, 8)[:4], [0, 0.25, 0.5, 0.0], atol=1e-4)
    assert load_audio(path, 8).shape == (8,)
    np.testing.assert_allclose(load_audio((np.array([[0.0, 1.0], [1.0, 0.0]]), 2), 2), [0.5, 0.5])
    with pytest.raises(DataError, match="audio file not found"):
        load_audio(tmp_path / "missing.wav", 16000, record="r1", field="voice")
    (tmp_path / "bad.wav").write_bytes(b"RIFF")
    with pytest.raises(DataError, match="cannot read audio"):
        load_audio(tmp_path / "bad.wav", 16000)


def test_qwen2_audio_folder_loads_its_feature_extractor_and_others_refuse_audio(tmp_path, sounds):
    model, tok, extractor = tiny_qwen2_audio(seed=1)
    folder = save_tiny(model, tok, tmp_path / "qwen2-audio", image_processor=extractor)
    assert detect_family(folder) == "qwen2-audio"
    scorer = make_scorer("qwen2-audio", model_path=str(folder)).load()
    assert scorer.builder_.encoder.sampling_rate == 16000
    assert scorer.logits(sounds, "voice").shape == (5, 3)
    vlm, vtok, processor = tiny_llava_next_video(seed=1)
    other = HFVLMScorer(model=vlm, tokenizer=vtok, image_processor=processor)
    assert "voice" not in {str(v) for v in other.supported_views(sounds)}
    with pytest.raises(DataError, match="cannot honour view text\\+voice"):
        other.logits(sounds, "text+voice")
