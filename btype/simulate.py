"""The public simulator: validated wrappers around the Numba kernels.

Combinational evaluation (:func:`evaluate`, :func:`evaluate_packed`) applies to
feed-forward machines; clocked evaluation (:func:`run`) to any machine.
:class:`DeltaEvaluator` keeps every node's value and, after flipping enable
bits, recomputes only the gates downstream of the change.
"""
from __future__ import annotations

from contextlib import contextmanager
from collections.abc import Iterator

import numba
import numpy as np
from numpy.typing import ArrayLike

from . import kernels
from ._checks import MAX_COUNT, check_bool, check_bool_array, check_int
from .bits import n_words, pack, tail_mask, unpack
from .network import Network, check_network
from .plan import link_masks, readers

__all__ = ["evaluate", "evaluate_packed", "run", "node_values", "DeltaEvaluator",
           "link_masks", "fanout", "using_threads", "choose_block", "MAX_GATE_EVALS"]

BLOCK_BYTES = 256 * 1024  # cache budget of one block: half a typical per-core L2
_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
#: Default ceiling on the work of one :func:`run`: gate evaluations, steps x gates x samples
#: (samples counted in whole 64-sample words). 10**12 takes minutes on one core.
MAX_GATE_EVALS = 10 ** 12


# ---------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------


def _check_inputs(net, X, allow_sequence) -> np.ndarray:
    X = check_bool_array(X, "X")
    ndims = (2, 3) if allow_sequence else (2,)
    if X.ndim not in ndims:
        shape = "(S, n_inputs) or (S, T, n_inputs)" if allow_sequence else "(S, n_inputs)"
        raise ValueError(f"X must have shape {shape}, got {X.shape}")
    if X.shape[-1] != net.n_inputs:
        raise ValueError(f"X has {X.shape[-1]} input columns but the network has {net.n_inputs} inputs")
    if X.ndim == 3 and X.shape[1] == 0:
        raise ValueError(f"X holds sequences of length 0 (shape {X.shape})")
    return X


def _check_feedforward(net):
    if not net.is_feedforward:
        raise ValueError("combinational evaluation needs a feed-forward network "
                         "(every gate reading lower-numbered nodes); use btype.run for clocked machines")


@contextmanager
def using_threads(n: int | None) -> Iterator[int]:
    """Run the enclosed code with ``n`` Numba threads (None: leave as is), then restore."""
    if n is None:
        yield numba.get_num_threads()
        return
    n = check_int(n, "threads", 1)
    if n > numba.config.NUMBA_NUM_THREADS:
        raise ValueError(f"threads = {n} exceeds the {numba.config.NUMBA_NUM_THREADS} threads "
                         "Numba was started with (NUMBA_NUM_THREADS)")
    old = numba.get_num_threads()
    if n == old:  # nothing to set or restore
        yield n
        return
    numba.set_num_threads(n)
    try:
        yield n
    finally:
        numba.set_num_threads(old)


def _plan(net, rows):
    """The kernel plan for ``rows`` ("outputs" or "nodes"), made once per network."""
    def make(net):
        wanted = net.outputs if rows == "outputs" else np.arange(net.n_nodes)
        return kernels.slot_plan(net.n_inputs, np.ascontiguousarray(net.wiring), wanted.astype(np.int64))
    return net._derived(f"plan_{rows}", make)


