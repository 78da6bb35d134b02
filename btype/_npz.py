"""Reading and writing ``.npz`` files as data only.

Every file btype reads back (machines, checkpoints) is an ``.npz`` archive read
here: each member's declared dtype, shape and size are checked *before* any of
its data is read, object arrays are refused (nothing is unpickled), and every
way a damaged archive can fail (a bad zip directory, a corrupt deflate stream,
a truncated member) becomes a ``ValueError`` that names the file and member.
Files are written to a temporary name beside the target, synced and renamed,
so a crash never leaves half a file under the real name.
"""
from __future__ import annotations

import json
import math
import os
import uuid
import zipfile
import zlib

import numpy as np

__all__ = ["read", "write", "json_array", "from_json_array", "MAX_BYTES"]

#: Default bound on the total declared size of the arrays of one file.
MAX_BYTES = 4 << 30
_MAX_HEADER = 10_000
_KINDS = "biufcSU"
_READ_ERRORS = (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error, NotImplementedError,
                RuntimeError, KeyError, OverflowError)


def _fail(path, message):
    return ValueError(f"{os.fspath(path)!r}: {message}")


def check_spec(path, name, dtype, shape, want):
    """``want`` is (dtype kinds or dtype, shape with None wildcards or None)."""
    kinds, want_shape = want
    if isinstance(kinds, str) and set(kinds) <= set(_KINDS):
        ok = dtype.kind in kinds
    else:
        ok = dtype == np.dtype(kinds)
    if not ok:
        raise _fail(path, f"array {name!r} has dtype {dtype}, expected {kinds!r}")
    if want_shape is not None:
        if len(shape) != len(want_shape) or any(w is not None and w != s for s, w in zip(shape, want_shape)):
            raise _fail(path, f"array {name!r} has shape {shape}, expected {tuple(want_shape)}")


def _header(fp):
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(fp, max_header_size=_MAX_HEADER)
    if version in ((2, 0), (3, 0)):
        return np.lib.format.read_array_header_2_0(fp, max_header_size=_MAX_HEADER)
    raise ValueError(f"unsupported .npy format version {version}")


def read(path, spec=None, *, allow_extra=True, max_bytes=MAX_BYTES) -> dict:
    """The arrays of the ``.npz`` file ``path``, checked before they are read.

    Parameters
    ----------
    path : path-like
    spec : dict, optional
        ``{name: (kinds, shape)}``: required members, each with its allowed dtype
        (a string of dtype kind letters such as ``"b"``, ``"iu"``, ``"U"``, or a
        dtype) and shape (a tuple, ``None`` entries matching any length; ``None``
        for any shape).
    allow_extra : bool
        Read members that ``spec`` does not name too (otherwise they are refused).
    max_bytes : int
        Refuse a file whose members declare more data than this in total.

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    ValueError
        Naming the file (and member) for anything else: not an npz archive, a
        damaged one, object arrays, a missing member, a dtype or shape other than
        ``spec`` asks for, or more data than ``max_bytes``.
    """
    path = os.fspath(path)
    spec = dict(spec or {})
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    try:
        is_zip = zipfile.is_zipfile(path)
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc})") from None
    if not is_zip:
        raise _fail(path, "is not an .npz archive")
    try:
        with zipfile.ZipFile(path) as archive:
            members = {}
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    raise _fail(path, f"holds {info.filename!r}, which is not an array")
                members[info.filename[:-4]] = info
            missing = sorted(set(spec) - set(members))
            if missing:
                raise _fail(path, f"lacks the array(s) {missing}")
            extra = sorted(set(members) - set(spec))
            if extra and not allow_extra:
                raise _fail(path, f"holds unexpected array(s) {extra}")
            headers, total = {}, 0
            for name, info in members.items():
                with archive.open(info) as fp:
                    shape, fortran, dtype = _header(fp)
                if dtype.hasobject:
                    raise _fail(path, f"array {name!r} holds Python objects ({dtype}); only plain data is read")
                nbytes = math.prod(shape) * dtype.itemsize
                total += nbytes
                if nbytes > info.file_size or total > max_bytes:
                    raise _fail(path, f"array {name!r} declares {nbytes:,} bytes "
                                      f"({'more than the member holds' if nbytes > info.file_size else f'over the limit of {max_bytes:,}'})")
                if name in spec:
                    check_spec(path, name, dtype, shape, spec[name])
                headers[name] = info
            out = {}
            for name, info in headers.items():
                with archive.open(info) as fp:
                    out[name] = np.lib.format.read_array(fp, allow_pickle=False,
                                                         max_header_size=_MAX_HEADER)
            return out
    except ValueError as exc:
        if str(exc).startswith(repr(path)):
            raise
        raise _fail(path, f"is damaged ({exc})") from None
    except _READ_ERRORS as exc:
        raise _fail(path, f"is damaged ({type(exc).__name__}: {exc})") from None


def write(path, arrays: dict, *, compress=False) -> None:
    """Write ``arrays`` to ``path`` as ``.npz``: a temporary file, synced, then renamed."""
    path = os.fspath(path)
    for name, value in arrays.items():
        if np.asarray(value).dtype.hasobject:
            raise TypeError(f"array {name!r} holds Python objects; only plain data can be written")
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:8]}.tmp")
    save = np.savez_compressed if compress else np.savez
    try:
        with open(tmp, "wb") as fh:
            save(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _refuse_constant(token):
    raise ValueError(f"non-standard JSON number {token}")


def json_array(obj) -> np.ndarray:
    """``obj`` as strict JSON (no NaN or infinity) in a uint8 array, for an npz member."""
    text = json.dumps(obj, allow_nan=False, sort_keys=True)
    return np.frombuffer(text.encode("utf-8"), np.uint8).copy()


def from_json_array(arr, path="", name="") -> object:
    """The object :func:`json_array` stored; ValueError naming the file if it is not strict JSON."""
    arr = np.asarray(arr)
    if arr.dtype != np.uint8 or arr.ndim != 1:
        raise _fail(path, f"member {name!r} is not JSON text (dtype {arr.dtype}, shape {arr.shape})")
    try:
        return json.loads(arr.tobytes().decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _fail(path, f"member {name!r} is not valid JSON ({exc})") from None
