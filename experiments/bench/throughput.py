"""Simulator throughput, measured side by side with its baselines in one run.

    btype throughput [--gates 2000] [--samples 65536]

Prints gate-evaluations per second of ``btype.evaluate_packed`` (1 and 2
threads), of a vectorised NumPy evaluation of the same machine (one fused
array expression per level), and of the machine's own single-core peak for the
fused gate operation on in-cache data; then the speed-up of delta evaluation
over full evaluation for single-bit flips. Ratios are what to read: absolute
figures depend on the machine, which is printed first.
"""
from __future__ import annotations

import time

import numba
import numpy as np

import btype
from btype import kernels
from btype.simulate import DeltaEvaluator, link_masks, using_threads
from experiments.sweep.host import cpu_name
from experiments.cli import parser_for


def machine_name() -> str:
    """CPU model and core count of this machine."""
    return f"{cpu_name()}, {numba.config.NUMBA_NUM_THREADS} hardware threads visible to Numba"


def best_time(fn, repeats=5, min_seconds=0.2):
    """Best wall time of ``fn()`` over ``repeats`` rounds (each round at least ``min_seconds``)."""
    fn()  # warm-up: compilation and caches stay out of the timed region
    best = float("inf")
    for _ in range(repeats):
        n, t0 = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= min_seconds:
                break
        best = min(best, elapsed / n)
    return best


def numpy_evaluate_packed(net, P):
    """Vectorised NumPy evaluation: one fused array expression per level of gates."""
    xm, om, _ = link_masks(net)
    values = np.empty((net.n_nodes, P.shape[1]), np.uint64)
    values[: net.n_inputs] = P
    levels = net.levels()
    order = np.argsort(levels, kind="stable")
    bounds = np.searchsorted(levels[order], np.arange(1, levels.max() + 2))
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        gates = order[lo:hi]
        a = values[net.wiring[gates, 0]] ^ xm[gates, 0, None]
        a |= om[gates, 0, None]
        b = values[net.wiring[gates, 1]] ^ xm[gates, 1, None]
        b |= om[gates, 1, None]
        a &= b
        values[net.n_inputs + gates] = ~a
    return values[net.outputs]


def fused_peak(words=256, repeats=20000):
    """Single-core gate-evaluations per second of the fused gate operation on in-cache rows."""
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2**63, size=words, dtype=np.uint64)
    b = rng.integers(0, 2**63, size=words, dtype=np.uint64)
    out = np.empty(words, np.uint64)
    seconds = best_time(lambda: kernels.fused_peak(a, b, out, repeats))
    return words * 64 * repeats / seconds


def delta_speedup(net, X, flips=2000, seed=0):
    """Mean time of a single-bit delta update vs one full evaluation of all nodes (1 thread)."""
    rng = np.random.default_rng(seed)
    delta = DeltaEvaluator(net, X)
    modified = np.argwhere(net.modifiers)
    picks = modified[rng.integers(0, len(modified), size=flips)]
    delta.flip(picks[:1])
    delta.flip(picks[:1])
    t0 = time.perf_counter()
    for link in picks:
        delta.flip(link[None])
    per_flip = (time.perf_counter() - t0) / flips
    P = btype.pack(X)
    with using_threads(1):
        full = best_time(lambda: btype.simulate.node_values(net, P), repeats=3)
    return full, per_flip, delta.recomputed / (flips + 2)


def main(argv=None):
    parser = parser_for("throughput", __doc__.split("\n")[0])
    parser.add_argument("--gates", type=int, default=2000, help="gates of the machine (default 2,000)")
    parser.add_argument("--samples", type=int, default=65536, help="samples evaluated (default 65,536)")
    parser.add_argument("--layers", type=int, default=None, help="layers (default: random_network's)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the machine and inputs (default 0)")
    args = parser.parse_args(argv)

    print(f"machine: {machine_name()}")
    net = btype.random_network(16, args.gates, 16, layers=args.layers, seed=args.seed)
    X = np.random.default_rng(args.seed).random((args.samples, 16)) < 0.5
    P = btype.pack(X)
    work = args.gates * args.samples
    print(f"network: layered, {args.gates} gates, {net.levels().max()} levels; "
          f"{args.samples} samples ({P.shape[1]} words)\n")

    rates = {}
    for n in (1, 2):
        if n > numba.config.NUMBA_NUM_THREADS:
            continue
        with using_threads(n):
            rates[f"evaluate_packed, {n} thread{'s' * (n > 1)}"] = work / best_time(
                lambda: btype.evaluate_packed(net, P))
    rates["NumPy, vectorised per level"] = work / best_time(lambda: numpy_evaluate_packed(net, P), repeats=3)
    peak = fused_peak()
    rates["fused-op peak, 1 core, in cache"] = peak
    assert np.array_equal(numpy_evaluate_packed(net, P), btype.evaluate_packed(net, P))

    print(f"{'gate-evaluations per second':<40}{'rate':>12}")
    for name, rate in rates.items():
        print(f"{name:<40}{rate / 1e9:>9.2f} G/s")
    one = rates["evaluate_packed, 1 thread"]
    print()
    print(f"evaluate_packed 1 thread / NumPy        {one / rates['NumPy, vectorised per level']:8.1f}x   (target >= 10x)")
    print(f"evaluate_packed 1 thread / peak         {one / peak:8.1%}   (target >= 40%)")
    if "evaluate_packed, 2 threads" in rates:
        print(f"2 threads / 1 thread                    {rates['evaluate_packed, 2 threads'] / one:8.2f}x   (target >= 1.6x)")

    full, per_flip, mean_gates = delta_speedup(net, X)
    print("\ndelta evaluation, single-bit flips on the same machine and samples (1 thread):")
    print(f"  full evaluation of all nodes          {full * 1e3:9.3f} ms")
    print(f"  delta update per flip (mean)          {per_flip * 1e3:9.3f} ms   "
          f"({mean_gates:.1f} of {args.gates} gates recomputed on average)")
    print(f"  speed-up                              {full / per_flip:9.1f}x   (target >= 5x)")


if __name__ == "__main__":
    main()
