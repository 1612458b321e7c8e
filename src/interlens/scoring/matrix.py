"""The registered scorers as rows (name, class, modality kinds, capabilities) for ``interlens scorers`` and the
method x scorer matrix. The matrix itself and each method's needs live in the methods layer
(:mod:`interlens.methods.matrix`, read from the methods' configs): ``scoring/`` knows no method (issue 29).
"""

from __future__ import annotations

from typing import Any


def scorer_rows() -> list[dict[str, Any]]:
    """One row per registered scorer: name, class, modality kinds and capabilities."""
    from .registry import registered_scorers

    return [{"scorer": name, "class": f"{cls.__module__}.{cls.__qualname__}",
             "modality_kinds": sorted(cls.modality_kinds),
             "capabilities": sorted(c.value for c in cls.capabilities)}
            for name, cls in registered_scorers().items()]
