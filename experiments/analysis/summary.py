"""The per-task summary table of a sweep, as numbers and as Markdown."""
from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np

from btype._checks import check_int
from experiments.analysis import stats
from experiments.analysis.groups import by_method, natural_key
from experiments.analysis.growth import growth_of
from experiments.sweep.spec import task_size

__all__ = ["final_value", "task_rows", "scaling_rows", "link_rows", "summary_markdown", "write_summary",
           "network_text", "chosen_lines", "baseline_lines"]


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


def task_rows(runs, *, n_boot=2000, seed=0, gate_limit=None) -> list[dict]:
    """One row of numbers per method for the runs of one task.

    Keys: ``method``, ``runs``, ``solved``, ``success`` (Estimate), ``seconds``,
    ``evaluations`` and ``gate_evals`` (Estimate of the median to solve, inf when
    fewer than half the runs solved) with ``*_budget`` (largest censoring point),
    ``test_accuracy`` and ``train_fitness`` (median of final values), ``test_iqm``,
    ``stop_reasons`` (``{reason: runs}`` from the footers, ``"?"`` for files that do not
    say) and ``pruned_gates``/``pruned_depth`` (median over solved runs of the pruned
    machine's size; NaN without any). With ``gate_limit``: ``fits`` (runs, solved or not,
    whose pruned machine has at most that many gates) out of ``sized`` (runs whose footer
    gives a pruned size).
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
        reasons = Counter((r.footer or {}).get("stop_reason") or "?" for r in group)
        row["stop_reasons"] = dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
        for key in ("pruned_gates", "pruned_depth"):
            sizes = [r.footer[key] for r in group
                     if r.footer and r.footer.get("solved") and r.footer.get(key) is not None]
            row[key] = float(np.median(sizes)) if sizes else float("nan")
        if gate_limit is not None:
            gates = [r.footer["pruned_gates"] for r in group
                     if r.footer and r.footer.get("pruned_gates") is not None]
            row["sized"], row["fits"] = len(gates), sum(g <= gate_limit for g in gates)
        rows.append(row)
    return rows


def scaling_rows(runs, *, axes=("evaluations", "gate_evals", "seconds"), n_boot=200, seed=0) -> list[dict]:
    """Growth of cost-to-solve with input count per (task family, method, axis).

    Keys: ``family``, ``method``, ``axis``, ``inputs`` (the input counts), ``growth``
    (:class:`~experiments.analysis.growth.Growth`, or None when fewer than two runs solved). Only
    families with two or more input counts, and runs whose header gives the input
    count, take part.
    """
    families = {}
    for run in runs:
        size, inputs = task_size(run.task), run.header.get("task", {}).get("n_inputs")
        if size is not None and isinstance(inputs, int):
            families.setdefault(size[0], []).append((inputs, run))
    rows = []
    for family in sorted(families):
        members = families[family]
        if len({n for n, _ in members}) < 2:
            continue
        for method in by_method([r for _, r in members]):
            group = [r for _, r in members if r.method == method]
            inputs = sorted({n for n, r in members if r.method == method})
            for axis in axes:
                rows.append({"family": family, "method": method, "axis": axis, "inputs": inputs,
                             "growth": growth_of(group, axis, n_boot=n_boot, seed=seed)})
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


_VIEWS = {
    "matched": ("Matched view", "every method trains the same starting machine (the same wiring "
                "for every method of a seed) with the preset's options: what each method does with "
                "a machine it was not chosen for."),
    "tuned": ("Tuned view", "each method runs at the machine shape and options its tuning stage "
              "chose per task family, on tuning seeds that the evaluation seeds never overlap "
              "(the choices and the rule are in `chosen.json`): each method at its best."),
}


def _shape_text(shape) -> str:
    changed = {k: v for k, v in shape.items() if v != 1}
    return ", ".join(f"{k} x{v:g}" for k, v in sorted(changed.items())) or "as matched"


def chosen_lines(chosen) -> list[str]:
    """The tuning stage's choices (``chosen.json``) as a Markdown table."""
    lines = ["## Settings chosen by the tuning stage", "",
             f"Rule: {chosen['rule']}", "",
             f"Tuning seeds {chosen['tuning_seeds'][0]}–{chosen['tuning_seeds'][-1]}, evaluation "
             f"seeds {chosen['evaluation_seeds'][0]}–{chosen['evaluation_seeds'][-1]}; rungs at "
             f"{', '.join(f'{r:g}' for r in chosen['rungs'])} of the per-run budget "
             f"({chosen['budget_per_run']:g} {chosen['axis']}), keeping {chosen['keep']:.2g} of the "
             f"candidates after each; at most {chosen['planned']['limit']:.3g} {chosen['axis']} "
             f"in {sum(chosen['planned']['runs_per_rung'])} tuning runs.", "",
             "| method | family | tuned on | candidates | chosen | machine | options | tuning runs solved |",
             "|---|---|---|---|---|---|---|---|"]
    for c in sorted(chosen["choices"], key=lambda c: (natural_key(c["family"]), c["method"])):
        last = c["rungs"][-1]["ranking"][0] if c["rungs"] else None
        solved = f"{last['solved']}/{last['runs']} (rung {c['rungs'][-1]['rung'] + 1})" if last else "– (one candidate)"
        options = ", ".join(f"{k}={v}" for k, v in sorted(c["options"].items())) or "preset's"
        net = c["network"]
        machine = f"{net.get('n_gates')} gates" + (f", {net['layers']} layers" if net.get("layers") else "")
        lines.append(f"| {c['method']} | {c['family']} | {c['tuned_on']} | {c['candidates']} "
                     f"| {c['candidate']}{' (matched)' if c['matched'] else ''} "
                     f"| {machine} ({_shape_text(c['shape'])}) | {options} | {solved} |")
    return lines + [""]


