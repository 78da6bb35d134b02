"""Private Numba kernels of :mod:`btype.vote`: the group vote on packed words.

Callers validate everything first. Sample ``s`` is bit ``s % 64`` of word
``s // 64``. A class's count is held *bit-sliced*: plane ``j`` of a count is a
row of words whose bit ``s`` is bit ``j`` of sample ``s``'s count, so 64
samples are counted, compared and chosen per word operation and no output is
ever unpacked.
"""
import numpy as np
from numba import prange

from .jit import njit

_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(cache=True, inline="always")
def _csa(a, b, c):
    """Carry-save adder, word by word: ``a + b + c = 2 * carry + sum``; returns (carry, sum)."""
    u = a ^ b
    return (a & b) | (u & c), u ^ c


@njit(cache=True, inline="always")
def _add8(o, t, f, a0, a1, a2, a3, a4, a5, a6, a7):
    """Add eight rows to the planes of weight 1, 2, 4 (``o``, ``t``, ``f``) with seven
    carry-save adders; returns (carry of weight 8, o, t, f)."""
    ta, o = _csa(o, a0, a1)
    tb, o = _csa(o, a2, a3)
    fa, t = _csa(t, ta, tb)
    ta, o = _csa(o, a4, a5)
    tb, o = _csa(o, a6, a7)
    fb, t = _csa(t, ta, tb)
    e, f = _csa(f, fa, fb)
    return e, o, t, f


@njit(cache=True, inline="always")
def _pick(rows, q, stop):
    """(row index, mask) of entry ``q`` of a group of 16: past ``stop`` the last row, masked
    to zero, pads the group (indices and masks are scalars, so no row views are made)."""
    return rows[min(q, stop - 1)], _ONES if q < stop else np.uint64(0)


@njit(cache=True, boundscheck=False)
def _ripple(cnt, level, x, n_bits, n):
    """Add the row ``x`` at weight ``2**level`` to the bit-sliced count ``cnt`` (n words)."""
    for j in range(level, n_bits):
        plane = cnt[j]
        for k in range(n):
            carry = plane[k] & x[k]
            plane[k] ^= x[k]
            x[k] = carry


@njit(cache=True, boundscheck=False)
def _count(Y, rows, start, stop, offset, n_bits, w0, cnt, x):
    """Bit-sliced count of the ones in rows ``rows[start:stop]`` of ``Y`` (words from
    ``w0`` on, as many as ``x`` holds), plus ``offset``.

    Sixteen rows at a time go through a Harley-Seal tree of carry-save adders
    into the planes of weight 1, 2, 4 and 8 (15 adders per 16 rows); the carry
    of weight 16 then ripples into the higher planes. ``cnt`` needs at least
    max(n_bits, 4) planes; the caller guarantees the count fits in ``n_bits``.
    """
    n = x.shape[0]
    for j in range(cnt.shape[0]):
        for k in range(n):
            cnt[j, k] = 0
    ones, twos, fours, eights = cnt[0], cnt[1], cnt[2], cnt[3]
    for r in range(start, stop, 16):
        i0, m0 = _pick(rows, r, stop)
        i1, m1 = _pick(rows, r + 1, stop)
        i2, m2 = _pick(rows, r + 2, stop)
        i3, m3 = _pick(rows, r + 3, stop)
        i4, m4 = _pick(rows, r + 4, stop)
        i5, m5 = _pick(rows, r + 5, stop)
        i6, m6 = _pick(rows, r + 6, stop)
        i7, m7 = _pick(rows, r + 7, stop)
        i8, m8 = _pick(rows, r + 8, stop)
        i9, m9 = _pick(rows, r + 9, stop)
        i10, m10 = _pick(rows, r + 10, stop)
        i11, m11 = _pick(rows, r + 11, stop)
        i12, m12 = _pick(rows, r + 12, stop)
        i13, m13 = _pick(rows, r + 13, stop)
        i14, m14 = _pick(rows, r + 14, stop)
        i15, m15 = _pick(rows, r + 15, stop)
        for k in range(n):
            q = np.uint64(w0 + k)  # unsigned: no negative-index wraparound, so the loop vectorises
            o, t, f, e = ones[k], twos[k], fours[k], eights[k]
            ea, o, t, f = _add8(o, t, f, Y[i0, q] & m0, Y[i1, q] & m1, Y[i2, q] & m2, Y[i3, q] & m3,
                                Y[i4, q] & m4, Y[i5, q] & m5, Y[i6, q] & m6, Y[i7, q] & m7)
            eb, o, t, f = _add8(o, t, f, Y[i8, q] & m8, Y[i9, q] & m9, Y[i10, q] & m10,
                                Y[i11, q] & m11, Y[i12, q] & m12, Y[i13, q] & m13,
                                Y[i14, q] & m14, Y[i15, q] & m15)
            x[k], e = _csa(e, ea, eb)
            ones[k], twos[k], fours[k], eights[k] = o, t, f, e
        if n_bits > 4:  # a group of 16 rows or more: its count needs the plane of 16
            _ripple(cnt, 4, x, n_bits, n)
    for j in range(n_bits):
        if (offset >> j) & 1:
            for k in range(n):
                x[k] = _ONES
            _ripple(cnt, j, x, n_bits, n)


