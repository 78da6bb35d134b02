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

from ..kernels import _clock_block, _enqueue, _eval_gates, _propagate, _toggle_link, _undo_rows

_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)

# wk.ctr slots
EVALS, GENS, SKIPPED, GATE_EVALS, ACCEPTED, N_CTR = 0, 1, 2, 3, 4, 8
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
# Helpers take plain arrays. The named tuples are unpacked once, in the entry
# points at the bottom: handing them to helpers costs reference counting on
# every member at every call (measured: the ES loop ran 4x slower).
@njit(cache=True, inline="always")
def _copy(dst, src):
    """dst[:] = src without a temporary (usable where Numba's runtime is off)."""
    for i in range(src.shape[0]):
        dst[i] = src[i]


@njit(cache=True, inline="always")
def _row_error(values, node, target, j, tail):
    e = np.uint64(0)
    for k in range(tail.shape[0]):
        e += _popcount((values[node, k] ^ target[j, k]) & tail[k])
    return np.int64(e)


@njit(cache=True, inline="always")
def _weighted(weights, errs):
    total = 0.0
    for j in range(errs.shape[0]):
        total += weights[j] * errs[j]
    return total


@njit(cache=True)
def _class_wrong(values, out_nodes, labels, n_classes):
    """Misclassified samples: class score = ones in its output group, ties to the lowest class."""
    group = out_nodes.shape[0] // n_classes
    wrong = 0
    for s in range(labels.shape[0]):
        w = s >> 6
        b = np.uint64(s & 63)
        best = -1
        best_c = 0
        for c in range(n_classes):
            cnt = 0
            for j in range(c * group, (c + 1) * group):
                cnt += np.int64((values[out_nodes[j], w] >> b) & np.uint64(1))
            if cnt > best:
                best = cnt
                best_c = c
        if best_c != labels[s]:
            wrong += 1
    return wrong


@njit(cache=True)
def _score_all(values, out_nodes, target, tail, weights, labels, n_classes, errs):
    """Recount every output's errors into errs; return the score."""
    if n_classes > 0:
        errs[0] = _class_wrong(values, out_nodes, labels, n_classes)
        return np.float64(errs[0])
    for j in range(out_nodes.shape[0]):
        errs[j] = _row_error(values, out_nodes[j], target, j, tail)
    return _weighted(weights, errs)


# ---------------------------------------------------------------------------
# full evaluation of the cone
# ---------------------------------------------------------------------------
@njit(cache=True)
def _evaluate(values, src, dst, xm, om, clocked, reg, frames, steps, init, nxt, lreg, no_history,
              out_nodes, target, tail, weights, labels, n_classes, errs):
    """Evaluate the cone from scratch; return the score (errors into errs).

    Clocked: Turing's dynamics from gate states ``init`` (zeros), inputs frame t
    at time t (zero from T on); ``values`` ends at time ``steps``.
    """
    if clocked:
        _clock_block(frames, False, init, 0, values.shape[1], steps, src, om, reg, values, nxt,
                     lreg, no_history)
    else:
        _eval_gates(values, src, dst, xm, om, values.shape[1])
    return _score_all(values, out_nodes, target, tail, weights, labels, n_classes, errs)


@njit(cache=True)
def _load_masks(genome, bits, xm, om, cone_links, link_cone, link_port, turing):
    """Copy a genome into ``bits`` and set the masks of every cone link from it."""
    _copy(bits, genome)
    for i in range(cone_links.shape[0]):
        m = cone_links[i]
        c = link_cone[m]
        p = link_port[m]
        # the parent network's masks hold this link passing; interrupt it if the bit is off
        om[c, p] = np.uint64(0)
        xm[c, p] = _ONES if turing else np.uint64(0)
        if genome[m] == 0:
            _toggle_link(xm, om, c, p, turing)


# ---------------------------------------------------------------------------
# candidates: a few flips, delta evaluation, undo
# ---------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _touches_cone(link_cone, flips, n):
    for f in range(n):
        if link_cone[flips[f]] >= 0:
            return True
    return False


@njit(cache=True, inline="always")
def _toggle(bits, xm, om, link_cone, link_port, turing, m):
    """Flip genome bit m and its masks; return its cone gate (or -1)."""
    bits[m] ^= np.uint8(1)
    c = link_cone[m]
    if c >= 0:
        _toggle_link(xm, om, c, link_port[m], turing)
    return c


