"""Dataset samples -> encoded prompts and the tokenised label set, the same way for scoring,
generation and LoRA training (so SFT conditions exactly on what the scorer later scores).

Modalities reach the template by kind (``dataset.kinds``), never by name; the template's answer
prefix / label continuation split follows lm-eval (:func:`interlens.prompts.split_continuation`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...data.schema import Dataset, Sample
from ...errors import DataError
from ...prompts import RenderedPrompt, load_template, render_prompt
from ...views import View
from .chat import prompt_string
from .encoding import EncodedPrompt, TextEncoder
from .labels import LabelSet, build_label_set
from .media import load_audio, media_images


@dataclass
class PromptBuilder:
    """Renders a template for each sample (only the view's modalities), applies the chat template,
    loads images and tokenises. ``template_vars`` override the dataset's ``dimension`` and its
    ``info["prompt_vars"]``."""

    tokenizer: Any
    encoder: TextEncoder
    template: str = "mmla"
    template_vars: Mapping[str, Any] = field(default_factory=dict)
    verbalizer: Mapping[str, str] | Sequence[str] | None = None
    use_chat_template: bool | None = None
    max_frames: int | None = 8
    _label_sets: dict[tuple[str, ...], LabelSet] = field(default_factory=dict, repr=False)

    @property
    def template_key(self) -> str:
        return load_template(self.template).key

    def variables(self, dataset: Dataset) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if dataset.dimension:
            found["dimension"] = dataset.dimension
        found.update(dataset.info.get("prompt_vars", {}) or {})
        found.update(self.template_vars or {})
        return found

    def render(self, dataset: Dataset, sample: Sample, view: View | str) -> RenderedPrompt:
        return render_prompt(self.template, sample, dataset.labels, view, verbalizer=self.verbalizer,
                             kinds=dataset.kinds, **self.variables(dataset))

    def encode_one(self, dataset: Dataset, sample: Sample, view: View | str) -> tuple[EncodedPrompt, RenderedPrompt]:
        rendered = self.render(dataset, sample, view)
        kinds = rendered.media_kinds or ("",) * len(rendered.media)
        visual = tuple(m for m, k in zip(rendered.media, kinds, strict=True) if k != "audio")
        sounds = [(m, v) for (m, v), k in zip(rendered.media, kinds, strict=True) if k == "audio"]
        images = (media_images(visual, max_frames=self.max_frames, record=sample.id,
                               kinds=tuple(k for k in kinds if k != "audio")) if visual else [])
        if (images or sounds) and self.encoder.family == "text":
            raise DataError(f"view {view} gives media {[m for m, _ in rendered.media]} to a text-only model; "
                            "use the hf-vlm scorer or a text view", record=sample.id, field="view")
        rate = getattr(self.encoder, "sampling_rate", None)
        if sounds and rate is None:
            raise DataError(f"view {view} gives audio {[m for m, _ in sounds]} to the {self.encoder.family} family, "
                            "which reads no audio (use an audio family such as qwen2-audio)", record=sample.id,
                            field="view")
        audios = [load_audio(v, rate, record=sample.id, field=m) for m, v in sounds]
        text = prompt_string(self.tokenizer, rendered, len(images), use_chat_template=self.use_chat_template,
                             image_placeholder=self.encoder.image_placeholder, n_audios=len(audios),
                             audio_placeholder=getattr(self.encoder, "audio_placeholder", ""))
        if audios:
            return self.encoder.encode(text, images, audios=audios, record=sample.id), rendered
        return self.encoder.encode(text, images, record=sample.id), rendered

    def encode(self, dataset: Dataset, view: View | str,
               samples: Sequence[Sample] | None = None) -> tuple[list[EncodedPrompt], LabelSet, list[RenderedPrompt]]:
        """Encoded prompts of ``samples`` (default: all), the label set, and the rendered prompts."""
        view = View.parse(view).check(dataset.modalities, dataset.source)
        samples = list(dataset.samples if samples is None else samples)
        pairs = [self.encode_one(dataset, s, view) for s in samples]
        rendered = [r for _, r in pairs]
        probe = rendered[0] if rendered else self.render(dataset, dataset.samples[0], view)
        return [e for e, _ in pairs], self.label_set(probe.label_texts), rendered

    def label_set(self, label_texts: Sequence[str]) -> LabelSet:
        key = tuple(label_texts)
        if key not in self._label_sets:
            self._label_sets[key] = build_label_set(self.tokenizer, key)
        return self._label_sets[key]
