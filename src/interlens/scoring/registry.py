"""The one scorer registry (PEFT-style explicit registration next to each class) and the
fit-or-reuse step shared by every method.

``@register_scorer("name")`` on a :class:`~interlens.scoring.base.Scorer` subclass registers it in
:data:`~interlens.scoring.base.SCORERS` (an :class:`interlens.registry.Registry`, the one registry type);
names are validated (lower-case, ``[a-z0-9-]``, unique). The registry imports the built-in scorer
modules on first use, so ``import interlens`` stays light. Capabilities come from the classes.
The registration table itself (``register_scorer``, ``registered_scorers``, ``scorers_with``,
``check_param_names``) lives in :mod:`.base`, which needs it for its errors, and is re-exported here,
so the two modules do not import each other (issue 29); :func:`make_scorer` and the rest are here.

``fit_and_predict`` turns (dataset, scorer, views) into cached Predictions: when every requested row
is already in the cache under the fingerprint the fitted scorer *will* have, fitting is skipped.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..cache import PredictionCache
from ..data.schema import Dataset
from ..errors import check_sizes
from ..execution.base import Executor
from ..predictions import Predictions
from ..views import View
from .base import (  # noqa: F401 - the registration table lives in base (issue 29); this module re-exports it
    BUILTIN_MODULES,
    SCORERS,
    Capability,
    Scorer,
    cached_predict,
    check_param_names,
    fingerprint_of,
    register_scorer,
    registered_scorers,
    scorers_with,
)


def scorer_names() -> list[str]:
    """Every registered scorer name, sorted."""
    return sorted(SCORERS)


def scorer_class(name: str) -> type[Scorer]:
    """The class registered under ``name`` ("unknown scorer 'x'. Did you mean ...?" otherwise)."""
    return SCORERS.get(name)


def make_scorer(name: str, **params: Any) -> Scorer:
    """A new scorer by registry name; unknown names and options are refused with "did you mean"."""
    cls = scorer_class(name)
    check_param_names(cls, params)
    check_sizes(params)  # batch_size=0, epochs=-1, ... refused before any work
    return cls(**params)


@dataclass
class _Planned:
    """Stands in for a scorer whose predictions are all cached (no fitting needed)."""

    name: str
    fingerprint: str

    def predict_proba(self, dataset: Dataset, view: View) -> Predictions:  # pragma: no cover - never called
        raise RuntimeError("planned scorer has no model")


def planned_fingerprint(scorer: Any, train: Dataset, views: Sequence[str], val: Dataset | None) -> str | None:
    """The fingerprint ``scorer.fit(train, views, val=val)`` will produce (None if unknowable)."""
    planner = getattr(scorer, "planned_fingerprint", None)
    return planner(train, views, val) if planner is not None else None


def fit_and_predict(scorer: Scorer, dataset: Dataset, views: Sequence[str | View], *, eval_split: str | None,
                    fit_split: str | None = "train", val_split: str | None = "dev",
                    cache: PredictionCache | None = None, progress: bool = False, batch_size: int = 256,
                    executor: Executor | None = None, checkpoint_dir: str | os.PathLike | None = None
                    ) -> dict[str, Predictions]:
    """Predictions of ``scorer`` for each view on ``eval_split`` (whole dataset if None).

    Every view is checked against ``scorer.supported_views`` first (refused, never echoed).
    Trainable scorers are fitted on ``fit_split`` (model selection on ``val_split`` when present);
    fitting is skipped when the cache already holds every row. The fit runs here; scoring is sharded
    over ``executor`` (default: the current one, see :mod:`interlens.execution`) and cached by this process.
    With ``checkpoint_dir`` (the run folder's ``checkpoints/``) the fitted scorer is saved there under
    its fingerprint and restored instead of refitted when the same plan runs again
    (:mod:`interlens.checkpoints`; crash safety).
    """
    views = [scorer.check_view(dataset, v) for v in views]
    target = dataset.split(eval_split) if eval_split else dataset
    trainable = Capability.TRAINABLE in scorer.capabilities
    if trainable and fit_split:
        train = dataset.split(fit_split)
        val = dataset.split(val_split) if val_split and val_split in dataset.splits else None
        planned = planned_fingerprint(scorer, train, [str(v) for v in views], val)
        if planned is not None and cache is not None and all(
                len(cache.get(planned, str(v), target.fingerprint(), target.ids)) == len(target) for v in views):
            stand_in = _Planned(scorer.name, planned)
            return {str(v): cached_predict(stand_in, target, v, cache=cache) for v in views}
        from ..progress import progress as progress_of
        from ..progress import progress_enabled

        progress = progress and progress_enabled()
        with progress_of(1, f"fitting {scorer.name} on {train.name} ({len(train)} samples)", "fit",
                         enabled=progress) as fitting:
            from ..checkpoints import fit_or_restore

            log = None
            if progress:
                from rich.console import Console

                log = Console(stderr=True, soft_wrap=True).print
            fit_or_restore(scorer, train, [str(v) for v in views], val, fingerprint=planned,
                           directory=checkpoint_dir, log=log)
            fitting.advance()
    elif not scorer.is_fitted:
        scorer.fit(target, [str(v) for v in views])
    return {str(v): cached_predict(scorer, target, v, cache=cache, progress=progress, batch_size=batch_size,
                                   executor=executor) for v in views}


__all__ = ["BUILTIN_MODULES", "SCORERS", "check_param_names", "fingerprint_of", "fit_and_predict", "make_scorer",
           "register_scorer", "registered_scorers", "scorer_class", "scorer_names", "scorers_with"]