@njit(cache=True, inline="always")
def _toggle_all(bits, xm, om, link_cone, link_port, turing, flips, n):
    for f in range(n):
        _toggle(bits, xm, om, link_cone, link_port, turing, flips[f])


@njit(cache=True, inline="always")
def _delta(values, xm, om, bits, tail, src, rd_ptr, rd_idx, link_cone, link_port, out_ptr, out_idx,
           dirty_list, heap, queued, undo_gates, undo_rows, n_in, turing, flips, n, res):
    """Apply flips and recompute the downstream cone gates (btype.kernels._propagate).

    Changed gates and their old rows go to undo_gates/undo_rows, the outputs
    they feed to dirty_list; res[0], res[1] = how many of each. Returns the
    gates recomputed.
    """
    size = 0
    for f in range(n):
        c = _toggle(bits, xm, om, link_cone, link_port, turing, flips[f])
        if c >= 0:
            size = _enqueue(heap, size, queued, c)
    return _propagate(values, n_in, src, xm, om, tail, rd_ptr, rd_idx, out_ptr, out_idx, heap, size,
                      queued, undo_gates, undo_rows, True, dirty_list, res)


@njit(cache=True, inline="always")
def _rescore(values, errs, saved, dirty_list, dirty, out_nodes, target, tail, weights, labels,
             n_classes):
    """Score after a delta: recount the outputs in dirty_list (old counts to saved)."""
    if n_classes > 0:
        saved[0] = errs[0]
        errs[0] = _class_wrong(values, out_nodes, labels, n_classes)
        return np.float64(errs[0])
    for d in range(dirty):
        j = dirty_list[d]
        saved[d] = errs[j]
        errs[j] = _row_error(values, out_nodes[j], target, j, tail)
    return _weighted(weights, errs)


@njit(cache=True, inline="always")
def _restore(values, undo_gates, undo_rows, changed, n_in, errs, saved, dirty_list, dirty, n_classes):
    """Undo a :func:`_delta` + :func:`_rescore` (the flips are toggled back separately)."""
    _undo_rows(values, n_in, undo_gates, undo_rows, changed)
    if dirty == 0:
        return
    if n_classes > 0:
        errs[0] = saved[0]
        return
    for d in range(dirty - 1, -1, -1):
        errs[dirty_list[d]] = saved[d]


# ---------------------------------------------------------------------------
# mutation
# ---------------------------------------------------------------------------
MUT_FLIPS, MUT_RATE, MUT_ACTIVE = 0, 1, 2


@njit(cache=True, inline="always")
def _draw_mutation(link_cone, cone_links, rng, mode, k, rate, out):
    """Draw the links of one mutation into ``out``; return how many.

    MUT_FLIPS: ``k`` distinct links. MUT_RATE: each link with probability
    ``rate``, redrawn until at least one. MUT_ACTIVE: uniform links until one
    lies in the output cone (all of them are flipped).
    """
    M = link_cone.shape[0]
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
            # an absurdly long run of inactive draws: finish with a cone link
            out[n] = cone_links[_below(rng, cone_links.shape[0])]
            return n + 1
        m = _below(rng, M)
        out[n] = m
        n += 1
        if link_cone[m] >= 0:
            return n


@njit(cache=True)
def _random_bits(rng, bits):
    """A fresh uniformly random genome."""
    M = bits.shape[0]
    for w in range(0, M, 64):
        r = _next(rng)
        for i in range(min(64, M - w)):
            bits[w + i] = np.uint8((r >> np.uint64(i)) & np.uint64(1))


@njit(cache=True)
def temperature(schedule, t_start, t_end, length, step, cycle):
    """Annealing temperature at ``step``: 0 exponential, 1 linear, 2 constant (t_start)."""
    if schedule == 2:
        return t_start
    x = step / length
    x = x - math.floor(x) if cycle else min(x, 1.0)
    if schedule == 0:
        return t_start * (t_end / t_start) ** x
    return t_start + (t_end - t_start) * x


