"""Robust statistics of sweep results: arrays in, arrays out, no drawing.

Point estimates come with percentile-bootstrap confidence intervals
(``scipy.stats.bootstrap``, seeded, so a figure redrawn from the same results is the
same figure), the interquartile mean is ``scipy.stats.trim_mean``, success rates have
Wilson intervals (``scipy.stats.binomtest``), and time-to-solve distributions are
Kaplan-Meier estimates (``scipy.stats.ecdf`` of ``CensoredData``) in which runs that
never solved are censored where they stopped, so an ECDF reaches 1 only when every run
solved. What SciPy has no function for is here: reading solve points off run traces,
resampling traces on a grid, and the median band of many curves with missing values.
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
from scipy import stats as sps

from btype._checks import check_fraction, check_int

__all__ = ["Estimate", "iqm", "median_ci", "iqm_ci", "bootstrap_ci", "wilson_interval",
           "success_rate", "solve_point", "solve_points", "ecdf", "ecdf_at", "step_resample",
           "resample_traces", "curve_band", "common_grid"]


class Estimate(NamedTuple):
    """A point estimate and the ends of its confidence interval."""

    value: float
    low: float
    high: float


def _check_confidence(confidence):
    return check_fraction(confidence, "confidence", lo_open=True, hi_open=True)


def _as_sample(values, name="values"):
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got shape {x.shape}")
    if np.isnan(x).any():
        raise ValueError(f"{name} must not contain NaN (use inf for runs that never solved)")
    return x


def iqm(values, axis=-1):
    """Interquartile mean: the mean of the middle half of the sorted values.

    ``scipy.stats.trim_mean(values, 0.25)``: ``int(0.25 * n)`` values are cut from each
    end, so for fewer than 4 values it is the mean.

    Parameters
    ----------
    values : array_like
    axis : int
        Axis along which to take the mean.
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0 or x.shape[axis] == 0:
        raise ValueError("iqm of an empty sample")
    with np.errstate(invalid="ignore"):
        return sps.trim_mean(x, 0.25, axis=axis)


def bootstrap_ci(values, statistic, *, n_boot=2000, confidence=0.95, seed=0) -> Estimate:
    """Percentile-bootstrap confidence interval of a statistic (``scipy.stats.bootstrap``).

    Parameters
    ----------
    values : 1-D array_like
        The sample; ``inf`` is allowed (a run that never solved), NaN is not.
    statistic : callable
        ``statistic(array, axis=-1)``, e.g. ``np.median`` or :func:`iqm`.
    n_boot : int
        Bootstrap resamples.
    confidence : float in (0, 1)
    seed : int
        Seed of the resampling, so repeated calls give the same interval.

    Returns
    -------
    Estimate
        ``statistic(values)`` and the interval's ends. A single value is its own
        interval (every resample is that value).
    """
    x = _as_sample(values)
    if len(x) == 0:
        raise ValueError("values must not be empty")
    if not callable(statistic):
        raise TypeError(f"statistic must be callable, got {statistic!r}")
    n_boot = check_int(n_boot, "n_boot", 1)
    confidence = _check_confidence(confidence)
    value = float(statistic(x, axis=-1))
    if len(x) == 1:
        return Estimate(value, value, value)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        # the standard error scipy reports beside the interval is NaN for infinite values
        warnings.simplefilter("ignore", RuntimeWarning)
        result = sps.bootstrap((x,), statistic, n_resamples=n_boot, confidence_level=confidence,
                               method="percentile", vectorized=True, rng=np.random.default_rng(seed))
    low, high = result.confidence_interval
    return Estimate(value, float(low), float(high))


def median_ci(values, *, n_boot=2000, confidence=0.95, seed=0) -> Estimate:
    """Median with a percentile-bootstrap interval (see :func:`bootstrap_ci`)."""
    return bootstrap_ci(values, np.median, n_boot=n_boot, confidence=confidence, seed=seed)


def iqm_ci(values, *, n_boot=2000, confidence=0.95, seed=0) -> Estimate:
    """Interquartile mean with a percentile-bootstrap interval (see :func:`bootstrap_ci`)."""
    return bootstrap_ci(values, iqm, n_boot=n_boot, confidence=confidence, seed=seed)


