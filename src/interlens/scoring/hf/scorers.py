"""``HFLMScorer`` ("hf-lm") and ``HFVLMScorer`` ("hf-vlm"): Hugging Face causal LMs and vision LMs
as interlens scorers (Qwen2, Qwen2-VL, LLaVA), loaded offline from a local folder or given in memory.

Methods: ``"likelihood"`` (default): softmax over the label set of each label's summed (or
length-normalised) log-probability, all K labels from one pass of the prompt; ``"generate"``: greedy
answer parsed by MMLA's one-hit rule, parse failures as all-NaN rows (counted in ``meta``).
The fingerprint covers the model (path/config/weights), tokenizer, adapter (name + weights), prompt
template (id@version#sha) and scoring method, so cached scores never cross any of them.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ...cache import PredictionCache
from ...data.schema import Dataset
from ...errors import DataError
from ...predictions import Predictions
from ...prompts import load_template
from ...views import View
from ..base import cached_predict, fingerprint_of
from .adapters import LoraSpec, adapter_fingerprint, adapter_names, is_peft, load_adapters
from .batching import dataset_generations, dataset_logprobs
from .encoding import make_encoder
from .generation import one_hot_or_nan, parse_label
from .likelihood import label_probs
from .loading import load_causal_lm, load_vision_lm, model_fingerprint, resolve_dtype, tokenizer_fingerprint
from .prompting import PromptBuilder
from .training import TrainConfig, TrainResult, train_lora

METHODS = ("likelihood", "generate")
VAL_SPLITS = ("validation", "val", "dev", "valid")


class HFLMScorer:
    """A causal LM scorer. Pass ``model_path`` (a local folder) or ``model`` + ``tokenizer``.

    ``adapter`` names the LoRA adapter to score with (loaded from ``adapter_path`` when given);
    ``train`` (a :class:`TrainConfig`) makes :meth:`fit` fine-tune that adapter on the dataset's
    train split, selecting the checkpoint by label-level metrics on its validation split.
    """

    name = "hf-lm"
    vision = False

    def __init__(self, model_path: str | os.PathLike | None = None, *, model: Any = None, tokenizer: Any = None,
                 image_processor: Any = None, template: str = "mmla", template_vars: Mapping[str, Any] | None = None,
                 verbalizer: Mapping[str, str] | Sequence[str] | None = None, method: str = "likelihood",
                 length_norm: bool = False, adapter: str | None = None, adapter_path: str | os.PathLike | None = None,
                 train: TrainConfig | None = None, batch_size: int = 8, max_new_tokens: int = 16,
                 use_chat_template: bool | None = None, dtype: str | torch.dtype = "auto", device: str = "cpu",
                 max_frames: int | None = 8, cache: PredictionCache | None = None) -> None:
        self.model_path = model_path
        self.model = model
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.template = template
        self.template_vars = dict(template_vars or {})
        self.verbalizer = verbalizer
        self.method = method
        self.length_norm = length_norm
        self.adapter = adapter
        self.adapter_path = adapter_path
        self.train = train
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.use_chat_template = use_chat_template
        self.dtype = dtype
        self.device = device
        self.max_frames = max_frames
        self.cache = cache
        self._check_params()

    # -- parameters and state -----------------------------------------------------------------
    def _check_params(self) -> None:
        if self.method not in METHODS:
            raise DataError(f"unknown scoring method {self.method!r}; use one of {METHODS}", field="method")
        if self.model is None and self.model_path is None:
            raise DataError("give model_path (a local model folder) or model= and tokenizer=", field="model")
        if self.model is not None and self.tokenizer is None:
            raise DataError("an in-memory model needs tokenizer= as well", field="tokenizer")
        if self.batch_size < 1:
            raise DataError("batch_size must be >= 1", field="batch_size")

    def load(self) -> HFLMScorer:
        """Load the model, tokenizer and prompt builder now (otherwise done on first use)."""
        self._ensure_loaded()
        return self

    def _ensure_loaded(self) -> None:
        if getattr(self, "model_", None) is not None:
            return
        if self.model is not None:
            model, tokenizer, image_processor = self.model, self.tokenizer, self.image_processor
        elif self.vision:
            model, tokenizer, image_processor = load_vision_lm(self.model_path, dtype=self.dtype, device=self.device)
            image_processor = self.image_processor or image_processor
        else:
            (model, tokenizer), image_processor = load_causal_lm(self.model_path, dtype=self.dtype,
                                                                 device=self.device), None
        origin = self.model_path if self.model is None else None
        self.base_fingerprint_ = fingerprint_of(model_fingerprint(model, origin), tokenizer_fingerprint(tokenizer))
        if self.adapter_path is not None:
            model = load_adapters(model, self.adapter_path, [self.adapter] if self.adapter else None)
            if self.adapter is None:
                self.adapter = adapter_names(model)[0]
        if self.adapter not in (None, "__base__") and self.adapter not in adapter_names(model) and self.train is None:
            raise DataError(f"model has no adapter {self.adapter!r}; available: {adapter_names(model)}",
                            field="adapter")
        tokenizer.padding_side = "left"
        self.model_, self.tokenizer_ = model.eval(), tokenizer
        self.builder_ = PromptBuilder(tokenizer, make_encoder(model, tokenizer, image_processor, vision=self.vision),
                                      template=self.template, template_vars=self.template_vars,
                                      verbalizer=self.verbalizer, use_chat_template=self.use_chat_template,
                                      max_frames=self.max_frames)

    @property
    def fingerprint(self) -> str:
        """Model + tokenizer + adapter (name and weights) + template key + method settings."""
        self._ensure_loaded()
        adapter = self.adapter if is_peft(self.model_) and self.adapter != "__base__" else None
        return fingerprint_of(self.name, self.base_fingerprint_, adapter, adapter_fingerprint(self.model_, adapter),
                              self.builder_.template_key, self.template_vars, self.verbalizer, self.method,
                              self.length_norm if self.method == "likelihood" else self.max_new_tokens,
                              self.use_chat_template, self.max_frames if self.vision else None)

    def with_adapter(self, adapter: str | None) -> HFLMScorer:
        """A scorer sharing this one's loaded model, scoring with another adapter (None = base)."""
        self._ensure_loaded()
        clone = copy.copy(self)
        clone.adapter = adapter
        clone.adapter_path = None
        if adapter not in (None, "__base__") and adapter not in adapter_names(self.model_):
            raise DataError(f"model has no adapter {adapter!r}; available: {adapter_names(self.model_)}",
                            field="adapter")
        return clone

    def default_view(self, dataset: Dataset) -> str:
        """Every dataset modality the template can place (media ones only for a vision model)."""
        template = load_template(self.template)
        usable = [m for m in dataset.modalities
                  if m in template.text_modalities or (self.vision and m in template.media_modalities)]
        if not usable:
            raise DataError(f"template {template.id} can place none of the modalities {list(dataset.modalities)}",
                            field="view")
        return "+".join(usable)

    # -- fit ----------------------------------------------------------------------------------
    def fit(self, dataset: Dataset, view: View | str | None = None) -> HFLMScorer:
        """Load the model; with ``train=`` also LoRA-tune adapter ``adapter or 'default'`` on the train split
        (the whole dataset when it has no splits) and select on the validation split."""
        self._ensure_loaded()
        view = View.parse(view or self.default_view(dataset)).check(dataset.modalities, dataset.source)
        self.builder_.encode(dataset, view, dataset.samples[:1])  # fail early on bad labels/prompts
        if self.train is None:
            return self
        train = dataset.split("train") if "train" in dataset.splits else dataset
        val_name = next((s for s in VAL_SPLITS if s in dataset.splits), None)
        val = dataset.split(val_name) if val_name else None
        self.adapter = self.adapter if self.adapter not in (None, "__base__") else "default"
        self.model_, result = train_lora(self.model_, self.builder_, train, val, adapter=self.adapter, view=view,
                                         config=self.train, device=self.device)
        self.train_result_: TrainResult = result
        return self

    # -- scoring ------------------------------------------------------------------------------
    def _adapter_list(self, n: int, adapter_names_: Sequence[str] | None) -> list[str] | None:
        if not is_peft(self.model_):
            if adapter_names_ is not None and set(adapter_names_) - {"__base__"}:
                raise DataError("per-sample adapters given but the model has no LoRA adapters", field="adapter")
            return None
        if adapter_names_ is not None:
            if len(adapter_names_) != n:
                raise DataError(f"{len(adapter_names_)} adapter names for {n} samples", field="adapter")
            return list(adapter_names_)
        return [self.adapter or "__base__"] * n

    def logprobs(self, dataset: Dataset, view: View | str, *, adapter_names: Sequence[str] | None = None,
                 naive: bool = False) -> np.ndarray:
        """(N, K) summed label log-probabilities, uncached. ``adapter_names`` gives one adapter per sample
        (a mixed-adapter batch, PEFT ``adapter_names=``); ``naive`` uses the K-forward reference."""
        self._ensure_loaded()
        view = View.parse(view).check(dataset.modalities, dataset.source)
        names = self._adapter_list(len(dataset), adapter_names)
        scores, _ = dataset_logprobs(self.model_, self.builder_, dataset, view, batch_size=self.batch_size,
                                     adapter_names=names, naive=naive, device=self.device)
        return scores

    def generate(self, dataset: Dataset, view: View | str, *,
                 adapter_names: Sequence[str] | None = None) -> tuple[list[str], tuple[str, ...]]:
        """Greedy answers (deterministic) and the verbalised labels they are parsed against."""
        self._ensure_loaded()
        view = View.parse(view).check(dataset.modalities, dataset.source)
        names = self._adapter_list(len(dataset), adapter_names)
        return dataset_generations(self.model_, self.builder_, dataset, view, batch_size=self.batch_size,
                                   max_new_tokens=self.max_new_tokens, adapter_names=names, device=self.device)

    def _compute(self, dataset: Dataset, view: View) -> np.ndarray:
        if self.method == "generate":
            texts, words = self.generate(dataset, view)
            self.generations_.update(zip(dataset.ids, texts, strict=True))
            return one_hot_or_nan([parse_label(t, words) for t in texts], len(dataset.labels))
        scores, labels = dataset_logprobs(self.model_, self.builder_, dataset, view, batch_size=self.batch_size,
                                          adapter_names=self._adapter_list(len(dataset), None), device=self.device)
        return label_probs(torch.from_numpy(scores), labels, length_norm=self.length_norm).numpy()

    def predict_proba(self, dataset: Dataset, view: View | str) -> Predictions:
        """Label probabilities for every sample under ``view`` (cached when ``cache`` is set)."""
        self._ensure_loaded()
        self.generations_: dict[str, str] = getattr(self, "generations_", {})
        preds = cached_predict(self, dataset, view, cache=self.cache, compute=self._compute)
        failures = preds.missing_ids
        preds.meta.update({"method": self.method, "length_norm": self.length_norm, "adapter": self.adapter,
                           "template": self.builder_.template_key, "n_parse_failures": len(failures),
                           "parse_failure_ids": failures})
        return preds


