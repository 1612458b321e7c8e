"""The MMoE "fusion model": a classifier of a sample's interaction type from its input features.

MMoE Sec. 3.3 infers per-sample weights ``w_r, w_u, w_s`` with a fine-tuned classifier (BLIP-2 in
the paper); App. H trains it with focal loss (alpha = 1, gamma = 2; Lin et al., 2017) because the
interaction types are imbalanced, and App. I.3 selects it by 3-class F1 on validation data. Here
the classifier is a small torch MLP (or a linear layer) over frozen features such as
``EmbeddingScorer.features``; ``kind="logreg"`` uses scikit-learn's LogisticRegression instead
(cross-entropy, not focal loss).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch
    from torch import nn

from ..errors import DataError
from ..torch_utils import torch_threads

ROUTER_KINDS = ("mlp", "linear", "logreg")
#: validation scores that select the router checkpoint
ROUTER_SELECT = ("macro_f1", "f0.5")


def focal_loss(logits: torch.Tensor, target: torch.Tensor, *, alpha: float | torch.Tensor = 1.0,
               gamma: float = 2.0, reduction: str = "mean") -> torch.Tensor:
    """FL(p_t) = -alpha_t (1 - p_t)^gamma log(p_t) (MMoE App. H; Lin et al., 2017).

    ``alpha`` is a scalar or a per-class tensor (``alpha_t = alpha[target]``). With ``gamma = 0``
    and ``alpha = 1`` this is the cross-entropy. ``reduction``: ``"mean"`` (plain mean over
    samples), ``"sum"`` or ``"none"``.
    """
    import torch
    log_p = torch.log_softmax(logits, dim=-1)
    log_pt = log_p.gather(-1, target.long().unsqueeze(-1)).squeeze(-1)
    pt = log_pt.exp()
    alpha_t = alpha[target.long()] if isinstance(alpha, torch.Tensor) else alpha
    loss = -alpha_t * (1.0 - pt) ** gamma * log_pt
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"unknown reduction {reduction!r}")


def balanced_class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """``n / (K * n_c)`` per class (scikit-learn's "balanced"); classes absent from ``y`` get 0."""
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes).astype(np.float64)
    weights = np.zeros(n_classes)
    present = counts > 0
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


def router_confusion(y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str]) -> dict[str, Any]:
    """Confusion matrix (rows = true type, columns = routed type), accuracy, macro-F1 and recalls."""
    from sklearn.metrics import f1_score
    classes = [str(c) for c in classes]
    index = {c: i for i, c in enumerate(classes)}
    y_true, y_pred = [str(c) for c in y_true], [str(c) for c in y_pred]
    unknown = sorted({c for c in y_true if c not in index})
    if unknown:
        raise DataError(f"true categories {unknown} are not router classes {classes}", field="categories")
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for t, p in zip(y_true, y_pred, strict=True):
        matrix[index[t], index[p]] += 1
    totals = matrix.sum(axis=1)
    recall = {c: (float(matrix[i, i] / totals[i]) if totals[i] else None) for i, c in enumerate(classes)}
    n = int(matrix.sum())
    return {"classes": classes, "matrix": matrix.tolist(), "n": n,
            "acc": float(np.trace(matrix) / n) if n else float("nan"),
            "macro_f1": float(f1_score([index[c] for c in y_true], [index[c] for c in y_pred],
                                       labels=list(range(len(classes))), average="macro", zero_division=0)),
            "recall": recall, "predicted_share": {c: float(matrix[:, i].sum() / n) if n else 0.0
                                                  for i, c in enumerate(classes)}}


