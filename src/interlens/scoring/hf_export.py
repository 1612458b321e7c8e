"""A mean-pooled BERT classifier as a *standard* ``BertForSequenceClassification`` (issue 28, item 2).

``minilm-ft`` scores ``head(mean of last_hidden_state over the real tokens)``; a stock
``BertForSequenceClassification`` reads the ``[CLS]`` state through ``pooler = tanh(dense(.))``, and no
BERT-family sequence-classification class of ``transformers`` 5 pools by mean (ModernBERT, EuroBERT and
UltraBERT do, but their encoders are not BERT). Rather than ship model code (``auto_map`` +
``trust_remote_code``), the saved folder appends **one extra transformer layer** whose weights compute the
mean pooling and the head exactly, so plain ``AutoModelForSequenceClassification.from_pretrained(dir)`` and
``pipeline("text-classification", model=dir)`` give interlens's logits (to float32 rounding, ~1e-7):

1. *attention*: query and key weights are zero, so every position attends uniformly to the real
   (unmasked) tokens -- the masked mean; the values are the head applied per token,
   ``z_i = W h_i + b``, so the context is ``mean_i z_i`` = the logits ``L`` (the head is affine);
2. *attention output*: ``[M L, -M L, +-F, ...]`` (a large scale ``M`` makes the residual ``h_0`` negligible,
   the pair ``+-`` keeps the mean at zero, the constant filler ``F >> M L`` fixes the LayerNorm's scale);
3. the layer's LayerNorms (weight 1, bias 0) divide by a scale that is ``F * sqrt((H - 2K) / H)`` up to a
   relative ``(M L / F)^2 < 1e-8``; the feed-forward block is zero;
4. the pooler takes half the difference of each pair (so the LayerNorm's mean, rounded at the filler's
   magnitude, cancels), ``tanh(x) = x`` to ``x^2/3 < 1e-8`` at these sizes, and the classifier multiplies
   back by ``scale / M``.

``M`` and ``F`` come from bounds on the hidden states (a LayerNorm output ``gamma * n + beta`` with
``|n_d| <= sqrt(H - 1)``), so they hold for any input. The first ``n`` layers are the fine-tuned encoder
unchanged: ``AutoModel.from_pretrained(dir, num_hidden_layers=n)`` is that encoder. Load in float32 (the
saved dtype): the scale factors do not survive float16. Needs ``2K`` below the hidden size (192 labels for
MiniLM).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import torch

from ..errors import DataError
from ..io import read_json

#: written to ``interlens.json`` (``format``) by folders in this layout
FORMAT = "bert-seq-cls-mean-pool"
#: how much smaller the residual / the logits are kept than the scale factors (see the module docstring)
_RESIDUAL_MARGIN = 1e7
_FILLER_MARGIN = 1e4


def _hidden_bound(encoder: Any) -> torch.Tensor:
    """Per-dimension bound on the encoder's last hidden state: ``|gamma_d| sqrt(H - 1) + |beta_d|``."""
    norm = encoder.encoder.layer[-1].output.LayerNorm
    width = norm.weight.numel()
    return norm.weight.detach().abs().double() * math.sqrt(width - 1) + norm.bias.detach().abs().double()


