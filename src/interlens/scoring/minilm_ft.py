"""``minilm-ft``: all-MiniLM-L6-v2 fine-tuned end to end (encoder + linear head), the CPU default.

Mean pooling over the last hidden states (as sentence-transformers) and a linear classifier; AdamW
with a higher learning rate for the fresh head, linear warm-up/decay, a few epochs, short sequences
(the MMLA SFT recipe on a CPU budget, docs/benchmark.md).

**View-aware**: one fine-tuned model per view. A view's text modalities become the encoder input in
the view's declared order: the first modality is segment A, the others (joined, one per line) are
segment B -- ``[CLS] A [SEP] B [SEP]``. Segment A is never cut for B (a too-long A is cut at the end
and then has no B); of B the *most recent* tokens are kept (context lines are oldest first). So
``utterance``, ``context`` and ``utterance+context`` are three different models on three different
inputs. Modalities are chosen by kind (``text``), never by name.

Training batches group similar lengths (less padding: ~2% pad tokens on MIntRec).

**Precision** (``precision``): ``"bf16"`` (the default) trains under bfloat16 autocast (matmuls in
bf16 on CPUs with AVX-512 BF16 / AMX; master weights, loss, gradients and optimizer state stay
float32) with the fused AdamW kernel -- about 2x less CPU time per step than float32 on this project's
machines with the same test accuracy (``benchmarks/bench_train_speed.py``, results in
``benchmarks/results/train_speed.json``). ``"fp32"`` is the previous path exactly (float32,
foreach AdamW): it reproduces earlier numbers bit for bit. Scoring (``logits``, ``features``,
validation) always runs in float32, so predictions do not depend on batch composition. Progress
(steps, epochs, loss, ETA; :mod:`interlens.progress`) is a step-level bar on a terminal and, when
stderr is not a terminal, a log line at least every 20 s plus one per epoch (issue 31 goal 2), with
``progress=True``. ``class_weight="balanced"`` weights the loss
by inverse class frequency. With a validation set the epoch with the best validation macro-F1 is
kept. Scores are computed in eval mode, independent of batch composition (padding is masked out).
Implements the :class:`~interlens.scoring.base.Scorer` contract with ``finetune`` (MMoE App. G
experts) and ``features`` (router inputs, MMoE Sec. 3.3).
"""

from __future__ import annotations

import copy
import logging
import os
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from ..checkpoints import load_module, module_tensors
from ..data.schema import Dataset
from ..errors import DataError
from ..metrics import classification_metrics
from ..progress import progress as progress_of
from ..progress import report_metrics
from ..torch_utils import torch_threads
from ..views import View
from .base import Capability, Scorer
from .heads import POOLINGS, TEXT_FUSIONS, ModalityPooledClassifier
from .heads import MeanPooledClassifier as _Model
from .registry import register_scorer

logger = logging.getLogger(__name__)

# bumped when tokenisation/batching changes, so results of older code are not reused
# (3: the view's modalities are the segments, one model per view; 4: fused views default to separate encoder
# passes + gated fusion with a residual from each modality, issue 27 -- old fingerprints named joint pooling)
_ENCODING_VERSION = 4
PRECISIONS = ("fp32", "bf16")
#: dev metrics that can pick the epoch (``select_metric``)
SELECT_METRICS = ("macro_f1", "acc")

Encoded = list[Any]  # per sample: (ids, types) | Segmented | Parts


class Segmented(NamedTuple):
    """One ``[CLS] A [SEP] B [SEP]`` sequence with each token's modality (its index in the view)."""

    ids: list[int]
    types: list[int]
    modalities: list[int]


class Parts(NamedTuple):
    """One ``(ids, types)`` sequence per modality of the view (``pooling="separate"``)."""

    parts: tuple[tuple[list[int], list[int]], ...]


