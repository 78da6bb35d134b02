"""Private Numba kernels of the search trainers.

Everything works on the *output cone* of a machine: the gates with a wired path
to an output, renumbered in their original order (so a feed-forward cone stays
topologically sorted). Node ids inside the cone: inputs ``0 .. n_in-1``, cone
gate ``c`` is node ``n_in + c``. Gates outside the cone can never change an
output, so the kernels neither store nor compute them; their modifier bits are
still part of the genome (``bits``) and are flipped like any other.

Two named tuples carry the data (see ``core.py`` for how they are built):

* ``prob`` (read-only): cone wiring, readers, outputs, packed targets, the
  link map from genome index ``m`` to cone gate and port;
* ``wk`` (mutable state and scratch): genome bits, link masks, node values,
  per-output error counts, the random generator state and the counters.

A candidate's *score* is what the search minimises: the weighted count of
wrong output bits (Boolean tasks) or of misclassified samples. ``core.py``
turns error counts into the exact fitness that ``Task.score`` reports.

Random numbers come from xoshiro256** with its state in ``wk.rng`` so that a
checkpoint can save and restore it.
"""
import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)

# wk.ctr slots
EVALS, GENS, SKIPPED, GATE_EVALS, ACCEPTED, N_CHANGED, N_DIRTY, N_CTR = 0, 1, 2, 3, 4, 5, 6, 8
# wk.fs slots: current score, best score, score before the last candidate
CUR, BEST, SAVED, N_FS = 0, 1, 2, 4


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


@njit(cache=True)
def _next(s):
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


