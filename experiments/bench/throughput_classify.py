"""Classification throughput: the packed group vote against unpack-and-vote, side by side.

    btype throughput-classify [--inputs 196] [--samples 65536] [--threads 1]

For each machine, samples per second of

* the old path: ``pack`` + ``evaluate_packed`` + ``unpack`` + ``btype.tasks.classify``
  (timed once: it is slow and linear in the samples);
* ``btype.vote.classify`` (bool inputs, packing included) and
  ``classify_packed`` (packed inputs), on the pruned machine, and
  ``classify_packed(prune=False)`` on the machine as it is;
* ``evaluate_packed`` alone on the full and on the pruned machine.

Machines: a random layered machine like the issue's Fashion-MNIST one (32,000
gates, 8,000 outputs, 10 classes of 800) with a random quarter of its links
interrupted, a stand-in for a trained machine (a trained one prunes to about a
fifth: 6,905 of 32,000 gates in the issue); the same wiring with every link
passing (an untrained machine, which folds to almost nothing); and a smaller
machine. The fraction of gates that survive pruning is printed beside each, and
the one-time cost of pruning and planning (remembered on the network), and what
one call costs on a fresh network with and without pruning.
"""
from __future__ import annotations

import time

import numpy as np

import btype
from btype.vote import classify, classify_packed
from btype.export import prune
from btype.simulate import using_threads
from btype.tasks.base import classify as vote_unpacked
from experiments.bench.throughput import best_time, machine_name
from experiments.cli import parser_for
from experiments.sweep.args import threads_arg


def machines(n_inputs, seed):
    """(label, network, n_classes) of the machines measured."""
    rng = np.random.default_rng(seed)
    big = btype.random_network(n_inputs, 32000, 8000, seed=seed)
    small = btype.random_network(n_inputs, 4000, 1000, seed=seed)
    return [
        ("32k gates, 1/4 links cut", big.with_enabled(rng.random((32000, 2)) >= 0.25), 10),
        ("32k gates, all links pass", big, 10),
        ("4k gates, 1/4 links cut", small.with_enabled(rng.random((4000, 2)) >= 0.25), 10),
    ]


def old_path(net, X, n_classes):
    S = X.shape[0]
    return vote_unpacked(btype.unpack(btype.evaluate_packed(net, btype.pack(X)), S), n_classes)


def measure(label, net, n_classes, X, P):
    S = X.shape[0]
    t0 = time.perf_counter()
    pred = classify_packed(net, P, S, n_classes)  # first call: prunes and plans (and compiles)
    first = time.perf_counter() - t0
    one_shot = {}  # a fresh network (empty memo) scored once: what a trainer's record pays
    for pruned in (True, False):
        fresh = net.with_enabled(net.enabled)
        t0 = time.perf_counter()
        classify_packed(fresh, P, S, n_classes, prune=pruned)
        one_shot[pruned] = time.perf_counter() - t0
    fresh = net.with_enabled(net.enabled)
    t0 = time.perf_counter()
    classify_packed(fresh, P[:, :1], 1, n_classes)
    plan = time.perf_counter() - t0
    t0 = time.perf_counter()
    old = old_path(net, X, n_classes)
    t_old = time.perf_counter() - t0
    assert np.array_equal(old, pred), "the packed vote disagrees with the old path"
    pruned, _ = prune(net)
    rate = {
        "old: pack+eval+unpack+vote": S / t_old,
        "classify (bool X, packs)": S / best_time(lambda: classify(net, X, n_classes)),
        "classify_packed": S / best_time(lambda: classify_packed(net, P, S, n_classes)),
        "classify_packed prune=False": S / best_time(
            lambda: classify_packed(net, P, S, n_classes, prune=False), repeats=3),
        "evaluate_packed, full": S / best_time(lambda: btype.evaluate_packed(net, P), repeats=3),
        "evaluate_packed, pruned": S / best_time(lambda: btype.evaluate_packed(pruned, P)),
    }
    print(f"\n{label}: {net.n_gates} gates, {net.n_outputs} outputs, {n_classes} classes; pruned to "
          f"{pruned.n_gates} gates ({pruned.n_gates / net.n_gates:.1%} survive); prune + plan "
          f"{plan:.2f} s once per network (first call {first:.2f} s)")
    print(f"  one call on a fresh network: {one_shot[True]:.3f} s pruned, {one_shot[False]:.3f} s not")
    for name, r in rate.items():
        print(f"  {name:30s} {r / 1e6:8.3f} M samples/s")
    print(f"  classify_packed / old path        {rate['classify_packed'] / rate['old: pack+eval+unpack+vote']:8.0f} x")
    print(f"  classify_packed / eval pruned     {rate['classify_packed'] / rate['evaluate_packed, pruned']:8.2f} x")
    return rate


def main(argv=None):
    ap = parser_for("throughput-classify", __doc__.split("\n")[0])
    ap.add_argument("--inputs", type=int, default=196, help="input bits (196: 14x14, 784: 28x28)")
    ap.add_argument("--samples", type=int, default=65536, help="samples classified (default 65,536)")
    ap.add_argument("--threads", type=threads_arg, default=1, help="Numba threads (default 1)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the machine and inputs (default 0)")
    args = ap.parse_args(argv)
    print(machine_name())
    print(f"{args.samples} samples, {args.inputs} inputs, {args.threads} thread(s)")
    X = np.random.default_rng(args.seed).random((args.samples, args.inputs)) < 0.5
    P = btype.pack(X)
    with using_threads(args.threads):
        for label, net, n_classes in machines(args.inputs, args.seed):
            measure(label, net, n_classes, X, P)


if __name__ == "__main__":
    main()
