"""A seed ensemble of any trainable scorer, as one scorer (one model for every method and benchmark).

``members`` copies of the ``base`` scorer, member ``k`` with seed ``seed + 1000 k``, each fitted on the same
data. With ``member_views`` the members also differ in what they read (a view-diverse ensemble): member
``k`` reads, of every view the ensemble is given, only the modalities of ``member_views[k % len]`` (e.g.
``["text", "text+context"]``: utterance-only and with-context members alternate). The ensemble's logits
are the log of the members' mean probabilities (probability averaging, Lakshminarayanan et al., NeurIPS
2017). Its cost is ``members`` fits and ``members`` forward passes: benchmarks report it as one model with
that full cost. With ``member_checkpoints`` (a folder; set by :func:`interlens.checkpoints.fit_or_restore`,
so every run folder with checkpoints has it) each member is saved there as it is fitted and restored
instead of refitted: a killed fit resumes at the first unfinished member, and a larger ensemble with the
same seed, base and data refits none of a smaller one's members (member k's fit depends only on its own
seed). ``finetune`` fine-tunes every member (MMoE experts), ``features`` concatenates the members'
features (router inputs). Capabilities are declared on the class and every instance has exactly them
(issue 29): a base scorer lacking one of them is refused when the ensemble is built. ``save_pretrained``
writes each member's own folder, ``from_pretrained`` reloads them.
"""

from __future__ import annotations

import copy
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data.schema import Dataset
from ..errors import DataError
from ..progress import track
from ..views import View
from .base import Capability, Scorer, capability_error, softmax
from .registry import make_scorer, register_scorer, scorer_class

logger = logging.getLogger(__name__)

#: what every ensemble offers (its base must offer all of them)
_PASSED_ON = frozenset({Capability.TRAINABLE, Capability.FINETUNE, Capability.FEATURES, Capability.SAVABLE})


