"""``HFLMScorer`` ("hf-lm") and ``HFVLMScorer`` ("hf-vlm"): Hugging Face causal LMs and vision LMs
under the :class:`~interlens.scoring.base.Scorer` contract (Qwen2, Qwen2-VL, LLaVA), loaded offline
from a local folder or given in memory.

* zero-shot (MMLA Sec. 3.3): ``logits`` without ``fit`` scores the base model (or ``adapter=``):
  each label's summed log-probability after the prompt, all K labels in one pass (``"likelihood"``),
  or greedy generation parsed by MMLA's one-hit rule (``"generate"``; failures are NaN rows);
* ``fit(train, views, val=)`` is LoRA SFT (MMLA Sec. 3.3) of one adapter *per view* on ``train``,
  the checkpoint selected by label macro-F1 on ``val`` (``train=`` holds the :class:`TrainConfig`);
* ``finetune(subset, view)`` returns a new scorer on the same base with a new named adapter that
  starts from the view's baseline adapter weights (MMoE App. G experts);
* ``features(dataset)``: pooled last hidden state of the default view's prompt (MMoE Sec. 3.3 routers).

Prompts place modalities by kind (text kinds as text, image/video kinds as media for hf-vlm).
The fingerprint covers the base model (path/config/weights), tokenizer, the adapters (config + weights
per view), prompt template (id@version#sha) and scoring method; the prediction cache key is the
pair (fingerprint, view), so a view's predictions never serve another view.

Scorers built from the same local folder (and dtype/device) share one loaded base model, and every
scorer on one base shares its PEFT wrapper; each scores with its own adapter by name (``__base__``
for none), so training one scorer's adapter never changes another scorer's outputs.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from ...cache import PredictionCache
from ...data.schema import Dataset
from ...errors import DataError
from ...predictions import Predictions
from ...prompts import load_template
from ...views import View
from ..base import Capability, Scorer, cached_predict, fingerprint_of, softmax
from ..registry import register_scorer
from .adapters import (
    AdapterInfo,
    adapter_fingerprint,
    adapter_names,
    copy_adapter,
    is_peft,
    load_adapters,
    save_adapters,
    saved_adapter_names,
)
from .batching import _batches, dataset_generations, dataset_logprobs
from .encoding import unwrap_model
from .families import make_encoder
from .generation import one_hot_or_nan, parse_label
from .likelihood import model_dtype
from .loading import load_causal_lm, load_vision_lm, model_fingerprint, resolve_dtype, tokenizer_fingerprint
from .prompting import PromptBuilder
from .training import TrainConfig, TrainResult, train_lora

METHODS = ("likelihood", "generate")
POOLINGS = ("mean", "last")
#: a video-kind modality as its frames (images) or, for Qwen2-VL / LLaVA-OneVision / LLaVA-NeXT-Video, as one native
#: video of exactly ``max_frames`` frames
VIDEO_INPUTS = ("frames", "native")
VAL_SPLITS = ("validation", "val", "dev", "valid")

#: base models loaded from a folder, shared by every scorer of that (path, vision, dtype, device)
_LOADED: weakref.WeakValueDictionary[tuple, Any] = weakref.WeakValueDictionary()
_LOADED_SIDE: dict[tuple, tuple[Any, Any]] = {}
_WRAPPER = "_interlens_peft_wrapper"


def _register_wrapper(model: Any) -> Any:
    """Remember ``model``'s PEFT wrapper on its base model (all scorers on one base use one wrapper: the
    base's layers hold the LoRA modules, so running the bare base would apply the active adapter)."""
    if is_peft(model):
        object.__setattr__(model.get_base_model(), _WRAPPER, model)  # not a registered submodule
    return model


def _current(model: Any) -> Any:
    """``model``'s PEFT wrapper when a scorer has wrapped it since, else ``model``."""
    if is_peft(model):
        return model
    return model.__dict__.get(_WRAPPER, model)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text)


