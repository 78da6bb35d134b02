"""Numba compilation: one wrapper, one cache switch, one command to clear it, one notice.

Every kernel of btype and sgd is compiled through :func:`njit`, which passes its
arguments on to ``numba.njit`` but turns ``cache=True`` off when the environment
variable ``BTYPE_NO_CACHE=1`` is set before the kernels' modules are imported
(and ``inline="always"`` off when ``BTYPE_JIT_INLINE=0`` is, see :func:`inlining`).
Kernels compile lazily, on their first call with each type signature, so a
process compiles only what it uses. Cached kernels live in the ``__pycache__``
folders of the packages (or under ``NUMBA_CACHE_DIR`` where it is set), so later
processes load them in a fraction of a second; :func:`clear_cache` deletes them.
Numba checks a cached kernel against its own source file only, not against the
files of the kernels it calls (and inlines), so a cache written by other sources
could load stale code after an update: the cache carries a digest of every kernel
source of the two packages and is cleared when they change (:func:`check_cache`).

When compiling in a process has taken more than :data:`NOTICE_AFTER` seconds,
one line on stderr says so (once per process; never in a worker process that
``multiprocessing`` started; ``BTYPE_COMPILE_NOTICE=0`` silences it).
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import pathlib
import sys
import threading
import time
from typing import Any

import numba
from numba.core import event

__all__ = ["njit", "caching", "inlining", "clear_cache", "cache_files", "check_cache", "notice",
           "NOTICE_AFTER"]

#: Seconds of compiling after which the one-line notice is printed.
NOTICE_AFTER = 2.0

_ROOT = pathlib.Path(__file__).resolve().parent.parent
_PACKAGES = ("btype", "sgd")


def caching() -> bool:
    """Whether kernels are cached on disk (False when ``BTYPE_NO_CACHE`` is set to 1)."""
    return os.environ.get("BTYPE_NO_CACHE", "0") in ("", "0")


def inlining() -> bool:
    """Whether ``inline="always"`` kernels are inlined into their callers by Numba (False when
    ``BTYPE_JIT_INLINE=0``: each is then compiled once as a function of its own and LLVM decides).
    A trade: without inlining the search kernels compile in less time but the searches run
    slower, so it suits short interactive sessions, not benchmarks. The cache does not record
    the choice: clear it (:func:`clear_cache`) after changing the variable."""
    return os.environ.get("BTYPE_JIT_INLINE", "1") not in ("0", "")


def njit(*args: Any, **kwargs: Any) -> Any:
    """``numba.njit`` with ``cache`` honouring ``BTYPE_NO_CACHE`` and ``inline`` honouring
    ``BTYPE_JIT_INLINE``; use as ``@njit(...)`` or ``@njit``."""
    if kwargs.get("cache"):
        kwargs["cache"] = caching()
    if kwargs.get("inline") == "always" and not inlining():
        del kwargs["inline"]
    return numba.njit(*args, **kwargs)


def _cache_dirs():
    """The folders that hold the kernels' cache files: ``__pycache__`` beside each module, or,
    where ``NUMBA_CACHE_DIR`` is set, the folder Numba names after each package folder there."""
    folders = sorted({p.parent for pkg in _PACKAGES if (_ROOT / pkg).is_dir()
                      for p in (_ROOT / pkg).rglob("*.py")})
    root = os.environ.get("NUMBA_CACHE_DIR")
    if not root:
        return [folder / "__pycache__" for folder in folders]
    from numba.core.caching import UserProvidedCacheLocator

    return [pathlib.Path(root) / UserProvidedCacheLocator.get_suitable_cache_subpath(str(folder / "x.py"))
            for folder in folders]


def cache_files() -> list[pathlib.Path]:
    """Numba cache files (index and data) of the kernels of btype and sgd."""
    return sorted(p for folder in _cache_dirs() if folder.is_dir()
                  for pattern in ("*.nbi", "*.nbc") for p in folder.glob(pattern))


def clear_cache() -> int:
    """Delete the Numba cache files of btype and sgd; returns how many were removed."""
    files = cache_files()
    for path in files:
        path.unlink(missing_ok=True)
    return len(files)


_STAMP = "btype-kernel-sources.sha256"


def _sources_digest() -> str:
    """A digest of every module of btype and sgd that declares a kernel (path and contents)."""
    digest = hashlib.sha256()
    for pkg in _PACKAGES:
        for path in sorted((_ROOT / pkg).rglob("*.py")):
            text = path.read_bytes()
            if b"njit" in text:
                digest.update(str(path.relative_to(_ROOT)).encode() + b"\0" + text + b"\0")
    return digest.hexdigest()


def check_cache() -> bool:
    """Clear the kernel cache if it was written by other kernel sources; True if it was cleared.

    Runs once when btype is imported. The digest lives beside the first cache folder; a
    folder that cannot be written leaves the cache as it is (Numba then checks what it can).
    """
    if not caching():
        return False
    try:
        want = _sources_digest()
        stamp = _cache_dirs()[0] / _STAMP
        if stamp.is_file() and stamp.read_text().strip() == want:
            return False
        cleared = clear_cache() > 0
        stamp.parent.mkdir(parents=True, exist_ok=True)
        tmp = stamp.with_name(f"{_STAMP}.{os.getpid()}.tmp")
        tmp.write_text(want + "\n")
        os.replace(tmp, stamp)
        return cleared
    except OSError:
        return False


class _CompileNotice(event.Listener):
    """Prints one line to stderr once compiling btype's or sgd's kernels has taken ``after`` seconds.

    Numba raises the ``numba:compile`` event only for a real compile (not for a
    kernel loaded from the cache). Compiles nest (a kernel compiles the kernels
    it calls); the time of the outermost ones is summed, and a timer fires
    during a long one.
    """

    def __init__(self, after, stream=None):
        self.after = after
        self.stream = stream
        self.depth = 0
        self.spent = 0.0
        self.began = 0.0
        self.timer = None
        self.done = False
        self.lock = threading.Lock()

    def on_start(self, ev):
        self.depth += 1
        if self.depth > 1 or self.done or not _ours(ev):
            return
        self.began = time.perf_counter()
        self.timer = threading.Timer(max(0.0, self.after - self.spent), self.say)
        self.timer.daemon = True
        self.timer.start()

    def on_end(self, ev):
        self.depth -= 1
        if self.depth or self.timer is None:
            return
        self.timer.cancel()
        self.timer = None
        self.spent += time.perf_counter() - self.began
        if self.spent >= self.after:
            self.say()

    def say(self):
        with self.lock:
            if self.done:
                return
            self.done = True
        where = "cached for later runs" if caching() else "not cached: BTYPE_NO_CACHE is set"
        stream = self.stream or sys.stderr
        try:
            print(f"btype: compiling Numba kernels on first use ({where})...", file=stream, flush=True)
        except (OSError, ValueError):  # stderr closed: nothing to say it on
            pass


def _ours(ev) -> bool:
    func = getattr(ev.data.get("dispatcher"), "py_func", None)
    return getattr(func, "__module__", "").split(".")[0] in _PACKAGES


def _notice_wanted() -> bool:
    return (os.environ.get("BTYPE_COMPILE_NOTICE", "1") not in ("0", "")
            and multiprocessing.parent_process() is None)


_NOTICE = _CompileNotice(NOTICE_AFTER)
if _notice_wanted():
    event.register("numba:compile", _NOTICE)


def notice() -> None:
    """Print the compile notice now, unless this process has printed it already.

    For a parent process whose workers will compile (their own notices are
    silent): call it before starting them when :func:`cache_files` is empty.
    Honours ``BTYPE_COMPILE_NOTICE=0`` and stays silent in worker processes.
    """
    if _notice_wanted():
        _NOTICE.say()


check_cache()
