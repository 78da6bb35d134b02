"""The relaxed machine's forward and backward passes (private).

A link delivers ``alpha + beta * v`` and a gate ``1 - l0 * l1``; the caller
folds the link mode and the enable probabilities into ``alpha`` and ``beta``
(see ``RelaxedNetwork.coefficients``), so everything here is mode-agnostic.

Feed-forward machines go through :class:`FeedForward`, one autograd function
for the whole machine. It keeps only the node values for the backward pass
(the link values are recomputed there) and runs one of three backends:

- ``"numba"`` (CPU): fused kernels in :mod:`sgd._cpu`, block-major layout;
- ``"triton"`` (CUDA): one fused kernel per level and pass, :mod:`sgd._triton`
  (also on the CPU in Triton's interpreter, ``TRITON_INTERPRET=1``, for the tests);
- ``"torch"`` (any device): per-level gathers and scatter-adds with plain
  tensor operations, node-major layout. The fallback, and a second
  implementation for the tests.

Clocked machines are unrolled with ordinary autograd operations (:func:`clocked`).
"""
from __future__ import annotations

import os

import numpy as np
import torch

from btype.plan import level_groups

BACKENDS = ("auto", "numba", "triton", "torch")


class Plan:
    """Everything the passes need about the wiring, on one device."""

    def __init__(self, n_inputs, wiring, outputs, feedforward, device):
        self.n_inputs = int(n_inputs)
        self.n_gates = int(wiring.shape[0])
        self.n_nodes = self.n_inputs + self.n_gates
        self.feedforward = bool(feedforward)
        self.device = torch.device(device)
        self.wiring_np = np.ascontiguousarray(wiring, dtype=np.int64)
        self.outputs_np = np.ascontiguousarray(outputs, dtype=np.int64)
        self.wiring = torch.as_tensor(self.wiring_np, device=device)
        self.sources = self.wiring.reshape(-1)
        self.outputs = torch.as_tensor(self.outputs_np, device=device)
        self.levels = self._levels() if self.feedforward else None
        self._pool = {}

    def take(self, shape, dtype):
        """A scratch tensor from the pool (or a new one); give it back with :meth:`give`.

        Large buffers are recycled because a fresh allocation of hundreds of MB
        costs more in page faults than the kernels take to fill it.
        """
        free = self._pool.get((tuple(shape), dtype))
        if free:
            return free.pop()
        return torch.empty(shape, dtype=dtype, device=self.device)

    def give(self, tensor):
        free = self._pool.setdefault((tuple(tensor.shape), tensor.dtype), [])
        if len(free) < 2:
            free.append(tensor)

    def _levels(self):
        """Per level (btype.plan's levels): (first gate, last gate + 1) if contiguous else None,
        gate ids, source ids."""
        w = self.wiring_np
        ptr, order = level_groups(self.n_inputs, w)
        out = []
        for k in range(len(ptr) - 1):
            gates = order[ptr[k]:ptr[k + 1]]
            span = None
            if gates[-1] - gates[0] + 1 == len(gates):
                span = (int(gates[0]), int(gates[-1]) + 1)
            out.append((span, torch.as_tensor(gates, device=self.device),
                        torch.as_tensor(w[gates].reshape(-1), device=self.device)))
        return out


def pick_backend(backend, device):
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    device = torch.device(device)
    if backend == "auto":
        # Triton is asked for by name only: its kernels are checked in Triton's
        # interpreter, but not yet timed or checked on a GPU (none was lent).
        return "numba" if device.type == "cpu" else "torch"
    if backend == "numba" and device.type != "cpu":
        raise ValueError(f"backend 'numba' runs on the CPU only, not on device {device}")
    if backend == "triton" and not (device.type == "cuda" or (device.type == "cpu" and _triton_interpreted())):
        raise ValueError(f"backend 'triton' needs a CUDA device, not {device} (on the CPU it runs in "
                         "Triton's interpreter where TRITON_INTERPRET=1 was set before triton was "
                         "first imported)")
    return backend


def _triton_interpreted():
    """Whether TRITON_INTERPRET=1 is set and sgd's Triton kernels run in Triton's interpreter.

    Triton is imported only where the variable is set: it decides at import time.
    """
    if os.environ.get("TRITON_INTERPRET", "0").lower() not in ("1", "true", "on", "yes"):
        return False
    try:
        from . import _triton
    except ImportError:
        return False
    return _triton.INTERPRETED


