"""Numba kernels of the relaxed feed-forward machine on the CPU (private).

Every link delivers ``alpha + beta * v`` (the caller folds link mode and
enable probability into ``alpha`` and ``beta``) and every gate delivers
``1 - l0 * l1``.

Layout: the samples are cut into blocks of ``chunk`` columns and the node
values are stored block-major, ``H[block, node, column]``. A block's values
are contiguous, so one thread streams through its own block while walking all
gates in index order (a valid evaluation order: a feed-forward gate reads only
lower-numbered nodes). Blocks run in parallel and never wait for one another.
Gradients of the link coefficients are summed per block and reduced afterwards
in block order, so results do not depend on the thread count.
"""
from __future__ import annotations

import types

import numpy as np
import torch
from numba import prange

from btype.jit import njit

# No 'nnan'/'ninf': a NaN must survive so that training can detect it.
_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}

#: Columns per block (measured fastest on a 2-core EPYC; see experiments/throughput_sgd.py).
CHUNK = 64


@njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _forward(H, wiring, alpha, beta, n_inputs, one):
    """Fill the gate rows ``H[:, n_inputs:, :]`` from the input rows."""
    n_blocks, _, chunk = H.shape
    n_gates = wiring.shape[0]
    for c in prange(n_blocks):
        Hc = H[c]
        for g in range(n_gates):
            i0 = wiring[g, 0]
            i1 = wiring[g, 1]
            a0 = alpha[g, 0]
            b0 = beta[g, 0]
            a1 = alpha[g, 1]
            b1 = beta[g, 1]
            row = n_inputs + g
            for j in range(chunk):
                Hc[row, j] = one - (a0 + b0 * Hc[i0, j]) * (a1 + b1 * Hc[i1, j])


@njit(parallel=True, cache=True, fastmath=_FASTMATH)
def _backward(H, dG, grad_out, outputs, wiring, alpha, beta, n_inputs, zero, parts):
    """Back-propagate ``grad_out`` (n_blocks, n_out, chunk) through the machine.

    ``dG`` (n_blocks, n_gates, chunk) is scratch for the gradient of every gate
    value and need not be initialised. ``parts`` (n_blocks, n_gates, 4)
    receives per block the gradients of alpha0, beta0, alpha1, beta1.
    """
    n_blocks, _, chunk = H.shape
    n_gates = wiring.shape[0]
    for c in prange(n_blocks):
        Hc = H[c]
        dc = dG[c]
        for g in range(n_gates):
            for j in range(chunk):
                dc[g, j] = zero
        for k in range(outputs.shape[0]):
            node = outputs[k]
            if node >= n_inputs:
                for j in range(chunk):
                    dc[node - n_inputs, j] += grad_out[c, k, j]
        for g in range(n_gates - 1, -1, -1):
            i0 = wiring[g, 0]
            i1 = wiring[g, 1]
            a0 = alpha[g, 0]
            b0 = beta[g, 0]
            a1 = alpha[g, 1]
            b1 = beta[g, 1]
            s_a0 = zero
            s_b0 = zero
            s_a1 = zero
            s_b1 = zero
            for j in range(chunk):
                d = dc[g, j]
                v0 = Hc[i0, j]
                v1 = Hc[i1, j]
                # out = 1 - l0 l1, so d out / d l0 = -l1 and d out / d l1 = -l0
                t0 = -d * (a1 + b1 * v1)
                t1 = -d * (a0 + b0 * v0)
                s_a0 += t0
                s_b0 += t0 * v0
                s_a1 += t1
                s_b1 += t1 * v1
            parts[c, g, 0] = s_a0
            parts[c, g, 1] = s_b0
            parts[c, g, 2] = s_a1
            parts[c, g, 3] = s_b1
            # gradients of the source values; inputs are data and get none
            if i0 >= n_inputs:
                r0 = i0 - n_inputs
                for j in range(chunk):
                    dc[r0, j] -= dc[g, j] * (a1 + b1 * Hc[i1, j]) * b0
            if i1 >= n_inputs:
                r1 = i1 - n_inputs
                for j in range(chunk):
                    dc[r1, j] -= dc[g, j] * (a0 + b0 * Hc[i0, j]) * b1


# The same kernels without threads: for small work a parallel launch costs more
# than the work itself (and much more on a loaded machine).
# (renamed copies, so that numba's on-disk cache keeps the two apart)
def _renamed(fn, name):
    copy = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    copy.__qualname__ = name
    return copy


_forward_serial = njit(cache=True, fastmath=_FASTMATH)(_renamed(_forward.py_func, "_forward_serial"))
_backward_serial = njit(cache=True, fastmath=_FASTMATH)(_renamed(_backward.py_func, "_backward_serial"))

#: Below this many gate x sample evaluations the serial kernels run.
PARALLEL_MIN = 1 << 21


def _parallel(H, n_gates):
    n_blocks, _, chunk = H.shape
    return n_blocks > 1 and n_blocks * chunk * n_gates >= PARALLEL_MIN


def _keeping_torch_threads(kernel, *args):
    """Run a parallel Numba kernel without changing torch's thread count: both use
    the same OpenMP runtime, and Numba's launch resets it to Numba's own count."""
    n = torch.get_num_threads()
    try:
        kernel(*args)
    finally:
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)


def forward(H, wiring, alpha, beta, n_inputs):
    """Fill ``H`` (n_blocks, n_nodes, chunk) in place."""
    if _parallel(H, wiring.shape[0]):
        _keeping_torch_threads(_forward, H, wiring, alpha, beta, np.int64(n_inputs), H.dtype.type(1))
    else:
        _forward_serial(H, wiring, alpha, beta, np.int64(n_inputs), H.dtype.type(1))


def backward(H, dG, grad_out, outputs, wiring, alpha, beta, n_inputs):
    """Gradients (d alpha, d beta), each (n_gates, 2), for ``grad_out`` (n_blocks, n_out, chunk).

    ``dG`` (n_blocks, n_gates, chunk) is scratch.
    """
    n_blocks, _, chunk = H.shape
    n_gates = wiring.shape[0]
    parts = np.empty((n_blocks, n_gates, 4), H.dtype)
    args = (H, dG, grad_out, outputs, wiring, alpha, beta, np.int64(n_inputs), H.dtype.type(0), parts)
    if _parallel(H, n_gates):
        _keeping_torch_threads(_backward, *args)
    else:
        _backward_serial(*args)
    total = parts.sum(axis=0)
    return total[:, 0::2].copy(), total[:, 1::2].copy()
