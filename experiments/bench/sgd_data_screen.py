"""One sgd run on a data task by optimiser steps, for screening options: hardened and relaxed
figures at the last records and seconds per step.

    python -m experiments.sgd_data_screen fashion 64000 4 800 1200 '{"tau_end": 0.1}'
    THREADS=2 python -m experiments.sgd_data_screen digits-t3 16000 4 160 5000
    VALID=0.1 python -m experiments.sgd_data_screen digits-t3 32000 4 320 5000 '{"tau_end": 0.1}'

Arguments: task (a ``btype.tasks.get`` name), gates, layers, outputs per class, steps,
optionally a JSON object of ``sgd.train`` options. ``THREADS`` (default 1) sets torch's
and Numba's threads; ``VALID`` (default none) holds out that fraction of the training
rows as a validation split, which then picks the kept machine and stops the run
(``select="auto"``). ``SEED`` (default 0) seeds the wiring and the run. Prints one JSON
line (final hardened test accuracy, the relaxed one on at most ``relaxed_rows`` test rows,
stop reason, wall seconds, seconds per step, the load average) and the last records as (step, seconds, hardened test, relaxed test).
"""
from __future__ import annotations

import json
import os
import sys
import time


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (5, 6):
        print(__doc__)
        return 2
    threads = int(os.environ.get("THREADS", "1"))
    os.environ.setdefault("NUMBA_NUM_THREADS", str(threads))
    import numba
    import torch

    import btype
    import sgd

    torch.set_num_threads(threads)
    numba.set_num_threads(threads)
    name, gates, layers, per_class, steps = argv[0], *map(int, argv[1:5])
    options = json.loads(argv[5]) if len(argv) == 6 else {}
    valid = float(os.environ["VALID"]) if os.environ.get("VALID") else None
    seed = int(os.environ.get("SEED", "0"))
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
