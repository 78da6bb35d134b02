"""Search throughput: offspring evaluated per second by ``es``, one core.

    python -m experiments.throughput_search [--task parity8] [--gates 1000] [--seconds 5]

A 1,000-gate layered B-type (default layers) on parity8 (256 samples, 4 words),
trained by the (1 + lambda) evolution strategy for a fixed wall time on one
Numba thread. Prints evaluated offspring per second (candidates scored by delta
evaluation), all offspring per second (including those whose flips miss the
output cone and need no evaluation), gates recomputed per evaluation, and the
target of 2,000,000 evaluated offspring per second beside them. Compilation is
outside the timed region (``btype.search.train`` excludes it from ``seconds``).
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

TARGET = 2_000_000


def measure(task_name="parity8", gates=1000, seconds=5.0, lam=1, seed=0):
    """One timed ES run; returns a dict of rates."""
    import btype
    import btype.search

    task = btype.tasks.get(task_name)
    net = btype.random_network(task.n_inputs, gates, task.n_outputs, seed=seed)
    # warm-up: compiles (or loads) the kernels, so nothing below waits for the compiler
    btype.search.train(net, task, budget=btype.Budget(evaluations=100), lam=lam, progress=False)
    result = btype.search.train(net, task, budget=btype.Budget(seconds=seconds), lam=lam,
                                seed=seed, progress=False)
    last = result.trace[-1]
    evaluated = last["evaluations"]
    return {"lam": lam, "seconds": last["seconds"], "evaluated_per_s": evaluated / last["seconds"],
            "offspring_per_s": (evaluated + last["skipped"]) / last["seconds"],
            "gates_per_eval": last["gate_evals"] / max(evaluated, 1) / len(task.X_train),
            "skipped_share": last["skipped"] / max(evaluated + last["skipped"], 1),
            "fitness": result.train_fitness}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="parity8")
    parser.add_argument("--gates", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--lam", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args(argv)
    import numba

    from .throughput import machine_name

    numba.set_num_threads(1)
    print(f"machine: {machine_name()} ({os.cpu_count()} cores); search runs on 1 thread")
    print(f"es on {args.task}, {args.gates}-gate layered B-type, {args.seconds:g} s per run\n")
    print(f"{'lambda':>6} {'evaluated/s':>14} {'all offspring/s':>16} {'gates/eval':>11} "
          f"{'skipped':>8} {'target/s':>12} {'x target':>9}")
    for lam in args.lam:
        r = measure(args.task, args.gates, args.seconds, lam)
        print(f"{lam:>6} {r['evaluated_per_s']:>14,.0f} {r['offspring_per_s']:>16,.0f} "
              f"{r['gates_per_eval']:>11.2f} {r['skipped_share']:>8.0%} {TARGET:>12,} "
              f"{r['evaluated_per_s'] / TARGET:>9.2f}")


if __name__ == "__main__":
    main()