class InteractionRouter:
    """Interaction-type classifier with scikit-learn style ``fit`` / ``predict_proba`` / ``predict``.

    Parameters: ``kind`` (mlp | linear | logreg), ``hidden`` units (mlp), ``epochs`` and ``lr``
    (full-batch Adam), ``weight_decay``, focal ``alpha``/``gamma`` (MMoE App. H: 1 and 2),
    ``class_balanced`` (per-class alpha = n / (K n_c); logreg: ``class_weight="balanced"``),
    ``classes`` (the output columns, e.g. the expert names; default: sorted training types),
    ``standardize`` the features, ``eval_every`` epochs for validation selection, ``seed``,
    ``select``: the validation score that picks the checkpoint (``"macro_f1"``, MMoE App. I.3, or
    ``"f0.5"`` = macro F-0.5, the MME-JD router of App. C.2).
    """

    def __init__(self, kind: str = "mlp", *, hidden: int = 64, epochs: int = 300, lr: float = 1e-2,
                 weight_decay: float = 1e-4, alpha: float = 1.0, gamma: float = 2.0, class_balanced: bool = False,
                 classes: Sequence[str] | None = None, standardize: bool = True, eval_every: int = 10,
                 seed: int = 0, select: str = "macro_f1") -> None:
        self.kind, self.hidden, self.epochs, self.lr, self.weight_decay = kind, hidden, epochs, lr, weight_decay
        self.alpha, self.gamma, self.class_balanced = alpha, gamma, class_balanced
        self.classes, self.standardize, self.eval_every, self.seed = classes, standardize, eval_every, seed
        self.select = select

    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("kind", "hidden", "epochs", "lr", "weight_decay", "alpha", "gamma",
                                              "class_balanced", "classes", "standardize", "eval_every", "seed",
                                              "select")}

    # -- helpers -----------------------------------------------------------------------------------
    def _encode(self, y: Sequence[str], what: str) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.classes_)}
        unknown = sorted({str(c) for c in y if str(c) not in index})
        if unknown:
            raise DataError(f"{what} categories {unknown} are not router classes {list(self.classes_)}",
                            field="categories")
        return np.array([index[str(c)] for c in y], dtype=np.int64)

    def _scale(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_:
            raise DataError(f"features have shape {X.shape}, expected (n, {self.n_features_})", field="features")
        return (X - self.mean_) / self.scale_

    def _build(self, d: int, k: int) -> nn.Module:
        from torch import nn
        if self.kind == "linear":
            return nn.Linear(d, k).double()
        return nn.Sequential(nn.Linear(d, self.hidden), nn.ReLU(), nn.Linear(self.hidden, k)).double()

    # -- scikit-learn contract -----------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: Sequence[str], *, X_val: np.ndarray | None = None,
            y_val: Sequence[str] | None = None) -> InteractionRouter:
        """Train on features ``X`` and interaction types ``y``; with validation data keep the
        checkpoint with the best validation macro-F1 (MMoE App. I.3: 3-class F1)."""
        if self.kind not in ROUTER_KINDS:
            raise DataError(f"unknown router kind {self.kind!r}; choose one of {ROUTER_KINDS}", field="kind")
        if self.select not in ROUTER_SELECT:
            raise DataError(f"unknown router selection {self.select!r}; choose one of {ROUTER_SELECT}",
                            field="select")
        X = np.asarray(X, dtype=np.float64)
        y = [str(c) for c in y]
        if X.ndim != 2 or len(X) != len(y) or len(y) == 0:
            raise DataError(f"features {X.shape} and {len(y)} categories do not match", field="features")
        self.classes_ = tuple(str(c) for c in self.classes) if self.classes else tuple(sorted(set(y)))
        self.n_features_ = X.shape[1]
        if self.standardize:
            self.mean_, scale = X.mean(axis=0), X.std(axis=0)
            self.scale_ = np.where(scale > 1e-12, scale, 1.0)
        else:
            self.mean_, self.scale_ = np.zeros(X.shape[1]), np.ones(X.shape[1])
        yi = self._encode(y, "training")
        Xs = self._scale(X)
        k = len(self.classes_)
        weights = balanced_class_weights(yi, k) if self.class_balanced else None
        val = None
        if X_val is not None and y_val is not None and len(y_val):
            val = (self._scale(X_val), self._encode([str(c) for c in y_val], "validation"))
        self.log_: dict[str, Any] = {"train_counts": {c: int((yi == i).sum()) for i, c in enumerate(self.classes_)}}
        if self.kind == "logreg":
            self._fit_logreg(Xs, yi, weights)
            return self
        with torch_threads(1):  # small full-batch models run fastest on one thread
            return self._fit_torch(Xs, yi, weights, val)

    def _fit_torch(self, Xs: np.ndarray, yi: np.ndarray, weights: np.ndarray | None,
                   val: tuple[np.ndarray, np.ndarray] | None) -> InteractionRouter:
        import torch
        from sklearn.metrics import f1_score, fbeta_score
        k = len(self.classes_)
        with torch.random.fork_rng():
            torch.manual_seed(self.seed)
            model = self._build(Xs.shape[1], k)
        alpha: float | torch.Tensor = (torch.tensor(weights * self.alpha, dtype=torch.float64)
                                       if weights is not None else float(self.alpha))
        opt = torch.optim.Adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        xt, yt = torch.tensor(Xs), torch.tensor(yi)
        best: tuple[float, int, dict[str, torch.Tensor]] | None = None
        losses = []
        for epoch in range(self.epochs):
            model.train()
            opt.zero_grad()
            loss = focal_loss(model(xt), yt, alpha=alpha, gamma=self.gamma)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            if val is not None and ((epoch + 1) % self.eval_every == 0 or epoch == self.epochs - 1):
                model.eval()
                with torch.no_grad():
                    pred = model(torch.tensor(val[0])).argmax(1).numpy()
                score = (fbeta_score(val[1], pred, beta=0.5, labels=list(range(k)), average="macro", zero_division=0)
                         if self.select == "f0.5" else
                         f1_score(val[1], pred, labels=list(range(k)), average="macro", zero_division=0))
                if best is None or score > best[0]:
                    best = (float(score), epoch, copy.deepcopy(model.state_dict()))
        if best is not None:
            model.load_state_dict(best[2])
        model.eval()
        self.model_ = model
        self.log_.update({"losses": losses, "best_epoch": best[1] if best else self.epochs - 1,
                          "best_val_macro_f1": best[0] if best else None})
        return self

    def _fit_logreg(self, Xs: np.ndarray, yi: np.ndarray, weights: np.ndarray | None) -> None:
        from sklearn.linear_model import LogisticRegression

        present = np.unique(yi)
        if len(present) < 2:
            self.model_ = ("constant", int(present[0]))
            return
        clf = LogisticRegression(max_iter=2000, class_weight="balanced" if weights is not None else None,
                                 random_state=self.seed)
        clf.fit(Xs, yi)
        self.model_ = clf

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise DataError("InteractionRouter is not fitted: call fit(features, categories) first")

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """``probs[n, len(classes_)]``: the per-sample expert weights w_i(x) (MMoE Sec. 3.3)."""
        import torch
        self._check_fitted()
        Xs = self._scale(X)
        k = len(self.classes_)
        if isinstance(self.model_, tuple):  # logreg with a single training class
            out = np.zeros((len(Xs), k))
            out[:, self.model_[1]] = 1.0
            return out
        if self.kind == "logreg":
            out = np.zeros((len(Xs), k))
            out[:, self.model_.classes_] = self.model_.predict_proba(Xs)
            return out
        with torch_threads(1), torch.no_grad():
            return torch.softmax(self.model_(torch.tensor(Xs)), dim=-1).numpy()

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable interaction type per sample."""
        return np.asarray(self.classes_, dtype=object)[self.predict_proba(X).argmax(axis=1)]

    def confusion_matrix(self, X: np.ndarray, y: Sequence[str]) -> dict[str, Any]:
        """:func:`router_confusion` of this router's predictions against true types ``y``."""
        return router_confusion(y, self.predict(X), self.classes_)