def fanout(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """CSR lists of the gates reading each node: ``(ptr, idx)``, each gate listed once per node."""
    return readers(net)


def _chunks(W, block):
    n_blocks = max(1, (W + block - 1) // block)
    return max(1, min(numba.get_num_threads(), n_blocks))


def choose_block(W: int, n_rows: int, n_threads: int) -> int:
    """Words per block: the live rows of one block fit in ``BLOCK_BYTES``, and the
    blocks split evenly over ``n_threads``. Blocks of whole cache lines (8 words)
    keep every row aligned and the inner loop free of a scalar tail."""
    target = max(8, min(512, BLOCK_BYTES // (8 * max(n_rows, 1))))
    n_blocks = max(1, -(-W // target))
    n_blocks = -(-n_blocks // n_threads) * n_threads if W >= n_threads * 8 else n_blocks
    block = -(-W // n_blocks)
    return block if W < 8 else -(-block // 8) * 8


# ---------------------------------------------------------------------------
# combinational evaluation
# ---------------------------------------------------------------------------
def _eval_rows(net, P, rows, block=None):
    """Packed values of ``rows``: "outputs" (n_outputs, W) or "nodes" (n_nodes, W)."""
    xm, om, _ = link_masks(net)
    src_slot, dst_slot, out_slot, n_slots = _plan(net, rows)
    W = P.shape[1]
    out = np.empty((len(out_slot), W), np.uint64)
    if W:
        if block is None:
            block = choose_block(W, n_slots, numba.get_num_threads())
        n_chunks = _chunks(W, block)
        args = (np.ascontiguousarray(P), src_slot, dst_slot, xm, om, out_slot, n_slots, block)
        if n_chunks == 1:  # no parallel region: its start-up outweighs a small evaluation
            kernels.eval_chunk(*args, 0, 1, out)
        else:
            kernels.eval_blocks(*args, n_chunks, out)
    return out


def _check_packed(net, P) -> np.ndarray:
    P = np.asarray(P)
    if P.dtype != np.uint64:
        raise TypeError(f"P must be uint64 words, got dtype {P.dtype}")
    if P.ndim != 2 or P.shape[0] != net.n_inputs:
        raise ValueError(f"P must have shape (n_inputs={net.n_inputs}, W), got {P.shape}")
    return P


def evaluate_packed(net: Network, P: ArrayLike, *, threads: int | None = None,
                    block: int | None = None) -> np.ndarray:
    """Evaluate a feed-forward machine on packed inputs.

    Parameters
    ----------
    net : Network
        A feed-forward machine.
    P : (n_inputs, W) uint64
        Packed inputs (see :func:`btype.pack`).
    threads : int, optional
        Numba threads to use (restored afterwards); default: Numba's setting.
    block : int, optional
        Words per cache block; default :func:`choose_block`.

    Returns
    -------
    (n_outputs, W) uint64
    """
    check_network(net)
    _check_feedforward(net)
    P = _check_packed(net, P)
    if block is not None:
        # more words than the machine has would only allocate an oversized buffer
        block = min(check_int(block, "block", 1), max(P.shape[1], 1))
    with using_threads(threads):
        return _eval_rows(net, P, "outputs", block)


def evaluate(net: Network, X: ArrayLike, *, threads: int | None = None) -> np.ndarray:
    """Evaluate a feed-forward machine combinationally.

    Parameters
    ----------
    net : Network
    X : (S, n_inputs) bool

    Returns
    -------
    (S, n_outputs) bool
    """
    check_network(net)
    _check_feedforward(net)
    X = _check_inputs(net, X, allow_sequence=False)
    S = X.shape[0]
    P = pack(X) if net.n_inputs else np.zeros((0, n_words(S)), np.uint64)
    with using_threads(threads):
        out = _eval_rows(net, P, "outputs")
    return unpack(out, S)


def node_values(net: Network, P: ArrayLike, *, threads: int | None = None) -> np.ndarray:
    """Every node's packed value, (n_nodes, W) uint64, for a feed-forward machine."""
    check_network(net)
    _check_feedforward(net)
    P = _check_packed(net, P)
    with using_threads(threads):
        return _eval_rows(net, P, "nodes")


# ---------------------------------------------------------------------------
# clocked evaluation
# ---------------------------------------------------------------------------
def _pack_initial(net, initial, S):
    W = n_words(S)
    if initial is None:
        return np.zeros((net.n_gates, W), np.uint64)
    init = check_bool_array(initial, "initial")
    G = net.n_gates
    if init.shape == (G,):
        return np.where(init[:, None], _ONES, np.uint64(0)).repeat(W, axis=1).astype(np.uint64)
    if init.shape == (S, G):
        return pack(init) if G else np.zeros((0, W), np.uint64)
    raise ValueError(f"initial must have shape (n_gates,) = ({G},) or (S, n_gates) = ({S}, {G}), "
                     f"got {init.shape}")


def run(net: Network, X: ArrayLike, steps: int, initial: ArrayLike | None = None, record: bool = False, *,
        threads: int | None = None, max_gate_evals: int = MAX_GATE_EVALS) -> np.ndarray:
    """Clocked evaluation (Turing's dynamics) of any machine.

    Parameters
    ----------
    net : Network
        Any wiring, loops and self-loops included.
    X : (S, n_inputs) bool or (S, T, n_inputs) bool
        Inputs held fixed, or a sequence: the inputs hold frame ``t`` at time
        ``t`` for ``t < T`` and read 0 from time ``T`` on.
    steps : int
        Number of clock steps (>= 0).
    initial : (n_gates,) or (S, n_gates) bool, optional
        Gate states at time 0 (default all zeros). Turing-mode link registers
        start at 1.
    record : bool
        Return the whole history of gate states instead of the outputs.
    threads : int, optional
        Numba threads to use (restored afterwards); default: Numba's setting.
    max_gate_evals : int
        Refuse a run of more gate evaluations than this: ``steps x n_gates x S``,
        with ``S`` rounded up to whole 64-sample words (default
        :data:`MAX_GATE_EVALS`, 10**12, minutes on one core). Raise it for a
        longer run.

    Returns
    -------
    (S, n_outputs) bool: output node values at time ``steps``; or, with
    ``record``, (steps + 1, S, n_gates) bool gate states at times 0..steps.
    """
    check_network(net)
    X = _check_inputs(net, X, allow_sequence=True)
    steps = check_int(steps, "steps", 0, MAX_COUNT)
    record = check_bool(record, "record")
    max_gate_evals = check_int(max_gate_evals, "max_gate_evals", 0)
    work = steps * max(net.n_gates, 1) * 64 * n_words(X.shape[0])
    if work > max_gate_evals:
        raise ValueError(f"steps = {steps} on {X.shape[0]} samples and {net.n_gates} gates is {work:.3g} "
                         f"gate evaluations, more than max_gate_evals = {max_gate_evals:.3g}; "
                         "pass a larger max_gate_evals= to run it")
    S, G = X.shape[0], net.n_gates
    W = n_words(S)
    init = _pack_initial(net, initial, S)
    if X.ndim == 2:
        frames = (pack(X) if net.n_inputs else np.zeros((0, W), np.uint64))[None]
        held = True
    else:
        T = X.shape[1]
        frames = np.stack([pack(X[:, t]) for t in range(T)]) if net.n_inputs else \
            np.zeros((T, 0, W), np.uint64)
        held = False
    _, om, reg = link_masks(net)
    out = np.empty((net.n_outputs, W), np.uint64)
    history = np.empty((steps + 1, G, W) if record else (0, 0, 0), np.uint64)
    if W:
        with using_threads(threads):
            block = choose_block(W, 3 * net.n_nodes, numba.get_num_threads())
            n_chunks = _chunks(W, block)
            args = (np.ascontiguousarray(frames), held, np.ascontiguousarray(net.wiring), om, reg, init,
                    steps, np.asarray(net.outputs, np.int64), block)
            if n_chunks == 1:
                kernels.run_chunk(*args, 0, 1, out, history)
            else:
                kernels.run_blocks(*args, n_chunks, out, history)
    if record:
        return np.stack([unpack(history[t], S) for t in range(steps + 1)]) if G else \
            np.zeros((steps + 1, S, 0), bool)
    return unpack(out, S)


# ---------------------------------------------------------------------------
# delta evaluation
# ---------------------------------------------------------------------------
class DeltaEvaluator:
    """Node values of a feed-forward machine, kept up to date under bit flips.

    Parameters
    ----------
    net : Network
        A feed-forward machine.
    X : (S, n_inputs) bool
        The samples.

    Attributes
    ----------
    values : (n_nodes, W) uint64
        Every node's packed value (read-only view).
    recomputed : int
        Gates recomputed by all flips so far.
    """

    def __init__(self, net: Network, X: ArrayLike) -> None:
        check_network(net)
        _check_feedforward(net)
        X = _check_inputs(net, X, allow_sequence=False)
        self._net = net
        self.n_samples = X.shape[0]
        W = n_words(self.n_samples)
        P = pack(X) if net.n_inputs else np.zeros((0, W), np.uint64)
        self._values = _eval_rows(net, P, "nodes")
        xm, om, _ = link_masks(net)
        ptr, idx = fanout(net)
        G = net.n_gates
        none = np.zeros(0, np.int64)   # outputs are not tracked: no output lists, no dirty list
        self._plan = kernels.DeltaPlan(
            n_in=net.n_inputs, turing=net.link == "turing", src=np.ascontiguousarray(net.wiring),
            tail=tail_mask(self.n_samples), rd_ptr=ptr, rd_idx=idx,
            out_ptr=np.zeros(net.n_nodes + 1, np.int64), out_idx=none)
        self._state = kernels.DeltaState(
            values=self._values, xm=xm.copy(), om=om.copy(),   # flips update the masks in place
            heap=np.zeros(max(G, 1), np.int64), queued=np.zeros(max(G, 1), bool),
            undo_gates=np.zeros(1, np.int64), undo_rows=np.zeros((1, W), np.uint64),
            dirty=none, res=np.zeros(2, np.int64))
        self._enabled = np.array(net.enabled)
        self._modifiers = np.ascontiguousarray(net.modifiers)
        self.recomputed = 0

    @property
    def values(self) -> np.ndarray:
        view = self._values.view()
        view.setflags(write=False)
        return view

    @property
    def network(self) -> Network:
        """The machine with the current modifier states."""
        return self._net.with_enabled(self._enabled)

    def outputs_packed(self) -> np.ndarray:
        """(n_outputs, W) uint64 current outputs."""
        return self._values[self._net.outputs]

    def outputs(self) -> np.ndarray:
        """(S, n_outputs) bool current outputs."""
        return unpack(self.outputs_packed(), self.n_samples)

    def flip(self, links: ArrayLike) -> int:
        """Flip the enable bits of modified links and update the node values.

        Parameters
        ----------
        links : (k, 2) int array_like of (gate, port)
            Links to flip; each must carry a modifier. A link listed twice is
            flipped twice (back to where it was).

        Returns
        -------
        int : number of gates recomputed.
        """
        links = np.asarray(links)
        if links.size == 0:
            return 0
        if links.dtype == bool or not np.issubdtype(links.dtype, np.integer):
            raise TypeError(f"links must be integer (gate, port) pairs, got dtype {links.dtype}")
        links = links.reshape(-1, 2) if links.ndim == 1 and links.size == 2 else links
        if links.ndim != 2 or links.shape[1] != 2:
            raise ValueError(f"links must have shape (k, 2), got {links.shape}")
        n = int(kernels.delta_flip(self._plan, self._state, np.ascontiguousarray(links, dtype=np.int64),
                                   self._enabled, self._modifiers))
        if n < 0:   # the kernel checked the links and changed nothing
            self._refuse(links[-1 - n])
        self.recomputed += n
        return n

    def _refuse(self, link):
        g, p = int(link[0]), int(link[1])
        if not (0 <= g < self._net.n_gates and 0 <= p <= 1):
            raise ValueError(f"links contains {[g, p]}, not a (gate, port) "
                             f"of this {self._net.n_gates}-gate network")
        raise ValueError(f"link {[g, p]} carries no modifier and cannot be flipped")
