"""The simulator's Numba kernels. Arrays, scalars and named records of arrays in,
arrays out; no globals.

Callers (``btype.simulate``, ``btype.search``) validate everything first: kernels
trust their arguments (except :func:`delta_flip`, which checks its links before it
flips any, so that a refused flip changes nothing). Every link ``(g, p)`` is described by two uint64 masks:

* ``xm[g, p]``: all ones where the link inverts (turing mode, modified, passing);
* ``om[g, p]``: all ones where the link is interrupted (delivers constant 1).

So a link delivers ``(v ^ xm) | om`` and a gate computes
``~(((a ^ xa) | oa) & ((b ^ xb) | ob))`` word by word, 64 samples at a time.
In clocked turing mode a modified link is a register instead (``reg`` flag):
the gate reads ``L`` and the register loads ``~v | om``.

Delta propagation reads two named records, :data:`DeltaPlan` (the machine's
structure) and :data:`DeltaState` (what it updates), instead of a long list of
arrays; the search passes its own records, which carry the same field names.

Caching: through ``btype.jit.njit`` (``BTYPE_NO_CACHE=1`` compiles in memory only).
"""
from collections import namedtuple

import numpy as np
from numba import prange

from .jit import njit


# ---------------------------------------------------------------------------
# combinational evaluation, blocked over words
# ---------------------------------------------------------------------------
@njit(cache=True)
def slot_plan(n_in, src, rows_out):
    """Assign every node a buffer row ("slot") that is reused once the node is dead.

    A node is live from its computation to its last reader (outputs stay live
    to the end), so a block of words needs only as many rows as nodes are live
    at once: for a layered machine about two layers, not the whole machine.

    Returns (src_slot (G, 2), dst_slot (G,), out_slot (R,), n_slots).
    """
    G = src.shape[0]
    n_nodes = n_in + G
    last = np.full(n_nodes, -1, np.int64)
    for g in range(G):
        last[src[g, 0]] = g
        last[src[g, 1]] = g
    for j in range(rows_out.shape[0]):
        last[rows_out[j]] = G
    slot = np.full(n_nodes, -1, np.int64)
    free = np.empty(n_nodes, np.int64)
    n_free = 0
    for i in range(n_in):
        slot[i] = i
    n_slots = n_in
    src_slot = np.empty((G, 2), np.int64)
    dst_slot = np.empty(G, np.int64)
    for g in range(G):
        src_slot[g, 0] = slot[src[g, 0]]
        src_slot[g, 1] = slot[src[g, 1]]
        if n_free > 0:
            n_free -= 1
            s = free[n_free]
        else:
            s = n_slots
            n_slots += 1
        slot[n_in + g] = s
        dst_slot[g] = s
        # sources read for the last time free their rows (after g took its own,
        # so a gate never writes the row it reads)
        for p in range(2):
            a = src[g, p]
            if last[a] == g and (p == 0 or src[g, 1] != src[g, 0]):
                free[n_free] = slot[a]
                n_free += 1
        if last[n_in + g] == -1:
            free[n_free] = s
            n_free += 1
    out_slot = np.empty(rows_out.shape[0], np.int64)
    for j in range(rows_out.shape[0]):
        out_slot[j] = slot[rows_out[j]]
    return src_slot, dst_slot, out_slot, n_slots


@njit(cache=True)
def gate_levels(n_in, src):
    """(G,) level of every gate of a feed-forward wiring: ``1 + max`` of its sources'
    (inputs are level 0). The caller checks that every gate reads lower nodes."""
    G = src.shape[0]
    level = np.zeros(n_in + G, np.int64)
    for g in range(G):
        level[n_in + g] = 1 + max(level[src[g, 0]], level[src[g, 1]])
    return level[n_in:]


@njit(cache=True, inline="always")
def _gate_word(a, b, xa, oa, xb, ob):
    """One word of a gate: NAND of its two links, each inverted by ``x*`` (turing
    mode, passing) and forced to ones by ``o*`` (interrupted)."""
    return ~(((a ^ xa) | oa) & ((b ^ xb) | ob))


@njit(cache=True, inline="always")
def _gate_at(rows, src, xm, om, g, k):
    """Word ``k`` of gate ``g`` computed from the node rows ``rows``."""
    return _gate_word(rows[src[g, 0], k], rows[src[g, 1], k], xm[g, 0], om[g, 0], xm[g, 1], om[g, 1])


