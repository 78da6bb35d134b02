"""A slow, obviously correct simulator: one sample at a time, plain Python.

This is the oracle the fast simulator is tested against. It follows the
semantics table of docs/design.md section 1 literally and shares no code with
``btype.kernels``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from .network import Network

__all__ = ["evaluate", "run", "link_value"]


def link_value(net: Network, g: int, p: int, v: bool) -> bool:
    """What link ``(g, p)`` delivers to its gate, combinationally, for source value ``v``."""
    if not net.modifiers[g, p]:
        return v
    if not net.enabled[g, p]:
        return True
    return v if net.link == "switch" else (not v)


def evaluate(net: Network, X: ArrayLike) -> np.ndarray:
    """Combinational evaluation of a feed-forward machine, sample by sample.

    X (S, n_inputs) bool -> (S, n_outputs) bool.
    """
    X = np.asarray(X, dtype=bool).reshape(-1, net.n_inputs)
    if not net.is_feedforward:
        raise ValueError("reference.evaluate needs a feed-forward network")
    Y = np.zeros((len(X), net.n_outputs), dtype=bool)
    for s, row in enumerate(X):
        value = [bool(x) for x in row]
        for g in range(net.n_gates):
            l0 = link_value(net, g, 0, value[net.wiring[g, 0]])
            l1 = link_value(net, g, 1, value[net.wiring[g, 1]])
            value.append(not (l0 and l1))
        Y[s] = [value[o] for o in net.outputs]
    return Y


def _input_at(x, t):
    """Input values of one sample at clock time t (held row or sequence frames)."""
    if x.ndim == 1:
        return [bool(v) for v in x]
    if t < len(x):
        return [bool(v) for v in x[t]]
    return [False] * x.shape[1]


def run(net: Network, X: ArrayLike, steps: int, initial: ArrayLike | None = None,
        record: bool = False) -> np.ndarray:
    """Clocked evaluation, sample by sample, for any wiring.

    X is (S, n_inputs) held fixed or (S, T, n_inputs) frames (frame t at time t,
    zeros from time T on). Returns the output nodes at time ``steps``, or with
    ``record`` the (steps + 1, S, n_gates) gate states.
    """
    X = np.asarray(X, dtype=bool)
    S, G = len(X), net.n_gates
    if initial is None:
        init = np.zeros((S, G), bool)
    else:
        init = np.broadcast_to(np.asarray(initial, dtype=bool), (S, G))
    Y = np.zeros((S, net.n_outputs), dtype=bool)
    H = np.zeros((steps + 1, S, G), dtype=bool)
    for s in range(S):
        state = [bool(v) for v in init[s]]
        register = [[True, True] for _ in range(G)]
        H[0, s] = state
        for t in range(steps):
            node = _input_at(X[s], t) + state
            new_state, new_register = [], []
            for g in range(G):
                delivered, loaded = [], []
                for p in (0, 1):
                    v = node[net.wiring[g, p]]
                    if not net.modifiers[g, p]:
                        delivered.append(v)
                        loaded.append(True)
                    elif net.link == "switch":
                        delivered.append(v if net.enabled[g, p] else True)
                        loaded.append(True)
                    else:
                        delivered.append(register[g][p])
                        loaded.append((not v) if net.enabled[g, p] else True)
                new_state.append(not (delivered[0] and delivered[1]))
                new_register.append(loaded)
            state, register = new_state, new_register
            H[t + 1, s] = state
        node = _input_at(X[s], steps) + state
        Y[s] = [node[o] for o in net.outputs]
    return H if record else Y
