"""Command line: ``python -m btype.export MACHINE.npz --format verilog|blif|dot|describe``."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from ..network import Network
from .describe import describe
from .prune import prune
from .writers import to_blif, to_dot, to_verilog

FORMATS = ("verilog", "blif", "dot", "describe")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m btype.export",
        description="Write a saved btype machine as Verilog, BLIF, Graphviz DOT, or "
                    "print its statistics as JSON.")
    parser.add_argument("machine", help="a .npz file written by btype.Network.save")
    parser.add_argument("--format", "-f", choices=FORMATS, default="verilog")
    parser.add_argument("--prune", action="store_true",
                        help="prune first: keep what reaches the outputs, fold constants "
                             "(feed-forward machines)")
    parser.add_argument("--clocked", action="store_true",
                        help="write the clocked form of a feed-forward machine "
                             "(machines with loops are always clocked)")
    parser.add_argument("--name", default="btype_net", help="module / model / graph name")
    parser.add_argument("--omit-interrupted", action="store_true",
                        help="dot: leave interrupted links out instead of drawing them dashed")
    parser.add_argument("-o", "--output", help="output file (default: standard output)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        net = Network.load(args.machine)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {args.machine}: {exc}", file=sys.stderr)
        return 2
    clocked = True if args.clocked else None
    if args.prune:
        net = prune(net, clocked=clocked)[0]
    try:
        if args.format == "verilog":
            text = to_verilog(net, name=args.name, clocked=clocked)
        elif args.format == "blif":
            text = to_blif(net, name=args.name, clocked=clocked)
        elif args.format == "dot":
            text = to_dot(net, name=args.name,
                          interrupted="omit" if args.omit_interrupted else "dashed")
        else:
            text = json.dumps(describe(net), indent=2) + "\n"
    except (TypeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.output:
        try:
            with open(args.output, "w") as fh:
                fh.write(text)
        except OSError as exc:   # a directory, a missing folder, no permission, a full disk
            print(f"error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    else:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:   # e.g. piped into head; the reader has what it wanted
            sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
