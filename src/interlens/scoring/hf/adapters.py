"""Several named LoRA adapters on one frozen base (one per interaction expert R/U/S or task group):
create, save, load, switch, fingerprint (PEFT; ecosystem notes, section 3).

Saved layout: ``<dir>/<name>/adapter_config.json`` for every adapter, ``default`` included, and
loading reads each adapter from its own subdirectory (``PeftModel.from_pretrained(base, dir)`` on the
parent fails, the pitfall recorded in the ecosystem notes).
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ...errors import DataError
from ..base import fingerprint_of
from .encoding import model_family
from .loading import parameters_digest

TEXT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_VOLATILE = ("inference_mode", "base_model_name_or_path", "revision", "runtime_config")  # not the adapter itself


@dataclass
class LoraSpec:
    """LoRA architecture (MMLA Sec. 4: rank 8-128, alpha = 2 x rank). ``target_modules=None``: the
    attention and MLP projections of the language model only (never the vision tower)."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.0
    target_modules: list[str] | str | None = None

    def peft_config(self, model: Any) -> Any:
        from peft import LoraConfig

        targets: Any = self.target_modules
        if targets is None:
            targets = (list(TEXT_TARGETS) if model_family(model) == "text"
                       else r".*language_model.*\.(" + "|".join(TEXT_TARGETS) + ")")
        return LoraConfig(r=self.r, lora_alpha=self.alpha, lora_dropout=self.dropout, target_modules=targets,
                          task_type="CAUSAL_LM")


@dataclass
class AdapterInfo:
    """What was saved: adapter name -> folder."""

    root: Path
    folders: dict[str, Path] = field(default_factory=dict)


@contextlib.contextmanager
def _quiet_peft() -> Iterator[None]:
    """PEFT reads transformers' deprecated ``is_gradient_checkpointing`` (a harmless FutureWarning)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        yield


def is_peft(model: Any) -> bool:
    return hasattr(model, "peft_config") and hasattr(model, "get_base_model")


def adapter_names(model: Any) -> list[str]:
    return list(model.peft_config) if is_peft(model) else []


def add_lora_adapter(model: Any, name: str, spec: LoraSpec | None = None, *, seed: int = 0) -> Any:
    """Add a fresh adapter ``name`` (seeded init) and return the PEFT model (wrapping ``model`` if needed)."""
    from peft import get_peft_model

    if not _NAME.match(name) or name in "lora_" or name == "__base__":
        raise DataError(f"adapter name {name!r} must use letters, digits, '_' or '-', and must not be "
                        "'__base__' or part of 'lora_' (PEFT would re-initialise it on loading)", field="adapter")
    spec = spec or LoraSpec()
    torch.manual_seed(seed)
    if not is_peft(model):
        with _quiet_peft():
            return get_peft_model(model, spec.peft_config(model), adapter_name=name)
    if name in model.peft_config:
        raise DataError(f"adapter {name!r} already exists; existing: {adapter_names(model)}", field="adapter")
    model.add_adapter(name, spec.peft_config(model))
    return model


def save_adapters(model: Any, directory: str | os.PathLike, names: list[str] | None = None) -> AdapterInfo:
    """Write each adapter to ``directory/<name>/`` (weights + adapter_config.json)."""
    if not is_peft(model):
        raise DataError("the model has no LoRA adapters to save")
    root = Path(directory)
    info = AdapterInfo(root)
    for name in names or adapter_names(model):
        target = root / "default" if name == "default" else root
        model.save_pretrained(str(target), selected_adapters=[name], save_embedding_layers=False)
        info.folders[name] = root / name
    return info


def saved_adapter_names(directory: str | os.PathLike) -> list[str]:
    root = Path(directory)
    return sorted(p.name for p in root.iterdir() if (p / "adapter_config.json").is_file()) if root.is_dir() else []


def load_adapters(model: Any, directory: str | os.PathLike, names: list[str] | None = None) -> Any:
    """Load adapters saved by :func:`save_adapters` onto ``model`` (a base model or a PEFT model)."""
    from peft import PeftModel

    root = Path(directory)
    available = saved_adapter_names(root)
    if not available and (root / "adapter_config.json").is_file():  # a single adapter folder
        root, available = root.parent, [root.name]
    names = names or available
    if not names:
        raise DataError("no adapters found (expected <dir>/<name>/adapter_config.json)", file=str(directory))
    missing = [n for n in names if n not in available]
    if missing:
        raise DataError(f"adapter {missing[0]!r} not found; available: {available}", file=str(directory))
    for name in names:
        if is_peft(model):
            model.load_adapter(str(root / name), adapter_name=name)
        else:
            with _quiet_peft():
                model = PeftModel.from_pretrained(model, str(root / name), adapter_name=name)
    return model.eval()


def copy_adapter(model: Any, source: str, target: str) -> Any:
    """Add adapter ``target`` with ``source``'s config and a copy of its LoRA weights (MMoE App. G: an
    expert starts from the baseline adapter). ``source`` is left untouched."""
    from peft.utils import get_peft_model_state_dict, set_peft_model_state_dict

    if source not in adapter_names(model):
        raise DataError(f"model has no adapter {source!r}; available: {adapter_names(model)}", field="adapter")
    if not _NAME.match(target) or target in "lora_" or target == "__base__":
        raise DataError(f"adapter name {target!r} must use letters, digits, '_' or '-'", field="adapter")
    if target in model.peft_config:
        raise DataError(f"adapter {target!r} already exists; existing: {adapter_names(model)}", field="adapter")
    import copy

    model.add_adapter(target, copy.deepcopy(model.peft_config[source]))
    state = get_peft_model_state_dict(model, adapter_name=source, save_embedding_layers=False)
    set_peft_model_state_dict(model, {k: v.detach().clone() for k, v in state.items()}, adapter_name=target)
    return model


def adapter_fingerprint(model: Any, name: str | None, *, with_name: bool = True) -> str | None:
    """Config + weights hash of one adapter (None for the bare base model); ``with_name=False`` leaves
    the adapter's name out (two adapters with equal config and weights then share the fingerprint)."""
    if name is None or name == "__base__":
        return None
    if name not in adapter_names(model):
        raise DataError(f"model has no adapter {name!r}; available: {adapter_names(model)}", field="adapter")
    from peft.utils import get_peft_model_state_dict

    state = get_peft_model_state_dict(model, adapter_name=name, save_embedding_layers=False)
    config = {k: sorted(v) if isinstance(v, set | frozenset) else v
              for k, v in model.peft_config[name].to_dict().items() if k not in _VOLATILE}
    return fingerprint_of(name if with_name else None, config, parameters_digest(state))