@njit(cache=True, inline="always")
def _keep_greater(cnt, best, idx, c, n_bits, n, gt, eq):
    """Where class ``c``'s bit-sliced count ``cnt`` beats ``best`` (strictly, so ties stay
    with the lower class), it becomes the best and the bit-sliced index ``idx`` becomes c."""
    # gt: samples whose count beats the best so far (compared from the top plane down)
    for k in range(n):
        gt[k] = 0
        eq[k] = _ONES
    for j in range(n_bits - 1, -1, -1):
        a, b = cnt[j], best[j]
        for k in range(n):
            gt[k] |= eq[k] & a[k] & ~b[k]
            eq[k] &= ~(a[k] ^ b[k])
    for j in range(n_bits):
        a, b = cnt[j], best[j]
        for k in range(n):
            b[k] = (a[k] & gt[k]) | (b[k] & ~gt[k])
    for j in range(idx.shape[0]):
        row = idx[j]
        if (c >> j) & 1:
            for k in range(n):
                row[k] |= gt[k]
        else:
            for k in range(n):
                row[k] &= ~gt[k]


@njit(cache=True, boundscheck=False)
def _wrong_of_counts(counts, n_bits, labels):
    """Samples whose class by the counts ``counts[c]`` (bit-sliced, as :func:`_count` leaves
    them; ties to the lowest class) is not ``labels[s]``: the vote of :func:`_vote_range` on
    counts kept from earlier, e.g. by a search that recounts only the classes a change touched."""
    n_classes = counts.shape[0]
    S = labels.shape[0]
    n = (S + 63) // 64
    n_idx = 0
    while (1 << n_idx) < n_classes:
        n_idx += 1
    best = np.empty((n_bits, n), np.uint64)
    idx = np.zeros((n_idx, n), np.uint64)
    gt = np.empty(n, np.uint64)
    eq = np.empty(n, np.uint64)
    for j in range(n_bits):
        for k in range(n):
            best[j, k] = counts[0, j, k]
    for c in range(1, n_classes):
        _keep_greater(counts[c], best, idx, c, n_bits, n, gt, eq)
    wrong = 0
    for s in range(S):
        k = s >> 6
        b = np.uint64(s & 63)
        pred = 0
        for j in range(n_idx):
            pred |= np.int64((idx[j, k] >> b) & np.uint64(1)) << j
        wrong += pred != labels[s]
    return wrong