@njit(cache=True, inline="always")
def eval_gates(rows, src, dst, xm, om, bw):
    """Gates in order: ``rows[dst[g], :bw]`` = gate ``g`` of ``rows[src[g, 0]]``,
    ``rows[src[g, 1]]``. The one combinational pass of the simulator and the search."""
    for g in range(src.shape[0]):
        ra = rows[src[g, 0]]
        rb = rows[src[g, 1]]
        xa = xm[g, 0]
        oa = om[g, 0]
        xb = xm[g, 1]
        ob = om[g, 1]
        rr = rows[dst[g]]
        for k in range(bw):
            rr[k] = _gate_word(ra[k], rb[k], xa, oa, xb, ob)


@njit(cache=True, boundscheck=False)
def eval_chunk(inputs, src_slot, dst_slot, xm, om, out_slot, n_slots, block, c, n_chunks, out):
    """Blocks c, c + n_chunks, ... of :func:`eval_blocks` (one thread's share)."""
    n_in, W = inputs.shape
    n_blocks = (W + block - 1) // block
    buf = np.empty((max(n_slots, 1), block), np.uint64)
    for bi in range(c, n_blocks, n_chunks):
        w0 = bi * block
        bw = min(block, W - w0)
        for i in range(n_in):
            for k in range(bw):
                buf[i, k] = inputs[i, w0 + k]
        eval_gates(buf, src_slot, dst_slot, xm, om, bw)
        for j in range(out_slot.shape[0]):
            row = buf[out_slot[j]]
            for k in range(bw):
                out[j, w0 + k] = row[k]


@njit(cache=True, parallel=True, boundscheck=False)
def eval_blocks(inputs, src_slot, dst_slot, xm, om, out_slot, n_slots, block, n_chunks, out):
    """Evaluate a feed-forward machine planned by :func:`slot_plan`.

    inputs (n_in, W) uint64; out (R, W) receives the planned output rows.
    Words are processed in blocks of ``block`` so that one block of every live
    node stays in cache; thread ``c`` of ``n_chunks`` takes blocks c, c + n, ...
    A single chunk should go to :func:`eval_chunk` directly: entering a
    parallel region costs more than a small machine's whole evaluation.
    """
    for c in prange(n_chunks):
        eval_chunk(inputs, src_slot, dst_slot, xm, om, out_slot, n_slots, block, c, n_chunks, out)


# ---------------------------------------------------------------------------
# clocked evaluation
# ---------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _clock_step(cur, nxt, lreg, src, om, reg, bw):
    """One clock step of every gate: ``nxt[g]`` from the node rows ``cur`` at time t.

    Switch links deliver ``v | om``; a register link (``reg``) delivers its
    register ``lreg[g, p]`` and loads ``~v | om`` for the next step.
    """
    for g in range(src.shape[0]):
        ra = cur[src[g, 0]]
        rb = cur[src[g, 1]]
        oa = om[g, 0]
        ob = om[g, 1]
        rn = nxt[g]
        if reg[g, 0] or reg[g, 1]:
            la = lreg[g, 0]
            lb = lreg[g, 1]
            for k in range(bw):
                va = la[k] if reg[g, 0] else (ra[k] | oa)
                vb = lb[k] if reg[g, 1] else (rb[k] | ob)
                rn[k] = ~(va & vb)
                if reg[g, 0]:
                    la[k] = ~ra[k] | oa
                if reg[g, 1]:
                    lb[k] = ~rb[k] | ob
        else:
            for k in range(bw):
                rn[k] = ~((ra[k] | oa) & (rb[k] | ob))


