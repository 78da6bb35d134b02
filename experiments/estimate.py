"""``btype estimate``: plan a preset's wall time from a sample of its runs, without running it all.

    btype compare --preset standard --out SAMPLE --seeds 1 --view matched --workers 1
    btype estimate --preset standard --sample SAMPLE --workers 2

How the plan is made: :mod:`experiments.sweep.walltime`.
"""
from __future__ import annotations

import sys
from pathlib import Path

from experiments.cli import parser_for
from experiments.sweep import presets, runfiles
from experiments.sweep.args import budget_arg, seeds_arg, workers_arg
from experiments.sweep.walltime import estimate, speeds

__all__ = ["main"]


def main(argv=None) -> int:
    p = parser_for("estimate", __doc__.split("\n\n")[0])
    p.add_argument("--preset", default="standard", choices=sorted(presets.PRESETS),
                   help="the preset whose wall time is planned (default: standard)")
    p.add_argument("--sample", required=True, type=Path, help="results directory of the sampled runs")
    p.add_argument("--workers", type=workers_arg, default=2, help="processes the real sweep will run (default 2)")
    p.add_argument("--seeds", type=seeds_arg, help="evaluation seeds (default the preset's)")
    p.add_argument("--tune-seeds", type=seeds_arg, help="tuning seeds (default the preset's)")
    p.add_argument("--budget", type=budget_arg,
                   help="per-run budget as compare takes it: 2s, 1e9ge, or a bare number on the preset's "
                        "axis (default the preset's)")
    p.add_argument("--tasks", nargs="+", help="only these tasks (as compare --tasks)")
    args = p.parse_args(argv)
    preset = presets.get(args.preset)
    if args.budget is not None:   # the amount, and the axis where it names one, as compare takes it
        from experiments.sweep import session   # it imports btype: only when asked
        preset, _ = session.customised(preset, budget=args.budget)
    try:
        table = speeds(runfiles.load_runs(args.sample))
    except (OSError, ValueError) as exc:
        p.error(f"--sample: {exc}")
    if not table:
        print(f"error: {args.sample} holds no sampled runs", file=sys.stderr)
        return 2
    result = estimate(preset, table, seeds=args.seeds, tune_seeds=args.tune_seeds, tasks=args.tasks)
    total = 0.0
    print(f"preset {preset.name!r}, from {len(table)} sampled (task, method) pairs in {args.sample}:")
    for stage, row in result["stages"].items():
        total += row["core_seconds"]
        print(f"  {stage:<14} {row['runs']:>5} runs  {row['core_seconds']:>8.0f} core-s")
    print(f"  total          {total:.0f} core-s = {total / args.workers / 60:.1f} min on "
          f"{args.workers} workers (warm caches, as loaded as the sample)")
    if result["missing"]:
        print(f"  not predicted (no sample of the task or its family): {result['missing']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
