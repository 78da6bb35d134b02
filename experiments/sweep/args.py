"""Command-line values of the sweep commands (``btype compare``, ``train``, ``estimate``).

Each ``*_arg`` is an argparse ``type=``: it returns the value or raises
``argparse.ArgumentTypeError``, which argparse prints as an ``error:`` line (exit 2).
:func:`out_dir_problem` and :func:`dask_problem` check an output folder and a Dask
scheduler once the arguments are parsed, and return what is wrong (or None).
"""
from __future__ import annotations

import argparse
import math
import os
import re
import socket
from pathlib import Path
from typing import NamedTuple

from experiments.sweep.spec import MAX_SEEDS

__all__ = ["Budget", "AXIS_SUFFIXES", "budget_arg", "seeds_arg", "workers_arg", "threads_arg", "device_arg",
           "MAX_PROCESSES", "MAX_SEEDS", "out_arg", "out_dir_problem", "dask_problem", "format_budget"]

#: Workers and threads: at most four per CPU core (and never more than 1,024).
MAX_PROCESSES = min(1024, 4 * (os.cpu_count() or 1))

#: Budget suffix -> axis (``2s``, ``1e9ge``, ``1e6ev``, ``500steps``).
AXIS_SUFFIXES = {"s": "seconds", "sec": "seconds", "seconds": "seconds",
                 "ge": "gate_evals", "gate_evals": "gate_evals",
                 "ev": "evaluations", "evals": "evaluations", "evaluations": "evaluations",
                 "steps": "steps"}
_UNITS = {"seconds": "s", "gate_evals": " gate-evals", "evaluations": " evaluations", "steps": " steps"}
_BUDGET = re.compile(r"^\s*([0-9.eE+\-]+?)\s*([a-z_]*)\s*$")
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


class Budget(NamedTuple):
    """A budget from the command line: ``amount`` on ``axis`` (None: the preset's axis)."""

    amount: float
    axis: str | None


def format_budget(amount, axis) -> str:
    """``"0.5s"``, ``"2e+09 gate-evals"``."""
    return f"{amount:g}{_UNITS.get(axis, ' ' + str(axis))}"


def budget_arg(text) -> Budget:
    """``2s``, ``1e9ge``, ``1e6ev``, ``500steps`` (the axis named), or a bare number on the
    preset's own axis; finite and > 0."""
    m = _BUDGET.match(str(text))
    if m is None or m.group(2) not in ("", *AXIS_SUFFIXES):
        raise argparse.ArgumentTypeError(
            f"must be a number with an axis, e.g. 2s (seconds), 1e9ge (gate-evaluations), 1e6ev "
            f"(evaluations), 500steps, or a bare number on the preset's axis; got {text!r}")
    try:
        amount = float(m.group(1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must start with a number, got {text!r}") from None
    axis = AXIS_SUFFIXES.get(m.group(2)) if m.group(2) else None
    if not math.isfinite(amount) or amount <= 0 or amount > 2 ** 62:  # btype's largest count
        raise argparse.ArgumentTypeError(f"must be finite and > 0, got {text!r}")
    if axis in ("gate_evals", "evaluations", "steps") and amount != math.floor(amount):
        raise argparse.ArgumentTypeError(f"{axis} must be a whole number, got {text!r}")
    return Budget(amount, axis)


def _int_in(text, lo, hi, what):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int, got {text!r}") from None
    if not lo <= value <= hi:
        raise argparse.ArgumentTypeError(f"must be between {lo} and {hi:,} ({what}), got {value}")
    return value


def seeds_arg(text) -> int:
    """A number of seeds, 1 to :data:`MAX_SEEDS`."""
    return _int_in(text, 1, MAX_SEEDS, "seeds")


def workers_arg(text) -> int:
    """Worker processes, 0 (jobs in this process) to :data:`MAX_PROCESSES`."""
    return _int_in(text, 0, MAX_PROCESSES, "four per CPU core")


def threads_arg(text) -> int:
    """Threads per job, 1 to :data:`MAX_PROCESSES`."""
    return _int_in(text, 1, MAX_PROCESSES, "four per CPU core")


def device_arg(text) -> str:
    """``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``."""
    if not _DEVICE.match(text):
        raise argparse.ArgumentTypeError(f"must be auto, cpu, cuda, cuda:N or mps, got {text!r}")
    return text


def out_arg(text) -> Path:
    """An output folder's path; an empty one is refused (``Path("")`` would be the current folder)."""
    if not str(text).strip():
        raise argparse.ArgumentTypeError("must name a folder, got an empty path")
    return Path(text)


def out_dir_problem(path, *, create: bool = True) -> str | None:
    """What is wrong with ``path`` as an output folder (None when it is fine); with
    ``create``, the folder is made. An empty path, a file, a folder that cannot be made
    (``/proc/x``, no permission) and a symbolic-link loop are refused."""
    text = os.fspath(path)
    if not text.strip():
        return "must name a folder, got an empty path"
    path = Path(text)
    try:
        path.resolve(strict=False)
        if path.exists() and not path.is_dir():
            return f"{text!r} is a file, not a folder"
        if create:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / ".btype-write-probe"
            probe.touch()
            probe.unlink()
    except RuntimeError:  # Path.resolve on a symbolic-link loop (Python < 3.13)
        return f"{text!r} is a loop of symbolic links"
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno == 40:  # ELOOP
            reason = "a loop of symbolic links"
        return f"cannot use {text!r} as a folder: {reason}"
    return None


def dask_problem(address: str, *, timeout: float = 5.0) -> str | None:
    """What is wrong with ``address`` as a Dask scheduler (None when something answers on
    its port within ``timeout`` seconds); the scheduler itself is checked when the client
    connects."""
    m = re.match(r"^(?:tcp://)?\[?([^\]/]+?)\]?:(\d+)$", address.strip())
    if m is None:
        return f"must be a scheduler address such as tcp://host:8786, got {address!r}"
    host, port = m.group(1), int(m.group(2))
    if not 0 < port < 65536:
        return f"port must be in 1..65535, got {port}"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        return f"cannot reach a Dask scheduler at {address}: {exc.strerror or exc} (within {timeout:g} s)"
    return None
