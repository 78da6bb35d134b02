"""Axes-level plots of sweep results (matplotlib, Agg).

Every function takes a list of runs (objects with ``.method``, ``.task``, ``.link`` and
``.records``, as :func:`experiments.sweep.runfiles.load_runs` returns), draws on ``ax`` (a new
figure when None) and returns the axes. Numbers come from :mod:`experiments.analysis`;
each method has one colour in every figure (:data:`METHOD_COLORS`).
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from experiments.analysis import stats  # noqa: E402
from experiments.analysis.anchors import CGP_MEDIANS  # noqa: E402
from experiments.analysis.growth import fit_growth  # noqa: E402
from experiments.analysis.groups import by_method  # noqa: E402
from experiments.sweep.spec import task_size  # noqa: E402

__all__ = ["METHOD_COLORS", "LINK_STYLES", "AXIS_LABELS", "method_color", "plot_convergence", "plot_ecdf",
           "plot_scaling", "plot_anchors", "plot_hardening_gap", "plot_link_modes", "plot_references",
           "machine_caption"]

METHOD_COLORS = {"es": "#1f77b4", "anneal": "#ff7f0e", "ga": "#2ca02c", "random": "#7f7f7f",
                 "sgd": "#d62728"}
_SPARE_COLORS = ("#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")
LINK_STYLES = {"switch": "-", "turing": "--"}
AXIS_LABELS = {"seconds": "wall time (s)", "gate_evals": "gate-evaluations",
               "evaluations": "evaluations", "train_fitness": "train fitness",
               "test_accuracy": "test accuracy", "relaxed_train_fitness": "relaxed train fitness",
               "relaxed_test_accuracy": "relaxed test accuracy"}
_SIZE_IS_INPUTS = ("parity", "epar", "mux", "majority")



def method_color(method: str) -> str:
    """The method's colour; unknown methods get a spare colour fixed by their name."""
    if method in METHOD_COLORS:
        return METHOD_COLORS[method]
    return _SPARE_COLORS[sum(map(ord, method)) % len(_SPARE_COLORS)]


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.2))
    return ax


def _label(key):
    return AXIS_LABELS.get(key, key.replace("_", " "))


def _use_log(grid) -> bool:
    return bool(grid[0] > 0)


def _band(ax, grid, traces, x, y, mode, color, label, linestyle="-", n_boot=1000, seed=0):
    curves = stats.resample_traces(traces, x, y, grid, mode)
    if np.isnan(curves).all():
        return None
    centre, low, high = stats.curve_band(curves, n_boot=n_boot, seed=seed)
    (line,) = ax.plot(grid, centre, color=color, linestyle=linestyle, label=label, lw=1.6)
    ax.fill_between(grid, low, high, color=color, alpha=0.18, lw=0)
    return line


def plot_convergence(runs, *, x="seconds", y="train_fitness", ax=None, mode=None, grid=None,
                     n_boot=1000, seed=0):
    """Median of ``y`` against ``x`` across seeds, per method, with a bootstrap band.

    Parameters
    ----------
    runs : list of runs (one task)
    x : str
        ``"seconds"``, ``"gate_evals"`` or ``"evaluations"``.
    y : str
        ``"train_fitness"``, ``"test_accuracy"``, ...
    mode : {"best", "last"}, optional
        Read each run as best-so-far (default for ``train_fitness``) or last recorded value.
    grid : array, optional
        Where to read the curves (default: :func:`stats.common_grid` of the runs).
    """
    ax = _axes(ax)
    traces = [r.records for r in runs]
    grid = stats.common_grid(traces, x) if grid is None else np.asarray(grid, float)
    mode = mode or ("best" if y == "train_fitness" else "last")
    for method, group in by_method(runs).items():
        _band(ax, grid, [r.records for r in group], x, y, mode, method_color(method),
              f"{method} ({len(group)})", n_boot=n_boot, seed=seed)
    if _use_log(grid):
        ax.set_xscale("log")
    ax.set_xlabel(_label(x))
    ax.set_ylabel(_label(y))
    return ax


