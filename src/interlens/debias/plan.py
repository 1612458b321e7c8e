"""What a debias run needs, checked before any work: the methods (enums), the scorer (a registered
name + options, or an instance) and its capabilities, and the two modalities by kind.

Needs per method (MME-JD paper): the baseline, the counterfactual predictions and MID (Sec. 4.1)
need ``fit`` + ``logits`` -- a ``trainable`` scorer, or a ``zero_shot`` one used without fit; MCTD
(Sec. 4.2.2) fine-tunes the baseline's fused model (``trainable`` + ``finetune``); MME-JD and MRID
(Sec. 4.3) fine-tune three experts from the baseline and route on the scorer's ``features``; an
image-kind counterfactual (Algorithm 1) needs ``input_gradients``. A scorer lacking one is refused
in one line (:class:`~interlens.scoring.base.CapabilityError`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..data.schema import Dataset
from ..errors import DataError, check_known_keys
from ..scoring.base import Capability, Scorer, capability_error, require
from .counterfactual import DEFAULT_MIN_WORD_COUNT, SALIENCY_PURPOSE, DebiasModalities, pick_modalities

E = TypeVar("E", bound=Enum)


class DebiasMethod(StrEnum):
    """Methods beyond the baseline; MID always runs (the debias categories need its predictions)."""

    MID = "mid"
    MCTD = "mctd"
    MMEJD = "mmejd"


class Metric(StrEnum):
    ACC = "acc"
    F1 = "f1"
    MACRO_F1 = "macro_f1"
    WEIGHTED_F1 = "weighted_f1"


class RouterTarget(StrEnum):
    RULE = "rule"          # Sec. 4.2.1 categories (the paper)
    BENEFIT = "benefit"    # the route that corrects the sample (beyond the paper, core.benefit_targets)


class ExpertInputs(StrEnum):
    ORIGINAL = "original"              # every expert reads (i, t)
    COUNTERFACTUAL = "counterfactual"  # IDE reads ([MASK], i_hat), TDE reads (t_hat, phi)


class CfSelection(StrEnum):
    """Which counterfactual samples train MCTD and the image-/text-debias experts."""

    RULE = "rule"  # Sec. 4.2.1 / 4.3.1: text cf for text/both samples, image cf for image/both (the paper)
    ALL = "all"    # every training sample's counterfactuals (the earlier default)


class RouterLoss(StrEnum):
    """How the MME-JD router is trained and selected."""

    CE = "ce"        # Eq. 13 plain cross-entropy, no re-weighting; checkpoint by validation F0.5 (App. C.2)
    FOCAL = "focal"  # focal loss + class-balanced weights, checkpoint by macro-F1 (beyond the paper)


class Normalise(StrEnum):
    """How MID / MRID scores become a decision (core.normalise)."""

    NONE = "none"        # the literal Eq. 5 / Eq. 23 scores, argmax (the paper)
    CLIP = "clip"        # clip at 0 and renormalise (all <= 0 rows become uniform; the earlier default)
    SOFTMAX = "softmax"  # Eq. 7's norm (same argmax as "none")


class WeightSearch(StrEnum):
    """How MME-JD / MRID route weights alpha_c, beta_c are searched on dev."""

    BO = "bo"      # Bayesian optimisation as Sec. 4.1 (Sec. 4.3.2, App. C.2)
    GRID = "grid"  # 0, 0.1, ..., route_weight_max (the earlier default)


ALL_METHODS: tuple[DebiasMethod, ...] = tuple(DebiasMethod)
#: parameters the debias experiment gives a scorer unless ``-s`` sets them (only those it has and accepts:
#: minilm-ft's fused views have no linear head and keep their own fusion):
#: a linear fusion head shares weights between originals and counterfactuals (docs/debias.md)
SCORER_DEFAULTS: dict[str, Any] = {"fusion": "linear"}
#: capability -> purpose, per method
NEEDS: dict[DebiasMethod, tuple[tuple[Capability, str], ...]] = {
    DebiasMethod.MID: (),
    DebiasMethod.MCTD: ((Capability.TRAINABLE, "MCTD (Eq. 9: training on reversed-label counterfactuals)"),
                        (Capability.FINETUNE, "MCTD (fine-tunes the baseline's fused model)")),
    DebiasMethod.MMEJD: ((Capability.TRAINABLE, "MME-JD experts (Eq. 10-12)"),
                         (Capability.FINETUNE, "MME-JD experts (initialised from the baseline)"),
                         (Capability.FEATURES, "the MME-JD / MRID router (Eq. 13-14)")),
}


class ExperimentSettings(BaseModel):
    """The settings of a debias experiment (:func:`interlens.debias.evaluate.run_experiment`; CLI
    ``--setting KEY=VALUE``), typed and validated before any work. The paper's choices are the defaults
    (docs/debias.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    finetune_epochs: int = Field(20, ge=1, description="epochs of every fine-tuning from the baseline")
    n_trials: int = Field(50, ge=1, description="Bayesian-optimisation trials of MID (Sec. 4.1)")
    metric: Metric = Field(Metric.F1, description="what MID and the route weights optimise (Sec. 4.1)")
    top_k: int = Field(1, ge=1, description="words / regions masked per counterfactual")
    eps: float = Field(0.1, ge=0.0, description="tolerance of the debias categories (Sec. 4.2.1)")
    cf_selection: CfSelection = Field(CfSelection.RULE, description="counterfactuals that train MCTD, IDE, TDE")
    router_loss: RouterLoss = Field(RouterLoss.CE, description="MME-JD router loss (Eq. 13; App. C.2)")
    mid_normalise: Normalise = Field(Normalise.NONE, description="the Eq. 5 / 23 argmax as written, or normalised")
    weight_search: WeightSearch = Field(WeightSearch.BO, description="how alpha_c, beta_c are searched")
    route_trials: int | None = Field(None, ge=1, description="trials per class of the route weights (None: n_trials)")
    min_word_count: int = Field(DEFAULT_MIN_WORD_COUNT, ge=1, description="rarer words get no relevance (App. B.1)")
    route_weight_max: float = Field(1.0, gt=0.0, description="upper bound of the route weights")
    expert_inputs: ExpertInputs = Field(ExpertInputs.ORIGINAL, description="what the three experts read")
    router_target: RouterTarget = Field(RouterTarget.RULE, description="router labels: Sec. 4.2.1 rule or benefit")

    @classmethod
    def build(cls, base: ExperimentSettings | None = None, overrides: Mapping[str, Any] | None = None
              ) -> ExperimentSettings:
        """``base`` (default: the paper's) with ``overrides``; an unknown key ("did you mean") or a bad
        value is refused in one line naming the setting."""
        overrides = dict(overrides or {})
        check_known_keys(overrides, list(cls.model_fields), "setting", field="setting")
        try:
            return cls.model_validate({**(base.model_dump() if base is not None else {}), **overrides})
        except ValidationError as exc:
            error = exc.errors()[0]
            key = ".".join(str(p) for p in error["loc"])
            raise DataError(f"setting {key}={error.get('input')!r}: {error['msg']}", field=key) from None

    def as_record(self) -> dict[str, Any]:
        """Plain JSON values (enums as their strings) for results files."""
        return self.model_dump(mode="json")


def choice(enum: type[E], value: Any, field: str) -> E:
    """``value`` as a member of ``enum``; an unknown value is refused naming the choices."""
    if isinstance(value, enum):
        return value
    try:
        return enum(value)
    except ValueError:
        raise DataError(f"unknown {field} {value!r}; choose one of {[m.value for m in enum]}", field=field) from None


def methods_of(methods: Iterable[str | DebiasMethod]) -> frozenset[DebiasMethod]:
    return frozenset({DebiasMethod.MID, *(choice(DebiasMethod, m, "method") for m in methods)})


def make_debias_scorer(scorer: Scorer | str, options: dict[str, Any] | None = None, *, seed: int = 0,
                       methods: Iterable[str | DebiasMethod] | None = None) -> Scorer:
    """A registered scorer by name with ``options`` (unknown keys refused, "did you mean"); the
    debias defaults (:data:`SCORER_DEFAULTS`, ``seed``) fill parameters the scorer has and ``options``
    does not set. With ``methods``, the scorer class is checked (:func:`check_scorer`) before it is
    built. An instance is used as given."""
    if not isinstance(scorer, str):
        if options:
            raise DataError(f"scorer options {sorted(options)} given with a scorer instance", field="scorer_option")
        if methods is not None:
            check_scorer(scorer, methods)
        return scorer
    from ..scoring.registry import make_scorer, scorer_class

    cls = scorer_class(scorer)
    if methods is not None:
        check_scorer(cls, methods)
    known = cls.param_names()
    accepted = {"fusion": getattr(cls, "fusions", ())}  # a default the scorer does not accept is not given
    params = {k: v for k, v in {**SCORER_DEFAULTS, "seed": seed}.items()
              if k in known and (k not in accepted or v in accepted[k])}
    return make_scorer(scorer, **{**params, **(options or {})})


def check_scorer(scorer: Any, methods: Iterable[str | DebiasMethod]) -> frozenset[DebiasMethod]:
    """Refuse at once a scorer that cannot do what ``methods`` need; returns the methods (MID added)."""
    methods = methods_of(methods)
    caps = getattr(scorer, "capabilities", frozenset())
    if Capability.TRAINABLE not in caps and Capability.ZERO_SHOT not in caps:
        raise capability_error(scorer, Capability.TRAINABLE, "debiasing (the baseline and counterfactual "
                                                            "predictions need fit + logits, or zero_shot)")
    for method in sorted(methods):
        for capability, purpose in NEEDS[method]:
            require(scorer, capability, purpose)
    return methods


@dataclass
class DebiasPlan:
    """A checked debias run: the dataset restricted to the two modalities, their roles, the scorer."""

    dataset: Dataset
    modalities: DebiasModalities
    scorer: Scorer
    methods: frozenset[DebiasMethod]
    trains: bool


def check_splits(data: Dataset) -> None:
    missing = [s for s in ("train", "dev", "test") if s not in data.splits]
    if missing:
        raise DataError(f"dataset {data.name!r} lacks split(s) {missing} (debiasing needs train/dev/test)",
                        file=data.source, field="split")


def plan(dataset: Dataset, scorer: Scorer | str = "embedding", scorer_options: dict[str, Any] | None = None, *,
         text_modality: str | None = None, image_modality: str | None = None,
         methods: Iterable[str | DebiasMethod] = ALL_METHODS, seed: int = 0) -> DebiasPlan:
    """Check everything a run needs -- capabilities, modalities by kind, splits, views -- before any work."""
    scorer = make_debias_scorer(scorer, scorer_options, seed=seed, methods=methods)
    methods = methods_of(methods)
    mods = pick_modalities(dataset, text_modality, image_modality)
    if not mods.image_is_text:
        require(scorer, Capability.INPUT_GRADIENTS, SALIENCY_PURPOSE)
    check_splits(dataset)
    data = dataset.with_modalities([mods.text, mods.image])
    for view in mods.views:
        scorer.check_view(data, view)
    return DebiasPlan(data, mods, scorer, methods, Capability.TRAINABLE in scorer.capabilities)
