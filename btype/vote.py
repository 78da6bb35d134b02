"""Classification on packed words: the group vote without unpacking the outputs.

A classification machine's outputs are split into ``n_classes`` equal
consecutive groups; a class's score is the number of ones in its group and the
prediction is the highest score, ties to the lowest class (docs/design.md section 3;
:func:`btype.tasks.classify` does the same on unpacked outputs). Here the
machine is first pruned (:func:`btype.export.prune`, once per network): outputs
that fold to constants become a fixed offset of their class, an output node
read several times is evaluated once and counted with its multiplicity. The
remaining outputs are evaluated packed (:func:`btype.evaluate_packed`) a
cache-sized chunk of words at a time and counted bit-sliced, 64 samples per
word operation, by carry-save adders; the per-sample argmax is taken on the
bit-sliced counts too.
"""
from __future__ import annotations

import numbers

import numba
import numpy as np
from numpy.typing import ArrayLike

from . import _vote_kernels as kernels
from ._checks import check_int
from .bits import n_words, pack
from .export.prune import prune as _prune
from .network import Network, check_network
from .simulate import (_check_feedforward, _check_inputs, _check_packed,
                       evaluate_packed, using_threads)

__all__ = ["classify", "classify_packed", "count_correct"]

CHUNK_BYTES = 2 << 20  # output words evaluated and counted per call; 1-4 MiB measured alike


def _check_classes(net, n_classes):
    if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral):
        raise TypeError(f"n_classes must be an int, got {n_classes!r}")
    if n_classes < 1 or net.n_outputs % n_classes or net.n_outputs == 0:
        raise ValueError(f"n_classes = {n_classes}: the network's {net.n_outputs} outputs cannot be "
                         "split into that many equal, non-empty class groups")
    return int(n_classes)


def _check_flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def _vote_plan(net, n_classes, pruned):
    """What each class counts, made once per (network, n_classes, pruned).

    Returns ``(machine, rows, ptr, offsets, n_bits)``: ``machine`` computes the
    distinct output nodes that are not constants; class ``c`` counts rows
    ``rows[ptr[c]:ptr[c + 1]]`` of its outputs (repeated by multiplicity) plus
    ``offsets[c]`` constant ones; ``n_bits`` planes hold any count.
    """
    def make(net):
        if pruned:
            machine, mapping = _prune(net)
            constant = np.array([fate == "constant" for fate, _ in mapping.outputs], bool)
            ones = np.array([fate == "constant" and value == 1 for fate, value in mapping.outputs], bool)
        else:
            machine = net
            constant = ones = np.zeros(net.n_outputs, bool)
        group = net.n_outputs // n_classes
        cls = np.arange(net.n_outputs) // group
        # outputs stay in their order, so each class's rows are consecutive
        nodes, rows = np.unique(machine.outputs[~constant], return_inverse=True)
        rows = np.ascontiguousarray(rows.reshape(-1), dtype=np.int64)
        ptr = np.zeros(n_classes + 1, np.int64)
        ptr[1:] = np.cumsum(np.bincount(cls[~constant], minlength=n_classes))
        offsets = np.bincount(cls[ones], minlength=n_classes).astype(np.int64)
        evaluated = machine.replace(outputs=nodes)
        return evaluated, rows, ptr, offsets, max(1, int(group).bit_length())

    return net._derived(f"vote_plan_{n_classes}_{'pruned' if pruned else 'full'}", make)


