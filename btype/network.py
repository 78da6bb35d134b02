"""The machine: NAND gates, two wired ports each, per-link modifiers.

The arrays of a :class:`Network` are the genome. The simulator reads them
directly, the relaxation in ``sgd`` builds its tensors from them, and trainers
only ever change ``enabled``. A network is immutable: every array is read-only
and :meth:`Network.with_enabled` returns a copy.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _npz
from ._checks import check_bool_array, check_choice, check_int
from .plan import gate_levels

LINK_MODES = ("switch", "turing")
FILE_FORMAT = "btype.Network"
FILE_VERSION = 1

#: Most nodes (inputs + gates) a network may have; node ids stay far inside int64.
MAX_NODES = 2 ** 32

__all__ = ["Network", "LINK_MODES", "MAX_NODES", "check_network"]


def check_network(net: object, name: str = "net") -> Network:
    """``net`` if it is a :class:`Network`; TypeError naming ``name`` otherwise."""
    if not isinstance(net, Network):
        raise TypeError(f"{name} must be a btype.Network, got {type(net).__name__}")
    return net


def _as_array(value, name) -> np.ndarray:
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nesting: numpy's "inhomogeneous shape"
        raise ValueError(f"{name} must be a rectangular array, got {_short(value)} ({exc})") from None


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _as_int_array(value, name, ndim) -> np.ndarray:
    arr = _as_array(value, name)
    if arr.size == 0:
        arr = arr.astype(np.int64)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    return arr.astype(np.int64)


def _as_bool_array(value, name, shape) -> np.ndarray:
    arr = check_bool_array(_as_array(value, name), name)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    return arr


def _readonly(arr):
    arr = np.array(arr, copy=True)
    arr.setflags(write=False)
    return arr


def _feedforward(net) -> bool:
    gate_nodes = net.n_inputs + np.arange(net.n_gates)
    return bool(np.all(net.wiring < gate_nodes[:, None]))


class Network:
    """A network of two-input NAND gates whose links may carry modifiers.

    Parameters
    ----------
    n_inputs : int
        Number of input nodes (may be 0). Inputs are nodes ``0 .. n_inputs-1``;
        gate ``g`` is node ``n_inputs + g``. Inputs and gates together are at
        most :data:`MAX_NODES` (2**32).
    wiring : array_like of int, shape (G, 2)
        ``wiring[g, p]`` is the node feeding port ``p`` of gate ``g``.
    outputs : array_like of int, shape (n_outputs,)
        Node ids read as the machine's outputs (inputs or gates).
    enabled : array_like of bool, shape (G, 2), optional
        Modifier states, True = pass. Default all True. A link without a
        modifier must be True here.
    modifiers : array_like of bool, shape (G, 2), optional
        Which links carry a modifier. Default all True (a B-type).
    link : {"switch", "turing"}
        What a modified link delivers; see docs/design.md section 1.
    """

    n_inputs: int
    wiring: np.ndarray
    outputs: np.ndarray
    enabled: np.ndarray
    modifiers: np.ndarray
    link: str

    __slots__ = ("n_inputs", "wiring", "outputs", "enabled", "modifiers", "link", "_memo")

    def __init__(self, n_inputs: int, wiring: ArrayLike, outputs: ArrayLike, enabled: ArrayLike | None = None,
                 modifiers: ArrayLike | None = None, link: str = "switch") -> None:
        n_inputs = check_int(n_inputs, "n_inputs", 0, MAX_NODES)
        wiring = _as_array(wiring, "wiring")
        wiring = _as_int_array(wiring, "wiring", 2) if wiring.size else np.zeros((0, 2), np.int64)
        if wiring.shape[1] != 2:
            raise ValueError(f"wiring must have shape (n_gates, 2), got {wiring.shape}")
        n_gates = wiring.shape[0]
        n_nodes = n_inputs + n_gates
        if n_nodes > MAX_NODES:
            raise ValueError(f"a network has at most MAX_NODES = 2**32 nodes, got n_inputs = {n_inputs} "
                             f"and {n_gates} gates")
        bad = (wiring < 0) | (wiring >= n_nodes)
        if bad.any():
            g, p = np.argwhere(bad)[0]
            raise ValueError(
                f"wiring[{g}, {p}] = {wiring[g, p]} is not a node id in [0, {n_nodes})")
        outputs = _as_int_array(outputs, "outputs", 1)
        bad = (outputs < 0) | (outputs >= n_nodes)
        if bad.any():
            j = int(np.argmax(bad))
            raise ValueError(f"outputs[{j}] = {outputs[j]} is not a node id in [0, {n_nodes})")
        check_choice(link, "link", LINK_MODES)
        shape = (n_gates, 2)
        modifiers = np.ones(shape, bool) if modifiers is None else _as_bool_array(modifiers, "modifiers", shape)
        if enabled is None:
            enabled = np.ones(shape, bool)
        else:
            enabled = _as_bool_array(enabled, "enabled", shape)
            bad = ~modifiers & ~enabled
            if bad.any():
                g, p = np.argwhere(bad)[0]
                raise ValueError(
                    f"enabled[{g}, {p}] is False but link ({g}, {p}) carries no modifier; "
                    "only modified links can interrupt")
        object.__setattr__(self, "n_inputs", n_inputs)
        object.__setattr__(self, "wiring", _readonly(wiring))
        object.__setattr__(self, "outputs", _readonly(outputs))
        object.__setattr__(self, "enabled", _readonly(enabled))
        object.__setattr__(self, "modifiers", _readonly(modifiers))
        object.__setattr__(self, "link", link)
        # Data derived from the (immutable) network by the simulator: kernel plans,
        # link masks. Computed on first use, so repeated evaluations skip them.
        object.__setattr__(self, "_memo", {})

    def __setattr__(self, name, value):
        raise AttributeError("Network is immutable; use with_enabled() for other modifier states")

    # -- derived properties -------------------------------------------------
    @property
    def n_gates(self) -> int:
        return self.wiring.shape[0]

    @property
    def n_outputs(self) -> int:
        return self.outputs.shape[0]

    @property
    def n_nodes(self) -> int:
        return self.n_inputs + self.n_gates

    @property
    def n_modified(self) -> int:
        """Number of links that carry a modifier (the trainable bits)."""
        return int(self.modifiers.sum())

    @property
    def is_feedforward(self) -> bool:
        """True when every gate reads only lower-numbered nodes."""
        return self._derived("feedforward", _feedforward)

    def _derived(self, key, compute):
        """``compute(self)``, remembered under ``key`` for the life of this network."""
        memo = self._memo
        if key not in memo:
            memo[key] = compute(self)
        return memo[key]

    def levels(self) -> np.ndarray:
        """Level of every gate in a feed-forward machine (inputs are level 0).

        Gate ``g`` has level ``1 + max(level of its two sources)``; gates of one
        level can be evaluated together. Computed once per network by
        :func:`btype.plan.gate_levels` (the one place levels are computed).
        """
        if not self.is_feedforward:
            raise ValueError("levels() needs a feed-forward network (is_feedforward is False)")
        return self._derived("levels", lambda net: gate_levels(net.n_inputs, net.wiring)).copy()

    # -- copies ---------------------------------------------------------------
    def with_enabled(self, bits: ArrayLike) -> "Network":
        """A copy of this network with other modifier states ``bits`` (G, 2)."""
        return Network(self.n_inputs, self.wiring, self.outputs, enabled=bits,
                       modifiers=self.modifiers, link=self.link)

    def replace(self, **changes: Any) -> "Network":
        """A copy with some constructor arguments replaced (e.g. ``link="turing"``)."""
        kwargs: dict[str, Any] = dict(n_inputs=self.n_inputs, wiring=self.wiring, outputs=self.outputs,
                                      enabled=self.enabled, modifiers=self.modifiers, link=self.link)
        unknown = set(changes) - set(kwargs)
        if unknown:
            raise TypeError(f"replace() got unknown argument(s) {sorted(unknown)}")
        kwargs.update(changes)
        return Network(**kwargs)

    def __eq__(self, other):
        if not isinstance(other, Network):
            return NotImplemented
        return (self.n_inputs == other.n_inputs and self.link == other.link
                and np.array_equal(self.wiring, other.wiring)
                and np.array_equal(self.outputs, other.outputs)
                and np.array_equal(self.enabled, other.enabled)
                and np.array_equal(self.modifiers, other.modifiers))

    __hash__ = None

    def __reduce__(self):
        # Pickle the constructor arguments only, not the memo of derived data.
        return (Network, (self.n_inputs, self.wiring, self.outputs, self.enabled, self.modifiers,
                          self.link))

    def __repr__(self):
        kind = "B" if self.modifiers.all() else ("A" if not self.modifiers.any() else "WB")
        return (f"Network({kind}-type, n_inputs={self.n_inputs}, n_gates={self.n_gates}, "
                f"n_outputs={self.n_outputs}, link={self.link!r}, "
                f"feedforward={self.is_feedforward})")

    # -- files ------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the network to a single ``.npz`` file, atomically (round trip is bit-identical)."""
        _npz.write(path, dict(format=np.array(FILE_FORMAT), version=np.array(FILE_VERSION),
                              n_inputs=np.array(self.n_inputs), wiring=self.wiring,
                              outputs=self.outputs, enabled=self.enabled, modifiers=self.modifiers,
                              link=np.array(self.link)), compress=True)

    @classmethod
    def load(cls, path: str | os.PathLike, *, max_bytes: int = _npz.MAX_BYTES) -> "Network":
        """Read a network written by :meth:`save`.

        Every field's dtype and shape, and their agreement (``enabled`` and
        ``modifiers`` shaped like ``wiring``), are checked from the file's
        headers before any array is read; at most ``max_bytes`` of arrays are read.

        Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming
        the file for a corrupt, foreign or invalid one.
        """
        path = os.fspath(path)
        try:
            fields = _npz.read(path, _FILE_SPEC, allow_extra=False, max_bytes=max_bytes,
                               check=lambda declared: _check_declared(path, declared))
        except ValueError as exc:
            raise ValueError(f"{exc} (not a btype network file)") from None
        if fields["format"].item() != FILE_FORMAT:
            raise ValueError(f"{path!r} is not a btype network file (format {fields['format'].item()!r}, "
                             f"expected {FILE_FORMAT!r})")
        version = int(fields["version"])
        if version != FILE_VERSION:
            raise ValueError(f"{path!r} has file version {version}; this btype reads version {FILE_VERSION}")
        try:
            return cls(int(fields["n_inputs"]), fields["wiring"], fields["outputs"],
                       enabled=fields["enabled"], modifiers=fields["modifiers"],
                       link=str(fields["link"]))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path!r} holds an invalid network: {exc}") from None


#: The members of a network file: (dtype kinds, shape) as ``btype._npz.read`` checks them.
_FILE_SPEC = {"format": ("U", ()), "version": ("iu", ()), "n_inputs": ("iu", ()),
              "wiring": ("iu", (None, 2)), "outputs": ("iu", (None,)), "enabled": ("b", (None, 2)),
              "modifiers": ("b", (None, 2)), "link": ("U", ())}


def _check_declared(path, declared):
    gates = declared["wiring"][1][0]
    for name in ("enabled", "modifiers"):
        if declared[name][1][0] != gates:
            raise ValueError(f"{path!r}: array {name!r} has shape {declared[name][1]} but wiring has "
                             f"{gates} gates")