def to_sequence_classification(encoder: Any, weight: torch.Tensor, bias: torch.Tensor,
                               labels: list[str] | tuple[str, ...]) -> Any:
    """A ``BertForSequenceClassification`` whose logits are ``weight @ mean_pool(encoder(x)) + bias``.

    ``encoder`` is a ``BertModel`` (as ``minilm-ft`` fine-tunes), ``weight`` (K, H) and ``bias`` (K,) the
    linear head, ``labels`` its K class names in order."""
    from transformers import BertConfig, BertForSequenceClassification

    config = encoder.config
    if getattr(config, "model_type", None) != "bert":
        raise DataError(f"only BERT encoders can be written as BertForSequenceClassification, "
                        f"got model_type {getattr(config, 'model_type', None)!r}", field="encoder")
    width, n_labels = config.hidden_size, len(labels)
    if weight.shape != (n_labels, width) or bias.shape != (n_labels,):
        raise DataError(f"head of shape {tuple(weight.shape)} does not match {n_labels} labels x {width} dims",
                        field="head")
    if 2 * n_labels > width - 2:
        raise DataError(f"{n_labels} labels need more than the {width} hidden dims of a mean-pooling layer",
                        field="labels")
    values = config.to_dict()
    for key in ("architectures", "id2label", "label2id", "num_labels", "problem_type", "transformers_version"):
        values.pop(key, None)
    layers = config.num_hidden_layers
    new = BertConfig(**{**values, "num_hidden_layers": layers + 1},
                     id2label=dict(enumerate(labels)), label2id={lab: i for i, lab in enumerate(labels)},
                     problem_type="single_label_classification", architectures=["BertForSequenceClassification"])
    new.interlens_pooling = {"mean_pool_layer": layers, "encoder_layers": layers}
    model = BertForSequenceClassification(new).eval()
    missing = model.bert.load_state_dict(encoder.state_dict(), strict=False)
    if missing.unexpected_keys or any(not k.startswith(f"encoder.layer.{layers}.") and not k.startswith("pooler.")
                                      for k in missing.missing_keys):
        raise DataError(f"encoder weights do not fit a BERT model: {missing}", field="encoder")

    w, b = weight.detach().double().cpu(), bias.detach().double().cpu()
    bound = _hidden_bound(encoder)
    scale_m = _RESIDUAL_MARGIN * float(bound.max())                       # M: residual h_0 / M < 1e-7
    logit_bound = float((w.abs() @ bound + b.abs()).max())                # |L_k| <= this for any input
    filler_dims = width - 2 * n_labels
    filler = _FILLER_MARGIN * scale_m * max(logit_bound, 1e-6) * math.sqrt(2 * n_labels / filler_dims)
    ln_scale = filler * math.sqrt(filler_dims / width)                    # the LayerNorm's std, up to 1e-8

    layer = model.bert.encoder.layer[layers]
    zero = [layer.attention.self.query, layer.attention.self.key, layer.intermediate.dense, layer.output.dense]
    with torch.no_grad():
        for linear in zero:
            linear.weight.zero_()
            linear.bias.zero_()
        value, out = layer.attention.self.value, layer.attention.output.dense
        value.weight.zero_()
        value.bias.zero_()
        value.weight[:n_labels] = w.float()
        value.bias[:n_labels] = b.float()
        out.weight.zero_()
        eye = torch.eye(n_labels, dtype=torch.float64) * scale_m
        out.weight[:n_labels, :n_labels] = eye.float()
        out.weight[n_labels:2 * n_labels, :n_labels] = (-eye).float()
        signs = torch.tensor([1.0 if i % 2 == 0 else -1.0 for i in range(filler_dims)], dtype=torch.float64)
        out.bias.zero_()
        out.bias[2 * n_labels:] = (filler * signs).float()
        for norm in (layer.attention.output.LayerNorm, layer.output.LayerNorm):
            norm.weight.fill_(1.0)
            norm.bias.zero_()
        pooler = model.bert.pooler.dense
        pooler.weight.zero_()
        pooler.bias.zero_()
        # half the difference of the +-pair: the LayerNorm's mean (rounded at the filler's magnitude) cancels
        pooler.weight[:n_labels, :n_labels] = torch.eye(n_labels) * 0.5
        pooler.weight[:n_labels, n_labels:2 * n_labels] = torch.eye(n_labels) * -0.5
        model.classifier.weight.zero_()
        model.classifier.weight[:, :n_labels] = (torch.eye(n_labels, dtype=torch.float64) * ln_scale / scale_m).float()
        model.classifier.bias.zero_()
    return model


def encoder_layers(folder_config: dict[str, Any]) -> int | None:
    """The fine-tuned encoder's depth recorded in a saved ``config.json`` (None: an encoder-only folder)."""
    pooling = folder_config.get("interlens_pooling") or {}
    return pooling.get("encoder_layers")


# -- minilm-ft folders -------------------------------------------------------------------------------------
def save_minilm_pretrained(scorer: Any, directory: str | os.PathLike) -> dict[str, Path]:
    """Save every fitted view of a ``minilm-ft`` scorer, one standard folder per view; returns ``{view: folder}``.

    A view's folder: ``config.json`` + ``model.safetensors`` (``BertForSequenceClassification``, see the
    module docstring), the tokenizer, ``head.safetensors`` (the head as trained: ``weight``, ``bias``) and
    ``interlens.json`` (labels, the view's modalities and how they become segments A/B, ``max_length``,
    the scorer's parameters and fingerprint). The root ``interlens.json`` maps views to folders and
    records what :func:`load_minilm_pretrained` needs to rebuild the scorer."""
    from .saving import _fitted, _save_tensors, _slug, _write_meta

    root = Path(directory)
    folders = {}
    for key, model in _fitted(scorer, "models_").items():
        folder = root / _slug(key)
        if not hasattr(model.head, "weight"):  # per-modality pooling + fusion head: interlens format only
            folders[key] = _save_fused_view(scorer, key, model, folder)
            continue
        classifier = to_sequence_classification(model.encoder, model.head.weight, model.head.bias, scorer.labels_)
        classifier.save_pretrained(str(folder), safe_serialization=True)
        scorer.tokenizer_.save_pretrained(str(folder))
        _save_tensors({"weight": model.head.weight, "bias": model.head.bias}, folder / "head.safetensors")
        _write_meta(folder / "interlens.json", {
            "scorer": scorer.name, "format": FORMAT, "view": key, "modalities": key.split("+"),
            "labels": list(scorer.labels_), "label2id": {label: i for i, label in enumerate(scorer.labels_)},
            "pooling": "mean", "encoder_layers": classifier.config.num_hidden_layers - 1,
            "max_length": scorer.max_length, "segments": SEGMENTS, "params": scorer.get_params(),
            "fingerprint": scorer.fingerprint, "best_epoch": scorer.best_epoch_.get(key)})
        folders[key] = folder
    _write_meta(root / "interlens.json", {
        "scorer": scorer.name, "format": FORMAT, "views": {k: str(p.name) for k, p in folders.items()},
        "labels": list(scorer.labels_), "modalities": list(scorer.modalities_), "params": scorer.get_params(),
        "history": scorer.history_, "fingerprint": scorer.fingerprint})
    from .saving import seal

    seal(root)  # interlens.sha256: checked before loading (issue 30)
    return folders


