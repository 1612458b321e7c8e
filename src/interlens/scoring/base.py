"""The scorer contract shared by every model in interlens (DESIGN.md "Scorers").

One abstract base class in the scikit-learn style:

* the constructor only stores parameters (``get_params`` reads them back from its signature);
  ``clone(scorer, **overrides)`` makes an unfitted copy; learned state ends in ``_``;
* ``fit(train, views, *, val=None) -> self`` learns one model per view (selection on ``val``);
* ``logits(dataset, view) -> (n, K)`` and ``predict_proba(dataset, view) -> Predictions``
  (default: softmax of the logits, with provenance);
* ``fingerprint`` identifies parameters *and* learned state, so it changes after ``fit`` (and after
  ``finetune``); :func:`cached_predict` keys the cache by it and by the view;
* ``supported_views(dataset)``: the views the scorer can honour on that dataset; any other view is
  refused (:meth:`Scorer.check_view`), never silently served from another input.

Optional **capabilities** are declared on the class (``capabilities = frozenset({...})``) and checked
by every method before any work (:func:`require`): ``finetune`` (continue training one view's model on
a subset -- MMoE experts), ``features`` (per-sample input features -- routers), ``input_gradients``
(saliency counterfactuals, MME-JD Alg. 1), ``zero_shot`` (label scores without training -- MMLA) and
``savable`` (``save_pretrained(dir)`` and the classmethod ``from_pretrained(dir)``, next to the scorer's own
state: safetensors + JSON, the reloaded scorer gives the same probabilities; issue 29).
A scorer lacking one is refused in one line naming the scorer, the capability and the scorers that
have it (:class:`CapabilityError`, exit 2 in the CLI).
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import inspect
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from itertools import combinations
from typing import Any, ClassVar, TypeVar

import numpy as np

from ..cache import PredictionCache
from ..data.schema import Dataset
from ..errors import DataError, InterlensError, check_known_keys
from ..execution.base import Executor, current_executor, resources_for
from ..predictions import Predictions
from ..registry import Registry
from ..torch_utils import softmax  # noqa: F401 - the one softmax; scorers import it from here
from ..views import View


class Capability(StrEnum):
    """What a scorer can do beyond ``fit`` / ``logits`` / ``predict_proba``."""

    FINETUNE = "finetune"                # finetune(subset, view, *, val) -> new Scorer (experts)
    FEATURES = "features"                # features(dataset) -> (n, d) array (routers)
    INPUT_GRADIENTS = "input_gradients"  # input_gradients(dataset, view, modality) (saliency)
    ZERO_SHOT = "zero_shot"              # scores labels without fit (MMLA zero-shot)
    TRAINABLE = "trainable"              # fit() learns from labels (SFT, baselines)
    SAVABLE = "savable"                  # save_pretrained(dir) + classmethod from_pretrained(dir) (issue 29)
    MULTI_TASK = "multi_task"            # fit_tasks(trains, views, *, vals): one model, several tasks (MINT, bench it)
    ADAPTERS = "adapters"                # save_adapters(dir): the fitted LoRA adapters, PEFT layout (MINT groups)


class CapabilityError(InterlensError, TypeError):
    """A method needs a capability the scorer does not declare."""


def fingerprint_of(*parts: Any) -> str:
    """Stable 16-hex-char hash of JSON-serialisable parts."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def check_training_set(train: Any) -> None:
    """What every ``fit`` receives (issue 30): an interlens Dataset (else one DataError naming ``train``), and
    a warning when its labelled samples all have one class (the model can only learn to predict it)."""
    if not isinstance(train, Dataset):
        raise DataError(f"fit takes an interlens Dataset, got {type(train).__name__} (see interlens.data: "
                        "read_table, from_pandas, load_dataset)", field="train")
    present = {s.label for s in train.samples if s.label is not None}
    if len(present) == 1 and len(train.labels) > 1:
        import warnings

        warnings.warn(f"training set {train.name!r} ({train.source or 'in memory'}) has one class only "
                      f"({next(iter(present))!r} of {list(train.labels)}): the model can only learn to predict it",
                      UserWarning, stacklevel=3)