def plot_ecdf(runs, *, axis="seconds", ax=None):
    """Share of runs solved by each point of ``axis``, per method; unsolved runs stay counted.

    A curve ends at its method's success rate, at the largest budget reached.
    """
    ax = _axes(ax)
    lows, highs = [], []
    groups = by_method(runs)
    for group in groups.values():
        values, solved = stats.solve_points([r.records for r in group], axis)
        lows.extend(values[values > 0])
        highs.extend(values)
    if not highs:
        return ax
    start = min(lows) if lows else 1.0
    end = max(max(highs), start * 1.01)
    for method, group in groups.items():
        values, solved = stats.solve_points([r.records for r in group], axis)
        xs, ys = stats.ecdf(values, solved)
        xs = np.maximum(xs, start)
        ax.step(np.r_[start, xs, end], np.r_[0.0, ys, ys[-1] if len(ys) else 0.0], where="post",
                color=method_color(method), lw=1.6,
                label=f"{method} ({int(solved.sum())}/{len(solved)})")
    if end / start > 100:
        ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(_label(axis) + " to solve")
    ax.set_ylabel("share of runs solved")
    return ax


def _draw_growth(ax, fit, offset, color, ceiling):
    """The dashed line of a fit from :func:`fit_growth` over the family's sizes, below the budget."""
    inputs, growth = fit
    sizes = np.array(sorted(inputs), dtype=float)
    line = np.exp(growth.intercept + growth.slope * np.array([inputs[k] for k in sorted(inputs)], dtype=float))
    keep = line <= ceiling
    if keep.sum() >= 2:
        ax.plot(sizes[keep] + offset, line[keep], color=color, lw=0.9, linestyle="--", alpha=0.8)


def _draw_cells(ax, xs, cells, axis, ceiling, color, label, n_boot, seed):
    """One method's points: at each x the median ``axis``-to-solve of its cell of runs with
    a bootstrap interval and the runs solved beside it, or, where fewer than half solved
    (the median was not reached), a hollow triangle at the budget line ``ceiling`` (a
    number, or one per x), without a label. Returns the intervals' lower ends."""
    ceilings = np.broadcast_to(np.asarray(ceiling, dtype=float), (len(xs),))
    points, errs, missing, lows = [], [], [], []
    for x, cell, top in zip(xs, cells, ceilings):
        values, solved = stats.solve_points([r.records for r in cell], axis)
        est = stats.median_ci(np.where(solved, values, np.inf), n_boot=n_boot, seed=seed)
        if np.isfinite(est.value):
            ax.annotate(f"{int(solved.sum())}/{len(solved)}", (x, est.value),
                        textcoords="offset points", xytext=(3, 3), fontsize=6, color=color)
            lows.append(est.low)
            points.append((x, est.value))
            errs.append((est.value - est.low, min(est.high, top) - est.value))
        else:
            missing.append((x, top))
    if points:
        ax.errorbar(*zip(*points), yerr=np.array(errs).T, color=color, marker="o", ms=4, lw=1.4,
                    capsize=2, label=label)
    if missing:
        ax.plot(*zip(*missing), linestyle="none", marker="^", ms=7, markerfacecolor="none", color=color,
                label=None if points else label)
    return lows


