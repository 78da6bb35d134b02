"""Throughput of the relaxed machine: forward + backward gate evaluations per second.

Compares ``sgd.RelaxedNetwork`` with a straightforward per-layer PyTorch
implementation written here (batch-major tensors, fancy indexing, one autograd
op per arithmetic step, as one would write it first), measured side by side in
one run on the same machine, wiring and batch. On a GPU it also reports the
memory-bandwidth bound: the fewest bytes a forward + backward step must move
through device memory over the copy bandwidth measured here.

    python experiments/throughput_sgd.py                    # CPU, 6 x 8,000 gates, batch 1,024
    python experiments/throughput_sgd.py --device cuda --json out.json

Each backend is first checked against the CPU (numba) backend on the same
module: hardened outputs bit-exact with ``btype.evaluate``, relaxed outputs and
theta gradients to float32 rounding.

A step is one forward and one backward pass; it counts 3 x gates x batch gate
evaluations (docs/design.md section 4).
"""
from __future__ import annotations

import json
import statistics
import time

import numpy as np
import torch
from torch import nn

import btype
import sgd
from experiments.sweep.host import cpu_name
from experiments.cli import parser_for


class Straightforward(nn.Module):
    """The baseline: a layered machine written layer by layer with plain PyTorch ops.

    Each layer reads the previous layer's (B, width) tensor (reach 1), so the
    machine must be a layered ``random_network`` with ``reach=1``.
    """

    def __init__(self, net: btype.Network, tau: float = 1.0):
        super().__init__()
        levels = net.levels()
        self.tau = tau
        self.index0, self.index1, self.thetas = [], [], nn.ParameterList()
        previous_start, start = 0, 0
        width = net.n_inputs
        for level in range(1, levels.max() + 1):
            gates = np.flatnonzero(levels == level)
            if not np.array_equal(gates, np.arange(start, start + len(gates))):
                raise ValueError("baseline needs gates contiguous per level")
            src = net.wiring[gates]
            lo = 0 if level == 1 else net.n_inputs + previous_start
            if src.min() < lo or src.max() >= lo + width:
                raise ValueError("baseline needs reach=1 wiring")
            self.index0.append(torch.as_tensor(src[:, 0] - lo))
            self.index1.append(torch.as_tensor(src[:, 1] - lo))
            self.thetas.append(nn.Parameter(torch.randn(len(gates), 2)))
            previous_start, start, width = start, start + len(gates), len(gates)
        last = net.outputs - net.n_inputs - previous_start
        if last.min() < 0:
            raise ValueError("baseline needs outputs in the last layer")
        self.last = torch.as_tensor(last)

    def to(self, device):
        super().to(device)
        self.index0 = [i.to(device) for i in self.index0]
        self.index1 = [i.to(device) for i in self.index1]
        self.last = self.last.to(device)
        return self

    def forward(self, x):
        h = x
        for i0, i1, theta in zip(self.index0, self.index1, self.thetas):
            e = torch.sigmoid(theta / self.tau)
            a = h[:, i0]
            b = h[:, i1]
            l0 = 1 - e[:, 0] * (1 - a)
            l1 = 1 - e[:, 1] * (1 - b)
            h = 1 - l0 * l1
        return h[:, self.last]


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_steps(model, x, weight, device, repeats, warmup=2, **kwargs):
    """Median seconds of one forward + backward step."""
    times = []
    for r in range(warmup + repeats):
        model.zero_grad(set_to_none=True)
        _sync(device)
        t0 = time.perf_counter()
        y = model(x, **kwargs)
        (y * weight).sum().backward()
        _sync(device)
        if r >= warmup:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def copy_bandwidth(device, n_bytes=2 << 30, repeats=10):
    """Bytes read + written per second by a large device-to-device copy."""
    n = n_bytes // 4
    src = torch.rand(n, device=device)
    dst = torch.empty_like(src)
    for _ in range(3):
        dst.copy_(src)
    _sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        dst.copy_(src)
        _sync(device)
        times.append(time.perf_counter() - t0)
    return 2 * n * 4 / statistics.median(times)


def check_against_cpu(relaxed, net, x, weight):
    """How a backend's step compares with the CPU (numba) backend on the same module.

    Returns (hardened outputs bit-exact with ``btype.evaluate``, max |output
    difference| of the relaxed pass, max |theta gradient difference| relative
    to the largest gradient).
    """
    def step(module, xs, ws):
        module.zero_grad(set_to_none=True)
        y = module(xs)
        (y.float() * ws).sum().backward()
        return y.detach().float().cpu(), module.theta.grad.detach().float().cpu()

    cpu = sgd.RelaxedNetwork(net, tau=relaxed.tau, backend="numba")
    with torch.no_grad():
        cpu.theta.copy_(relaxed.theta.detach().cpu())
    y_ref, g_ref = step(cpu, x.float().cpu(), weight.float().cpu())
    y, g = step(relaxed, x, weight)
    hard = relaxed.harden()
    bits = sgd.RelaxedNetwork(hard, init="bits", backend=relaxed.backend).to(x.device)
    exact = bool(np.array_equal(bits(x, mode="hard").detach().float().cpu().numpy().astype(bool),
                                btype.evaluate(hard, x.float().cpu().numpy().astype(bool))))
    return exact, float((y - y_ref).abs().max()), float((g - g_ref).abs().max() / g_ref.abs().max())


