"""Pruning: a machine reduced to what its outputs depend on.

Two rules, chosen by the ``clocked`` argument of :func:`prune`:

* **Combinational** (default for feed-forward machines). Every node value is
  rewritten as a *literal*: a constant, or a real node (an input or a NAND that
  survives) possibly negated. Interrupted links deliver the constant 1, so
  ``NAND(1, 1) = 0``, ``NAND(x, 0) = 1``, ``NAND(x, 1) = NOT x``,
  ``NAND(x, x) = NOT x``, ``NAND(x, NOT x) = 1`` and double negations cancel;
  identical NANDs are merged. Only the NANDs that the output literals need are
  kept. The result computes the same :func:`btype.evaluate` outputs, but its
  clock timing differs, so it is not a substitute under :func:`btype.run`.
* **Clocked** (default, and the only choice, for machines with loops). Gates are
  kept unchanged when their state can reach an output over time: the cone of
  influence through live (not interrupted) links, loops included. No constant is
  folded, because a folded gate would change the step at which values arrive.
  The result matches :func:`btype.run` step for step from the matching initial
  state (``initial[mapping.kept]``).

Negations in the pruned machine: in ``"turing"`` mode a negated literal feeding a
gate is a modified, passing (inverting) link. In ``"switch"`` mode, and for an
output that is a negated literal, a NOT gate is added: ``NAND(x, 1)`` with the
second link interrupted. A link carries a modifier in the pruned machine exactly
when it is interrupted or inverts; every other link is a plain, unmodified wire.
Constant outputs get a tiny sub-circuit: 0 is a gate with both links interrupted,
1 is NOT 0 in switch mode and ``NAND(x0, NOT x0)`` in turing mode.
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence

import numpy as np

from .._checks import check_bool
from ..network import Network, check_network
from ..plan import active_cone, link_terms

__all__ = ["prune", "PruneMapping", "link_literals", "active_gates", "gate_function",
           "GATE_FUNCTIONS", "check_clocked"]

#: Every kind :func:`gate_function` can return.
GATE_FUNCTIONS = ("nand", "or", "implies", "not", "buffer", "const0", "const1")


def check_clocked(net: Network, clocked: bool | None) -> bool:
    """``clocked`` as a bool: None means the clocked form only for machines with loops;
    ``False`` for a machine with loops raises ValueError."""
    if clocked is None:
        return not net.is_feedforward
    clocked = check_bool(clocked, "clocked")
    if not clocked and not net.is_feedforward:
        raise ValueError("clocked=False (constant folding, the combinational form) needs a "
                         "feed-forward network; this one has loops or backward links")
    return clocked


def link_literals(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """What every link delivers, as a source node and a polarity.

    Parameters
    ----------
    net : btype.Network

    Returns
    -------
    source : ndarray of int64, shape (G, 2)
        Source node of each link, or -1 where the link is interrupted (it then
        delivers the constant 1).
    inverted : ndarray of bool, shape (G, 2)
        True where the link delivers ``NOT v`` (a passing modified link in
        ``"turing"`` mode; in clocked runs that value is also one step late).
    """
    check_network(net)
    live, inverted = link_terms(net)
    return np.where(live, net.wiring, -1).astype(np.int64), inverted.copy()


def gate_function(sources: Sequence[int], inverted: Sequence[bool], *, clocked: bool = False) -> str:
    """The function one gate computes given its resolved links.

    Parameters
    ----------
    sources : pair of int
        Source node per port, -1 for an interrupted link (constant 1).
    inverted : pair of bool
        Whether each port's link inverts (turing mode).
    clocked : bool
        In a clocked turing machine an inverting link is a register, so it
        is a different signal from a plain link of the same source.

    Returns
    -------
    str
        One of :data:`GATE_FUNCTIONS`: ``"nand"`` (two distinct plain inputs),
        ``"or"`` (two inverted inputs, ``NAND(NOT a, NOT b)``), ``"implies"``
        (one of each), ``"not"``, ``"buffer"`` (one inverted input, passed on),
        ``"const0"`` (both links interrupted) or ``"const1"``
        (``NAND(x, NOT x)`` combinationally).
    """
    lits = {(int(s), bool(i)) for s, i in zip(sources, inverted) if s >= 0}
    if not lits:
        return "const0"
    if len(lits) == 1:
        return "buffer" if next(iter(lits))[1] else "not"
    (sa, ia), (sb, ib) = sorted(lits)
    if sa == sb and not clocked:
        return "const1"
    n_inv = int(ia) + int(ib)
    return ("nand", "implies", "or")[n_inv]


def active_gates(net: Network) -> np.ndarray:
    """Gates whose value can reach an output through live links.

    Follows links backwards from the output nodes, loops included, and skips
    interrupted links (they deliver 1 whatever their source holds). For a
    clocked machine this is the cone of influence over any number of steps.

    Returns
    -------
    ndarray of bool, shape (G,)
    """
    check_network(net)
    return active_cone(net).copy()


@dataclass(frozen=True)
class PruneMapping:
    """How the nodes of a machine map onto its pruned form.

    Attributes
    ----------
    gates : ndarray of int64, shape (G_old,)
        New gate id holding the same value as each old gate, or -1 (removed,
        or equal to an input or a constant: see ``nodes``).
    nodes : ndarray of int64, shape (n_nodes_old,)
        New node id holding the same value as each old node, or -1. Inputs map
        to themselves.
    outputs : tuple of (str, int)
        What each output became: ``("input", i)``, ``("gate", new_gate_id)`` or
        ``("constant", value)`` (then the new output node is a constant gate).
    kept : ndarray of int64
        Clocked pruning: the old gate id of each new gate (so the matching
        initial state is ``initial[kept]``). Combinational pruning: the old
        gates whose value some new gate carries (``gates >= 0``), ascending.
    clocked : bool
        Which rule was used (see the module docstring).
    """

    gates: np.ndarray
    nodes: np.ndarray
    outputs: tuple
    kept: np.ndarray
    clocked: bool


def prune(net: Network, *, clocked: bool | None = None) -> tuple[Network, PruneMapping]:
    """Reduce a machine to what reaches its outputs.

    Parameters
    ----------
    net : btype.Network
    clocked : bool, optional
        ``False``: fold constants and keep only what the combinational outputs
        need (feed-forward machines only). ``True``: keep the cone of influence
        unchanged, preserving clocked behaviour. Default: ``False`` for
        feed-forward machines, ``True`` otherwise.

    Returns
    -------
    pruned : btype.Network
        Same ``n_inputs``, ``n_outputs`` and link mode.
    mapping : PruneMapping
    """
    check_network(net)
    clocked = check_clocked(net, clocked)
    return _prune_clocked(net) if clocked else _prune_combinational(net)


def _prune_clocked(net):
    n_in = net.n_inputs
    source, _ = link_literals(net)
    kept = np.flatnonzero(active_gates(net))
    nodes = np.full(net.n_nodes, -1, np.int64)
    nodes[:n_in] = np.arange(n_in)
    nodes[n_in + kept] = n_in + np.arange(kept.size)
    wiring = np.empty((kept.size, 2), np.int64)
    for new, g in enumerate(kept):
        live = source[g] >= 0
        for p in range(2):
            if live[p]:
                wiring[new, p] = nodes[source[g, p]]
            elif live[1 - p]:
                wiring[new, p] = nodes[source[g, 1 - p]]
            else:
                # an interrupted link ignores its source; point it somewhere harmless
                wiring[new, p] = 0 if n_in else n_in + new
    pruned = Network(n_in, wiring, nodes[net.outputs], enabled=net.enabled[kept],
                     modifiers=net.modifiers[kept], link=net.link)
    gates = np.where(nodes[n_in:] >= 0, nodes[n_in:] - n_in, -1)
    outputs = tuple(("input", int(o)) if o < n_in else ("gate", int(nodes[o] - n_in))
                    for o in net.outputs)
    return pruned, PruneMapping(gates, nodes, outputs, kept.astype(np.int64), True)


# -- combinational rewriting ----------------------------------------------------
# A literal is (r, neg): r >= 0 a real node (inputs 0..n_in-1, then surviving
# NANDs), neg its polarity; or (-1, v) the constant v.
_CONST = -1


def _negate(lit):
    r, b = lit
    return (r, 1 - b) if r == _CONST else (r, not b)


class _Rewriter:
    def __init__(self, n_inputs):
        self.operands = [None] * n_inputs  # real node -> (lit, lit) for NANDs
        self.table = {}

    def nand(self, a, b):
        for u, v in ((a, b), (b, a)):
            if u[0] == _CONST:
                return (_CONST, 1) if u[1] == 0 else _negate(v)
        if a == b:
            return _negate(a)
        if a[0] == b[0]:
            return (_CONST, 1)
        key = (min(a, b), max(a, b))
        r = self.table.get(key)
        if r is None:
            r = len(self.operands)
            self.operands.append((a, b))
            self.table[key] = r
        return (r, False)


class _Builder:
    """Emits the pruned network gate by gate, in topological order."""

    def __init__(self, n_inputs, link):
        self.n_in = n_inputs
        self.link = link
        self.rows = []        # (wiring pair, enabled pair, modifiers pair)
        self.node_of = {}     # real node -> new node id
        self.not_of = {}      # new node id -> new node id of its negation
        self.const_of = {}    # value -> new node id

    def _add(self, wiring, enabled, modifiers):
        self.rows.append((wiring, enabled, modifiers))
        return self.n_in + len(self.rows) - 1

    def not_gate(self, node):
        if node not in self.not_of:
            self.not_of[node] = self._add((node, node), (True, False), (False, True))
        return self.not_of[node]

    def const(self, value):
        if value not in self.const_of:
            if value == 0:
                node = self._add((0, 0), (False, False), (True, True))
            elif self.link == "turing":
                node = self._add((0, 0), (True, True), (False, True))
            else:
                node = self.not_gate(self.const(0))
            self.const_of[value] = node
        return self.const_of[value]

    def port(self, lit):
        node = self.node_of[lit[0]]
        if not lit[1]:
            return node, True, False
        if self.link == "turing":
            return node, True, True
        return self.not_gate(node), True, False

    def nand(self, r, a, b):
        pa, pb = self.port(a), self.port(b)
        self.node_of[r] = self._add((pa[0], pb[0]), (pa[1], pb[1]), (pa[2], pb[2]))

    def value(self, lit):
        """New node id carrying a literal's value, or -1 if it was not built."""
        r, b = lit
        if r == _CONST:
            return self.const_of.get(b, -1)
        node = self.node_of.get(r, -1)
        if node < 0 or not b:
            return node
        return self.not_of.get(node, -1)

    def output(self, lit):
        r, b = lit
        if r == _CONST:
            return self.const(b)
        node = self.node_of[r]
        return self.not_gate(node) if b else node


