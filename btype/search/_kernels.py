"""Private Numba kernels shared by the search methods; each method's own loop
lives in its module (``es.py``, ``anneal.py``, ``ga.py``, ``random_search.py``).

Everything works on the *output cone* of a machine: the gates with a wired path
to an output, renumbered in their original order (so a feed-forward cone stays
topologically sorted). Node ids inside the cone: inputs ``0 .. n_in-1``, cone
gate ``c`` is node ``n_in + c``. Gates outside the cone can never change an
output, so the kernels neither store nor compute them; their modifier bits are
still part of the genome (``bits``) and are flipped like any other. The gate,
the clocked step and delta propagation are ``btype.kernels``'.

Three named tuples carry the data (built in ``problem.py``):

* ``prob`` (read-only): cone wiring, readers, outputs, packed targets, the
  link map from genome index ``m`` to cone gate and port;
* ``wk`` (mutable): genome bits, link masks, node values, per-output error
  counts, the random generator state, scratch, and ``wk.state``: one record
  of :data:`STATE` (counters and scores, by name); for the local searches
  also ``wk.act``, the *live reference counts* (below);
* ``lim``: one record of :data:`LIMITS`, where a chunk stops.

A candidate's *score* is what the search minimises: the weighted count of
wrong output bits (Boolean tasks) or of misclassified samples. ``core.py``
turns error counts into the exact fitness that ``Task.score`` reports.

Live references: a link is *live* unless its modifier interrupts it (an
interrupted link delivers the constant 1, whatever its source). A cone node is
*active* when it is an output or an active gate reads it through a live link:
only active gates can change an output, as only active genes can in Cartesian
GP. ``wk.act[v]`` counts the live links from active gates reading node ``v``
(plus one per output that ``v`` is), kept up to date on every flip, so a node
with ``act == 0`` has no live path to an output (on loops the count may keep a
dead cycle counted; that errs towards evaluating). A candidate whose flips all
lie on inactive gates cannot change any output: it is not evaluated, its score
is the parent's (``skipped``), exactly what evaluating it would give, so the
trajectory is the one without the rule. Its flipped gates are not recomputed:
they are marked ``wk.stale`` (their stored value may not follow from their
sources'), and a stale gate that a later candidate makes active is
recomputed with that candidate (its readers follow by delta propagation), so
active gates always hold their true values. ``wk.act`` is empty for methods
that do not keep it (their skip rule is the wired cone).

Random numbers come from xoshiro256** with its state in ``wk.rng`` so that a
checkpoint can save and restore it.
"""
import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from .._vote_kernels import _count, _wrong_of_counts
from ..jit import njit
from ..kernels import _clock_block, _enqueue, _eval_gates, _propagate, _toggle_link, _undo_rows

_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)

#: The search state every method keeps: counters and the current and best scores.
STATE = np.dtype([("evals", np.int64), ("gens", np.int64), ("skipped", np.int64),
                  ("gate_evals", np.int64), ("accepted", np.int64),
                  ("restarts", np.int64), ("since", np.int64),
                  ("cur", np.float64), ("best", np.float64)])
#: Where a chunk stops (see :func:`stop`).
LIMITS = np.dtype([("hard_evals", np.int64), ("soft_evals", np.int64), ("gens", np.int64),
                   ("gate_evals", np.int64), ("target", np.float64)])
#: Mutation options (:func:`draw_mutation`).
MUTATION = np.dtype([("mode", np.int64), ("k", np.int64), ("rate", np.float64),
                     ("dist", np.int64)])
MUT_FLIPS, MUT_RATE, MUT_ACTIVE, MUT_CONE = 0, 1, 2, 3
#: How many links ``"flips"`` / ``"cone"`` draw: always ``k``, or 1 + a geometric count (mean ``k``).
DIST_FIXED, DIST_GEOMETRIC = 0, 1


def new_state():
    state = np.zeros(1, STATE)
    state["cur"] = state["best"] = np.inf
    return state


def limits(hard_evals, soft_evals, gens, gate_evals, target):
    lim = np.zeros(1, LIMITS)
    lim[0] = (hard_evals, soft_evals, gens, gate_evals, target)
    return lim


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


# ---------------------------------------------------------------------------
# full evaluation of the cone
# ---------------------------------------------------------------------------
@njit(cache=True, inline="always")
def gates_per_evaluation(prob):
    C = prob.src.shape[0]
    return C * prob.steps if prob.clocked else C


