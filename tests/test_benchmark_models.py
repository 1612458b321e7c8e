"""Analytic models inside benchmark scripts (no timings): the label-scoring FLOP ceiling."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flop_ceiling_hand_computed():
    bench = load_script("bench_label_scoring")
    shape = {"hidden_size": 2, "intermediate_size": 1, "num_hidden_layers": 1, "num_attention_heads": 1,
             "num_key_value_heads": 1, "vocab_size": 3}
    # body = 2 x (2*4 + 2*2*2 + 3*2*1) = 44 per token; head = 2 x 2 x 3 = 12 per row
    # naive = 2 x 10 x 44 + 2 x 1 x 44 + 2 x 2 x 12 = 1016; one-pass = (10 + 1) x 44 + 2 x 12 = 508
    got = bench.flop_ceiling(shape, k=2, prompt_tokens=10, label_tokens_mean=1, trie_nodes=1)
    assert got == pytest.approx({"naive_gflop": 1016e-9, "one_pass_gflop": 508e-9, "speedup_ceiling": 2.0})
    # a single-token label set needs no inner nodes: the ceiling is K (one body pass instead of K)
    assert bench.flop_ceiling(shape, k=30, prompt_tokens=100, label_tokens_mean=1, trie_nodes=0)["speedup_ceiling"] \
        == pytest.approx(30 * (100 * 44 + 44 + 2 * 12) / (100 * 44 + 12))


def test_label_words_split_makes_every_label_several_tokens_and_whole_keeps_words_whole():
    bench = load_script("bench_label_scoring")
    labels = bench.LABEL_SETS[30]
    split, whole = bench.build_tokenizer(2000, "split"), bench.build_tokenizer(2000, "whole")

    def tokens(tok, label):
        return len(tok(" " + label, add_special_tokens=False)["input_ids"])

    assert all(tokens(split, label) >= 2 for label in labels)
    # one-word labels are one token; a multi-word label one token per word
    assert [tokens(whole, label) for label in labels] == [len(label.split()) for label in labels]
    with pytest.raises(ValueError, match="label_words must be 'split' or 'whole'"):
        bench.build_tokenizer(2000, "halves")


def test_bench_mmla_cpu_member_views_and_scorer_params():
    bench = load_script("bench_mmla_cpu")
    views = bench.parse_member_views(["meld-emotion=text:text+context"], {"meld-emotion", "mintrec"})
    assert views == {"meld-emotion": ["text", "text+context"]}
    assert bench.scorer_for({"epochs": 3}, 1, None) == ("minilm-ft", {"epochs": 3})
    assert bench.scorer_for({"epochs": 3}, 3, ["text", "text+context"]) == (
        "ensemble", {"base": "minilm-ft", "members": 3, "base_params": {"epochs": 3},
                     "member_views": ["text", "text+context"]})
    with pytest.raises(SystemExit, match="--member-views takes TASK=VIEW:VIEW"):
        bench.parse_member_views(["mintrec2=text"], {"meld-emotion"})


def test_bench_mmla_cpu_aux_target_per_task():
    bench = load_script("bench_mmla_cpu")
    names = {"meld-emotion", "mintrec"}
    assert bench.parse_aux_target([], names) == {}
    assert bench.parse_aux_target(["meld-emotion=sentiment"], names) == {"meld-emotion": "sentiment"}
    for bad in ("meld-emotion", "mintrec2=x", "meld-emotion="):
        with pytest.raises(SystemExit, match="--aux-target takes TASK=FIELD"):
            bench.parse_aux_target([bad], names)


def test_bench_mmla_cpu_members_per_task():
    bench = load_script("bench_mmla_cpu")
    names = {"meld-emotion", "mintrec"}
    assert bench.parse_members([], names) == {"meld-emotion": 3, "mintrec": 3}
    assert bench.parse_members(["meld-emotion=5"], names) == {"meld-emotion": 5, "mintrec": 3}
    assert bench.parse_members(["1", "meld-emotion=5"], names) == {"meld-emotion": 5, "mintrec": 1}
    assert bench.parse_members(["meld-emotion=5", "2"], names) == {"meld-emotion": 2, "mintrec": 2}
    for bad in ("mintrec2=5", "meld-emotion=0", "five", "meld-emotion=-1"):
        with pytest.raises(SystemExit, match="--members takes N or TASK=N"):
            bench.parse_members([bad], names)
    # the same parser reads --turns-after, where 0 is allowed
    assert bench.parse_members(["meld-emotion=1"], names, default=0, flag="--turns-after", minimum=0) == {
        "meld-emotion": 1, "mintrec": 0}
    with pytest.raises(SystemExit, match=r"--turns-after takes N or TASK=N \(N >= 0"):
        bench.parse_members(["meld-emotion=x"], names, default=0, flag="--turns-after", minimum=0)
