"""Which method runs with which scorer: each method's needed capabilities, and the method x scorer
matrix generated from the registry (shown by ``interlens scorers`` and in docs/scorers.md).

The needs listed here are the ones each method checks with :func:`interlens.scoring.base.require`
before any work; ``tests/test_method_matrix.py`` runs every cell to prove the table true.
"""

from __future__ import annotations

from typing import Any

from .base import Capability

C = Capability
#: method -> (capabilities it needs, where it is implemented)
METHOD_NEEDS: dict[str, tuple[frozenset[Capability], str]] = {
    "interactions score / categorize": (frozenset(), "interlens.measure.measure_interactions"),
    "interactions pid (predictions)": (frozenset(), "interlens.methods.pid.measure_pid"),
    "interactions pid (features)": (frozenset({C.FEATURES}), "interlens.methods.pid.measure_pid"),
    "experts train (MMoE)": (frozenset({C.TRAINABLE, C.FINETUNE, C.FEATURES}), "interlens.experts.pipeline"),
    "debias MID (text-form views)": (frozenset({C.TRAINABLE}), "interlens.debias.pipeline"),
    "debias image counterfactuals (saliency)": (frozenset({C.TRAINABLE, C.INPUT_GRADIENTS}),
                                                "interlens.debias.counterfactual"),
    "debias MCTD": (frozenset({C.TRAINABLE, C.FINETUNE}), "interlens.debias.pipeline"),
    "debias MME-JD / MRID": (frozenset({C.TRAINABLE, C.FINETUNE, C.FEATURES}), "interlens.debias.pipeline"),
    "bench zero-shot": (frozenset({C.ZERO_SHOT}), "interlens.bench.runner"),
    "bench sft": (frozenset({C.TRAINABLE}), "interlens.bench.runner"),
    "bench it": (frozenset({C.TRAINABLE}), "interlens.bench.runner"),
    "MINT group tuning": (frozenset({C.TRAINABLE}), "interlens.mint.group_tuning"),
}


def supports(scorer_cls: Any, method: str) -> bool:
    needs, _ = METHOD_NEEDS[method]
    return needs <= frozenset(scorer_cls.capabilities)


def scorer_rows() -> list[dict[str, Any]]:
    """One row per registered scorer: name, class, modality kinds and capabilities."""
    from .registry import registered_scorers

    return [{"scorer": name, "class": f"{cls.__module__}.{cls.__qualname__}",
             "modality_kinds": sorted(cls.modality_kinds),
             "capabilities": sorted(c.value for c in cls.capabilities)}
            for name, cls in registered_scorers().items()]


def matrix_markdown() -> str:
    """The method x scorer table (Markdown), generated from the registry and :data:`METHOD_NEEDS`."""
    from .registry import registered_scorers

    scorers = registered_scorers()
    head = "| method | needs | " + " | ".join(f"`{n}`" for n in scorers) + " |"
    rule = "|---|---|" + "---|" * len(scorers)
    rows = [head, rule]
    for method, (needs, _) in METHOD_NEEDS.items():
        cells = ["yes" if supports(cls, method) else "refused" for cls in scorers.values()]
        rows.append(f"| {method} | {', '.join(sorted(c.value for c in needs)) or '—'} | " + " | ".join(cells) + " |")
    caps = ["", "| scorer | reads kinds | capabilities |", "|---|---|---|"]
    caps += [f"| `{r['scorer']}` | {', '.join(r['modality_kinds'])} | {', '.join(r['capabilities']) or '—'} |"
             for r in scorer_rows()]
    return "\n".join(rows + caps) + "\n"