# --------------------------------------------------------------------------- feed-forward

class _Lease:
    """Gives a pooled node-value buffer back once the autograd node holding it is
    freed, so that a retained graph (``retain_graph=True``) can run backward again."""

    __slots__ = ("plan", "tensor")

    def __init__(self, plan, tensor):
        self.plan, self.tensor = plan, tensor

    def __del__(self):
        self.plan.give(self.tensor)


class FeedForward(torch.autograd.Function):
    """(B, n_inputs) values -> (B, n_outputs) values of a feed-forward machine.

    Differentiates with respect to ``alpha`` and ``beta`` only; the inputs are data.
    """

    @staticmethod
    def forward(ctx, x, alpha, beta, plan, backend):
        impl = _IMPLS[backend]
        out, saved = impl.forward(x, alpha.detach(), beta.detach(), plan)
        ctx.plan, ctx.impl, ctx.saved = plan, impl, saved
        ctx.lease = _Lease(plan, saved[0])
        ctx.batch = x.shape[0]
        ctx.coef = (alpha.detach(), beta.detach())
        return out

    @staticmethod
    def backward(ctx, grad_out):
        alpha, beta = ctx.coef
        ga, gb = ctx.impl.backward(grad_out.contiguous(), ctx.saved, alpha, beta, ctx.plan, ctx.batch)
        return None, ga.to(alpha.dtype), gb.to(beta.dtype), None, None