@njit(cache=True)
def evaluate(prob, wk):
    """Evaluate the cone of wk's masks from scratch: wk.values, wk.errs; return the score.

    Clocked: Turing's dynamics from gate states ``prob.init`` (zeros), inputs
    frame t at time t (zero from T on); ``values`` ends at time ``steps``.
    """
    if prob.clocked:
        _clock_block(prob.frames, False, prob.init, 0, wk.values.shape[1], prob.steps, prob.src,
                     wk.om, prob.reg, wk.values, wk.nxt, wk.lreg, prob.no_history)
    else:
        _eval_gates(wk.values, prob.src, prob.dst, wk.xm, wk.om, wk.values.shape[1])
    return _score_all(prob, wk)


@njit(cache=True)
def load_genome(prob, wk, genome):
    """Copy a genome into wk.bits and set the masks of every cone link from it."""
    copy(wk.bits, genome)
    for i in range(prob.cone_links.shape[0]):
        m = prob.cone_links[i]
        c = prob.link_cone[m]
        p = prob.link_port[m]
        # a passing modified link, then interrupted if its bit is off
        wk.om[c, p] = np.uint64(0)
        wk.xm[c, p] = _ONES if prob.turing else np.uint64(0)
        if genome[m] == 0:
            _toggle_link(wk.xm, wk.om, c, p, prob.turing)
    if wk.act.shape[0] > 0:
        wk.act[:] = 0
        wk.stale[:] = 0      # the caller evaluates the whole cone next
        for j in range(prob.out_nodes.shape[0]):
            _refer(prob, wk, prob.out_nodes[j], 1)


@njit(cache=True)
def evaluate_genome(prob, wk, genome):
    """Score a whole genome (its gate-evaluations counted in wk.state; the caller
    counts the evaluation)."""
    load_genome(prob, wk, genome)
    wk.state[0].gate_evals += gates_per_evaluation(prob) * prob.S
    return evaluate(prob, wk)


@njit(cache=True)
def rescore_current(prob, wk):
    """Score wk.bits again (after the minibatch changed): gate_evals counted, not an evaluation."""
    st = wk.state[0]
    st.cur = evaluate(prob, wk)
    st.gate_evals += gates_per_evaluation(prob) * prob.S


# ---------------------------------------------------------------------------
# one candidate: a few flips, scored by delta evaluation, kept or undone
# ---------------------------------------------------------------------------
@njit(cache=True)
def _refer(prob, wk, node, delta):
    """Add ``delta`` (+1 or -1) live references to ``node``; a gate that becomes active
    (inactive) adds (drops) one reference to the source of each of its live links."""
    act, stack, n_in = wk.act, wk.stack, prob.n_in
    on = 1 if delta > 0 else 0
    stack[0] = node
    top = 1
    while top > 0:
        top -= 1
        v = stack[top]
        act[v] += delta
        if v >= n_in and act[v] == on:
            c = v - n_in
            if delta > 0 and wk.stale[c]:
                # recomputed by the candidate being applied (marked stale again by undo)
                wk.stale[c] = 0
                wk.fresh[wk.res[2]] = c
                wk.res[2] += 1
            for p in range(2):
                if wk.om[c, p] == 0:
                    stack[top] = prob.src[c, p]
                    top += 1


@njit(cache=True, inline="always")
def _toggle(prob, wk, m):
    """Flip genome bit m and its masks (and live references); return its cone gate (or -1)."""
    wk.bits[m] ^= np.uint8(1)
    c = prob.link_cone[m]
    if c >= 0:
        p = prob.link_port[m]
        _toggle_link(wk.xm, wk.om, c, p, prob.turing)
        if wk.act.shape[0] > 0 and wk.act[prob.n_in + c] > 0:
            _refer(prob, wk, prob.src[c, p], 1 if wk.om[c, p] == 0 else -1)
    return c


@njit(cache=True, inline="always")
def toggle_all(prob, wk, flips, n):
    for f in range(n):
        _toggle(prob, wk, flips[f])


@njit(cache=True, inline="always")
def toggle_unevaluated(prob, wk, flips, n):
    """Apply a candidate that :func:`touches_cone` says cannot change an output, without
    recomputing anything: its flipped gates become stale."""
    for f in range(n):
        c = _toggle(prob, wk, flips[f])
        if c >= 0 and wk.act.shape[0] > 0:
            wk.stale[c] = 1


@njit(cache=True, inline="always")
def touches_cone(prob, wk, flips, n):
    """Whether a candidate may change an output: a flip on an active gate (on a cone
    gate where ``wk.act`` is not kept)."""
    track = wk.act.shape[0] > 0
    for f in range(n):
        c = prob.link_cone[flips[f]]
        if c >= 0 and (not track or wk.act[prob.n_in + c] > 0):
            return True
    return False


