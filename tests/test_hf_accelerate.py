"""The LoRA loop through accelerate.Accelerator (issue 14) learns the same adapter as the plain loop on
one CPU: same losses, same validation scores, same adapter weights (float tolerance), with gradient
accumulation and model selection on dev."""

from __future__ import annotations

import pytest
import torch
from hf_tiny import single_thread, tiny_qwen2, toy_dataset

from interlens.scoring.hf import HFLMScorer, LoraSpec, TrainConfig, train_lora

LABELS = ("sarcastic", "sincere", "ask for help")


def _train(use_accelerate: bool, config: TrainConfig):
    from peft.utils import get_peft_model_state_dict

    data = toy_dataset(18, LABELS)
    model, tok = tiny_qwen2(seed=0)
    scorer = HFLMScorer(model=model, tokenizer=tok).load()
    peft_model, result = train_lora(scorer.model_, scorer.builder_, data.split("train"), data.split("dev"),
                                    adapter="sarcasm", config=config, use_accelerate=use_accelerate)
    state = get_peft_model_state_dict(peft_model, adapter_name="sarcasm", save_embedding_layers=False)
    return {k: v.detach().clone() for k, v in state.items()}, result


@pytest.mark.parametrize("grad_accum", [1, 2])
def test_accelerate_path_gives_the_plain_loop_adapter(grad_accum):
    config = TrainConfig(epochs=2, lr=2e-2, batch_size=3, grad_accum=grad_accum, warmup_ratio=0.0,
                         eval_every=1, select_metric="acc", lora=LoraSpec(r=4, alpha=8))
    with single_thread():
        plain, plain_result = _train(False, config)
        accel, accel_result = _train(True, config)
    assert len(plain_result.losses) == len(accel_result.losses) == (4 if grad_accum == 1 else 2)
    assert accel_result.losses == pytest.approx(plain_result.losses, rel=1e-6, abs=1e-7)
    assert [e["score"] for e in accel_result.evals] == [e["score"] for e in plain_result.evals]
    assert accel_result.best_step == plain_result.best_step
    assert sorted(accel) == sorted(plain) and any("lora_B" in k for k in plain)
    init_b = torch.zeros_like(next(v for k, v in plain.items() if "lora_B" in k))
    assert not torch.equal(next(v for k, v in plain.items() if "lora_B" in k), init_b)  # training moved B
    for key in plain:
        torch.testing.assert_close(accel[key], plain[key], rtol=1e-5, atol=1e-6)
