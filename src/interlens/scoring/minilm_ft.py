"""``minilm-ft``: all-MiniLM-L6-v2 fine-tuned end to end (encoder + linear head), the CPU default.

Mean pooling over the last hidden states (as sentence-transformers) and a linear classifier; AdamW
with a higher learning rate for the fresh head, linear warm-up/decay, a few epochs, short sequences.
Conversational context, where the corpus has it (``inputs["context"]``), is the second segment
(``[CLS] utterance [SEP] context [SEP]``); the utterance is never cut for context and the most
recent context tokens are kept. Training batches group similar lengths (less padding).
``class_weight="balanced"`` weights the loss by inverse class frequency. With a validation set the
epoch with the best validation macro-F1 is kept. Scores are computed in eval mode, independent of
batch composition (padding is masked out).

Follows the Scorer protocol: ``fit(dataset, view)`` returns self; ``predict_proba(dataset, view)``
returns :class:`~interlens.predictions.Predictions`; ``fingerprint`` covers params and training data.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.schema import Dataset
from ..errors import DataError
from ..metrics import classification_metrics
from ..predictions import Predictions
from ..scoring.base import fingerprint_of
from ..views import View

# bumped when tokenisation/batching changes, so results of older code are not reused
_ENCODING_VERSION = 2


class _Model(nn.Module):
    def __init__(self, encoder: nn.Module, n_classes: int, dropout: float) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, n_classes)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **extra: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return self.head(self.dropout(pooled))


class MiniLMFineTuneScorer:
    """Fine-tuned MiniLM text classifier. Parameters: ``epochs``, ``lr`` (encoder), ``head_lr``,
    ``batch_size``, ``max_length``, ``use_context``, ``class_weight`` (None | "balanced"),
    ``weight_decay``, ``warmup`` (fraction of steps), ``dropout``, ``max_train`` (cap on training
    samples, None = all), ``min_steps`` (more epochs for small sets: at least this many optimizer
    steps), ``threads`` (torch threads while training/scoring), ``seed``."""

    name = "minilm-ft"

    def __init__(self, epochs: int = 3, lr: float = 5e-5, head_lr: float = 1e-3, batch_size: int = 32,
                 max_length: int = 96, use_context: bool = True, class_weight: str | None = None,
                 weight_decay: float = 0.01, warmup: float = 0.1, dropout: float = 0.1,
                 max_train: int | None = None, min_steps: int | None = None, threads: int | None = None,
                 seed: int = 0) -> None:
        self.epochs, self.lr, self.head_lr, self.batch_size = epochs, lr, head_lr, batch_size
        self.max_length, self.use_context, self.class_weight = max_length, use_context, class_weight
        self.weight_decay, self.warmup, self.dropout = weight_decay, warmup, dropout
        self.max_train, self.min_steps, self.threads, self.seed = max_train, min_steps, threads, seed

    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("epochs", "lr", "head_lr", "batch_size", "max_length", "use_context",
                                              "class_weight", "weight_decay", "warmup", "dropout", "max_train",
                                              "min_steps", "seed")}

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.name, _ENCODING_VERSION, self.get_params(), getattr(self, "history_", []))

    # -- inputs ---------------------------------------------------------------------------------
    def _texts(self, dataset: Dataset) -> tuple[list[str], list[str] | None]:
        texts = [str(s.inputs.get("text", "")) for s in dataset.samples]
        if not self.use_context:
            return texts, None
        contexts = [s.inputs.get("context") for s in dataset.samples]
        if all(c is None for c in contexts):
            return texts, None
        return texts, [str(c or "") for c in contexts]

    def _tokenize(self, texts: list[str], contexts: list[str] | None) -> list[tuple[list[int], list[int]]]:
        """Token ids per sample, once: ``[CLS] utterance [SEP] (context [SEP])`` within ``max_length``.

        The utterance is never cut for context; a too-long utterance is cut at the end and then has no
        context. Of the context the *most recent* tokens are kept (contexts are oldest-first lines).
        Returns (input_ids, token_type_ids) per sample."""
        tok = self.tokenizer_
        cls, sep = tok.cls_token_id, tok.sep_token_id
        utterances = tok(texts, add_special_tokens=False)["input_ids"]
        history = tok(contexts, add_special_tokens=False)["input_ids"] if contexts else [[] for _ in texts]
        out = []
        for utt, ctx in zip(utterances, history, strict=True):
            utt = utt[: self.max_length - 2]
            ids, types = [cls, *utt, sep], [0] * (len(utt) + 2)
            room = self.max_length - len(ids) - 1
            if ctx and room > 0:
                ctx = ctx[-room:]
                ids, types = ids + ctx + [sep], types + [1] * (len(ctx) + 1)
            out.append((ids, types))
        return out

    def _collate(self, encoded: list[tuple[list[int], list[int]]], idx: Sequence[int]) -> dict[str, torch.Tensor]:
        width = max(len(encoded[i][0]) for i in idx)
        ids = torch.full((len(idx), width), self.tokenizer_.pad_token_id, dtype=torch.long)
        types = torch.zeros((len(idx), width), dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):
            n = len(encoded[i][0])
            ids[row, :n] = torch.tensor(encoded[i][0])
            types[row, :n] = torch.tensor(encoded[i][1])
            mask[row, :n] = 1
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}

    def _train_batches(self, lengths: Sequence[int], gen: torch.Generator) -> list[list[int]]:
        """Shuffled batches of similar length (as HF ``group_by_length``): a random permutation is cut
        into mega-batches of 50 batches, each sorted by length and split; batch order is shuffled.
        Less padding, same samples per epoch; deterministic for a seed."""
        order = torch.randperm(len(lengths), generator=gen).tolist()
        mega = 50 * self.batch_size
        batches = []
        for start in range(0, len(order), mega):
            chunk = sorted(order[start:start + mega], key=lambda i: -lengths[i])
            batches += [chunk[k:k + self.batch_size] for k in range(0, len(chunk), self.batch_size)]
        return [batches[i] for i in torch.randperm(len(batches), generator=gen).tolist()]

    # -- training ---------------------------------------------------------------------------------
    def fit(self, dataset: Dataset, view: View | str | Sequence[str] | None = None, *,
            val: Dataset | None = None) -> MiniLMFineTuneScorer:
        if self.class_weight not in (None, "balanced"):
            raise DataError("class_weight must be None or 'balanced'", field="class_weight")
        y_all = dataset.y
        if len(dataset) == 0 or (y_all < 0).any():
            raise DataError("training data is empty or has unlabeled samples", file=dataset.source, field="label")
        from ..scoring.encoders import _load_minilm

        tokenizer, base = _load_minilm()
        self.tokenizer_ = tokenizer
        self.labels_ = tuple(dataset.labels)
        torch.manual_seed(self.seed)
        self.model_ = _Model(copy.deepcopy(base), len(self.labels_), self.dropout)
        rng = np.random.default_rng(self.seed)
        keep = np.arange(len(dataset))
        if self.max_train is not None and len(keep) > self.max_train:
            keep = np.sort(rng.choice(len(keep), self.max_train, replace=False))
        texts, contexts = self._texts(dataset)
        encoded = self._tokenize([texts[i] for i in keep], [contexts[i] for i in keep] if contexts else None)
        lengths = [len(ids) for ids, _ in encoded]
        y = torch.tensor(y_all[keep], dtype=torch.long)
        weight = None
        if self.class_weight == "balanced":
            counts = torch.bincount(y, minlength=len(self.labels_)).float().clamp(min=1)
            weight = counts.sum() / (len(counts) * counts)
        loss_fn = nn.CrossEntropyLoss(weight=weight)
        params = [{"params": self.model_.encoder.parameters(), "lr": self.lr},
                  {"params": self.model_.head.parameters(), "lr": self.head_lr}]
        opt = torch.optim.AdamW(params, weight_decay=self.weight_decay)
        per_epoch = -(-len(y) // self.batch_size)
        epochs = max(self.epochs, -(-(self.min_steps or 0) // per_epoch))
        steps = max(1, epochs * per_epoch)
        warm = max(1, int(self.warmup * steps))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
        gen = torch.Generator().manual_seed(self.seed)
        best: tuple[float, int, dict[str, torch.Tensor]] | None = None
        log: list[dict[str, Any]] = []
        with _threads(self.threads):
            for epoch in range(epochs):
                start = time.perf_counter()
                self.model_.train()
                total = 0.0
                for idx in self._train_batches(lengths, gen):
                    opt.zero_grad()
                    loss = loss_fn(self.model_(**self._collate(encoded, idx)), y[idx])
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(self.model_.parameters(), 1.0)
                    opt.step()
                    sched.step()
                    total += float(loss.detach()) * len(idx)
                entry = {"epoch": epoch, "loss": total / len(y), "seconds": time.perf_counter() - start}
                if val is not None and len(val):
                    pred = self._logits(val).argmax(1)
                    entry["val_macro_f1"] = classification_metrics(val.y, pred, len(self.labels_))["macro_f1"]
                    if best is None or entry["val_macro_f1"] > best[0]:
                        best = (entry["val_macro_f1"], epoch, copy.deepcopy(self.model_.state_dict()))
                log.append(entry)
        if best is not None:
            self.model_.load_state_dict(best[2])
        self.model_.eval()
        self.train_log_ = log
        self.best_epoch_ = best[1] if best else epochs - 1
        self.history_ = [("fit", dataset.fingerprint(), val.fingerprint() if val is not None else None)]
        return self

    def _logits(self, dataset: Dataset) -> np.ndarray:
        encoded = self._tokenize(*self._texts(dataset))
        out = np.zeros((len(dataset), len(self.labels_)))
        self.model_.eval()
        # longest first keeps padding small; padding is masked, so scores do not depend on batching
        order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i][0]))
        with _threads(self.threads), torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                out[idx] = self.model_(**self._collate(encoded, idx)).double().numpy()
        return out

    def predict_proba(self, dataset: Dataset, view: View | str = "text") -> Predictions:
        if not hasattr(self, "model_"):
            raise DataError("minilm-ft scorer is not fitted; call fit() first")
        if tuple(dataset.labels) != self.labels_:
            raise DataError(f"labels {list(dataset.labels)} differ from the fitted {list(self.labels_)}",
                            file=dataset.source, field="labels")
        logits = self._logits(dataset)
        z = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return Predictions(dataset.ids, dataset.labels, probs, str(view), self.fingerprint, dataset.fingerprint(),
                           meta={"scorer_name": self.name})


class _threads:
    def __init__(self, n: int | None) -> None:
        self.n = n

    def __enter__(self) -> None:
        self.before = torch.get_num_threads()
        if self.n:
            torch.set_num_threads(self.n)

    def __exit__(self, *exc: object) -> None:
        torch.set_num_threads(self.before)
