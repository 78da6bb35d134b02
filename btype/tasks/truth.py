"""Truth-table tasks (docs/design.md section 3), including the functions of the
General Boolean Function Benchmark Suite that the classic set lacks.

Every truth-table task lists all ``2**n`` input rows, and uses them for both
the train and the test split. Row ``r`` sets input column ``i`` to bit ``i`` of
``r`` (least significant first); multi-bit operands and results are LSB first.
"""
from __future__ import annotations

import numpy as np

from .base import Task, check_int

__all__ = ["parity", "majority", "multiplexer", "adder", "multiplier", "comparator",
           "multiplexer_of_width",
           "decoder", "even_parity", "adder_carry", "identity_comparator", "count_ones", "alu",
           "truth_table_inputs", "MAX_TABLE_INPUTS"]

#: Largest input count of a generated truth table (2**20 rows, 20 MiB of inputs).
MAX_TABLE_INPUTS = 20


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
    n = check_int(n, "n", 0, MAX_TABLE_INPUTS)
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
    n = check_int(n, "n", 1, MAX_TABLE_INPUTS)
    X = truth_table_inputs(n)
    return _table_task(f"parity{n}", n, (X.sum(axis=1) % 2 == 1)[:, None],
                       f"{n}-input parity: 1 when an odd number of inputs are 1")


def majority(n: int) -> Task:
    """``majority{n}``: one output, 1 when more than ``n/2`` inputs are 1 (1..20)."""
    n = check_int(n, "n", 1, MAX_TABLE_INPUTS)
    X = truth_table_inputs(n)
    return _table_task(f"majority{n}", n, (2 * X.sum(axis=1) > n)[:, None],
                       f"{n}-input majority: 1 when more than {n}/2 inputs are 1")


def multiplexer(k: int) -> Task:
    """``mux{k+2**k}``: ``k`` address bits (LSB first), then ``2**k`` data bits; output ``data[address]``.

    ``k`` is 1..4 (``mux3``, ``mux6``, ``mux11``, ``mux20``).
    """
    k = check_int(k, "k", 1, 4)
    n = k + (1 << k)
    r = _rows(n)
    address = r & ((1 << k) - 1)
    y = (r >> (k + address)) & 1
    return _table_task(f"mux{n}", n, y[:, None].astype(bool),
                       f"{k}-address-bit multiplexer: output data bit number <address>")


def multiplexer_of_width(width: int) -> Task:
    """``mux{width}``: the multiplexer with ``k + 2**k == width`` inputs (3, 6, 11 or 20)."""
    width = check_int(width, "width", 0, 1 << 20)
    for k in range(1, 5):
        if k + (1 << k) == width:
            return multiplexer(k)
    raise ValueError(f"mux{width} is not a multiplexer size; valid: mux3, mux6, mux11, mux20")


