"""The ``btype`` command: every script of the package under one name.

    btype compare --preset quick --out results/quick
    btype plot results/quick
    btype export machine.npz -f verilog

``btype COMMAND ARGS`` is ``python -m MODULE ARGS`` for the module listed beside the
command in ``btype --help``; both spellings take the same arguments.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

__all__ = ["COMMANDS", "main", "run", "exit_with"]

#: command -> (module whose ``main(argv)`` runs it, what it does)
COMMANDS = {
    "compare": ("experiments.compare", "run a sweep of trainers over tasks and seeds, then draw it"),
    "plot": ("experiments.plot", "redraw a sweep's figures and summary from its run files"),
    "estimate": ("experiments.estimate", "plan a preset's wall time from a sample of its runs"),
    "export": ("btype.export.__main__", "write a saved machine as Verilog, BLIF, DOT, ... or describe it"),
    "search-table": ("experiments.search_table", "the README table of search success and cost"),
    "draw-machine": ("experiments.draw_machine", "draw a trained machine before and after pruning"),
    "throughput": ("experiments.throughput", "simulator throughput beside its baselines"),
    "throughput-search": ("experiments.throughput_search", "search throughput"),
    "throughput-sgd": ("experiments.throughput_sgd", "gradient-descent throughput"),
    "throughput-classify": ("experiments.throughput_classify", "classification throughput (packed group vote)"),
    "bench-data": ("experiments.bench_data", "trained machines on real data beside scikit-learn baselines"),
}


def _parser():
    width = max(map(len, COMMANDS))
    listing = "\n".join(f"  {name:<{width}}  {about} (python -m {module.removesuffix('.__main__')})"
                        for name, (module, about) in COMMANDS.items())
    p = argparse.ArgumentParser(prog="btype", description=__doc__.split("\n\n")[0],
                                epilog=f"commands:\n{listing}\n\n`btype COMMAND --help` for each one's options.",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=sorted(COMMANDS), metavar="COMMAND", help="what to run (see below)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the command's own arguments")
    return p


def main(argv=None) -> int:
    """Run ``btype COMMAND ARGS``; returns the command's exit status."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    module = importlib.import_module(COMMANDS[args.command][0])
    status = module.main(args.args)
    return status if isinstance(status, int) else 0


def exit_with(status: int):
    """End the process with ``status``, as ``sys.exit`` does, except after a Ctrl-C.

    A command that caught the Ctrl-C, said so and returns 130 ends at once with that
    status (``os._exit`` once the standard streams are flushed; the command has closed
    its pool and files by then). Through Python's normal shutdown, a KeyboardInterrupt
    that a library caught on the way can still end the process as killed by SIGINT
    (status -2 to the caller), without a word: seen with Numba compiling at the Ctrl-C.
    """
    if status == 130:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(130)
    sys.exit(status)


def run():
    """The console script ``btype``: :func:`main`, then :func:`exit_with` its status."""
    exit_with(main())


if __name__ == "__main__":
    run()
