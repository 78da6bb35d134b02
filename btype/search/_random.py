"""Random numbers and mutations of the search kernels (private; see ``_kernels``).

xoshiro256** with its state in an array (``wk.rng``), so that a checkpoint can save
and restore it; the links one mutation flips (:func:`draw_mutation`); a fresh
random genome.
"""
import math

import numpy as np

from ..jit import njit

#: Mutation options (:func:`draw_mutation`).
MUTATION = np.dtype([("mode", np.int64), ("k", np.int64), ("rate", np.float64),
                     ("dist", np.int64)])
MUT_FLIPS, MUT_RATE, MUT_ACTIVE, MUT_CONE = 0, 1, 2, 3
#: How many links ``"flips"`` / ``"cone"`` draw: always ``k``, or 1 + a geometric count (mean ``k``).
DIST_FIXED, DIST_GEOMETRIC = 0, 1


# ---------------------------------------------------------------------------
# random numbers: xoshiro256**
# ---------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True, inline="always")
def next_u64(s):
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    s[0], s[1], s[2], s[3] = s0, s1, s2, s3
    return result


@njit(cache=True, inline="always")
def uniform(s):
    """A float in [0, 1)."""
    return np.float64(next_u64(s) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def below(s, n):
    """An int in [0, n) for 0 < n < 2**32 (multiply-shift; bias below n / 2**32)."""
    return np.int64(((next_u64(s) >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))




# ---------------------------------------------------------------------------
# mutation
# ---------------------------------------------------------------------------
@njit(cache=True, inline="always")
def draw_mutation(prob, wk, mut, out):
    """Draw the links of one mutation into ``out``; return how many.

    MUT_FLIPS: ``k`` distinct links (DIST_GEOMETRIC: 1 + a geometric number
    of them, ``k`` on average). MUT_CONE: the same from the links of the
    output cone (at most as many as it has). MUT_RATE: each link with
    probability ``rate``, redrawn until at least one. MUT_ACTIVE: uniform
    links until one lies on an active gate (all of them are flipped; a
    wired-cone gate where ``wk.act`` is not kept).
    """
    rng = wk.rng
    link_cone = prob.link_cone
    M = link_cone.shape[0]
    if mut.mode == MUT_FLIPS or mut.mode == MUT_CONE:
        cone = mut.mode == MUT_CONE
        pool = prob.cone_links.shape[0] if cone else M
        k = mut.k
        if mut.dist == DIST_GEOMETRIC and k > 1:
            u = 1.0 - uniform(rng)  # in (0, 1]
            k = 1 + np.int64(math.floor(math.log(u) / math.log1p(-1.0 / k)))
        k = min(k, pool)
        n = 0
        while n < k:
            m = below(rng, pool)
            if cone:
                m = prob.cone_links[m]
            fresh = True
            for i in range(n):
                if out[i] == m:
                    fresh = False
                    break
            if fresh:
                out[n] = m
                n += 1
        return n
    if mut.mode == MUT_RATE:
        if mut.rate >= 1.0:
            for m in range(M):
                out[m] = m
            return M
        log_q = math.log1p(-mut.rate)
        while True:
            n = 0
            m = -1
            while True:
                u = 1.0 - uniform(rng)  # in (0, 1]
                m += 1 + np.int64(math.floor(math.log(u) / log_q))
                if m >= M:
                    break
                out[n] = m
                n += 1
            if n > 0:
                return n
    # MUT_ACTIVE
    n = 0
    limit = out.shape[0]
    track = wk.act.shape[0] > 0
    while True:
        if n == limit - 1:
            # an absurdly long run of inactive draws: finish with a cone link
            out[n] = prob.cone_links[below(rng, prob.cone_links.shape[0])]
            return n + 1
        m = below(rng, M)
        out[n] = m
        n += 1
        c = link_cone[m]
        if c >= 0 and (not track or wk.act[prob.n_in + c] > 0):
            return n


@njit(cache=True)
def random_bits(rng, bits):
    """A fresh uniformly random genome."""
    M = bits.shape[0]
    for w in range(0, M, 64):
        r = next_u64(rng)
        for i in range(min(64, M - w)):
            bits[w + i] = np.uint8((r >> np.uint64(i)) & np.uint64(1))