# ---------------------------------------------------------------------------
# entry points (named tuples in; see problem.py)
# ---------------------------------------------------------------------------
# A chunk runs whole generations until one of the limits is reached, checked
# before each generation: soft_evals and gen_limit (record points, chunk size
# and the step budget), ge_limit (the gate-evaluation budget) and the best
# score reaching target_score. hard_evals (the evaluation budget) is checked
# before every evaluation, so a last generation may be cut short. Chunk
# boundaries never change the trajectory: all state lives in wk.
@njit(cache=True, inline="always")
def _stop(c, fs, hard_evals, soft_evals, gen_limit, ge_limit, target_score):
    return (c[EVALS] >= hard_evals or c[EVALS] >= soft_evals or c[GENS] >= gen_limit
            or c[GATE_EVALS] >= ge_limit or fs[BEST] <= target_score)


@njit(cache=True)
def full_evaluate(prob, wk):
    """Evaluate wk.bits from scratch: wk.values, wk.errs, wk.fs[CUR]; return gates per sample."""
    wk.fs[CUR] = _evaluate(wk.values, prob.src, prob.dst, wk.xm, wk.om, prob.clocked, prob.reg,
                           prob.frames, prob.steps, prob.init, wk.nxt, wk.lreg, prob.no_history,
                           prob.out_nodes, prob.target,
                           prob.tail, prob.weights, prob.labels, prob.n_classes, wk.errs)
    C = prob.src.shape[0]
    return C * prob.steps if prob.clocked else C


@njit(cache=True)
def masks_from_bits(prob, wk, genome):
    """Copy a genome to wk.bits and set the cone link masks from it."""
    _load_masks(genome, wk.bits, wk.xm, wk.om, prob.cone_links, prob.link_cone, prob.link_port,
                prob.turing)