@register_scorer("hf-lm")
class HFLMScorer(Scorer):
    """A causal LM scorer. Pass ``model_path`` (a local folder) or ``model`` + ``tokenizer``.

    ``adapter``: a LoRA adapter on the model (e.g. loaded from ``adapter_path``) to score with before
    any fit; it also names the adapters ``fit`` trains (``<adapter>`` for one view, ``<adapter>-<view>``
    for several; default ``default``), which start from its weights when it exists.
    ``train``: a :class:`TrainConfig` or a mapping of its fields (None: defaults); used by ``fit`` and
    ``finetune``. ``pooling``: ``mean`` (over prompt tokens) or ``last`` for :meth:`features`.
    """

    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.TRAINABLE, Capability.FINETUNE, Capability.FEATURES, Capability.ZERO_SHOT, Capability.SAVABLE,
         Capability.MULTI_TASK, Capability.ADAPTERS})
    modality_kinds: ClassVar[frozenset[str]] = frozenset({"text"})
    _unhashed_params: ClassVar[tuple[str, ...]] = ("model", "tokenizer", "image_processor", "cache")
    vision: ClassVar[bool] = False

    def __init__(self, model_path: str | os.PathLike | None = None, *, model: Any = None, tokenizer: Any = None,
                 image_processor: Any = None, template: str = "mmla", template_vars: Mapping[str, Any] | None = None,
                 verbalizer: Mapping[str, str] | Sequence[str] | None = None, method: str = "likelihood",
                 length_norm: bool = False, adapter: str | None = None, adapter_path: str | os.PathLike | None = None,
                 train: TrainConfig | Mapping[str, Any] | None = None, pooling: str = "mean", batch_size: int = 8,
                 max_new_tokens: int = 16, use_chat_template: bool | None = None, dtype: str | torch.dtype = "auto",
                 device: str = "cpu", max_frames: int | None = 8, cache: PredictionCache | None = None,
                 seed: int | None = None, video_input: str = "frames") -> None:
        self.seed = seed
        self.model_path = model_path
        self.model = model
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.template = template
        self.template_vars = template_vars
        self.verbalizer = verbalizer
        self.method = method
        self.length_norm = length_norm
        self.adapter = adapter
        self.adapter_path = adapter_path
        self.train = train
        self.pooling = pooling
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.use_chat_template = use_chat_template
        self.dtype = dtype
        self.device = device
        self.max_frames = max_frames
        self.video_input = video_input
        self.cache = cache

    # -- parameters and loading -----------------------------------------------------------------
    def _check_params(self) -> None:
        if self.method not in METHODS:
            raise DataError(f"unknown scoring method {self.method!r}; use one of {METHODS}", field="method")
        if self.pooling not in POOLINGS:
            raise DataError(f"unknown pooling {self.pooling!r}; use one of {POOLINGS}", field="pooling")
        if self.model is None and self.model_path is None:
            raise DataError("give model_path (a local model folder) or model= and tokenizer=", field="model")
        if self.model is not None and not isinstance(self.model, str | os.PathLike) and self.tokenizer is None:
            raise DataError("an in-memory model needs tokenizer= as well", field="tokenizer")
        if int(self.batch_size) < 1:
            raise DataError("batch_size must be >= 1", field="batch_size")
        if self.video_input not in VIDEO_INPUTS:
            raise DataError(f"unknown video_input {self.video_input!r}; use one of {VIDEO_INPUTS}", field="video_input")
        resolve_dtype(self.dtype, self.device)

    def _path(self) -> str | os.PathLike | None:
        return self.model if isinstance(self.model, str | os.PathLike) else self.model_path

    def _load(self) -> tuple[Any, Any, Any, str | os.PathLike | None]:
        """(model, tokenizer, image processor, path or None); folders load once per process."""
        if self.model is not None and not isinstance(self.model, str | os.PathLike):
            return self.model, self.tokenizer, self.image_processor, None
        path = self._path()
        key = (str(Path(path).expanduser().resolve()), self.vision, str(resolve_dtype(self.dtype, self.device)),
               str(self.device))
        model = _LOADED.get(key)
        if model is None or key not in _LOADED_SIDE:
            if self.vision:
                model, tokenizer, processor = load_vision_lm(path, dtype=self.dtype, device=self.device)
            else:
                (model, tokenizer), processor = load_causal_lm(path, dtype=self.dtype, device=self.device), None
            _LOADED[key] = model
            _LOADED_SIDE[key] = (tokenizer, processor)
        tokenizer, processor = _LOADED_SIDE[key]
        return model, tokenizer, self.image_processor or processor, path

    def load(self) -> HFLMScorer:
        """Load the model, tokenizer and prompt builder now (otherwise done on first use)."""
        self._ensure_loaded()
        return self

    def _ensure_loaded(self) -> None:
        if getattr(self, "model_", None) is not None:
            return
        self._check_params()
        model, tokenizer, image_processor, origin = self._load()
        self.base_fingerprint_ = fingerprint_of(model_fingerprint(model, origin), tokenizer_fingerprint(tokenizer))
        model = _current(_register_wrapper(model))
        self.loaded_adapter_: str | None = None
        if self.adapter_path is not None:  # adapters already on a shared base are not loaded twice
            wanted = [self.adapter] if self.adapter else saved_adapter_names(self.adapter_path)[:1]
            missing = [n for n in wanted if n not in adapter_names(model)]
            if missing or not wanted:
                model = _register_wrapper(load_adapters(model, self.adapter_path, missing or None))
            self.loaded_adapter_ = wanted[0] if wanted else adapter_names(model)[0]
        tokenizer.padding_side = "left"
        self.model_, self.tokenizer_ = model.eval(), tokenizer
        self.builder_ = PromptBuilder(tokenizer, make_encoder(model, tokenizer, image_processor, vision=self.vision),
                                      template=self.template, template_vars=dict(self.template_vars or {}),
                                      verbalizer=self.verbalizer, use_chat_template=self.use_chat_template,
                                      max_frames=self.max_frames)
        encoder = self.builder_.encoder
        if self.video_input == "native" and self.vision:
            if getattr(encoder, "video_token_id", None) is None:
                raise DataError(f"the {encoder.family} family has no native video input; use video_input='frames'",
                                field="video_input")
            encoder.native_video, encoder.num_frames = True, self.max_frames
        self._check_family(encoder.family)

    def _check_family(self, family: str) -> None:
        """Scorers registered for one family refuse a model of another."""

    def _net(self) -> Any:
        """The model to run: this scorer's, or the PEFT wrapper another scorer has put around it since."""
        self._ensure_loaded()
        self.model_ = _current(self.model_)
        return self.model_

    # -- adapters ---------------------------------------------------------------------------------
    @staticmethod
    def _key(view: View | str) -> str:
        """The adapter of a view: its modalities (counterfactual transforms change data, not the model)."""
        return "+".join(View.parse(view).modalities)

    def _given_adapter(self) -> str | None:
        """``adapter=`` (or, without it, the adapter loaded from ``adapter_path``); None for the base."""
        name = self.adapter or getattr(self, "loaded_adapter_", None)
        return name if name not in (None, "__base__") else None

    def _adapter_for(self, view: View | str, *, strict: bool = True) -> str | None:
        """The adapter that scores ``view``: the fitted one, else ``adapter=`` (None: the base model)."""
        fitted = getattr(self, "adapters_", None)
        key = self._key(view)
        if fitted:
            if key in fitted:
                return fitted[key]
            if strict:
                raise DataError(f"{self.name} was fitted on views {sorted(fitted)}, not {key}; fit it on that view",
                                field="view")
        name = self._given_adapter()
        if name is not None and name not in adapter_names(self._net()):
            raise DataError(f"model has no adapter {name!r}; available: {adapter_names(self._net())}",
                            field="adapter")
        return name

    def _adapters(self) -> dict[str, str]:
        fitted = getattr(self, "adapters_", None)
        if fitted:
            return dict(fitted)
        name = self._given_adapter()
        return {"*": name} if name is not None else {}

    def _fresh_name(self, stem: str) -> str:
        taken = set(adapter_names(self._net()))
        stem = _slug(stem)
        name, n = stem, 1
        while name in taken:
            n += 1
            name = f"{stem}-{n}"
        return name

    def with_adapter(self, adapter: str | None) -> HFLMScorer:
        """A scorer sharing this one's loaded model that scores every view with ``adapter`` (None: base)."""
        model = self._net()
        if adapter not in (None, "__base__") and adapter not in adapter_names(model):
            raise DataError(f"model has no adapter {adapter!r}; available: {adapter_names(model)}", field="adapter")
        other = copy.copy(self)
        other.adapter, other.adapter_path, other.loaded_adapter_ = adapter, None, None
        other.adapters_, other.train_results_, other.history_ = {}, {}, []
        other.generations_ = {}
        return other

    def save_adapters(self, directory: str | os.PathLike) -> AdapterInfo:
        """Write this scorer's adapters to ``directory/<name>/`` (PEFT layout)."""
        names = sorted(set(self._adapters().values()))
        if not names:
            raise DataError(f"{self.name} has no adapter to save (fit it first)")
        return save_adapters(self._net(), directory, names)

    def save_pretrained(self, directory: str | os.PathLike) -> dict[str, Any]:
        """The LoRA adapters in PEFT format (``peft.PeftModel.from_pretrained(base, dir/<adapter>)``) plus
        ``interlens.json`` (view -> adapter, labels, base model folder, parameters) and the manifest. Returns
        ``{adapter: folder}``; :meth:`from_pretrained` reloads it on the base model."""
        from ...io import to_jsonable
        from ..saving import _write_meta, seal

        root = Path(directory)
        info = self.save_adapters(root)
        params = {k: dataclasses.asdict(v) if dataclasses.is_dataclass(v)  # TrainConfig: its fields
                  else str(v).removeprefix("torch.") if isinstance(v, torch.dtype) else v
                  for k, v in self.get_params().items() if k not in self._unhashed_params}
        _write_meta(root / "interlens.json", {
            "scorer": self.name, "adapters": {name: str(Path(p).name) for name, p in info.folders.items()},
            "views": dict(self._adapters()), "labels": list(getattr(self, "labels_", []) or []),
            "base_model": str(self.model_path) if self.model_path else None, "params": to_jsonable(params),
            "fingerprint": self.fingerprint})
        seal(root)
        return dict(info.folders)

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, **params: Any) -> HFLMScorer:
        """The scorer saved in ``directory`` by :meth:`save_pretrained`: the saved base model folder (or
        ``model_path=`` / ``model=`` in ``params``) with the saved adapter loaded (PEFT format). A model saved
        with one adapter per view: pass ``adapter=`` to pick one."""
        from ..saving import read_meta

        root = Path(directory)
        meta = read_meta(root, cls.name)
        saved = {k: v for k, v in (meta.get("params") or {}).items()
                 if k in cls.param_names() and k not in ("adapter_path", "cache")}
        adapters = sorted(meta.get("adapters") or {})
        if "adapter" not in params and len(adapters) != 1:
            raise DataError(f"saved model has adapters {adapters}: pass adapter= to choose one",
                            file=str(root / "interlens.json"), field="adapter")
        merged = {**saved, "adapter": adapters[0] if adapters else None, "adapter_path": str(root), **params}
        if merged.get("model_path") is None and meta.get("base_model") and "model" not in params:
            merged["model_path"] = meta["base_model"]
        return cls(**merged)

    # -- identity ---------------------------------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        """Model + tokenizer + adapters (config and weights, per view) + template + method + history."""
        model = self._net()
        adapters = {key: adapter_fingerprint(model, name, with_name=False)
                    for key, name in sorted(self._adapters().items())}
        return fingerprint_of(self.name, self.base_fingerprint_, adapters, self.builder_.template_key,
                              self.template_vars or {}, self.verbalizer, self.method,
                              self.length_norm if self.method == "likelihood" else self.max_new_tokens,
                              self.use_chat_template, self.max_frames if self.vision else None,
                              *((self.video_input,) if self.video_input != "frames" else ()),
                              getattr(self, "history_", []))

    # -- views --------------------------------------------------------------------------------------
    def supported_views(self, dataset: Dataset) -> list[View]:
        """Combinations of modalities whose kind the model reads and the template can place."""
        template = load_template(self.template)
        return [v for v in super().supported_views(dataset)
                if template.find_variant({dataset.kind(m) for m in v.modalities}) is not None]

    def default_view(self, dataset: Dataset) -> str:
        """The supported view with the most modalities (first in dataset order)."""
        views = self.supported_views(dataset)
        if not views:
            template = load_template(self.template)
            raise DataError(f"scorer {self.name!r} with template {template.id} can place none of the modalities "
                            f"{dataset.kinds} (it reads kinds {sorted(self.modality_kinds)})", file=dataset.source,
                            field="view")
        return str(max(views, key=lambda v: len(v.modalities)))

    def _fit_views(self, train: Dataset, views: Sequence[View | str] | View | str | None) -> list[View]:
        if isinstance(views, str | View):
            views = [views]
        views = list(views or [self.default_view(train)])
        checked = [View(self.check_view(train, v).modalities) for v in views]
        keys = [self._key(v) for v in checked]
        if len(set(keys)) != len(keys):
            raise DataError(f"views {keys} repeat a view", field="views")
        return checked

    # -- fit / finetune -----------------------------------------------------------------------------
    def fit(self, train: Dataset, views: Sequence[View | str] | View | str | None = None, *,
            val: Dataset | None = None) -> HFLMScorer:
        """LoRA SFT of one adapter per view on ``train`` (all of it), selected by label metrics on ``val``
        (``TrainConfig.select_metric``, default macro-F1). ``views`` default: :meth:`default_view`."""
        return self._fit([train], [val] if val is not None else [], self._fit_views(train, views))

    def fit_tasks(self, trains: Sequence[Dataset], views: Sequence[View | str] | View | str | None = None, *,
                  vals: Sequence[Dataset] | None = None) -> HFLMScorer:
        """Instruction tuning (MINT Sec. 3.2): one adapter per view on several tasks at once, each sample
        prompted with its own task's dimension and labels; selection averages the metric over ``vals``."""
        if not trains:
            raise DataError("no training tasks given", field="train")
        return self._fit(list(trains), list(vals or []), self._fit_views(trains[0], views))

    def _train_config(self) -> TrainConfig:
        """The training settings; ``seed`` (when set) overrides ``train.seed`` (LoRA init, shuffling)."""
        config = TrainConfig.coerce(self.train)
        return config if self.seed is None else dataclasses.replace(config, seed=int(self.seed))

    def _fit(self, trains: list[Dataset], vals: list[Dataset], views: list[View]) -> HFLMScorer:
        self._ensure_loaded()
        for data in trains[1:] + vals:
            for view in views:
                self.check_view(data, view)
        config = self._train_config()
        model = self._net()
        source = self._given_adapter() if self._given_adapter() in adapter_names(model) else None
        stem = self.adapter or "default"
        adapters: dict[str, str] = {}
        results: dict[str, TrainResult] = {}
        history: list[dict[str, Any]] = []
        for view in views:
            key = self._key(view)
            name = self._fresh_name(stem if len(views) == 1 else f"{stem}-{key}")
            if source is not None:
                model = copy_adapter(model, source, name)
            model, result = train_lora(model, self.builder_, trains, vals or None, adapter=name, view=view,
                                       config=config, device=self.device)
            self.model_ = _register_wrapper(model)
            adapters[key], results[key] = name, result
            history.append({"step": "fit", "view": key, "train": [d.fingerprint() for d in trains],
                            "val": [d.fingerprint() for d in vals], "config": dataclasses.asdict(config),
                            "init": "adapter" if source else "fresh"})
        self.adapters_, self.train_results_, self.history_ = adapters, results, history
        self.train_result_ = results[self._key(views[-1])]
        self.generations_ = {}
        return self

    def finetune(self, subset: Dataset, view: View | str, *, val: Dataset | None = None,
                 epochs: int | None = None, lr: float | None = None) -> HFLMScorer:
        """A new scorer on the same base whose ``view`` adapter is a new named copy of this scorer's adapter
        for ``view`` (the base model's fresh LoRA when unfitted), trained on ``subset`` (MMoE App. G)."""
        view = View(self.check_view(subset, view).modalities)
        if len(subset) == 0:
            raise DataError("cannot fine-tune on an empty dataset", file=subset.source, field="split")
        key = self._key(view)
        source = self._adapter_for(view)
        config = self._train_config()
        config = dataclasses.replace(config, epochs=epochs or config.epochs, lr=lr or config.lr)
        name = self._fresh_name(f"{source or self.adapter or 'default'}-ft")
        model = self._net()
        if source is not None:
            model = copy_adapter(model, source, name)
        model, result = train_lora(model, self.builder_, subset, val, adapter=name, view=view, config=config,
                                   device=self.device)
        new = copy.copy(self)
        new.model_ = _register_wrapper(model)
        self.model_ = _current(self.model_)
        new.adapters_ = {**self._adapters_for_copy(subset), key: name}
        new.train_results_ = {**getattr(self, "train_results_", {}), key: result}
        new.train_result_ = result
        new.history_ = [*getattr(self, "history_", []),
                        {"step": "finetune", "view": key, "subset": subset.fingerprint(),
                         "val": val.fingerprint() if val is not None else None, "epochs": config.epochs,
                         "lr": config.lr, "init": "adapter" if source else "fresh"}]
        new.generations_ = {}
        return new

    def _adapters_for_copy(self, dataset: Dataset) -> dict[str, str]:
        """The view -> adapter map a fine-tuned copy starts from (an unfitted scorer's ``adapter=`` covers
        every supported view)."""
        fitted = getattr(self, "adapters_", None)
        if fitted:
            return dict(fitted)
        name = self._given_adapter()
        return {self._key(v): name for v in self.supported_views(dataset)} if name is not None else {}

    # -- scoring ------------------------------------------------------------------------------------
    def _adapter_list(self, n: int, names: Sequence[str] | None, view: View | str | None = None,
                      strict: bool = True) -> list[str] | None:
        model = self._net()
        if not is_peft(model):
            if names is not None and set(names) - {"__base__"}:
                raise DataError("per-sample adapters given but the model has no LoRA adapters", field="adapter")
            if view is not None:
                self._adapter_for(view, strict=strict)
            return None
        if names is not None:
            if len(names) != n:
                raise DataError(f"{len(names)} adapter names for {n} samples", field="adapter")
            return list(names)
        name = self._adapter_for(view, strict=strict) if view is not None else self._given_adapter()
        return [name or "__base__"] * n

    def logprobs(self, dataset: Dataset, view: View | str, *, adapter_names: Sequence[str] | None = None,
                 naive: bool = False) -> np.ndarray:
        """(N, K) summed label log-probabilities, uncached. ``adapter_names`` gives one adapter per sample
        (a mixed-adapter batch, PEFT ``adapter_names=``); ``naive`` uses the K-forward reference."""
        view = self.check_view(dataset, view)
        names = self._adapter_list(len(dataset), adapter_names, view)
        scores, _ = dataset_logprobs(self._net(), self.builder_, dataset, view, batch_size=self.batch_size,
                                     adapter_names=names, naive=naive, device=self.device)
        return scores

    def generate(self, dataset: Dataset, view: View | str, *,
                 adapter_names: Sequence[str] | None = None) -> tuple[list[str], tuple[str, ...]]:
        """Greedy answers (deterministic) and the verbalised labels they are parsed against."""
        view = self.check_view(dataset, view)
        names = self._adapter_list(len(dataset), adapter_names, view)
        return dataset_generations(self._net(), self.builder_, dataset, view, batch_size=self.batch_size,
                                   max_new_tokens=self.max_new_tokens, adapter_names=names, device=self.device)

    def logits(self, dataset: Dataset, view: View | str) -> np.ndarray:
        """(N, K) label scores: summed (or, with ``length_norm``, per-token mean) label log-likelihoods;
        for ``method="generate"`` log one-hot rows of the parsed answer (all-NaN on a parse failure)."""
        view = self.check_view(dataset, view)
        if len(dataset) == 0:
            return np.zeros((0, len(dataset.labels)))
        if self.method == "generate":
            texts, words = self.generate(dataset, view)
            self.generations_ = getattr(self, "generations_", {})
            self.generations_.update(zip(dataset.ids, texts, strict=True))
            with np.errstate(divide="ignore"):
                return np.log(one_hot_or_nan([parse_label(t, words) for t in texts], len(dataset.labels)))
        names = self._adapter_list(len(dataset), None, view)
        scores, labels = dataset_logprobs(self._net(), self.builder_, dataset, view, batch_size=self.batch_size,
                                          adapter_names=names, device=self.device)
        return scores / labels.lengths.numpy()[None] if self.length_norm else scores

    def predict_proba(self, dataset: Dataset, view: View | str) -> Predictions:
        """Label probabilities (softmax of :meth:`logits`) under ``view``, cached when ``cache`` is set."""
        self._ensure_loaded()
        preds = cached_predict(self, dataset, view, cache=self.cache,
                               compute=lambda sub, v: softmax(self.logits(sub, v)))
        failures = preds.missing_ids
        preds.meta.update({"method": self.method, "length_norm": self.length_norm,
                           "adapter": self._adapter_for(view), "template": self.builder_.template_key,
                           "n_parse_failures": len(failures), "parse_failure_ids": failures})
        return preds

    # -- features -----------------------------------------------------------------------------------
    @torch.inference_mode()
    def features(self, dataset: Dataset) -> np.ndarray:
        """(n, hidden) last-layer hidden state of each sample's prompt under :meth:`default_view`, pooled
        by ``pooling`` (mean over the prompt's tokens, or the last token), with the default view's adapter
        when fitted on it (else ``adapter=`` or the base model)."""
        view = View.parse(self.default_view(dataset))
        model = self._net()
        names = self._adapter_list(len(dataset), None, view, strict=False)
        if len(dataset) == 0:
            return np.zeros((0, int(unwrap_model(model).config.get_text_config().hidden_size)))
        prompts, _, _ = self.builder_.encode(dataset, view)
        dtype = model_dtype(model)
        out: np.ndarray | None = None
        for rows in _batches(prompts, self.batch_size):
            batch = self.builder_.encoder.collate([prompts[i] for i in rows]).to(self.device, dtype)
            extra = {"adapter_names": [names[i] for i in rows]} if names is not None else {}
            result = model(**batch.model_kwargs(), output_hidden_states=True, logits_to_keep=1, **extra)
            states = getattr(result, "hidden_states", None)
            if states is None and getattr(result, "language_model_outputs", None) is not None:  # BLIP-2
                states = result.language_model_outputs.hidden_states
            hidden = states[-1].float()
            if self.pooling == "last":
                pooled = hidden[:, -1]
            else:
                mask = batch.attention_mask.to(hidden.dtype)[..., None]
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            if out is None:
                out = np.zeros((len(prompts), pooled.shape[-1]))
            out[rows] = pooled.cpu().numpy()
        return out


