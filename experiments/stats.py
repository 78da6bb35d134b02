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

import numbers
import warnings
from typing import NamedTuple

import numpy as np
from scipy import stats as sps

__all__ = ["Estimate", "iqm", "median_ci", "iqm_ci", "bootstrap_ci", "wilson_interval",
           "success_rate", "solve_point", "solve_points", "ecdf", "ecdf_at", "step_resample",
           "resample_traces", "curve_band", "common_grid", "Growth", "growth_rate"]


class Estimate(NamedTuple):
    """A point estimate and the ends of its confidence interval."""

    value: float
    low: float
    high: float


def _check_confidence(confidence):
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real):
        raise TypeError(f"confidence must be a number, got {confidence!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return float(confidence)


def _check_count(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


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
    n_boot = _check_count(n_boot, "n_boot")
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
    trials = _check_count(trials, "trials")
    successes = _check_count(successes, "successes", 0)
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
    n_boot = _check_count(n_boot, "n_boot")
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
    n = _check_count(n, "n", 2)
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


class Growth(NamedTuple):
    """A fitted growth rate: cost multiplies by ``factor`` per extra input."""

    factor: Estimate   # exp(slope), with its bootstrap interval
    slope: float       # d log(cost) / d inputs (natural log)
    intercept: float
    sigma: float       # spread of log(cost) around the line
    n_runs: int
    n_censored: int


def _censored_line(x, logy, solved, start=None):
    """Maximum-likelihood line through ``logy`` against ``x`` with normal errors, where an
    unsolved run says only that its log-cost exceeds ``logy`` (right-censored: a Tobit
    model). Returns (intercept, slope, sigma)."""
    from scipy import optimize, special
    if start is None:
        if solved.sum() >= 2 and np.ptp(x[solved]) > 0:
            slope, intercept = np.polyfit(x[solved], logy[solved], 1)
        else:
            slope, intercept = 0.0, float(np.mean(logy))
        spread = float(np.std(logy[solved])) if solved.sum() > 1 else 1.0
        start = (intercept, slope, np.log(max(spread, 1e-3)))

    def nll(p):
        a, b, log_s = p
        z = (logy - a - b * x) / np.exp(log_s)
        zs, zc = z[solved], z[~solved]
        log_tail = special.log_ndtr(-zc)
        value = 0.5 * np.sum(zs * zs) + len(zs) * log_s - np.sum(log_tail)
        # d(-log-likelihood)/dz per run: z for a solved run, the inverse Mills ratio for a censored one
        dz = np.empty_like(z)
        dz[solved] = zs
        dz[~solved] = np.exp(-0.5 * zc * zc - 0.5 * np.log(2 * np.pi) - log_tail)
        grad_a = -np.sum(dz) / np.exp(log_s)
        grad_b = -np.sum(dz * x) / np.exp(log_s)
        grad_s = len(zs) - np.sum(dz * z)
        return value, np.array([grad_a, grad_b, grad_s])

    # the line search may probe a spread of ~0 (overflowing z); BFGS steps back from it
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        fit = optimize.minimize(nll, np.asarray(start, dtype=float), jac=True, method="BFGS")
    a, b, log_s = fit.x
    return float(a), float(b), float(np.exp(log_s))


def growth_rate(inputs, costs, solved, *, n_boot=500, confidence=0.95, seed=0) -> Growth:
    """Growth of cost-to-solve with input count: a censored log-linear fit.

    ``log(cost) = intercept + slope * inputs + normal noise``, fitted by maximum
    likelihood with each unsolved run right-censored at the cost it stopped at, so
    the runs that hit the budget pull the line up instead of dropping out (which would
    flatten it). The interval comes from a bootstrap that resamples runs within each
    input count.

    Parameters
    ----------
    inputs : 1-D array_like
        Input count of each run's task.
    costs : 1-D array_like, > 0
        Cost to solve (evaluations, gate-evaluations, seconds), or where an unsolved
        run stopped.
    solved : 1-D array_like of bool
    n_boot, confidence, seed
        As in :func:`bootstrap_ci`.

    Returns
    -------
    Growth
        ``factor`` is ``exp(slope)``: how many times the cost grows per extra input.
    """
    x = _as_sample(inputs, "inputs")
    c = _as_sample(costs, "costs")
    s = np.asarray(solved, dtype=bool)
    if not x.shape == c.shape == s.shape:
        raise ValueError(f"inputs, costs and solved must have one length, got {x.shape}, {c.shape}, {s.shape}")
    if len(np.unique(x)) < 2:
        raise ValueError(f"inputs must hold at least two input counts, got {sorted(set(x))}")
    if not np.all(np.isfinite(c)) or np.any(c <= 0):
        raise ValueError("costs must be finite and > 0")
    if s.sum() < 2:
        raise ValueError(f"growth_rate needs at least 2 solved runs, got {int(s.sum())}")
    n_boot = _check_count(n_boot, "n_boot")
    alpha = (1.0 - _check_confidence(confidence)) / 2.0
    logc = np.log(c)
    a, b, sigma = _censored_line(x, logc, s)
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(x == v) for v in np.unique(x)]
    slopes = []
    for _ in range(n_boot):
        idx = np.concatenate([g[rng.integers(0, len(g), len(g))] for g in groups])
        if s[idx].sum() >= 2:
            slopes.append(_censored_line(x[idx], logc[idx], s[idx], start=(a, b, np.log(sigma)))[1])
    low, high = np.quantile(slopes, [alpha, 1.0 - alpha]) if slopes else (np.nan, np.nan)
    return Growth(Estimate(float(np.exp(b)), float(np.exp(low)), float(np.exp(high))), b, a, sigma,
                  len(x), int((~s).sum()))
