"""Search by minibatches of rows at data-set size: full data against minibatches.

    btype search-minibatch                 # both tasks
    btype search-minibatch --tasks pla     # the 6,400-row file only

Two tasks: a learning-from-examples-like Boolean task written here (6,400 training
rows, 196 random inputs, one output: a threshold of 21 of them, 1,600 test rows) and
Fashion-MNIST (60,000 rows, 196 inputs, 10 classes). On a layered B-type of
``--gates`` gates, ``es`` runs with an evaluation budget on the full training set, with
``batch_size=1024`` changing batch every 100 generations, and every 5,000. Printed per
run: evaluations, gate-evaluations, batch changes, wall seconds, seconds per 1,000
evaluations, the best machine's training fitness on the *whole* training set (what the
run reports) and test accuracy. Run it from another checkout to compare versions.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np
from experiments.cli import parser_for

__all__ = ["pla_like", "main"]


def pla_like(seed=0, n_train=6400, n_test=1600, n_inputs=196, k=21):
    """A Boolean task shaped like the contest's PLA files: y = (at least half of k inputs are 1)."""
    import btype

    gen = np.random.default_rng(seed)
    X = gen.random((n_train + n_test, n_inputs)) < 0.5
    cols = gen.choice(n_inputs, k, replace=False)
    Y = (X[:, cols].sum(axis=1) * 2 > k)[:, None]
    return btype.tasks.Task("pla_like", X[:n_train], Y[:n_train], X[n_train:], Y[n_train:],
                            description=f"threshold of {k} of {n_inputs} random inputs")


def run_one(task, net, evaluations, **options):
    import btype

    t0 = time.perf_counter()
    r = btype.search.train(net, task, method="es", budget=btype.Budget(evaluations=evaluations), seed=0,
                           progress=False, **options)
    wall = time.perf_counter() - t0
    last = r.trace[-1]
    every = options.get("batch_every")
    changes = last["step"] // every if every else 0
    full = task.score(r.network, "train").fitness
    return dict(evaluations=last["evaluations"], gate_evals=last["gate_evals"], changes=changes,
                seconds=wall, per_k=1000 * wall / max(last["evaluations"], 1), train=r.train_fitness,
                full_train=full, test=r.test_accuracy)


def main(argv=None) -> int:
    p = parser_for("search-minibatch", __doc__.split("\n\n")[0])
    p.add_argument("--tasks", nargs="+", default=["pla", "fashion"], choices=["pla", "fashion"], help="tasks (default both)")
    p.add_argument("--gates", type=int, default=10000, help="gates of the machine (default 10,000)")
    p.add_argument("--evaluations", type=float, default=None,
                   help="budget of the minibatch runs (default 2e6 on pla, 2e4 on fashion; the "
                        "full-data run on fashion gets a tenth)")
    args = p.parse_args(argv)
    import btype

    btype.search.train  # noqa: B018 (import before timing)
    print(f"btype from {os.path.dirname(btype.__file__)}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; NUMBA_NUM_THREADS="
          f"{os.environ.get('NUMBA_NUM_THREADS', 'default')}", flush=True)
    print("| task | run | evaluations | gate-evals | batch changes | seconds | s / 1k evals | "
          "train (reported) | train (whole set) | test |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.tasks:
        if name == "pla":
            task = pla_like()
            net = btype.random_network(task.n_inputs, args.gates, 1, layers=8, seed=0)
            budget = int(args.evaluations or 2e6)
            full = budget
        else:
            task = btype.tasks.get("fashion")
            net = btype.random_network(task.n_inputs, args.gates, 10 * 100, layers=4, seed=0)
            budget = int(args.evaluations or 2e4)
            full = budget // 10
        run_one(task, net, 200, batch_size=1024, batch_every=100)   # compile outside the clock
        for label, evals, options in (
                ("full data", full, {}),
                ("batch 1024 every 100", budget, dict(batch_size=1024, batch_every=100)),
                ("batch 1024 every 5000", budget, dict(batch_size=1024, batch_every=5000))):
            r = run_one(task, net, evals, **options)
            print(f"| {name} | {label} | {r['evaluations']:,} | {r['gate_evals']:.3g} | {r['changes']:,} | "
                  f"{r['seconds']:.1f} | {r['per_k']:.3f} | {r['train']:.4f} | {r['full_train']:.4f} | "
                  f"{r['test']:.4f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