def chunk_for(batch):
    """Block width of the CPU kernels for a batch size (depends on nothing else)."""
    if batch >= 256:
        return 128
    return max(16, -(-((batch + 1) // 2) // 16) * 16)


class _NumbaImpl:
    @staticmethod
    def forward(x, alpha, beta, plan):
        from . import _cpu

        dtype = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
        B = x.shape[0]
        chunk = chunk_for(B)
        n_blocks = -(-B // chunk)
        H = plan.take((n_blocks, plan.n_nodes, chunk), dtype)
        padded = torch.zeros((n_blocks * chunk, plan.n_inputs), dtype=dtype)
        padded[:B] = x
        H[:, :plan.n_inputs, :] = padded.view(n_blocks, chunk, plan.n_inputs).transpose(1, 2)
        a = alpha.to(dtype).contiguous().numpy()
        b = beta.to(dtype).contiguous().numpy()
        _cpu.forward(H.numpy(), plan.wiring_np, a, b, plan.n_inputs)
        out = H[:, plan.outputs, :].transpose(1, 2).reshape(n_blocks * chunk, -1)[:B]
        return out.to(x.dtype), (H, a, b)

    @staticmethod
    def backward(grad_out, saved, alpha, beta, plan, batch):
        from . import _cpu

        H, a, b = saved
        n_blocks, _, chunk = H.shape
        g = torch.zeros((n_blocks * chunk, grad_out.shape[1]), dtype=H.dtype)
        g[:batch] = grad_out
        g = g.view(n_blocks, chunk, -1).transpose(1, 2).contiguous()
        dG = plan.take((n_blocks, plan.n_gates, chunk), H.dtype)
        ga, gb = _cpu.backward(H.numpy(), dG.numpy(), g.numpy(), plan.outputs_np, plan.wiring_np, a, b,
                               plan.n_inputs)
        plan.give(dG)
        return torch.from_numpy(ga), torch.from_numpy(gb)


class _TorchImpl:
    """Per-level tensor operations on node-major values (n_nodes, B)."""

    @staticmethod
    def forward(x, alpha, beta, plan):
        dtype = x.dtype
        B = x.shape[0]
        H = plan.take((plan.n_nodes, B), dtype)
        H[:plan.n_inputs] = x.t()
        a = alpha.to(dtype)
        b = beta.to(dtype)
        for span, gates, sources in plan.levels:
            src = H.index_select(0, sources).view(-1, 2, B)
            link = torch.addcmul(a[gates].unsqueeze(-1), b[gates].unsqueeze(-1), src)
            out = torch.mul(link[:, 0], link[:, 1]).neg_().add_(1)
            if span is not None:
                H[plan.n_inputs + span[0]: plan.n_inputs + span[1]] = out
            else:
                H.index_copy_(0, gates + plan.n_inputs, out)
        return H.index_select(0, plan.outputs).t(), (H,)

    @staticmethod
    def backward(grad_out, saved, alpha, beta, plan, batch):
        (H,) = saved
        B = H.shape[1]
        dtype = H.dtype if H.dtype == torch.float64 else torch.float32
        a = alpha.to(dtype)
        b = beta.to(dtype)
        dH = torch.zeros((plan.n_nodes, B), dtype=dtype, device=H.device)
        dH.index_add_(0, plan.outputs, grad_out.t().to(dtype))
        ga = torch.zeros_like(a)
        gb = torch.zeros_like(b)
        for span, gates, sources in reversed(plan.levels):
            src = H.index_select(0, sources).view(-1, 2, B).to(dtype)
            link = torch.addcmul(a[gates].unsqueeze(-1), b[gates].unsqueeze(-1), src)
            d = dH.index_select(0, gates + plan.n_inputs)
            # out = 1 - l0 l1: d out / d l_p = -l_{1-p}
            t = link.flip(1).mul_(d.unsqueeze(1)).neg_()
            ga[gates] = t.sum(-1)
            gb[gates] = (t * src).sum(-1)
            dH.index_add_(0, sources, t.mul_(b[gates].unsqueeze(-1)).view(-1, B))
        return ga, gb


class _TritonImpl:
    @staticmethod
    def forward(x, alpha, beta, plan):
        from . import _triton

        return _triton.forward(x, alpha, beta, plan)

    @staticmethod
    def backward(grad_out, saved, alpha, beta, plan, batch):
        from . import _triton

        return _triton.backward(grad_out, saved, alpha, beta, plan)


_IMPLS = {"numba": _NumbaImpl, "torch": _TorchImpl, "triton": _TritonImpl}


def feedforward(x, alpha, beta, plan, backend):
    if x.shape[0] == 0:  # no samples: no kernel to run, but keep the graph to theta
        return (alpha.sum() + beta.sum()).mul(0).to(x.dtype).expand(0, len(plan.outputs))
    if torch.is_grad_enabled() and (alpha.requires_grad or beta.requires_grad):
        return FeedForward.apply(x, alpha, beta, plan, backend)
    out, saved = _IMPLS[backend].forward(x, alpha.detach(), beta.detach(), plan)
    plan.give(saved[0])
    return out


# --------------------------------------------------------------------------- clocked

def clocked(x, alpha, beta, plan, steps, initial, delayed):
    """Unroll ``steps`` synchronous clock steps (back-propagation through time).

    Parameters
    ----------
    x : (B, n_inputs) held fixed, or (B, T, n_inputs) a sequence (frame t at
        step t, zeros from step T on).
    alpha, beta : (n_gates, 2) link coefficients.
    initial : (B, n_gates) gate values at step 0.
    delayed : (n_gates, 2) bool, the links that are one-step registers
        (modified links in turing mode): they deliver ``alpha + beta * v(t-1)``,
        and ``alpha`` at step 0, which is ``L(0) = 1``.

    Returns
    -------
    (B, n_outputs) node values at step ``steps``.
    """
    B = x.shape[0]
    G = plan.n_gates
    a = alpha.reshape(-1, 1).to(x.dtype)
    b = beta.reshape(-1, 1).to(x.dtype)
    sequence = x.dim() == 3
    zeros_in = x.new_zeros((plan.n_inputs, B))

    def frame(t):
        if not sequence:
            return x.t()
        return x[:, t, :].t() if t < x.shape[1] else zeros_in

    delay = delayed.reshape(-1, 1)
    any_delay = bool(delayed.any())
    state = initial.t()
    previous = torch.zeros((2 * G, B), dtype=x.dtype, device=x.device) if any_delay else None
    for t in range(steps):
        nodes = torch.cat([frame(t), state], 0)
        src = nodes.index_select(0, plan.sources)
        used = torch.where(delay, previous, src) if any_delay else src
        link = torch.addcmul(a, b, used).view(G, 2, B)
        state = 1 - link[:, 0] * link[:, 1]
        previous = src
    nodes = torch.cat([frame(steps), state], 0)
    return nodes.index_select(0, plan.outputs).t()