@njit(cache=True, boundscheck=False)
def _vote_range(Y, rows, ptr, offsets, n_bits, w0, w1, pred):
    """Predictions of the samples in words w0:w1 of ``Y``, into ``pred[:64 * (w1 - w0)]``.

    Class ``c`` counts rows ``rows[ptr[c]:ptr[c + 1]]`` of ``Y`` (a row listed
    twice counts twice) plus ``offsets[c]``. Classes are taken in order and a
    sample moves to class ``c`` only where its count is strictly greater than
    the best so far, so ties go to the lowest class. The winning class index is
    kept bit-sliced too and unpacked once per sample at the end.
    """
    n = w1 - w0
    n_classes = offsets.shape[0]
    n_idx = 0
    while (1 << n_idx) < n_classes:
        n_idx += 1
    cnt = np.empty((max(n_bits, 4), n), np.uint64)
    best = np.empty((n_bits, n), np.uint64)
    idx = np.zeros((n_idx, n), np.uint64)
    x = np.empty(n, np.uint64)
    gt = np.empty(n, np.uint64)
    eq = np.empty(n, np.uint64)
    for c in range(n_classes):
        _count(Y, rows, ptr[c], ptr[c + 1], offsets[c], n_bits, w0, cnt, x)
        if c == 0:
            for j in range(n_bits):
                for k in range(n):
                    best[j, k] = cnt[j, k]
            continue
        _keep_greater(cnt, best, idx, c, n_bits, n, gt, eq)
    for k in range(n):
        base = 64 * k
        for i in range(64):
            pred[base + i] = 0
        for j in range(n_idx):
            v = idx[j, k]
            for i in range(64):
                pred[base + i] |= np.int64((v >> np.uint64(i)) & np.uint64(1)) << j


@njit(cache=True, parallel=True, boundscheck=False)
def _vote_blocks(Y, rows, ptr, offsets, n_bits, block, pred):
    """:func:`_vote_range` over blocks of ``block`` words, one block per thread at a time."""
    W = Y.shape[1]
    n_blocks = (W + block - 1) // block
    for bi in prange(n_blocks):
        w0, w1 = bi * block, min(W, (bi + 1) * block)
        _vote_range(Y, rows, ptr, offsets, n_bits, w0, w1, pred[64 * w0: 64 * w1])


@njit(cache=True, boundscheck=False)
def _count_wrong(Y, rows, ptr, offsets, n_bits, labels):
    """Samples whose class (as :func:`_vote_range` finds it) is not ``labels[s]``.

    ``Y`` holds at least ``ceil(S / 64)`` words per row, e.g. every node's
    value in a search's delta evaluation (``rows`` then lists output nodes), so
    another kernel can score a candidate without unpacking its outputs.
    """
    S = labels.shape[0]
    W = (S + 63) // 64
    block = 64
    pred = np.empty(64 * block, np.int64)
    wrong = 0
    for w0 in range(0, W, block):
        w1 = min(W, w0 + block)
        _vote_range(Y, rows, ptr, offsets, n_bits, w0, w1, pred)
        for i in range(min(S, 64 * w1) - 64 * w0):
            wrong += pred[i] != labels[64 * w0 + i]
    return wrong


@njit(cache=True, boundscheck=False)
def _pack_range(X, w0, w1, P):
    """Pack the rows of samples ``64 * w0 .. 64 * w1`` of ``X`` (S, n) bool into words
    ``w0:w1`` of ``P`` (n, W) uint64: bit ``s % 64`` of ``P[i, s // 64]`` is ``X[s, i]``.

    A block of 64 samples is gathered in ``n`` accumulators, one sample row (contiguous)
    at a time, so every load reads consecutive bytes and the inner loop vectorises.
    """
    S, n = X.shape
    acc = np.empty(n, np.uint64)
    for w in range(w0, w1):
        for i in range(n):
            acc[i] = 0
        s0 = 64 * w
        for b in range(min(64, S - s0)):
            row = X[s0 + b]
            shift = np.uint64(b)
            for i in range(n):
                acc[i] |= np.uint64(row[i]) << shift
        for i in range(n):
            P[i, w] = acc[i]


@njit(cache=True, parallel=True, boundscheck=False)
def _pack_blocks(X, block, P):
    """:func:`_pack_range` over blocks of ``block`` words, one block per thread at a time."""
    W = P.shape[1]
    n_blocks = (W + block - 1) // block
    for bi in prange(n_blocks):
        _pack_range(X, bi * block, min(W, (bi + 1) * block), P)