@register_scorer("hf-vlm")
class HFVLMScorer(HFLMScorer):
    """A vision LM scorer (Qwen2-VL / Qwen2.5-VL / LLaVA). Image-kind modalities are images (PIL, array
    or path); a video-kind modality is a list of frames (or a folder of frames) fed as a sequence of
    images, at most ``max_frames``. A modality outside the view is absent: no image tokens at all."""

    modality_kinds: ClassVar[frozenset[str]] = frozenset({"text", "image", "video"})
    vision: ClassVar[bool] = True


class _FamilyVLMScorer(HFVLMScorer):
    """hf-vlm restricted to one family (``family``): a model folder of another family is refused."""

    family: ClassVar[str] = ""

    def _check_family(self, family: str) -> None:
        if family != self.family:
            raise DataError(f"scorer {self.name!r} reads {self.family} models, but the model is {family}; "
                            "use hf-vlm (which detects the family) or the matching scorer", field="model_path")


@register_scorer("blip2")
class Blip2Scorer(_FamilyVLMScorer):
    """BLIP-2 (``Blip2ForConditionalGeneration``, OPT language model): labels scored through the LM head after
    the Q-Former's query tokens (MMoE's strongest expert); LoRA on the language model only."""

    family: ClassVar[str] = "blip2"