@njit(cache=True, inline="always")
def clock_block(frames, held, initial, w0, bw, steps, src, om, reg, cur, nxt, lreg, history):
    """Words ``w0 .. w0+bw`` of a clocked run; ``cur`` holds every node at time ``steps``.

    frames (T, n_in, W): at time t the inputs hold frame ``min(t, T-1)`` if
    ``held`` else frame t for t < T and zero afterwards. initial (G, W) gate
    states at time 0; registers start at all ones. cur (n_in + G, >= bw),
    nxt (G, >= bw), lreg (G, 2, >= bw) scratch. history (steps + 1, G, W)
    records the gate states, or is (0, 0, 0).
    """
    T, n_in = frames.shape[0], frames.shape[1]
    G = src.shape[0]
    record = history.shape[0] > 0
    for g in range(G):
        for k in range(bw):
            cur[n_in + g, k] = initial[g, w0 + k]
            lreg[g, 0, k] = ~np.uint64(0)
            lreg[g, 1, k] = ~np.uint64(0)
    for t in range(steps + 1):
        f = min(t, T - 1) if held else t
        for i in range(n_in):
            for k in range(bw):
                cur[i, k] = frames[f, i, w0 + k] if f < T else np.uint64(0)
        if record:
            for g in range(G):
                for k in range(bw):
                    history[t, g, w0 + k] = cur[n_in + g, k]
        if t == steps:
            break
        _clock_step(cur, nxt, lreg, src, om, reg, bw)
        for g in range(G):
            for k in range(bw):
                cur[n_in + g, k] = nxt[g, k]


@njit(cache=True, boundscheck=False)
def run_chunk(frames, held, src, om, reg, initial, steps, rows_out, block, c, n_chunks,
               out, history):
    """Chunk ``c`` of ``n_chunks`` contiguous block ranges of :func:`run_blocks`."""
    n_in, W = frames.shape[1], frames.shape[2]
    G = src.shape[0]
    n_blocks = (W + block - 1) // block
    per_chunk = (n_blocks + n_chunks - 1) // n_chunks
    cur = np.empty((n_in + G, block), np.uint64)
    nxt = np.empty((G, block), np.uint64)
    lreg = np.empty((G, 2, block), np.uint64)
    for bi in range(c * per_chunk, min(n_blocks, (c + 1) * per_chunk)):
        w0 = bi * block
        bw = min(block, W - w0)
        clock_block(frames, held, initial, w0, bw, steps, src, om, reg, cur, nxt, lreg, history)
        for j in range(rows_out.shape[0]):
            for k in range(bw):
                out[j, w0 + k] = cur[rows_out[j], k]


@njit(cache=True, parallel=True, boundscheck=False)
def run_blocks(frames, held, src, om, reg, initial, steps, rows_out, block, n_chunks,
                out, history):
    """Run a machine for ``steps`` clock steps (see :func:`clock_block`).

    om (G, 2) interrupt masks; reg (G, 2) bool register links. out (R, W)
    receives the nodes ``rows_out`` at time ``steps``. A single chunk should go
    to :func:`run_chunk` directly.
    """
    for c in prange(n_chunks):
        run_chunk(frames, held, src, om, reg, initial, steps, rows_out, block, c, n_chunks,
                   out, history)


# ---------------------------------------------------------------------------
# delta evaluation: recompute only what a flip changes
# ---------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _heap_push(heap, size, item):
    """Push ``item`` on the min-heap ``heap[:size]``; returns the new size."""
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
def _heap_pop(heap, size):
    """Pop the least item of the min-heap ``heap[:size]``; returns (item, new size)."""
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


@njit(cache=True, inline="always")
def toggle_link(xm, om, g, p, turing):
    """Flip the modifier state of link (g, p) in the kernel masks."""
    om[g, p] ^= ~np.uint64(0)
    if turing:
        xm[g, p] ^= ~np.uint64(0)


@njit(cache=True, inline="always")
def enqueue(heap, size, queued, g):
    """Queue gate ``g`` for :func:`propagate` unless it is queued; returns the heap size."""
    if queued[g]:
        return size
    queued[g] = True
    return _heap_push(heap, size, g)


#: What delta propagation reads about a machine, built once (see :func:`propagate`):
#: ``n_in`` inputs; ``turing`` link mode; ``src`` (G, 2) wiring; ``tail`` (W,) real
#: sample bits; ``rd_ptr``/``rd_idx`` CSR readers of each node; ``out_ptr``/``out_idx``
#: CSR outputs each node is (``out_ptr`` all zeros where outputs are not tracked).
DeltaPlan = namedtuple("DeltaPlan", ["n_in", "turing", "src", "tail", "rd_ptr", "rd_idx",
                                     "out_ptr", "out_idx"])
#: What delta propagation updates: ``values`` (n_in + G, W) node rows; ``xm``/``om``
#: (G, 2) link masks; ``heap``/``queued`` (G,) the gate queue (``queued`` all False
#: between calls); ``undo_gates``/``undo_rows`` ((G,), (G, W)) the changed gates and
#: their old rows, or one row where no undo is kept; ``dirty`` (n_outputs,) outputs
#: fed by a changed gate; ``res`` (>= 2,) counts (gates changed, dirty outputs).
DeltaState = namedtuple("DeltaState", ["values", "xm", "om", "heap", "queued", "undo_gates",
                                       "undo_rows", "dirty", "res"])