@njit(cache=True, _nrt=False)
def local_chunk(prob, wk, lam, mode, k, rate, anneal, schedule, t_start, t_end, length, cycle,
                hard_evals, soft_evals, gen_limit, ge_limit, target_score):
    """(1 + lam) evolution strategy with neutral drift, or simulated annealing.

    ES (``anneal`` False): each offspring is the parent plus one mutation,
    scored by delta evaluation and undone; the first best offspring replaces
    the parent when at least as good (with lam = 1 it is simply kept).
    Annealing (lam = 1): a worse candidate is kept with probability
    exp(-loss / T), loss in fitness units; the best machine seen goes to
    wk.best_bits. Candidates that flip only links outside the cone are not
    evaluated (their score is the parent's; ctr[SKIPPED]). Clocked tasks
    evaluate every candidate in full instead of by delta.
    """
    # unpack once (see the note at the top of the scoring section)
    values, xm, om, bits, tail, src = wk.values, wk.xm, wk.om, wk.bits, prob.tail, prob.src
    rd_ptr, rd_idx, link_cone, link_port = prob.rd_ptr, prob.rd_idx, prob.link_cone, prob.link_port
    out_ptr, out_idx, dirty_list, heap, queued = prob.out_ptr, prob.out_idx, wk.dirty, wk.heap, wk.queued
    undo_gates, undo_rows, cone_links = wk.undo_gates, wk.undo_rows, prob.cone_links
    out_nodes, target, weights, labels = prob.out_nodes, prob.target, prob.weights, prob.labels
    reg, frames, nxt, lreg = prob.reg, prob.frames, wk.nxt, wk.lreg
    errs, saved, best_bits, best_errs = wk.errs, wk.saved_errs, wk.best_bits, wk.best_errs
    offs, off_n, ctr, fs, rng = wk.offs, wk.off_n, wk.ctr, wk.fs, wk.rng
    n_in, turing, clocked, steps, n_classes = prob.n_in, prob.turing, prob.clocked, prob.steps, prob.n_classes
    S, norm = prob.S, prob.norm
    if lam == 1 and not clocked:
        _one_plus_one(values, xm, om, bits, tail, src, rd_ptr, rd_idx, link_cone, link_port, out_ptr,
                      out_idx, dirty_list, heap, queued, undo_gates, undo_rows, cone_links, out_nodes,
                      target, weights, labels, errs, saved, best_bits, best_errs, offs[0], ctr, fs,
                      wk.res, rng, n_in, turing, n_classes, S, norm, mode, k, rate, anneal, schedule, t_start,
                      t_end, length, cycle, hard_evals, soft_evals, gen_limit, ge_limit, target_score)
        return
    full_work = src.shape[0] * steps
    res = wk.res
    while not _stop(ctr, fs, hard_evals, soft_evals, gen_limit, ge_limit, target_score):
        parent = fs[CUR]
        best_i = -1
        best_s = np.inf
        # offspring 0..lam-1; with lam > 1 a last pass (i == lam) re-applies the chosen one
        for i in range(lam + 1):
            if i == lam:
                if lam == 1 or best_i < 0 or best_s > parent:
                    break
                flips = offs[best_i]
                n = off_n[best_i]
            else:
                if ctr[EVALS] >= hard_evals:
                    break
                flips = offs[i]
                n = _draw_mutation(link_cone, cone_links, rng, mode, k, rate, flips)
                off_n[i] = n
            if not _touches_cone(link_cone, flips, n):
                if i < lam:
                    ctr[SKIPPED] += 1
                if lam == 1 or i == lam:
                    _toggle_all(bits, xm, om, link_cone, link_port, turing, flips, n)
                    ctr[ACCEPTED] += 1
                elif parent < best_s:
                    best_s = parent
                    best_i = i
                continue
            if clocked:
                _copy(saved, errs)
                _toggle_all(bits, xm, om, link_cone, link_port, turing, flips, n)
                s = _evaluate(values, src, prob.dst, xm, om, True, reg, frames, steps, prob.init, nxt,
                              lreg, prob.no_history,
                              out_nodes, target, tail, weights, labels, n_classes, errs)
                work = full_work
                changed = 0
                dirty = 1
            else:
                work = _delta(values, xm, om, bits, tail, src, rd_ptr, rd_idx, link_cone, link_port,
                              out_ptr, out_idx, dirty_list, heap, queued, undo_gates, undo_rows,
                              n_in, turing, flips, n, res)
                changed = res[0]
                dirty = res[1]
                s = parent
                if dirty > 0:
                    s = _rescore(values, errs, saved, dirty_list, dirty, out_nodes, target, tail,
                                 weights, labels, n_classes)
            ctr[GATE_EVALS] += work * S
            if i == lam:          # the chosen offspring, re-applied
                fs[CUR] = s
                ctr[ACCEPTED] += 1
                break
            ctr[EVALS] += 1
            if lam == 1:
                keep = s <= parent
                if not keep and anneal:
                    t = temperature(schedule, t_start, t_end, length, ctr[GENS], cycle)
                    keep = t > 0.0 and _uniform(rng) < math.exp(-(s - parent) / norm / t)
            else:
                keep = False
                if s < best_s:
                    best_s = s
                    best_i = i
            if keep:
                fs[CUR] = s
                ctr[ACCEPTED] += 1
                if anneal and s < fs[BEST]:
                    fs[BEST] = s
                    _copy(best_bits, bits)
                    _copy(best_errs, errs)
            else:
                _toggle_all(bits, xm, om, link_cone, link_port, turing, flips, n)
                if clocked:
                    _copy(errs, saved)
                else:
                    _restore(values, undo_gates, undo_rows, changed, n_in, errs, saved, dirty_list,
                             dirty, n_classes)
        ctr[GENS] += 1
        if not anneal:
            fs[BEST] = fs[CUR]


