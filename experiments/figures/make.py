"""Every figure and the summary of a sweep, drawn from its run files alone.

Figures go to ``RESULTS_DIR/figures`` as PNG and SVG; the summary to
``RESULTS_DIR/summary.md``. ``btype plot`` calls :func:`make_all`, and ``btype compare``
at the end of a sweep.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from experiments.analysis.groups import natural_key
from experiments.analysis.summary import network_text, write_summary
from experiments.figures import plots
from experiments.sweep import runfiles

__all__ = ["make_all", "view_of", "FIGURES", "VIEW_WORDS"]

#: The figure files (stems) a complete sweep produces.
FIGURES = ("convergence_train_seconds", "convergence_train_gate_evals", "convergence_test_seconds",
           "convergence_test_gate_evals", "ecdf_seconds", "ecdf_gate_evals", "scaling",
           "scaling_evaluations", "scaling_seconds",
           "hardening_gap", "link_modes")
_SCALING_FAMILIES = ("parity", "epar", "mux", "add", "addc", "mul", "cmp")
#: One scaling figure per cost axis: (file stem, words); gate-evaluations, the
#: hardware-neutral axis, is the main one.
_SCALING_AXES = {"gate_evals": ("scaling", "gate-evaluations"),
                 "evaluations": ("scaling_evaluations", "evaluations"),
                 "seconds": ("scaling_seconds", "wall time")}


def _grid(n_panels, ncols=4, size=(3.6, 2.8)):
    rows = max(1, math.ceil(n_panels / ncols))
    cols = max(1, math.ceil(n_panels / rows))  # balanced rows: 6 panels as 2 x 3, not 5 + 1
    fig, axes = plots.plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows + 1.0),
                                   squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    return fig, flat[:n_panels]


def _legend_below(fig, axes) -> float:
    """One legend for the whole figure, under the panels (never over the data): each
    label once, a method's run counts dropped (they differ between panels). Returns the
    bottom margin it needs, in inches."""
    seen = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label.split(" (")[0] if "scikit" not in label else label, handle)
    if not seen:
        return 0.5
    ncol = min(len(seen), 7)
    fig.legend(list(seen.values()), list(seen), loc="lower center", ncol=ncol, fontsize=8,
               frameon=False)
    return 0.55 + 0.22 * math.ceil(len(seen) / ncol)


def _save(fig, title, caption, directory, stem, *, bottom=0.5) -> list[Path]:
    # Fixed margins in inches: automatic layouts measure every tick label again at each
    # save and cost more than the drawing itself. The title hangs from the top edge and
    # the panels start below its lines (and their own titles), whatever the figure's height.
    w, h = fig.get_size_inches()
    text = f"{title}\n{caption}"
    fig.suptitle(text, fontsize=9, y=1 - 0.08 / h, va="top")
    top = 0.08 + 0.16 * (text.count("\n") + 1) + 0.3
    fig.subplots_adjust(left=0.62 / w, right=1 - 0.15 / w, bottom=(bottom + 0.1) / h, top=1 - top / h,
                        wspace=0.32, hspace=0.5)
    paths = []
    for ext in ("png", "svg"):
        path = directory / f"{stem}.{ext}"
        fig.savefig(path, dpi=110 if ext == "png" else None)
        paths.append(path)
    plots.plt.close(fig)
    return paths


def _per_task(runs, tasks, draw, title, caption, directory, stem, references=()):
    fig, axes = _grid(len(tasks))
    for ax, task in zip(axes, tasks):
        group = [r for r in runs if r.task == task]
        draw(group, ax)
        refs = [r for r in references if r.task == task]
        if refs:
            plots.plot_references(refs, ax=ax)
        machine = _machine_words(group)
        seeds = len({r.seed for r in group})
        ax.set_title(f"{task} ({machine}; {seeds} seeds)", fontsize=8)
        ax.minorticks_off()  # minor ticks on log axes cost more to draw than the data
        ax.tick_params(labelsize=7)
        ax.xaxis.label.set_size(8)
        ax.yaxis.label.set_size(8)
    bottom = _legend_below(fig, axes)
    return _save(fig, title, caption, directory, stem, bottom=bottom)


def _scaling_figures(main, caption, out) -> list[Path]:
    """One figure per cost axis: a large panel per task family with two or more sizes
    (median cost to solve against size, fitted growth) and, on the evaluations axis, one
    panel with the tasks that have a published CGP median beside it."""
    families = [f for f in _SCALING_FAMILIES
                if len({s for r in main if (s := plots.task_size(r.task)) and s[0] == f}) >= 2]
    anchored = any(r.task in plots.CGP_MEDIANS for r in main)
    written = []
    for axis, (stem, words) in _SCALING_AXES.items():
        panels = len(families) + (anchored and axis == "evaluations")
        if not panels:
            continue
        fig, axes = _grid(panels, ncols=3, size=(4.8, 3.7))
        for ax, family in zip(axes, families):
            plots.plot_scaling(main, family=family, axis=axis, ax=ax)
            ax.set_title(family, fontsize=9)
        if panels > len(families):
            plots.plot_anchors(main, ax=axes[-1])
            axes[-1].set_title("the published anchors", fontsize=9)
        for ax in axes:
            ax.minorticks_off()
        bottom = _legend_below(fig, axes)
        written += _save(fig, f"Median {words} to solve against problem size\n"
                         "hollow triangle at the budget line (dotted): fewer than half the runs solved; "
                         "labels: runs solved; dashed: fitted growth; star: published CGP median",
                         caption, out, stem, bottom=bottom)
    return written


def _machine_words(group) -> str:
    """The panel's machine: one network's words, or "tuned machines" when the methods of
    a tuned view run on machines of their own."""
    texts = {network_text(r) for r in group}
    if len(texts) > 1:
        return "machine per method"
    machine = next(iter(texts)).split(", ", 1)[1]  # the link mode is in the figure's title
    return machine.replace("layered, ", "").replace(" outputs per class", " out/class")


def view_of(results_dir, runs) -> str:
    """``"tuned"`` for a tuned view's directory (it holds ``chosen.json``), else the view
    its runs' headers name, else ``"matched"``."""
    from experiments.sweep.tune import CHOSEN_FILE
    if (Path(results_dir) / CHOSEN_FILE).exists():
        return "tuned"
    views = {r.header.get("sweep", {}).get("view") for r in runs} - {None}
    return views.pop() if len(views) == 1 else "matched"


