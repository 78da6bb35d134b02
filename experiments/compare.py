"""Matched comparison of search and gradient descent on B-type machines.

    python -m experiments.compare --preset quick --out results/quick
    python -m experiments.compare --preset standard --out results/standard
    python -m experiments.compare --preset full --out results/full --mnist ~/data/mnist
    python -m experiments.compare --preset full --out results/full --dask tcp://host:8786

The matched view: every (task, seed) gives every method the same machine and the same
budget, each run in its own JSON Lines file under ``OUT/runs``. A preset with a tuning
stage (``standard``, ``full``) first tunes each method per task family on tuning seeds
(``OUT/tune/runs``, see :mod:`experiments.sweep.tune`), writes the chosen settings to
``OUT/tuned/chosen.json`` and evaluates them on the evaluation seeds (the tuned view,
``OUT/tuned/runs``). A restart skips finished runs and redoes the rest, in every stage.
The figures and ``summary.md`` of each view are drawn at the end (and can be redrawn
from the files alone with ``python -m experiments.plot OUT`` or ``OUT/tuned``).
"""
from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

from experiments.sweep import presets, runner

__all__ = ["main", "parse_args"]

_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def _budget(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def _seeds(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int, got {text!r}") from None
    if not 1 <= value <= presets.MAX_SEEDS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {presets.MAX_SEEDS:,}, got {text}")
    return value


def _device(text):
    if not _DEVICE.match(text):
        raise argparse.ArgumentTypeError(f"must be auto, cpu, cuda, cuda:N or mps, got {text!r}")
    return text


def _gate_limit(text):
    from experiments.plot import gate_limit_arg
    return gate_limit_arg(text)


def parse_args(argv=None):
    import btype  # here, not at the top: pool workers import this module before their initializer runs
    p = argparse.ArgumentParser(prog="python -m experiments.compare", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="quick", choices=sorted(presets.PRESETS),
                   help="which sweep to run (default: quick)")
    p.add_argument("--out", required=True, type=Path, help="results directory (runs/ and figures/ go here)")
    p.add_argument("--workers", type=int, default=2,
                   help="processes in the local pool (default 2); 0 runs jobs one by one in this process")
    p.add_argument("--threads", type=int, default=1, help="Numba/torch threads per job (default 1)")
    p.add_argument("--dask", metavar="SCHEDULER_ADDRESS",
                   help="run the jobs on this Dask distributed scheduler instead of the local pool")
    p.add_argument("--seeds", type=_seeds, help=f"number of seeds, 1 to {presets.MAX_SEEDS:,} (default: the preset's)")
    p.add_argument("--methods", nargs="+", choices=btype.trainers(), help="only these trainers")
    p.add_argument("--tasks", nargs="+", help="only these tasks")
    p.add_argument("--budget", type=_budget,
                   help="budget per run on the preset's axis, finite and > 0 (default: the preset's)")
    p.add_argument("--device", type=_device, help="device for sgd: auto, cpu, cuda[:N] or mps (default: the preset's)")
    p.add_argument("--mnist", type=Path, metavar="DIR", help="directory of MNIST IDX files: adds MNIST tasks")
    p.add_argument("--view", choices=("matched", "tuned", "both"),
                   help="matched: every method on the same machine with the preset's options (OUT/runs); "
                        "tuned: a tuning stage on tuning seeds, then each method at its chosen settings "
                        "(OUT/tune, OUT/tuned); default: both where the preset has a tuning stage")
    p.add_argument("--tune-seeds", type=_seeds, help="tuning seeds (default: the preset's tuning stage's)")
    p.add_argument("--gate-limit", type=_gate_limit, metavar="N",
                   help="the summary also counts the runs whose pruned machine has at most N gates "
                        "(e.g. 5000, a learning-from-examples contest's limit)")
    p.add_argument("--no-plots", action="store_true", help="skip the figures and summary")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--list", action="store_true", help="print the jobs and exit")
    p.add_argument("--wait", action="store_true",
                   help="wait for another sweep writing into --out to end (default: refuse)")
    args = p.parse_args(argv)
    if args.mnist is not None and not args.mnist.is_dir():
        p.error(f"--mnist must be a directory of MNIST IDX files, got {str(args.mnist)!r} (not a directory)")
    if args.workers < 0:
        p.error(f"--workers must be >= 0, got {args.workers}")
    if args.threads < 1:
        p.error(f"--threads must be >= 1, got {args.threads}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return _sweep(args)
    except BrokenPipeError:  # `--list | head`: the reader has all it wanted
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt as exc:
        report = getattr(exc, "report", None) or runner.SweepReport()  # Ctrl-C before the sweep: none
        print(f"\ninterrupted: {len(report.done) + len(report.skipped)} runs finished, "
              f"rerun to continue", file=sys.stderr)
        return 130


def _views(args, preset):
    view = args.view or ("both" if preset.tune is not None else "matched")
    if view != "matched" and preset.tune is None:
        raise ValueError(f"--view {view}: preset {preset.name!r} has no tuning stage")
    return view in ("matched", "both"), view in ("tuned", "both")


def _print_report(stage, report, t0, out_dir):
    reused = f", {len(report.reused)} reused from the other view" if report.reused else ""
    print(f"{stage}: {len(report.done)} runs done, {len(report.skipped)} already finished{reused}, "
          f"{len(report.failed)} failed, in {time.perf_counter() - t0:.0f} s")
    if report.removed:
        print(f"removed {len(report.removed)} leftover file(s) of an interrupted sweep")
    if report.stale:
        print(f"warning: {len(report.stale)} finished run(s) in {out_dir} were made with other "
              f"settings and were kept, e.g. {report.stale[0]}; use a new --out to rerun them")
    for name, error in list(report.failed.items())[:3]:
        print(f"--- {name} failed:\n{error}", file=sys.stderr)


def _sweep(args) -> int:
    from experiments.sweep import execute, tune
    preset = presets.get(args.preset)
    filters = dict(methods=args.methods, tasks=args.tasks, mnist_dir=args.mnist, device=args.device,
                   budget=args.budget)
    try:
        want_matched, want_tuned = _views(args, preset)
        matched = preset.jobs(seeds=args.seeds, **filters) if want_matched else []
        first_rung = []
        if want_tuned:
            spec = preset.tune
            first_rung = tune.rung_jobs(
                preset, 0, {(m, f): tune.candidates(spec, m)
                            for m in preset.methods_here() if args.methods is None or m in args.methods
                            for f in tune.tuning_tasks(preset, tasks=args.tasks, mnist_dir=args.mnist)
                            if len(tune.candidates(spec, m)) > 1},
                seeds=args.tune_seeds, threads=args.threads, **filters)
    except (TypeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.threads != 1:
        matched = [replace(job, threads=args.threads) for job in matched]
    if args.list:
        for job in matched:
            print(job.name, job.budget, job.network)
        for job in first_rung:
            print("tune/" + job.name, job.budget, job.network, job.options)
        if want_tuned:
            print(f"then {len(preset.tune.rungs) - 1} more tuning rung(s) on the survivors, and the "
                  f"tuned view at the chosen settings (seeds 0-{(args.seeds or preset.seeds) - 1})")
        return 0
    try:
        execute.check_devices(matched + first_rung)
    except execute.DeviceUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(preset.describe())
    t0 = time.perf_counter()
    failed = False
    tuned_dir = args.out / "tuned"
    executor, close = runner.open_executor(args.workers, args.threads, dask=args.dask)
    try:
        if want_tuned:
            chosen = tune.run_tuning(preset, args.out / "tune", executor, seeds=args.tune_seeds,
                                     eval_seeds=args.seeds, progress=not args.quiet, wait=args.wait,
                                     threads=args.threads, **filters)
            path = tune.write_chosen(chosen, tuned_dir / tune.CHOSEN_FILE)
            print(f"tuning stage done in {time.perf_counter() - t0:.0f} s; chosen settings in {path}")
            jobs = tune.tuned_jobs(preset, chosen, seeds=args.seeds, **filters)
            if args.threads != 1:
                jobs = [replace(job, threads=args.threads) for job in jobs]
            t1 = time.perf_counter()
            report = runner.run_sweep(jobs, tuned_dir / "runs", executor, progress=not args.quiet,
                                     wait=args.wait, reuse_from=args.out / "runs")
            _print_report("tuned view", report, t1, tuned_dir)
            failed |= bool(report.failed)
        if want_matched:
            t1 = time.perf_counter()
            report = runner.run_sweep(matched, args.out / "runs", executor, progress=not args.quiet,
                                     wait=args.wait,
                                     reuse_from=tuned_dir / "runs" if want_tuned else None)
            _print_report("matched view" if want_tuned else "sweep", report, t1, args.out)
            failed |= bool(report.failed)
    except runner.SweepLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except tune.TuningFailed as exc:
        _print_report("tuning stage", exc.report, t0, args.out / "tune")
        print(f"error: {exc}; the tuned view needs every tuning run", file=sys.stderr)
        return 1
    finally:
        close()
    if not args.no_plots:
        from experiments.figures.make import make_all
        figures = []
        for directory, wanted in ((args.out, want_matched), (tuned_dir, want_tuned)):
            if wanted:
                figures += sorted({str(Path(p).parent) for p in make_all(directory, gate_limit=args.gate_limit)})
        print(f"figures and summary in {', '.join(figures)}")
        print(f"total {time.perf_counter() - t0:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    from experiments.cli import exit_with
    exit_with(main())
