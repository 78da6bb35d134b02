"""experiments.analysis.stats and .growth against values worked out by hand."""
import math

import numpy as np
import pytest

from experiments.analysis import growth, stats


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
    np.testing.assert_allclose(y, [0.25, 0.5, 0.75])
    np.testing.assert_allclose(stats.ecdf_at([1.0, 2.0, 3.0, 10.0], [True, True, False, True],
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


# -- against scipy and numpy, where both have the statistic ------------------------------

def test_iqm_equals_a_sort_and_slice_and_scipy_trim_mean():
    from scipy import stats as sps
    x = np.random.default_rng(1).normal(size=(5, 37))
    cut = int(0.25 * 37)
    by_hand = np.sort(x, axis=1)[:, cut:37 - cut].mean(axis=1)
    np.testing.assert_allclose(stats.iqm(x, axis=1), by_hand)
    np.testing.assert_allclose(stats.iqm(x, axis=1), sps.trim_mean(x, 0.25, axis=1))


def test_bootstrap_interval_equals_order_statistics_of_the_same_resamples():
    # scipy's percentile interval against numpy's quantiles of medians of the very
    # resamples scipy draws (one batch, same generator): two computations, one answer.
    x = np.random.default_rng(2).exponential(size=15)
    est = stats.bootstrap_ci(x, np.median, n_boot=999, seed=5)
    idx = np.random.default_rng(5).integers(0, len(x), size=(999, len(x)))
    medians = np.median(x[idx], axis=-1)
    low, high = np.percentile(medians, [2.5, 97.5])
    assert est.value == np.median(x)
    assert (est.low, est.high) == pytest.approx((low, high), rel=0.05)


def test_wilson_interval_against_the_closed_form_for_many_counts():
    z = 1.959963984540054
    for n in (1, 3, 20, 57):
        for k in range(n + 1):
            p = k / n
            centre = (p + z * z / (2 * n)) / (1 + z * z / n)
            half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
            assert stats.wilson_interval(k, n) == pytest.approx((max(0, centre - half), min(1, centre + half)),
                                                                abs=1e-12)


def test_ecdf_is_the_share_of_all_runs_solved_by_each_point():
    rng = np.random.default_rng(3)
    values = rng.exponential(size=40)
    solved = rng.random(40) < 0.6
    grid = np.linspace(0, values.max() * 1.5, 50)
    by_hand = np.array([np.sum(solved & (values <= g)) for g in grid]) / 40
    np.testing.assert_allclose(stats.ecdf_at(values, solved, grid), by_hand)
    x, y = stats.ecdf(values, solved)
    np.testing.assert_array_equal(x, np.sort(values[solved]))
    np.testing.assert_allclose(y, np.arange(1, solved.sum() + 1) / 40)


# -- growth of cost with input count --------------------------------------------------------

def _synthetic_scaling(slope=0.7, budget=7.0, seed=0):
    """Runs whose log-cost grows by ``slope`` per input, cut off by a budget (censored)."""
    rng = np.random.default_rng(seed)
    n = np.repeat(np.arange(3, 9), 20).astype(float)
    log_cost = 2.0 + slope * n + rng.normal(0, 0.5, len(n))
    solved = log_cost <= budget
    return n, np.exp(np.minimum(log_cost, budget)), solved


def test_growth_rate_recovers_a_known_rate_from_censored_runs():
    n, cost, solved = _synthetic_scaling()
    assert 0.1 < (~solved).mean() < 0.5  # the largest tasks are mostly censored
    g = growth.growth_rate(n, cost, solved, n_boot=100)
    assert g.n_runs == 120 and g.n_censored == int((~solved).sum())
    assert g.factor.low < math.exp(0.7) < g.factor.high
    assert g.slope == pytest.approx(0.7, abs=0.05) and g.sigma == pytest.approx(0.5, abs=0.1)
    # dropping the censored runs instead flattens the line below the interval
    naive = math.exp(np.polyfit(n[solved], np.log(cost[solved]), 1)[0])
    assert naive < g.factor.low


def test_growth_rate_without_censoring_is_least_squares():
    rng = np.random.default_rng(4)
    n = np.repeat([2.0, 4.0, 6.0], 10)
    cost = np.exp(1.0 + 0.3 * n + rng.normal(0, 0.2, len(n)))
    g = growth.growth_rate(n, cost, np.ones(len(n), bool), n_boot=50)
    slope, intercept = np.polyfit(n, np.log(cost), 1)
    assert g.slope == pytest.approx(slope, abs=1e-4) and g.intercept == pytest.approx(intercept, abs=1e-4)


@pytest.mark.parametrize("inputs, costs, solved, match", [
    ([3, 3, 3], [1, 2, 3], [True] * 3, "two input counts"),
    ([3, 4, 5], [1, 0, 3], [True] * 3, "costs"),
    ([3, 4, 5], [1, 2, 3], [True, False, False], "2 solved"),
    ([3, 4], [1, 2, 3], [True] * 3, "one length")])
def test_growth_rate_rejects_what_it_cannot_fit(inputs, costs, solved, match):
    with pytest.raises(ValueError, match=match):
        growth.growth_rate(inputs, costs, solved, n_boot=10)