def plot_scaling(runs, *, family="parity", axis="seconds", ax=None, n_boot=2000, seed=0):
    """Median ``axis``-to-solve against problem size for one task family (log scale).

    Points are medians over seeds with bootstrap intervals, annotated with the runs
    solved. Where fewer than half the runs solved (the median was not reached) a hollow
    triangle sits at the budget line, without a label (the summary table has the counts).
    Where the family has two or more sizes and a method solved at least half its runs,
    its fitted growth (``growth.growth_rate``: the censored log-linear fit the summary
    tabulates) is a dashed line over the sizes (up to the budget line), its factor per
    input written in the panel's corner.
    """
    ax = _axes(ax)
    runs = [r for r in runs if (task_size(r.task) or (None,))[0] == family]
    if not runs:
        return ax
    ceiling = max(stats.solve_point(r.records, axis)[0] for r in runs)
    ceiling = ceiling if ceiling > 0 else 1.0
    groups = by_method(runs)
    offsets = np.linspace(-0.12, 0.12, len(groups)) if len(groups) > 1 else [0.0]
    lows, n_fits = [], 0
    for offset, (method, group) in zip(offsets, groups.items()):
        color = method_color(method)
        sizes = sorted({task_size(r.task)[1] for r in group})
        cells = [[r for r in group if task_size(r.task)[1] == size] for size in sizes]
        lows += _draw_cells(ax, [size + offset for size in sizes], cells, axis, ceiling, color, method,
                            n_boot, seed)
        fit = fit_growth(group, axis)
        if fit is not None:
            _draw_growth(ax, fit, offset, color, ceiling)
            ax.text(0.02, 0.97 - 0.07 * n_fits, f"{method} ×{fit[1].factor.value:.3g} per input",
                    transform=ax.transAxes, fontsize=6, color=color, va="top")
            n_fits += 1
    anchors = [(task_size(t)[1], v) for t, v in CGP_MEDIANS.items()
               if axis == "evaluations" and task_size(t)[0] == family and t in {r.task for r in runs}]
    if anchors:
        ax.plot(*zip(*anchors), linestyle="none", marker="*", ms=10, color="black",
                label="CGP, published median")
    ax.axhline(ceiling, color="0.6", lw=0.8, linestyle=":")
    floor = min([v for v in lows if v > 0] + [v for _, v in anchors] + [ceiling])
    top = max([ceiling * 2.5] + [2.0 * v for _, v in anchors])
    top *= 10.0 ** (0.6 * n_fits)  # headroom for the fits' text in the corner
    ax.set_ylim(floor / 2.0, top)  # before the log scale, which warns on a flat autoscale
    ax.set_yscale("log")
    sizes = sorted({task_size(r.task)[1] for r in runs})
    ax.set_xticks(sizes)
    ax.set_xlim(sizes[0] - 0.5, sizes[-1] + 0.5)
    ax.set_xlabel(f"{family} size" + (" (inputs)" if family in _SIZE_IS_INPUTS else " n"))
    ax.set_ylabel(f"median {_label(axis)} to solve")
    return ax


def plot_anchors(runs, *, ax=None, n_boot=2000, seed=0):
    """The tasks with a published Cartesian GP median side by side: each method's median
    evaluations to solve (candidates evaluated; for gradient descent, training samples
    seen) with its interval and runs solved, a hollow triangle at the task's budget line
    (dotted) where fewer than half solved, and the CGP median as a black star."""
    ax = _axes(ax)
    present = {r.task for r in runs}
    tasks = [t for t in CGP_MEDIANS if t in present]
    if not tasks:
        return ax
    ceilings = [max(stats.solve_point(r.records, "evaluations")[0] for r in runs if r.task == t) or 1.0
                for t in tasks]
    groups = by_method([r for r in runs if r.task in tasks])
    offsets = np.linspace(-0.25, 0.25, len(groups)) if len(groups) > 1 else [0.0]
    lows = []
    for offset, (method, group) in zip(offsets, groups.items()):
        cells = [[r for r in group if r.task == t] for t in tasks]
        keep = [i for i, cell in enumerate(cells) if cell]
        lows += _draw_cells(ax, [i + offset for i in keep], [cells[i] for i in keep], "evaluations",
                            [ceilings[i] for i in keep], method_color(method), method, n_boot, seed)
    for i, top in enumerate(ceilings):
        ax.plot([i - 0.4, i + 0.4], [top, top], color="0.6", lw=0.8, linestyle=":")
    ax.plot(range(len(tasks)), [CGP_MEDIANS[t] for t in tasks], linestyle="none", marker="*", ms=11,
            color="black", label="CGP, published median")
    values = [v for v in lows if v > 0] + [CGP_MEDIANS[t] for t in tasks] + ceilings
    ax.set_ylim(min(values) / 2.0, max(values) * 3.0)
    ax.set_yscale("log")
    ax.set_xticks(range(len(tasks)))
    ax.set_xticklabels(tasks)
    ax.set_xlim(-0.6, len(tasks) - 0.4)
    ax.set_xlabel("task with a published CGP median")
    ax.set_ylabel(f"median {_label('evaluations')} to solve")
    return ax


