"""Numba compilation: where kernels are cached and how to switch that off.

Kernels compile on first use and are cached on disk (``cache=True``) in the
``__pycache__`` folders of the package, so later processes load them in a
fraction of a second. Set ``BTYPE_NO_CACHE=1`` before importing btype to
compile in memory only; call :func:`clear_cache` to delete the cached files.
"""
from __future__ import annotations

import pathlib

__all__ = ["clear_cache", "cache_files"]

_PACKAGE = pathlib.Path(__file__).resolve().parent


def cache_files():
    """Numba cache files (index and data) of btype's kernels."""
    return sorted(p for pattern in ("*.nbi", "*.nbc") for p in _PACKAGE.rglob(f"__pycache__/{pattern}"))


def clear_cache() -> int:
    """Delete btype's Numba cache files; returns how many were removed."""
    files = cache_files()
    for path in files:
        path.unlink(missing_ok=True)
    return len(files)
