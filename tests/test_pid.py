"""PID (Liang et al. NeurIPS 2023, CVX estimator with BROJA definitions): exact toy cases, identities,
planted synthetic types, continuous inputs, the CLI and bad input; the certified dual interior-point solver
against the Clarabel reference path (issue 31: agreement to 1e-6 bits, the gap certificate, exact feasibility,
warm starts)."""

import itertools
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from interlens.cli import app
from interlens.data.synthetic import make_synthetic
from interlens.errors import DataError
from interlens.interactions import (
    discretize,
    joint_distribution,
    pid,
    pid_bootstrap,
    pid_from_distribution,
)
from interlens.interactions.pid import (
    TERMS,
    SolverError,
    WarmStart,
    mutual_information,
    objective_nats,
    round_to_marginals,
    solve_q,
)
from interlens.methods.pid import measure_pid
from interlens.scoring.embedding import EmbeddingScorer

TOL = 1e-3
X1 = np.array([0, 0, 1, 1])
X2 = np.array([0, 1, 0, 1])


def _close(result, **expected):
    for term in TERMS:
        assert result[term] == pytest.approx(expected.get(term, 0.0), abs=TOL), (term, result.terms)


def test_xor_is_one_bit_of_synergy():
    result = pid(X1, X2, X1 ^ X2)
    _close(result, S=1.0)
    assert result.mi == pytest.approx(1.0) and result.dominant == "S" and result.solver["status"] == "Solved"


def test_copy_is_one_bit_of_redundancy():
    _close(pid(X1, X1, X1), R=1.0)
    _close(pid(["a", "b", "a", "b"], ["u", "v", "u", "v"], [1, 2, 1, 2]), R=1.0)  # any labels, bijective copies


def test_y_equal_x1_with_independent_x2_is_unique_to_x1_and_symmetric():
    _close(pid(X1, X2, X1), U1=1.0)
    _close(pid(X1, X2, X2), U2=1.0)


def test_and_gate_matches_the_known_broja_values():
    # Bertschinger et al. 2014 / Griffith & Koch: AND has R = 0.311, S = 0.5, U = 0
    h_y = -(0.25 * np.log2(0.25) + 0.75 * np.log2(0.75))
    _close(pid(X1, X2, X1 & X2), R=h_y - 0.5, S=0.5)


def _bits(n):
    """All 2**n combinations of n independent uniform bits, one row per bit."""
    return np.array(list(itertools.product([0, 1], repeat=n))).T


def test_mixtures_give_the_expected_sums():
    c, u, s1, s2 = _bits(4)  # copy bit, bit only x1 sees, xor bits
    # y = (x1 xor x2, shared copy bit) -> R = 1, S = 1
    _close(pid(s1 * 2 + c, s2 * 2 + c, (s1 ^ s2) * 2 + c), R=1.0, S=1.0)
    # y = (x1's bit, x2's bit) -> U1 = U2 = 1
    _close(pid(u, s2, u * 2 + s2), U1=1.0, U2=1.0)
    # y = (copy bit, x1-only bit, xor bit) -> R = U1 = S = 1, total 3 bits
    result = pid(c * 4 + u * 2 + s1, c * 2 + s2, c * 4 + u * 2 + (s1 ^ s2))
    _close(result, R=1.0, U1=1.0, S=1.0)
    assert result.mi == pytest.approx(3.0)


def test_terms_sum_to_the_mutual_information_and_are_non_negative_on_random_tables():
    rng = np.random.default_rng(1)
    for shape in [(2, 2, 2), (3, 4, 2), (5, 3, 4), (6, 6, 3)]:
        for alpha in (0.3, 1.0):
            p = rng.dirichlet(np.full(int(np.prod(shape)), alpha)).reshape(shape)
            result = pid_from_distribution(p)
            assert sum(result.terms.values()) == pytest.approx(result.mi, abs=1e-9)
            assert min(result.terms.values()) >= -TOL, result.terms
            assert result.mi == pytest.approx(mutual_information(p.reshape(-1, shape[2])))
            assert result.mi_x1 == pytest.approx(result.R + result.U1, abs=1e-9)
            assert result.mi_x2 == pytest.approx(result.R + result.U2, abs=1e-9)


