"""What a machine's structure implies, derived once and cached on the network.

Every consumer of link semantics or graph structure reads it from here: the
simulator's kernel masks, the search's output cone and reader lists, export's
pruning (link literals, active gates), the relaxation's link coefficients and
the gate levels of a feed-forward machine (:func:`gate_levels`, :func:`level_groups`).

Link semantics (docs/design.md section 1), the one place they are written down: a
link without a modifier delivers its source ``v``; a modified link that is
interrupted delivers the constant 1; a modified link that passes delivers
``v`` in ``"switch"`` mode and ``NOT v`` in ``"turing"`` mode
(:data:`PASSING_INVERTS`), there also one clock step late (a register).
"""
from __future__ import annotations

import numpy as np

from . import kernels

__all__ = ["PASSING_INVERTS", "link_terms", "link_masks", "readers", "csr", "cone",
           "wired_cone", "active_cone", "gate_levels", "level_groups"]

#: Whether a passing modified link delivers ``NOT v`` (by link mode).
PASSING_INVERTS = {"switch": False, "turing": True}

_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)


def _frozen(*arrays):
    for a in arrays:
        a.flags.writeable = False
    return arrays


def link_terms(net):
    """``(live, inverted)``, (G, 2) bool each, read-only: a link delivers the constant 1
    where not ``live``, else its source value, negated where ``inverted``."""
    def make(net):
        live = ~net.modifiers | net.enabled
        inverted = net.modifiers & net.enabled & PASSING_INVERTS[net.link]
        return _frozen(np.ascontiguousarray(live), np.ascontiguousarray(inverted))
    return net._derived("link_terms", make)


def link_masks(net):
    """Per-link kernel masks ``(xm, om, reg)``, read-only.

    ``xm`` is all ones where a link inverts, ``om`` all ones where it is
    interrupted (the kernels compute ``(v ^ xm) | om``); ``reg`` marks the
    links that are one-step registers in clocked runs (turing mode, modified).
    """
    def make(net):
        live, inverted = link_terms(net)
        xm = np.where(inverted, _ONES, np.uint64(0)).astype(np.uint64)
        om = np.where(live, np.uint64(0), _ONES).astype(np.uint64)
        reg = np.ascontiguousarray(net.modifiers & PASSING_INVERTS[net.link])
        return _frozen(xm, om, reg)
    return net._derived("link_masks", make)


def csr(n_rows, rows, items):
    """CSR lists ``(ptr, idx)``: the ``items`` of every row in ``0 .. n_rows-1``, each
    (row, item) pair once, items ascending within a row."""
    rows = np.asarray(rows, np.int64).ravel()
    items = np.asarray(items, np.int64).ravel()
    if rows.size:
        pairs = np.unique(np.stack([rows, items], axis=1), axis=0)
        rows, items = pairs[:, 0], pairs[:, 1]
    counts = np.bincount(rows, minlength=n_rows)[:n_rows]
    ptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr, np.ascontiguousarray(items, dtype=np.int64)


def readers(net):
    """CSR lists ``(ptr, idx)`` of the gates reading each node (a gate once per node)."""
    def make(net):
        gates = np.repeat(np.arange(net.n_gates), 2)
        return _frozen(*csr(net.n_nodes, net.wiring.ravel(), gates))
    return net._derived("readers", make)


def cone(n_inputs, sources, outputs):
    """(G,) bool: gates from which an output can be reached backwards over ``sources``
    ((G, 2) node ids, -1 for a link that carries nothing). Loops are followed."""
    G = len(sources)
    inside = np.zeros(G, bool)
    stack = [int(o) - n_inputs for o in outputs if o >= n_inputs]
    while stack:
        g = stack.pop()
        if inside[g]:
            continue
        inside[g] = True
        for s in sources[g]:
            if s >= n_inputs and not inside[s - n_inputs]:
                stack.append(int(s) - n_inputs)
    return inside


def wired_cone(net):
    """(G,) bool, read-only: gates with a wired path to an output (any modifier states)."""
    return net._derived("wired_cone", lambda n: _frozen(cone(n.n_inputs, n.wiring, n.outputs))[0])


def active_cone(net):
    """(G,) bool, read-only: gates whose value reaches an output through live links."""
    def make(net):
        live, _ = link_terms(net)
        return _frozen(cone(net.n_inputs, np.where(live, net.wiring, -1), net.outputs))[0]
    return net._derived("active_cone", make)


def _wiring_of(n_inputs, wiring):
    wiring = np.ascontiguousarray(wiring, dtype=np.int64).reshape(-1, 2)
    gate_nodes = int(n_inputs) + np.arange(len(wiring))
    if not np.all(wiring < gate_nodes[:, None]):
        raise ValueError("gate levels need a feed-forward wiring (every gate reading lower-numbered "
                         "nodes); this one has loops")
    return wiring


def gate_levels(n_inputs, wiring):
    """(G,) int64 level of every gate of a feed-forward machine: inputs are level 0,
    gate ``g`` is ``1 + max`` of its two sources' levels.

    Gates of one level read only lower levels, so they can be evaluated together.
    ``wiring`` is (G, 2) node ids (a network's ``wiring``, or the relaxation's);
    a wiring with loops raises ``ValueError``. :meth:`btype.Network.levels` is this,
    cached on the network.
    """
    return kernels.gate_levels(int(n_inputs), _wiring_of(n_inputs, wiring))


def level_groups(n_inputs, wiring):
    """The gates of a feed-forward machine grouped by level, as CSR lists ``(ptr, gates)``:
    the gates of level ``k + 1`` are ``gates[ptr[k]:ptr[k + 1]]``, ascending (see
    :func:`gate_levels`). ``len(ptr) - 1`` is the depth (0 for a machine without gates)."""
    level = gate_levels(n_inputs, wiring)
    gates = np.argsort(level, kind="stable")
    ptr = np.searchsorted(level[gates], np.arange(1, level.max(initial=0) + 2))
    ptr[0] = 0
    return ptr.astype(np.int64), gates.astype(np.int64)