"""MMoE experts pipeline: RQ4 cross-entropy, the tiny-subset fallback, validation-only selection,
multi-seed aggregation, the precomputed-logits path and capability refusal.

The pipeline-logic tests use a small deterministic scorer that implements the scorer contract
(``scoring.base.Scorer``) over hand-made features, so which data each step sees can be checked
exactly; real scorers run in tests/test_experts_scorers.py."""

from __future__ import annotations

import copy
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from interlens.data.schema import Dataset, Sample
from interlens.errors import DataError
from interlens.experts import (
    ExpertFallbackWarning,
    FusionInputs,
    InteractionRouter,
    ce_moe,
    check_experts_scorer,
    evaluate_experts,
    evaluate_inputs,
    expert_cross_entropy,
    group_categories,
    random_categories_like,
    run_experts,
    run_rq4,
    train_experts,
)
from interlens.scoring.base import Capability, CapabilityError, Scorer


# -- RQ4 ----------------------------------------------------------------------------------------------
def test_ce_moe_hand_made() -> None:
    # two experts, two classes; logits = log-probabilities so the cross-entropies are exact
    p_gold = np.array([[0.5, 0.25], [0.1, 0.8], [0.9, 0.6]])  # p(gold) per sample and expert
    y = np.array([0, 1, 0])
    logits = np.zeros((3, 2, 2))
    for i in range(3):
        for e in range(2):
            logits[i, e, y[i]] = math.log(p_gold[i, e])
            logits[i, e, 1 - y[i]] = math.log(1 - p_gold[i, e])
    np.testing.assert_allclose(expert_cross_entropy(logits, y), -np.log(p_gold), rtol=1e-12)
    want = -(math.log(0.5) + math.log(0.8) + math.log(0.9)) / 3  # MMoE Eq. (1): min over experts
    assert ce_moe(logits, y) == pytest.approx(want, rel=1e-12)
    assert ce_moe(logits[:, :1], y) == pytest.approx(-(math.log(0.5) + math.log(0.1) + math.log(0.9)) / 3)
    with pytest.raises(DataError):
        ce_moe(logits, np.array([0, 1, 2]))


def test_random_categories_keep_sizes() -> None:
    cats = np.array(["R"] * 10 + ["U"] * 5 + ["S"] * 3, dtype=object)
    shuffled = random_categories_like(cats, seed=1)
    assert sorted(shuffled.tolist()) == sorted(cats.tolist())
    assert shuffled.tolist() != cats.tolist()
    np.testing.assert_array_equal(shuffled, random_categories_like(cats, seed=1))


def test_group_categories() -> None:
    got = group_categories(["R", "U1", "U2", "S", "AS", "U", "missing", "filtered"])
    assert got.tolist() == ["R", "U", "U", "S", "S", "U", None, None]
    assert group_categories(["U1", "U2"], "split_u").tolist() == ["U1", "U2"]
    with pytest.raises(DataError, match="no expert"):
        group_categories(["U"], "split_u")


# -- a tiny deterministic stub scorer ---------------------------------------------------------------------
LABELS = ("neg", "pos")


def _dataset(n_per_type: dict[str, int], seed: int = 0) -> tuple[Dataset, dict[str, str]]:
    rng = np.random.default_rng(seed)
    samples, cats, splits = [], {}, {"train": [], "dev": [], "test": []}
    i = 0
    for split in ("train", "dev", "test"):
        for cat, n in n_per_type.items():
            for _ in range(n):
                sid = f"{split}-{i}"
                i += 1
                y = int(rng.integers(2))
                code = {"R": 0, "U1": 1, "U2": 2, "S": 3}[cat]
                samples.append(Sample(sid, {"text": f"t{sid}", "image": f"i{sid}"}, LABELS[y],
                                      meta={"x": [code + rng.normal(0, 0.05), float(y)], "cat": cat}))
                cats[sid] = cat
                splits[split].append(sid)
    return Dataset("stub", LABELS, samples, ("text", "image"), splits), cats


