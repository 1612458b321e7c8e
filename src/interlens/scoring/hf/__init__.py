"""Hugging Face causal LMs and vision LMs as scorers (``hf-lm``, ``hf-vlm``): label-likelihood scoring
(all labels in one pass), generate-and-parse, LoRA adapters (train / save / load / copy / mix). MINT group
tuning, a method, is :mod:`interlens.mint.group_tuning`.

Heavy imports (torch, transformers, peft) happen when this package is imported, not with ``interlens``.
"""

from .adapters import LoraSpec, adapter_names, add_lora_adapter, copy_adapter, load_adapters, save_adapters
from .encoding import Batch, model_family
from .families import make_encoder
from .generation import ParseResult, greedy_generate, parse_label
from .labels import LabelSet, build_label_set
from .likelihood import label_logprobs, label_probs, naive_label_logprobs
from .loading import load_causal_lm, load_vision_lm
from .prompting import PromptBuilder
from .scorers import HFLMScorer, HFVLMScorer, make_hf_scorer
from .training import TrainConfig, TrainResult, evaluate_labels, train_lora

__all__ = ["Batch", "HFLMScorer", "HFVLMScorer", "LabelSet", "LoraSpec", "ParseResult", "PromptBuilder", "TrainConfig",
           "TrainResult", "adapter_names", "add_lora_adapter", "build_label_set", "copy_adapter", "evaluate_labels",
           "greedy_generate", "label_logprobs", "label_probs", "load_adapters", "load_causal_lm", "load_vision_lm",
           "make_encoder", "make_hf_scorer", "model_family", "naive_label_logprobs", "parse_label", "save_adapters",
           "train_lora"]
