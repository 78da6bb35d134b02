"""The ``btype`` command: every script of the package as one subcommand.

    btype compare --preset quick --out results/quick
    btype train parity5 --out runs/p5 --budget 2s
    btype plot results/quick
    btype export machine.npz -f verilog

``btype`` alone lists the commands; ``btype COMMAND --help`` gives each one's options.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

__all__ = ["COMMANDS", "main", "run", "exit_with", "parser_for", "version"]

#: command -> (module whose ``main(argv)`` runs it, what it does)
COMMANDS = {
    "compare": ("experiments.compare", "run a sweep of trainers over tasks and seeds, then draw it"),
    "train": ("experiments.train", "train one machine on a task or a data file and save it"),
    "plot": ("experiments.plot", "redraw a sweep's figures and summary from its run files"),
    "estimate": ("experiments.estimate", "plan a preset's wall time from a sample of its runs"),
    "export": ("btype.export.__main__", "write a saved machine as Verilog, BLIF, DOT, ... or describe it"),
    "draw-machine": ("experiments.figures.draw_machine", "draw a trained machine before and after pruning"),
    "search-table": ("experiments.bench.search_table", "the table of search success and cost"),
    "search-minibatch": ("experiments.bench.search_minibatch", "searches on minibatches of large tasks"),
    "bench-boolean": ("experiments.bench.bench_boolean", "trainers on the Boolean tasks, solved and cost"),
    "bench-cgp": ("experiments.bench.bench_cgp", "es on the Cartesian GP benchmark tasks"),
    "bench-data": ("experiments.bench.bench_data", "trained machines on real data beside scikit-learn baselines"),
    "sgd-data-screen": ("experiments.bench.sgd_data_screen", "one sgd run on a data task, for screening options"),
    "throughput": ("experiments.bench.throughput", "simulator throughput beside its baselines"),
    "throughput-search": ("experiments.bench.throughput_search", "search throughput"),
    "throughput-sgd": ("experiments.bench.throughput_sgd", "gradient-descent throughput"),
    "throughput-classify": ("experiments.bench.throughput_classify", "classification throughput (packed group vote)"),
    "roofline-sgd": ("experiments.bench.roofline_sgd", "gradient-descent step times beside the CPU's roofline"),
    "classify-vs-c": ("experiments.bench.classify_vs_c", "btype.classify beside a compiled C network of the same machine"),
}


def version() -> str:
    """The package's version: ``btype.__version__``, else the installed distribution's."""
    try:
        import btype
        return str(btype.__version__)
    except (ImportError, AttributeError):
        from importlib import metadata
        try:
            return metadata.version("turing-btype")
        except metadata.PackageNotFoundError:
            return "unknown"


def parser_for(command: str, description: str, **kwargs) -> argparse.ArgumentParser:
    """The argument parser of ``btype COMMAND``: its usage line names the subcommand."""
    kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
    return argparse.ArgumentParser(prog=f"btype {command}", description=description, **kwargs)


def _listing() -> str:
    width = max(map(len, COMMANDS))
    return "\n".join(f"  {name:<{width}}  {about} ({module.removesuffix('.__main__')})"
                     for name, (module, about) in COMMANDS.items())


def _parser():
    p = argparse.ArgumentParser(prog="btype", usage="btype [--version] [-h] COMMAND [ARGS ...]",
                                description="The btype command: every script of the package as one subcommand.",
                                epilog=f"commands:\n{_listing()}\n\n`btype COMMAND --help` for each one's options.",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"btype {version()}",
                   help="print the package's version and exit")
    p.add_argument("command", choices=list(COMMANDS), metavar="COMMAND", help="what to run (see below)")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the command's own arguments")
    return p


def main(argv=None) -> int:
    """Run ``btype COMMAND ARGS``; returns the command's exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser()
    if not argv:
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    module = importlib.import_module(COMMANDS[args.command][0])
    status = module.main(args.args)
    return status if isinstance(status, int) else 0


def exit_with(status: int):
    """End the process with ``status``, as ``sys.exit`` does, except after a stop signal.

    A command that caught a Ctrl-C (status 130) or SIGTERM (143), said so and returned
    ends at once with that status (``os._exit`` once the standard streams are flushed; the
    command has closed its pool and files by then). Through Python's normal shutdown, a
    KeyboardInterrupt that a library caught on the way can still end the process as
    killed by SIGINT, without a word: seen with Numba compiling at the Ctrl-C.
    """
    if status in (130, 143):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(status)
    sys.exit(status)


def run():
    """The console script ``btype``: :func:`main`, then :func:`exit_with` its status."""
    exit_with(main())


if __name__ == "__main__":
    run()