def test_the_optimum_keeps_the_marginals_and_beats_other_feasible_points():
    rng = np.random.default_rng(2)
    p = rng.dirichlet(np.ones(3 * 3 * 2)).reshape(3, 3, 2)
    q, info = solve_q(p)
    assert np.allclose(q.sum(1), p.sum(1), atol=1e-7) and np.allclose(q.sum(0), p.sum(0), atol=1e-7)
    iq = mutual_information(q.reshape(-1, 2))
    # p itself, and p moved along a direction that keeps both marginals, are feasible and no better
    direction = np.zeros_like(p)
    direction[0, 0, 0] = direction[1, 1, 0] = 1.0
    direction[0, 1, 0] = direction[1, 0, 0] = -1.0
    step = 0.9 * min(p[0, 1, 0], p[1, 0, 0])
    for other in (p, p + step * direction, p - 0.9 * min(p[0, 0, 0], p[1, 1, 0]) * direction):
        assert iq <= mutual_information(other.reshape(-1, 2)) + 1e-8
    assert info["cells"] == 18 and info["solver"] == "dual-ipm"
    assert solve_q(p, solver="clarabel")[1]["solver"] == "clarabel"


def test_counts_and_probabilities_give_the_same_result_and_zeros_are_handled():
    counts = np.zeros((3, 3, 3))
    counts[0, 0, 0], counts[1, 1, 1], counts[2, 2, 2] = 5, 3, 2  # sparse support: pure copy of a 3-letter y
    result = pid_from_distribution(counts)
    assert pytest.approx(result.h_y, abs=TOL) == result.R and result.support == 3
    assert pid_from_distribution(counts / 10).terms == pytest.approx(result.terms)


def test_planted_types_on_the_synthetic_data_are_the_dominant_term():
    """Pure R / U1 / U2 / S settings of make_synthetic; x_i = the content each modality carries (meta)."""
    for kind in TERMS:
        data = make_synthetic(n=600, proportions={kind: 1.0}, seed=3)
        x1 = [s.meta["c_text"] for s in data.samples]
        x2 = [s.meta["c_image"] for s in data.samples]
        result = pid(x1, x2, data.y)
        assert result.dominant == kind, (kind, result.terms)
        assert result.mi == pytest.approx(2.0, abs=0.05)  # y is fully determined by the pair, H(Y) ~ 2 bits


def test_bootstrap_intervals_are_seeded_and_cover_the_estimate():
    rng = np.random.default_rng(4)
    x1, x2 = rng.integers(0, 2, 300), rng.integers(0, 2, 300)
    y = np.where(rng.random(300) < 0.9, x1 ^ x2, rng.integers(0, 2, 300))
    a = pid_bootstrap(x1, x2, y, n_boot=30, seed=7)
    b = pid_bootstrap(x1, x2, y, n_boot=30, seed=7)
    assert a.ci == b.ci and a.dominant == "S"
    assert a.ci["S"][0] <= a.S <= a.ci["S"][1] and a.ci["S"][0] > 0.3
    saved = a.to_dict()
    assert saved["unit"] == "bits" and saved["bootstrap"]["n_boot"] == 30 and set(saved["ci"]) == set(TERMS)
    assert pid_bootstrap(x1, x2, y, n_boot=0).ci is None


def test_discretize_is_seeded_and_records_k():
    rng = np.random.default_rng(5)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    feats = centres[rng.integers(0, 3, 90)] + rng.normal(0, 0.1, (90, 2))
    codes, k = discretize(feats, 3, seed=0)
    again, _ = discretize(feats, 3, seed=0)
    assert k == 3 and np.array_equal(codes, again)
    assert len(set(zip(codes, np.argmin(((feats[:, None] - centres) ** 2).sum(-1), 1), strict=True))) == 3
    assert discretize(feats, "auto", seed=0)[1] in (2, 4)  # silhouette over k in (2, 4, 8, 16)
    assert discretize(np.ones((5, 2)), 8)[1] == 1  # capped at the number of distinct rows