def min_bytes(net, batch, value_bytes):
    """Fewest bytes a forward + backward step moves, nothing cached between passes.

    Forward: read every node value once, write every gate value once.
    Backward: read every node value again, read and write every gate's
    gradient once (float32).
    """
    N, G = net.n_nodes, net.n_gates
    return batch * (value_bytes * (N + G) + value_bytes * N + 4 * 2 * G)


def main(argv=None):
    ap = parser_for("throughput-sgd", __doc__.splitlines()[0])
    ap.add_argument("--gates", type=int, default=48_000, help="gates of the machine (default 48,000)")
    ap.add_argument("--layers", type=int, default=6, help="layers (default 6)")
    ap.add_argument("--inputs", type=int, default=256, help="inputs (default 256)")
    ap.add_argument("--outputs", type=int, default=1000, help="outputs (default 1,000)")
    ap.add_argument("--batch", type=int, default=1024, help="batch size (default 1,024)")
    ap.add_argument("--device", default="cpu", help="torch device (default cpu)")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats, best kept (default 5)")
    ap.add_argument("--bf16", action="store_true", help="also time bfloat16 node values (CUDA)")
    ap.add_argument("--skip-baseline", action="store_true", help="leave out the plain-PyTorch baseline")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args(argv)

    device = torch.device(args.device)
    torch.manual_seed(0)
    net = btype.random_network(args.inputs, args.gates, args.outputs, layers=args.layers, seed=0)
    x = (torch.rand(args.batch, args.inputs, device=device) < 0.5).float()
    weight = torch.randn(args.batch, args.outputs, device=device)
    step_evals = 3 * args.gates * args.batch
    rows = []

    relaxed = sgd.RelaxedNetwork(net, init="random").to(device)
    backends = ["torch", "triton"] if device.type == "cuda" else ["numba", "torch"]
    checks = {}
    for backend in backends:
        relaxed.backend = backend
        name = f"RelaxedNetwork ({backend})"
        checks[name] = check_against_cpu(relaxed, net, x, weight)
        t = time_steps(relaxed, x, weight, device, args.repeats)
        rows.append((name, "float32", t))
        if args.bf16 and device.type == "cuda":
            t = time_steps(relaxed, x.to(torch.bfloat16), weight.to(torch.bfloat16), device, args.repeats)
            rows.append((name, "bfloat16", t))
    relaxed.backend = "auto"
    print(f"# against the CPU (numba) backend; 'auto' on {device.type} is "
          f"{sgd.relax._ops.pick_backend('auto', device)}")
    for name, (exact, dy, dg) in checks.items():
        print(f"#   {name:30s} hardened outputs bit-exact: {exact}; max |dy| {dy:.2e}; "
              f"max |d grad| / max |grad| {dg:.2e}")
    if not args.skip_baseline:
        base = Straightforward(net).to(device)
        rows.append(("straightforward per-layer PyTorch", "float32", time_steps(base, x, weight, device,
                                                                                  args.repeats)))

    machine = (torch.cuda.get_device_name(device) if device.type == "cuda"
               else f"{cpu_name()}, {torch.get_num_threads()} threads")
    print(f"# {args.layers} layers x {args.gates // args.layers} gates, batch {args.batch}, "
          f"{args.inputs} inputs, {args.outputs} outputs; device {device} ({machine}); "
          f"torch {torch.__version__}")
    base_t = next((t for n, d, t in rows if n.startswith("straight")), None)
    bandwidth = copy_bandwidth(device) if device.type == "cuda" else None
    print(f"{'implementation':44s} {'dtype':9s} {'ms/step':>9s} {'Geval/s':>8s} {'vs base':>8s}"
          + (f" {'of bound':>8s}" if bandwidth else ""))
    results = []
    for name, dtype, t in rows:
        line = (f"{name:44s} {dtype:9s} {t * 1e3:9.2f} {step_evals / t / 1e9:8.2f} "
                f"{(base_t / t if base_t else float('nan')):8.2f}")
        rec = {"implementation": name, "dtype": dtype, "seconds_per_step": t,
               "gate_evals_per_second": step_evals / t,
               "speedup_vs_straightforward": base_t / t if base_t else None}
        if bandwidth:
            bound = min_bytes(net, args.batch, 2 if dtype == "bfloat16" else 4) / bandwidth
            line += f" {bound / t:8.1%}"
            rec["bandwidth_bound_seconds"] = bound
            rec["fraction_of_bound"] = bound / t
        print(line)
        results.append(rec)
    if bandwidth:
        print(f"# copy bandwidth {bandwidth / 1e12:.2f} TB/s (read + write); bound = fewest bytes per "
              f"step (float32: {min_bytes(net, args.batch, 4) / 1e6:.0f} MB) / bandwidth")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"args": vars(args), "machine": machine, "torch": torch.__version__,
                       "copy_bandwidth": bandwidth, "results": results,
                       "checks": {name: dict(zip(("bit_exact", "max_output_difference",
                                                  "relative_gradient_difference"), c))
                                  for name, c in checks.items()}}, fh, indent=1)


if __name__ == "__main__":
    main()
