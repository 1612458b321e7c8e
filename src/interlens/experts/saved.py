"""Reload saved MMoE artefacts in one call (issue 28; docs/saved-models.md).

:func:`load_router` rebuilds the :class:`~interlens.experts.router.InteractionRouter` that
:func:`~interlens.experts.pipeline.save_router` wrote (``router.json`` + ``router.safetensors``): the MLP /
linear weights, or the logistic regression's ``coef`` / ``intercept``, with the feature standardisation --
JSON and tensors only, nothing unpickled (issue 30).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from ..io import read_json
from .router import InteractionRouter


def _read(folder: Path) -> dict[str, Any]:
    return read_json(folder / "router.json", missing="not a saved router: router.json missing")


def load_router(folder: str | os.PathLike) -> InteractionRouter:
    """The fitted router saved in ``folder``: ``predict_proba`` / ``predict`` give the saved router's outputs."""
    import torch
    from safetensors.torch import load_file

    folder = Path(folder)
    meta = _read(folder)
    params = {k: v for k, v in (meta.get("params") or {}).items() if k in InteractionRouter().get_params()}
    router = InteractionRouter(**params)
    try:
        router.classes_ = tuple(str(c) for c in meta["classes"])
        router.n_features_ = int(meta["n_features"])
        router.mean_ = np.asarray(meta["mean"], dtype=np.float64)
        router.scale_ = np.asarray(meta["scale"], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as err:
        raise DataError(f"saved router lacks {err}", file=str(folder / "router.json")) from None
    if "constant" in meta:
        router.model_ = ("constant", int(meta["constant"]))
        return router
    weights = folder / str(meta.get("weights", "router.safetensors"))
    if not weights.is_file():
        raise DataError("saved router has no weights file", file=str(weights))
    state = load_file(str(weights))
    if router.kind == "logreg":
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression()
        model.coef_ = state["coef"].numpy()
        model.intercept_ = state["intercept"].numpy()
        model.classes_ = np.asarray(meta["model_classes"], dtype=np.int64)
        model.n_features_in_ = router.n_features_
        router.model_ = model
        return router
    net = router._build(router.n_features_, len(router.classes_))
    try:
        net.load_state_dict({k: v.to(torch.float64) for k, v in state.items()})
    except RuntimeError as err:
        raise DataError(f"router weights do not fit a {router.kind} router: {str(err).splitlines()[0]}",
                        file=str(weights)) from None
    router.model_ = net.eval()
    return router
