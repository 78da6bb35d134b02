"""Clocked tasks for Turing's recurrent machines: the answer depends on a stream of inputs.

Representation (what ``btype.run`` and the relaxation consume): ``X`` is
``(S, T, 1)`` bool, one input line whose frame ``t`` is presented at clock step
``t``; from step ``T`` on the input reads 0. ``Y`` is ``(S, 1)`` bool, the
value the output node must hold at clock step ``task.steps = T + settle``. The
``settle`` steps after the stream give the gates time to finish computing:
every NAND adds one step of delay.

Stream ``r`` of an exhaustive task sets frame ``t`` to bit ``t`` of ``r``, the
truth-table convention of docs/design.md. When ``2**T`` exceeds ``max_exhaustive``,
train and test are independent seeded random samples of ``n_samples`` streams
each; otherwise both splits hold every stream.
"""
from __future__ import annotations

import numpy as np

from .base import Task, check_int

__all__ = ["stream_parity", "delay_xor", "echo", "MAX_STREAM"]

#: Longest stream (frames) that the sequence tasks accept.
MAX_STREAM = 128


def _streams(length, max_exhaustive, n_samples, seed):
    """(train, test) streams, each (S, length) bool."""
    max_exhaustive = check_int(max_exhaustive, "max_exhaustive", 1, 1 << 24)
    if (1 << length) <= max_exhaustive:
        r = np.arange(1 << length, dtype=np.int64)
        streams = ((r[:, None] >> np.arange(length)) & 1).astype(bool)
        streams.setflags(write=False)
        return streams, streams
    n_samples = check_int(n_samples, "n_samples", 1, 1 << 22)
    seed = check_int(seed, "seed", 0, 2**63 - 1)
    rng = np.random.default_rng(seed)
    return rng.random((n_samples, length)) < 0.5, rng.random((n_samples, length)) < 0.5


def _sequence_task(name, streams, target, settle, description):
    train, test = streams
    X_train, X_test = train[:, :, None], test[:, :, None]
    T = train.shape[1]
    return Task(name, X_train, target(train)[:, None], X_test, target(test)[:, None],
                description=description, steps=T + settle)


def stream_parity(k: int, *, settle: int | None = None, max_exhaustive: int = 4096,
                  n_samples: int = 2048, seed: int = 0) -> Task:
    """``stream_parity{k}``: ``k`` bits arrive one per step; output their parity.

    Parameters
    ----------
    k : int
        Stream length, 1..MAX_STREAM.
    settle : int, optional
        Steps between the last frame and the readout. Default
        ``max(4, 3 * ceil(log2 k))``: enough for a tree of NAND XORs (three gate
        delays each) over the stream.
    max_exhaustive : int
        Use all ``2**k`` streams when there are at most this many.
    n_samples, seed : int
        Size and seed of each random split otherwise.

    Returns
    -------
    Task with ``X`` (S, k, 1), ``Y`` (S, 1) and ``steps = k + settle``.
    """
    k = check_int(k, "k", 1, MAX_STREAM)
    if settle is None:
        settle = max(4, 3 * int(np.ceil(np.log2(k))) if k > 1 else 0)
    settle = check_int(settle, "settle", 0, 4 * MAX_STREAM)
    return _sequence_task(f"stream_parity{k}", _streams(k, max_exhaustive, n_samples, seed),
                          lambda s: s.sum(axis=1) % 2 == 1, settle,
                          f"clocked: parity of a {k}-bit stream, read {settle} steps after it ends")


def delay_xor(k: int, *, length: int | None = None, settle: int = 4, max_exhaustive: int = 4096,
              n_samples: int = 2048, seed: int = 0) -> Task:
    """``delay_xor{k}``: output the XOR of the last stream bit and the bit ``k`` steps before it.

    With frames ``x[0..T-1]`` the target is ``x[T-1] XOR x[T-1-k]``; the other
    frames are distractors.

    Parameters
    ----------
    k : int
        Distance between the two bits, 1..MAX_STREAM-1.
    length : int, optional
        Stream length ``T`` (default ``k + 3``), at least ``k + 1``.
    settle, max_exhaustive, n_samples, seed :
        As for :func:`stream_parity`; ``settle`` defaults to 4.

    Returns
    -------
    Task with ``X`` (S, T, 1), ``Y`` (S, 1) and ``steps = T + settle``.
    """
    k = check_int(k, "k", 1, MAX_STREAM - 1)
    length = check_int(k + 3 if length is None else length, "length", k + 1, MAX_STREAM)
    settle = check_int(settle, "settle", 0, 4 * MAX_STREAM)
    return _sequence_task(f"delay_xor{k}", _streams(length, max_exhaustive, n_samples, seed),
                          lambda s: s[:, -1] ^ s[:, -1 - k], settle,
                          f"clocked: XOR of the last of {length} stream bits and the bit {k} "
                          f"steps before it, read {settle} steps after the stream")


def echo(k: int, *, length: int | None = None, settle: int = 4, max_exhaustive: int = 4096,
         n_samples: int = 2048, seed: int = 0) -> Task:
    """``echo{k}``: output the stream bit seen ``k`` steps before the last one.

    With frames ``x[0..T-1]`` the target is ``x[T-1-k]``: a memory task.

    Parameters
    ----------
    k : int
        How far back, 0..MAX_STREAM-1.
    length : int, optional
        Stream length ``T`` (default ``k + 3``), at least ``k + 1``.
    settle, max_exhaustive, n_samples, seed :
        As for :func:`delay_xor`.

    Returns
    -------
    Task with ``X`` (S, T, 1), ``Y`` (S, 1) and ``steps = T + settle``.
    """
    k = check_int(k, "k", 0, MAX_STREAM - 1)
    length = check_int(k + 3 if length is None else length, "length", k + 1, MAX_STREAM)
    settle = check_int(settle, "settle", 0, 4 * MAX_STREAM)
    return _sequence_task(f"echo{k}", _streams(length, max_exhaustive, n_samples, seed),
                          lambda s: s[:, -1 - k].copy(), settle,
                          f"clocked: the bit seen {k} steps before the last of {length} stream bits, "
                          f"read {settle} steps after the stream")