def adder(n: int) -> Task:
    """``add{n}``: a = inputs 0..n-1, b = inputs n..2n-1; outputs a+b in ``n+1`` bits (1..10)."""
    n = check_int(n, "n", 1, MAX_TABLE_INPUTS // 2)
    r = _rows(2 * n)
    a, b = r & ((1 << n) - 1), r >> n
    return _table_task(f"add{n}", 2 * n, _bits(a + b, n + 1),
                       f"{n}-bit adder: a + b as {n + 1} bits, LSB first")


def multiplier(n: int) -> Task:
    """``mul{n}``: a, b as for :func:`adder`; outputs a*b in ``2n`` bits (1..10)."""
    n = check_int(n, "n", 1, MAX_TABLE_INPUTS // 2)
    r = _rows(2 * n)
    a, b = r & ((1 << n) - 1), r >> n
    return _table_task(f"mul{n}", 2 * n, _bits(a * b, 2 * n),
                       f"{n}-bit multiplier: a * b as {2 * n} bits, LSB first")


def comparator(n: int) -> Task:
    """``cmp{n}``: a, b as for :func:`adder`; three outputs a<b, a==b, a>b (1..10)."""
    n = check_int(n, "n", 1, MAX_TABLE_INPUTS // 2)
    r = _rows(2 * n)
    a, b = r & ((1 << n) - 1), r >> n
    return _table_task(f"cmp{n}", 2 * n, np.stack([a < b, a == b, a > b], axis=1),
                       f"{n}-bit comparator: outputs a<b, a==b, a>b")


def decoder(n: int) -> Task:
    """``dec{n}``: ``n`` inputs, ``2**n`` outputs, the one-hot code of the input value (1..10)."""
    n = check_int(n, "n", 1, 10)
    r = _rows(n)
    return _table_task(f"dec{n}", n, r[:, None] == r[None, :],
                       f"{n}-to-{1 << n} decoder: output number <input value> is 1")


# ---- the General Boolean Function Benchmark Suite (github.com/boolean-function-benchmarks).
# Its files name inputs A[0], A[1], ..., B[0], ... and list them in that column order, which
# is btype's: column i of a row is input i, and multi-bit words are LSB first. Its magnitude
# comparator mcomp{n} is cmp{n} above and its multiplier mul{n} is mul{n}.

def even_parity(n: int) -> Task:
    """``epar{n}``: one output, 1 when an even number of the ``n`` inputs are 1 (NOT of parity).

    This is even parity as genetic programming defines it (Koza). The suite's own
    ``epar{n}`` files compute the XOR of the inputs (``epar.v``: ``O = ^A``;
    ``epar8.pla`` lists the odd-weight rows), which is :func:`parity`; read those
    files with :func:`btype.tasks.from_pla` to use them as they are.
    """
    n = check_int(n, "n", 1, MAX_TABLE_INPUTS)
    X = truth_table_inputs(n)
    return _table_task(f"epar{n}", n, (X.sum(axis=1) % 2 == 0)[:, None],
                       f"{n}-input even parity: 1 when an even number of inputs are 1")


def adder_carry(n: int) -> Task:
    """``addc{n}``: the suite's adder ``add{n}``: a + b + carry-in in ``n+1`` bits (1..9).

    Inputs: a = 0..n-1, b = n..2n-1 (LSB first), carry-in = input 2n (the
    suite's ``A[0..n-1] B[0..n-1] Ci``). Outputs ``O[0..n]``, LSB first.
    """
    n = check_int(n, "n", 1, (MAX_TABLE_INPUTS - 1) // 2)
    r = _rows(2 * n + 1)
    a, b, carry = r & ((1 << n) - 1), (r >> n) & ((1 << n) - 1), r >> (2 * n)
    return _table_task(f"addc{n}", 2 * n + 1, _bits(a + b + carry, n + 1),
                       f"{n}-bit adder with carry-in: a + b + c as {n + 1} bits, LSB first")


def identity_comparator(n: int) -> Task:
    """``icomp{n}``: the suite's identity comparator: every pair of the ``n`` input bits compared.

    For each pair ``j < i`` (``j`` the outer loop, ascending, then ``i``), three
    outputs ``x_j < x_i``, ``x_j == x_i``, ``x_j > x_i``: ``3 n (n-1) / 2`` outputs
    in all (2..20 inputs), in the order of the suite's ``icomp.v``.
    """
    n = check_int(n, "n", 2, MAX_TABLE_INPUTS)
    X = truth_table_inputs(n)
    columns = []
    for j in range(n - 1):
        for i in range(j + 1, n):
            a, b = X[:, j], X[:, i]
            columns += [~a & b, a == b, a & ~b]
    return _table_task(f"icomp{n}", n, np.stack(columns, axis=1),
                       f"{n}-input identity comparator: x_j<x_i, x_j==x_i, x_j>x_i for every pair j<i")


def count_ones(n: int) -> Task:
    """``ones{n}``: the number of 1 inputs in binary, ``n.bit_length()`` outputs, LSB first (1..20).

    The suite's ``onescount`` circuits; their files may carry extra constant-0
    high bits (``onescount_12bit`` has 5 outputs where 4 suffice).
    """
    n = check_int(n, "n", 1, MAX_TABLE_INPUTS)
    X = truth_table_inputs(n)
    return _table_task(f"ones{n}", n, _bits(X.sum(axis=1).astype(np.int64), n.bit_length()),
                       f"{n}-input ones counter: the count of 1 inputs as {n.bit_length()} bits")


def alu(n: int) -> Task:
    """``alu{n}``: the suite's simple ALU on ``n``-bit words (1..8), as in its ``alu.v``.

    Inputs: ``SEL[0..2]`` = 0..2, a = 3..n+2, b = n+3..2n+2 (LSB first). The
    operation by ``SEL``: 0 a AND b, 1 a OR b, 2 a XOR b, 3 a + b, 4..7 a - b.
    Outputs: ``CARRY`` (the carry of a + b, the borrow of a - b, i.e. a < b;
    0 for the logic operations), then ``O[0..n-1]``, the result LSB first, as in
    the suite's ``alu5``..``alu8`` files (``alu8``: 19 inputs, 9 outputs). Its
    ``alu3`` and ``alu4`` files carry one more output, ``O[n]``, always 0.
    """
    n = check_int(n, "n", 1, (MAX_TABLE_INPUTS - 3) // 2)
    r = _rows(2 * n + 3)
    mask = (1 << n) - 1
    sel, a, b = r & 7, (r >> 3) & mask, (r >> (3 + n)) & mask
    wide = np.select([sel == 0, sel == 1, sel == 2, sel == 3], [a & b, a | b, a ^ b, a + b],
                     (a - b) & ((2 << n) - 1))
    carry = (wide >> n) & 1
    Y = np.concatenate([carry[:, None], _bits(wide & mask, n)], axis=1).astype(bool)
    return _table_task(f"alu{n}", 2 * n + 3, Y,
                       f"{n}-bit ALU (AND, OR, XOR, add, subtract by SEL): CARRY, then O[0..{n - 1}]")
