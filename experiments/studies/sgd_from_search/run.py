"""Does sgd started from a search-found machine
(init="bits") do better on a data task than sgd from its own initialisation, same steps?"""
import json, sys, time
import numpy as np, numba, torch
import btype, sgd
numba.set_num_threads(1); torch.set_num_threads(1)
task_name, gates, per_class, es_seconds, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
seeds = [int(s) for s in sys.argv[6].split(",")]
task = btype.tasks.get(task_name)
out = []
for seed in seeds:
    net = btype.random_network(task.n_inputs, gates, task.n_classes * per_class, layers=4, seed=seed)
    t0 = time.perf_counter()
    es = btype.trainer("es")(net, task, budget=btype.Budget(seconds=es_seconds, target=None), seed=seed, progress=False)
    t_es = time.perf_counter() - t0
    es_test = task.score(es.network, split="test").fitness
    row = dict(task=task_name, seed=seed, es_seconds=es_seconds, es_evaluations=es.evaluations if hasattr(es, "evaluations") else None, es_s=round(t_es, 1), es_test=es_test)
    for label, start, opts in (("sgd_default", net, {}), ("sgd_from_es", es.network, {"init": "bits"}), ("sgd_from_es_scale2", es.network, {"init": "bits", "init_scale": 2.0})):
        t0 = time.perf_counter()
        r = sgd.train(start, task, budget=btype.Budget(steps=steps, target=None), seed=seed, progress=False, device="cpu", **opts)
        row[label] = task.score(r.network, split="test").fitness
        row[label + "_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(row), flush=True)
    out.append(row)
for k in ("es_test", "sgd_default", "sgd_from_es", "sgd_from_es_scale2"):
    print(k, "mean test acc", round(float(np.mean([r[k] for r in out])), 4))