def _classify_words(net, P, n_samples, n_classes, threads, pruned):
    machine, rows, ptr, offsets, n_bits = _vote_plan(net, n_classes, pruned)
    W = P.shape[1]
    pred = np.empty(64 * W, np.int64)
    chunk = max(8, CHUNK_BYTES // (8 * max(machine.n_outputs, 1)) // 8 * 8)
    with using_threads(threads):
        n_threads = numba.get_num_threads()
        for w0 in range(0, W, chunk):
            w1 = min(W, w0 + chunk)
            Y = evaluate_packed(machine, np.ascontiguousarray(P[:, w0:w1]))
            out = pred[64 * w0: 64 * w1]
            if n_threads == 1 or w1 - w0 < 16:  # a parallel region costs more than it saves here
                kernels._vote_range(Y, rows, ptr, offsets, n_bits, 0, w1 - w0, out)
            else:
                block = -(-(w1 - w0) // n_threads)
                kernels._vote_blocks(Y, rows, ptr, offsets, n_bits, block, out)
    return pred[:n_samples]


def classify_packed(net: Network, P: ArrayLike, n_samples: int, n_classes: int, *, threads: int | None = None,
                    prune: bool = True) -> np.ndarray:
    """Class predictions of a feed-forward machine on packed inputs.

    Parameters
    ----------
    net : Network
        A feed-forward machine whose outputs split into ``n_classes`` equal groups.
    P : (n_inputs, W) uint64
        Packed inputs (see :func:`btype.pack`).
    n_samples : int
        Samples held in ``P`` (at most ``64 * W``; padding bits are ignored).
    n_classes : int
    threads : int, optional
        Numba threads (restored afterwards); default: Numba's setting.
    prune : bool
        Evaluate the pruned machine (:func:`btype.export.prune`, made once per
        network and remembered on it). False evaluates the machine as it is,
        which saves the pruning on a network scored only once.

    Returns
    -------
    (n_samples,) int64
        The class with the most ones in its output group; ties to the lowest.
    """
    check_network(net)
    _check_feedforward(net)
    n_classes = _check_classes(net, n_classes)
    P = _check_packed(net, P)
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
        raise TypeError(f"n_samples must be an int, got {n_samples!r}")
    if not 0 <= n_samples <= 64 * P.shape[1]:
        raise ValueError(f"n_samples = {n_samples} is not in [0, {64 * P.shape[1]}], the samples P holds")
    P = P[:, :n_words(n_samples)]
    return _classify_words(net, P, int(n_samples), n_classes, threads, _check_flag(prune, "prune"))


def classify(net: Network, X: ArrayLike, n_classes: int, *, threads: int | None = None,
             prune: bool = True) -> np.ndarray:
    """Class predictions of a feed-forward machine: ``btype.tasks.classify(btype.evaluate(net, X),
    n_classes)``, computed on packed words.

    Parameters
    ----------
    net : Network
    X : (S, n_inputs) bool
    n_classes : int
    threads, prune
        As in :func:`classify_packed`.

    Returns
    -------
    (S,) int64
    """
    check_network(net)
    _check_feedforward(net)
    n_classes = _check_classes(net, n_classes)
    X = _check_inputs(net, X, allow_sequence=False)
    S = X.shape[0]
    with using_threads(threads):
        P = _packed(np.ascontiguousarray(X), numba.get_num_threads())
    return _classify_words(net, P, S, n_classes, threads, _check_flag(prune, "prune"))


def _packed(X, n_threads):
    """``btype.pack(X)`` of a C-contiguous (S, n) bool ``X``, its word blocks split over
    ``n_threads`` threads."""
    S, n = X.shape
    W = n_words(S)
    if n_threads == 1 or W < 64 or not n:
        return pack(X)
    P = np.empty((n, W), np.uint64)
    kernels._pack_blocks(X.view(np.uint8), -(-W // n_threads), P)
    return P


def count_correct(net: Network, P: ArrayLike, labels: ArrayLike, n_classes: int, *, n_samples: int | None = None,
                  threads: int | None = None, prune: bool = True) -> int:
    """Number of samples that a feed-forward machine classifies as ``labels`` say.

    Parameters
    ----------
    net : Network
    P : (n_inputs, W) uint64
        Packed inputs.
    labels : (S,) int
        Classes in ``[0, n_classes)``, one per sample that ``P`` holds.
    n_classes : int
    n_samples : int, optional
        Samples held in ``P`` (packed words do not record how many they hold);
        ``labels`` must then have exactly this many entries, so that no padding
        bit of the last word is counted as a sample. Default: ``len(labels)``,
        which the caller then guarantees.
    threads, prune
        As in :func:`classify_packed`.

    Returns
    -------
    int : accuracy times ``S``.
    """
    labels = np.asarray(labels)
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be integer class indices, got dtype {labels.dtype}")
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-dimensional (S,), got shape {labels.shape}")
    if isinstance(n_classes, numbers.Integral) and labels.size:
        bad = (labels < 0) | (labels >= n_classes)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"labels[{i}] = {labels[i]} is not a class in [0, {n_classes})")
    check_network(net)
    P = _check_packed(net, P)
    if n_samples is not None:
        n_samples = check_int(n_samples, "n_samples", 0, 64 * P.shape[1])
        if len(labels) != n_samples:
            raise ValueError(f"{len(labels)} labels for the n_samples = {n_samples} samples P holds: "
                             "give one label per sample")
    if P.shape[1] != n_words(len(labels)):
        raise ValueError(f"P holds {P.shape[1]} words but {len(labels)} labels need {n_words(len(labels))}")
    pred = classify_packed(net, P, len(labels), n_classes, threads=threads, prune=prune)
    return int(np.count_nonzero(pred == labels))
