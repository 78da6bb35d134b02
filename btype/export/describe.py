"""Summary statistics of a machine: size, depth, fan-out and gate functions."""
from __future__ import annotations

import numpy as np

from ..network import Network, check_network
from .prune import GATE_FUNCTIONS, active_gates, gate_function, link_literals

__all__ = ["describe"]


def _depth(net, source):
    """Longest chain of gates from an input to an output over live links."""
    n_in = net.n_inputs
    level = np.zeros(net.n_nodes, np.int64)
    for g in range(net.n_gates):
        live = source[g][source[g] >= 0]
        level[n_in + g] = 1 + (int(level[live].max()) if live.size else 0)
    return int(level[net.outputs].max()) if net.n_outputs else 0


def describe(net: Network) -> dict:
    """Statistics of a machine, counted over its active gates.

    Parameters
    ----------
    net : btype.Network

    Returns
    -------
    dict
        ``n_inputs``, ``n_outputs``, ``link``, ``feedforward``;
        ``n_gates``; ``n_active``: gates whose value reaches an output over
        live links (loops included: the cone of influence); ``inputs_used``:
        inputs read by an active gate or an output; ``n_links_live`` and
        ``n_links_interrupted`` among the active gates' links; ``depth``:
        gates on the longest live path from an input (or a constant gate) to
        an output, ``None`` for machines with loops; ``fanout_histogram``: list
        whose entry ``k`` is the number of active gates read by exactly ``k``
        live links of active gates (outputs not counted); ``functions``: count
        of active gates per function (:data:`btype.export.GATE_FUNCTIONS`:
        nand, or, implies, not, buffer, const0, const1) as their enables make
        them; ``function_shares``: the same as fractions of ``n_active``
        (zeros when no gate is active); ``shares``: fractions of active gates
        acting as a two-input NAND (``"nand"``; in turing mode its inputs may
        be inverted: nand, or, implies), as a one-input NOT (``"not"``: not,
        buffer) and as a ``"constant"``.
    """
    check_network(net)
    source, inverted = link_literals(net)
    active = active_gates(net)
    n_in = net.n_inputs
    clocked = not net.is_feedforward
    act = np.flatnonzero(active)
    live_src = source[act]
    live_src = live_src[live_src >= 0]

    fan = np.zeros(net.n_nodes, np.int64)
    np.add.at(fan, live_src, 1)
    gate_fan = fan[n_in + act]
    hist = np.bincount(gate_fan).tolist() if act.size else []

    used = np.zeros(n_in, bool)
    used[live_src[live_src < n_in]] = True
    used[net.outputs[net.outputs < n_in]] = True

    counts = dict.fromkeys(GATE_FUNCTIONS, 0)
    for g in act:
        counts[gate_function(source[g], inverted[g], clocked=clocked)] += 1
    n_act = int(act.size)
    def share(*kinds):
        return sum(counts[k] for k in kinds) / n_act if n_act else 0.0

    function_shares = {k: share(k) for k in GATE_FUNCTIONS}
    shares = {"nand": share("nand", "or", "implies"), "not": share("not", "buffer"),
              "constant": share("const0", "const1")}

    return {
        "n_inputs": n_in,
        "n_outputs": net.n_outputs,
        "link": net.link,
        "feedforward": not clocked,
        "n_gates": net.n_gates,
        "n_active": n_act,
        "inputs_used": int(used.sum()),
        "n_links_live": int((source[act] >= 0).sum()),
        "n_links_interrupted": int((source[act] < 0).sum()),
        "depth": None if clocked else _depth(net, source),
        "fanout_histogram": hist,
        "functions": counts,
        "function_shares": function_shares,
        "shares": shares,
    }