#: ``format`` of a view folder holding a per-modality pooled model (``pooling`` segments / separate)
FUSED_FORMAT = "interlens-modality-pooled"
#: how such a view's modalities become its inputs, per pooling
FUSED_INPUTS = {
    "segments": "one pass over [CLS] A [SEP] B [SEP] as for pooling=joint (first modality = A, the others' tokens "
                "in order = B, most recent kept); each modality's vector = the mean of the last hidden states over "
                "its own tokens ([CLS] and the first [SEP] count to A, the last [SEP] to the last modality)",
    "separate": "[CLS] X [SEP] per modality through the same encoder, max_length each (the first modality cut at "
                "its end, the others keep their most recent tokens); each vector = the mean over its tokens"}


def _save_fused_view(scorer: Any, key: str, model: Any, folder: Path) -> Path:
    """A per-modality pooled view: the fine-tuned encoder (``AutoModel``), the tokenizer, ``fusion.safetensors``
    (the residual fusion head's state) and ``interlens.json``. No ``AutoModelForSequenceClassification``
    equivalent exists for it; :func:`load_minilm_pretrained` rebuilds it."""
    from .saving import _save_tensors, _write_meta

    model.encoder.save_pretrained(str(folder), safe_serialization=True)
    scorer.tokenizer_.save_pretrained(str(folder))
    _save_tensors(model.head.state_dict(), folder / "fusion.safetensors")
    _write_meta(folder / "interlens.json", {
        "scorer": scorer.name, "format": FUSED_FORMAT, "view": key, "modalities": key.split("+"),
        "labels": list(scorer.labels_), "label2id": {label: i for i, label in enumerate(scorer.labels_)},
        "pooling": model.pooling, "fusion": scorer.fusion, "fusion_hidden": scorer.fusion_hidden,
        "fusion_rank": scorer.fusion_rank, "max_length": scorer.max_length, "inputs": FUSED_INPUTS[model.pooling],
        "logits": "sum over modalities of linear_m(h_m) + fusion term (interlens.scoring.heads.ResidualFusion)",
        "params": scorer.get_params(), "fingerprint": scorer.fingerprint, "best_epoch": scorer.best_epoch_.get(key)})
    return folder


def _load_fused_view(scorer: Any, key: str, folder: Path, meta: dict[str, Any]) -> Any:
    """The model of a folder written by :func:`_save_fused_view`, safetensors only."""
    from safetensors.torch import load_file
    from transformers import AutoModel

    from .heads import ModalityPooledClassifier

    weights = folder / "fusion.safetensors"
    if not weights.is_file():
        raise DataError("saved minilm-ft fused view has no fusion.safetensors", file=str(folder))
    encoder = AutoModel.from_pretrained(str(folder), use_safetensors=True, local_files_only=True)
    with torch.random.fork_rng(devices=[]):
        model = ModalityPooledClassifier(encoder, len(scorer.labels_), scorer.dropout, len(key.split("+")),
                                         meta["fusion"], meta["pooling"], int(meta["fusion_hidden"]),
                                         int(meta["fusion_rank"]))
    try:
        model.head.load_state_dict(load_file(str(weights)))
    except RuntimeError as err:
        raise DataError(f"saved fusion head does not match its parameters: {err}", file=str(weights)) from None
    return model.eval()


#: how a view's modalities become the model input (also in each folder's ``interlens.json``)
SEGMENTS = ("first modality = segment A, the others joined by newlines = segment B: [CLS] A [SEP] B [SEP] "
            "(token_type_ids 0 / 1); within max_length A is cut at its end and B keeps its most recent tokens")


