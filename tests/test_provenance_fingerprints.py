"""The scorer a results.json names is one that code produces (issue 29, item 2): the ``provenance.scorer``
fingerprint equals ``make_scorer(name, **params).fingerprint`` of the scorer rebuilt from the recorded name and
parameters (after the JSON round trip of results.json), for every registered scorer (timm habit: the test
enumerates the registry; tests/scorer_zoo.py has a tiny configuration of each)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from interlens.provenance import ScorerRef, collect, scorer_ref
from interlens.scoring.registry import make_scorer, registered_scorers
from tests.scorer_zoo import ZOO, conformance_dataset, make, write_dataset_file


def _recorded(ref: ScorerRef) -> ScorerRef:
    """The ScorerRef as a results.json holds it and a reader gets it back."""
    return ScorerRef.model_validate(json.loads(json.dumps(ref.model_dump(mode="json"))))


@pytest.mark.parametrize("name", sorted(registered_scorers()))
def test_provenance_fingerprint_is_the_rebuilt_scorers_fingerprint(name: str) -> None:
    assert name in ZOO, f"registered scorer {name!r} has no tiny configuration in tests/scorer_zoo.py"
    scorer = make(name)
    recorded = _recorded(scorer_ref(scorer))
    rebuilt = make_scorer(recorded.name, **recorded.params)
    assert recorded.name == name
    assert recorded.fingerprint == scorer.fingerprint == rebuilt.fingerprint
    assert set(recorded.params) == set(scorer.get_params()) - set(scorer._unhashed_params)


@pytest.mark.parametrize("name", ["embedding", "ensemble", "precomputed"])
def test_a_fitted_scorer_records_the_fingerprint_of_its_configuration(name: str) -> None:
    data = conformance_dataset()
    scorer = make(name)
    before = scorer.fingerprint
    scorer.fit(data.split("train"), ["utterance"], val=data.split("dev"))
    assert scorer.is_fitted
    recorded = _recorded(scorer_ref(scorer))
    assert recorded.fingerprint == before == make_scorer(name, **recorded.params).fingerprint
    assert scorer.fingerprint != before  # the fitted one (precomputed learns nothing, but records its fit)


def test_collect_takes_a_scorer_or_its_ref() -> None:
    scorer = make("minilm-ft")
    ref = scorer_ref(scorer)
    assert collect({}, scorer=scorer).scorer == ref
    assert collect({}, scorer=ref).scorer == ref
    assert collect({"scorer": {"name": "minilm-ft", "params": {"epochs": 1}}}).scorer.fingerprint is None


def test_cli_results_name_the_scorer_they_ran(tmp_path) -> None:
    """``interlens predict`` with an ensemble (whose fingerprint hashes its template's parameters, not its own
    ``get_params``): the results.json provenance rebuilds exactly that scorer."""
    from interlens.cli import app

    spec = write_dataset_file(tmp_path / "data")
    args = ["predict", "--dataset", str(spec), "--view", "utterance", "--scorer", "ensemble", "-s", "base=embedding",
            "-s", "members=2", "-s", 'base_params={"epochs": 3, "hidden": 8, "rank": 2}', "-s", "seed=3",
            "--no-cache", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    provenance = json.loads((tmp_path / "out" / "results.json").read_text())["provenance"]
    recorded = ScorerRef.model_validate(provenance["scorer"])
    assert recorded.params["base_params"] == {"epochs": 3, "hidden": 8, "rank": 2} and recorded.params["seed"] == 3
    assert recorded.fingerprint == make_scorer("ensemble", **recorded.params).fingerprint
    assert recorded.fingerprint == make_scorer("ensemble", base="embedding", members=2, seed=3,
                                               base_params={"epochs": 3, "hidden": 8, "rank": 2}).fingerprint
