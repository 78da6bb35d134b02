"""The long goal: Fashion-MNIST, at least 85% hardened test accuracy within 30 minutes
at most 100,000 gates on 2 CPU cores. One sgd run on a time budget with a validation split
(early stopping, the machine kept by validation accuracy), checkpointed at every record so an
interrupted run resumes where it stopped; the records go to a JSON Lines file.

    python -m experiments.studies.fashion_long.run --task fashion-t3 --gates 96000 --layers 4 \\
        --seconds 1800 --out docs/data/studies/fashion_long/fashion-t3.jsonl
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m experiments.studies.fashion_long.run")
    p.add_argument("--task", default="fashion-t3")
    p.add_argument("--gates", type=int, default=96000)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--per-class", type=int, help="outputs per class (default: gates / 40)")
    p.add_argument("--seconds", type=float, default=1800.0)
    p.add_argument("--valid", type=float, default=0.05)
    p.add_argument("--tau-end", type=float, default=0.1)
    # one thread: at 96,000 gates two threads made a step slower, not faster (9,343 steps
    # in 30 minutes alone on the machine against 12,866 with one thread beside another run)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)

    import numba
    import torch

    import btype
    import btype.export
    import sgd

    numba.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    task = btype.tasks.get(args.task, valid=args.valid)
    per_class = args.per_class or args.gates // 40
    net = btype.random_network(task.n_inputs, args.gates, task.n_classes * per_class, kind="layered",
                               layers=args.layers, seed=args.seed)
    budget = btype.Budget(seconds=args.seconds, target=None)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    result = sgd.train(net, task, budget=budget, seed=args.seed, device="cpu", tau_end=args.tau_end,
                       checkpoint_path=args.out.with_suffix(".ckpt"), resume=True, progress=True)
    wall = time.perf_counter() - t0
    with open(args.out, "w") as f:
        for rec in result.trace:
            f.write(json.dumps(rec) + "\n")
    test = task.score(result.network, "test").fitness  # re-scored by the simulator
    pruned, _ = btype.export.prune(result.network)
    last = result.trace[-1]
    print(json.dumps(dict(task=args.task, gates=args.gates, layers=args.layers, per_class=per_class,
                          threads=args.threads, stop_reason=result.stop_reason, steps=last["step"],
                          epochs=round(last["epoch"], 2), train_seconds=round(last["seconds"], 1),
                          wall_seconds=round(wall, 1), valid_accuracy=last["valid_accuracy"],
                          test_accuracy=test, relaxed_test_accuracy=last["relaxed_test_accuracy"],
                          pruned_gates=pruned.n_gates)))


if __name__ == "__main__":
    main()
