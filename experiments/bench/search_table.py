"""The README table of search results: success rate and evaluations to solve.

    btype search-table [--seeds 20] [--evaluations 10000000] [--method es]
                                       [--tasks parity3 ...] [--workers 2] [--out DIR]

For every task, ``--seeds`` runs (run ``s``: machine ``random_network(..., seed=s)``,
search seed ``s``) of one search trainer with an evaluation budget, as a sweep
(:func:`experiments.sweep.runner.run_sweep`: a spawn pool, one Numba thread per worker, one
run file per run under ``DIR/runs``, finished runs skipped on restart). Prints a
markdown table: machine size, success rate, median evaluations and seconds to solve
(over the solved runs).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from experiments.analysis import stats
from experiments.sweep.job import Job
from experiments.sweep.host import cpu_name
from experiments.sweep.runfiles import read_run
from experiments.sweep.runner import open_executor, run_sweep
from experiments.cli import parser_for
from experiments.sweep.args import workers_arg

# Machines that ES solves within the default budget (layered, ports reach 2 layers back).
SIZES = {
    "parity3": dict(n_gates=200, layers=10),
    "parity4": dict(n_gates=300, layers=12),
    "parity5": dict(n_gates=600, layers=14),
    "parity6": dict(n_gates=1000, layers=20),
    "mux6": dict(n_gates=400, layers=10),
    "add2": dict(n_gates=400, layers=12),
    "mul2": dict(n_gates=300, layers=10),
}
REACH = 2


def jobs(tasks, seeds, method, link, evaluations, options) -> list[Job]:
    """One job per (task, seed) on the task's machine of :data:`SIZES`."""
    return [Job(task=t, method=method, seed=s, budget={"evaluations": evaluations},
                network={**SIZES[t], "reach": REACH, "link": link}, options=dict(options),
                sweep={"script": "search_table"})
            for t in tasks for s in range(seeds)]


def table(runs, tasks):
    """Markdown table from finished runs."""
    lines = ["| task | gates | layers | solved | median evaluations to solve | median seconds to solve |",
             "|---|---:|---:|---:|---:|---:|"]
    for name in tasks:
        group = [r for r in runs if r.task == name]
        if not group:
            continue
        evals, solved = stats.solve_points([r.records for r in group], "evaluations")
        secs, _ = stats.solve_points([r.records for r in group], "seconds")
        net = group[0].job["network"]
        median = (lambda v: None if not solved.any() else float(np.median(v[solved])))
        e, t = median(evals), median(secs)
        lines.append(f"| {name} | {net['n_gates']} | {net['layers']} | "
                     f"{solved.sum()}/{len(group)} ({100 * solved.mean():.0f}%) | "
                     f"{'-' if e is None else f'{e:,.0f}'} | {'-' if t is None else f'{t:.3f}'} |")
    return "\n".join(lines)


def main(argv=None):
    import btype  # here, not at the top: pool workers import this module before their initializer runs
    parser = parser_for("search-table", __doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(SIZES), choices=list(SIZES), help="tasks (default all)")
    parser.add_argument("--seeds", type=int, default=20, help="seeds per task (default 20)")
    parser.add_argument("--evaluations", type=int, default=10_000_000, help="evaluations per run (default 1e7)")
    parser.add_argument("--method", default="es", choices=btype.trainers("search"), help="search method (default es)")
    parser.add_argument("--link", default="switch", choices=["switch", "turing"], help="link mode (default switch)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="method option, e.g. --option lam=4 (value read as JSON when it parses)")
    parser.add_argument("--workers", type=workers_arg, default=2, help="processes (default 2); 0: in this process")
    parser.add_argument("--out", type=Path, default=Path("results/search_table"),
                        help="results directory; its runs/ makes the table resumable")
    args = parser.parse_args(argv)
    options = {}
    for item in args.option:
        key, _, value = item.partition("=")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value

    todo = jobs(args.tasks, args.seeds, args.method, args.link, args.evaluations, options)
    start = time.perf_counter()
    executor, close = open_executor(args.workers)
    try:
        report = run_sweep(todo, args.out / "runs", executor)
    finally:
        close()
    for name, error in list(report.failed.items())[:3]:
        print(f"--- {name} failed:\n{error}", file=sys.stderr)
    runs = [run for job in todo if (run := read_run(args.out / "runs" / f"{job.name}.jsonl")) and run.complete]
    opts = " ".join(f"{k}={v}" for k, v in options.items())
    print(f"\n{args.method} {opts} on {args.link}-mode B-types (layered, reach {REACH}); "
          f"budget {args.evaluations:,} evaluations; {args.seeds} seeds per task; "
          f"{args.workers} workers x 1 thread; {cpu_name()}; "
          f"{time.perf_counter() - start:.0f} s\n")
    print(table(runs, args.tasks))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
