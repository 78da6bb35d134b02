"""Search throughput: offspring evaluated per second by ``es``, one core.

    btype throughput-search [--task parity8] [--gates 1000] [--seconds 5]
        [--lam 1 4] [--mutation flips cone] [--baseline PATH]

A 1,000-gate layered B-type (default layers) on parity8 (256 samples, 4 words),
trained by the (1 + lambda) evolution strategy for a fixed wall time on one
Numba thread. Prints evaluated offspring per second (candidates scored by delta
evaluation), all offspring per second (including those whose flips miss the
output cone and need no evaluation), gates recomputed per evaluation, and the
target of 6,000,000 evaluated offspring per second beside them; then where the
time of one evaluated offspring goes (drawing mutations, delta evaluation and
undo, scoring and acceptance), from kernels that stop after each part.
Compilation is outside the timed region (``btype.search.train`` excludes it).

``--baseline PATH`` runs the same measurement on another checkout of btype (e.g.
a ``git worktree`` of an older commit) in a subprocess, alternating with this
one, so both figures come from one run on the same (possibly busy) machine.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from experiments.cli import parser_for

TARGET = 6_000_000


def measure(task_name="parity8", gates=1000, seconds=5.0, lam=1, mutation=None, seed=0):
    """One timed ES run; returns a dict of rates."""
    import btype
    import btype.search

    task = btype.tasks.get(task_name)
    net = btype.random_network(task.n_inputs, gates, task.n_outputs, seed=seed)
    # the baseline's es knows no mutation="cone" and defaults to "flips"
    options = {"lam": lam} if mutation is None else {"lam": lam, "mutation": mutation}
    # warm-up: compiles (or loads) the kernels, so nothing below waits for the compiler
    btype.search.train(net, task, budget=btype.Budget(evaluations=100), progress=False, **options)
    result = btype.search.train(net, task, budget=btype.Budget(seconds=seconds), seed=seed,
                                progress=False, **options)
    last = result.trace[-1]
    evaluated = last["evaluations"]
    return {"lam": lam, "mutation": mutation or "default", "seconds": last["seconds"],
            "evaluated_per_s": evaluated / last["seconds"],
            "offspring_per_s": (evaluated + last["skipped"]) / last["seconds"],
            "gates_per_eval": last["gate_evals"] / max(evaluated, 1) / len(task.X_train),
            "skipped_share": last["skipped"] / max(evaluated + last["skipped"], 1),
            "fitness": result.train_fitness}


def breakdown(task_name="parity8", gates=1000, mutation="flips", n=2_000_000, seed=0):
    """ns per evaluated offspring in: drawing, delta evaluation + rescoring + undo, the rest
    of a step (acceptance, counters)."""
    import btype
    from btype.jit import njit
    from btype.search import _kernels as K
    from btype.search.core import SearchRun
    from btype.search.method import COMMON
    from btype.search.es import ES

    @njit(_nrt=False)
    def draws(prob, wk, mut, n):
        hits = 0
        for _ in range(n):
            k = K.draw_mutation(prob, wk, mut[0], wk.offs[0])
            hits += K.touches_cone(prob, wk, wk.offs[0], k)
        return hits

    @njit(_nrt=False)
    def deltas(prob, wk, mut, n):
        for _ in range(n):
            k = K.draw_mutation(prob, wk, mut[0], wk.offs[0])
            if K.touches_cone(prob, wk, wk.offs[0], k):
                K.apply(prob, wk, wk.offs[0], k)
                K.undo(prob, wk, wk.offs[0], k)

    @njit(_nrt=False)
    def steps(prob, wk, mut, n):
        for _ in range(n):
            K.local_step(prob, wk, mut[0], 0.0)

    task = btype.tasks.get(task_name)
    net = btype.random_network(task.n_inputs, gates, task.n_outputs, seed=seed)
    budget = btype.Budget(steps=1 << 62)
    method = ES({"mutation": mutation}, n_links=net.n_modified, budget=budget)
    run = SearchRun(net, task, method, budget, seed, dict(COMMON))
    method.start(run)
    times = {}
    for fn in (draws, deltas, steps):
        fn(run.prob, run.wk, method.mut, 10)
        t0 = time.perf_counter()
        fn(run.prob, run.wk, method.mut, n)
        times[fn.__name__] = time.perf_counter() - t0
    evaluated = max(draws(run.prob, run.wk, method.mut, n), 1)   # same stream statistics
    per = {k: v / evaluated * 1e9 for k, v in times.items()}
    return {"draw": per["draws"], "delta_undo": per["deltas"] - per["draws"],
            "score_accept": per["steps"] - per["deltas"], "total": per["steps"]}


def _rows(args):
    return [measure(args.task, args.gates, args.seconds, lam, mutation)
            for mutation in args.mutation for lam in args.lam]


def _baseline_rows(path, args):
    """The same measurement on another checkout, in a subprocess (its own btype; the
    module path ``experiments.throughput_search`` is kept for this)."""
    code = ("import json, sys; sys.path.insert(0, %r); import experiments.throughput_search as t; "
            "print(json.dumps([t.measure(%r, %d, %r, lam) for lam in %r]))"
            % (path, args.task, args.gates, args.seconds, list(args.lam)))
    env = {**os.environ, "PYTHONPATH": path, "NUMBA_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=path, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = parser_for("throughput-search", __doc__.splitlines()[0])
    parser.add_argument("--task", default="parity8", help="task searched (default parity8)")
    parser.add_argument("--gates", type=int, default=1000, help="gates of the machine (default 1,000)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per measurement (default 5)")
    parser.add_argument("--lam", type=int, nargs="+", default=[1, 4], help="offspring per generation measured (default 1 4)")
    parser.add_argument("--mutation", nargs="+", default=["flips", "cone"], help="mutation kinds measured (default flips cone)")
    parser.add_argument("--baseline", help="another btype checkout to measure side by side")
    args = parser.parse_args(argv)
    import numba

    from experiments.bench.throughput import machine_name

    numba.set_num_threads(1)
    print(f"machine: {machine_name()} ({os.cpu_count()} cores); search runs on 1 thread")
    print(f"es on {args.task}, {args.gates}-gate layered B-type, {args.seconds:g} s per run\n")
    print(f"{'code':>8} {'mutation':>8} {'lambda':>6} {'evaluated/s':>12} {'all offspring/s':>16} "
          f"{'gates/eval':>11} {'skipped':>8} {'x target':>9}")
    rows = []
    for _ in range(1 if args.baseline is None else 2):      # alternate: base, this, base, this
        if args.baseline is not None:
            rows += [("baseline", r) for r in _baseline_rows(args.baseline, args)]
        rows += [("this", r) for r in _rows(args)]
    for code, r in rows:
        print(f"{code:>8} {r.get('mutation', 'flips'):>8} {r['lam']:>6} {r['evaluated_per_s']:>12,.0f} "
              f"{r['offspring_per_s']:>16,.0f} {r['gates_per_eval']:>11.2f} {r['skipped_share']:>8.0%} "
              f"{r['evaluated_per_s'] / TARGET:>9.2f}")
    print(f"\ntarget: {TARGET:,} evaluated offspring/s\n")
    print("where one evaluated offspring's time goes (lambda 1, ns):")
    print(f"{'mutation':>8} {'draw':>8} {'delta+score+undo':>17} {'rest':>8} {'total':>8}")
    for mutation in args.mutation:
        b = breakdown(args.task, args.gates, mutation)
        print(f"{mutation:>8} {b['draw']:>8.1f} {b['delta_undo']:>17.1f} {b['score_accept']:>8.1f} "
              f"{b['total']:>8.1f}")


if __name__ == "__main__":
    main()