@register_scorer("ensemble")
class EnsembleScorer(Scorer):
    """``members`` seeds of the ``base`` scorer (``base_params`` are its parameters, without ``seed``);
    logits = log mean member probability. Member k has seed ``seed + 1000 k`` (ensembles of
    nearby seeds share no member)."""

    capabilities = _PASSED_ON  # class-level, and what every instance offers (the base must have them all)
    modality_kinds = frozenset({"text", "image", "audio", "video", "features"})  # an instance: its base's
    records_fit_history = True
    checkpoints_members = True
    #: where :meth:`fit` saves and restores each member (not a parameter: results are the same without it)
    member_checkpoints: Path | None = None

    def __init__(self, base: str = "minilm-ft", members: int = 3, base_params: Mapping[str, Any] | None = None,
                 seed: int = 0, member_views: Sequence[str] | None = None) -> None:
        self.base, self.members, self.base_params, self.seed = base, members, base_params, seed
        self.member_views = member_views
        cls = scorer_class(base)  # unknown name: one line with "did you mean"
        if base == self.name:
            raise DataError("an ensemble's base cannot be another ensemble", field="base")
        for capability in (Capability.TRAINABLE, Capability.SAVABLE, Capability.FINETUNE, Capability.FEATURES):
            if capability not in cls.capabilities:
                raise capability_error(cls, capability, "an ensemble (each member is fitted with its own seed, "
                                                        "and the ensemble offers " +
                                       ", ".join(sorted(c.value for c in _PASSED_ON)) + ")")
        if "seed" not in cls.param_names():
            raise DataError(f"scorer {base!r} has no seed parameter: its members would be identical", field="base")
        if not isinstance(members, int) or members < 1:
            raise DataError(f"members must be an integer >= 1, got {members!r}", field="members")
        params = dict(base_params or {})
        if "seed" in params:
            raise DataError("give the ensemble's seed, not base_params.seed (member k gets seed + 1000 k)",
                            field="base_params")
        if member_views is not None:
            if isinstance(member_views, str) or not member_views:
                raise DataError(f"member_views must be a non-empty list of views, got {member_views!r}",
                                field="member_views")
            for spec in member_views:
                View.parse(spec)  # malformed: one line now
        self._template = make_scorer(base, **params, seed=seed)  # validates base_params now
        self.modality_kinds = cls.modality_kinds

    def _hashable_params(self) -> dict[str, Any]:
        template = self._template._hashable_params()
        template.pop("seed", None)
        hashed = {"base": self.base, "members": self.members, "base_params": template, "seed": self.seed}
        if self.member_views is not None:  # added later: unset leaves earlier fingerprints as they were
            hashed["member_views"] = [str(View.parse(v)) for v in self.member_views]
        return hashed

    # -- views: exactly the base scorer's ---------------------------------------------------------
    def supported_views(self, dataset: Dataset) -> list[View]:
        return self._template.supported_views(dataset)

    def check_view(self, dataset: Dataset, view: View | str) -> View:
        return self._template.check_view(dataset, view)

    def default_view(self, dataset: Dataset) -> str:
        return self._template.default_view(dataset)

    def fit_views(self, train: Dataset, views: Sequence[View | str] | View | str | None) -> list[View]:
        return self._template.fit_views(train, views)

    # -- the contract ---------------------------------------------------------------------------------
    def _member(self, k: int) -> Scorer:
        return make_scorer(self.base, **dict(self.base_params or {}), seed=self.seed + 1000 * k)

    def member_view(self, k: int, view: View | str) -> View:
        """What member ``k`` reads of ``view``: ``view`` itself, or with ``member_views`` its modalities that
        ``member_views[k % len]`` names (in ``view``'s order, transforms kept); none of them: refused."""
        view = View.parse(view)
        if not self.member_views:
            return view
        spec = View.parse(self.member_views[k % len(self.member_views)])
        kept = tuple(m for m in view.modalities if m in spec.modalities)
        if not kept:
            raise DataError(f"ensemble member {k} reads {'+'.join(spec.modalities)!r}, which view {str(view)!r} "
                            "does not contain", field="member_views")
        return View(kept, view.transforms)

    def fit(self, train: Dataset, views: Sequence[View | str] | View | str | None = None, *,
            val: Dataset | None = None) -> EnsembleScorer:
        """Fit every member on ``train`` / ``views`` (selection on ``val``), each with its own seed; with
        ``member_checkpoints``, a member already fitted there is restored."""
        views = self.fit_views(train, views)
        self.members_ = []
        started, fitted = time.perf_counter(), 0
        for k in track(range(self.members), f"ensemble of {self.base}", "member"):
            member, how = self.fit_member(k, train, views, val)
            self.members_.append(member)
            fitted += how == "fitted"
            done = time.perf_counter() - started
            logger.info("ensemble: member %d/%d (%s, seed %d) %s, %.0f s, ETA %.0f s", k + 1, self.members,
                        self.base, self.seed + 1000 * k, how, done,
                        done / max(fitted, 1) * (self.members - k - 1))
        self.history_ = self._fit_history(train, views, val)
        return self

    def fit_member(self, k: int, train: Dataset, views: Sequence[View | str] | View | str | None,
                   val: Dataset | None = None) -> tuple[Scorer, str]:
        """Member ``k`` fitted as :meth:`fit` fits it, or restored from ``member_checkpoints``:
        ``(member, "fitted" | "restored")``. Another process can fit some members of the same ensemble
        into the same folder (:meth:`interlens.bench.Runner.prefit_members`)."""
        from ..checkpoints import fit_or_restore

        if not isinstance(k, int) or not 0 <= k < self.members:
            raise DataError(f"member must be 0..{self.members - 1} for {self.members} members, got {k!r}",
                            field="members")
        own = [str(v) for v in dict.fromkeys(self.member_view(k, v) for v in self.fit_views(train, views))]
        member = self._member(k)
        planned = member.planned_fingerprint(train, own, val) if self.member_checkpoints else None
        return member, fit_or_restore(member, train, own, val, fingerprint=planned, directory=self.member_checkpoints)

    @property
    def fit_seconds(self) -> float | None:
        """The ensemble's full fitting cost: the sum of its members' fits, also those restored from
        checkpoints or fitted by another process (issue 13: an ensemble is one model, reported at its full
        cost); None when a member's is unknown."""
        parts = [m.fit_seconds for m in getattr(self, "members_", [])]
        return None if not parts or None in parts else float(sum(parts))

    def _fitted(self) -> list[Scorer]:
        if not getattr(self, "members_", None):
            raise DataError("ensemble scorer is not fitted; call fit() first")
        return self.members_

    def logits(self, dataset: Dataset, view: View | str) -> np.ndarray:
        """log of the mean member probability, (n, K)."""
        members = self._fitted()
        if not len(dataset):
            return np.zeros((0, len(dataset.labels)))
        probs = np.mean([softmax(np.asarray(m.logits(dataset, self.member_view(k, view)), dtype=np.float64))
                         for k, m in enumerate(members)], axis=0)
        return np.log(np.clip(probs, 1e-300, None))

    def finetune(self, subset: Dataset, view: View | str, *, val: Dataset | None = None,
                 epochs: int | None = None, lr: float | None = None) -> EnsembleScorer:
        """A new ensemble whose members each continue training on ``subset`` (MMoE App. G)."""
        if Capability.FINETUNE not in self.capabilities:
            raise capability_error(self._template, Capability.FINETUNE, "finetune (ensemble)")
        members = self._fitted()
        clone = copy.copy(self)
        clone.members_ = [m.finetune(subset, self.member_view(k, view), val=val, epochs=epochs, lr=lr)
                          for k, m in enumerate(members)]
        clone.history_ = [*self.history_, ("finetune", subset.fingerprint(), str(View.parse(view)), epochs, lr,
                                           val.fingerprint() if val is not None else None)]
        return clone

    def features(self, dataset: Dataset) -> np.ndarray:
        """The members' features side by side, (n, members x d)."""
        if Capability.FEATURES not in self.capabilities:
            raise capability_error(self._template, Capability.FEATURES, "features (ensemble)")
        return np.concatenate([np.asarray(m.features(dataset)) for m in self._fitted()], axis=1)

    def save_pretrained(self, directory: str | os.PathLike) -> dict[str, Any]:
        """Each member's own ``save_pretrained`` under ``directory/member<k>``, plus ``interlens.json``
        (parameters, fit history, member folders) and the manifest. Returns ``{"member<k>": what it saved}``."""
        from .saving import _write_meta, seal

        members = self._fitted()
        root = Path(directory)
        saved = {f"member{k}": m.save_pretrained(root / f"member{k}") for k, m in enumerate(members)}
        _write_meta(root / "interlens.json", {
            "scorer": self.name, "format": 1, "params": self.get_params(), "members": list(saved),
            "history": self.history_, "fingerprint": self.fingerprint})
        seal(root)
        return saved

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike) -> EnsembleScorer:
        """The fitted ensemble saved in ``directory`` by :meth:`save_pretrained`: each member reloaded with its
        own scorer's ``from_pretrained`` (same probabilities and fingerprint)."""
        from .saving import read_meta, saved_file

        root = Path(directory)
        meta = read_meta(root, cls.name)
        scorer = cls(**{k: v for k, v in (meta.get("params") or {}).items() if k in cls.param_names()})
        member_cls = scorer_class(scorer.base)
        names = meta.get("members") or []
        if len(names) != scorer.members:
            raise DataError(f"saved ensemble has {len(names)} member folders, its parameters say {scorer.members}",
                            file=str(root / "interlens.json"), field="members")
        scorer.members_ = [member_cls.from_pretrained(saved_file(root, name)) for name in names]
        scorer.history_ = meta.get("history") or []
        return scorer