class Scorer(ABC):
    """Abstract base of every scorer. See the module docstring for the contract."""

    #: registry name (set by :func:`interlens.scoring.registry.register_scorer`)
    name: ClassVar[str] = "scorer"
    #: declared optional capabilities
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    #: modality kinds the scorer can read (a view with another kind is unsupported)
    modality_kinds: ClassVar[frozenset[str]] = frozenset({"text"})
    #: ``fit`` records exactly :meth:`_fit_history`, so :meth:`planned_fingerprint` can predict the fingerprint
    records_fit_history: ClassVar[bool] = False
    #: ``fit`` is made of sub-fits that it checkpoints itself in ``member_checkpoints`` (the ensemble), so
    #: :func:`interlens.checkpoints.fit_or_restore` hands it the folder instead of saving the whole
    checkpoints_members: ClassVar[bool] = False
    #: the class declares its fitted state (:meth:`checkpoint_state` / :meth:`restore_checkpoint_state`), so
    #: :mod:`interlens.checkpoints` can save and restore it: tensors + JSON, no pickle, no private attribute read
    checkpointable: ClassVar[bool] = False
    #: bumped by a scorer when its input encoding changes, so older cached results are not reused
    fingerprint_version: ClassVar[int | None] = None
    #: parameters left out of ``get_params`` (in-memory objects that are not hyper-parameters)
    _unhashed_params: ClassVar[tuple[str, ...]] = ()
    #: parameters added after a scorer's first release: hashed only when set away from their default, so
    #: a new option leaves every earlier fingerprint (and every cached result behind it) as it was
    _hashed_when_set: ClassVar[tuple[str, ...]] = ()

    # -- parameters (scikit-learn) ----------------------------------------------------------------
    @classmethod
    def param_names(cls) -> list[str]:
        """Constructor parameter names (the scorer's hyper-parameters), in signature order."""
        return list(cls.param_defaults())

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        """Constructor parameters and their defaults (scikit-learn's ``get_params`` reads the signature
        the same way; ``inspect.Parameter.empty`` where there is none)."""
        sig = inspect.signature(cls.__init__)
        return {p.name: p.default for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}

    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.param_names()}

    def set_params(self, **params: Any) -> Scorer:
        check_param_names(type(self), params)
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def _hashable_params(self) -> dict[str, Any]:
        defaults = self.param_defaults()
        return {k: v for k, v in self.get_params().items()
                if k not in self._unhashed_params and not (k in self._hashed_when_set and v == defaults[k])}

    @property
    def is_fitted(self) -> bool:
        return bool(getattr(self, "history_", None))

    @property
    def fit_seconds(self) -> float | None:
        """Seconds the fit behind this fitted scorer took, wherever it ran: a scorer restored from a checkpoint
        keeps the time of the fit that made it (``fit_seconds_``, set by
        :func:`interlens.checkpoints.fit_or_restore`); None when unknown."""
        return getattr(self, "fit_seconds_", None)

    def checkpoint_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(JSON-able metadata, named CPU tensors) of the fitted state, for ``checkpointable`` scorers."""
        raise NotImplementedError(f"scorer {self.name!r} declares no checkpoint state")

    def restore_checkpoint_state(self, meta: dict[str, Any], tensors: dict[str, Any]) -> None:
        """Set the fitted state from what :meth:`checkpoint_state` returned (this scorer's parameters are the
        ones it was fitted with; ``history_`` is restored by the caller)."""
        raise NotImplementedError(f"scorer {self.name!r} declares no checkpoint state")

    @property
    def fingerprint(self) -> str:
        """Parameters + learned state: changes after ``fit`` / ``finetune``."""
        return self._fingerprint_with(getattr(self, "history_", []))

    def _fingerprint_with(self, history: Any) -> str:
        version = () if self.fingerprint_version is None else (self.fingerprint_version,)
        return fingerprint_of(self.name, *version, self._hashable_params(), history)

    @staticmethod
    def _fit_history(train: Dataset, views: Sequence[View], val: Dataset | None) -> list[tuple]:
        """The ``history_`` entry a ``fit`` on ``train`` / ``views`` / ``val`` records."""
        return [("fit", train.fingerprint(), [str(v) for v in views], val.fingerprint() if val is not None else None)]

    def planned_fingerprint(self, train: Dataset, views: Sequence[View | str] | View | str | None,
                            val: Dataset | None) -> str | None:
        """Exactly the fingerprint ``fit(train, views, val=val)`` will give, for scorers whose ``fit`` records
        :meth:`_fit_history` (``records_fit_history = True``; lets cached runs skip fitting), else None.
        json round trip makes tuples hash as lists."""
        if not self.records_fit_history:
            return None
        return self._fingerprint_with(self._fit_history(train, self.fit_views(train, views), val))

    def view_fingerprint(self, view: View | str) -> str:
        """The fingerprint of this scorer's model for one view (differs per view)."""
        return fingerprint_of(self.fingerprint, str(View.parse(view)))

    # -- views ------------------------------------------------------------------------------------
    def usable_modalities(self, dataset: Dataset) -> list[str]:
        """Modalities of ``dataset`` whose kind this scorer reads."""
        return [m for m in dataset.modalities if dataset.kind(m) in self.modality_kinds]

    def supported_views(self, dataset: Dataset) -> list[View]:
        """Every non-empty combination of usable modalities (dataset order)."""
        mods = self.usable_modalities(dataset)
        return [View(c) for r in range(1, len(mods) + 1) for c in combinations(mods, r)]

    def default_view(self, dataset: Dataset) -> str:
        """All usable modalities together."""
        mods = self.usable_modalities(dataset)
        if not mods:
            raise DataError(f"scorer {self.name!r} reads modalities of kind {sorted(self.modality_kinds)}; "
                            f"dataset {dataset.name!r} has {dataset.kinds}", file=dataset.source, field="view")
        return "+".join(mods)

    def fit_views(self, train: Dataset, views: Sequence[View | str] | View | str | None) -> list[View]:
        """The views ``fit`` trains, checked and deduplicated: ``views`` as given, or by default every
        readable modality alone plus :meth:`default_view` (the unimodal and fused models MMoE Sec. 3.1 needs).
        Transforms are dropped: they change the data a model sees, not which model it is."""
        check_training_set(train)
        if isinstance(views, str | View):
            views = [views]
        if not views:
            views = [*self.usable_modalities(train), self.default_view(train)]
        out: dict[str, View] = {}
        for v in views:
            view = View(self.check_view(train, v).modalities)
            out.setdefault(str(view), view)
        return list(out.values())

    def check_view(self, dataset: Dataset, view: View | str) -> View:
        """``view`` parsed and checked against the dataset and :meth:`supported_views` (refused if not)."""
        view = View.parse(view).check(dataset.modalities, dataset.source)
        supported = self.supported_views(dataset)
        base = View(view.modalities)
        if base not in supported:
            kinds = {m: dataset.kind(m) for m in view.modalities}
            raise DataError(f"scorer {self.name!r} cannot honour view {view} (modality kinds {kinds}); "
                            f"supported views: {[str(v) for v in supported] or 'none'}",
                            file=dataset.source, field="view")
        return view

    # -- the contract -----------------------------------------------------------------------------
    @abstractmethod
    def fit(self, train: Dataset, views: Sequence[View | str] | View | str | None = None, *,
            val: Dataset | None = None) -> Scorer:
        """Learn one model per view on ``train`` (selection on ``val``); returns ``self``."""

    @abstractmethod
    def logits(self, dataset: Dataset, view: View | str) -> np.ndarray:
        """(n, K) scores in ``dataset.labels`` order (log-probabilities or unnormalised logits)."""

    def predict_proba(self, dataset: Dataset, view: View | str) -> Predictions:
        """Label probabilities (softmax of :meth:`logits`) with provenance."""
        view = self.check_view(dataset, view)
        probs = softmax(self.logits(dataset, view)) if len(dataset) else np.zeros((0, len(dataset.labels)))
        return Predictions(dataset.ids, dataset.labels, probs, str(view), self.fingerprint, dataset.fingerprint(),
                           meta={"scorer_name": self.name})

    # -- optional capabilities (declared in ``capabilities``) --------------------------------------
    def finetune(self, subset: Dataset, view: View | str, *, val: Dataset | None = None,
                 epochs: int | None = None, lr: float | None = None) -> Scorer:
        """A new scorer whose ``view`` model continues training on ``subset`` (MMoE App. G)."""
        raise capability_error(self, Capability.FINETUNE, "finetune")

    def features(self, dataset: Dataset) -> np.ndarray:
        """(n, d) per-sample input features (MMoE Sec. 3.3 router inputs)."""
        raise capability_error(self, Capability.FEATURES, "features")

    def input_gradients(self, dataset: Dataset, view: View | str, modality: str, *,
                        target: Sequence[int] | np.ndarray | None = None) -> list[np.ndarray]:
        """Per-sample gradient of the ``target`` label's margin (default: the predicted label) w.r.t.
        one modality's input, as the model reads it (MME-JD Alg. 1 saliency)."""
        raise capability_error(self, Capability.INPUT_GRADIENTS, "input_gradients")

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