@njit(cache=True, inline="always")
def propagate(plan, state, size, record_undo):
    """Recompute the queued gates ``state.heap[:size]`` and, in gate order, every gate
    downstream of one whose value changed; ``state.values`` is updated in place.

    ``plan`` and ``state`` are records with the fields of :data:`DeltaPlan` and
    :data:`DeltaState` (any named tuple with those fields: the search's problem and
    work records have them). A gate whose real sample bits (``tail``) do not change
    stops the propagation (its padding bits may change: nothing reads them). With
    ``record_undo`` the changed gates and their old rows go to ``undo_gates`` /
    ``undo_rows`` for :func:`restore_rows`. The outputs that changed gates feed go
    to ``dirty``. Returns the gates recomputed; ``res[0], res[1]`` = gates changed,
    dirty outputs.
    """
    values, heap, queued = state.values, state.heap, state.queued
    n_in, src, tail = plan.n_in, plan.src, plan.tail
    W = values.shape[1]
    recomputed = 0
    changed = 0
    dirty = 0
    while size > 0:
        g, size = _heap_pop(heap, size)
        queued[g] = False
        recomputed += 1
        node = n_in + g
        rr = values[node]
        old = state.undo_rows[changed if record_undo else 0]
        # one pass: write the new row, keep the old one in the next undo slot
        diff = np.uint64(0)
        for k in range(W):
            new = _gate_at(values, src, state.xm, state.om, g, k)
            old[k] = rr[k]
            diff |= (new ^ rr[k]) & tail[k]
            rr[k] = new
        if diff == 0:
            continue
        state.undo_gates[changed if record_undo else 0] = g
        changed += 1
        for e in range(plan.out_ptr[node], plan.out_ptr[node + 1]):
            state.dirty[dirty] = plan.out_idx[e]
            dirty += 1
        for e in range(plan.rd_ptr[node], plan.rd_ptr[node + 1]):
            size = enqueue(heap, size, queued, plan.rd_idx[e])
    state.res[0] = changed
    state.res[1] = dirty
    return recomputed


@njit(cache=True, inline="always")
def restore_rows(values, n_in, undo_gates, undo_rows, n_changed):
    """Put back the rows a :func:`propagate` with ``record_undo`` changed."""
    W = values.shape[1]
    for c in range(n_changed - 1, -1, -1):
        row = values[n_in + undo_gates[c]]
        for k in range(W):
            row[k] = undo_rows[c, k]


@njit(cache=True, boundscheck=False)
def delta_flip(plan, state, flips, enabled, modifiers):
    """Flip links ``flips`` ((k, 2) gate, port) in the masks and in ``enabled`` (G, 2)
    and bring ``state.values`` up to date (:class:`btype.simulate.DeltaEvaluator`);
    returns the gates recomputed, or ``-1 - f`` (and changes nothing) when ``flips[f]``
    is the first that is not a link or carries no modifier (``modifiers`` (G, 2))."""
    G = plan.src.shape[0]
    for f in range(flips.shape[0]):
        g, p = flips[f, 0], flips[f, 1]
        if g < 0 or g >= G or p < 0 or p > 1 or not modifiers[g, p]:
            return -1 - f
    size = 0
    for f in range(flips.shape[0]):
        g, p = flips[f, 0], flips[f, 1]
        toggle_link(state.xm, state.om, g, p, plan.turing)
        enabled[g, p] = not enabled[g, p]
        size = enqueue(state.heap, size, state.queued, g)
    return propagate(plan, state, size, False)


# ---------------------------------------------------------------------------
# the machine's own peak for the fused gate operation (throughput baseline)
# ---------------------------------------------------------------------------
@njit(cache=True, boundscheck=False)
def fused_peak(a, b, out, repeats):
    """``repeats`` passes of the fused gate operation over in-cache rows."""
    n = a.shape[0]
    acc = np.uint64(0)
    for r in range(repeats):
        xa = np.uint64(r & 1)
        for k in range(n):
            out[k] = ~(((a[k] ^ xa) | xa) & ((b[k] ^ xa) | xa))
        acc ^= out[r % n]
    return acc
