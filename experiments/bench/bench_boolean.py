"""The README table of gradient descent on Boolean functions: sgd (old and new defaults), es, sgd+es.

    btype bench-boolean [--out FILE] [--sets full gd] [--tasks ...] [--methods ...]
                                        [--seeds 0-19] [--sgd-options JSON] [--summary]

Every run (task, machine set, method, seed) trains ``random_network(..., seed=seed)`` with
trainer seed ``seed`` in this process (one Numba and one torch thread) and appends one JSON
line to ``--out`` when it ends, so a stopped benchmark loses at most the run in progress
and a restart skips the runs already in the file. ``--summary`` prints the markdown table
from the file. ``--sgd-options '{"lr": 0.2}'`` runs the ``sgd`` method with options over its
defaults (a study of one option; each setting in its own ``--out``).

Machine sets: ``full`` is each task's machine in ``experiments.sweep.presets.BASE_TASKS`` (the
first full preset's, which the standard preset runs on); ``gd`` is the machine chosen for
gradient descent (:data:`GD_MACHINES`): for a single-output task a wide, shallow
machine read as the 2-class task ``btype.tasks.get(name, as_classes=True)`` (half the outputs
vote for 0, half for 1, the larger popcount wins, ties to 0: a readout, not gates); the
multi-output tasks have none (see :data:`GD_MACHINES`).

Methods and budgets (the issue's figures): ``sgd-old`` is ``sgd.train`` with the options
that were its defaults before (passed explicitly: Adam, no hardened check between records,
no restarts), ``sgd`` is ``sgd.train`` with the package defaults, both 5,000 optimiser
steps; ``es`` and ``sgd+es`` (package defaults) get 2e9 gate-evaluations, on the machines
for gradient descent with the plateau rule (:data:`PLATEAU`: the search's class vote reads
every output of those machines, so a run of 2e9 would take minutes; on the full preset's
machines a run takes seconds and the rule is off, since es's neutral drift solves after
long plateaus). Runs are done seed by seed, cheapest task first, so a benchmark cut
short has the same seeds in every cell it reached.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from experiments.sweep.host import cpu_name
from experiments.cli import parser_for

TASKS = ("parity3", "parity4", "majority5", "cmp2", "mul2", "mux6", "add2", "parity5", "add3",
         "parity6", "parity7", "mux11")
METHODS = ("sgd-old", "sgd", "es", "sgd+es")
SETS = ("full", "gd")
OLD_SGD = dict(optimizer="adam", check_every=None, restarts=1, init="random")
SGD_STEPS = 5000
GATE_EVALS = 2e9
#: es and sgd+es stop once the best fitness has not improved while the gate-evaluations
#: grew this many times, after at least PLATEAU_MIN (the standard preset's rule).
PLATEAU, PLATEAU_MIN = 4.0, 50_000_000

#: Machines chosen for gradient descent, single-output tasks only: (gates, layers, outputs per
#: class), read as the 2-class task. The multi-output tasks have no vote readout; the one shape
#: tried for them (1,024 gates in 6 layers, reach 1, one output per bit: seed 0 of every method
#: solved none of cmp2, mul2, add2, add3; the rows stay in the results file) did worse than the
#: full preset's machines, so they have no entry and the ``gd`` set skips them.
GD_MACHINES = {name: (2048, 4, 256) for name in ("parity3", "parity4", "parity5", "parity6", "parity7",
                                                  "majority5", "mux6", "mux11")}
TRIED_GD = {name: (1024, 6, None) for name in ("cmp2", "mul2", "add2", "add3")}


def machine(task_name, machine_set, seed):
    """(task, network, description) of one run."""
    import btype
    if machine_set == "full":
        from experiments.sweep.machines import random_network_args
        from experiments.sweep.presets import BASE_TASKS
        task = btype.tasks.get(task_name)
        spec = random_network_args(BASE_TASKS[task_name].network, task)
        net = btype.random_network(**spec, seed=seed)
        return task, net, f"{spec['n_gates']}/{spec['layers']}, reach {spec.get('reach', 1)}, 1 output per bit"
    n_gates, layers, per_class = GD_MACHINES.get(task_name) or TRIED_GD[task_name]
    if per_class is None:
        task = btype.tasks.get(task_name)
        net = btype.random_network(task.n_inputs, n_gates, task.n_outputs, layers=layers, seed=seed)
        return task, net, f"{n_gates}/{layers}, reach 1, 1 output per bit"
    task = btype.tasks.get(task_name, as_classes=True)
    net = btype.random_network(task.n_inputs, n_gates, 2 * per_class, layers=layers, seed=seed)
    return task, net, f"{n_gates}/{layers}, reach 1, vote of {per_class} per class"


def run_one(task_name, machine_set, method, seed, sgd_options=None):
    """Train one run; the JSON-ready result. ``sgd_options``: options passed to the
    ``sgd`` method over the package defaults (a study of one option; kept in the row)."""
    import btype
    task, net, shape = machine(task_name, machine_set, seed)
    sgd_options = dict(sgd_options or {}) if method == "sgd" else {}
    if method in ("sgd-old", "sgd"):
        budget = btype.Budget(steps=SGD_STEPS)
        options = dict(OLD_SGD) if method == "sgd-old" else {**sgd_options}
        trainer, options["device"] = btype.trainer("sgd"), "cpu"
    else:
        plateau = dict(plateau=PLATEAU, plateau_min=PLATEAU_MIN) if machine_set == "gd" else {}
        budget = btype.Budget(gate_evals=GATE_EVALS, **plateau)
        trainer, options = btype.trainer(method), ({"device": "cpu"} if method == "sgd+es" else {})
    t0 = time.perf_counter()
    r = trainer(net, task, budget=budget, seed=seed, progress=False, **options)
    wall = time.perf_counter() - t0
    last = r.trace[-1]
    solve = next((rec for rec in r.trace if rec["solved"]), None)
    check = task.score(r.network, "train")   # the simulator's word on the returned machine
    if check.solved != r.solved:
        raise AssertionError(f"{task_name} {method} seed {seed}: solved {r.solved} but the simulator says "
                             f"{check.solved}")
    return dict(set=machine_set, task=task_name, method=method, seed=seed, machine=shape, solved=r.solved,
                stop_reason=r.stop_reason, train_fitness=r.train_fitness, steps=last["step"],
                evaluations=last["evaluations"], gate_evals=last["gate_evals"], seconds=last["seconds"],
                wall=wall, solve_evaluations=None if solve is None else solve["evaluations"],
                solve_gate_evals=None if solve is None else solve["gate_evals"],
                solve_seconds=None if solve is None else solve["seconds"],
                switch_gate_evals=next((rec["gate_evals"] for rec in r.trace if rec.get("phase") == "es"), None),
                **({"sgd_options": sgd_options} if sgd_options else {}))


def _options_arg(text):
    try:
        options = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not JSON ({error})") from None
    if not isinstance(options, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object of sgd options, got {text!r}")
    return options


def seeds_arg(text):
    seeds = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        seeds.extend(range(int(lo), int(hi or lo) + 1))
    return seeds


def read(path):
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _median(values):
    return None if not values else float(np.median(values))


def _fmt(v, seconds=False):
    if v is None:
        return "-"
    return f"{v:.2f}" if seconds else (f"{v / 1e6:.2f} M" if v >= 1e6 else f"{v:,.0f}")


def summary(rows, sets=SETS, tasks=TASKS, methods=METHODS) -> str:
    """Markdown tables, one per machine set: success and medians over the solved runs."""
    out = []
    for s in sets:
        group = [r for r in rows if r["set"] == s]
        if not group:
            continue
        out += [f"**{'The base machines (standard preset)' if s == 'full' else 'Machines chosen for gradient descent'}**", "",
                "| task | machine | method | solved | median evaluations | median gate-evals | median seconds |",
                "|---|---|---|---:|---:|---:|---:|"]
        for t in tasks:
            for m in methods:
                cell = [r for r in group if r["task"] == t and r["method"] == m]
                if not cell:
                    continue
                ok = [r for r in cell if r["solved"]]
                out.append(f"| {t} | {cell[0]['machine']} | {m} | {len(ok)}/{len(cell)} | "
                           f"{_fmt(_median([r['solve_evaluations'] for r in ok]))} | "
                           f"{_fmt(_median([r['solve_gate_evals'] for r in ok]))} | "
                           f"{_fmt(_median([r['solve_seconds'] for r in ok]), True)} |")
        out.append("")
    return "\n".join(out)


def main(argv=None):
    parser = parser_for("bench-boolean", __doc__.splitlines()[0])
    parser.add_argument("--out", default="bench_boolean.jsonl", help="JSON Lines file of results, resumed if present (default bench_boolean.jsonl)")
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS, help="machine sets (default all)")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS, help="tasks (default all)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS, help="methods (default all)")
    parser.add_argument("--gd-methods", nargs="+", choices=METHODS,
                        help="methods on the gd set (default: --methods); the search's class vote makes es slow there")
    parser.add_argument("--seeds", type=seeds_arg, default=list(range(20)), help="e.g. 0-19 or 0-4,10")
    parser.add_argument("--sgd-options", type=_options_arg, default={}, metavar="JSON",
                        help='options of the sgd method over its defaults, e.g. \'{"lr": 0.2}\' '
                             '(kept in each row; give each setting its own --out)')
    parser.add_argument("--summary", action="store_true", help="print the table from --out and stop")
    args = parser.parse_args(argv)
    if args.summary:
        print(summary(read(args.out), args.sets, args.tasks, args.methods))
        return 0
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    import numba
    import torch
    numba.set_num_threads(1)
    torch.set_num_threads(1)
    rows = read(args.out)
    other = {json.dumps(r.get("sgd_options", {}), sort_keys=True) for r in rows if r["method"] == "sgd"}
    other.discard(json.dumps(args.sgd_options, sort_keys=True))
    if other:
        parser.error(f"{args.out} holds sgd runs with other --sgd-options ({', '.join(sorted(other))}); "
                     "give each setting its own --out")
    done = {(r["set"], r["task"], r["method"], r["seed"]) for r in rows}
    print(f"# {cpu_name()}, {os.cpu_count()} cores; results to {args.out}", flush=True)
    try:
        for seed in args.seeds:
            for s in args.sets:
                for t in args.tasks:
                    for m in (args.gd_methods or args.methods) if s == "gd" else args.methods:
                        if (s, t, m, seed) in done or (s == "gd" and t not in GD_MACHINES):
                            continue
                        row = run_one(t, s, m, seed, args.sgd_options)
                        with open(args.out, "a") as fh:
                            fh.write(json.dumps(row) + "\n")
                        print(f"{s} {t} {m} seed {seed}: solved {row['solved']} ({row['stop_reason']}) "
                              f"gate-evals {row['gate_evals']:.3g} in {row['wall']:.1f} s", flush=True)
    except KeyboardInterrupt:
        print("interrupted: finished runs are in the file", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