@njit(cache=True, _nrt=False)
def _one_plus_one(values, xm, om, bits, tail, src, rd_ptr, rd_idx, link_cone, link_port, out_ptr,
                  out_idx, dirty_list, heap, queued, undo_gates, undo_rows, cone_links, out_nodes,
                  target, weights, labels, errs, saved, best_bits, best_errs, flips, ctr, fs, res, rng,
                  n_in, turing, n_classes, S, norm, mode, k, rate, anneal, schedule, t_start, t_end,
                  length, cycle, hard_evals, soft_evals, gen_limit, ge_limit, target_score):
    """The lam = 1 combinational case of :func:`local_chunk`, kept tight: it is the hot loop."""
    while not _stop(ctr, fs, hard_evals, soft_evals, gen_limit, ge_limit, target_score):
        ctr[GENS] += 1
        n = _draw_mutation(link_cone, cone_links, rng, mode, k, rate, flips)
        if not _touches_cone(link_cone, flips, n):
            ctr[SKIPPED] += 1
            ctr[ACCEPTED] += 1
            _toggle_all(bits, xm, om, link_cone, link_port, turing, flips, n)
            continue
        work = _delta(values, xm, om, bits, tail, src, rd_ptr, rd_idx, link_cone, link_port,
                      out_ptr, out_idx, dirty_list, heap, queued, undo_gates, undo_rows, n_in,
                      turing, flips, n, res)
        ctr[EVALS] += 1
        ctr[GATE_EVALS] += work * S
        dirty = res[1]
        if dirty == 0:
            ctr[ACCEPTED] += 1
            continue
        parent = fs[CUR]
        s = _rescore(values, errs, saved, dirty_list, dirty, out_nodes, target, tail, weights,
                     labels, n_classes)
        keep = s <= parent
        if not keep and anneal:
            t = temperature(schedule, t_start, t_end, length, ctr[GENS] - 1, cycle)
            keep = t > 0.0 and _uniform(rng) < math.exp(-(s - parent) / norm / t)
        if keep:
            fs[CUR] = s
            ctr[ACCEPTED] += 1
            if not anneal:
                fs[BEST] = s
            elif s < fs[BEST]:
                fs[BEST] = s
                _copy(best_bits, bits)
                _copy(best_errs, errs)
            continue
        _toggle_all(bits, xm, om, link_cone, link_port, turing, flips, n)
        _restore(values, undo_gates, undo_rows, res[0], n_in, errs, saved, dirty_list, dirty,
                 n_classes)


@njit(cache=True, _nrt=False)
def random_chunk(prob, wk, hard_evals, soft_evals, gen_limit, ge_limit, target_score):
    """Random search: a fresh uniformly random genome per evaluation; keep the best."""
    values, xm, om, bits, src, genome = wk.values, wk.xm, wk.om, wk.bits, prob.src, wk.offs_bits
    cone_links, link_cone, link_port = prob.cone_links, prob.link_cone, prob.link_port
    out_nodes, target, tail, weights, labels = prob.out_nodes, prob.target, prob.tail, prob.weights, prob.labels
    reg, frames, nxt, lreg, errs = prob.reg, prob.frames, wk.nxt, wk.lreg, wk.errs
    ctr, fs, rng, best_bits, best_errs = wk.ctr, wk.fs, wk.rng, wk.best_bits, wk.best_errs
    C = src.shape[0]
    work = C * prob.steps if prob.clocked else C
    while not _stop(ctr, fs, hard_evals, soft_evals, gen_limit, ge_limit, target_score):
        _random_bits(rng, genome)
        _load_masks(genome, bits, xm, om, cone_links, link_cone, link_port, prob.turing)
        s = _evaluate(values, src, prob.dst, xm, om, prob.clocked, reg, frames, prob.steps,
                      prob.init, nxt, lreg, prob.no_history, out_nodes, target, tail, weights, labels, prob.n_classes, errs)
        fs[CUR] = s
        ctr[GATE_EVALS] += work * prob.S
        ctr[EVALS] += 1
        if s < fs[BEST]:
            fs[BEST] = s
            _copy(best_bits, bits)
            _copy(best_errs, errs)
        ctr[GENS] += 1


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
def _rank(scores, order):
    """order = indices of scores, best (lowest) first, ties in index order (insertion sort)."""
    for i in range(scores.shape[0]):
        j = i
        while j > 0 and scores[order[j - 1]] > scores[i]:
            order[j] = order[j - 1]
            j -= 1
        order[j] = i


@njit(cache=True)
def _ga_swap(pop, fs, best_bits, best_errs):
    """The new population becomes the current one; track the best member."""
    bits, nbits, scores, nscores, errs, nerrs, order = pop
    for i in range(bits.shape[0]):
        _copy(bits[i], nbits[i])
        _copy(errs[i], nerrs[i])
    _copy(scores, nscores)
    b = np.argmin(scores)
    if scores[b] < fs[BEST]:
        fs[BEST] = scores[b]
        _copy(best_bits, bits[b])
        _copy(best_errs, errs[b])