class StubScorer(Scorer):
    """fit/finetune/logits/features over ``meta["x"]``; records every dataset it trains or selects on
    (``log`` is shared by clones: it is not a hyper-parameter)."""

    name = "stub"
    capabilities = frozenset({Capability.TRAINABLE, Capability.FINETUNE, Capability.FEATURES})
    _unhashed_params = ("log",)

    def __init__(self, seed: int = 0, log: list[tuple[str, list[str]]] | None = None) -> None:
        self.seed = seed
        self.log = log if log is not None else []

    def fit(self, dataset: Dataset, views=None, *, val: Dataset | None = None) -> StubScorer:
        self.log.append(("fit", dataset.ids))
        self.log.append(("fit-views", list(views or [])))
        if val is not None:
            self.log.append(("fit-val", val.ids))
        self.shift_ = np.zeros(2)
        self.views_ = list(views or [])
        self.history_ = [("fit", dataset.fingerprint())]
        return self

    def finetune(self, dataset: Dataset, view, *, epochs=None, lr=None, val=None) -> StubScorer:
        self.log.append(("finetune", dataset.ids))
        if val is not None:
            self.log.append(("finetune-val", val.ids))
        clone = copy.copy(self)
        clone.shift_ = self.shift_ + np.bincount(dataset.y, minlength=2) / len(dataset) + 0.01 * self.seed
        return clone

    def features(self, dataset: Dataset) -> np.ndarray:
        self.log.append(("features", dataset.ids))
        return np.array([s.meta["x"] for s in dataset.samples])

    def logits(self, dataset: Dataset, view) -> np.ndarray:
        x = np.array([s.meta["x"] for s in dataset.samples])
        return np.stack([1.0 - x[:, 1] + 0.2 * x[:, 0], x[:, 1]], axis=1) + self.shift_


class NoFinetuneScorer(StubScorer):
    """Trainable, with features, but no ``finetune`` capability."""

    name = "no-finetune"
    capabilities = frozenset({Capability.TRAINABLE, Capability.FEATURES})


def test_tiny_subset_falls_back_to_baseline_with_warning() -> None:
    data, cats = _dataset({"R": 12, "U1": 6, "U2": 6, "S": 3})
    log: list[tuple[str, list[str]]] = []
    with pytest.warns(ExpertFallbackWarning, match=r"expert S: only 3 training samples \(< min_subset=8\)"):
        system = train_experts(StubScorer(log=log), data, cats, cats, router=InteractionRouter(epochs=20))
    assert system.models["S"] is system.baseline
    assert "S" in system.fallbacks and "R" not in system.fallbacks
    assert system.models["U"] is not system.baseline  # U1 + U2 = 12 samples: trained
    assert system.subset_sizes == {"R": {"train": 12, "dev": 12}, "U": {"train": 12, "dev": 12},
                                   "S": {"train": 3, "dev": 3}}
    # selection data: never a test sample, anywhere in training (fit, finetune, validation, router)
    test_ids = set(data.splits["test"])
    for what, ids in log:
        assert not test_ids & set(ids), what
    finetune_vals = [ids for what, ids in log if what == "finetune-val"]
    assert all(set(ids) <= set(data.splits["dev"]) for ids in finetune_vals)
    report = evaluate_experts(system, data, categories=cats)
    assert report["fallbacks"]["S"].startswith("expert S")
    assert report["router_confusion"]["n"] == len(test_ids)


def test_small_dev_subset_warns_no_selection() -> None:
    data, cats = _dataset({"R": 10, "U1": 5, "U2": 5, "S": 8})
    dev_ids = data.splits["dev"]
    cats_dev = {i: ("R" if cats[i] == "S" else cats[i]) for i in dev_ids}  # no S samples in dev
    with pytest.warns(ExpertFallbackWarning, match="expert S: 0 dev samples"):
        system = train_experts(StubScorer(), data, cats, cats_dev, router=False)
    assert system.models["S"] is not system.baseline and system.router is None
    assert any("expert S" in note for note in system.notes)


