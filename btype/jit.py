"""Numba compilation: one wrapper, one cache switch, one command to clear it.

Every kernel of btype and sgd is compiled through :func:`njit`, which passes its
arguments on to ``numba.njit`` but turns ``cache=True`` off when the environment
variable ``BTYPE_NO_CACHE=1`` is set before the kernels' modules are imported.
Cached kernels live in the ``__pycache__`` folders of the packages, so later
processes load them in a fraction of a second; :func:`clear_cache` deletes them.
"""
from __future__ import annotations

import os
import pathlib

import numba

__all__ = ["njit", "caching", "clear_cache", "cache_files"]

_ROOT = pathlib.Path(__file__).resolve().parent.parent
_PACKAGES = ("btype", "sgd")


def caching() -> bool:
    """Whether kernels are cached on disk (False when ``BTYPE_NO_CACHE`` is set to 1)."""
    return os.environ.get("BTYPE_NO_CACHE", "0") in ("", "0")


def njit(*args, **kwargs):
    """``numba.njit`` with ``cache`` honouring ``BTYPE_NO_CACHE``; use as ``@njit(...)`` or ``@njit``."""
    if kwargs.get("cache"):
        kwargs["cache"] = caching()
    return numba.njit(*args, **kwargs)


def cache_files():
    """Numba cache files (index and data) of the kernels of btype and sgd."""
    return sorted(p for pkg in _PACKAGES if (_ROOT / pkg).is_dir()
                  for pattern in ("*.nbi", "*.nbc") for p in (_ROOT / pkg).rglob(f"__pycache__/{pattern}"))


def clear_cache() -> int:
    """Delete the Numba cache files of btype and sgd; returns how many were removed."""
    files = cache_files()
    for path in files:
        path.unlink(missing_ok=True)
    return len(files)