@register_scorer("internvl")
class InternVLScorer(_FamilyVLMScorer):
    """InternVL2.5 / 3 (``InternVLForConditionalGeneration``; MME-JD's second MLLM); videos as frame tiles."""

    family: ClassVar[str] = "internvl"


@register_scorer("llava-onevision")
class LlavaOnevisionScorer(_FamilyVLMScorer):
    """LLaVA-OneVision (``LlavaOnevisionForConditionalGeneration``; MMLA): any-resolution images, native video
    with ``video_input="native"`` (exactly ``max_frames`` frames)."""

    family: ClassVar[str] = "llava-onevision"


@register_scorer("llava-next-video")
class LlavaNextVideoScorer(_FamilyVLMScorer):
    """LLaVA-NeXT-Video (``LlavaNextVideoForConditionalGeneration``; MMLA): any-resolution images, native video
    with ``video_input="native"`` (exactly ``max_frames`` frames, each pooled by ``spatial_pool_stride``)."""

    family: ClassVar[str] = "llava-next-video"


@register_scorer("qwen2-audio")
class Qwen2AudioScorer(_FamilyVLMScorer):
    """Qwen2-Audio (``Qwen2AudioForConditionalGeneration``; beyond MMLA's text+video, which names missing audio as
    a limit): text and audio-kind modalities (WAV files or arrays, resampled to the feature extractor's rate);
    ``image_processor`` is its WhisperFeatureExtractor."""

    family: ClassVar[str] = "qwen2-audio"
    modality_kinds: ClassVar[frozenset[str]] = frozenset({"text", "audio"})


def make_hf_scorer(name: str, model_path: str | os.PathLike | None = None, **kwargs: Any) -> HFLMScorer:
    """Thin helper over :func:`interlens.scoring.registry.make_scorer` for ``hf-lm`` / ``hf-vlm``
    (``model="<path>"`` is read as ``model_path``)."""
    from ...errors import unknown_name
    from ..registry import make_scorer

    if name not in ("hf-lm", "hf-vlm"):
        raise unknown_name("scorer", name, ["hf-lm", "hf-vlm"])
    if model_path is None and isinstance(kwargs.get("model"), str | os.PathLike):
        model_path = kwargs.pop("model")
    scorer = make_scorer(name, model_path=model_path, **kwargs)
    assert isinstance(scorer, HFLMScorer)
    return scorer
