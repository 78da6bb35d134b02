"""The one-line notice while kernels compile, and where the cache files are."""
import io
import multiprocessing
import os
import subprocess
import sys

import numba
from numba.core import event

from btype import jit


def _kernel(module):
    def add(a, b):
        return a + b
    add.__module__ = module
    return numba.njit(add)


def test_notice_printed_once_for_our_kernels_only():
    stream = io.StringIO()
    notice = jit._CompileNotice(0.0, stream)
    event.register("numba:compile", notice)
    try:
        _kernel("someone.else")(1, 2)
        assert stream.getvalue() == ""
        _kernel("btype.example")(1, 2)
        _kernel("btype.example")(1.0, 2.0)
        _kernel("sgd.example")(3, 4)
    finally:
        event.unregister("numba:compile", notice)
    assert stream.getvalue().count("btype: compiling Numba kernels on first use") == 1
    assert stream.getvalue().endswith("...\n")


def test_no_notice_for_a_short_compile():
    stream = io.StringIO()
    notice = jit._CompileNotice(3600.0, stream)
    event.register("numba:compile", notice)
    try:
        _kernel("btype.example")(1, 2)
    finally:
        event.unregister("numba:compile", notice)
    assert stream.getvalue() == ""


def _wanted(queue):
    from btype import jit as child_jit
    queue.put(child_jit._notice_wanted())


def test_silent_in_worker_processes():
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_wanted, args=(queue,))
    child.start()
    try:
        assert queue.get(timeout=120) is False
    finally:
        child.join()
    env = dict(os.environ, BTYPE_COMPILE_NOTICE="0")
    code = "from btype import jit; print(jit._notice_wanted())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cache_files_found_under_numba_cache_dir(tmp_path):
    """cache_files() finds what Numba writes under NUMBA_CACHE_DIR (and clear_cache() removes it)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), BTYPE_COMPILE_NOTICE="0")
    env.pop("BTYPE_NO_CACHE", None)
    code = ("import numpy as np, btype\n"
            "btype.evaluate(btype.random_network(2, 3, 1, seed=0), np.zeros((3, 2), bool))\n"
            "written = sorted(p.name for p in __import__('pathlib').Path(r'%s').rglob('*.nb[ic]'))\n"
            "found = sorted(p.name for p in btype.jit.cache_files())\n"
            "print(len(written), written == found, btype.jit.clear_cache() == len(found), "
            "len(btype.jit.cache_files()))" % tmp_path)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    n, same, cleared, left = out.stdout.split()
    assert int(n) > 0 and same == "True" and cleared == "True" and left == "0", out.stdout


def test_notice_function_prints_once():
    code = "from btype import jit; jit.notice(); jit.notice()"
    env = dict(os.environ)
    env.pop("BTYPE_COMPILE_NOTICE", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stderr.count("btype: compiling Numba kernels on first use") == 1
    env["BTYPE_COMPILE_NOTICE"] = "0"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stderr == ""


def test_cache_written_by_other_kernel_sources_is_cleared(tmp_path, monkeypatch):
    """A cache whose digest of the kernel sources differs is cleared once, then kept."""
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    folder = jit._cache_dirs()[0]
    folder.mkdir(parents=True)
    stale = folder / "kernels.some_kernel-1.py311.nbi"
    stale.write_bytes(b"stale")
    (folder / jit._STAMP).write_text("a digest of other sources\n")
    assert jit.check_cache() is True
    assert not stale.exists()
    assert (folder / jit._STAMP).read_text().strip() == jit._sources_digest()
    kept = folder / "kernels.some_kernel-2.py311.nbi"
    kept.write_bytes(b"fresh")
    assert jit.check_cache() is False
    assert kept.exists()