@register_scorer("minilm-ft")
class MiniLMFineTuneScorer(Scorer):
    """Fine-tuned MiniLM text classifier, one model per view. Parameters: ``epochs``, ``lr`` (encoder),
    ``head_lr``, ``batch_size``, ``max_length`` (tokens per input, both segments), ``class_weight``
    (None | "balanced"), ``label_smoothing`` (cross-entropy target smoothing, 0 = none), ``weight_decay``,
    ``warmup`` (fraction of steps), ``dropout``, ``max_train`` (cap on training samples, None = all),
    ``min_steps`` (more epochs for small sets: at least this many optimizer steps), ``patience`` (with a dev
    set: stop when ``patience`` epochs in a row do not improve the dev metric, issue 31 goal 2; None = never),
    ``precision``
    (training: "bf16" autocast + fused AdamW, the default, or "fp32", the previous path exactly),
    ``threads`` (torch threads while training/scoring), ``progress`` (a progress bar with ETA on a
    terminal), ``seed``, ``select_metric`` (the dev metric that picks the epoch: "macro_f1", the default, or
    "acc"; every epoch logs both), ``aux_target`` (a ``Sample.meta`` field, e.g. MELD's "sentiment": a second
    head on the same pooled encoding learns it during training, its cross-entropy weighted by ``aux_weight``,
    and is dropped afterwards -- multi-task training with one shared encoder and per-task heads, MMLA
    Sec. 3.3 / MINT Sec. 3). ``threads`` and ``progress`` are not part of the fingerprint.

    Multi-modality views (issue 27): ``pooling`` -- ``"separate"`` (the default: each modality through the
    encoder on its own), ``"segments"`` (one pass over ``[CLS] A [SEP] B [SEP]``, each modality's own tokens
    mean-pooled apart) or ``"joint"`` (the earlier default: one mean over all tokens, a plain linear head) --
    and, for the first two, ``fusion`` of the per-modality vectors: ``"gated"`` (the default), ``"late"``,
    ``"concat"`` or
    ``"tensor"`` (two modalities only), always with a residual path (logits = sum of per-modality linear
    logits + the fusion term, whose last layer starts at zero); ``fusion_hidden`` and ``fusion_rank`` size the
    fusion term. Unimodal views are the same model under every ``pooling``. The default was chosen on dev by the
    pre-registered rule of ``benchmarks/plans/fusion_default.yaml`` (fused-view dev ACC pooled over MUStARD,
    MIntRec2.0 and MELD: separate + gated 70.6 / 47.1 / 57.8, pooled 52.7, vs joint 61.8 / 39.2 / 50.7, pooled 45.2;
    ``benchmarks/fusion_study.py``, docs/results/fusion_study.md)."""

    capabilities = frozenset({Capability.TRAINABLE, Capability.FINETUNE, Capability.FEATURES, Capability.SAVABLE})
    records_fit_history = True
    checkpointable = True
    modality_kinds = frozenset({"text"})
    fingerprint_version = _ENCODING_VERSION
    #: the ``fusion`` values this scorer accepts (methods read it before setting one, e.g. debias's linear head)
    fusions = TEXT_FUSIONS
    _unhashed_params = ("threads", "progress")
    _hashed_when_set = ("label_smoothing", "select_metric", "aux_target", "aux_weight", "pooling", "fusion",
                        "fusion_hidden", "fusion_rank", "patience")

    def __init__(self, epochs: int = 3, lr: float = 5e-5, head_lr: float = 1e-3, batch_size: int = 32,
                 max_length: int = 96, class_weight: str | None = None, weight_decay: float = 0.01,
                 warmup: float = 0.1, dropout: float = 0.1, max_train: int | None = None,
                 min_steps: int | None = None, precision: str = "bf16", threads: int | None = None,
                 progress: bool = True, seed: int = 0, label_smoothing: float = 0.0,
                 select_metric: str = "macro_f1", aux_target: str | None = None, aux_weight: float = 0.5,
                 pooling: str = "separate", fusion: str = "gated", fusion_hidden: int = 128, fusion_rank: int = 16,
                 patience: int | None = None) -> None:
        self.patience = patience
        self.pooling, self.fusion, self.fusion_hidden, self.fusion_rank = pooling, fusion, fusion_hidden, fusion_rank
        self.epochs, self.lr, self.head_lr, self.batch_size = epochs, lr, head_lr, batch_size
        self.label_smoothing, self.select_metric = label_smoothing, select_metric
        self.aux_target, self.aux_weight = aux_target, aux_weight
        self.max_length, self.class_weight = max_length, class_weight
        self.weight_decay, self.warmup, self.dropout = weight_decay, warmup, dropout
        self.max_train, self.min_steps, self.precision = max_train, min_steps, precision
        self.threads, self.progress, self.seed = threads, progress, seed

    # -- views ----------------------------------------------------------------------------------
    def check_view(self, dataset: Dataset, view: View | str) -> View:
        """As the base class, but any order of a supported combination is accepted: the order decides
        which modality is segment A (``context+utterance`` is its own model)."""
        view = View.parse(view).check(dataset.modalities, dataset.source)
        canonical = View(tuple(m for m in dataset.modalities if m in view.modalities), view.transforms)
        super().check_view(dataset, canonical)
        self._check_pooling()
        if self._fused(view) and self.fusion == "tensor" and len(view.modalities) > 2:
            raise DataError(f"minilm-ft fusion 'tensor' takes exactly two modalities; view {view} has "
                            f"{len(view.modalities)} (use late, concat or gated)", file=dataset.source, field="view")
        return view

    def default_view(self, dataset: Dataset) -> str:
        """All text modalities together (the first two with per-modality tensor fusion)."""
        view = super().default_view(dataset)
        return "+".join(view.split("+")[:2]) if self.pooling != "joint" and self.fusion == "tensor" else view

    def _check_pooling(self) -> None:
        if self.pooling not in POOLINGS:
            raise DataError(f"pooling must be one of {', '.join(POOLINGS)}, got {self.pooling!r}", field="pooling")
        if self.fusion not in TEXT_FUSIONS:
            raise DataError(f"fusion must be one of {', '.join(TEXT_FUSIONS)}, got {self.fusion!r}", field="fusion")

    def _fused(self, view: View | str) -> bool:
        """Whether ``view`` gets per-modality vectors and a fusion head (several modalities, pooling not joint)."""
        return self.pooling != "joint" and len(View.parse(view).modalities) > 1

    def _new_model(self, base: nn.Module, key: str) -> nn.Module:
        """The untrained model of view ``key`` on a copy of ``base`` (the caller seeds torch)."""
        n = len(key.split("+"))
        if self._fused(key):
            return ModalityPooledClassifier(copy.deepcopy(base), len(self.labels_), self.dropout, n, self.fusion,
                                            self.pooling, self.fusion_hidden, self.fusion_rank)
        return _Model(copy.deepcopy(base), len(self.labels_), self.dropout)

    @staticmethod
    def _key(view: View | str) -> str:
        """The model of a view: its modalities in order (transforms change the data, not the model)."""
        return "+".join(View.parse(view).modalities)

    # -- inputs ---------------------------------------------------------------------------------
    def _tokenize(self, texts: list[str], contexts: list[str] | None) -> Encoded:
        """Token ids per sample, once: ``[CLS] A [SEP] (B [SEP])`` within ``max_length``.

        Segment A is never cut for B; a too-long A is cut at the end and then has no B. Of B the
        *most recent* tokens are kept. Returns (input_ids, token_type_ids) per sample."""
        tok = self.tokenizer_
        cls, sep = tok.cls_token_id, tok.sep_token_id
        utterances = tok(texts, add_special_tokens=False)["input_ids"] if texts else []
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

    def _encode(self, dataset: Dataset, view: View, keep: Sequence[int] | None = None) -> Encoded:
        """The model input of every sample (of the ``keep`` indices) under ``view``."""
        samples = dataset.samples if keep is None else [dataset.samples[i] for i in keep]
        texts = [[dataset.text(s, m) for s in samples] for m in view.modalities]
        if not self._fused(view):
            return self._tokenize(texts[0], ["\n".join(row) for row in zip(*texts[1:], strict=True)]
                                  if len(texts) > 1 else None)
        tok = self.tokenizer_
        ids = [tok(t, add_special_tokens=False)["input_ids"] if t else [] for t in texts]
        rows = list(zip(*ids, strict=True))
        return [self._separate(row) if self.pooling == "separate" else self._segmented(row) for row in rows]

    def _segmented(self, pieces: Sequence[list[int]]) -> Segmented:
        """``[CLS] A [SEP] B [SEP]`` exactly as :meth:`_tokenize` builds it (B: the other modalities' tokens in
        order, as the newline-joined text tokenizes), with each token's modality: ``[CLS]`` and the first
        ``[SEP]`` belong to A, the last ``[SEP]`` to the last modality."""
        cls, sep = self.tokenizer_.cls_token_id, self.tokenizer_.sep_token_id
        first = list(pieces[0][: self.max_length - 2])
        ids, types, mods = [cls, *first, sep], [0] * (len(first) + 2), [0] * (len(first) + 2)
        rest = [t for piece in pieces[1:] for t in piece]
        owner = [m for m, piece in enumerate(pieces[1:], start=1) for _ in piece]
        room = self.max_length - len(ids) - 1
        if rest and room > 0:
            rest, owner = rest[-room:], owner[-room:]
            ids, types = ids + rest + [sep], types + [1] * (len(rest) + 1)
            mods = mods + owner + [len(pieces) - 1]
        return Segmented(ids, types, mods)

    def _separate(self, pieces: Sequence[list[int]]) -> Parts:
        """``[CLS] X [SEP]`` per modality within ``max_length`` each: the first modality cut at its end (as
        segment A), the others keep their most recent tokens (as segment B)."""
        cls, sep, room = self.tokenizer_.cls_token_id, self.tokenizer_.sep_token_id, self.max_length - 2
        parts = []
        for m, piece in enumerate(pieces):
            kept = list(piece[:room] if m == 0 else piece[-room:] if room > 0 else [])
            parts.append(([cls, *kept, sep], [0] * (len(kept) + 2)))
        return Parts(tuple(parts))

    @staticmethod
    def _length(item: Any) -> int:
        """Tokens of one encoded sample (all its parts)."""
        return sum(len(ids) for ids, _ in item.parts) if isinstance(item, Parts) else len(item[0])

    def _collate(self, encoded: Encoded, idx: Sequence[int]) -> dict[str, Any]:
        """One padded batch: ``input_ids``, ``attention_mask``, ``token_type_ids`` (plus ``modality_ids``, -1 on
        padding, for segment pooling), or ``parts``: one such batch per modality (separate pooling)."""
        if isinstance(encoded[idx[0]], Parts):
            n = len(encoded[idx[0]].parts)
            return {"parts": [self._collate([encoded[i].parts[m] for i in idx], range(len(idx))) for m in range(n)]}
        width = max(len(encoded[i][0]) for i in idx)
        ids = torch.full((len(idx), width), self.tokenizer_.pad_token_id, dtype=torch.long)
        types = torch.zeros((len(idx), width), dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):
            n = len(encoded[i][0])
            ids[row, :n] = torch.tensor(encoded[i][0])
            types[row, :n] = torch.tensor(encoded[i][1])
            mask[row, :n] = 1
        batch = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        if isinstance(encoded[idx[0]], Segmented):
            mods = torch.full((len(idx), width), -1, dtype=torch.long)
            for row, i in enumerate(idx):
                mods[row, :len(encoded[i].modalities)] = torch.tensor(encoded[i].modalities)
            batch["modality_ids"] = mods
        return batch

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
    def _check_train(self, dataset: Dataset, what: str) -> None:
        if self.class_weight not in (None, "balanced"):
            raise DataError("class_weight must be None or 'balanced'", field="class_weight")
        self._check_pooling()
        if not 0.0 <= self.label_smoothing < 1.0:
            raise DataError(f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}",
                            field="label_smoothing")
        if self.select_metric not in SELECT_METRICS:
            raise DataError(f"select_metric must be one of {', '.join(SELECT_METRICS)}, got {self.select_metric!r}",
                            field="select_metric")
        if self.patience is not None and (isinstance(self.patience, bool) or not isinstance(self.patience, int)
                                          or self.patience < 1):
            raise DataError(f"patience must be an integer >= 1 or None, got {self.patience!r}", field="patience")
        if self.precision not in PRECISIONS:
            raise DataError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}",
                            field="precision")
        if self.aux_target is not None and (isinstance(self.aux_weight, bool)
                                            or not isinstance(self.aux_weight, int | float) or self.aux_weight < 0):
            raise DataError(f"aux_weight must be a number >= 0, got {self.aux_weight!r}", field="aux_weight")
        if len(dataset) == 0 or (dataset.y < 0).any():
            raise DataError(f"{what} data is empty or has unlabeled samples", file=dataset.source, field="label")

    def _aux_labels(self, dataset: Dataset, keep: np.ndarray) -> tuple[torch.Tensor, list[str]]:
        """The ``aux_target`` meta field of the kept training samples as class indices (sorted names)."""
        values = []
        for i in keep:
            sample = dataset.samples[i]
            value = (sample.meta or {}).get(self.aux_target)
            if value is None or value == "":
                raise DataError(f"training sample {sample.id!r} has no {self.aux_target!r} in its meta (aux_target)",
                                file=dataset.source, record=sample.id, field=str(self.aux_target))
            values.append(str(value))
        names = sorted(set(values))
        if len(names) < 2:
            raise DataError(f"aux_target {self.aux_target!r} has {len(names)} distinct value(s); it needs at least 2",
                            file=dataset.source, field=str(self.aux_target))
        index = {n: k for k, n in enumerate(names)}
        return torch.tensor([index[v] for v in values], dtype=torch.long), names

    def _train(self, model: _Model, dataset: Dataset, view: View, val: Dataset | None, *, epochs: int,
               lr: float, head_lr: float, seed: int) -> tuple[list[dict[str, Any]], int]:
        """Fine-tune ``model`` in place on ``dataset`` under ``view``; returns (epoch log, kept epoch)."""
        keep = np.arange(len(dataset))
        if self.max_train is not None and len(keep) > self.max_train:
            keep = np.sort(np.random.default_rng(seed).choice(len(keep), self.max_train, replace=False))
        encoded = self._encode(dataset, view, keep)
        lengths = [self._length(item) for item in encoded]
        y = torch.tensor(dataset.y[keep], dtype=torch.long)
        weight = None
        if self.class_weight == "balanced":
            counts = torch.bincount(y, minlength=len(self.labels_)).float().clamp(min=1)
            weight = counts.sum() / (len(counts) * counts)
        loss_fn = nn.CrossEntropyLoss(weight=weight, label_smoothing=self.label_smoothing)
        params = [{"params": model.encoder.parameters(), "lr": lr}, {"params": model.head.parameters(), "lr": head_lr}]
        aux_head, aux_y = None, None
        if self.aux_target is not None:
            aux_y, aux_labels = self._aux_labels(dataset, keep)
            with torch.random.fork_rng(devices=[]):  # the main model's initialisation and dropout stay as without
                torch.manual_seed(seed + 1)
                aux_head = nn.Linear(model.head.in_features, len(aux_labels))
            params.append({"params": aux_head.parameters(), "lr": head_lr})
        bf16 = self.precision == "bf16"
        # bf16: the fused AdamW kernel (one pass over all parameters); fp32: the previous foreach path
        opt = torch.optim.AdamW(params, weight_decay=self.weight_decay, fused=True if bf16 else None)
        per_epoch = -(-len(y) // self.batch_size)
        epochs = max(epochs, -(-(self.min_steps or 0) // per_epoch))
        steps = max(1, epochs * per_epoch)
        warm = max(1, int(self.warmup * steps))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
        gen = torch.Generator().manual_seed(seed)
        best: tuple[float, int, dict[str, torch.Tensor]] | None = None
        log: list[dict[str, Any]] = []
        # dropout draws from the global RNG: fork it, seeded, so training is deterministic and side-effect free
        started = time.perf_counter()
        with (torch_threads(self.threads), torch.random.fork_rng(devices=[]),
              progress_of(steps, f"minilm-ft {self._key(view)} training", "step", enabled=bool(self.progress)) as bar):
            torch.manual_seed(seed)
            for epoch in range(epochs):
                start = time.perf_counter()
                model.train()
                total = 0.0
                what = f"minilm-ft {self._key(view)} training, epoch {epoch + 1}/{epochs}"
                bar.update(what)
                for idx in self._train_batches(lengths, gen):
                    opt.zero_grad()
                    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                        batch = self._collate(encoded, idx)
                        if aux_head is None:
                            logits = model(**batch)
                        else:
                            pooled = model.dropout(model.pool(**batch))
                            logits, aux_logits = model.head(pooled), aux_head(pooled)
                    loss = loss_fn(logits.float(), y[idx])
                    if aux_head is not None:
                        aux_loss = nn.functional.cross_entropy(aux_logits.float(), aux_y[idx])
                        (loss + self.aux_weight * aux_loss).backward()
                    else:
                        loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                    opt.step()
                    sched.step()
                    value = float(loss.detach())
                    total += value * len(idx)
                    bar.update(f"{what}, loss {value:.3f}")
                    bar.advance()
                entry = {"epoch": epoch, "loss": total / len(y), "seconds": time.perf_counter() - start}
                if val is not None and len(val):
                    bar.update(f"{what} (validating)")
                    pred = self._run(model, val, view).argmax(1)
                    scores = classification_metrics(val.y, pred, len(self.labels_))
                    entry["val_macro_f1"], entry["val_acc"] = scores["macro_f1"], scores["acc"]
                    if best is None or entry[f"val_{self.select_metric}"] > best[0]:
                        best = (entry[f"val_{self.select_metric}"], epoch, copy.deepcopy(model.state_dict()))
                stop = bool(self.patience and best is not None and epoch - best[1] >= self.patience
                            and epoch < epochs - 1)
                if stop:
                    entry["stopped_early"] = True  # dev did not improve for `patience` epochs (issue 31 goal 2)
                log.append(entry)
                report_metrics(entry, step=epoch, prefix=f"minilm-ft/{self._key(view)}")  # to a tracker run, if any
                if stop:
                    logger.info("minilm-ft %s: no dev improvement for %d epoch(s); stopping after epoch %d/%d",
                                self._key(view), self.patience, epoch + 1, epochs)
                    break
                if bar.shown:  # a terminal's bar shows progress; in logs (no terminal) one line per epoch too
                    continue
                done = time.perf_counter() - started
                dev = (f", dev macro-F1 {entry['val_macro_f1']:.4f} ACC {entry['val_acc']:.4f}"
                       if "val_macro_f1" in entry else "")
                logger.info("minilm-ft %s epoch %d/%d: loss %.4f%s, %.0f s, ETA %.0f s", self._key(view), epoch + 1,
                            epochs, entry["loss"], dev, done, done / (epoch + 1) * (epochs - epoch - 1))
        if best is not None:
            model.load_state_dict(best[2])
        model.eval()
        return log, best[1] if best else epochs - 1

    def fit(self, train: Dataset, views: Sequence[View | str] | View | str | None = None, *,
            val: Dataset | None = None) -> MiniLMFineTuneScorer:
        """Fine-tune one MiniLM per view on ``train`` (epoch selection on ``val``); returns ``self``.

        ``views`` defaults to every text modality alone plus all of them together."""
        self._check_train(train, "training")
        views = self.fit_views(train, views)
        from .encoders import _load_minilm

        tokenizer, base = _load_minilm()
        self.tokenizer_ = tokenizer
        self.labels_ = tuple(train.labels)
        self.modalities_ = tuple(self.usable_modalities(train))
        self.models_: dict[str, _Model] = {}
        self.train_log_: dict[str, list[dict[str, Any]]] = {}
        self.best_epoch_: dict[str, int] = {}
        for view in views:
            key = self._key(view)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)  # the same head initialisation for every view
                model = self._new_model(base, key)
            self.train_log_[key], self.best_epoch_[key] = self._train(
                model, train, view, val, epochs=self.epochs, lr=self.lr, head_lr=self.head_lr, seed=self.seed)
            self.models_[key] = model
        self.history_ = self._fit_history(train, views, val)
        return self

    def finetune(self, subset: Dataset, view: View | str, *, val: Dataset | None = None,
                 epochs: int | None = None, lr: float | None = None) -> MiniLMFineTuneScorer:
        """A copy whose ``view`` model continues training on ``subset`` from its current weights (MMoE
        App. G: experts start from the baseline trained on all data). ``lr`` replaces the encoder
        learning rate (the head's is scaled alike); ``epochs`` defaults to the scorer's."""
        model = self._model(subset, view)
        self._check_train(subset, "fine-tuning")
        view = View.parse(view)
        key, epochs = self._key(view), epochs or self.epochs
        clone = copy.copy(self)  # shares the tokenizer and the other views' (frozen, eval-mode) models
        clone.models_ = dict(self.models_)
        clone.train_log_ = dict(self.train_log_)
        clone.best_epoch_ = dict(self.best_epoch_)
        clone.models_[key] = copy.deepcopy(model)
        enc_lr = lr or self.lr
        head_lr = self.head_lr * enc_lr / self.lr if lr and self.lr else self.head_lr
        clone.train_log_[key], clone.best_epoch_[key] = clone._train(
            clone.models_[key], subset, View(view.modalities), val, epochs=epochs, lr=enc_lr, head_lr=head_lr,
            seed=self.seed + 1000 * len(self.history_))
        clone.history_ = [*self.history_, ("finetune", subset.fingerprint(), key, epochs, lr,
                                           val.fingerprint() if val is not None else None)]
        return clone

    # -- prediction -------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise DataError("minilm-ft scorer is not fitted; call fit() first")

    # -- fitted state for interlens.checkpoints (tensors + JSON, no pickle) --------------------------------------
    def checkpoint_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        tensors: dict[str, Any] = {}
        for key, model in self.models_.items():
            tensors.update(module_tensors(f"models_/{key}", model))
        meta = {"labels_": list(self.labels_), "modalities_": list(self.modalities_),
                "train_log_": self.train_log_, "best_epoch_": self.best_epoch_, "models": list(self.models_)}
        return meta, tensors

    def restore_checkpoint_state(self, meta: dict[str, Any], tensors: dict[str, Any]) -> None:
        from .encoders import _load_minilm

        tokenizer, base = _load_minilm()
        self.tokenizer_ = tokenizer
        self.labels_ = tuple(meta["labels_"])
        self.modalities_ = tuple(meta["modalities_"])
        self.train_log_ = dict(meta["train_log_"])
        self.best_epoch_ = {k: int(v) for k, v in meta["best_epoch_"].items()}
        models = {}
        with torch.random.fork_rng(devices=[]):
            for key in meta["models"]:
                models[key] = load_module(self._new_model(base, key), f"models_/{key}", tensors)
        self.models_ = models

    def _model(self, dataset: Dataset, view: View | str) -> _Model:
        self._check_fitted()
        view = self.check_view(dataset, view)
        if self._key(view) not in self.models_:
            raise DataError(f"view {view} was not fitted; fitted views: {sorted(self.models_)}",
                            file=dataset.source, field="view")
        if tuple(dataset.labels) != self.labels_:
            raise DataError(f"labels {list(dataset.labels)} differ from the fitted {list(self.labels_)}",
                            file=dataset.source, field="labels")
        return self.models_[self._key(view)]

    def _run(self, model: _Model, dataset: Dataset, view: View, *, pooled: bool = False) -> np.ndarray:
        """Logits (or pooled encoder outputs) per sample, longest first in batches; padding is masked,
        so scores do not depend on batching."""
        encoded = self._encode(dataset, View(view.modalities))
        width = model.head.in_features if pooled else len(self.labels_)
        out = np.zeros((len(dataset), width))
        was_training = model.training
        model.eval()
        order = sorted(range(len(encoded)), key=lambda i: -self._length(encoded[i]))
        show = bool(self.progress) and len(order) > 20 * self.batch_size  # long runs only (test sets)
        with (torch_threads(self.threads), torch.inference_mode(),
              progress_of(len(order), "minilm-ft scoring", "sample", enabled=show) as bar):
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                batch = self._collate(encoded, idx)
                out[idx] = (model.pool(**batch) if pooled else model(**batch)).double().numpy()
                bar.advance(len(idx))
        model.train(was_training)
        return out

    def logits(self, dataset: Dataset, view: View | str) -> np.ndarray:
        """(n, K) logits of the ``view`` model, in ``dataset.labels`` order."""
        model = self._model(dataset, view)
        return self._run(model, dataset, View.parse(view))

    def features(self, dataset: Dataset) -> np.ndarray:
        """(n, 384) mean-pooled encoder outputs of the all-modalities view's model (else the first fitted
        view's) -- router inputs (MMoE Sec. 3.3); (n, M x 384), one vector per modality, where that model pools
        per modality (``pooling`` segments / separate)."""
        self._check_fitted()
        key = "+".join(self.modalities_)
        key = key if key in self.models_ else next(iter(self.models_))
        view = View.parse(key)
        return self._run(self._model(dataset, view), dataset, view, pooled=True)

    # -- saving ---------------------------------------------------------------------------------------
    def save_pretrained(self, directory: str | os.PathLike) -> dict[str, Any]:
        """One standard folder per fitted view: ``AutoModelForSequenceClassification.from_pretrained(dir/<view>)``
        and ``pipeline("text-classification", model=dir/<view>)`` give this scorer's probabilities (a
        ``BertForSequenceClassification`` whose extra last layer computes the mean pooling and the head, see
        :mod:`interlens.scoring.hf_export`), plus the tokenizer, ``head.safetensors`` and ``interlens.json``.
        Returns ``{view: folder}``; :meth:`from_pretrained` reloads the scorer (docs/saved-models.md)."""
        from .hf_export import save_minilm_pretrained

        return save_minilm_pretrained(self, directory)

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike) -> MiniLMFineTuneScorer:
        """The fitted scorer saved in ``directory`` by :meth:`save_pretrained` (of this version or an earlier,
        encoder + ``head.safetensors`` one); safetensors only, nothing is unpickled."""
        from .hf_export import load_minilm_pretrained

        return load_minilm_pretrained(cls, directory)

    def save_encoder_and_head(self, directory: str | os.PathLike) -> dict[str, Any]:
        """The earlier layout, kept so that tests check such folders still load with :meth:`from_pretrained`:
        per view the fine-tuned encoder for ``AutoModel`` + ``head.safetensors``; logits = ``head(mean of
        last_hidden_state over non-padding tokens)``. Returns ``{view: folder}``."""
        from pathlib import Path

        from .saving import _fitted, _save_tensors, _slug, _write_meta

        root = Path(directory)
        folders = {}
        for key, model in _fitted(self, "models_").items():
            if not hasattr(model.head, "weight"):
                raise DataError(f"view {key} pools per modality; the encoder + head.safetensors layout cannot hold "
                                f"its fusion head (use save_pretrained)", field="view")
            folder = root / _slug(key)
            model.encoder.save_pretrained(str(folder), safe_serialization=True)
            self.tokenizer_.save_pretrained(str(folder))
            _save_tensors({"weight": model.head.weight, "bias": model.head.bias}, folder / "head.safetensors")
            _write_meta(folder / "interlens.json", {
                "scorer": self.name, "view": key, "modalities": key.split("+"), "labels": list(self.labels_),
                "label2id": {label: i for i, label in enumerate(self.labels_)}, "pooling": "mean",
                "max_length": self.max_length, "segments": "first modality = segment A, the others joined by "
                                                           "newlines = segment B (most recent tokens kept)",
                "params": self.get_params(), "fingerprint": self.fingerprint,
                "best_epoch": self.best_epoch_.get(key)})
            folders[key] = folder
        _write_meta(root / "interlens.json", {"scorer": self.name,
                                              "views": {k: str(p.name) for k, p in folders.items()},
                                              "labels": list(self.labels_), "fingerprint": self.fingerprint})
        return folders