# -- the registration table (re-exported by :mod:`interlens.scoring.registry`, which builds scorers) ----------
_T = TypeVar("_T", bound=type)

#: modules whose classes register themselves (imported on first registry access)
BUILTIN_MODULES = ("interlens.scoring.embedding", "interlens.scoring.minilm_ft", "interlens.scoring.hf.scorers",
                   "interlens.scoring.clip", "interlens.scoring.precomputed", "interlens.scoring.ensemble")
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


def _check_scorer(name: str, cls: type) -> None:
    if not _NAME.match(name):
        raise ValueError(f"scorer name {name!r} must match {_NAME.pattern}")
    if not (isinstance(cls, type) and issubclass(cls, Scorer)):
        raise TypeError(f"{cls!r} is not a Scorer subclass")
    unknown = [c for c in cls.capabilities if not isinstance(c, Capability)]
    if unknown:
        raise TypeError(f"{cls.__name__} declares unknown capabilities {unknown}")


def _load_builtins() -> None:
    for module in BUILTIN_MODULES:
        importlib.import_module(module)


#: the scorer registry (:class:`interlens.registry.Registry`); the built-in modules load on first read
SCORERS: Registry[type[Scorer]] = Registry("scorer", load=_load_builtins, check=_check_scorer)


def register_scorer(name: str):  # noqa: ANN201 - decorator
    """Class decorator: register a :class:`Scorer` subclass under ``name`` (validated, unique)."""

    def wrap(cls: _T) -> _T:
        SCORERS.add(name, cls)
        cls.name = name
        return cls

    return wrap