def _prune_combinational(net):
    n_in = net.n_inputs
    source, inverted = link_literals(net)
    rw = _Rewriter(n_in)
    lits = [(i, False) for i in range(n_in)]
    for g in range(net.n_gates):
        ports = [(_CONST, 1) if s < 0 else (lits[s] if not inv else _negate(lits[s]))
                 for s, inv in zip(source[g], inverted[g])]
        lits.append(rw.nand(*ports))
    out_lits = [lits[o] for o in net.outputs]

    needed = np.zeros(len(rw.operands), bool)
    needed[:n_in] = True
    stack = [r for r, _ in out_lits if r >= n_in]
    while stack:
        r = stack.pop()
        if needed[r]:
            continue
        needed[r] = True
        stack.extend(q for q, _ in rw.operands[r] if q >= n_in and not needed[q])

    b = _Builder(n_in, net.link)
    for i in range(n_in):
        b.node_of[i] = i
    for r in np.flatnonzero(needed[n_in:]) + n_in:
        b.nand(int(r), *rw.operands[r])
    outputs = [b.output(lit) for lit in out_lits]

    if b.rows:
        wiring, enabled, modifiers = (np.array(col, dtype=dt) for col, dt in
                                      zip(zip(*b.rows), (np.int64, bool, bool)))
    else:
        wiring = np.zeros((0, 2), np.int64)
        enabled = modifiers = np.zeros((0, 2), bool)
    pruned = Network(n_in, wiring, np.array(outputs, np.int64), enabled=enabled,
                     modifiers=modifiers, link=net.link)

    nodes = np.array([b.value(lit) for lit in lits], np.int64)
    gates = np.where(nodes[n_in:] >= n_in, nodes[n_in:] - n_in, -1)
    fates = []
    for lit, node in zip(out_lits, outputs):
        if lit[0] == _CONST:
            fates.append(("constant", int(lit[1])))
        elif node < n_in:
            fates.append(("input", int(node)))
        else:
            fates.append(("gate", int(node - n_in)))
    kept = np.flatnonzero(gates >= 0).astype(np.int64)
    return pruned, PruneMapping(gates, nodes, tuple(fates), kept, False)