VIEW_WORDS = {"matched": "matched view (same machine and options for every method)",
              "tuned": "tuned view (each method at the settings its tuning stage chose)",
              "tuning": "tuning runs"}


def make_all(results_dir, *, gate_limit=None) -> list[Path]:
    """Draw every figure and the summary of the sweep in ``results_dir``.

    ``gate_limit``: the summary also counts the runs whose pruned machine has at most
    this many gates.

    Returns
    -------
    list of Path
        The files written. Figures without data (no gradient-descent runs, no
        link-mode study, no parity or mux tasks) are left out.
    """
    results_dir = Path(results_dir)
    every = runfiles.load_runs(results_dir)
    if not every:
        raise ValueError(f"results_dir {str(results_dir)!r} holds no finished runs")
    out = results_dir / "figures"
    out.mkdir(parents=True, exist_ok=True)
    view = view_of(results_dir, every)
    references = [r for r in every if r.kind == "baseline"]
    runs = [r for r in every if r.kind != "baseline"]
    if not runs:
        raise ValueError(f"results_dir {str(results_dir)!r} holds only baseline runs")
    caption = f"{VIEW_WORDS.get(view, view)}; {plots.machine_caption(runs)}"
    main = [r for r in runs if r.link == "switch"]
    tasks = sorted({r.task for r in main}, key=natural_key)
    written = []
    axis_words = {"seconds": "wall time", "gate_evals": "gate-evaluations"}
    for split, key in (("train", "train_fitness"), ("test", "test_accuracy")):
        for axis, words in axis_words.items():
            written += _per_task(
                main, tasks, lambda g, ax, a=axis, k=key: plots.plot_convergence(g, x=a, y=k, ax=ax),
                f"{key.replace('_', ' ').capitalize()} against {words}: median over seeds, 95% bootstrap band"
                + ("; dotted: scikit-learn baselines on the same binarised inputs"
                   if references and split == "test" else ""),
                caption, out, f"convergence_{split}_{axis}",
                references=references if split == "test" else ())
    for axis, words in axis_words.items():
        written += _per_task(main, tasks, lambda g, ax, a=axis: plots.plot_ecdf(g, axis=a, ax=ax),
                             f"Share of runs solved against {words} (unsolved runs stay in the denominator)",
                             caption, out, f"ecdf_{axis}")
    written += _scaling_figures(main, caption, out)
    relaxed = [r for r in main if any(rec.get("relaxed_train_fitness") is not None for rec in r.records)]
    if relaxed:
        relaxed_tasks = sorted({r.task for r in relaxed}, key=natural_key)
        written += _per_task(relaxed, relaxed_tasks,
                             lambda g, ax: plots.plot_hardening_gap(g, split="train", ax=ax),
                             "Hardening gap of gradient descent: relaxed (dashed) against hardened "
                             "(solid) train fitness", caption, out, "hardening_gap")
    link_tasks = sorted({r.task for r in runs if r.link != "switch"}, key=natural_key)
    if link_tasks:
        methods = {r.method for r in runs if r.link != "switch"}
        study = [r for r in runs if r.task in link_tasks and r.method in methods]
        written += _per_task(study, link_tasks, lambda g, ax: plots.plot_link_modes(g, ax=ax),
                             "Link modes: switch (solid) against turing (dashed) B-types, same wiring",
                             caption, out, "link_modes")
    from experiments.sweep.tune import CHOSEN_FILE
    chosen = results_dir / CHOSEN_FILE
    written.append(write_summary(every, results_dir / "summary.md", caption=caption,
                                 command=f"btype plot {results_dir}", view=view,
                                 chosen=json.loads(chosen.read_text()) if chosen.exists() else None,
                                 gate_limit=gate_limit))
    return written