def baseline_lines(runs) -> list[str]:
    """Table rows of the scikit-learn baselines of one task."""
    lines = []
    for run in sorted(runs, key=lambda r: r.method):
        footer = run.footer or {}
        lines.append(f"| {run.method}: {footer.get('description', run.method)} (scikit-learn, same "
                     f"binarised inputs) | – | – | – | – | – | {_num(footer.get('test_accuracy'))} "
                     f"| fitted | – |")
    return lines


def _glance_cell(row, classification) -> str:
    cell = f"{row['solved']}/{row['runs']}"
    if math.isfinite(row["gate_evals"].value):
        return f"{cell} · {_num(row['gate_evals'].value)}"
    if classification and not math.isnan(row["test_accuracy"]):
        return f"{row['test_accuracy']:.1%}"
    return cell


def glance_lines(runs, rows) -> list[str]:
    """The summary's first table: a row per task, a column per method; a cell is runs solved
    and, where at least half solved, the median gate-evaluations to solve; on a
    classification task that no run solves, the median final test accuracy."""
    methods = list(by_method(runs))
    if not rows:
        return []
    lines = ["## At a glance", "",
             "Runs solved and, where at least half solved, the median gate-evaluations to solve "
             "(the hardware-neutral axis); on classification tasks that no run solves, the median "
             "final test accuracy. Details and intervals in the task sections below.", "",
             "| task | " + " | ".join(methods) + " |", "|---|" + "---:|" * len(methods)]
    for task, task_rows_ in rows.items():
        by = {row["method"]: row for row in task_rows_}
        classification = any(r.header.get("task", {}).get("n_classes") for r in runs if r.task == task)
        lines.append(f"| {task} | " + " | ".join(_glance_cell(by[m], classification) if m in by else "–"
                                                for m in methods) + " |")
    return lines + [""]


def _header_lines(runs, caption, command, view) -> list[str]:
    budget = (runs[0].header.get("sweep", {}) if runs else {})
    title, words = _VIEWS.get(view, (None, None))
    lines = [f"# Sweep summary: {title.lower()}" if title else "# Sweep summary", ""]
    if title:
        lines += [f"**{title}**: {words}", ""]
    if caption:
        lines += [caption[0].upper() + caption[1:] + ".", ""]
    if budget:
        lines += [f"Preset `{budget.get('preset')}`, runs stopped by {budget.get('axis')} "
                  f"(budget {budget.get('budget')} per run times the task's scale, or on solving).", ""]
    if command:
        lines += [f"Regenerate: `{command}`", ""]
    return lines + ["Time and evaluations to solve are medians over seeds with 95% bootstrap intervals; "
                    "runs that never solved count as not solved (censored), so a median is *not reached* "
                    "when fewer than half the runs solved. Success intervals are Wilson intervals.", ""]