@njit(cache=True)
def _uniform(s):
    """A float in [0, 1)."""
    return np.float64(_next(s) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def _below(s, n):
    """An int in [0, n) for 0 < n < 2**32 (multiply-shift; bias below n / 2**32)."""
    return np.int64(((_next(s) >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


# ---------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------
@njit(cache=True)
def _output_error(prob, wk, j):
    row = wk.values[prob.out_nodes[j]]
    tgt = prob.target[j]
    e = np.uint64(0)
    for k in range(row.shape[0]):
        e += _popcount((row[k] ^ tgt[k]) & prob.tail[k])
    return np.int64(e)


@njit(cache=True)
def _class_wrong(prob, wk):
    """Misclassified samples: class score = ones in its output group, ties to the lowest class."""
    K = prob.n_classes
    group = prob.out_nodes.shape[0] // K
    wrong = 0
    for s in range(prob.S):
        w = s >> 6
        b = np.uint64(s & 63)
        best = -1
        best_c = 0
        for c in range(K):
            cnt = 0
            for j in range(c * group, (c + 1) * group):
                cnt += np.int64((wk.values[prob.out_nodes[j], w] >> b) & np.uint64(1))
            if cnt > best:
                best = cnt
                best_c = c
        if best_c != prob.labels[s]:
            wrong += 1
    return wrong


@njit(cache=True)
def _score_from_errs(prob, errs):
    if prob.n_classes > 0:
        return np.float64(errs[0])
    total = 0.0
    for j in range(errs.shape[0]):
        total += prob.weights[j] * errs[j]
    return total


@njit(cache=True)
def _score_all(prob, wk):
    """Recount every output's errors into wk.errs; return the score."""
    if prob.n_classes > 0:
        wk.errs[0] = _class_wrong(prob, wk)
    else:
        for j in range(prob.out_nodes.shape[0]):
            wk.errs[j] = _output_error(prob, wk, j)
    return _score_from_errs(prob, wk.errs)


# ---------------------------------------------------------------------------
# full evaluation of the cone
# ---------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _gate_word(a, xa, oa, b, xb, ob):
    return ~(((a ^ xa) | oa) & ((b ^ xb) | ob))


@njit(cache=True)
def _combinational(prob, wk):
    n_in = prob.n_in
    W = wk.values.shape[1]
    for c in range(prob.src.shape[0]):
        ra = wk.values[prob.src[c, 0]]
        rb = wk.values[prob.src[c, 1]]
        xa, oa, xb, ob = wk.xm[c, 0], wk.om[c, 0], wk.xm[c, 1], wk.om[c, 1]
        rr = wk.values[n_in + c]
        for k in range(W):
            rr[k] = _gate_word(ra[k], xa, oa, rb[k], xb, ob)


@njit(cache=True)
def _clocked(prob, wk):
    """Turing's clocked dynamics on the cone; wk.values ends at time ``steps``.

    Inputs hold frame t at time t (zero from T on); gate states start at 0;
    turing-mode modified links are one-step registers starting at 1.
    """
    n_in = prob.n_in
    C = prob.src.shape[0]
    T = prob.frames.shape[0]
    W = wk.values.shape[1]
    cur = wk.values
    for c in range(C):
        for k in range(W):
            cur[n_in + c, k] = np.uint64(0)
            wk.lreg[c, 0, k] = _ONES
            wk.lreg[c, 1, k] = _ONES
    for t in range(prob.steps + 1):
        for i in range(n_in):
            for k in range(W):
                cur[i, k] = prob.frames[t, i, k] if t < T else np.uint64(0)
        if t == prob.steps:
            break
        for c in range(C):
            ra = cur[prob.src[c, 0]]
            rb = cur[prob.src[c, 1]]
            oa, ob = wk.om[c, 0], wk.om[c, 1]
            ga, gb = prob.reg[c, 0], prob.reg[c, 1]
            la, lb = wk.lreg[c, 0], wk.lreg[c, 1]
            rn = wk.nxt[c]
            for k in range(W):
                va = la[k] if ga else (ra[k] | oa)
                vb = lb[k] if gb else (rb[k] | ob)
                rn[k] = ~(va & vb)
                if ga:
                    la[k] = ~ra[k] | oa
                if gb:
                    lb[k] = ~rb[k] | ob
        for c in range(C):
            for k in range(W):
                cur[n_in + c, k] = wk.nxt[c, k]


@njit(cache=True)
def _full_work(prob):
    """Gate evaluations (per sample) of one full evaluation."""
    C = prob.src.shape[0]
    return C * prob.steps if prob.clocked else C


@njit(cache=True)
def full_evaluate(prob, wk):
    """Evaluate the current bits from scratch; set wk.fs[CUR]; return gates computed per sample."""
    if prob.clocked:
        _clocked(prob, wk)
    else:
        _combinational(prob, wk)
    wk.fs[CUR] = _score_all(prob, wk)
    return _full_work(prob)


@njit(cache=True)
def masks_from_bits(prob, wk, bits):
    """Set the masks of every cone link from a genome ``bits`` (and copy it to wk.bits)."""
    for m in range(bits.shape[0]):
        wk.bits[m] = bits[m]
    for i in range(prob.cone_links.shape[0]):
        m = prob.cone_links[i]
        c = prob.link_cone[m]
        p = prob.link_port[m]
        on = bits[m] != 0
        wk.om[c, p] = np.uint64(0) if on else _ONES
        wk.xm[c, p] = _ONES if (on and prob.turing) else np.uint64(0)


# ---------------------------------------------------------------------------
# candidates: apply a few flips, score, undo
# ---------------------------------------------------------------------------
@njit(cache=True)
def touches_cone(prob, flips, n):
    for f in range(n):
        if prob.link_cone[flips[f]] >= 0:
            return True
    return False


@njit(cache=True)
def _toggle(prob, wk, m):
    """Flip genome bit m and its masks; return its cone gate (or -1)."""
    wk.bits[m] ^= np.uint8(1)
    c = prob.link_cone[m]
    if c >= 0:
        p = prob.link_port[m]
        wk.om[c, p] ^= _ONES
        if prob.turing:
            wk.xm[c, p] ^= _ONES
    return c


@njit(cache=True)
def toggle_only(prob, wk, flips, n):
    """Flip bits without evaluating (flips outside the cone: the outputs cannot change)."""
    for f in range(n):
        _toggle(prob, wk, flips[f])


@njit(cache=True, inline="always")
def _push(heap, size, item):
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if heap[parent] <= item:
            break
        heap[i] = heap[parent]
        i = parent
    heap[i] = item
    return size + 1


@njit(cache=True, inline="always")
def _pop(heap, size):
    top = heap[0]
    size -= 1
    last = heap[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and heap[child + 1] < heap[child]:
            child += 1
        if heap[child] >= last:
            break
        heap[i] = heap[child]
        i = child
    if size > 0:
        heap[i] = last
    return top, size


@njit(cache=True)
def _delta(prob, wk, flips, n):
    """Apply flips and recompute downstream cone gates in order; return gates recomputed.

    Propagation stops at gates whose real sample bits do not change. Changed
    gates and their old rows, and the outputs touched with their old error
    counts, are kept in wk for :func:`undo`.
    """
    n_in = prob.n_in
    W = wk.values.shape[1]
    heap, queued = wk.heap, wk.queued
    size = 0
    for f in range(n):
        c = _toggle(prob, wk, flips[f])
        if c >= 0 and not queued[c]:
            queued[c] = True
            size = _push(heap, size, c)
    recomputed = 0
    changed = 0
    dirty = 0
    while size > 0:
        c, size = _pop(heap, size)
        queued[c] = False
        recomputed += 1
        ra = wk.values[prob.src[c, 0]]
        rb = wk.values[prob.src[c, 1]]
        xa, oa, xb, ob = wk.xm[c, 0], wk.om[c, 0], wk.xm[c, 1], wk.om[c, 1]
        node = n_in + c
        rr = wk.values[node]
        diff = np.uint64(0)
        for k in range(W):
            diff |= (rr[k] ^ _gate_word(ra[k], xa, oa, rb[k], xb, ob)) & prob.tail[k]
        if diff == 0:
            continue
        wk.undo_gates[changed] = c
        for k in range(W):
            wk.undo_rows[changed, k] = rr[k]
            rr[k] = _gate_word(ra[k], xa, oa, rb[k], xb, ob)
        changed += 1
        for e in range(prob.out_ptr[node], prob.out_ptr[node + 1]):
            wk.dirty[dirty] = prob.out_idx[e]
            dirty += 1
        for e in range(prob.rd_ptr[node], prob.rd_ptr[node + 1]):
            h = prob.rd_idx[e]
            if not queued[h]:
                queued[h] = True
                size = _push(heap, size, h)
    wk.ctr[N_CHANGED] = changed
    wk.ctr[N_DIRTY] = dirty
    return recomputed


@njit(cache=True)
def apply(prob, wk, flips, n):
    """Apply a candidate's flips and score it (wk.fs[CUR]); return gates computed per sample."""
    wk.fs[SAVED] = wk.fs[CUR]
    if prob.clocked:
        for j in range(wk.errs.shape[0]):
            wk.saved_errs[j] = wk.errs[j]
        for f in range(n):
            _toggle(prob, wk, flips[f])
        return full_evaluate(prob, wk)
    work = _delta(prob, wk, flips, n)
    dirty = wk.ctr[N_DIRTY]
    if dirty == 0:
        return work
    if prob.n_classes > 0:
        wk.saved_errs[0] = wk.errs[0]
        wk.errs[0] = _class_wrong(prob, wk)
    else:
        for d in range(dirty):
            j = wk.dirty[d]
            wk.saved_errs[d] = wk.errs[j]
        for d in range(dirty):
            j = wk.dirty[d]
            wk.errs[j] = _output_error(prob, wk, j)
    wk.fs[CUR] = _score_from_errs(prob, wk.errs)
    return work


@njit(cache=True)
def undo(prob, wk, flips, n):
    """Undo the last :func:`apply`."""
    for f in range(n - 1, -1, -1):
        _toggle(prob, wk, flips[f])
    wk.fs[CUR] = wk.fs[SAVED]
    if prob.clocked:
        for j in range(wk.errs.shape[0]):
            wk.errs[j] = wk.saved_errs[j]
        return
    n_in = prob.n_in
    W = wk.values.shape[1]
    for i in range(wk.ctr[N_CHANGED] - 1, -1, -1):
        row = wk.values[n_in + wk.undo_gates[i]]
        for k in range(W):
            row[k] = wk.undo_rows[i, k]
    dirty = wk.ctr[N_DIRTY]
    if dirty == 0:
        return
    if prob.n_classes > 0:
        wk.errs[0] = wk.saved_errs[0]
    else:
        for d in range(dirty - 1, -1, -1):
            wk.errs[wk.dirty[d]] = wk.saved_errs[d]


# ---------------------------------------------------------------------------
# mutation
# ---------------------------------------------------------------------------
MUT_FLIPS, MUT_RATE, MUT_ACTIVE = 0, 1, 2


@njit(cache=True)
def draw_mutation(prob, rng, mode, k, rate, out):
    """Draw the links of one mutation into ``out``; return how many.

    MUT_FLIPS: ``k`` distinct links. MUT_RATE: each link with probability
    ``rate``, redrawn until at least one. MUT_ACTIVE: uniform links until one
    lies in the output cone (all of them are flipped).
    """
    M = prob.link_cone.shape[0]
    if mode == MUT_FLIPS:
        n = 0
        while n < k:
            m = _below(rng, M)
            fresh = True
            for i in range(n):
                if out[i] == m:
                    fresh = False
                    break
            if fresh:
                out[n] = m
                n += 1
        return n
    if mode == MUT_RATE:
        if rate >= 1.0:
            for m in range(M):
                out[m] = m
            return M
        log_q = math.log1p(-rate)
        while True:
            n = 0
            m = -1
            while True:
                u = 1.0 - _uniform(rng)  # in (0, 1]
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
    while True:
        if n == limit - 1:
            # an (absurdly) long run of inactive draws: finish with a cone link
            out[n] = prob.cone_links[_below(rng, prob.cone_links.shape[0])]
            return n + 1
        m = _below(rng, M)
        out[n] = m
        n += 1
        if prob.link_cone[m] >= 0:
            return n


@njit(cache=True)
def random_bits(rng, bits):
    """Fresh uniformly random genome."""
    M = bits.shape[0]
    for w in range(0, M, 64):
        r = _next(rng)
        for i in range(min(64, M - w)):
            bits[w + i] = np.uint8((r >> np.uint64(i)) & np.uint64(1))


# ---------------------------------------------------------------------------
# the trainers' inner loops, one chunk at a time
# ---------------------------------------------------------------------------
# A chunk runs whole generations until one of the limits is reached, checked
# before each generation: soft_evals and gen_limit (record points, chunk size
# and the step budget), ge_limit (the gate-evaluation budget) and the best
# score reaching target_score. hard_evals (the evaluation budget) is checked
# before every evaluation, so a last generation may be cut short. Chunk
# boundaries never change the trajectory: all state lives in wk.


@njit(cache=True)
def _stop(wk, hard_evals, soft_evals, gen_limit, ge_limit, target_score):
    c = wk.ctr
    return (c[EVALS] >= hard_evals or c[EVALS] >= soft_evals or c[GENS] >= gen_limit
            or c[GATE_EVALS] >= ge_limit or wk.fs[BEST] <= target_score)


@njit(cache=True)
def es_chunk(prob, wk, lam, mode, k, rate, hard_evals, soft_evals, gen_limit, ge_limit,
             target_score):
    """(1 + lam) evolution strategy with neutral drift.

    Each offspring is the parent plus one mutation, scored by delta evaluation
    and undone. The first best offspring replaces the parent when it is at
    least as good. Offspring that flip only links outside the cone are not
    evaluated: their score is the parent's (counted in ctr[SKIPPED]).
    """
    S = prob.S
    offs, off_n = wk.offs, wk.off_n
    while not _stop(wk, hard_evals, soft_evals, gen_limit, ge_limit, target_score):
        parent = wk.fs[CUR]
        best_i = -1
        best_s = np.inf
        for i in range(lam):
            if wk.ctr[EVALS] >= hard_evals:
                break
            flips = offs[i]
            n = draw_mutation(prob, wk.rng, mode, k, rate, flips)
            off_n[i] = n
            if not touches_cone(prob, flips, n):
                wk.ctr[SKIPPED] += 1
                s = parent
                if lam == 1:
                    toggle_only(prob, wk, flips, n)
                    wk.ctr[ACCEPTED] += 1
                    continue
            else:
                wk.ctr[GATE_EVALS] += apply(prob, wk, flips, n) * S
                wk.ctr[EVALS] += 1
                s = wk.fs[CUR]
                if lam == 1:
                    if s <= parent:
                        wk.ctr[ACCEPTED] += 1
                    else:
                        undo(prob, wk, flips, n)
                    continue
                undo(prob, wk, flips, n)
            if s < best_s:
                best_s = s
                best_i = i
        if lam > 1 and best_i >= 0 and best_s <= parent:
            flips = offs[best_i]
            n = off_n[best_i]
            if touches_cone(prob, flips, n):
                wk.ctr[GATE_EVALS] += apply(prob, wk, flips, n) * S
            else:
                toggle_only(prob, wk, flips, n)
            wk.ctr[ACCEPTED] += 1
        wk.ctr[GENS] += 1
        wk.fs[BEST] = wk.fs[CUR]


@njit(cache=True)
def _keep_best(wk):
    if wk.fs[CUR] < wk.fs[BEST]:
        wk.fs[BEST] = wk.fs[CUR]
        wk.best_bits[:] = wk.bits
        wk.best_errs[:] = wk.errs


@njit(cache=True)
def temperature(schedule, t_start, t_end, length, step, cycle):
    """Temperature at ``step``: 0 exponential, 1 linear, 2 constant (t_start)."""
    if schedule == 2:
        return t_start
    x = step / length
    x = x - math.floor(x) if cycle else min(x, 1.0)
    if schedule == 0:
        return t_start * (t_end / t_start) ** x
    return t_start + (t_end - t_start) * x


@njit(cache=True)
def anneal_chunk(prob, wk, mode, k, rate, schedule, t_start, t_end, length, cycle,
                 hard_evals, soft_evals, gen_limit, ge_limit, target_score):
    """Simulated annealing: Metropolis acceptance of one mutation per step.

    A worse candidate is accepted with probability exp(-loss / T), loss in
    fitness units. The best machine seen is kept in wk.best_bits.
    """
    S = prob.S
    flips = wk.offs[0]
    while not _stop(wk, hard_evals, soft_evals, gen_limit, ge_limit, target_score):
        n = draw_mutation(prob, wk.rng, mode, k, rate, flips)
        if not touches_cone(prob, flips, n):
            wk.ctr[SKIPPED] += 1
            toggle_only(prob, wk, flips, n)
            wk.ctr[ACCEPTED] += 1
        else:
            parent = wk.fs[CUR]
            wk.ctr[GATE_EVALS] += apply(prob, wk, flips, n) * S
            wk.ctr[EVALS] += 1
            loss = (wk.fs[CUR] - parent) / prob.norm
            accept = loss <= 0.0
            if not accept:
                t = temperature(schedule, t_start, t_end, length, wk.ctr[GENS], cycle)
                accept = t > 0.0 and _uniform(wk.rng) < math.exp(-loss / t)
            if accept:
                wk.ctr[ACCEPTED] += 1
                _keep_best(wk)
            else:
                undo(prob, wk, flips, n)
        wk.ctr[GENS] += 1


@njit(cache=True)
def random_chunk(prob, wk, hard_evals, soft_evals, gen_limit, ge_limit, target_score):
    """Random search: a fresh uniformly random genome per evaluation; keep the best."""
    S = prob.S
    while not _stop(wk, hard_evals, soft_evals, gen_limit, ge_limit, target_score):
        random_bits(wk.rng, wk.offs_bits)
        masks_from_bits(prob, wk, wk.offs_bits)
        wk.ctr[GATE_EVALS] += full_evaluate(prob, wk) * S
        wk.ctr[EVALS] += 1
        _keep_best(wk)
        wk.ctr[GENS] += 1


@njit(cache=True)
def _tournament(rng, scores, size):
    P = scores.shape[0]
    best = _below(rng, P)
    for _ in range(size - 1):
        j = _below(rng, P)
        if scores[j] < scores[best]:
            best = j
    return best


@njit(cache=True)
def _evaluate_member(prob, wk, pop, i):
    """Full evaluation of pop.nbits[i] into pop.nscores/nerrs; return gates per sample."""
    masks_from_bits(prob, wk, pop.nbits[i])
    work = full_evaluate(prob, wk)
    pop.nscores[i] = wk.fs[CUR]
    pop.nerrs[i, :] = wk.errs
    return work


@njit(cache=True)
def ga_init(prob, wk, pop, fresh):
    """Evaluate a population and make it current.

    fresh: a first population, member 0 wk.bits and the others random;
    otherwise the current population again (after the minibatch changed).
    """
    P = pop.bits.shape[0]
    S = prob.S
    if fresh:
        pop.nbits[0, :] = wk.bits
        for i in range(1, P):
            random_bits(wk.rng, pop.nbits[i])
    else:
        pop.nbits[:, :] = pop.bits
        wk.fs[BEST] = np.inf
    for i in range(P):
        wk.ctr[GATE_EVALS] += _evaluate_member(prob, wk, pop, i) * S
        wk.ctr[EVALS] += 1
    _ga_swap(wk, pop)


@njit(cache=True)
def _ga_swap(wk, pop):
    """The new population becomes the current one; track the best member."""
    pop.bits[:, :] = pop.nbits
    pop.scores[:] = pop.nscores
    pop.errs[:, :] = pop.nerrs
    b = np.argmin(pop.scores)
    if pop.scores[b] < wk.fs[BEST]:
        wk.fs[BEST] = pop.scores[b]
        wk.best_bits[:] = pop.bits[b]
        wk.best_errs[:] = pop.errs[b]


@njit(cache=True)
def ga_chunk(prob, wk, pop, tournament, crossover, p_cross, mode, k, rate, elitism,
             hard_evals, soft_evals, gen_limit, ge_limit, target_score):
    """Genetic algorithm: elitism, tournament selection, crossover, mutation.

    crossover 0 uniform, 1 one-point (on the genome in link order). A child
    whose cone bits equal its first parent's is not evaluated (its score is
    known; counted in ctr[SKIPPED]). When the evaluation budget runs out in
    the middle of a generation, the remaining places keep old members in rank
    order.
    """
    P, M = pop.bits.shape
    S = prob.S
    order = pop.order
    flips = wk.offs[0]
    while not _stop(wk, hard_evals, soft_evals, gen_limit, ge_limit, target_score):
        order[:] = np.argsort(pop.scores, kind="mergesort")
        for i in range(elitism):
            pop.nbits[i, :] = pop.bits[order[i]]
            pop.nscores[i] = pop.scores[order[i]]
            pop.nerrs[i, :] = pop.errs[order[i]]
        for i in range(elitism, P):
            if wk.ctr[EVALS] >= hard_evals:
                pop.nbits[i, :] = pop.bits[order[i]]
                pop.nscores[i] = pop.scores[order[i]]
                pop.nerrs[i, :] = pop.errs[order[i]]
                continue
            a = _tournament(wk.rng, pop.scores, tournament)
            child = pop.nbits[i]
            child[:] = pop.bits[a]
            if _uniform(wk.rng) < p_cross:
                b = _tournament(wk.rng, pop.scores, tournament)
                if crossover == 0:
                    for w in range(0, M, 64):
                        r = _next(wk.rng)
                        for j in range(min(64, M - w)):
                            if (r >> np.uint64(j)) & np.uint64(1):
                                child[w + j] = pop.bits[b, w + j]
                elif M > 1:
                    cut = 1 + _below(wk.rng, M - 1)
                    child[cut:] = pop.bits[b, cut:]
            n = draw_mutation(prob, wk.rng, mode, k, rate, flips) if mode != MUT_RATE or rate > 0.0 else 0
            for f in range(n):
                child[flips[f]] ^= np.uint8(1)
            same = True
            for j in range(prob.cone_links.shape[0]):
                m = prob.cone_links[j]
                if child[m] != pop.bits[a, m]:
                    same = False
                    break
            if same:
                wk.ctr[SKIPPED] += 1
                pop.nscores[i] = pop.scores[a]
                pop.nerrs[i, :] = pop.errs[a]
            else:
                wk.ctr[GATE_EVALS] += _evaluate_member(prob, wk, pop, i) * S
                wk.ctr[EVALS] += 1
        _ga_swap(wk, pop)
        wk.ctr[GENS] += 1
