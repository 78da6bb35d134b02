"""The README table of search results: success rate and evaluations to solve.

    python -m experiments.search_table [--seeds 20] [--evaluations 10000000] [--method es]
                                       [--tasks parity3 ...] [--workers 2] [--out FILE.jsonl]

For every task, ``--seeds`` runs (run ``s``: machine ``random_network(..., seed=s)``,
search seed ``s``) of ``btype.search.train`` with an evaluation budget, in a
``multiprocessing`` spawn pool, one Numba thread per worker. Prints a markdown
table: machine size, success rate, median evaluations and seconds to solve (over
the solved runs). One JSON line per run goes to ``--out``; runs already there are
skipped, so an interrupted table resumes.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time

# Machines that ES solves within the default budget (layered, ports reach 2 layers back).
SIZES = {
    "parity3": dict(n_gates=200, layers=10),
    "parity4": dict(n_gates=300, layers=12),
    "parity5": dict(n_gates=600, layers=14),
    "parity6": dict(n_gates=1000, layers=20),
    "mux6": dict(n_gates=400, layers=10),
    "add2": dict(n_gates=400, layers=12),
    "mul2": dict(n_gates=300, layers=10),
}
REACH = 2


def run_one(job):
    """One search run (in a worker); returns its summary as a dict."""
    import btype
    import btype.search

    task = btype.tasks.get(job["task"])
    size = SIZES[job["task"]]
    net = btype.random_network(task.n_inputs, size["n_gates"], task.n_outputs, layers=size["layers"],
                               reach=REACH, seed=job["seed"], link=job["link"])
    result = btype.search.train(net, task, method=job["method"],
                                budget=btype.Budget(evaluations=job["evaluations"]),
                                seed=job["seed"], progress=False, **job["options"])
    last = result.trace[-1]
    return {**job, **size, "reach": REACH, "solved": result.solved,
            "train_fitness": result.train_fitness, "evaluations_used": last["evaluations"],
            "skipped": last.get("skipped"), "gate_evals": last["gate_evals"],
            "seconds": last["seconds"]}


def _cpu():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return f"unknown CPU ({os.cpu_count()} cores)"


def _median(values):
    values = sorted(values)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def table(rows, tasks):
    """Markdown table from run summaries."""
    lines = ["| task | gates | layers | solved | median evaluations to solve | median seconds to solve |",
             "|---|---:|---:|---:|---:|---:|"]
    for name in tasks:
        runs = [r for r in rows if r["task"] == name]
        if not runs:
            continue
        solved = [r for r in runs if r["solved"]]
        evals = _median([r["evaluations_used"] for r in solved])
        secs = _median([r["seconds"] for r in solved])
        lines.append(f"| {name} | {runs[0]['n_gates']} | {runs[0]['layers']} | "
                     f"{len(solved)}/{len(runs)} ({100 * len(solved) / len(runs):.0f}%) | "
                     f"{'-' if evals is None else f'{evals:,.0f}'} | "
                     f"{'-' if secs is None else f'{secs:.3f}'} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--evaluations", type=int, default=10_000_000)
    parser.add_argument("--method", default="es")
    parser.add_argument("--link", default="switch", choices=["switch", "turing"])
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="method option, e.g. --option lam=4 (value read as JSON when it parses)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=None, help="JSON Lines file of run summaries (resumable)")
    args = parser.parse_args(argv)
    options = {}
    for item in args.option:
        key, _, value = item.partition("=")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value

    jobs = [dict(task=t, seed=s, method=args.method, link=args.link, evaluations=args.evaluations,
                 options=options) for t in args.tasks for s in range(args.seeds)]
    rows = []
    if args.out and os.path.exists(args.out):
        with open(args.out) as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        key = lambda j: (j["task"], j["seed"], j["method"], j["link"], j["evaluations"],
                         json.dumps(j["options"], sort_keys=True))
        done = {key(r) for r in rows}
        rows = [r for r in rows if key(r) in {key(j) for j in jobs}]
        jobs = [j for j in jobs if key(j) not in done]

    # one Numba thread per worker; spawned workers inherit the environment
    os.environ["NUMBA_NUM_THREADS"] = "1"
    from tqdm.auto import tqdm

    start = time.perf_counter()
    out = open(args.out, "a") if args.out else None
    try:
        with mp.get_context("spawn").Pool(args.workers) as pool:
            for row in tqdm(pool.imap_unordered(run_one, jobs), total=len(jobs), desc="runs"):
                rows.append(row)
                if out:
                    out.write(json.dumps(row) + "\n")
                    out.flush()
    finally:
        if out:
            out.close()
    opts = " ".join(f"{k}={v}" for k, v in options.items())
    print(f"\n{args.method} {opts} on {args.link}-mode B-types (layered, reach {REACH}); "
          f"budget {args.evaluations:,} evaluations; {args.seeds} seeds per task; "
          f"{args.workers} workers x 1 thread; {_cpu()}; "
          f"{time.perf_counter() - start:.0f} s\n")
    print(table(rows, args.tasks))
    return rows


if __name__ == "__main__":
    sys.exit(0 if main() is not None else 1)
