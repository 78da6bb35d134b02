"""Rows written as an Espresso PLA file, which :func:`btype.tasks.read_pla` (and Espresso/ABC) read back."""
from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["write_pla"]


def write_pla(path: str | os.PathLike, X: ArrayLike, Y: ArrayLike, *, type: str = "fr",
              input_names: Sequence[str] | None = None, output_names: Sequence[str] | None = None) -> None:
    """Write rows as a PLA file that :func:`read_pla` (and Espresso/ABC) read back.

    Parameters
    ----------
    path : path
    X : (S, n_inputs) bool
    Y : (S, n_outputs) bool
    type : ``"fr"`` (each row lists its outputs) or ``"f"`` (only rows' ON outputs count;
        meant for complete truth tables).
    input_names, output_names : sequences of str, optional (``.ilb``/``.ob``)
    """
    X, Y = np.asarray(X), np.asarray(Y)
    if X.dtype != bool or Y.dtype != bool or X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y):
        raise ValueError(f"X and Y must be 2-D bool arrays with equal rows, got {X.dtype}{X.shape} "
                         f"and {Y.dtype}{Y.shape}")
    if type not in ("f", "fr"):
        raise ValueError(f"type must be 'f' or 'fr', got {type!r}")
    header = [f".i {X.shape[1]}", f".o {Y.shape[1]}"]
    for key, names, count in ((".ilb", input_names, X.shape[1]), (".ob", output_names, Y.shape[1])):
        if names is not None:
            names = [str(n) for n in names]
            if len(names) != count or any(not n or any(ch.isspace() for ch in n) for n in names):
                raise ValueError(f"{key[1:]} names must be {count} non-empty names without spaces")
            header.append(f"{key} {' '.join(names)}")
    header += [f".p {len(X)}", f".type {type}"]
    chars = np.frombuffer(b"01", np.uint8)
    body = np.concatenate([chars[X.astype(np.uint8)], np.full((len(X), 1), ord(" "), np.uint8),
                           chars[Y.astype(np.uint8)], np.full((len(X), 1), ord("\n"), np.uint8)],
                          axis=1)
    with open(path, "wb") as fh:
        fh.write(("\n".join(header) + "\n").encode())
        fh.write(body.tobytes())
        fh.write(b".e\n")
