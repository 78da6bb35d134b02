"""btype's ES against Cartesian GP on the General Boolean Function Benchmark Suite.

    btype bench-cgp [--tasks epar8 mul3 addc4 cmp4] [--seeds 10]
        [--first-seed 1000] [--budget 5e7] [--out FILE] [--set KEY=VALUE ...] [--summary]

For each task, ``--seeds`` runs of ``btype.search.train(..., method="es")`` (run
``s``: machine ``btype.random_network(..., seed=s)``, search seed ``s``), each
until solved or ``--budget`` evaluations, at the task's settings in
:data:`TASKS` (btype's best settings, from the study in the README; tuning
used seeds below 1000, the benchmark seeds start at 1000). Prints one table:
success rate with its Wilson interval, median evaluations to solve with a
bootstrap interval, median seconds to solve, evaluated offspring per second,
the ratio to the published CGP median, and CGP++'s wall-time figures beside.

Medians are over *all* runs, an unsolved run counting as solving beyond the
budget (inf): with one censoring point for every run above every solve this
is the Kaplan-Meier median; it is "not reached" (inf) when half or more of
the runs did not solve. Evaluations are offspring whose fitness was computed;
offspring whose flips all lie on inactive gates (no live path to an output)
are not evaluated (their fitness is the parent's) and are shown apart as
"all offspring" (as the "skip" of Goldman and Punch for CGP's inactive genes).

``--out`` appends one JSON line per finished run (so nothing finished is lost
on Ctrl-C), and runs already in the file with the same settings are not run
again; ``--summary`` only prints the table of the file. ``--set KEY=VALUE``
overrides a setting for every task (machine: ``gates``, ``layers``, ``reach``;
any ES option, e.g. ``flips=2``, ``restart=2000000``; a value is read as JSON
if it parses, else as a string): that is how the study's variants were run.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time

import numpy as np

from experiments.analysis import stats
from experiments.analysis.anchors import CGP_MEDIANS
from experiments.sweep.host import cpu_name
from experiments.cli import parser_for

#: The suite's functions: btype task, published CGP median evaluations ((1+1)-ES with
#: neutral drift, tuned, 100 runs), CGP++'s wall time on this project's 2-core machine
#: and btype's settings. The suite's ``epar8`` computes the XOR of the
#: inputs (its ``epar.v``: ``O = ^A``), which is btype's ``parity8``; btype's own
#: ``epar8`` is even parity in Koza's sense, its complement (XNOR).
TASKS = {
    "epar8": dict(task="parity8", cgp=CGP_MEDIANS["epar8"], cgpp="19 s median (5/5)",
                  settings=dict(gates=1000, layers=24, reach=2)),
    "mul3": dict(task="mul3", cgp=CGP_MEDIANS["mul3"], cgpp="73 s median (4/5, 120 s cap)",
                 settings=dict(gates=2000, layers=24, reach=2, flips=2)),
    "addc4": dict(task="addc4", cgp=CGP_MEDIANS["addc4"], cgpp="1 of 4 solved in 120 s",
                  settings=dict(gates=2000, layers=24, reach=2)),
    "cmp4": dict(task="cmp4", cgp=CGP_MEDIANS["cmp4"], cgpp="not measured",
                 settings=dict(gates=2000, layers=24, reach=2)),
}
MACHINE_KEYS = ("gates", "layers", "reach")


def settings_of(name, overrides):
    return {**TASKS[name]["settings"], **overrides}


def key_of(name, settings, seed, budget):
    return json.dumps([name, sorted(settings.items()), int(seed), int(budget)])


def run_one(name, settings, seed, budget):
    """One ES run; returns its JSON-able summary (None if interrupted)."""
    import btype
    import btype.search

    spec = TASKS[name]
    task = btype.tasks.get(spec["task"])
    net = btype.random_network(task.n_inputs, settings["gates"], task.n_outputs,
                               layers=settings["layers"], reach=settings["reach"], seed=seed)
    options = {k: v for k, v in settings.items() if k not in MACHINE_KEYS}
    result = btype.search.train(net, task, method="es", budget=btype.Budget(evaluations=budget),
                                seed=seed, progress=False, **options)
    if result.interrupted:
        return None
    last = result.trace[-1]
    return dict(bench=name, task=spec["task"], seed=seed, budget=budget, settings=settings,
                solved=bool(result.solved), evaluations=int(last["evaluations"]),
                skipped=int(last["skipped"]), gate_evals=int(last["gate_evals"]),
                seconds=float(last["seconds"]), fitness=float(result.train_fitness),
                restarts=int(last.get("restarts", 0)), stop_reason=result.stop_reason,
                load=os.getloadavg()[0])


def measure_rate(name, settings, seed, seconds):
    """Evaluated offspring per wall second and per CPU second of this process, over ES
    runs on the task's machines (seeds ``seed``, ``seed + 1``, ... until ``seconds`` of
    wall time; CPU time stands for a quiet core when the machine is shared)."""
    import btype
    import btype.search

    spec = TASKS[name]
    task = btype.tasks.get(spec["task"])
    options = {k: v for k, v in settings.items() if k not in MACHINE_KEYS}
    evals = cpu = wall = 0.0
    while wall < seconds:
        net = btype.random_network(task.n_inputs, settings["gates"], task.n_outputs,
                                   layers=settings["layers"], reach=settings["reach"], seed=seed)
        btype.search.train(net, task, budget=btype.Budget(evaluations=1000), progress=False,
                           **options)                     # loads the kernels outside the clock
        c0, w0 = time.process_time(), time.perf_counter()
        result = btype.search.train(net, task, budget=btype.Budget(seconds=seconds - wall),
                                    seed=seed, progress=False, **options)
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
        evals += result.trace[-1]["evaluations"]
        seed += 1
    return dict(bench=name, evaluations=evals, wall=wall, cpu=cpu, per_wall=evals / wall,
                per_cpu=evals / cpu, load=os.getloadavg()[0])


def read_runs(path):
    if path is None or not os.path.exists(path):
        return []
    runs = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    runs.append(json.loads(line))
                except json.JSONDecodeError:       # a line cut short by a kill: run again
                    pass
    return runs


def _fmt_count(x):
    if not math.isfinite(x):
        return "not reached"
    return f"{x / 1e6:.2f} M" if x >= 1e5 else f"{x:,.0f}"


def summarise(runs, name):
    """Table row figures of one group of runs (same task, settings, budget)."""
    solved = np.array([r["solved"] for r in runs])
    evals = np.array([r["evaluations"] if r["solved"] else np.inf for r in runs], float)
    offspring = np.array([r["evaluations"] + r["skipped"] if r["solved"] else np.inf for r in runs],
                         float)
    secs = np.array([r["seconds"] if r["solved"] else np.inf for r in runs], float)
    rate = stats.success_rate(solved)
    med = stats.median_ci(evals)
    total_e = sum(r["evaluations"] for r in runs)
    total_o = sum(r["evaluations"] + r["skipped"] for r in runs)
    total_s = sum(r["seconds"] for r in runs)
    cgp = TASKS[name]["cgp"]
    return dict(n=len(runs), k=int(solved.sum()), rate=rate, med=med,
                med_offspring=float(np.median(offspring)), med_s=float(np.median(secs)),
                eval_rate=total_e / total_s if total_s else float("nan"),
                offspring_rate=total_o / total_s if total_s else float("nan"),
                ratio=med.value / cgp, ratio_lo=med.low / cgp, ratio_hi=med.high / cgp,
                fitness=float(np.median([r["fitness"] for r in runs])),
                load=float(np.mean([r.get("load", float("nan")) for r in runs])))


def table(runs, names=None):
    """Markdown table, one row per (task, settings, budget) group in the file's order."""
    groups = {}
    for r in runs:
        if names is None or r["bench"] in names:
            groups.setdefault(json.dumps([r["bench"], sorted(r["settings"].items()), r["budget"]]),
                              []).append(r)
    lines = ["| task | settings | solved | median evaluations to solve [95% CI] | x CGP median "
             "| median all offspring | median s to solve | evaluated/s | CGP median | CGP++ |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for key, group in groups.items():
        name, settings, budget = json.loads(key)
        s = summarise(group, name)
        ratio = (f"{s['ratio']:.2f} [{s['ratio_lo']:.2f}, {s['ratio_hi']:.2f}]"
                 if math.isfinite(s["ratio"]) else "-")
        sett = ", ".join(f"{k}={v}" for k, v in settings if v is not None)
        med_s = f"{s['med_s']:.2f}" if math.isfinite(s["med_s"]) else "not reached"
        lines.append(
            f"| {name} ({TASKS[name]['task']}) | {sett} | {s['k']}/{s['n']} "
            f"[{s['rate'].low:.0%}, {s['rate'].high:.0%}] | {_fmt_count(s['med'].value)} "
            f"[{_fmt_count(s['med'].low)}, {_fmt_count(s['med'].high)}] | {ratio} "
            f"| {_fmt_count(s['med_offspring'])} | {med_s} | {s['eval_rate'] / 1e6:.2f} M "
            f"| {TASKS[name]['cgp']:,} | {TASKS[name]['cgpp']} |")
    return "\n".join(lines)


def parse_set(items):
    out = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"--set takes KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def main(argv=None):
    parser = parser_for("bench-cgp", __doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS), help="benchmark tasks (default all four)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds per task (default 10)")
    parser.add_argument("--first-seed", type=int, default=1000,
                        help="first seed (the study tuned on seeds below 1000)")
    parser.add_argument("--budget", type=float, default=5e7, help="evaluations per run")
    parser.add_argument("--out", help="JSON Lines file of finished runs (appended, resumed)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="override a setting for every task (repeatable)")
    parser.add_argument("--summary", action="store_true", help="only print the table of --out")
    parser.add_argument("--rate", type=float, metavar="SECONDS",
                        help="only measure evaluated offspring per wall and per CPU second on "
                             "each task's machine (first seed), SECONDS per task, and convert "
                             "the medians of --out to CPU seconds")
    args = parser.parse_args(argv)
    overrides = parse_set(args.set)
    budget = int(args.budget)
    if args.rate is not None:
        import numba

        numba.set_num_threads(1)
        runs = read_runs(args.out)
        print("| task | evaluated/s (wall) | evaluated/s (CPU) | load | median evaluations to solve "
              "| = CPU seconds | CGP++ |\n|---|---:|---:|---:|---:|---:|---|")
        for name in args.tasks:
            settings = settings_of(name, overrides)
            r = measure_rate(name, settings, args.first_seed, args.rate)
            group = [x for x in runs if x["bench"] == name and x["settings"] == settings
                     and x["budget"] == budget]
            med = float(np.median([x["evaluations"] if x["solved"] else np.inf for x in group])) \
                if group else float("nan")
            print(f"| {name} | {r['per_wall'] / 1e6:.3f} M | {r['per_cpu'] / 1e6:.3f} M | "
                  f"{r['load']:.1f} | {_fmt_count(med)} | {med / r['per_cpu']:.1f} | "
                  f"{TASKS[name]['cgpp']} |")
        return
    runs = read_runs(args.out)
    if not args.summary:
        import numba

        numba.set_num_threads(1)
        done = {key_of(r["bench"], r["settings"], r["seed"], r["budget"]) for r in runs}
        todo = [(n, s) for n in args.tasks for s in range(args.first_seed, args.first_seed + args.seeds)
                if key_of(n, settings_of(n, overrides), s, budget) not in done]
        print(f"machine: {cpu_name()}, {os.cpu_count()} cores, 1 thread; load average "
              f"{os.getloadavg()[0]:.1f}; {len(todo)} runs to do", file=sys.stderr)
        t0 = time.perf_counter()
        for i, (name, seed) in enumerate(todo):
            r = run_one(name, settings_of(name, overrides), seed, budget)
            if r is None:
                print("interrupted", file=sys.stderr)
                break
            runs.append(r)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(r) + "\n")
            print(f"[{i + 1}/{len(todo)} {time.perf_counter() - t0:.0f} s] {name} seed {seed}: "
                  f"{'solved' if r['solved'] else 'unsolved'} evals {r['evaluations']:,} "
                  f"fitness {r['fitness']:.4f} {r['seconds']:.1f} s restarts {r['restarts']}",
                  file=sys.stderr)
    wanted = [r for r in runs if r["bench"] in args.tasks and r["budget"] == budget
              and (args.summary or r["settings"] == settings_of(r["bench"], overrides))]
    print(table(wanted))


if __name__ == "__main__":
    main()
