"""``btype plot``: redraw every figure and ``summary.md`` of a sweep from its run files alone.

    btype plot RESULTS_DIR          # the matched view (or any sweep)
    btype plot RESULTS_DIR/tuned    # the tuned view of a preset with tuning

Figures go to ``RESULTS_DIR/figures`` as PNG and SVG; the summary to
``RESULTS_DIR/summary.md`` (:func:`experiments.figures.make.make_all`).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments.analysis.summary import check_gate_limit

__all__ = ["main", "gate_limit_arg"]


def gate_limit_arg(text) -> int:
    """argparse type of ``--gate-limit``."""
    try:
        return check_gate_limit(int(text))
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"must be a whole number of gates >= 1, got {text!r}") from None


def main(argv=None) -> int:
    from experiments.cli import parser_for
    p = parser_for("plot", "Redraw a sweep's figures and summary from its run files.")
    p.add_argument("results_dir", type=Path, help="directory holding runs/ (the --out of btype compare)")
    p.add_argument("--gate-limit", type=gate_limit_arg, metavar="N",
                   help="also count the runs whose pruned machine has at most N gates")
    args = p.parse_args(argv)
    from experiments.figures.make import make_all
    try:
        written = make_all(args.results_dir, gate_limit=args.gate_limit)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} files: figures in {args.results_dir / 'figures'}, "
          f"summary in {args.results_dir / 'summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
