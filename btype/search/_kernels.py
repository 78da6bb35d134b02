"""Private Numba kernels shared by the search methods; each method's own loop
lives in its module (``es.py``, ``anneal.py``, ``ga.py``, ``random_search.py``).

Everything works on the *output cone* of a machine: the gates with a wired path
to an output, renumbered in their original order (so a feed-forward cone stays
topologically sorted). Node ids inside the cone: inputs ``0 .. n_in-1``, cone
gate ``c`` is node ``n_in + c``. Gates outside the cone can never change an
output, so the kernels neither store nor compute them; their modifier bits are
still part of the genome (``bits``) and are flipped like any other. The gate,
the clocked step and delta propagation are ``btype.kernels``'; scoring is
``_scoring.py``'s.

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

Random numbers (xoshiro256**, its state in ``wk.rng`` so that a checkpoint can save
and restore it) and mutations are ``_random.py``'s, imported here.
"""
import math

import numpy as np

from ..jit import njit
from ..kernels import clock_block, enqueue, eval_gates, propagate, restore_rows, toggle_link
from ._random import (DIST_FIXED, DIST_GEOMETRIC, MUT_ACTIVE, MUT_CONE, MUT_FLIPS, MUT_RATE,  # noqa: F401
                      MUTATION, below, draw_mutation, next_u64, random_bits, uniform)
from ._scoring import _copy_planes, _rescore, _score_all, copy, pack_rows  # noqa: F401

_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)

#: The search state every method keeps: counters and the current and best scores.
STATE = np.dtype([("evals", np.int64), ("gens", np.int64), ("skipped", np.int64),
                  ("gate_evals", np.int64), ("accepted", np.int64),
                  ("restarts", np.int64), ("since", np.int64),
                  ("cur", np.float64), ("best", np.float64)])
#: Where a chunk stops (see :func:`stop`).
LIMITS = np.dtype([("hard_evals", np.int64), ("soft_evals", np.int64), ("gens", np.int64),
                   ("gate_evals", np.int64), ("target", np.float64)])


def new_state():
    state = np.zeros(1, STATE)
    state["cur"] = state["best"] = np.inf
    return state


def limits(hard_evals, soft_evals, gens, gate_evals, target):
    lim = np.zeros(1, LIMITS)
    lim[0] = (hard_evals, soft_evals, gens, gate_evals, target)
    return lim


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
        clock_block(prob.frames, False, prob.init, 0, wk.values.shape[1], prob.steps, prob.src,
                     wk.om, prob.reg, wk.values, wk.nxt, wk.lreg, prob.no_history)
    else:
        eval_gates(wk.values, prob.src, prob.dst, wk.xm, wk.om, wk.values.shape[1])
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
            toggle_link(wk.xm, wk.om, c, p, prob.turing)
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
        toggle_link(wk.xm, wk.om, c, p, prob.turing)
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

    Combinational: delta evaluation (``btype.kernels.propagate``), old rows
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
            size = enqueue(wk.heap, size, wk.queued, c)
    for i in range(wk.res[2]):
        size = enqueue(wk.heap, size, wk.queued, wk.fresh[i])
    work = propagate(prob, wk, size, True)
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
    restore_rows(wk.values, prob.n_in, wk.undo_gates, wk.undo_rows, wk.res[0])
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
