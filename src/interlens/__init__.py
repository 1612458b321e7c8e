"""interlens: interaction-aware multimodal learning (MMoE, MINT, MME-JD, MMLA in one toolkit)."""

from .data.schema import Dataset, Sample
from .interactions.categorize import categorize
from .predictions import Predictions
from .views import View

__version__ = "0.1.0"

__all__ = ["Dataset", "Predictions", "Sample", "View", "__version__", "categorize"]