def test_joint_distribution_counts_cells():
    p = joint_distribution([0, 0, 1], ["a", "b", "b"], [1, 1, 0])
    assert p.shape == (2, 2, 2) and p[0, 0, 1] == pytest.approx(1 / 3) and p.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(("args", "message"), [
    (([0, 1], [0, 1, 1], [0, 1]), "equal lengths"),
    (([], [], []), "empty"),
    (([0.5, 1.0], [0, 1], [0, 1]), "must be discrete"),
    (([np.nan, 1.0], [0, 1], [0, 1]), "must be discrete"),
    ((np.zeros((2, 2)), [0, 1], [0, 1]), "1-D array"),
])
def test_bad_input_is_a_one_line_data_error(args, message):
    with pytest.raises(DataError, match=message) as err:
        pid(*args)
    assert "\n" not in str(err.value)
    assert pid([0.0, 1.0], [0, 1], [0, 1]).R > 1 - TOL  # integral floats are discrete


def test_bad_tables_are_refused():
    for bad in (np.zeros((2, 2, 2)), -np.ones((2, 2, 2)), np.ones((2, 2))):
        with pytest.raises(DataError):
            pid_from_distribution(bad)


def test_measure_pid_on_features_records_k_and_sits_beside_the_mint_score():
    data = make_synthetic(n=150, seed=1)
    report, result = measure_pid(data, EmbeddingScorer(epochs=2, seed=0), source="features", k=3, n_boot=5, S=5)
    assert result.extra["k"] == {"text": 3, "image": 3} and result.extra["source"] == "features"
    assert result.shape[:2] == (3, 3) and result.n == len(data.split("test"))
    saved = report.to_dict()
    assert saved["pid"]["unit"] == "bits" and "exact" in saved["interaction_score"]
    assert sum(saved["pid"][t] for t in TERMS) == pytest.approx(saved["pid"]["I(X1,X2;Y)"], abs=1e-9)


def test_cli_pid_smoke_on_synthetic(tmp_path):
    out = tmp_path / "pid"
    result = CliRunner().invoke(app, ["interactions", "pid", "--dataset", "synthetic", "-d", "n=150",
                                      "-s", "epochs=2", "--boot", "5", "--draws", "5", "--out", str(out),
                                      "--no-cache"])
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "results.json").read_text())
    assert set(TERMS) <= set(saved["pid"]) and saved["pid"]["source"] == "predictions"
    assert saved["pid"]["k"] == {"text": 4, "image": 4} and "interaction_score" in saved
    assert "Partial information decomposition" in (out / "report.md").read_text()
    assert "PID of I(X1,X2;Y)" in result.output and "MINT score" in result.output


def test_cli_pid_bad_input_exits_2_with_one_line(tmp_path):
    bad_k = CliRunner().invoke(app, ["interactions", "pid", "--dataset", "synthetic", "--k", "many",
                                     "--out", str(tmp_path)])
    assert bad_k.exit_code == 2 and "--k must be a positive integer or 'auto'" in bad_k.output
    assert len(bad_k.output.strip().splitlines()) == 1
    bad_source = CliRunner().invoke(app, ["interactions", "pid", "--dataset", "synthetic", "--source", "pixels"])
    assert bad_source.exit_code == 2 and "pixels" in bad_source.output


# -- the certified dual interior-point solver vs. the Clarabel reference (issue 31) ----------------------------
AGREE = 1e-6  # bits: the accuracy the fast solver must keep against the reference path