@njit(cache=True)
def ga_init(prob, wk, pop, fresh):
    """Evaluate a population and make it current.

    fresh: a first population, member 0 wk.bits and the others random;
    otherwise the current population again (after the minibatch changed).
    """
    bits, nbits, scores, nscores, errs, nerrs, order = pop
    P = bits.shape[0]
    if fresh:
        nbits[0, :] = wk.bits
        for i in range(1, P):
            _random_bits(wk.rng, nbits[i])
    else:
        for i in range(P):
            _copy(nbits[i], bits[i])
        wk.fs[BEST] = np.inf
    for i in range(P):
        masks_from_bits(prob, wk, nbits[i])
        work = full_evaluate(prob, wk)
        nscores[i] = wk.fs[CUR]
        _copy(nerrs[i], wk.errs)
        wk.ctr[GATE_EVALS] += work * prob.S
        wk.ctr[EVALS] += 1
    _ga_swap(pop, wk.fs, wk.best_bits, wk.best_errs)


@njit(cache=True, _nrt=False)
def ga_chunk(prob, wk, pop, tournament, crossover, p_cross, mode, k, rate, elitism,
             hard_evals, soft_evals, gen_limit, ge_limit, target_score):
    """Genetic algorithm: elitism, tournament selection, crossover, mutation.

    crossover 0 uniform, 1 one-point (on the genome in link order). Children
    are evaluated in full on the cone; a child whose cone bits equal its first
    parent's is not evaluated (its score is known; ctr[SKIPPED]). When the
    evaluation budget runs out in the middle of a generation, the remaining
    places keep old members in rank order.
    """
    bits, nbits, scores, nscores, errs, nerrs, order = pop
    values, xm, om, wbits, src = wk.values, wk.xm, wk.om, wk.bits, prob.src
    cone_links, link_cone, link_port = prob.cone_links, prob.link_cone, prob.link_port
    out_nodes, target, tail, weights, labels = prob.out_nodes, prob.target, prob.tail, prob.weights, prob.labels
    reg, frames, nxt, lreg, werrs = prob.reg, prob.frames, wk.nxt, wk.lreg, wk.errs
    ctr, fs, rng, flips = wk.ctr, wk.fs, wk.rng, wk.offs[0]
    P, M = bits.shape
    C = src.shape[0]
    work = C * prob.steps if prob.clocked else C
    while not _stop(ctr, fs, hard_evals, soft_evals, gen_limit, ge_limit, target_score):
        _rank(scores, order)
        for i in range(elitism):
            _copy(nbits[i], bits[order[i]])
            nscores[i] = scores[order[i]]
            _copy(nerrs[i], errs[order[i]])
        for i in range(elitism, P):
            if ctr[EVALS] >= hard_evals:
                # the budget ran out: the remaining places keep old members in rank order
                _copy(nbits[i], bits[order[i]])
                nscores[i] = scores[order[i]]
                _copy(nerrs[i], errs[order[i]])
                continue
            a = _tournament(rng, scores, tournament)
            child = nbits[i]
            _copy(child, bits[a])
            if _uniform(rng) < p_cross:
                b = _tournament(rng, scores, tournament)
                if crossover == 0:
                    for w in range(0, M, 64):
                        r = _next(rng)
                        for j in range(min(64, M - w)):
                            if (r >> np.uint64(j)) & np.uint64(1):
                                child[w + j] = bits[b, w + j]
                elif M > 1:
                    cut = 1 + _below(rng, M - 1)
                    for j in range(cut, M):
                        child[j] = bits[b, j]
            if mode != MUT_RATE or rate > 0.0:
                n = _draw_mutation(link_cone, cone_links, rng, mode, k, rate, flips)
                for f in range(n):
                    child[flips[f]] ^= np.uint8(1)
            same = True
            for j in range(cone_links.shape[0]):
                m = cone_links[j]
                if child[m] != bits[a, m]:
                    same = False
                    break
            if same:
                ctr[SKIPPED] += 1
                nscores[i] = scores[a]
                _copy(nerrs[i], errs[a])
                continue
            _load_masks(child, wbits, xm, om, cone_links, link_cone, link_port, prob.turing)
            nscores[i] = _evaluate(values, src, prob.dst, xm, om, prob.clocked, reg, frames,
                                   prob.steps, prob.init, nxt, lreg, prob.no_history, out_nodes, target, tail, weights, labels,
                                   prob.n_classes, werrs)
            _copy(nerrs[i], werrs)
            ctr[GATE_EVALS] += work * prob.S
            ctr[EVALS] += 1
        _ga_swap(pop, fs, wk.best_bits, wk.best_errs)
        ctr[GENS] += 1
