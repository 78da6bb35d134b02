"""The IDX file format of MNIST and Fashion-MNIST (plain or gzipped)."""
from __future__ import annotations

import math
import os

import numpy as np

from ._io import DEFAULT_MAX_BYTES, opened
from .base import check_int

__all__ = ["read_idx"]

_IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """Read one IDX file (the MNIST format), gunzipped when its name ends in ``.gz``.

    Parameters
    ----------
    path : str or os.PathLike
    max_bytes : int
        Refuse files whose header declares more data bytes (checked before the
        data are read, so a small ``.gz`` cannot expand to gigabytes).

    Returns
    -------
    ndarray of the stored dtype and shape (native byte order).

    Raises
    ------
    ValueError naming the file for a foreign, truncated, oversized or padded file.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or path, got {path!r}")
    max_bytes = check_int(max_bytes, "max_bytes", 1, 1 << 46)
    path = os.fspath(path)
    with opened(path) as fh:
        magic = fh.read(4)
        if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_TYPES:
            raise ValueError(f"{path}: not an IDX file (bad magic number {magic.hex()})")
        dtype, ndim = _IDX_TYPES[magic[2]], magic[3]
        dims = fh.read(4 * ndim)
        if len(dims) < 4 * ndim:
            raise ValueError(f"{path}: truncated IDX header ({ndim} dimensions declared)")
        shape = tuple(int(d) for d in np.frombuffer(dims, ">u4"))
        size = math.prod(shape) * dtype.itemsize  # Python ints: four 2**32 dimensions must not wrap
        if size > max_bytes:
            raise ValueError(f"{path}: IDX header declares shape {shape} ({size:,} data bytes), over "
                             f"max_bytes={max_bytes:,}; pass a larger max_bytes= to read it")
        raw = fh.read(size + 1)
    if len(raw) != size:
        found = f"more than {size}" if len(raw) > size else str(len(raw))
        raise ValueError(f"{path}: IDX header says shape {shape} ({size} data bytes) but the file has "
                         f"{found} data bytes")
    return np.frombuffer(raw, dtype).reshape(shape).astype(dtype.newbyteorder("="))