def _tables():
    """Hand-made and random tables: XOR, copy, unique, AND, sparse supports, a deterministic 4x4x4 function,
    empirical counts, Dirichlet tables of several shapes (incl. |X1| < |X2|, which the solver transposes)."""
    out = {"xor": joint_distribution(X1, X2, X1 ^ X2), "copy": joint_distribution(X1, X1, X1),
           "unique": joint_distribution(X1, X2, X1), "and": joint_distribution(X1, X2, X1 & X2)}
    a, b = np.meshgrid(np.arange(4), np.arange(4), indexing="ij")
    out["min-function"] = joint_distribution(a.ravel(), b.ravel(), np.minimum(a, b).ravel())
    rng = np.random.default_rng(11)
    x1, x2 = rng.integers(0, 5, 200), rng.integers(0, 3, 200)
    out["counts"] = np.bincount((x1 * 3 + x2) * 4 + np.where(rng.random(200) < 0.6, (x1 + x2) % 4,
                                                              rng.integers(0, 4, 200)), minlength=60).reshape(5, 3, 4)
    sparse = rng.random((4, 5, 3)) * (rng.random((4, 5, 3)) < 0.4)
    sparse[0, 0, 0] = 1.0
    out["sparse"] = sparse
    for shape in [(2, 2, 2), (3, 6, 4), (6, 4, 3), (8, 8, 5)]:
        out[f"dirichlet{shape}"] = rng.dirichlet(np.full(int(np.prod(shape)), 0.5)).reshape(shape)
    return out


@pytest.mark.parametrize(("name", "p"), list(_tables().items()))
def test_fast_solver_agrees_with_the_reference_and_certifies_its_gap(name, p):
    fast = pid_from_distribution(p, solver="ipm")
    ref = pid_from_distribution(p, solver="clarabel")
    assert fast.solver["solver"] == "dual-ipm" and ref.solver["solver"] == "clarabel"
    for term in TERMS:
        assert fast[term] == pytest.approx(ref[term], abs=AGREE), (name, term, fast.terms, ref.terms)
    assert 0.0 <= fast.solver["gap_bits"] <= 1e-8  # the default certified tolerance
    assert sum(fast.terms.values()) == pytest.approx(fast.mi, abs=1e-12)


def test_the_toy_cases_are_exact_with_the_fast_solver():
    exact = {"xor": {"S": 1.0}, "copy": {"R": 1.0}, "unique": {"U1": 1.0}}
    tables = _tables()
    for name, expected in exact.items():
        result = pid_from_distribution(tables[name], solver="ipm")
        for term in TERMS:
            assert result[term] == pytest.approx(expected.get(term, 0.0), abs=1e-8), (name, result.terms)


def test_the_certificate_brackets_the_optimum_and_the_point_is_exactly_feasible():
    p = _tables()["dirichlet(8, 8, 5)"]
    q, info = solve_q(p, solver="ipm", tol_bits=1e-9)
    assert info["gap_bits"] <= 1e-9
    # feasibility: both pairwise marginals to 1e-12, non-negative, on the support only
    assert np.abs(q.sum(1) - p.sum(1)).max() < 1e-12 and np.abs(q.sum(0) - p.sum(0)).max() < 1e-12
    assert q.min() >= 0 and not q[(p.sum(1)[:, None, :] == 0) | (p.sum(0)[None, :, :] == 0)].any()
    # the reference's objective is no better than ours by more than the certified gap
    q_ref, _ = solve_q(p, solver="clarabel")
    assert objective_nats(q) / np.log(2) <= objective_nats(round_to_marginals(q_ref, p.sum(1), p.sum(0))
                                                           ) / np.log(2) + info["gap_bits"]
    # a looser tolerance stops earlier with a larger (still certified) gap
    _, loose = solve_q(p, solver="ipm", tol_bits=1e-3)
    assert loose["iterations"] < info["iterations"] and loose["gap_bits"] <= 1e-3


def test_round_to_marginals_is_exact_on_a_hand_made_matrix():
    p1 = np.array([[0.3], [0.2]])  # p(x1, y) for one y
    p2 = np.array([[0.25], [0.25]])
    q = np.array([[[0.4], [0.1]], [[0.0], [0.05]]])  # rows sum to 0.5 / 0.05, columns to 0.4 / 0.15
    out = round_to_marginals(q, p1, p2)
    assert out.sum(1) == pytest.approx(p1, abs=1e-15) and out.sum(0) == pytest.approx(p2, abs=1e-15)
    # row 0 scaled by 0.3 / 0.5, then column 0 capped at 0.25; the rest of the mass goes back rank-one
    assert out[0, 0, 0] == pytest.approx(0.24 + 0.0) and out.min() >= 0