def wilson_interval(successes, trials, *, confidence=0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion
    (``scipy.stats.binomtest(...).proportion_ci(method="wilson")``).

    Unlike the normal approximation it stays inside [0, 1] and is sensible at
    0 or n successes, which is where most cells of a sweep table are.
    """
    trials = check_int(trials, "trials", 1)
    successes = check_int(successes, "successes", 0)
    if successes > trials:
        raise ValueError(f"successes ({successes}) must not exceed trials ({trials})")
    ci = sps.binomtest(successes, trials).proportion_ci(_check_confidence(confidence), method="wilson")
    return float(ci.low), float(ci.high)


def success_rate(solved, *, confidence=0.95) -> Estimate:
    """Share of runs that solved, with its Wilson interval.

    Parameters
    ----------
    solved : 1-D array_like of bool
    """
    s = np.asarray(solved)
    if s.ndim != 1 or len(s) == 0:
        raise ValueError(f"solved must be a non-empty 1-D array, got shape {s.shape}")
    k, n = int(s.astype(bool).sum()), len(s)
    low, high = wilson_interval(k, n, confidence=confidence)
    return Estimate(k / n, low, high)


def solve_point(records, axis="seconds") -> tuple[float, bool]:
    """Where along ``axis`` a run first solved its task.

    Parameters
    ----------
    records : list of dict
        A run's trace, in order.
    axis : str
        Record field to read, e.g. ``"seconds"``, ``"evaluations"``, ``"gate_evals"``.

    Returns
    -------
    (value, solved)
        The axis value of the first record with ``solved`` true, or, for a run that
        never solved, the last record's value: the point where it was censored.
    """
    if not records:
        raise ValueError("records must not be empty")
    for record in records:
        if record.get("solved"):
            return float(record[axis]), True
    return float(records[-1][axis]), False


def solve_points(traces, axis="seconds") -> tuple[np.ndarray, np.ndarray]:
    """:func:`solve_point` of many runs: (values, solved) arrays."""
    pairs = [solve_point(t, axis) for t in traces]
    values = np.array([p[0] for p in pairs], dtype=float)
    return values, np.array([p[1] for p in pairs], dtype=bool)


def _check_censored(values, solved):
    x = _as_sample(values)
    s = np.asarray(solved, dtype=bool)
    if s.shape != x.shape:
        raise ValueError(f"solved has shape {s.shape}, values have {x.shape}")
    if len(x) == 0:
        raise ValueError("values must not be empty")
    return x, s


def _kaplan_meier(x, s):
    """scipy's Kaplan-Meier CDF of the solve points ``x[s]``, the unsolved runs censored
    beyond every point (None when nothing solved).

    An unsolved run counts as one that never solves, not as one that might have solved
    just after it stopped: runs stop on a budget or a plateau, which is informative
    censoring, so the estimate stays the plain share of all runs solved by each point.
    """
    if not s.any():
        return None
    beyond = 2.0 * max(float(x.max()), 0.0) + 1.0  # scipy wants finite censoring points
    return sps.ecdf(sps.CensoredData(uncensored=x[s], right=np.full(int((~s).sum()), beyond))).cdf


def ecdf(values, solved) -> tuple[np.ndarray, np.ndarray]:
    """Empirical CDF of a time-to-solve with censored runs (``scipy.stats.ecdf``).

    Parameters
    ----------
    values : 1-D array_like
        Solve points (censoring points for runs that did not solve).
    solved : 1-D array_like of bool

    Returns
    -------
    x, y : arrays
        ``x`` the sorted distinct solve points; ``y[i]`` the share of *all* runs solved
        by ``x[i]``. Unsolved runs stay in the denominator, so ``y`` ends at the
        success rate.
    """
    x, s = _check_censored(values, solved)
    cdf = _kaplan_meier(x, s)
    if cdf is None:
        return np.empty(0), np.empty(0)
    xs = np.unique(x[s])
    return xs, cdf.evaluate(xs)


def ecdf_at(values, solved, grid) -> np.ndarray:
    """The estimate of :func:`ecdf` at each grid point (0 before the first solve)."""
    x, s = _check_censored(values, solved)
    grid = np.asarray(grid, dtype=float)
    cdf = _kaplan_meier(x, s)
    return np.zeros(grid.shape) if cdf is None else cdf.evaluate(grid)


def step_resample(x, y, grid, mode="best") -> np.ndarray:
    """A run's recorded curve read off at grid points, as a step function.

    Parameters
    ----------
    x : 1-D array_like, ascending
        Where the records were taken (seconds, gate_evals, ...).
    y : 1-D array_like
        Recorded values; NaN for missing ones.
    grid : 1-D array_like
    mode : {"best", "last"}
        ``"best"``: the best value recorded so far (running maximum, NaN skipped);
        ``"last"``: the latest recorded value.

    Returns
    -------
    (len(grid),) float; NaN at grid points before the first record.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must be 1-D of equal length, got {x.shape} and {y.shape}")
    if len(x) and np.any(np.diff(x) < 0):
        raise ValueError("x must be ascending")
    if mode not in ("best", "last"):
        raise ValueError(f"mode must be 'best' or 'last', got {mode!r}")
    if len(x) == 0:
        return np.full(np.shape(grid), np.nan)
    if mode == "best":
        y = np.fmax.accumulate(y)
    idx = np.searchsorted(x, np.asarray(grid, dtype=float), side="right") - 1
    return np.where(idx >= 0, y[np.maximum(idx, 0)], np.nan)


def resample_traces(traces, x_key, y_key, grid, mode="best") -> np.ndarray:
    """:func:`step_resample` of many runs: (n_runs, len(grid)), missing values NaN."""
    rows = []
    for trace in traces:
        x = [r[x_key] for r in trace]
        y = [np.nan if r.get(y_key) is None else r[y_key] for r in trace]
        rows.append(step_resample(x, y, grid, mode))
    return np.array(rows, dtype=float).reshape(len(rows), len(grid))


def curve_band(curves, *, n_boot=1000, confidence=0.95, seed=0) -> tuple[np.ndarray, ...]:
    """Median across runs at each grid point, with a bootstrap interval.

    Parameters
    ----------
    curves : (n_runs, n_grid) array_like
        From :func:`resample_traces`; NaN where a run has no value yet.

    Returns
    -------
    median, low, high : (n_grid,) arrays (NaN where no run has a value)
    """
    c = np.asarray(curves, dtype=float)
    if c.ndim != 2 or c.shape[0] == 0:
        raise ValueError(f"curves must be a non-empty 2-D array, got shape {c.shape}")
    n_boot = check_int(n_boot, "n_boot", 1)
    alpha = (1.0 - _check_confidence(confidence)) / 2.0
    rng = np.random.default_rng(seed)
    centre = _nanmedian(c, axis=0)
    boot = _nanmedian(c[rng.integers(0, len(c), size=(n_boot, len(c)))], axis=1)
    return centre, _nan_order_quantile(boot, alpha), _nan_order_quantile(boot, 1.0 - alpha)


def _nan_order_quantile(x, q):
    """``np.nanquantile(x, q, axis=0, method="inverted_cdf")``, vectorised over columns."""
    s = np.sort(x, axis=0)
    n = np.sum(~np.isnan(s), axis=0)
    k = np.clip(np.ceil(q * n).astype(np.int64) - 1, 0, None)
    out = np.take_along_axis(s, k[None, :], axis=0)[0]
    return np.where(n > 0, out, np.nan)


def _nanmedian(x, axis):
    """np.nanmedian without its per-slice Python loop: sort (NaN last), pick the middle."""
    s = np.sort(x, axis=axis)
    n = np.sum(~np.isnan(s), axis=axis, keepdims=True)
    lo = np.take_along_axis(s, np.maximum((n - 1) // 2, 0), axis=axis)
    hi = np.take_along_axis(s, n // 2, axis=axis)
    out = np.where(n > 0, (lo + hi) / 2.0, np.nan)
    return np.squeeze(out, axis=axis)


def common_grid(traces, x_key, n=200, log=None) -> np.ndarray:
    """Grid points spanning every run's records along ``x_key``.

    ``log=None`` chooses a log-spaced grid when the positive values span more than
    two decades (gate-evaluations nearly always do), else a linear one from 0.
    """
    n = check_int(n, "n", 2)
    xs = np.array([r[x_key] for t in traces for r in t], dtype=float)
    xs = xs[np.isfinite(xs)]
    if len(xs) == 0:
        return np.linspace(0.0, 1.0, n)
    top = xs.max()
    positive = xs[xs > 0]
    if log is None:
        log = len(positive) > 0 and top / positive.min() > 100
    if log and len(positive):
        return np.geomspace(positive.min(), max(top, positive.min() * 10), n)
    return np.linspace(0.0, top if top > 0 else 1.0, n)
