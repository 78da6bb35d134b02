"""The per-task summary table of a sweep, as numbers and as Markdown."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from . import stats
from .plots import by_method

__all__ = ["final_value", "task_rows", "link_rows", "summary_markdown", "write_summary",
           "natural_key", "network_text"]


def natural_key(name: str):
    """Sort key putting ``parity10`` after ``parity9``."""
    head = name.rstrip("0123456789")
    tail = name[len(head):]
    return (head, int(tail) if tail else -1, name)


def final_value(run, key):
    """A run's final ``key`` (``train_fitness``, ``test_accuracy``): the footer's, else the
    last record's that has one; NaN if none."""
    footer = run.footer or {}
    if footer.get(key) is not None:
        return float(footer[key])
    for record in reversed(run.records):
        if record.get(key) is not None:
            return float(record[key])
    return float("nan")


def _solve_estimate(group, axis, n_boot, seed):
    values, solved = stats.solve_points([r.records for r in group], axis)
    censor = float(values.max()) if len(values) else float("nan")
    return stats.median_ci(np.where(solved, values, np.inf), n_boot=n_boot, seed=seed), censor


def task_rows(runs, *, n_boot=2000, seed=0) -> list[dict]:
    """One row of numbers per method for the runs of one task.

    Keys: ``method``, ``runs``, ``solved``, ``success`` (Estimate), ``seconds``,
    ``evaluations`` and ``gate_evals`` (Estimate of the median to solve, inf when
    fewer than half the runs solved) with ``*_budget`` (largest censoring point),
    ``test_accuracy`` and ``train_fitness`` (median of final values), ``test_iqm``.
    """
    rows = []
    for method, group in by_method(runs).items():
        solved = np.array([stats.solve_point(r.records)[1] for r in group])
        row = {"method": method, "runs": len(group), "solved": int(solved.sum()),
               "success": stats.success_rate(solved)}
        for axis in ("seconds", "evaluations", "gate_evals"):
            row[axis], row[f"{axis}_budget"] = _solve_estimate(group, axis, n_boot, seed)
        for key in ("test_accuracy", "train_fitness"):
            finals = np.array([final_value(r, key) for r in group])
            finals = finals[~np.isnan(finals)]
            row[key] = float(np.median(finals)) if len(finals) else float("nan")
            if key == "test_accuracy":
                row["test_iqm"] = float(stats.iqm(finals)) if len(finals) else float("nan")
        rows.append(row)
    return rows


def link_rows(runs) -> list[dict]:
    """Switch against turing mode for the runs of one task: one row per (method, link)."""
    rows = []
    for method, group in by_method(runs).items():
        for link in sorted({r.link for r in group}, key=lambda k: (k != "switch", k)):
            cell = [r for r in group if r.link == link]
            solved = np.array([stats.solve_point(r.records)[1] for r in cell])
            finals = np.array([final_value(r, "train_fitness") for r in cell])
            rows.append({"method": method, "link": link, "runs": len(cell), "solved": int(solved.sum()),
                         "success": stats.success_rate(solved),
                         "train_fitness": float(np.nanmedian(finals)) if len(finals) else float("nan"),
                         "best_train_fitness": float(np.nanmax(finals)) if len(finals) else float("nan")})
    return rows


def _num(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if math.isinf(x):
        return "∞"
    return f"{x:.3g}"


def _median_cell(est, budget) -> str:
    if not math.isfinite(est.value):
        return f"not reached (budget {_num(budget)})"
    return f"{_num(est.value)} ({_num(est.low)}–{_num(est.high)})"


def network_text(run) -> str:
    """``"switch-mode B-type, 32 gates, layered, 4 layers"`` from a run's header."""
    net = run.job.get("network", {})
    parts = [f"{net.get('link', 'switch')}-mode B-type", f"{net.get('n_gates', '?')} gates",
             net.get("kind", "layered")]
    if net.get("layers"):
        parts.append(f"{net['layers']} layers")
    if net.get("outputs_per_class"):
        parts.append(f"{net['outputs_per_class']} outputs per class")
    return ", ".join(parts)


def summary_markdown(runs, *, caption="", command="", n_boot=2000, seed=0) -> str:
    """The whole summary: one table per task (switch mode), then the link-mode study."""
    main = [r for r in runs if r.link == "switch"]
    tasks = sorted({r.task for r in main}, key=natural_key)
    budget = (runs[0].header.get("sweep", {}) if runs else {})
    lines = ["# Sweep summary", ""]
    if caption:
        lines += [caption[0].upper() + caption[1:] + ".", ""]
    if budget:
        lines += [f"Preset `{budget.get('preset')}`, runs stopped by {budget.get('axis')} "
                  f"(budget {budget.get('budget')} per run times the task's scale, or on solving).", ""]
    if command:
        lines += [f"Regenerate: `{command}`", ""]
    lines += ["Time and evaluations to solve are medians over seeds with 95% bootstrap intervals; "
              "runs that never solved count as not solved (censored), so a median is *not reached* "
              "when fewer than half the runs solved. Success intervals are Wilson intervals.", ""]
    for task in tasks:
        group = [r for r in main if r.task == task]
        lines += [f"## {task}", "", f"{network_text(group[0])}.", "",
                  "| method | solved | success rate (95% CI) | time to solve, s | evaluations to solve "
                  "| gate-evals to solve | final test accuracy, median (IQM) |",
                  "|---|---|---|---|---|---|---|"]
        for row in task_rows(group, n_boot=n_boot, seed=seed):
            s = row["success"]
            lines.append(
                f"| {row['method']} | {row['solved']}/{row['runs']} | {s.value:.0%} ({s.low:.0%}–{s.high:.0%}) "
                f"| {_median_cell(row['seconds'], row['seconds_budget'])} "
                f"| {_median_cell(row['evaluations'], row['evaluations_budget'])} "
                f"| {_median_cell(row['gate_evals'], row['gate_evals_budget'])} "
                f"| {_num(row['test_accuracy'])} ({_num(row['test_iqm'])}) |")
        lines.append("")
    link_tasks = sorted({r.task for r in runs if r.link != "switch"}, key=natural_key)
    if link_tasks:
        lines += ["## Link modes: switch against turing B-types", "",
                  "Same wiring and seeds. A turing-mode gate with both links modified computes "
                  "OR, a copy of one input, or 0, so a turing-mode B-type computes only ORs of its "
                  "inputs: no NOT, no AND, no parity.", "",
                  "| task | method | link | solved | success rate (95% CI) | final train fitness, "
                  "median | best |", "|---|---|---|---|---|---|---|"]
        methods = {r.method for r in runs if r.link != "switch"}
        for task in link_tasks:
            for row in link_rows([r for r in runs if r.task == task and r.method in methods]):
                s = row["success"]
                lines.append(f"| {task} | {row['method']} | {row['link']} | {row['solved']}/{row['runs']} "
                             f"| {s.value:.0%} ({s.low:.0%}–{s.high:.0%}) | {_num(row['train_fitness'])} "
                             f"| {_num(row['best_train_fitness'])} |")
        lines.append("")
    return "\n".join(lines)


def write_summary(runs, path, **kwargs) -> Path:
    """Write :func:`summary_markdown` to ``path``."""
    path = Path(path)
    path.write_text(summary_markdown(runs, **kwargs), encoding="utf-8")
    return path
