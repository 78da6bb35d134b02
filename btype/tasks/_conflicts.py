"""Rows of a type fr PLA file listed with both output values: refused, voted on, or dropped."""
from __future__ import annotations

import numpy as np

__all__ = ["CONFLICTS", "resolve_conflicts"]

#: What :func:`btype.tasks.read_pla` may do with conflicting rows.
CONFLICTS = ("error", "majority", "drop")
_ZERO, _ONE = b"01"


def resolve_conflicts(X, O, mode, refuse):
    """(X, O, n) with the conflicts of the listed rows resolved by ``mode``.

    ``X`` (R, n_i) bool are the expanded rows, ``O`` (R, n_o) their output
    characters; a conflict is an input row and output with ``1`` on one line
    and ``0`` on another. ``"error"`` calls ``refuse(rows, output)`` for the
    first one (the rows listing it); ``"majority"`` sets the output of each of
    those lines to the value most of them give (a tie: the value listed
    first); ``"drop"`` removes every line of an input row that has a conflict
    on any output. ``n`` counts the input rows that had a conflict.
    """
    on, off = O == _ONE, O == _ZERO
    if not (on.any() and off.any()):
        return X, O, 0
    _, row_id = np.unique(np.packbits(X, axis=1), axis=0, return_inverse=True)
    row_id = row_id.ravel()
    shape = (int(row_id.max()) + 1, O.shape[1])
    n_on, n_off = np.zeros(shape, np.int64), np.zeros(shape, np.int64)
    for count, mask in ((n_on, on), (n_off, off)):
        r, c = np.nonzero(mask)
        np.add.at(count, (row_id[r], c), 1)
    clash = (n_on > 0) & (n_off > 0)
    if not clash.any():
        return X, O, 0
    if mode == "error":
        key, out = np.argwhere(clash)[0]
        refuse(np.flatnonzero(row_id == key), int(out))
    n = int(clash.any(axis=1).sum())
    if mode == "drop":
        keep = ~clash.any(axis=1)[row_id]
        return X[keep], O[keep], n
    first_on, first_off = np.full(shape, len(O), np.int64), np.full(shape, len(O), np.int64)
    for first, mask in ((first_on, on), (first_off, off)):
        r, c = np.nonzero(mask)
        np.minimum.at(first, (row_id[r], c), r)
    wins = (n_on > n_off) | ((n_on == n_off) & (first_on < first_off))
    change = clash[row_id] & (on | off)
    O = O.copy()
    O[change] = np.where(wins[row_id], _ONE, _ZERO)[change]
    return X, O, n
