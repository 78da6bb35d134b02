"""Truth-table tasks (DESIGN.md section 3) and the registry of task names.

Every truth-table task lists all ``2**n`` input rows, and uses them for both
the train and the test split. Row ``r`` sets input column ``i`` to bit ``i`` of
``r`` (least significant first); multi-bit operands and results are LSB first.
"""
from __future__ import annotations

import numbers
import re

import numpy as np

from .base import Task

__all__ = ["parity", "majority", "multiplexer", "adder", "multiplier", "comparator",
           "decoder", "truth_table_inputs", "get", "names", "MAX_TABLE_INPUTS"]

#: Largest input count of a generated truth table (2**20 rows, 20 MiB of inputs).
MAX_TABLE_INPUTS = 20


def _check_int(value, name, lo, hi):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be in {lo}..{hi}, got {value}")
    return value


def truth_table_inputs(n: int) -> np.ndarray:
    """All ``2**n`` input rows: ``X[r, i]`` is bit ``i`` of ``r``.

    Parameters
    ----------
    n : int
        Number of inputs, 0..MAX_TABLE_INPUTS.

    Returns
    -------
    (2**n, n) bool
    """
    n = _check_int(n, "n", 0, MAX_TABLE_INPUTS)
    return _bits(np.arange(1 << n, dtype=np.int64), n)


def _bits(values, width):
    """(S,) non-negative ints -> (S, width) bool, LSB first."""
    return ((values[:, None] >> np.arange(width, dtype=np.int64)) & 1).astype(bool)


def _table_task(name, n_inputs, Y, description):
    X = truth_table_inputs(n_inputs)
    Y = np.ascontiguousarray(Y, dtype=bool)
    # Train and test share the arrays; read-only so that nobody edits one split through the other.
    X.setflags(write=False)
    Y.setflags(write=False)
    return Task(name, X, Y, X, Y, description=description)


def _rows(n):
    return np.arange(1 << n, dtype=np.int64)


def parity(n: int) -> Task:
    """``parity{n}``: one output, the XOR of all ``n`` inputs (1..20)."""
    n = _check_int(n, "n", 1, MAX_TABLE_INPUTS)
    X = truth_table_inputs(n)
    return _table_task(f"parity{n}", n, (X.sum(axis=1) % 2 == 1)[:, None],
                       f"{n}-input parity: 1 when an odd number of inputs are 1")


def majority(n: int) -> Task:
    """``majority{n}``: one output, 1 when more than ``n/2`` inputs are 1 (1..20)."""
    n = _check_int(n, "n", 1, MAX_TABLE_INPUTS)
    X = truth_table_inputs(n)
    return _table_task(f"majority{n}", n, (2 * X.sum(axis=1) > n)[:, None],
                       f"{n}-input majority: 1 when more than {n}/2 inputs are 1")


def multiplexer(k: int) -> Task:
    """``mux{k+2**k}``: ``k`` address bits (LSB first), then ``2**k`` data bits; output ``data[address]``.

    ``k`` is 1..4 (``mux3``, ``mux6``, ``mux11``, ``mux20``).
    """
    k = _check_int(k, "k", 1, 4)
    n = k + (1 << k)
    r = _rows(n)
    address = r & ((1 << k) - 1)
    y = (r >> (k + address)) & 1
    return _table_task(f"mux{n}", n, y[:, None].astype(bool),
                       f"{k}-address-bit multiplexer: output data bit number <address>")


