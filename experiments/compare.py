"""``btype compare``: a matched comparison of search and gradient descent on B-type machines.

    btype compare --preset quick --out results/quick
    btype compare --preset standard --out results/standard
    btype compare --config my_sweep.toml --out results/mine
    btype compare --tasks majority7 data/noisy.csv --gates 512 --layers 8 --budget 2s --out results/x
    btype compare --preset full --out results/full --dask tcp://host:8786

The matched view: every (task, seed) gives every method the same machine and the same
budget, each run in its own JSON Lines file under ``OUT/runs``. A preset with a tuning
stage (``standard``, ``full``) first tunes each method per task family on tuning seeds
(``OUT/tune/runs``), writes the chosen settings to ``OUT/tuned/chosen.json`` and evaluates
them on the evaluation seeds (the tuned view, ``OUT/tuned/runs``). A sweep file
(``--config``, TOML or JSON: see :mod:`experiments.sweep.sweepfile`) names its own tasks,
machines, methods, seeds and budget. A restart skips finished runs and redoes the rest.
The figures and ``summary.md`` of each view are drawn at the end (``btype plot OUT``
redraws them from the files alone).

Ctrl-C or SIGTERM stops a sweep: the runs already finished stay (a rerun continues), the
count of finished runs is printed, and the exit status is 130 (Ctrl-C) or 143 (SIGTERM).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from experiments.cli import parser_for
from experiments.sweep import presets
from experiments.sweep.args import (MAX_PROCESSES, budget_arg, dask_problem, device_arg, out_arg, out_dir_problem,
                                    seeds_arg, threads_arg, workers_arg)
from experiments.sweep.spec import MAX_SEEDS

__all__ = ["main", "parse_args"]


def _gate_limit(text):
    from experiments.plot import gate_limit_arg
    return gate_limit_arg(text)


def _parser():
    import btype  # here, not at the top: pool workers import this module before their initializer runs
    p = parser_for("compare", __doc__.split("\n\n")[0].removeprefix("``btype compare``: "),
                   epilog=__doc__.split("\n\n", 1)[1])
    what = p.add_mutually_exclusive_group()
    what.add_argument("--preset", choices=sorted(presets.PRESETS),
                      help="which named sweep to run (default: quick)")
    what.add_argument("--config", type=Path, metavar="FILE",
                      help="a sweep file (.toml or .json) naming tasks, machines, methods, seeds and budget")
    p.add_argument("--out", type=out_arg, help="results folder (runs/ and figures/ go here); needed except with --list")
    p.add_argument("--workers", type=workers_arg, default=2,
                   help=f"processes in the local pool, 0 to {MAX_PROCESSES} (default 2); 0 runs jobs one "
                        f"by one in this process")
    p.add_argument("--threads", type=threads_arg, default=1,
                   help=f"Numba/torch threads per job, 1 to {MAX_PROCESSES} (default 1)")
    p.add_argument("--dask", metavar="SCHEDULER_ADDRESS",
                   help="run the jobs on this Dask distributed scheduler (tcp://host:port) instead of the local pool")
    p.add_argument("--seeds", type=seeds_arg, help=f"number of seeds, 1 to {MAX_SEEDS:,} (default: the sweep's)")
    p.add_argument("--methods", nargs="+", choices=btype.trainers(), metavar="METHOD",
                   help=f"only these trainers ({', '.join(btype.trainers())})")
    p.add_argument("--tasks", nargs="+", metavar="TASK",
                   help="only these tasks: the sweep's, any name btype.tasks.get knows (e.g. majority7), or "
                        "data files (.pla, .csv with the target in the last column, .npz)")
    p.add_argument("--gates", type=int, metavar="N", help="gates of every selected task's machine")
    p.add_argument("--layers", type=int, metavar="N", help="layers of every selected task's (layered) machine")
    p.add_argument("--reach", type=int, metavar="N", help="layers back a gate may read, on layered machines")
    p.add_argument("--budget", type=budget_arg, metavar="AMOUNT[AXIS]",
                   help="budget per run with its axis: 2s (seconds), 1e9ge (gate-evaluations), 1e6ev "
                        "(evaluations), 500steps; a bare number is on the sweep's own axis")
    p.add_argument("--device", type=device_arg, help="device for sgd: auto, cpu, cuda[:N] or mps (default: the sweep's)")
    p.add_argument("--mnist", type=Path, metavar="DIR", help="folder of MNIST IDX files: adds the preset's MNIST tasks")
    p.add_argument("--view", choices=("matched", "tuned", "both"),
                   help="matched: every method on the same machine with the sweep's options (OUT/runs); "
                        "tuned: a tuning stage on tuning seeds, then each method at its chosen settings "
                        "(OUT/tune, OUT/tuned); default: both where the preset has a tuning stage")
    p.add_argument("--tune-seeds", type=seeds_arg, help="tuning seeds (default: the preset's tuning stage's)")
    p.add_argument("--gate-limit", type=_gate_limit, metavar="N",
                   help="the summary also counts the runs whose pruned machine has at most N gates")
    p.add_argument("--no-plots", action="store_true", help="skip the figures and summary")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--list", action="store_true",
                   help="print what would run and exit: every job on stdout, one a line, the banner on stderr")
    p.add_argument("--wait", action="store_true",
                   help="wait for another sweep writing into --out to end (default: refuse)")
    return p


def parse_args(argv=None):
    p = _parser()
    args = p.parse_args(argv)
    if args.mnist is not None and not args.mnist.is_dir():
        p.error(f"--mnist must be a folder of MNIST IDX files, got {str(args.mnist)!r} (not a folder)")
    if args.out is None and not args.list:
        p.error("--out is required (the results folder), except with --list")
    if args.out is not None and not args.list:
        problem = out_dir_problem(args.out)
        if problem:
            p.error(f"--out: {problem}")
    if args.dask:
        problem = dask_problem(args.dask)
        if problem:
            p.error(f"--dask: {problem}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    from experiments.sweep import interrupts
    with interrupts.stop_signals():
        try:
            return _compare(args)
        except BrokenPipeError:  # `--list | head`: the reader has all it wanted
            sys.stdout = open(os.devnull, "w")
            return 0
        except KeyboardInterrupt as exc:
            from experiments.sweep.runner import SweepReport
            report = getattr(exc, "report", None) or SweepReport()  # a stop before the sweep: none
            finished = len(report.done) + len(report.skipped) + len(report.reused)
            print(f"\ninterrupted: {finished} runs finished, rerun to continue", file=sys.stderr)
            return interrupts.SIGNAL_STATUS.get(interrupts.stop_signals.received, 130)


def _compare(args) -> int:
    from experiments.sweep import execute, runfiles, runner, session, tune
    from experiments.sweep.sweepfile import SweepFileError, read_sweep_file
    try:
        preset = read_sweep_file(args.config) if args.config else presets.get(args.preset or "quick")
        preset, tasks = session.customised(preset, tasks=args.tasks, gates=args.gates, layers=args.layers,
                                           reach=args.reach, budget=args.budget, mnist_dir=args.mnist)
        plan = session.make_plan(preset, seeds=args.seeds, methods=args.methods, tasks=tasks,
                                 mnist_dir=args.mnist, device=args.device, view=args.view,
                                 tune_seeds=args.tune_seeds, threads=args.threads)
    except (SweepFileError, TypeError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # with --list the banner goes to stderr: stdout is the job list, one a line (for pipes)
    print(session.banner(plan), file=sys.stderr if args.list else sys.stdout, flush=True)
    if args.list:
        session.list_jobs(plan)
        return 0
    try:
        execute.check_devices(plan.matched + plan.first_rung)
    except execute.DeviceUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        executor, close = runner.open_executor(args.workers, args.threads, dask=args.dask)
    except (OSError, ValueError) as exc:
        print(f"error: --dask: {exc}", file=sys.stderr)
        return 2
    try:
        return session.run_plan(plan, args.out, executor, tune_seeds=args.tune_seeds, progress=not args.quiet,
                                wait=args.wait, plots=not args.no_plots, gate_limit=args.gate_limit)
    except (runner.SweepLocked, runfiles.RunFileTooLarge) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except tune.TuningFailed as exc:
        print(f"error: {exc}; the tuned view needs every tuning run", file=sys.stderr)
        return 1
    finally:
        close()


if __name__ == "__main__":
    from experiments.cli import exit_with
    exit_with(main())
