"""Triton kernels of the relaxed feed-forward machine on CUDA (private).

Node-major layout ``H[node, sample]``. One launch per level and pass; a
program handles one gate and ``BLOCK`` consecutive samples, so every load and
store is a contiguous row segment. The forward pass reads two source rows and
writes the gate row; the backward pass re-reads the sources (nothing else was
kept), reads the gate's gradient row and adds into the sources' gradient rows
with atomic adds. Node values may be float32 or bfloat16; arithmetic and
gradients are float32. Atomic adds make gradients reproducible only up to
rounding.

With ``TRITON_INTERPRET=1`` in the environment when this module is first
imported, the kernels run in Triton's interpreter on CPU tensors
(:data:`INTERPRETED`): slow, but it checks the kernels without a GPU.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

#: the kernels below run in Triton's interpreter (decided when they are decorated)
INTERPRETED = bool(triton.knobs.runtime.interpret)


@triton.jit
def _forward_kernel(H, gates, wiring, alpha, beta, n_inputs, n_cols, stride, BLOCK: tl.constexpr):
    g = tl.load(gates + tl.program_id(0))
    i0 = tl.load(wiring + 2 * g)
    i1 = tl.load(wiring + 2 * g + 1)
    a0 = tl.load(alpha + 2 * g)
    b0 = tl.load(beta + 2 * g)
    a1 = tl.load(alpha + 2 * g + 1)
    b1 = tl.load(beta + 2 * g + 1)
    cols = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = cols < n_cols
    v0 = tl.load(H + i0 * stride + cols, mask=mask, other=0.0).to(tl.float32)
    v1 = tl.load(H + i1 * stride + cols, mask=mask, other=0.0).to(tl.float32)
    out = 1.0 - (a0 + b0 * v0) * (a1 + b1 * v1)
    tl.store(H + (n_inputs + g) * stride + cols, out.to(H.dtype.element_ty), mask=mask)


@triton.jit
def _backward_kernel(H, dH, gates, wiring, alpha, beta, g_alpha, g_beta, n_inputs, n_cols, stride,
                     BLOCK: tl.constexpr):
    g = tl.load(gates + tl.program_id(0))
    i0 = tl.load(wiring + 2 * g)
    i1 = tl.load(wiring + 2 * g + 1)
    a0 = tl.load(alpha + 2 * g)
    b0 = tl.load(beta + 2 * g)
    a1 = tl.load(alpha + 2 * g + 1)
    b1 = tl.load(beta + 2 * g + 1)
    cols = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = cols < n_cols
    d = tl.load(dH + (n_inputs + g) * stride + cols, mask=mask, other=0.0)
    v0 = tl.load(H + i0 * stride + cols, mask=mask, other=0.0).to(tl.float32)
    v1 = tl.load(H + i1 * stride + cols, mask=mask, other=0.0).to(tl.float32)
    # out = 1 - l0 l1, so d out / d l0 = -l1 and d out / d l1 = -l0
    t0 = -d * (a1 + b1 * v1)
    t1 = -d * (a0 + b0 * v0)
    tl.atomic_add(g_alpha + 2 * g, tl.sum(t0, axis=0))
    tl.atomic_add(g_beta + 2 * g, tl.sum(t0 * v0, axis=0))
    tl.atomic_add(g_alpha + 2 * g + 1, tl.sum(t1, axis=0))
    tl.atomic_add(g_beta + 2 * g + 1, tl.sum(t1 * v1, axis=0))
    # input rows of dH receive gradients too; they are few and nobody reads them
    tl.atomic_add(dH + i0 * stride + cols, t0 * b0, mask=mask)
    tl.atomic_add(dH + i1 * stride + cols, t1 * b1, mask=mask)


def _block(n_cols):
    return min(1024, max(128, triton.next_power_of_2(int(n_cols))))


def forward(x, alpha, beta, plan):
    dtype = x.dtype if x.dtype in (torch.float32, torch.bfloat16, torch.float16) else torch.float32
    B = x.shape[0]
    H = plan.take((plan.n_nodes, B), dtype)
    H[:plan.n_inputs] = x.t()
    a = alpha.to(torch.float32).contiguous()
    b = beta.to(torch.float32).contiguous()
    block = _block(B)
    n_col_blocks = triton.cdiv(B, block)
    for _, gates, _ in plan.levels:
        _forward_kernel[(gates.numel(), n_col_blocks)](
            H, gates, plan.wiring, a, b, plan.n_inputs, B, H.stride(0), BLOCK=block, num_warps=4)
    return H.index_select(0, plan.outputs).t().to(x.dtype), (H, a, b)


def backward(grad_out, saved, alpha, beta, plan):
    H, a, b = saved
    B = H.shape[1]
    dH = torch.zeros((plan.n_nodes, B), dtype=torch.float32, device=H.device)
    dH.index_add_(0, plan.outputs, grad_out.t().to(torch.float32))
    ga = torch.zeros_like(a)
    gb = torch.zeros_like(b)
    block = _block(B)
    n_col_blocks = triton.cdiv(B, block)
    for _, gates, _ in reversed(plan.levels):
        _backward_kernel[(gates.numel(), n_col_blocks)](
            H, dH, gates, plan.wiring, a, b, ga, gb, plan.n_inputs, B, H.stride(0),
            BLOCK=block, num_warps=4)
    return ga, gb
