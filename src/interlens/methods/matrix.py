"""Which method runs with which scorer (issue 29 item 1): each method's needed capabilities, read from its
config's ``needs`` (:class:`~interlens.methods.config.MethodConfig`), and the method x scorer matrix generated
from them and the scorer registry (shown by ``interlens scorers`` and in docs/scorers.md).

Lives in the methods layer so that ``scoring/`` knows no method; ``tests/test_method_matrix.py`` runs every
cell to prove the table true.
"""

from __future__ import annotations

from typing import Any

from ..scoring.base import Capability
from .config import MethodConfig

C = Capability


def _needs(config: type[MethodConfig] | MethodConfig) -> frozenset[Capability]:
    required = getattr(config, "required", None)
    return frozenset(required()) if isinstance(config, MethodConfig) and required else frozenset(config.needs)


def method_needs() -> dict[str, tuple[frozenset[Capability], str]]:
    """method -> (capabilities it needs, where it is implemented). Methods in the one shape contribute their
    config's ``needs`` (an instance's ``required()`` where a setting adds one); saliency's ``input_gradients``
    depends on the data (an image-kind image modality), so that row adds it to MID's."""
    from .bench import BenchConfig
    from .debias import DebiasConfig
    from .experts import ExpertsConfig
    from .measure import ScoreConfig
    from .mint import MintConfig
    from .pid import PIDConfig
    from .train import TrainConfig

    return {
        "interactions score / categorize": (_needs(ScoreConfig), "interlens.methods.measure.run"),
        "interactions pid (predictions)": (_needs(PIDConfig(source="predictions")), "interlens.methods.pid.run"),
        "interactions pid (features)": (_needs(PIDConfig(source="features")), "interlens.methods.pid.run"),
        "experts train (MMoE)": (_needs(ExpertsConfig), "interlens.methods.experts.run"),
        "debias MID (text-form views)": (_needs(DebiasConfig(methods=("mid",))), "interlens.methods.debias.run"),
        "debias image counterfactuals (saliency)": (_needs(DebiasConfig(methods=("mid",))) | {C.INPUT_GRADIENTS},
                                                    "interlens.debias.counterfactual"),
        "debias MCTD": (_needs(DebiasConfig(methods=("mctd",))), "interlens.methods.debias.run"),
        "debias MME-JD / MRID": (_needs(DebiasConfig(methods=("mmejd",))), "interlens.methods.debias.run"),
        "bench zero-shot": (_needs(BenchConfig(method="zero-shot")), "interlens.methods.bench.run"),
        "bench sft": (_needs(BenchConfig(method="sft")), "interlens.methods.bench.run"),
        "bench it": (_needs(BenchConfig(method="it")), "interlens.methods.bench.run"),
        "MINT group tuning": (_needs(MintConfig), "interlens.methods.mint.run"),
        "train (fit + save_pretrained)": (_needs(TrainConfig), "interlens.methods.train.run"),
    }


METHOD_NEEDS: dict[str, tuple[frozenset[Capability], str]] = method_needs()


def supports(scorer_cls: Any, method: str) -> bool:
    """Whether scorer class ``scorer_cls`` declares every capability ``method`` needs."""
    needs, _ = METHOD_NEEDS[method]
    return needs <= frozenset(scorer_cls.capabilities)


def matrix_markdown() -> str:
    """The method x scorer table (Markdown), generated from the registry and :data:`METHOD_NEEDS`."""
    from ..scoring.matrix import scorer_rows
    from ..scoring.registry import registered_scorers

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
