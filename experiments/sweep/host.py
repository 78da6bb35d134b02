"""What machine a run was made on: CPU, cores, GPU, platform and package versions.

:func:`cpu_name` is the one place that names the CPU; run headers, figure captions and
the benchmark scripts all print it.
"""
from __future__ import annotations

import functools
import os
import platform
import shutil
import subprocess
import sys

__all__ = ["cpu_name", "gpu_name", "machine_info", "versions", "git_commit", "kernels_cached"]


@functools.lru_cache(maxsize=None)
def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else what ``platform`` knows)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def gpu_name():
    """The first GPU's name, or None without one.

    Torch is asked only where it is loaded already: importing it just to name a GPU
    would cost every search-only worker a second or two.
    """
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
        except Exception:  # a broken CUDA install must not sink the run
            return None
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=10)
            names = [n.strip() for n in out.stdout.splitlines() if n.strip()]
            return names[0] if out.returncode == 0 and names else None
        except (OSError, subprocess.SubprocessError):
            return None
    return None


def machine_info() -> dict:
    """CPU model, core count, GPU name (None without one), platform, Python version, host."""
    return {"cpu": cpu_name(), "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "host": platform.node(), "gpu": gpu_name()}


@functools.lru_cache(maxsize=None)
def git_commit(directory=None) -> str | None:
    """The short commit hash of the git checkout that holds the btype package (with
    ``-dirty`` when its files differ from the commit), or None: no checkout, no git."""
    import btype
    where = directory or os.path.dirname(os.path.dirname(os.path.abspath(btype.__file__)))
    try:
        head = subprocess.run(["git", "-C", where, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10)
        if head.returncode != 0 or not head.stdout.strip():
            return None
        status = subprocess.run(["git", "-C", where, "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    dirty = "-dirty" if status.returncode == 0 and status.stdout.strip() else ""
    return head.stdout.strip() + dirty


def versions() -> dict:
    """Versions of btype (and its git commit, where it runs from a checkout) and of the
    numeric packages loaded in this process."""
    from experiments.cli import version
    found = {"btype": version()}
    commit = git_commit()
    if commit is not None:
        found["git"] = commit
    for name in ("numpy", "numba", "torch"):
        module = sys.modules.get(name)
        if module is not None:
            found[name] = getattr(module, "__version__", "?")
    return found


def kernels_cached() -> bool:
    """Whether any compiled kernel of btype or sgd is cached on disk (without importing Numba).

    The sweep asks before it starts its workers: with an empty cache each worker compiles
    the kernels it uses on its first runs, which takes a minute or more in all.
    """
    import importlib.util
    import pathlib

    roots = []
    for package in ("btype", "sgd"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin:
            roots.append(pathlib.Path(spec.origin).parent)
    if os.environ.get("NUMBA_CACHE_DIR"):
        roots = [pathlib.Path(os.environ["NUMBA_CACHE_DIR"])]
    return any(next(root.rglob("*.nbi"), None) is not None for root in roots if root.is_dir())
