"""Roofline of the relaxed machine's training step on the CPU, and step times before/after.

Prints, in one run:

- the machine's limits, measured here: streaming bandwidth (a Numba triad over
  arrays far beyond the caches, and over arrays that fit the last-level cache)
  and the arithmetic peak (an in-cache Numba FMA loop), on one and two threads;
- the bytes and floating-point operations a gate-sample costs in the forward
  and backward passes, and the bounds they imply (nanoseconds per gate-sample);
- step times (relaxed forward + cross-entropy on class group sums + backward +
  Adam) of ``sgd.RelaxedNetwork`` as it is (``after``), of the package at the
  revision ``--before`` (run from a ``git archive`` of it), and of a plain
  PyTorch implementation of the same relaxation written here layer by layer
  (``reference``), at 4 x 8,000 gates (64 inputs) and 4 x 16,000 gates (196
  inputs), batch 128 and 1,024, one and two threads. Every step time runs in
  its own process, the versions alternating (before, after, reference, before,
  after, ...), and each figure is the median over its repeats.

    python experiments/bench/roofline_sgd.py                    # about 10 minutes
    python experiments/bench/roofline_sgd.py --quick            # one size, fewer steps

The machine's load (``os.getloadavg``) is printed beside each figure: on a
shared machine the timings move with it.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
#: the revision compared against by default (the package when this script was written)
BEFORE = "9be008fdb0e0e5ad759840f349da6d46a1e13b45"

# per gate-sample, counted from the kernels (fused multiply-adds count two operations)
FLOPS_FORWARD = 6    # two links (a + b v, one FMA each) and 1 - l0 l1 (one FMA)
FLOPS_BACKWARD = 16  # the links again (2 FMA), d*l (2 mul), four sums (2 add, 2 FMA), two source gradients (2 FMA)
BYTES_TOUCHED = 40   # forward: read 2 values, write 1; backward: read 3 (2 values, 1 gradient), update 2 gradients
BYTES_DRAM = 16      # the batch's values kept: each written once and read once, each gradient likewise (float32)
BYTES_DRAM_16 = 12   # the same with 16-bit values (gradients float32)




def load():
    return os.getloadavg()[0]


# --------------------------------------------------------------------------- the machine's limits

def limits(threads):
    """(DRAM GB/s, last-level-cache GB/s, peak GFLOP/s) on ``threads`` Numba threads (float32)."""
    import numba
    import numpy as np
    from numba import prange

    @numba.njit(parallel=True, fastmath=True)
    def triad(a, b, c, s, reps):
        for _ in range(reps):
            for i in prange(a.shape[0]):
                a[i] = b[i] + s * c[i]

    @numba.njit(parallel=True, fastmath=True)
    def fma(x, reps, s, t):
        # x: (n_threads, 256) float32, 1 KiB per thread: eight dependent FMAs per element and
        # pass, 16 independent vectors per thread hide the FMA latency
        for k in prange(x.shape[0]):
            row = x[k]
            for _ in range(reps):
                for j in range(row.shape[0]):
                    v = row[j]
                    v = v * s + t
                    v = v * s + t
                    v = v * s + t
                    v = v * s + t
                    v = v * s + t
                    v = v * s + t
                    v = v * s + t
                    v = v * s + t
                    row[j] = v

    old = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        out = []
        for n in (64 << 20, 512 << 10):   # 3 x 256 MiB and 3 x 2 MiB of float32
            a, b, c = (np.ones(n, np.float32) for _ in range(3))
            reps = max(1, (256 << 20) // n)
            triad(a, b, c, np.float32(0.5), 1)
            best = min(_timed(triad, a, b, c, np.float32(0.5), reps) for _ in range(3))
            out.append(3 * 4 * n * reps / best / 1e9)
        x = np.ones((threads, 256), np.float32)
        reps = 20000
        fma(x, 1, np.float32(0.999), np.float32(0.001))
        best = min(_timed(fma, x, reps, np.float32(0.999), np.float32(0.001)) for _ in range(3))
        out.append(2 * 8 * x.size * reps / best / 1e9)
        return tuple(out)
    finally:
        numba.set_num_threads(old)


def _timed(f, *args):
    """CPU seconds per thread of ``f(*args)``: on a shared machine wall time also counts the
    time other jobs held the cores (the process's CPU time over its threads does not)."""
    import numba
    t = time.process_time()
    f(*args)
    return (time.process_time() - t) / numba.get_num_threads()


# --------------------------------------------------------------------------- one step time (a worker)

def reference_module(net, torch):
    """The same relaxation written layer by layer with plain autograd tensor operations."""
    import numpy as np

    levels = net.levels()
    layers = []
    lo = 0                      # first node of the level below (reach 1: a level reads the one below)
    for level in range(1, int(levels.max()) + 1):
        gates = np.flatnonzero(levels == level)
        src = np.asarray(net.wiring)[gates]
        layers.append((torch.as_tensor(src[:, 0] - lo), torch.as_tensor(src[:, 1] - lo), len(gates)))
        lo = net.n_inputs + int(gates[0])
    theta = torch.nn.Parameter(torch.randn(net.n_gates, 2))

    def forward(x):
        h, start = x, 0
        e = torch.sigmoid(theta)
        for i0, i1, n in layers:
            en = e[start:start + n]
            l0 = 1 - en[:, 0] * (1 - h[:, i0])      # a switch-mode modified link: 1 - e (1 - v)
            l1 = 1 - en[:, 1] * (1 - h[:, i1])
            h, start = 1 - l0 * l1, start + n
        return h

    return forward, [theta]


def worker(args):
    import numba
    import torch
    import torch.nn.functional as F

    import btype
    torch.set_num_threads(args.threads)
    numba.set_num_threads(args.threads)
    net = btype.random_network(args.inputs, args.gates, args.gates // 4, layers=4, seed=0)
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(args.batch, args.inputs, generator=g) < 0.5).float()
    y = torch.randint(0, 10, (args.batch,), generator=g)
    if args.impl == "reference":
        forward, params = reference_module(net, torch)
    else:
        import sgd
        module = sgd.RelaxedNetwork(net, init="random", seed=0)
        forward, params = module, list(module.parameters())
    opt = torch.optim.Adam(params, lr=0.05)

    def step():
        out = forward(x)
        loss = F.cross_entropy(out.view(args.batch, 10, -1).sum(-1) / 10.0, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    wall, cpu = [], []
    for _ in range(args.steps):
        t, c = time.perf_counter(), time.process_time()
        step()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    print(json.dumps({"ms": 1e3 * statistics.median(wall), "cpu_ms": 1e3 * statistics.median(cpu),
                      "load": load()}))


def code_dir(rev):
    """The package at ``rev`` (btype and sgd), unpacked once into the temporary folder (kept, so
    that Numba's cache of its kernels serves the next run)."""
    target = pathlib.Path(tempfile.gettempdir()) / f"btype-roofline-{rev[:12]}"
    if not target.exists():
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "btype", "sgd"],
                                 check=True, capture_output=True).stdout
        part = target.with_name(target.name + f".{os.getpid()}")
        part.mkdir()
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(part, filter="data")
        part.rename(target)
    return target


