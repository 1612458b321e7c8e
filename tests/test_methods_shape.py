"""Issue 29 items 1-2: one KEY=VALUE parser (``methods/config.py``), frozen typed method configs with
``from_overrides``, and one results envelope (``methods/result.py``) written by the library."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

import pytest
from method_shape import assert_api_matches_cli
from pydantic import ValidationError

from interlens.errors import DataError
from interlens.methods.config import MethodConfig, parse_overrides, split_pair
from interlens.methods.result import Result
from interlens.provenance import validate_results
from interlens.scoring.base import Capability

SRC = Path(__file__).resolve().parents[1] / "src" / "interlens"
PARSER_HOME = SRC / "methods" / "config.py"
#: the ways a KEY=VALUE item gets split by hand: partition("=") / rpartition("=") / split("=", 1) / split("=")
SPLIT_ON_EQUALS = re.compile(r"""\.(?:r?partition|r?split)\(\s*(['"])=\1""")


def key_value_parsers(root: Path) -> list[str]:
    """``file:line`` of every place under ``root`` that splits a string on ``=``."""
    return [f"{path.relative_to(root)}:{n}" for path in sorted(root.rglob("*.py"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if SPLIT_ON_EQUALS.search(line)]


def test_one_key_value_parser_in_the_source_tree() -> None:
    assert key_value_parsers(SRC) == [f"{PARSER_HOME.relative_to(SRC)}:{_line_of(PARSER_HOME)}"]


def _line_of(path: Path) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if SPLIT_ON_EQUALS.search(line))


def test_the_parser_check_sees_each_hand_written_split(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('k, _, v = s.partition("=")\nx = s.rpartition(\'=\')\nok = s.partition(":")\n')
    (tmp_path / "b.py").write_text('k, v = item.split("=", 1)\nparts = item.split(",")\n')
    assert key_value_parsers(tmp_path) == ["a.py:1", "a.py:2", "b.py:1"]


def test_split_pair() -> None:
    assert split_pair(" text = utterance ") == ("text", "utterance")
    assert split_pair("expr=a=b") == ("expr", "a=b")
    assert split_pair("a,b", key_optional=True) == ("", "a,b")
    assert split_pair("t=a,b", key_optional=True) == ("t", "a,b")
    assert split_pair("k=") == ("k", "")
    with pytest.raises(DataError, match=r"field 'modality': expected KEY=VALUE, got 'text'"):
        split_pair("text", field="modality")
    with pytest.raises(DataError, match="expected KEY=VALUE, got '=3'"):
        split_pair("=3")
    with pytest.raises(DataError, match="expected KEY=VALUE, got 'k='"):
        split_pair("k=", empty_value=False)


def test_parse_overrides() -> None:
    assert parse_overrides(["fold=2", "context=true", "task=sentiment", "context-turns=null", "ws=[1, 2]",
                            "fold=3"]) == {"fold": 3, "context": True, "task": "sentiment", "context_turns": None,
                                           "ws": [1, 2]}
    assert parse_overrides(["a-b=1", "c=true"], typed=False) == {"a-b": "1", "c": "true"}
    assert parse_overrides(None) == {}
    with pytest.raises(DataError, match=r"field 'expert': expected KEY=VALUE, got 'text='"):
        parse_overrides(["text="], field="expert", empty_value=False)


class _Toy(MethodConfig):
    needs = frozenset({Capability.FEATURES})

    epochs: int = 3
    fusion: Literal["early", "late"] = "late"
    delta: float | None = None


def test_method_config_from_overrides() -> None:
    config = _Toy.from_overrides(["epochs=5", "delta=0.1"], fusion="early")
    assert (config.epochs, config.fusion, config.delta) == (5, "early", 0.1)
    assert _Toy.from_overrides(["fusion=late"], fusion="early").fusion == "late"  # an override wins over base
    assert config.settings() == {"epochs": 5, "fusion": "early", "delta": 0.1}
    assert _Toy.needs == frozenset({Capability.FEATURES}) and MethodConfig.needs == frozenset()
    with pytest.raises(ValidationError):
        config.epochs = 7  # type: ignore[misc]  # frozen


def test_method_config_refuses_in_one_line() -> None:
    with pytest.raises(DataError, match=r"^field 'epoch': unknown setting 'epoch' of _Toy\. Did you mean 'epochs'\? "
                                        r"Known: delta, epochs, fusion$"):
        _Toy.from_overrides(["epoch=2"])
    with pytest.raises(DataError, match=r"^field 'epochs': setting 'epochs' of _Toy: .*integer.* \(got 'many'\)$"):
        _Toy.from_overrides(["epochs=many"])
    with pytest.raises(DataError, match=r"field 'fusion': setting 'fusion' of _Toy: Input should be 'early' or "
                                        r"'late' \(got 'mid'\)"):
        _Toy.from_overrides(["fusion=mid"])
    with pytest.raises(DataError, match="expected KEY=VALUE, got 'epochs'"):
        _Toy.from_overrides(["epochs"])


def test_hf_modality_without_equals_is_refused(tmp_path: Path) -> None:
    from interlens.cli.hf import _load_data

    table = tmp_path / "t.csv"
    table.write_text("id,label,text\n1,a,hi\n2,b,yo\n")
    with pytest.raises(DataError, match=r"field 'modality': expected KEY=VALUE, got 'text'"):
        _load_data(None, table, None, {}, "id", "label", ["text"], None, None)
    data = _load_data(None, table, None, {}, "id", "label", ["words=text"], None, None)
    assert data.modalities == ("words",) and data.samples[0].inputs == {"words": "hi"}


def test_result_saved_from_python_carries_provenance(tmp_path: Path) -> None:
    from scorer_zoo import conformance_dataset

    from interlens.scoring.registry import make_scorer

    data = conformance_dataset(8, audio=False)
    scorer = make_scorer("embedding", epochs=1, hidden=4, rank=2, seed=3)
    result = Result.create("interactions score", {"score": 1.5, "n": 8}, config=_Toy(epochs=2), dataset=data,
                           scorer=scorer, seeds=[3], predictions=[{"id": "zoo-0", "gold": 0, "pred": 1, "seed": 3,
                                                                  "model": "text", "split": "test"}])
    path = result.save(tmp_path)
    saved = json.loads(path.read_text())
    envelope = validate_results(saved)
    assert (saved["score"], saved["n"], saved["kind"]) == (1.5, 8, "interlens.interactions.score")
    prov = envelope.provenance
    assert prov.argv == [] and prov.command == "interactions score" and prov.seeds == [3]
    assert prov.settings == {"epochs": 2, "fusion": "late", "delta": None}
    assert [(d.name, d.fingerprint, d.n) for d in prov.datasets] == [("zoo", data.fingerprint(), 8)]
    assert prov.scorer is not None and prov.scorer.fingerprint == scorer.fingerprint
    assert make_scorer(prov.scorer.name, **prov.scorer.params).fingerprint == scorer.fingerprint
    assert saved["stored_predictions"]["n_rows"] == 1 and (tmp_path / "predictions.jsonl.gz").is_file()
    assert (tmp_path / "report.html").is_file() and result.to_dict()["provenance"] == saved["provenance"]


def test_result_argv_only_when_passed(tmp_path: Path) -> None:
    argv = ["interlens", "interactions", "score", "--dataset", "x"]
    result = Result.create("interactions score", {"n": 1}, argv=argv, command_line="interlens interactions score")
    assert result.provenance.argv == argv and result.provenance.command == "interlens interactions score"
    assert Result.create("interactions score", {"n": 1}).provenance.argv == []


def test_result_writers_add_to_the_payload(tmp_path: Path) -> None:
    def plots(out: Path, payload: dict) -> dict:
        (out / "bar.png").write_bytes(b"png")
        return {"plots": [str(out / "bar.png")], "seen_n": payload["n"]}

    path = Result.create("experts train", {"n": 4}, writers=[plots]).save(tmp_path, report=False)
    saved = json.loads(path.read_text())
    assert saved["plots"] == [str(tmp_path / "bar.png")] and saved["seen_n"] == 4
    assert saved["kind"] == "interlens.experts.train" and not (tmp_path / "report.html").exists()


def test_matrix_needs_are_read_from_the_method_configs() -> None:
    from interlens.methods.experts import ExpertsConfig
    from interlens.methods.matrix import METHOD_NEEDS
    from interlens.methods.measure import CategorizeConfig, ScoreConfig
    from interlens.methods.pid import PIDConfig

    assert ExpertsConfig.needs == {Capability.TRAINABLE, Capability.FINETUNE, Capability.FEATURES}
    assert METHOD_NEEDS["experts train (MMoE)"] == (ExpertsConfig.needs, "interlens.methods.experts.run")
    assert METHOD_NEEDS["interactions score / categorize"][0] == ScoreConfig.needs == CategorizeConfig.needs == set()
    assert PIDConfig(source="features").required() == {Capability.FEATURES}
    assert METHOD_NEEDS["interactions pid (features)"][0] == {Capability.FEATURES}
    assert METHOD_NEEDS["interactions pid (predictions)"][0] == frozenset()


def test_method_configs_are_frozen_and_typed() -> None:
    from interlens.methods.experts import ExpertsConfig
    from interlens.methods.measure import GroupConfig, ScoreConfig

    assert ScoreConfig().reference == "multimodal" and ScoreConfig().S == 100
    assert ExpertsConfig.from_overrides(["seeds=[4, 5]", "router=logreg"]).seeds == (4, 5)
    with pytest.raises(DataError, match=r"field 'S': setting 'S' of ScoreConfig: .*greater than or equal to 1"):
        ScoreConfig.from_overrides(["S=0"])
    with pytest.raises(DataError, match=r"field 'results': setting 'results' of GroupConfig: Field required"):
        GroupConfig.from_overrides([])


@pytest.mark.slow
def test_bench_run_in_the_method_shape(tmp_path: Path) -> None:
    """The one end-to-end check of methods.bench.run (a tiny embedding scorer, sft, 12 samples, one seed)."""
    from scorer_zoo import make, write_dataset_file

    from interlens.bench.registry import task_from_file
    from interlens.methods.bench import BenchConfig, run
    from interlens.scoring.registry import make_scorer

    scorer = make("embedding")
    task = task_from_file(write_dataset_file(tmp_path / "task"))
    config = BenchConfig.from_overrides(["method=sft", "n_boot=20", "limit=12"])
    assert config.required() == {Capability.TRAINABLE}
    assert BenchConfig(method="zero-shot").required() == {Capability.ZERO_SHOT}
    result = run(config, [task], scorer, workdir=tmp_path / "work")
    saved = json.loads(result.save(tmp_path / "out").read_text())
    envelope = validate_results(saved)
    assert saved["kind"] == "interlens.bench.run" and saved["method"] == "sft"
    assert envelope.provenance.scorer.name == "embedding"
    assert envelope.provenance.scorer.fingerprint == scorer.fingerprint
    assert envelope.provenance.limits == {"limit": 12} and envelope.provenance.seeds == [0]
    # the CLI goes through the same run: the same results.json keys (it adds only its command line and argv)
    from typer.testing import CliRunner

    from interlens.cli import app

    options = [f"-s{k}={scorer.get_params()[k]}" for k in ("epochs", "hidden", "rank")]
    cli = CliRunner().invoke(app, ["bench", "run", "--tasks", str(task.file), "--scorer", "embedding", *options,
                                   "--method", "sft", "--seeds", "1", "--n-boot", "20", "--limit", "12",
                                   "--no-save-models", "--out", str(tmp_path / "cli")])
    assert cli.exit_code == 0, cli.output
    by_cli = json.loads((tmp_path / "cli" / "results.json").read_text())
    assert_api_matches_cli(saved, by_cli, command="bench run")
    rebuilt = make_scorer("embedding", **by_cli["provenance"]["scorer"]["params"])
    assert by_cli["provenance"]["scorer"]["fingerprint"] == rebuilt.fingerprint


def test_debias_and_mint_configs_declare_what_their_pipelines_check() -> None:
    from interlens.methods.debias import DebiasConfig
    from interlens.methods.mint import MintConfig

    assert DebiasConfig(methods=("mid",)).required() == {Capability.TRAINABLE}
    assert DebiasConfig(methods=("mmejd",)).required() == {Capability.TRAINABLE, Capability.FINETUNE,
                                                           Capability.FEATURES}
    assert DebiasConfig.from_overrides(['experiment={"n_trials": 3}']).experiment == {"n_trials": 3}
    assert MintConfig.needs == {Capability.TRAINABLE} and MintConfig().seeds == (0,)
    with pytest.raises(DataError, match=r"setting 'methods.0' of DebiasConfig: Input should be 'mid', 'mctd' or "
                                        r"'mmejd' \(got 'mrid'\)"):
        DebiasConfig.from_overrides(['methods=["mrid"]'])
