"""One sgd run on a data task by optimiser steps, for screening options: hardened and relaxed
figures at the last records and seconds per step.

    btype sgd-data-screen fashion 64000 4 800 1200 '{"tau_end": 0.1}'
    btype sgd-data-screen digits-t3 16000 4 160 5000 --threads 2
    btype sgd-data-screen digits-t3 32000 4 320 5000 '{"tau_end": 0.1}' --valid 0.1

Arguments: task (a ``btype.tasks.get`` name), gates, layers, outputs per class, steps,
optionally a JSON object of ``sgd.train`` options. ``--threads`` (default 1, or the
``THREADS`` variable) sets torch's and Numba's threads; ``--valid`` (or ``VALID``; default
none) holds out that fraction of the training rows as a validation split, which then
picks the kept machine and stops the run (``select="auto"``). ``--seed`` (or ``SEED``;
default 0) seeds the wiring and the run. Prints one JSON
line (final hardened test accuracy, the relaxed one on at most ``relaxed_rows`` test rows,
stop reason, wall seconds, seconds per step, the load average) and the last records as (step, seconds, hardened test, relaxed test).
"""
from __future__ import annotations

import json
import os
import sys
import time


def _parser():
    from experiments.cli import parser_for
    from experiments.sweep.args import threads_arg
    p = parser_for("sgd-data-screen", __doc__.split("\n\n")[0])
    p.add_argument("task", help="a btype.tasks.get name, e.g. digits-t3 or fashion")
    p.add_argument("gates", type=int, help="gates of the machine")
    p.add_argument("layers", type=int, help="layers of the machine")
    p.add_argument("per_class", type=int, help="outputs per class (the vote readout)")
    p.add_argument("steps", type=int, help="optimiser steps")
    p.add_argument("options", nargs="?", type=json.loads, default={},
                   help="a JSON object of sgd.train options, e.g. '{\"tau_end\": 0.1}'")
    p.add_argument("--threads", type=threads_arg, default=int(os.environ.get("THREADS", "1")),
                   help="torch and Numba threads (default: $THREADS or 1)")
    p.add_argument("--valid", type=float, default=float(os.environ["VALID"]) if os.environ.get("VALID") else None,
                   help="fraction of the training rows held out for validation (default: $VALID or none)")
    p.add_argument("--seed", type=int, default=int(os.environ.get("SEED", "0")),
                   help="seed of the wiring and the run (default: $SEED or 0)")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    threads = args.threads
    os.environ.setdefault("NUMBA_NUM_THREADS", str(threads))
    import numba
    import torch

    import btype
    import sgd

    torch.set_num_threads(threads)
    numba.set_num_threads(threads)
    name, gates, layers, per_class, steps = args.task, args.gates, args.layers, args.per_class, args.steps
    options, valid, seed = args.options, args.valid, args.seed
    task = btype.tasks.get(name, **({} if valid is None else {"valid": valid}))
    net = btype.random_network(task.n_inputs, gates, task.n_classes * per_class, layers=layers, seed=seed)
    t0 = time.perf_counter()
    r = sgd.train(net, task, budget=btype.Budget(steps=steps), seed=seed, progress=False, device="cpu", **options)
    wall = time.perf_counter() - t0
    last = r.trace[-1]
    print(json.dumps(dict(
        task=name, valid=valid, seed=seed, gates=gates, layers=layers, per_class=per_class,
        steps=last["step"], options=options, test=r.test_accuracy, train=r.train_fitness,
        valid_accuracy=last["valid_accuracy"], relaxed_test=last.get("relaxed_test_accuracy"),
        best_record_test=max(t["hardened_test_accuracy"] for t in r.trace), stop=r.stop_reason,
        wall=round(wall, 1), s_per_step=round(wall / max(last["step"], 1), 4), threads=threads,
        load=round(os.getloadavg()[0], 1))), flush=True)
    print("records", [(t["step"], round(t["seconds"], 1), round(t["hardened_test_accuracy"], 4),
                       round(t.get("relaxed_test_accuracy") or 0, 4)) for t in r.trace][-12:], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
