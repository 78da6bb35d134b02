"""Growth of cost-to-solve with task size: a censored log-linear fit and its use on runs.

:func:`growth_rate` fits arrays; :func:`growth_of` and :func:`fit_growth` read runs (as
:func:`experiments.sweep.runfiles.load_runs` returns them).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from btype._checks import check_int
from experiments.analysis import stats
from experiments.analysis.stats import Estimate, _as_sample, _check_confidence
from experiments.sweep.spec import task_size

__all__ = ["Growth", "growth_rate", "growth_of", "fit_growth"]


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
    n_boot = check_int(n_boot, "n_boot", 1)
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


def growth_of(runs, axis, *, n_boot=200, seed=0):
    """``growth_rate`` of cost-to-solve on ``axis`` against input count (from each
    run's header) over ``runs`` of one method and family; None when a run lacks its input
    count or the fit is impossible (fewer than two input counts or two solved runs)."""
    inputs = [r.header.get("task", {}).get("n_inputs") for r in runs]
    if not all(isinstance(n, int) for n in inputs):
        return None
    values, solved = stats.solve_points([r.records for r in runs], axis)
    try:
        return growth_rate(np.array(inputs, dtype=float), np.maximum(values, 1e-12), solved,
                                 n_boot=n_boot, seed=seed)
    except ValueError:
        return None


def fit_growth(group, axis):
    """The fitted growth of one method's runs of a family, or None: fewer than two sizes,
    fewer than half its runs solved (the fit would be mostly extrapolation), or no fit."""
    inputs = {task_size(r.task)[1]: r.header.get("task", {}).get("n_inputs") for r in group}
    _, solved = stats.solve_points([r.records for r in group], axis)
    if len(inputs) < 2 or 2 * solved.sum() < len(solved):
        return None
    growth = growth_of(group, axis, n_boot=1)
    return None if growth is None else (inputs, growth)
