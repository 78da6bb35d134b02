"""experiments.stats against values worked out by hand."""
import math

import numpy as np
import pytest

from experiments import stats


def test_iqm_cuts_a_quarter_from_each_end():
    assert stats.iqm(np.arange(1, 9)) == pytest.approx(4.5)       # mean(3, 4, 5, 6)
    assert stats.iqm([5, 1, 100, 2, 3]) == pytest.approx(10 / 3)   # cut 1 each side: mean(2, 3, 5)
    assert stats.iqm([7, 1, 4]) == pytest.approx(4.0)              # n < 4: plain mean
    np.testing.assert_allclose(stats.iqm([[1, 2, 3, 4], [10, 0, 0, 10]], axis=1), [2.5, 5.0])


def test_bootstrap_of_a_constant_sample_is_exact():
    est = stats.median_ci([3.0] * 7, n_boot=200)
    assert est == (3.0, 3.0, 3.0)


def test_bootstrap_interval_of_two_values_spans_both():
    # Resamples of (1, 5) have medians 1 (p=1/4), 3 (p=1/2) and 5 (p=1/4);
    # the 2.5% and 97.5% order statistics are therefore 1 and 5.
    est = stats.median_ci([1.0, 5.0], n_boot=4000, seed=1)
    assert est == (3.0, 1.0, 5.0)


def test_bootstrap_is_seeded_and_contains_the_estimate():
    x = np.random.default_rng(0).exponential(size=25)
    a = stats.iqm_ci(x, seed=3)
    assert a == stats.iqm_ci(x, seed=3)
    assert a.low <= a.value <= a.high
    assert a.value == pytest.approx(stats.iqm(x))


def test_median_with_unsolved_runs_is_infinite_when_most_fail():
    assert stats.median_ci([1.0, math.inf, math.inf], n_boot=500).value == math.inf
    est = stats.median_ci([1.0, 2.0, 3.0, math.inf, math.inf], n_boot=500)
    assert est.value == 3.0 and est.high == math.inf and est.low >= 1.0


def test_bootstrap_rejects_bad_arguments():
    with pytest.raises(ValueError, match="NaN"):
        stats.median_ci([1.0, float("nan")])
    with pytest.raises(ValueError, match="confidence"):
        stats.median_ci([1.0], confidence=1.5)
    with pytest.raises(ValueError, match="empty"):
        stats.median_ci([])
    with pytest.raises(TypeError, match="n_boot"):
        stats.median_ci([1.0], n_boot=2.5)


def test_wilson_interval_by_hand():
    z = 1.959963984540054
    low, high = stats.wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(z**2 / 10 / (1 + z**2 / 10))
    low, high = stats.wilson_interval(10, 10)
    assert high == 1.0 and low == pytest.approx(1 / (1 + z**2 / 10))
    # 5 of 10: centre 0.5, half-width z/(1+z^2/n) * sqrt(0.025 + z^2/400)
    half = z / (1 + z**2 / 10) * math.sqrt(0.25 / 10 + z**2 / 400)
    assert stats.wilson_interval(5, 10) == pytest.approx((0.5 - half, 0.5 + half))
    with pytest.raises(ValueError, match="successes"):
        stats.wilson_interval(11, 10)


def test_success_rate():
    est = stats.success_rate([True, False, True, True])
    assert est.value == 0.75
    assert (est.low, est.high) == pytest.approx(stats.wilson_interval(3, 4))


def test_solve_point_takes_the_first_solving_record_or_censors_at_the_last():
    trace = [{"seconds": 0.0, "gate_evals": 0, "solved": False},
             {"seconds": 0.5, "gate_evals": 80, "solved": True},
             {"seconds": 0.9, "gate_evals": 99, "solved": True}]
    assert stats.solve_point(trace) == (0.5, True)
    assert stats.solve_point(trace, "gate_evals") == (80.0, True)
    unsolved = [dict(r, solved=False) for r in trace]
    assert stats.solve_point(unsolved) == (0.9, False)
    values, solved = stats.solve_points([trace, unsolved])
    np.testing.assert_array_equal(values, [0.5, 0.9])
    np.testing.assert_array_equal(solved, [True, False])


def test_ecdf_keeps_censored_runs_in_the_denominator():
    x, y = stats.ecdf([1.0, 2.0, 3.0, 10.0], [True, True, False, True])
    np.testing.assert_array_equal(x, [1.0, 2.0, 10.0])
    np.testing.assert_array_equal(y, [0.25, 0.5, 0.75])
    np.testing.assert_array_equal(stats.ecdf_at([1.0, 2.0, 3.0, 10.0], [True, True, False, True],
                                                [0.5, 1.0, 2.5, 3.0, 100.0]),
                                  [0.0, 0.25, 0.5, 0.5, 0.75])
    x, y = stats.ecdf([4.0, 4.0], [False, False])
    assert len(x) == 0 and len(y) == 0


def test_step_resample_best_and_last():
    grid = [-1, 0, 0.5, 1, 2, 3, 4]
    np.testing.assert_array_equal(stats.step_resample([0, 1, 3], [0.5, 0.4, 0.9], grid, "best"),
                                  [np.nan, 0.5, 0.5, 0.5, 0.5, 0.9, 0.9])
    np.testing.assert_array_equal(stats.step_resample([0, 1, 3], [0.5, 0.4, 0.9], grid, "last"),
                                  [np.nan, 0.5, 0.5, 0.4, 0.4, 0.9, 0.9])
    # A missing value (NaN) does not erase the best so far.
    np.testing.assert_array_equal(stats.step_resample([0, 1], [0.3, np.nan], [0, 1], "best"), [0.3, 0.3])
    with pytest.raises(ValueError, match="ascending"):
        stats.step_resample([1, 0], [0, 0], grid)


def test_resample_traces_and_curve_band():
    traces = [[{"seconds": 0.0, "test_accuracy": 0.5}, {"seconds": 1.0, "test_accuracy": 0.7}],
              [{"seconds": 0.0, "test_accuracy": 0.6}, {"seconds": 2.0, "test_accuracy": None}],
              [{"seconds": 0.5, "test_accuracy": 0.9}]]
    curves = stats.resample_traces(traces, "seconds", "test_accuracy", [0.0, 1.0, 2.0], "last")
    np.testing.assert_array_equal(curves, [[0.5, 0.7, 0.7], [0.6, 0.6, np.nan], [np.nan, 0.9, 0.9]])
    centre, low, high = stats.curve_band(curves, n_boot=500)
    np.testing.assert_allclose(centre, [0.55, 0.7, 0.8])
    assert np.all(low <= centre) and np.all(centre <= high)
    assert low[1] >= 0.6 and high[1] <= 0.9


def test_common_grid():
    linear = stats.common_grid([[{"s": 0.0}, {"s": 2.0}]], "s", n=5)
    np.testing.assert_allclose(linear, [0, 0.5, 1, 1.5, 2])
    log = stats.common_grid([[{"g": 0}, {"g": 10}, {"g": 10_000}]], "g", n=4)
    np.testing.assert_allclose(log, [10, 100, 1000, 10_000])
