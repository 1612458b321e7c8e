"""Offline loading of models, tokenizers and image processors from local paths, and fingerprints.

Nothing is downloaded: a path that is not a local model folder is an error that says so. The
fingerprint of a path-loaded model hashes its resolved path, config and weight-file stats; an
in-memory model hashes its config and parameters (sampled when large).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

from ...errors import DataError
from ..base import fingerprint_of

_DTYPES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
           "float16": torch.float16, "fp16": torch.float16}


def resolve_dtype(dtype: str | torch.dtype | None, device: str | torch.device = "cpu") -> torch.dtype:
    """``"auto"``/None: bfloat16 on CUDA, float32 on CPU (exact scores; pass ``"bfloat16"`` for speed)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype in (None, "auto"):
        return torch.bfloat16 if str(device).startswith("cuda") else torch.float32
    if dtype not in _DTYPES:
        raise DataError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPES)} or 'auto'", field="dtype")
    return _DTYPES[dtype]


def check_model_dir(path: str | os.PathLike) -> Path:
    """A local model folder with a ``config.json``, or a clear error (models are never downloaded)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError("model path does not exist (interlens loads models from local folders only, "
                        "nothing is downloaded)", file=str(path))
    if not path.is_dir() or not (path / "config.json").is_file():
        raise DataError("not a model folder: expected a directory with config.json (from save_pretrained)",
                        file=str(path))
    return path.resolve()


def check_architecture(path: str | os.PathLike, *, vision: bool) -> str:
    """The folder's family (:mod:`~interlens.scoring.hf.families`); one line for a remote-code or unsupported
    architecture (vision) and for a remote-code folder (text: any other causal LM is left to transformers)."""
    from .families import VLM_FAMILIES, family_of_config, read_config

    config = read_config(path)
    if not vision:
        if config.get("auto_map") or config.get("model_type") in ("cogvlm2", "cogvlm", "minicpmv"):
            family_of_config(config, where=str(path))
        return "text"
    family = family_of_config(config, where=str(path))
    if family not in VLM_FAMILIES:
        raise DataError(f"a {family} model is not a vision LM for hf-vlm (use the {family!r} scorer)", file=str(path))
    return family


def load_causal_lm(path: str | os.PathLike, *, dtype: Any = "auto", device: str = "cpu") -> tuple[Any, Any]:
    """(model, tokenizer) of a causal LM saved with ``save_pretrained``; eval mode."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = check_model_dir(path)
    check_architecture(path, vision=False)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=resolve_dtype(dtype, device), local_files_only=True)
    return model.to(device).eval(), tokenizer


def load_vision_lm(path: str | os.PathLike, *, dtype: Any = "auto", device: str = "cpu") -> tuple[Any, Any, Any]:
    """(model, tokenizer, image processor) of a Qwen2-VL / LLaVA model folder; PIL image processors only
    (``Qwen2VLProcessor`` needs torchvision, which must not be installed: ecosystem notes, section 1)."""
    from transformers import AutoImageProcessor, AutoModelForImageTextToText, AutoTokenizer

    path = check_model_dir(path)
    family = check_architecture(path, vision=True)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    if family == "qwen2-audio":  # not an image-text-to-text class; its "processor" is a feature extractor
        from transformers import Qwen2AudioForConditionalGeneration as model_class
    else:
        model_class = AutoModelForImageTextToText
    model = model_class.from_pretrained(path, dtype=resolve_dtype(dtype, device), local_files_only=True)
    if not (path / "preprocessor_config.json").is_file():
        raise DataError("no preprocessor_config.json beside the model: save the image processor (or audio feature "
                        "extractor) with .save_pretrained(path) or pass image_processor=", file=str(path))
    if family == "qwen2-audio":
        from transformers import AutoFeatureExtractor

        return model.to(device).eval(), tokenizer, AutoFeatureExtractor.from_pretrained(path, local_files_only=True)
    image_processor = AutoImageProcessor.from_pretrained(path, backend="pil", local_files_only=True)
    return model.to(device).eval(), tokenizer, image_processor


def _tensor_digest(tensor: torch.Tensor, digest: Any, max_elems: int) -> None:
    flat = tensor.detach().reshape(-1)
    if flat.numel() > max_elems:
        flat = flat[:: flat.numel() // max_elems + 1]
    digest.update(flat.to(torch.float32).cpu().numpy().tobytes())


def parameters_digest(named: Any, *, budget: int = 5_000_000) -> str:
    """Hash of named tensors (a state dict or ``named_parameters()``), sampled to ~``budget`` values."""
    items = sorted((str(n), t) for n, t in (named.items() if hasattr(named, "items") else named))
    total = sum(t.numel() for _, t in items) or 1
    digest = hashlib.sha256()
    for name, tensor in items:
        digest.update(name.encode())
        _tensor_digest(tensor, digest, max(1, budget * tensor.numel() // total))
    return digest.hexdigest()[:16]


def model_fingerprint(model: Any, path: str | os.PathLike | None = None) -> str:
    """Path + config + weight-file stats for a loaded folder, config + parameter hash in memory."""
    from .encoding import unwrap_model

    base = unwrap_model(model)
    config = json.loads(base.config.to_json_string(use_diff=False))
    config.pop("_name_or_path", None)
    config.pop("transformers_version", None)
    if path is not None:
        folder = Path(path).resolve()
        files = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.glob("*.safetensors"))
        files += sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.glob("*.bin"))
        return fingerprint_of("path", str(folder), config, files)
    # LoRA layers injected by PEFT neither add to nor rename the base weights' identity
    params = {n.replace(".base_layer", ""): p for n, p in base.named_parameters() if "lora_" not in n}
    return fingerprint_of("memory", config, parameters_digest(params))


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """Vocabulary size, special tokens and chat template."""
    return fingerprint_of(len(tokenizer), tokenizer.all_special_tokens, getattr(tokenizer, "chat_template", None),
                          tokenizer.__class__.__name__)