def test_run_experts_multiseed_and_rq4() -> None:
    data, cats = _dataset({"R": 12, "U1": 6, "U2": 6, "S": 10})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback expected here
        result = run_experts(StubScorer(), data, cats, seeds=(0, 1, 2), router=InteractionRouter(epochs=30))
    assert [r["seed"] for r in result["seeds"]] == [0, 1, 2]
    summary = result["summary"]
    assert summary["n_seeds"] == 3 and summary["f1_average"] == "binary"
    names = [row["strategy"] for row in summary["rows"]]
    for needed in ("baseline", "router_soft", "router_top1", "oracle", "best_single", "prior_weighted",
                   "average_probs", "average_logits", "max_logits", "single:R", "single:U", "single:S"):
        assert needed in names
    row = summary["rows"][names.index("baseline")]
    assert row["f1_std"] >= 0 and 0 <= row["f1_mean"] <= 1
    rq2 = result["seeds"][0]["rq2"]
    assert {r["category"] for r in rq2} == {"R", "U1", "U2", "S"}
    assert all(r["own_expert"] == {"U1": "U", "U2": "U"}.get(r["category"], r["category"]) for r in rq2)
    rq4 = run_rq4(StubScorer(), data, cats, n_random=2)
    assert set(rq4) >= {"interaction", "random", "baseline", "random_draws", "relative_increase_random"}
    assert len(rq4["random_draws"]) == 2


def test_evaluate_inputs_precomputed_path() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(30, 4, 2))
    cats = rng.choice(["R", "U", "AS"], 30)
    inp = FusionInputs(logits=logits, models=("R", "U", "S", "baseline"), prior=np.array([1.0, 2.0, 1.0]))
    report = evaluate_inputs(inp, rng.integers(0, 2, 30), 2, categories=cats)
    names = [r["strategy"] for r in report["rows"]]
    assert "oracle" in names and "router_soft" not in names
    assert report["skipped"] == {"router_soft": "no router", "router_top1": "no router", "best_single": "no best"}
    assert set(report["per_interaction"]["oracle"]) == {"R", "U", "AS"}
    assert report["ce_moe"] <= min(report["ce_experts"].values())


def test_measured_categories_cross_fit() -> None:
    from interlens.experts.train import measured_categories

    data, _ = _dataset({"R": 6, "U1": 3, "U2": 3, "S": 4})
    log: list[tuple[str, list[str]]] = []
    template = StubScorer(log=log)
    cats = measured_categories(template, data, folds=2, train_filters=False)
    assert not template.is_fitted  # the template is cloned, never fitted itself
    assert set(cats) == set(data.ids)
    assert set(cats.values()) <= {"R", "U1", "U2", "S"}
    # the two unimodal views: the first two modalities the scorer reads, in dataset order
    assert [v for what, v in log if what == "fit-views"] == [["text", "image"]] * 3
    fits = [ids for what, ids in log if what == "fit"]
    train = set(data.splits["train"])
    assert len(fits) == 3 and sorted(len(f) for f in fits) == [8, 8, 16]  # two folds, then all of train
    assert set(fits[0]) | set(fits[1]) == train and not set(fits[0]) & set(fits[1])
    assert not any(set(f) & set(data.splits["test"]) for f in fits)


def test_measured_categories_filter_on_train_only() -> None:
    from interlens.experts.train import measured_categories

    data, _ = _dataset({"R": 6, "U1": 3, "U2": 3, "S": 4})
    report: dict = {}
    cats = measured_categories(StubScorer(), data, folds=2, delta=0.99, report=report)
    # delta = 0.99 filters every training sample; dev/test are never filtered (MMoE App. F.3)
    assert {cats[i] for i in data.splits["train"]} == {"filtered"}
    assert "filtered" not in {cats[i] for i in data.splits["test"]}
    assert report["train"]["delta"] == 0.99 and report["train"]["steps"]["filter"] is True
    assert report["test"]["delta"] is None and report["test"]["steps"]["filter"] is False
    with pytest.raises(DataError, match="exactly two modalities"):
        measured_categories(StubScorer(), data, modalities=["text"])


def test_view_the_scorer_cannot_honour_is_refused() -> None:
    data, cats = _dataset({"R": 8, "U1": 4, "U2": 4, "S": 8})
    log: list = []
    with pytest.raises(DataError, match="no modality 'audio'|audio"):
        train_experts(StubScorer(log=log), data, cats, cats, view="audio", router=False)
    assert log == []


