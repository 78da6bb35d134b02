"""The one set of argument checkers that every public function of the package uses.

Each checker takes the value and the name the caller knows it by, returns the value
in its canonical type, and raises ``TypeError`` (wrong kind of value) or
``ValueError`` (right kind, wrong value) whose message names the argument and the
offending value. So the same mistake reads the same wherever it is made.
"""
from __future__ import annotations

import math
import numbers
import os

import numpy as np

__all__ = ["check_int", "check_whole", "check_real", "check_fraction", "check_bool", "check_choice",
           "check_seed", "check_callable", "check_path", "check_bool_array", "MAX_COUNT", "MAX_SEED"]

#: Largest count limit: counters are int64 inside the kernels, with room to overshoot.
MAX_COUNT = 2 ** 62
#: Seeds are in [0, MAX_SEED].
MAX_SEED = 2 ** 63 - 1


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _range_text(lo, hi, lo_open=False, hi_open=False) -> str:
    if hi is None:
        return f"> {lo}" if lo_open else f">= {lo}"
    if lo is None:
        return f"< {hi}" if hi_open else f"<= {hi}"
    return f"in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}" if (
        isinstance(lo, float) or isinstance(hi, float)) else \
        f"in {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"


def check_int(value, name: str, lo: int | None = None, hi: int | None = None) -> int:
    """``value`` as an int in ``[lo, hi]`` (either bound may be None: unbounded)."""
    if not _is_int(value):
        raise TypeError(f"{name} must be an int, got {value!r}")
    value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name} must be {_range_text(lo, hi)}, got {value}")
    return value


def check_whole(value, name: str, lo: int = 0, hi: int = MAX_COUNT) -> int:
    """A count given as an int or a whole float (``1e10``), as an int in ``[lo, hi]``."""
    if not _is_real(value):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if not math.isfinite(value) or value != math.floor(value):
        raise ValueError(f"{name} must be a finite whole number, got {value!r}")
    value = int(value)
    if not lo <= value <= hi:
        hi_text = "2**62" if hi == MAX_COUNT else str(hi)
        raise ValueError(f"{name} must be in [{lo}, {hi_text}], got {value!r}")
    return value


def check_real(value, name: str, lo: float | None = None, hi: float | None = None, *,
               lo_open: bool = False, hi_open: bool = False) -> float:
    """``value`` as a finite float within the bounds (open where asked)."""
    if not _is_real(value):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    bad = not math.isfinite(value)
    if lo is not None:
        bad = bad or value < lo or (lo_open and value == lo)
    if hi is not None:
        bad = bad or value > hi or (hi_open and value == hi)
    if bad:
        where = "" if lo is None and hi is None else " " + _range_text(
            None if lo is None else float(lo), None if hi is None else float(hi), lo_open, hi_open)
        raise ValueError(f"{name} must be a finite number{where}, got {value!r}")
    return value


def check_fraction(value, name: str, *, lo_open: bool = False, hi_open: bool = True) -> float:
    """A fraction in [0, 1) by default (the share of rows held out, say)."""
    return check_real(value, name, 0.0, 1.0, lo_open=lo_open, hi_open=hi_open)


def check_bool(value, name: str) -> bool:
    """A real ``bool`` (numpy's included); 0 and 1 are refused, as they usually mean a mistake."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def check_choice(value, name: str, choices):
    """``value`` if it is one of ``choices``."""
    try:
        ok = value in choices
    except TypeError:   # an unhashable value looked up in a dict or set
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def check_seed(seed, name: str = "seed") -> int:
    """A seed as an int in [0, 2**63 - 1]."""
    if not _is_int(seed):
        raise TypeError(f"{name} must be an int, got {seed!r}")
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"{name} must be in [0, 2**63 - 1], got {seed!r}")
    return int(seed)


def check_callable(value, name: str, *, optional: bool = True):
    """A callable (or None where ``optional``)."""
    if value is None and optional:
        return None
    if not callable(value):
        raise TypeError(f"{name} must be callable{' or None' if optional else ''}, got {value!r}")
    return value


def check_path(value, name: str, *, optional: bool = True) -> str | None:
    """A path (str or os.PathLike) as a str, or None where ``optional``."""
    if value is None and optional:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path{' or None' if optional else ''}, got {value!r}")
    path = os.fspath(value)
    if isinstance(path, bytes) or path == "" or "\0" in path:
        raise ValueError(f"{name} must be a non-empty path, got {value!r}")
    return path


def check_bool_array(X, name: str, ndim: int | tuple | None = None) -> np.ndarray:
    """A boolean array from bools or 0/1 integers; TypeError naming ``name`` for other values."""
    X = np.asarray(X)
    if X.dtype != bool:
        if not np.issubdtype(X.dtype, np.integer) or (X.size and not np.isin(X, (0, 1)).all()):
            raise TypeError(f"{name} must be boolean (or 0/1 integers), got dtype {X.dtype}")
        X = X.astype(bool)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if X.ndim not in allowed:
            raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimensions, got shape {X.shape}")
    return X
