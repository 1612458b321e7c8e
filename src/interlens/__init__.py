"""interlens: interaction-aware multimodal learning (MMoE, MINT, MME-JD, MMLA in one toolkit).

The public names are imported lazily (PEP 562), so ``import interlens`` stays fast; heavy libraries
(torch, transformers, pandas, scikit-learn, matplotlib) load only when a function needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {"Dataset": ".data.schema", "Sample": ".data.schema", "categorize": ".interactions.categorize",
         "Predictions": ".predictions", "View": ".views"}

__all__ = ["Dataset", "Predictions", "Sample", "View", "__version__", "categorize"]

if TYPE_CHECKING:
    from .data.schema import Dataset, Sample
    from .interactions.categorize import categorize
    from .predictions import Predictions
    from .views import View


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'interlens' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