def plot_hardening_gap(runs, *, split="train", x="seconds", ax=None, n_boot=1000, seed=0):
    """Relaxed (dashed) against hardened (solid) fitness over training, per method.

    Only runs whose records carry ``relaxed_{split}_...`` fields (gradient descent) are drawn;
    the gap between the curves is what hardening the relaxation costs.
    """
    ax = _axes(ax)
    hard_key = "train_fitness" if split == "train" else "test_accuracy"
    relaxed_key = f"relaxed_{hard_key}"
    runs = [r for r in runs if any(rec.get(relaxed_key) is not None for rec in r.records)]
    if not runs:
        return ax
    grid = stats.common_grid([r.records for r in runs], x)
    for method, group in by_method(runs).items():
        traces = [r.records for r in group]
        color = method_color(method)
        _band(ax, grid, traces, x, hard_key, "last", color, f"{method} hardened", "-", n_boot, seed)
        _band(ax, grid, traces, x, relaxed_key, "last", color, f"{method} relaxed", "--", n_boot, seed)
    if _use_log(grid):
        ax.set_xscale("log")
    ax.set_xlabel(_label(x))
    ax.set_ylabel(_label(hard_key))
    return ax


def plot_link_modes(runs, *, x="seconds", y="train_fitness", ax=None, n_boot=1000, seed=0):
    """Switch-mode (solid) against turing-mode (dashed) B-types, per method, one task.

    Turing-mode B-type gates can only compute monotone functions, so on tasks such as
    parity their curves stall below 1 while switch mode goes on to solve.
    """
    ax = _axes(ax)
    traces = [r.records for r in runs]
    if not traces:
        return ax
    grid = stats.common_grid(traces, x)
    mode = "best" if y == "train_fitness" else "last"
    for method, group in by_method(runs).items():
        for link in sorted({r.link for r in group}, key=lambda k: (k != "switch", k)):
            cell = [r for r in group if r.link == link]
            _, solved = stats.solve_points([r.records for r in cell], x)
            _band(ax, grid, [r.records for r in cell], x, y, mode, method_color(method),
                  f"{method} {link} ({int(solved.sum())}/{len(cell)} solved)",
                  LINK_STYLES.get(link, ":"), n_boot, seed)
    if _use_log(grid):
        ax.set_xscale("log")
    ax.set_xlabel(_label(x))
    ax.set_ylabel(_label(y))
    return ax


def plot_references(runs, *, ax=None, key="test_accuracy"):
    """Horizontal dotted lines at each reference run's final ``key`` (the scikit-learn
    baselines of a data task), labelled with the baseline's name."""
    ax = _axes(ax)
    for i, run in enumerate(sorted(runs, key=lambda r: r.method)):
        value = (run.footer or {}).get(key)
        if value is None:
            continue
        ax.axhline(value, color=_REFERENCE_GREYS[i % len(_REFERENCE_GREYS)], lw=1.1,
                   linestyle=_REFERENCE_STYLES[i % len(_REFERENCE_STYLES)],
                   label=f"{run.method} (scikit-learn)")
    return ax


_REFERENCE_GREYS = ("0.15", "0.4", "0.6")
_REFERENCE_STYLES = (":", "-.", (0, (5, 2)))


def machine_caption(runs) -> str:
    """Where the runs were made, from their headers: CPU, cores, GPU, btype version."""
    seen = []
    for run in runs:
        m = run.machine
        version = run.header.get("versions", {}).get("btype", "?")
        gpu = m.get("gpu") or "no GPU"
        text = f"{m.get('cpu', 'unknown CPU')} ({m.get('cores', '?')} cores), {gpu}, btype {version}"
        if text not in seen:
            seen.append(text)
    return "made on " + "; ".join(seen) if seen else ""
