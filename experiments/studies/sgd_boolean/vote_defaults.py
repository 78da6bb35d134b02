"""Which defaults on the 2-class (vote) readout of a truth table: the bench's gd machines.

python -m experiments.studies.sgd_boolean.vote_defaults OUT  (JSON lines, resumable)
"""
import json
import os
import sys

import torch

import btype
import sgd

torch.set_num_threads(1)
CELLS = {"adam": dict(optimizer="adam", check_every=25, restarts=1),
         "adamw": dict(optimizer="adamw", check_every=25, restarts=1),
         "adamw+r10": dict(optimizer="adamw", check_every=25, restarts=10)}


def main():
    out = sys.argv[1]
    done = set()
    if os.path.exists(out):
        done = {(d["cell"], d["task"], d["seed"]) for d in map(json.loads, open(out))}
    for seed in range(100, 104):
        for name in ("parity5", "parity4", "parity6"):
            for cell, opts in CELLS.items():
                if (cell, name, seed) in done:
                    continue
                task = btype.tasks.get(name, as_classes=True)
                net = btype.random_network(task.n_inputs, 2048, 512, layers=4, seed=seed)
                r = sgd.train(net, task, budget=btype.Budget(steps=5000), seed=seed, progress=False,
                              device="cpu", **opts)
                d = dict(cell=cell, task=name, seed=seed, solved=r.solved, steps=r.trace[-1]["step"],
                         train=r.train_fitness)
                with open(out, "a") as fh:
                    fh.write(json.dumps(d) + "\n")
                print(d, flush=True)


if __name__ == "__main__":
    main()