def registered_scorers() -> dict[str, type[Scorer]]:
    """``{name: class}`` of every registered scorer, sorted by name."""
    return dict(sorted(SCORERS.items()))


def scorers_with(capability: Capability | str) -> list[str]:
    """Names of the registered scorers that declare ``capability``."""
    cap = Capability(capability)
    return [n for n, cls in registered_scorers().items() if cap in cls.capabilities]


def check_param_names(cls: type, params: Mapping[str, Any], what: str | None = None) -> None:
    """Refuse unknown parameter names with "did you mean" (one line)."""
    known = cls.param_names() if hasattr(cls, "param_names") else []
    check_known_keys(params, known, "option", where=f" for {what or 'scorer ' + repr(getattr(cls, 'name', cls))}")


def has_capability(scorer: Any, capability: Capability | str) -> bool:
    return Capability(capability) in getattr(scorer, "capabilities", frozenset())


def capability_error(scorer: Any, capability: Capability | str, purpose: str) -> CapabilityError:
    """The one-line error for ``scorer`` lacking ``capability`` (names the scorers that have it)."""
    capability = Capability(capability)
    name = getattr(scorer, "name", type(scorer).__name__)
    have = scorers_with(capability)
    return CapabilityError(f"scorer {name!r} lacks capability {capability.value!r} needed for {purpose}; "
                           f"scorers that have it: {', '.join(have) or 'none'}")


