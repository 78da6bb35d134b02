"""Random wiring: layered feed-forward machines and Turing's recurrent ones."""
from __future__ import annotations

import math

import numpy as np

from ._checks import check_choice, check_int, check_real, check_seed
from .network import LINK_MODES, MAX_NODES, Network

__all__ = ["random_network", "default_layers", "MAX_GATES"]

#: Most gates :func:`random_network` builds: 2**27, whose arrays take about 2.5 GiB
#: (more while they are drawn).
MAX_GATES = 2 ** 27


def default_layers(n_gates: int) -> int:
    """The default layer count of a layered machine: about log2 of its size."""
    return max(1, min(n_gates, math.ceil(math.log2(n_gates + 1))))


def random_network(n_inputs: int, n_gates: int, n_outputs: int, *, kind: str = "layered",
                   layers: int | None = None, reach: int = 1, seed: int = 0, link: str = "switch",
                   modified_fraction: float = 1.0) -> Network:
    """A random machine, deterministic per ``seed``.

    Parameters
    ----------
    n_inputs, n_gates, n_outputs : int
        Sizes. Outputs are the last ``n_outputs`` gates. ``n_gates`` is at
        most :data:`MAX_GATES` (2**27), ``n_inputs`` at most 2**32 - 2**27
        (:data:`btype.network.MAX_NODES` in all), checked before anything is
        allocated.
    kind : {"layered", "recurrent"}
        ``"layered"``: gates are split evenly into ``layers`` layers and each port
        reads a node of the previous ``reach`` layers (inputs are layer 0); the two
        ports of a gate read distinct nodes whenever the pool has two.
        ``"recurrent"``: Turing's wiring; each port reads any node uniformly,
        self-loops allowed.
    layers : int, optional
        Number of gate layers (layered only). Default :func:`default_layers`.
    reach : int
        How many previous layers a port may read (layered only).
    seed : int
        Seed of the generator (wiring, modifier placement and initial states),
        0 .. 2**63 - 1 (as for the trainers).
    link : {"switch", "turing"}
    modified_fraction : float in [0, 1]
        Share of links that carry a modifier: 0 is an A-type, 1 a B-type, in
        between a WB-type. Exactly ``round(fraction * 2 * n_gates)`` links are
        chosen. Modified links start in random states.
    """
    n_inputs = check_int(n_inputs, "n_inputs", 0, MAX_NODES - MAX_GATES)
    n_gates = check_int(n_gates, "n_gates", 1, MAX_GATES)
    n_outputs = check_int(n_outputs, "n_outputs", 0)
    if n_outputs > n_gates:
        raise ValueError(f"n_outputs ({n_outputs}) must not exceed n_gates ({n_gates})")
    check_choice(kind, "kind", ("layered", "recurrent"))
    check_choice(link, "link", LINK_MODES)
    modified_fraction = check_real(modified_fraction, "modified_fraction", 0.0, 1.0)
    rng = np.random.default_rng(check_seed(seed))

    if kind == "recurrent":
        wiring = rng.integers(0, n_inputs + n_gates, size=(n_gates, 2))
    else:
        layers = default_layers(n_gates) if layers is None else check_int(layers, "layers", 1)
        if layers > n_gates:
            raise ValueError(f"layers ({layers}) must not exceed n_gates ({n_gates})")
        reach = check_int(reach, "reach", 1)
        if n_inputs == 0:
            raise ValueError("a layered network needs n_inputs >= 1 (its first layer reads the inputs); "
                             "use kind='recurrent' for a machine without inputs")
        wiring = _layered_wiring(rng, n_inputs, n_gates, layers, reach)

    n_links = 2 * n_gates
    n_modified = int(round(modified_fraction * n_links))
    modifiers = np.zeros(n_links, bool)
    modifiers[rng.permutation(n_links)[:n_modified]] = True
    modifiers = modifiers.reshape(n_gates, 2)
    enabled = ~modifiers | rng.integers(0, 2, size=(n_gates, 2)).astype(bool)
    outputs = n_inputs + np.arange(n_gates - n_outputs, n_gates)
    return Network(n_inputs, wiring, outputs, enabled=enabled, modifiers=modifiers, link=link)


def _layered_wiring(rng, n_inputs, n_gates, layers, reach):
    # layer sizes as even as possible; bounds[k] is the first node of layer k
    sizes = np.full(layers, n_gates // layers)
    sizes[: n_gates % layers] += 1
    bounds = np.concatenate([[0, n_inputs], n_inputs + np.cumsum(sizes)])
    wiring = np.empty((n_gates, 2), np.int64)
    g = 0
    for layer in range(1, layers + 1):
        lo = bounds[max(0, layer - reach)]
        hi = bounds[layer]
        pool = hi - lo
        count = sizes[layer - 1]
        a = rng.integers(0, pool, size=count)
        if pool > 1:
            # second port: a distinct node of the same pool
            b = (a + rng.integers(1, pool, size=count)) % pool
        else:
            b = a.copy()
        wiring[g:g + count, 0] = lo + a
        wiring[g:g + count, 1] = lo + b
        g += count
    return wiring