class HFVLMScorer(HFLMScorer):
    """A vision LM scorer (Qwen2-VL / Qwen2.5-VL / LLaVA). Images: PIL, array or path; a video is a list
    of frames (or a folder of frames) fed as a sequence of images, at most ``max_frames``. A modality
    outside the view is absent from the prompt: no image tokens at all."""

    name = "hf-vlm"
    vision = True


def make_hf_scorer(name: str, model_path: str | os.PathLike | None = None, **kwargs: Any) -> HFLMScorer:
    """Factory for the CLI and the scorer registry: ``name`` is ``"hf-lm"`` or ``"hf-vlm"``; ``model_path``
    a local model folder (``model="<path>"`` is accepted too); other ``kwargs`` go to the scorer
    (a ``train`` dict becomes a :class:`TrainConfig`)."""
    from ...errors import unknown_name

    classes = {"hf-lm": HFLMScorer, "hf-vlm": HFVLMScorer}
    if name not in classes:
        raise unknown_name("scorer", name, list(classes))
    if model_path is None and isinstance(kwargs.get("model"), str | os.PathLike):
        model_path = kwargs.pop("model")
    if isinstance(kwargs.get("train"), Mapping):
        train = dict(kwargs["train"])
        lora = train.pop("lora", None)
        kwargs["train"] = TrainConfig(**train, **({"lora": LoraSpec(**lora)} if lora else {}))
    if "dtype" in kwargs:
        resolve_dtype(kwargs["dtype"], kwargs.get("device", "cpu"))
    return classes[name](model_path, **kwargs)