def require(scorer: Any, capability: Capability | str, purpose: str) -> None:
    """Raise :class:`CapabilityError` at once when ``scorer`` (instance or class) lacks ``capability``."""
    if not has_capability(scorer, capability):
        raise capability_error(scorer, capability, purpose)


def clone(scorer: Scorer, **overrides: Any) -> Scorer:
    """An unfitted scorer with the same parameters (``overrides`` replace some), scikit-learn style."""
    params = scorer.get_params()
    check_param_names(type(scorer), overrides)
    params.update(overrides)
    return type(scorer)(**{k: (v if k in scorer._unhashed_params else copy.deepcopy(v)) for k, v in params.items()})


def cached_predict(
    scorer: Any,
    dataset: Dataset,
    view: View | str,
    *,
    cache: PredictionCache | None = None,
    batch_size: int = 256,
    compute: Callable[[Dataset, View], np.ndarray] | None = None,
    progress: bool = False,
    executor: Executor | None = None,
) -> Predictions:
    """Probabilities for every sample of ``dataset`` under ``view``, reusing and filling ``cache``.

    ``compute(sub_dataset, view) -> probs[n, K]`` does the real work for the samples not yet
    cached (default: ``scorer.predict_proba(sub, view).probs``). Each batch is committed to the
    cache before the next starts, so an interrupted run resumes from the cache. Results do not
    depend on ``batch_size``: scorers must score each sample independently of its batch.
    The batches run on ``executor`` (default: :func:`~interlens.execution.current_executor`); with Ray
    they are sharded over a pool of actors, each holding one copy of the scorer, and this process (the
    driver) writes each batch to the cache as it arrives.
    """
    if batch_size < 1:
        raise DataError(f"batch_size must be >= 1, got {batch_size}", field="batch_size")
    if hasattr(scorer, "check_view"):  # the scorer decides (precomputed files may name other modalities)
        view = scorer.check_view(dataset, view)
    else:
        view = View.parse(view).check(dataset.modalities, dataset.source)
    compute = compute or (lambda sub, v: scorer.predict_proba(sub, v).probs)
    key = (scorer.fingerprint, str(view), dataset.fingerprint())
    ids = dataset.ids
    found = cache.get(*key, ids) if cache is not None else {}
    todo = [i for i in ids if i not in found]
    from ..progress import progress as progress_of

    chunks = [todo[start:start + batch_size] for start in range(0, len(todo), batch_size)]
    cpus, gpus = resources_for(getattr(scorer, "device", None))
    with progress_of(len(todo), f"scoring {scorer.name} · {view}", "sample", enabled=progress and bool(todo)) as bar:
        work = (executor or current_executor()).map_stateful(
            compute, ((dataset.subset(chunk), view) for chunk in chunks), num_cpus=cpus, num_gpus=gpus)
        for index, result in work:
            chunk = chunks[index]
            probs = np.asarray(result, dtype=np.float64)
            if cache is not None:
                cache.put(*key, chunk, probs)
            found.update(zip(chunk, probs, strict=True))
            bar.advance(len(chunk))
    probs = np.stack([found[i] for i in ids]) if ids else np.zeros((0, len(dataset.labels)))
    return Predictions(ids, dataset.labels, probs, str(view), scorer.fingerprint, dataset.fingerprint(),
                       meta={"scorer_name": scorer.name, "cached": len(ids) - len(todo), "computed": len(todo)})