def measure(code, impl, gates, inputs, batch, threads, steps):
    env = dict(os.environ, PYTHONPATH=str(code), NUMBA_NUM_THREADS=str(max(2, threads)))
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "--worker", "--impl", impl,
           "--gates", str(gates), "--inputs", str(inputs), "--batch", str(batch),
           "--threads", str(threads), "--steps", str(steps)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(code))
    if done.returncode:
        raise RuntimeError(f"{impl} worker failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- the report

def main(argv=None):
    from experiments.cli import parser_for
    from experiments.sweep.host import cpu_name

    ap = parser_for("roofline-sgd", __doc__.splitlines()[0])
    ap.add_argument("--before", default=BEFORE, help="git revision to compare against (default: %(default).12s)")
    ap.add_argument("--repeats", type=int, default=2, help="alternations per configuration")
    ap.add_argument("--quick", action="store_true", help="4 x 8,000 gates only, fewer steps")
    ap.add_argument("--no-reference", action="store_true", help="skip the plain PyTorch reference")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--impl", default="btype", help=argparse.SUPPRESS)
    ap.add_argument("--gates", type=int, default=32000, help=argparse.SUPPRESS)
    ap.add_argument("--inputs", type=int, default=64, help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, default=128, help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--steps", type=int, default=10, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args)

    print(f"# {cpu_name()}, {os.cpu_count()} CPUs; load {load():.2f}; before = {args.before[:12]}")
    print("# measuring the machine's limits (float32) ...", flush=True)
    lim = {t: limits(t) for t in (1, 2)}
    for t, (dram, llc, peak) in lim.items():
        print(f"#   {t} thread(s): stream {dram:6.1f} GB/s (256 MiB arrays), {llc:6.1f} GB/s (2 MiB, cache); "
              f"FMA peak {peak:6.1f} GFLOP/s (per CPU-second of each thread)")
    dram, llc, peak = lim[1]
    flops = FLOPS_FORWARD + FLOPS_BACKWARD
    bounds = {  # ns per gate-sample, one thread
        "arithmetic": flops / peak,
        "DRAM, float32 values": BYTES_DRAM / dram,
        "DRAM, 16-bit values": BYTES_DRAM_16 / dram,
        "cache, every access": BYTES_TOUCHED / llc,
    }
    print(f"# per gate-sample: {FLOPS_FORWARD} + {FLOPS_BACKWARD} flops (forward + backward); "
          f"{BYTES_TOUCHED} B touched (forward 12, backward 28); at least {BYTES_DRAM} B through DRAM "
          f"when the batch's node values are kept for the backward pass ({BYTES_DRAM_16} B with 16-bit values)")
    print("# one-thread bounds, ns per gate-sample (forward + backward): "
          + "; ".join(f"{k} {v:.3f}" for k, v in bounds.items()))
    limit = max(bounds["arithmetic"], bounds["DRAM, float32 values"])

    before = code_dir(args.before)
    versions = [("before", before, "btype"), ("after", ROOT, "btype")]
    if not args.no_reference:
        versions.append(("reference", ROOT, "reference"))
    sizes = [(32000, 64)] if args.quick else [(32000, 64), (64000, 196)]
    print("# compiling the kernels of both versions ...", flush=True)
    for name, code, impl in versions[:2]:
        measure(code, impl, 400, 8, 64, 1, 1)
    print("# wall / cpu: median step time and the process's CPU time per step (all its threads) in ms; "
          "on a loaded machine the CPU time is the steadier figure. rate: gate-samples per CPU-second "
          "and thread (after); of bound: that rate over the one-thread bound")
    print(f"{'gates':>6} {'batch':>5} {'thr':>3} | {'before wall/cpu':>15} | {'after wall/cpu':>15} | "
          f"{'reference wall/cpu':>18} | {'after/before':>12} {'G/s':>6} {'of bound':>8} {'load':>5}")
    results = {}
    for gates, inputs in sizes:
        for batch in (128, 1024):
            for threads in (1, 2):
                steps = 3 if args.quick else (6 if batch == 1024 else 12)
                runs = {name: [] for name, _, _ in versions}
                loads = []
                for _ in range(args.repeats):
                    for name, code, impl in versions:
                        r = measure(code, impl, gates, inputs, batch, threads,
                                    max(2, steps // 4) if impl == "reference" else steps)
                        runs[name].append((r["ms"], r["cpu_ms"]))
                        loads.append(r["load"])
                m = {k: tuple(statistics.median(x) for x in zip(*v)) for k, v in runs.items()}
                results[(gates, batch, threads)] = m
                rate = gates * batch / (m["after"][1] / threads * 1e-3) / 1e9
                cols = [f"{m[k][0]:7.1f}/{m[k][1]:7.1f}" if k in m else f"{'-':>15}"
                        for k in ("before", "after", "reference")]
                print(f"{gates:6d} {batch:5d} {threads:3d} | {cols[0]:>15} | {cols[1]:>15} | {cols[2]:>18} | "
                      f"{m['before'][0] / m['after'][0]:5.2f}x/{m['before'][1] / m['after'][1]:4.2f}x "
                      f"{rate:6.2f} {rate * limit:8.0%} {statistics.mean(loads):5.2f}", flush=True)
    print("# thread scaling, one thread's wall time over two threads' (on a loaded machine a poor measure):")
    for gates, _ in sizes:
        for batch in (128, 1024):
            one, two = results[(gates, batch, 1)], results[(gates, batch, 2)]
            print(f"#   {gates} gates, batch {batch}: before {one['before'][0] / two['before'][0]:.2f}x, "
                  f"after {one['after'][0] / two['after'][0]:.2f}x")

if __name__ == "__main__":
    main()
