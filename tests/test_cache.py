import numpy as np
import pytest

from interlens import Dataset, Sample
from interlens.cache import PredictionCache
from interlens.scoring.base import cached_predict


class CountingScorer:
    """Scores each sample from its text length; counts how many samples it computed."""

    name = "counting"
    fingerprint = "fp-counting"

    def __init__(self, fail_after: int | None = None):
        self.computed, self.fail_after = 0, fail_after

    def compute(self, dataset, view):
        if self.fail_after is not None and self.computed >= self.fail_after:
            raise KeyboardInterrupt("killed")
        self.computed += len(dataset)
        lengths = np.array([len(s.inputs["text"]) for s in dataset], dtype=float)
        return np.stack([1 / (1 + lengths), lengths / (1 + lengths)], axis=1)


@pytest.fixture()
def dataset():
    samples = [Sample(f"s{i}", {"text": "x" * (i + 1)}, "no") for i in range(10)]
    return Dataset("toy", ("no", "yes"), samples, ("text",))


def test_second_run_reads_cache(dataset, cache_path):
    scorer = CountingScorer()
    with PredictionCache(cache_path) as cache:
        first = cached_predict(scorer, dataset, "text", cache=cache, compute=scorer.compute, batch_size=3)
        again = cached_predict(scorer, dataset, "text", cache=cache, compute=scorer.compute, batch_size=3)
    assert scorer.computed == 10
    assert again.meta["cached"] == 10 and again.meta["computed"] == 0
    np.testing.assert_array_equal(first.probs, again.probs)


def test_interrupted_run_resumes_from_cache(dataset, cache_path):
    killed = CountingScorer(fail_after=6)
    with PredictionCache(cache_path) as cache, pytest.raises(KeyboardInterrupt):
        cached_predict(killed, dataset, "text", cache=cache, compute=killed.compute, batch_size=3)
    assert PredictionCache(cache_path).count() == 6  # two finished batches were committed
    resumed = CountingScorer()
    with PredictionCache(cache_path) as cache:
        out = cached_predict(resumed, dataset, "text", cache=cache, compute=resumed.compute, batch_size=3)
    assert resumed.computed == 4
    np.testing.assert_allclose(out.probs[:, 1], np.arange(1, 11) / np.arange(2, 12))


def test_keys_separate_view_scorer_and_dataset(dataset, cache_path):
    with PredictionCache(cache_path) as cache:
        cache.put("a", "text", "d", ["s0"], np.array([[0.1, 0.9]]))
        assert cache.get("a", "text", "d", ["s0"])["s0"].tolist() == [0.1, 0.9]
        assert cache.get("b", "text", "d", ["s0"]) == {}
        assert cache.get("a", "image", "d", ["s0"]) == {}
        assert cache.get("a", "text", "other", ["s0"]) == {}


def test_no_cache_recomputes(dataset):
    scorer = CountingScorer()
    cached_predict(scorer, dataset, "text", cache=None, compute=scorer.compute)
    cached_predict(scorer, dataset, "text", cache=None, compute=scorer.compute)
    assert scorer.computed == 20


def test_altered_row_is_refused_with_recovery_hint(cache_path):
    import sqlite3

    from interlens.errors import DataError

    with PredictionCache(cache_path) as cache:
        cache.put("a", "text", "d", ["s0", "s1"], np.array([[0.1, 0.9], [0.5, 0.5]]))
    conn = sqlite3.connect(cache_path)
    with conn:
        conn.execute("UPDATE predictions_v2 SET probs=? WHERE sample_id='s1'", (np.array([0.9, 0.1]).tobytes(),))
    conn.close()
    with PredictionCache(cache_path) as cache, pytest.raises(
            DataError, match=r"record id s1, view text, field 'probs': cached row fails its integrity check .*"
                             r"--no-cache or delete the file"):
        cache.get("a", "text", "d", ["s0", "s1"])


def test_corrupt_cache_file_is_one_clear_error(cache_path):
    from interlens.errors import DataError

    cache_path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DataError, match=r"cache\.sqlite: prediction cache unusable \(file is not a database\); "
                                        r"rerun with --no-cache or delete the file"):
        PredictionCache(cache_path)