def adder(n: int) -> Task:
    """``add{n}``: a = inputs 0..n-1, b = inputs n..2n-1; outputs a+b in ``n+1`` bits (1..10)."""
    n = _check_int(n, "n", 1, MAX_TABLE_INPUTS // 2)
    r = _rows(2 * n)
    a, b = r & ((1 << n) - 1), r >> n
    return _table_task(f"add{n}", 2 * n, _bits(a + b, n + 1),
                       f"{n}-bit adder: a + b as {n + 1} bits, LSB first")


def multiplier(n: int) -> Task:
    """``mul{n}``: a, b as for :func:`adder`; outputs a*b in ``2n`` bits (1..10)."""
    n = _check_int(n, "n", 1, MAX_TABLE_INPUTS // 2)
    r = _rows(2 * n)
    a, b = r & ((1 << n) - 1), r >> n
    return _table_task(f"mul{n}", 2 * n, _bits(a * b, 2 * n),
                       f"{n}-bit multiplier: a * b as {2 * n} bits, LSB first")


def comparator(n: int) -> Task:
    """``cmp{n}``: a, b as for :func:`adder`; three outputs a<b, a==b, a>b (1..10)."""
    n = _check_int(n, "n", 1, MAX_TABLE_INPUTS // 2)
    r = _rows(2 * n)
    a, b = r & ((1 << n) - 1), r >> n
    return _table_task(f"cmp{n}", 2 * n, np.stack([a < b, a == b, a > b], axis=1),
                       f"{n}-bit comparator: outputs a<b, a==b, a>b")


def decoder(n: int) -> Task:
    """``dec{n}``: ``n`` inputs, ``2**n`` outputs, the one-hot code of the input value (1..10)."""
    n = _check_int(n, "n", 1, 10)
    r = _rows(n)
    return _table_task(f"dec{n}", n, r[:, None] == r[None, :],
                       f"{n}-to-{1 << n} decoder: output number <input value> is 1")


# ---------------------------------------------------------------- registry

def _mux_by_width(m, **kw):
    width = int(m["n"])
    for k in range(1, 5):
        if k + (1 << k) == width:
            return multiplexer(k, **kw)
    raise ValueError(f"mux{width} is not a multiplexer size; valid: mux3, mux6, mux11, mux20")


def _classes_of(text):
    return None if text is None else tuple(int(c) for c in text.split("v"))


def _digits(m, **kw):
    from .data import digits
    if m["levels"] is not None:
        kw.setdefault("levels", int(m["levels"]))
    if m["classes"] is not None:
        kw.setdefault("classes", _classes_of(m["classes"]))
    return digits(**kw)


def _mnist(m, **kw):
    from .data import mnist
    if m["side"] is not None:
        side = int(m["side"])
        if side == 0 or 28 % side:
            raise ValueError(f"mnist side must divide 28 (28, 14, 7, 4, 2, 1), got {side}")
        kw.setdefault("downsample", 28 // side)
    if m["classes"] is not None:
        kw.setdefault("classes", _classes_of(m["classes"]))
    return mnist(**kw)


def _sequence(factory_name):
    def build(m, **kw):
        from . import sequence
        return getattr(sequence, factory_name)(int(m["k"]), **kw)
    return build


def _simple(factory):
    def build(m, **kw):
        return factory(int(m["n"]), **kw)
    return build


_CLASSES = r"(?:-(?P<classes>\d+(?:v\d+)+))?"

# (pattern, builder, usage shown in errors, example names)
_REGISTRY = [
    (r"parity(?P<n>\d+)", _simple(parity), "parity{n} (n=1..20)", ["parity3", "parity5", "parity8"]),
    (r"majority(?P<n>\d+)", _simple(majority), "majority{n} (n=1..20)", ["majority5", "majority9"]),
    (r"mux(?P<n>\d+)", _mux_by_width, "mux{k+2^k} (mux3, mux6, mux11, mux20)",
     ["mux6", "mux11"]),
    (r"add(?P<n>\d+)", _simple(adder), "add{n} (n=1..10)", ["add2", "add4"]),
    (r"mul(?P<n>\d+)", _simple(multiplier), "mul{n} (n=1..10)", ["mul2", "mul3"]),
    (r"cmp(?P<n>\d+)", _simple(comparator), "cmp{n} (n=1..10)", ["cmp4"]),
    (r"dec(?P<n>\d+)", _simple(decoder), "dec{n} (n=1..10)", ["dec3"]),
    (r"digits(?:-t(?P<levels>\d+))?" + _CLASSES, _digits,
     "digits, digits-t{levels}, digits-{a}v{b}... (scikit-learn 8x8 digits)", ["digits"]),
    (r"mnist(?P<side>\d+)?" + _CLASSES, _mnist,
     "mnist, mnist{side}, mnist{side}-{a}v{b}... (IDX files; pass directory= or set BTYPE_MNIST_DIR)", []),
    (r"stream_parity(?P<k>\d+)", _sequence("stream_parity"), "stream_parity{k} (clocked, k=1..128)",
     ["stream_parity4", "stream_parity8"]),
    (r"delay_xor(?P<k>\d+)", _sequence("delay_xor"), "delay_xor{k} (clocked, k=1..127)", ["delay_xor3"]),
    (r"echo(?P<k>\d+)", _sequence("echo"), "echo{k} (clocked, k=0..127)", ["echo4"]),
]
_REGISTRY = [(re.compile(p), build, usage, examples) for p, build, usage, examples in _REGISTRY]


def get(name: str, **kwargs) -> Task:
    """Build a built-in task from its name.

    Parameters
    ----------
    name : str
        e.g. ``"parity5"``, ``"mux11"``, ``"add4"``, ``"digits"``, ``"digits-3v8"``,
        ``"mnist14-3v7"``, ``"stream_parity8"``. See :func:`names` and the
        error message for an unknown name for the full list of patterns.
    **kwargs
        Passed to the task's factory (e.g. ``seed=`` for digits and clocked
        tasks, ``directory=`` for MNIST). Truth tables take none.

    Returns
    -------
    Task
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {name!r}")
    for pattern, build, _, _ in _REGISTRY:
        m = pattern.fullmatch(name)
        if m is not None:
            try:
                return build(m, **kwargs)
            except ValueError as error:
                raise ValueError(f"task {name!r}: {error}") from error
    valid = "; ".join(usage for _, _, usage, _ in _REGISTRY)
    raise ValueError(f"unknown task name {name!r}; valid names: {valid}")


def names() -> list[str]:
    """Example names that :func:`get` accepts without extra arguments (MNIST needs a directory)."""
    return [example for *_, examples in _REGISTRY for example in examples]
