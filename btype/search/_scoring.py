"""Scoring of the search kernels (private; see ``_kernels``): error counts of the
outputs against the packed targets, and the class vote, recounted where gates changed."""
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from .._vote_kernels import _count, _wrong_of_counts
from ..jit import njit


@intrinsic
def _popcount(typingctx, x):
    """Population count of a uint64 (the CPU's popcnt instruction)."""
    if x != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(fn, [args[0]])

    return types.uint64(types.uint64), codegen


# ---------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------
@njit(cache=True, inline="always")
def copy(dst, src):
    """dst[:] = src without a temporary (usable where Numba's runtime is off)."""
    for i in range(src.shape[0]):
        dst[i] = src[i]


@njit(cache=True, inline="always")
def _row_error(values, node, target, j, masks):
    """Wrong bits of scored row ``j``: its node against its target, on its samples."""
    e = np.uint64(0)
    for k in range(masks.shape[1]):
        e += _popcount((values[node, k] ^ target[j, k]) & masks[j, k])
    return np.int64(e)


@njit(cache=True, inline="always")
def _weighted(weights, errs):
    total = 0.0
    for j in range(errs.shape[0]):
        total += weights[j] * errs[j]
    return total


@njit(cache=True, inline="always")
def _copy_planes(dst, src):
    for j in range(src.shape[0]):
        for k in range(src.shape[1]):
            dst[j, k] = src[j, k]


@njit(cache=True, inline="always")
def _count_class(prob, wk, c):
    """Recount class c's votes into wk.ccnt[c] (bit-sliced, btype._vote_kernels._count)."""
    _count(wk.values, prob.out_nodes, prob.cls_ptr[c], prob.cls_ptr[c + 1], prob.cls_offsets[c],
           prob.cls_bits, 0, wk.ccnt[c], wk.cx)


@njit(cache=True, inline="always")
def _class_wrong(prob, wk):
    """Misclassified samples by the package's one group vote (``btype._vote_kernels``) on the
    class counts in wk.ccnt, ties to the lowest class."""
    return _wrong_of_counts(wk.ccnt, prob.cls_bits, prob.labels)


@njit(cache=True, inline="always")
def _class_rescore(prob, wk, dirty):
    """Recount the classes of the outputs wk.dirty[:dirty] (their old counts to wk.csave, the
    classes to wk.cids; wk.cids[-1] of them) and vote again."""
    group = prob.cls_ptr[1] - prob.cls_ptr[0]
    n_classes = prob.cls_ptr.shape[0] - 1
    n_saved = 0
    for d in range(dirty):
        c = wk.dirty[d] // group
        fresh = True
        for i in range(n_saved):
            if wk.cids[i] == c:
                fresh = False
                break
        if fresh:
            wk.cids[n_saved] = c
            _copy_planes(wk.csave[n_saved], wk.ccnt[c])
            n_saved += 1
            _count_class(prob, wk, c)
    wk.cids[n_classes] = n_saved
    return _class_wrong(prob, wk)


@njit(cache=True, inline="always")
def _score_all(prob, wk):
    """Recount every output's errors into wk.errs; return the score."""
    errs = wk.errs
    if prob.n_classes > 0:
        for c in range(prob.n_classes):
            _count_class(prob, wk, c)
        errs[0] = _class_wrong(prob, wk)
        return np.float64(errs[0])
    for j in range(prob.out_nodes.shape[0]):
        errs[j] = _row_error(wk.values, prob.out_nodes[j], prob.target, j, prob.masks)
    return _weighted(prob.weights, errs)


@njit(cache=True, inline="always")
def _rescore(prob, wk, dirty):
    """Score after a delta: recount the outputs in wk.dirty[:dirty] (old counts to wk.saved_errs)."""
    errs, saved = wk.errs, wk.saved_errs
    if prob.n_classes > 0:
        saved[0] = errs[0]
        errs[0] = _class_rescore(prob, wk, dirty)
        return np.float64(errs[0])
    for d in range(dirty):
        j = wk.dirty[d]
        saved[d] = errs[j]
        errs[j] = _row_error(wk.values, prob.out_nodes[j], prob.target, j, prob.masks)
    return _weighted(prob.weights, errs)


@njit(cache=True, boundscheck=False)
def pack_rows(X, rows, out):
    """``out[:] = btype.pack(X[rows])`` without the gathered copy: (S, n) uint8 rows of 0/1 into
    (n, W) words, 64 rows per word (a minibatch change's packing). Each row is read once,
    whole, into one accumulator word per column."""
    n = X.shape[1]
    S = rows.shape[0]
    acc = np.empty(n, np.uint64)
    for w in range(out.shape[1]):
        acc[:] = 0
        r0 = 64 * w
        for t in range(min(64, S - r0)):
            x = X[rows[r0 + t]]
            shift = np.uint64(t)
            for i in range(n):
                acc[i] |= np.uint64(x[i]) << shift
        for i in range(n):
            out[i, w] = acc[i]
