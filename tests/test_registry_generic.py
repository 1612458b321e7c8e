"""The one registry type (issue 29, item 5): every name -> object table of interlens is an
:class:`interlens.registry.Registry`, and they all behave alike."""

from __future__ import annotations

import pytest

from interlens.errors import RegistryError
from interlens.registry import Registry


def all_registries() -> dict[str, Registry]:
    from interlens.bench.registry import TASKS
    from interlens.data.adapters import REGISTRY as DATASETS
    from interlens.data.prediction_formats import FORMATS
    from interlens.experts.fusion import FUSION_STRATEGIES
    from interlens.prompts.render import TEMPLATES
    from interlens.scoring.base import SCORERS
    from interlens.scoring.hf.encoding import FAMILIES
    from interlens.scoring.hf.families import ENCODERS

    return {"scorer": SCORERS, "dataset": DATASETS, "task": TASKS, "fusion strategy": FUSION_STRATEGIES,
            "model type": FAMILIES, "vision family": ENCODERS, "prompt template": TEMPLATES,
            "prediction format": FORMATS}


def test_registry_registers_refuses_duplicates_and_names_the_closest() -> None:
    reg: Registry[int] = Registry("colour")
    assert reg.register("red")(1) == 1
    reg.add("green", 2)
    reg.add("green", 2)  # the same object again is harmless
    with pytest.raises(ValueError, match=r"^colour 'green' is already registered \(by int\)$"):
        reg.add("green", 3)
    assert reg.names() == ["red", "green"] and list(reg) == ["red", "green"] and len(reg) == 2
    assert reg.get("red") == 1 and reg["green"] == 2 and "red" in reg and "blue" not in reg
    assert reg.get("blue", None) is None and dict(reg.items()) == {"red": 1, "green": 2} == reg.as_dict()
    with pytest.raises(RegistryError) as err:
        reg.get("greeen")
    assert str(err.value) == "unknown colour 'greeen'. Did you mean 'green'? Known: green, red."
    with pytest.raises(KeyError):  # a Mapping: [] raises a KeyError (RegistryError is one)
        reg["blue"]


def test_registry_loads_once_on_first_read_normalizes_and_checks() -> None:
    calls: list[int] = []

    def check(name: str, value: int) -> None:
        if value < 0:
            raise ValueError(f"{name}: negative")

    reg: Registry[int] = Registry("size", load=lambda: calls.append(1) or reg.add("large", 3),
                                  normalize=str.lower, check=check)
    reg.add("small", 1)  # writing does not load
    assert calls == []
    assert reg.get(" ".strip() + "LARGE") == 3 and reg.names() == ["small", "large"] and "Small" in reg
    assert calls == [1]
    with pytest.raises(ValueError, match="tiny: negative"):
        reg.add("tiny", -1)
    with pytest.raises(RegistryError, match="unknown size 'Huge'"):  # the name as given
        reg.get("Huge")


@pytest.mark.parametrize("kind", ["scorer", "dataset", "task", "fusion strategy", "model type", "vision family",
                                  "prompt template", "prediction format"])
def test_every_registry_is_the_one_type(kind: str) -> None:
    reg = all_registries()[kind]
    assert isinstance(reg, Registry) and reg.kind == kind
    names = reg.names()
    assert names and len(names) == len(set(names)) == len(reg)
    for name in names:
        assert reg.get(name) is reg[name]
    with pytest.raises(RegistryError, match=f"^unknown {kind} 'no-such-name'"):
        reg.get("no-such-name")


def test_public_functions_read_the_registries() -> None:
    from interlens.bench.registry import TASKS, get_task, task_names
    from interlens.data.adapters import REGISTRY, get_card
    from interlens.experts.fusion import FUSION_STRATEGIES, get_fusion
    from interlens.scoring.base import SCORERS, registered_scorers
    from interlens.scoring.hf.families import ENCODERS, VLM_FAMILIES
    from interlens.scoring.registry import scorer_class, scorer_names

    assert scorer_names() == sorted(SCORERS) == list(registered_scorers())
    assert scorer_class("precomputed") is SCORERS["precomputed"] and SCORERS["precomputed"].name == "precomputed"
    assert get_card(" MUStARD ") is REGISTRY["mustard"]
    assert task_names() == TASKS.names() and get_task("MIntRec") is TASKS["mintrec"]
    assert get_fusion("baseline") is FUSION_STRATEGIES["baseline"]
    assert set(ENCODERS) == set(VLM_FAMILIES)
    from interlens.data import prediction_formats
    from interlens.prompts.render import TEMPLATES, list_templates, load_template
    from interlens.scoring import precomputed

    assert list_templates() == {t: sorted(v) for t, v in TEMPLATES.items()} and "mmla" in TEMPLATES
    assert load_template("mmla@1").id == "mmla"
    with pytest.raises(RegistryError, match=r"^unknown prompt template 'mmlb'\. Did you mean 'mmla'"):
        load_template("mmlb")
    for old in ("read_mmoe_unimodal", "read_expert_logits", "read_mintrec_removal", "read_prob_table",
                "read_predictions", "detect_format", "mintrec_label_order", "load_json_strict", "INDEX_FORMATS"):
        assert getattr(precomputed, old) is getattr(prediction_formats, old), old  # the old import path
    with pytest.raises(RegistryError, match=r"^unknown scorer 'minilm-fit'\. Did you mean 'minilm-ft'\?"):
        scorer_class("minilm-fit")
    with pytest.raises(ValueError, match="already registered"):
        SCORERS.add("precomputed", SCORERS["embedding"])