def _read_json(path: Path) -> dict[str, Any]:
    return read_json(path, missing="not a saved minilm-ft model: file missing")


def load_view(folder: str | os.PathLike) -> tuple[Any, torch.Tensor, torch.Tensor]:
    """``(encoder, head weight, head bias)`` of one saved view folder, safetensors only (never unpickled).

    This layout: the first ``encoder_layers`` layers of the classifier are the encoder; an encoder-only
    folder of earlier versions (``AutoModel`` + ``head.safetensors``) loads as it was saved."""
    from safetensors.torch import load_file
    from transformers import AutoModel, BertConfig, BertModel

    folder = Path(folder)
    config = _read_json(folder / "config.json")
    head_file = folder / "head.safetensors"
    if not head_file.is_file():
        raise DataError("not a saved minilm-ft view: head.safetensors missing", file=str(folder))
    head = load_file(str(head_file))
    layers = encoder_layers(config)
    if layers is None:  # an encoder-only folder (interlens before issue 28)
        encoder = AutoModel.from_pretrained(str(folder), use_safetensors=True, local_files_only=True)
    else:
        weights = folder / "model.safetensors"
        if not weights.is_file():
            raise DataError("saved minilm-ft view has no model.safetensors", file=str(folder))
        values = {k: v for k, v in config.items() if k not in ("architectures", "interlens_pooling")}
        encoder = BertModel(BertConfig(**{**values, "num_hidden_layers": layers}))
        state = {k.removeprefix("bert."): v for k, v in load_file(str(weights)).items() if k.startswith("bert.")}
        state = {k: v for k, v in state.items() if not k.startswith(f"encoder.layer.{layers}.")}
        result = encoder.load_state_dict(state, strict=False)
        if result.unexpected_keys or [k for k in result.missing_keys if not k.startswith("pooler.")]:
            raise DataError(f"saved weights do not match the encoder: {result}", file=str(weights))
    return encoder.eval(), head["weight"], head["bias"]


def load_minilm_pretrained(cls: type, directory: str | os.PathLike) -> Any:
    """A fitted ``minilm-ft`` scorer from a folder written by ``save_pretrained`` (this or an earlier
    version). Its ``fingerprint`` is the saved one where the folder records the fit history."""
    from transformers import AutoTokenizer

    from .heads import MeanPooledClassifier as _Model

    root = Path(directory)
    from .saving import check_saved

    check_saved(root)  # every file against interlens.sha256 before use (issue 30)
    meta = _read_json(root / "interlens.json")
    if meta.get("scorer") != "minilm-ft" or not meta.get("views"):
        raise DataError(f"not a saved minilm-ft model (scorer {meta.get('scorer')!r})",
                        file=str(root / "interlens.json"))
    views = meta["views"]
    first = _read_json(root / next(iter(views.values())) / "interlens.json")
    params = {k: v for k, v in (meta.get("params") or first.get("params") or {}).items() if k in cls.param_names()}
    scorer = cls(**params)
    scorer.labels_ = tuple(meta["labels"])
    scorer.tokenizer_ = AutoTokenizer.from_pretrained(str(root / next(iter(views.values()))), local_files_only=True)
    scorer.models_, scorer.train_log_, scorer.best_epoch_ = {}, {}, {}
    for key, name in views.items():
        view_meta = _read_json(root / name / "interlens.json")
        if tuple(view_meta.get("labels", ())) != scorer.labels_:
            raise DataError(f"view {key} has labels {view_meta.get('labels')}, the model {list(scorer.labels_)}",
                            file=str(root / name / "interlens.json"), field="labels")
        if view_meta.get("format") == FUSED_FORMAT:
            scorer.models_[key] = _load_fused_view(scorer, key, root / name, view_meta)
            scorer.train_log_[key] = []
            if view_meta.get("best_epoch") is not None:
                scorer.best_epoch_[key] = view_meta["best_epoch"]
            continue
        encoder, weight, bias = load_view(root / name)
        model = _Model(encoder, len(scorer.labels_), scorer.dropout)
        with torch.no_grad():
            model.head.weight.copy_(weight)
            model.head.bias.copy_(bias)
        scorer.models_[key] = model.eval()
        scorer.train_log_[key] = []
        if view_meta.get("best_epoch") is not None:
            scorer.best_epoch_[key] = view_meta["best_epoch"]
    widest = max(views, key=lambda k: len(k.split("+")))
    scorer.modalities_ = tuple(meta.get("modalities") or widest.split("+"))
    scorer.history_ = meta.get("history") or [("pretrained", meta.get("fingerprint"))]
    return scorer
