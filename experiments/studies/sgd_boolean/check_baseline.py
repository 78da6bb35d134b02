# my loop with defaults vs sgd.train defaults (same init, same loss, full batch): hardened fitness should agree
import sys; sys.path.insert(0, __import__('os').path.dirname(__file__)); import study as lib, btype, sgd
for s in (0, 1):
    task, net = lib.make_net("parity5", s)
    r = sgd.train(net, task, budget=btype.Budget(steps=1000), seed=s, progress=False)
    t = r.trace[-1]
    m = lib.run("parity5", dict(steps=1000, check=1000), s)
    print(s, "sgd.train", t["step"], t["hardened_train_fitness"], t["relaxed_train_fitness"], "| mine", m["final_hard"], m["final_relaxed"])
