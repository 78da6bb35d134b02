"""Which sgd defaults: AdamW with or without restarts on the goal tasks, and digits.

Seeds 100-103 (not the README table's 0-19), steps budgets, one thread. JSON lines to OUT (resumable).
python -m experiments.studies.sgd_boolean.choose_defaults OUT [--digits]
"""
import json
import os
import sys
import time

import torch

import btype
import sgd

torch.set_num_threads(1)
MACHINES = {"mul2": (300, 10), "add2": (400, 12), "mux6": (400, 10), "parity5": (600, 14)}
CELLS = {"adamw": dict(optimizer="adamw", check_every=25),
         "adamw+r5": dict(optimizer="adamw", check_every=25, restarts=5),
         "adamw+r10": dict(optimizer="adamw", check_every=25, restarts=10)}
DIGITS = {"old": dict(optimizer="adam"), "adamw": dict(optimizer="adamw", check_every=25)}


def main():
    out = sys.argv[1]
    done = set()
    if os.path.exists(out):
        done = {(d["cell"], d["task"], d["seed"]) for d in map(json.loads, open(out))}
    jobs = []
    if "--digits" in sys.argv:
        jobs += [(c, "digits", s) for s in (0, 1) for c in DIGITS]
    else:
        jobs += [(c, t, s) for s in range(100, 104) for t in MACHINES for c in CELLS]
    for cell, name, seed in jobs:
        if (cell, name, seed) in done:
            continue
        task = btype.tasks.get(name)
        if name == "digits":
            net = btype.random_network(task.n_inputs, 8000, 800, layers=4, seed=seed)
            opts, budget = DIGITS[cell], btype.Budget(steps=1500)
        else:
            G, L = MACHINES[name]
            net = btype.random_network(task.n_inputs, G, task.n_outputs, layers=L, reach=2, seed=seed)
            opts, budget = CELLS[cell], btype.Budget(steps=5000)
        t0 = time.perf_counter()
        r = sgd.train(net, task, budget=budget, seed=seed, progress=False, device="cpu", **opts)
        d = dict(cell=cell, task=name, seed=seed, solved=r.solved, steps=r.trace[-1]["step"],
                 train=r.train_fitness, test=r.test_accuracy, seconds=time.perf_counter() - t0)
        with open(out, "a") as fh:
            fh.write(json.dumps(d) + "\n")
        print(d, flush=True)


if __name__ == "__main__":
    main()