def _task_lines(task, group, rows, references, gate_limit) -> list[str]:
    machines = sorted({network_text(r) for r in group})
    where = (f"{machines[0]}." if len(machines) == 1 else "Machines per method: " + "; ".join(
        f"{m}: {network_text(next(r for r in group if r.method == m))}"
        for m in sorted({r.method for r in group})) + ".")
    lines = [f"## {task}", "", where, "",
             "| method | solved | success rate (95% CI) | time to solve, s | evaluations to solve "
             "| gate-evals to solve | final test accuracy, median (IQM) | stopped by "
             "| pruned gates (depth), median of solved |"
             + ("" if gate_limit is None else f" fit in {gate_limit:,} gates, pruned |"),
             "|---|---|---|---|---|---|---|---|---|" + ("" if gate_limit is None else "---|")]
    for row in rows:
        fits = "" if gate_limit is None else (
            f" {row['fits']}/{row['sized']} |" if row["sized"] else " – |")
        s = row["success"]
        lines.append(
            f"| {row['method']} | {row['solved']}/{row['runs']} | {s.value:.0%} ({s.low:.0%}–{s.high:.0%}) "
            f"| {_median_cell(row['seconds'], row['seconds_budget'])} "
            f"| {_median_cell(row['evaluations'], row['evaluations_budget'])} "
            f"| {_median_cell(row['gate_evals'], row['gate_evals_budget'])} "
            f"| {_num(row['test_accuracy'])} ({_num(row['test_iqm'])}) "
            f"| {', '.join(f'{k} {v}' for k, v in row['stop_reasons'].items())} "
            f"| {_num(row['pruned_gates'])} ({_num(row['pruned_depth'])}) |{fits}")
    return lines + baseline_lines(references) + [""]


def _growth_lines(main, seed) -> list[str]:
    scaling = scaling_rows(main, seed=seed)
    if not scaling:
        return []
    lines = ["## Growth with input count", "",
             "How many times the cost to solve grows per extra input: a log-linear fit with "
             "unsolved runs censored where they stopped (maximum likelihood), 95% bootstrap "
             "interval over runs resampled within each task.", "",
             "| family | inputs | method | axis | growth per input (95% CI) | runs (unsolved) |",
             "|---|---|---|---|---|---|"]
    for row in scaling:
        g = row["growth"]
        cell = "–" if g is None else f"{g.factor.value:.3g}× ({g.factor.low:.3g}–{g.factor.high:.3g})"
        runs_cell = "too few solved" if g is None else f"{g.n_runs} ({g.n_censored})"
        lines.append(f"| {row['family']} | {', '.join(map(str, row['inputs']))} | {row['method']} "
                     f"| {row['axis']} | {cell} | {runs_cell} |")
    return lines + [""]


def _link_lines(runs) -> list[str]:
    link_tasks = sorted({r.task for r in runs if r.link != "switch"}, key=natural_key)
    if not link_tasks:
        return []
    lines = ["## Link modes: switch against turing B-types", "",
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
    return lines + [""]


def summary_markdown(runs, *, caption="", command="", n_boot=2000, seed=0, view=None,
                     chosen=None, gate_limit=None) -> str:
    """The whole summary: the view, one table per task (switch mode; the baselines of a
    data task as rows of its table), the growth rates, then the link-mode study.

    ``view``: ``"matched"`` or ``"tuned"`` (said at the top); ``chosen``: the tuning
    stage's choice (``chosen.json``), tabulated; ``gate_limit``: a column of the runs whose
    pruned machine has at most that many gates (NAND gates: a learning-from-examples
    contest's limit, e.g. 5,000 two-input gates)."""
    if gate_limit is not None:
        gate_limit = check_gate_limit(gate_limit)
    references = [r for r in runs if r.kind == "baseline"]
    runs = [r for r in runs if r.kind != "baseline"]
    main = [r for r in runs if r.link == "switch"]
    tasks = sorted({r.task for r in main}, key=natural_key)
    lines = _header_lines(runs, caption, command, view)
    if chosen:
        lines += chosen_lines(chosen)
    rows = {task: task_rows([r for r in main if r.task == task], n_boot=n_boot, seed=seed,
                            gate_limit=gate_limit) for task in tasks}
    lines += glance_lines(main, rows)
    for task in tasks:
        lines += _task_lines(task, [r for r in main if r.task == task], rows[task],
                             [r for r in references if r.task == task], gate_limit)
    lines += _growth_lines(main, seed) + _link_lines(runs)
    return "\n".join(lines)


def check_gate_limit(value) -> int:
    """A gate limit: a whole number >= 1 (ValueError / TypeError naming it otherwise)."""
    return check_int(value, "gate_limit", 1)


def write_summary(runs, path, **kwargs) -> Path:
    """Write :func:`summary_markdown` to ``path``."""
    path = Path(path)
    path.write_text(summary_markdown(runs, **kwargs), encoding="utf-8")
    return path
