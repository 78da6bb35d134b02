"""Packing samples into bits: sample ``s`` is bit ``s % 64`` of word ``s // 64``."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._checks import check_bool_array, check_int
from ._vote_kernels import _pack_range

__all__ = ["pack", "unpack", "n_words", "tail_mask", "popcount"]


def n_words(n_samples: int) -> int:
    """Number of 64-bit words that hold ``n_samples`` samples."""
    return (int(n_samples) + 63) // 64


def tail_mask(n_samples: int) -> np.ndarray:
    """(W,) uint64 mask with a one for every real sample (padding bits are zero)."""
    w = n_words(n_samples)
    mask = np.full(w, np.uint64(0xFFFFFFFFFFFFFFFF), dtype=np.uint64)
    rem = n_samples % 64
    if w and rem:
        mask[-1] = np.uint64((1 << rem) - 1)
    return mask


def pack(X: ArrayLike) -> np.ndarray:
    """Pack a (S, n) boolean matrix into (n, ceil(S/64)) uint64 words.

    Padding bits in the last word are zero.
    """
    X = check_bool_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional (samples, columns), got shape {X.shape}")
    S, n = X.shape
    W = n_words(S)
    P = np.empty((n, W), np.uint64)
    if n and W:   # a kernel that reads each sample's row as it lies (no transposed copy)
        _pack_range(np.ascontiguousarray(X).view(np.uint8), 0, W, P)
    return P


def unpack(P: ArrayLike, n_samples: int) -> np.ndarray:
    """Inverse of :func:`pack`: (n, W) uint64 words -> (n_samples, n) bool."""
    P = np.asarray(P)
    if P.dtype != np.uint64:
        raise TypeError(f"P must be uint64 words, got dtype {P.dtype}")
    if P.ndim != 2:
        raise ValueError(f"P must be 2-dimensional (columns, words), got shape {P.shape}")
    n_samples = check_int(n_samples, "n_samples", 0)
    if n_samples > P.shape[1] * 64:
        raise ValueError(f"n_samples = {n_samples} exceeds the {P.shape[1] * 64} samples that P holds")
    n = P.shape[0]
    as_bytes = np.ascontiguousarray(P.astype("<u8", copy=False)).view(np.uint8).reshape(n, 8 * P.shape[1])
    bits = np.unpackbits(as_bytes, axis=1, bitorder="little")
    return np.ascontiguousarray(bits[:, :n_samples].T.astype(bool))


def popcount(words: ArrayLike) -> int:
    """Number of one bits in an array of uint64 words."""
    words = np.asarray(words, dtype=np.uint64)
    return int(np.unpackbits(words.view(np.uint8)).sum()) if words.size else 0