def test_warm_start_gives_the_cold_result():
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(6 * 5 * 4)).reshape(6, 5, 4)
    cold = pid_from_distribution(p, solver="ipm")
    assert isinstance(cold.warm_start, WarmStart) and cold.warm_start.lam.shape == (6, 5)
    nearby = p + 0.01 * rng.dirichlet(np.ones(p.size)).reshape(p.shape)
    warm = pid_from_distribution(nearby, solver="ipm", warm=cold.warm_start)
    again = pid_from_distribution(nearby, solver="ipm")
    assert warm.solver["warm_start"] and not again.solver["warm_start"]
    for term in TERMS:
        assert warm[term] == pytest.approx(again[term], abs=2e-8)
    # a warm start of another shape is ignored, not an error
    other = pid_from_distribution(p[:, :4], solver="ipm", warm=cold.warm_start)
    assert not other.solver["warm_start"]
    assert other.terms == pytest.approx(pid_from_distribution(p[:, :4], solver="clarabel").terms, abs=AGREE)


def test_bootstrap_with_and_without_warm_starts_gives_the_same_intervals():
    rng = np.random.default_rng(8)
    x1, x2 = rng.integers(0, 4, 400), rng.integers(0, 3, 400)
    y = np.where(rng.random(400) < 0.7, (x1 + x2) % 3, rng.integers(0, 3, 400))
    warm = pid_bootstrap(x1, x2, y, n_boot=10, seed=2)
    cold = pid_bootstrap(x1, x2, y, n_boot=10, seed=2, warm=False)
    ref = pid_bootstrap(x1, x2, y, n_boot=10, seed=2, solver="clarabel")
    for term in TERMS:
        assert warm.ci[term] == pytest.approx(cold.ci[term], abs=2e-8)
        assert warm.ci[term] == pytest.approx(ref.ci[term], abs=AGREE)


def test_bad_solver_options_are_refused():
    p = _tables()["xor"]
    with pytest.raises(DataError, match="solver must be 'auto', 'ipm' or 'clarabel'"):
        solve_q(p, solver="cvxpy")
    with pytest.raises(DataError, match="tol_bits must be > 0"):
        solve_q(p, tol_bits=0.0)


def test_a_table_the_fast_solver_cannot_certify_falls_back_to_the_reference():
    p = _tables()["dirichlet(3, 6, 4)"]
    with pytest.raises(SolverError, match="certified gap"):
        solve_q(p, solver="ipm", tol_bits=1e-30)  # below floating-point resolution: never certified
    q, info = solve_q(p, solver="auto", tol_bits=1e-30)
    assert info["solver"] == "clarabel" and "certified gap" in info["fallback_from"]


def test_a_degenerate_optimum_is_still_certified():
    """Empirical counts (9 x 5 x 2, n = 1419) whose optimal q is not unique: without keeping Mehrotra's
    centring while the marginals lag, mu ran to 1e-18 and the gap stalled at 2.5e-8 bits (issue 31)."""
    counts = np.array([[11, 17, 16, 20, 10, 19, 17, 8, 22, 15], [13, 16, 19, 10, 19, 19, 23, 7, 19, 21],
                       [10, 18, 16, 12, 8, 20, 15, 21, 19, 12], [17, 18, 10, 19, 13, 16, 14, 16, 15, 24],
                       [18, 21, 20, 18, 18, 18, 13, 20, 12, 8], [18, 21, 22, 21, 15, 19, 18, 16, 18, 12],
                       [14, 15, 11, 18, 7, 11, 13, 17, 17, 8], [19, 15, 16, 18, 18, 12, 17, 15, 13, 16],
                       [18, 14, 14, 16, 11, 17, 14, 18, 15, 12]]).reshape(9, 5, 2)
    fast = pid_from_distribution(counts, solver="ipm")
    assert fast.solver["gap_bits"] <= 1e-8 and fast.n is None
    assert fast.terms == pytest.approx(pid_from_distribution(counts, solver="clarabel").terms, abs=AGREE)