@njit(cache=True, inline="always")
def apply(prob, wk, flips, n):
    """Apply a candidate's flips to the current machine and score it.

    Combinational: delta evaluation (``btype.kernels._propagate``), old rows
    kept for :func:`undo`; clocked: the cone in full. Counts its
    gate-evaluations (the caller counts evaluations). Returns the score.
    """
    st = wk.state[0]
    wk.res[2] = 0
    if prob.clocked:
        copy(wk.saved_errs, wk.errs)
        toggle_all(prob, wk, flips, n)
        st.gate_evals += gates_per_evaluation(prob) * prob.S
        wk.res[0] = 0
        wk.res[1] = 1
        return evaluate(prob, wk)
    size = 0
    for f in range(n):
        c = _toggle(prob, wk, flips[f])
        if c >= 0:
            size = _enqueue(wk.heap, size, wk.queued, c)
    for i in range(wk.res[2]):
        size = _enqueue(wk.heap, size, wk.queued, wk.fresh[i])
    work = _propagate(wk.values, prob.n_in, prob.src, wk.xm, wk.om, prob.tail, prob.rd_ptr,
                      prob.rd_idx, prob.out_ptr, prob.out_idx, wk.heap, size, wk.queued,
                      wk.undo_gates, wk.undo_rows, True, wk.dirty, wk.res)
    st.gate_evals += work * prob.S
    if wk.res[1] == 0:
        return st.cur
    return _rescore(prob, wk, wk.res[1])


@njit(cache=True, inline="always")
def undo(prob, wk, flips, n):
    """Take back the last :func:`apply`: flips, node values, error counts and stale marks."""
    toggle_all(prob, wk, flips, n)
    for i in range(wk.res[2]):
        wk.stale[wk.fresh[i]] = 1
    if prob.clocked:
        copy(wk.errs, wk.saved_errs)
        return
    _undo_rows(wk.values, prob.n_in, wk.undo_gates, wk.undo_rows, wk.res[0])
    dirty = wk.res[1]
    if dirty == 0:
        return
    if prob.n_classes > 0:
        for i in range(wk.cids[prob.n_classes]):
            _copy_planes(wk.ccnt[wk.cids[i]], wk.csave[i])
        wk.errs[0] = wk.saved_errs[0]
        return
    for d in range(dirty - 1, -1, -1):
        wk.errs[wk.dirty[d]] = wk.saved_errs[d]


@njit(cache=True, inline="always")
def local_step(prob, wk, mut, temperature, strict=False):
    """One step of a single-candidate local search (``es`` with lam = 1, ``anneal``).

    Draws a mutation; a candidate that cannot change an output (see
    :func:`touches_cone`) is not evaluated (its score is the parent's;
    counted as skipped) and kept, unless ``strict``. Otherwise it is scored
    and kept when at least as good (better, if ``strict``), or, at
    ``temperature`` > 0, worse by ``d`` fitness with probability
    ``exp(-d / temperature)``. Returns whether the candidate was kept.
    """
    st = wk.state[0]
    flips = wk.offs[0]
    n = draw_mutation(prob, wk, mut, flips)
    if not touches_cone(prob, wk, flips, n):
        st.skipped += 1
        if strict:
            return False
        toggle_unevaluated(prob, wk, flips, n)
        st.accepted += 1
        return True
    parent = st.cur
    st.evals += 1
    s = apply(prob, wk, flips, n)
    keep = s < parent if strict else s <= parent
    if not keep and temperature > 0.0:
        keep = uniform(wk.rng) < math.exp(-(s - parent) / prob.norm / temperature)
    if keep:
        st.cur = s
        st.accepted += 1
    else:
        undo(prob, wk, flips, n)
    return keep


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


# ---------------------------------------------------------------------------
# chunks
# ---------------------------------------------------------------------------
# A chunk runs whole steps until a limit is reached, checked before each step:
# soft_evals and gens (record points, chunk size and the step budget),
# gate_evals and the best score reaching target. hard_evals (the evaluation
# budget) is checked before every evaluation, so a last step may be cut short.
# Chunk boundaries never change the trajectory: all state lives in wk.
@njit(cache=True, inline="always")
def stop(st, lim):
    return (st.evals >= lim.hard_evals or st.evals >= lim.soft_evals or st.gens >= lim.gens
            or st.gate_evals >= lim.gate_evals or st.best <= lim.target)


@njit(cache=True)
def start(prob, wk):
    """Score the starting machine (the first evaluation); it is the best so far."""
    st = wk.state[0]
    st.cur = evaluate(prob, wk)
    st.evals += 1
    st.gate_evals += gates_per_evaluation(prob) * prob.S
    st.best = st.cur
    copy(wk.best_bits, wk.bits)
    copy(wk.best_errs, wk.errs)
