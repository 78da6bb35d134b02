"""Matched comparison of search and gradient descent on B-type machines.

    python -m experiments.compare --preset quick --out results/quick
    python -m experiments.compare --preset full --out results/full --mnist ~/data/mnist
    python -m experiments.compare --preset full --out results/full --dask tcp://host:8786

Every (task, seed) gives every method the same machine and the same budget. Each run
goes to its own JSON Lines file under ``OUT/runs``; a restart skips finished runs and
redoes the rest. The figures and ``summary.md`` are drawn at the end (and can be
redrawn from the files alone with ``python -m experiments.plot OUT``).
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

from . import presets, sweep

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
        report = getattr(exc, "report", None) or sweep.SweepReport()  # Ctrl-C before the sweep: none
        print(f"\ninterrupted: {len(report.done) + len(report.skipped)} runs finished, "
              f"rerun to continue", file=sys.stderr)
        return 130


def _sweep(args) -> int:
    preset = presets.get(args.preset)
    try:
        jobs = preset.jobs(seeds=args.seeds, methods=args.methods, tasks=args.tasks,
                           mnist_dir=args.mnist, device=args.device, budget=args.budget)
    except (TypeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.threads != 1:
        jobs = [replace(job, threads=args.threads) for job in jobs]
    if args.list:
        for job in jobs:
            print(job.name, job.budget, job.network)
        return 0
    print(preset.describe())
    t0 = time.perf_counter()
    executor, close = sweep.open_executor(args.workers, args.threads, dask=args.dask)
    try:
        report = sweep.run_sweep(jobs, args.out / "runs", executor, progress=not args.quiet,
                                  wait=args.wait)
    except sweep.SweepLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        close()
    print(f"{len(report.done)} runs done, {len(report.skipped)} already finished, "
          f"{len(report.failed)} failed, in {time.perf_counter() - t0:.0f} s")
    if report.removed:
        print(f"removed {len(report.removed)} leftover file(s) of an interrupted sweep")
    if report.stale:
        print(f"warning: {len(report.stale)} finished run(s) in {args.out} were made with other "
              f"settings and were kept, e.g. {report.stale[0]}; use a new --out to rerun them")
    for name, error in list(report.failed.items())[:3]:
        print(f"--- {name} failed:\n{error}", file=sys.stderr)
    if not args.no_plots:
        from . import plot
        written = plot.make_all(args.out)
        figures = sorted({str(Path(p).parent) for p in written})
        print(f"figures and summary in {', '.join(figures)}")
        print(f"total {time.perf_counter() - t0:.0f} s")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