def test_scorer_lacking_finetune_is_refused_before_any_fit() -> None:
    from interlens.experts.pipeline import train_experts_study

    data, cats = _dataset({"R": 8, "U1": 4, "U2": 4, "S": 8})
    log: list = []
    scorer = NoFinetuneScorer(log=log)
    for call in (lambda: train_experts(scorer, data, cats, cats),
                 lambda: run_experts(scorer, data, cats, seeds=(0,)),
                 lambda: run_rq4(scorer, data, cats),
                 lambda: train_experts_study(data, scorer, categories="measured")):
        with pytest.raises(CapabilityError) as err:
            call()
        msg = str(err.value)
        assert "\n" not in msg
        assert msg.startswith("scorer 'no-finetune' lacks capability 'finetune' needed for MMoE experts; "
                              "scorers that have it: ")
        assert "embedding" in msg and "minilm-ft" in msg
    assert log == []  # nothing was fitted


def test_precomputed_scorer_is_refused(tmp_path) -> None:
    from interlens.experts.pipeline import train_experts_study
    from interlens.scoring.registry import make_scorer, scorers_with

    data, _ = _dataset({"R": 8, "U1": 4, "U2": 4, "S": 8})
    scorer = make_scorer("precomputed", files={"text": str(tmp_path / "never-read.jsonl")})
    with pytest.raises(CapabilityError) as err:
        train_experts_study(data, scorer)
    have = scorers_with(Capability.FINETUNE)
    assert "precomputed" not in have and "embedding" in have
    assert str(err.value) == ("scorer 'precomputed' lacks capability 'finetune' needed for MMoE experts; "
                              f"scorers that have it: {', '.join(have)}")


def test_router_features_replace_the_features_capability() -> None:
    class NoFeatures(StubScorer):
        name = "no-features"
        capabilities = frozenset({Capability.TRAINABLE, Capability.FINETUNE})

    with pytest.raises(CapabilityError, match="lacks capability 'features' needed for the MMoE experts router"):
        check_experts_scorer(NoFeatures())
    check_experts_scorer(NoFeatures(), router=False)
    data, cats = _dataset({"R": 8, "U1": 4, "U2": 4, "S": 8})
    feats = lambda d: np.array([s.meta["x"] for s in d.samples])  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExpertFallbackWarning)
        system = train_experts(NoFeatures(), data, cats, cats, router=InteractionRouter(epochs=10),
                               router_features=feats)
    assert system.router is not None and system.view == "text+image"


def test_seeds_are_scorer_parameters() -> None:
    from interlens.experts.train import reseeded

    base = StubScorer(seed=7, log=[])
    assert reseeded(base, 3).seed == 3 and base.seed == 7
    assert reseeded(base, 3).log is base.log  # unhashed in-memory parameter passed through

    class Unseeded(StubScorer):
        def __init__(self, log=None) -> None:
            super().__init__(0, log)

    assert isinstance(reseeded(Unseeded(), 3), Unseeded)


def test_study_needs_train_dev_test(tmp_path) -> None:
    from interlens.experts.pipeline import train_experts_study

    data, _ = _dataset({"R": 8, "U1": 4, "U2": 4, "S": 8})
    data.splits.pop("dev")
    with pytest.raises(DataError, match=r"MMoE experts need train, dev and test \(missing: dev\)"):
        train_experts_study(data, StubScorer())


def test_study_results_have_provenance(tmp_path) -> None:
    import json

    from interlens.experts.pipeline import train_experts_study, write_experts_results

    data, _ = _dataset({"R": 12, "U1": 6, "U2": 6, "S": 10})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExpertFallbackWarning)
        results = train_experts_study(data, StubScorer(seed=5), seeds=(0, 1), delta=0.05, rq4=True, n_random=1)
    assert results["dataset"]["name"] == "stub" and results["dataset"]["splits"] == {"train": 34, "dev": 34,
                                                                                      "test": 34}
    assert results["scorer"] == {"name": "stub", "params": {"seed": 5}}
    s = results["settings"]
    assert (s["categories"], s["train_filters"], s["delta"], s["seeds"]) == ("measured", True, 0.05, [0, 1])
    assert s["modalities"] == ["text", "image"] and s["view"] == "text+image"
    assert results["categorisation"]["train"]["delta"] == 0.05
    assert sum(results["category_counts"]["train"].values()) == 34
    assert "rq4" in results and len(results["rq4"]["random_draws"]) == 1
    path = write_experts_results(results, tmp_path)
    saved = json.loads(path.read_text())
    assert saved["settings"] == s and saved["plots"] and all(Path(p).exists() for p in saved["plots"])
