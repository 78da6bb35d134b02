"""Espresso PLA files as tasks.

Supported: ``.i .o .p .ilb .ob .type .e``/``.end``, comments (``#`` to the end
of the line), types ``f``, ``fd`` (Espresso's default) and ``fr``, input cubes
with ``-`` (expanded), any number of outputs, LF, CR LF or CR line ends, a UTF-8
byte order mark, gzipped files (``.gz``). White space and ``|`` inside a cube
are ignored, as Espresso does. Anything else (``.mv``, ``.phase``, unknown
keywords, other characters) is refused with an error naming file and line, as
are an ``fr`` row listed with output 1 on one line and 0 on another (naming
both lines), a file that specifies no rows, and sizes over the limits of
:func:`read_pla` (checked from the declared sizes before anything is allocated).

Output characters, per Espresso: ``1`` puts the cube in the ON-set; ``0`` puts
it in the OFF-set for ``fr`` and means nothing for ``f``/``fd``; ``-`` puts it
in the don't-care set for ``fd`` and means nothing otherwise; ``~`` means
nothing.

Rows. ``f``/``fd`` describe a whole function: the result holds every one of
the ``2**n`` input rows (row ``r`` sets input ``i`` to bit ``i`` of ``r``), an
output is 1 on the ON-set and 0 elsewhere, and rows on which *every* output is
don't-care are left out. ``fr`` holds exactly the listed rows (cubes with
``-`` expanded, in file order, duplicates kept); rows on which no output is
specified are left out. Where only some outputs of a kept row are don't-care,
the target is the ON-set value, and ``PLA.care`` marks the cell False: a
machine that meets the targets therefore also meets the specification.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._checks import check_choice
from .base import Task, check_int
from ._conflicts import CONFLICTS, resolve_conflicts
from ._io import DEFAULT_MAX_BYTES, opened, read_at_most

__all__ = ["PLA", "PLAError", "read_pla", "from_pla", "DEFAULT_MAX_ROWS",
           "DEFAULT_MAX_CELLS"]

#: Default limit on the number of rows a PLA may expand to.
DEFAULT_MAX_ROWS = 1 << 20
#: Default limit on rows x (inputs + outputs) of the expanded table (1 GiB per bool array).
DEFAULT_MAX_CELLS = 1 << 30

_TYPES = ("f", "fd", "fr")
_UNSUPPORTED = (".mv", ".phase", ".pair", ".symbolic", ".symbolic-output", ".kiss", ".label")
_ZERO, _ONE, _DASH = b"01-"


class PLAError(ValueError):
    """A malformed or unsupported PLA file; the message starts with ``file:line:``."""


@dataclass(frozen=True)
class PLA:
    """The contents of one PLA file, expanded to rows.

    Attributes
    ----------
    X : (S, n_inputs) bool
    Y : (S, n_outputs) bool, targets (ON-set membership)
    care : (S, n_outputs) bool, False where the output is don't-care on that row
    type : str, ``"f"``, ``"fd"`` or ``"fr"``
    input_names, output_names : tuple of str, from ``.ilb``/``.ob`` (empty if absent)
    n_cubes : int, product terms listed in the file
    n_conflicts : int, input rows (type fr) listed with both output values and resolved by
        ``conflicts=`` (0 when there were none)
    """

    X: np.ndarray
    Y: np.ndarray
    care: np.ndarray
    type: str
    input_names: tuple
    output_names: tuple
    n_cubes: int
    n_conflicts: int = 0


def _fail(path, lineno, message):
    raise PLAError(f"{path}:{lineno}: {message}")


def _header_int(path, lineno, words, minimum):
    if len(words) != 2 or not words[1].isdigit() or int(words[1]) < minimum:
        _fail(path, lineno, f"{words[0]} needs one integer >= {minimum}, got {' '.join(words[1:])!r}")
    return int(words[1])


def _read_lines(path, max_bytes):
    """(header dict, cube byte strings, their line numbers)."""
    with opened(path) as fh:
        raw = read_at_most(fh, path, max_bytes)
    if raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark
        raw = raw[3:]
    head = {"lines": {}}
    cubes, linenos = [], []
    # LF, CR LF and CR-only line ends; '#' starts a comment that runs to the end of the line.
    lines = raw.splitlines()
    for lineno, line in enumerate(lines, 1):
        line = line.split(b"#", 1)[0].strip()
        if not line:
            continue
        if line[0] != 46:  # '.'
            if "i" not in head or "o" not in head:
                _fail(path, lineno, "product term before the .i and .o header")
            cubes.append(line)
            linenos.append(lineno)
            continue
        try:
            words = line.decode("ascii").split()
        except UnicodeDecodeError:
            _fail(path, lineno, "non-ASCII characters in a keyword line")
        key = words[0]
        if key in (".e", ".end"):
            break
        if key in head["lines"] and key in (".i", ".o", ".p", ".type", ".ilb", ".ob"):
            _fail(path, lineno, f"{key} given twice (first on line {head['lines'][key]})")
        if key in (".i", ".o", ".type") and cubes:
            _fail(path, lineno, f"{key} after the first product term")
        head["lines"][key] = lineno
        if key == ".i":
            head["i"] = _header_int(path, lineno, words, 1)
        elif key == ".o":
            head["o"] = _header_int(path, lineno, words, 1)
        elif key == ".p":
            head["p"] = _header_int(path, lineno, words, 0)
        elif key == ".type":
            if len(words) != 2 or words[1] not in _TYPES:
                _fail(path, lineno, f"unsupported .type {' '.join(words[1:])!r}; supported: f, fd, fr")
            head["type"] = words[1]
        elif key in (".ilb", ".ob"):
            count = head.get("i" if key == ".ilb" else "o")
            if count is None:
                _fail(path, lineno, f"{key} before {'.i' if key == '.ilb' else '.o'}")
            if len(words) - 1 != count:
                _fail(path, lineno, f"{key} lists {len(words) - 1} names, expected {count}")
            head[key] = tuple(words[1:])
        elif key in _UNSUPPORTED:
            _fail(path, lineno, f"unsupported keyword {key}")
        else:
            _fail(path, lineno, f"unknown keyword {key}")
    head["n_lines"] = max(1, len(lines))
    if "i" not in head or "o" not in head:
        _fail(path, head["n_lines"], "missing .i or .o header")
    return head, cubes, linenos


def _cube_matrix(path, head, cubes, linenos):
    """(p, n_i + n_o) uint8 character matrix of the cubes, every character checked."""
    n_i, n_o = head["i"], head["o"]
    if "p" in head and head["p"] != len(cubes):
        where = linenos[head["p"]] if len(cubes) > head["p"] else head["lines"][".p"]
        _fail(path, where, f".p says {head['p']} product terms but the file has {len(cubes)}")
    # White space and '|' separate the planes; Espresso ignores them.
    cubes = [c.translate(None, b" \t\r\v\f|") for c in cubes]
    lengths = np.fromiter(map(len, cubes), dtype=np.int64, count=len(cubes))
    bad = np.flatnonzero(lengths != n_i + n_o)
    if bad.size:
        j = bad[0]
        _fail(path, linenos[j], f"product term has {lengths[j]} characters, expected {n_i} inputs "
                                f"+ {n_o} outputs = {n_i + n_o}")
    M = np.frombuffer(b"".join(cubes), dtype=np.uint8).reshape(len(cubes), n_i + n_o)
    for part, allowed, what in ((M[:, :n_i], b"01-", "input"), (M[:, n_i:], b"01-~", "output")):
        lookup = np.zeros(256, dtype=bool)
        lookup[list(allowed)] = True
        ok = lookup[part]
        if not ok.all():
            j, col = np.argwhere(~ok)[0]
            _fail(path, linenos[j], f"unknown {what} character {chr(part[j, col])!r} in column "
                                    f"{col + 1} (allowed: {' '.join(allowed.decode())})")
    return M


def _check_size(path, line, rows, head, max_rows, max_cells, what):
    """Refuse a table over the limits before anything of its size is allocated."""
    if rows > max_rows:
        _fail(path, line, f"{what} {rows:,} rows, over max_rows={max_rows:,}; pass a larger "
                          "max_rows= to read_pla/from_pla to read it")
    cells = rows * (head["i"] + head["o"])
    if cells > max_cells:
        _fail(path, line, f"{what} {rows:,} rows of {head['i']:,} inputs + {head['o']:,} outputs = "
                          f"{cells:,} table cells, over max_cells={max_cells:,}; pass a larger "
                          "max_cells= to read_pla/from_pla to read it")


def _expand_listed(ins, outs, limits, path, head, linenos, conflicts):
    """fr: the listed rows, cubes with '-' expanded in file order; rows set to both 1 and 0 resolved
    by ``conflicts`` (:func:`resolve_conflicts`). Returns (X, O, conflicting input rows)."""
    dashes = ins == _DASH
    n_dashes = dashes.sum(axis=1)
    if n_dashes.max(initial=0) < 32:  # under 2**31 cubes of under 2**32 rows: int64 cannot wrap
        total = int(np.left_shift(1, n_dashes.astype(np.int64)).sum())
    else:  # Python ints: 8 cubes of 61 '-' are 2**64 rows, 0 in int64
        total = sum(1 << int(d) for d in n_dashes)
    _check_size(path, head["lines"][".i"], total, head, *limits, "the cubes expand to")
    counts = np.left_shift(1, n_dashes.astype(np.int64))
    X = np.repeat(ins == _ONE, counts, axis=0)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for j in np.flatnonzero(counts > 1):
        cols = np.flatnonzero(dashes[j])
        k = np.arange(counts[j], dtype=np.int64)
        # Expansion number k sets the d-th don't-care column to bit d of k.
        X[starts[j]:starts[j] + counts[j], cols] = ((k[:, None] >> np.arange(len(cols))) & 1) == 1
    O = np.repeat(outs, counts, axis=0)
    return resolve_conflicts(X, O, conflicts,
                             _refuser(path, X, O, np.repeat(np.arange(len(ins)), counts), linenos))


def _refuser(path, X, O, cube_of, linenos):
    """The error for a type fr row listed in both the ON- and the OFF-set of an output, naming both lines."""
    def refuse(rows, out):
        one = linenos[cube_of[rows[O[rows, out] == _ONE][0]]]
        zero = linenos[cube_of[rows[O[rows, out] == _ZERO][0]]]
        bits = "".join("01"[int(v)] for v in X[rows[0]])
        first, second = sorted((one, zero))
        error = PLAError(f"{path}:{second}: input row {bits} has output {out + 1} = "
                         f"{int(second == one)} here but {int(first == one)} on line {first}; a type "
                         "fr file must not list a row in both the ON- and the OFF-set")
        if hasattr(error, "add_note"):  # Python 3.11+: shown under the message in a traceback
            error.add_note("for noisy data, read it with conflicts='majority' or conflicts='drop'")
        raise error
    return refuse


def _mark_cubes(table, ins, marks):
    """Set ``table[row, out]`` for every row a cube covers and every output it marks.

    ``table`` is (2**n, n_out) bool; rows are LSB-first input values.
    """
    n = ins.shape[1]
    weights = np.left_shift(1, np.arange(n, dtype=np.int64))
    full = (ins != _DASH).all(axis=1)
    if full.any():
        rows = (ins[full] == _ONE) @ weights
        for out in range(marks.shape[1]):
            table[rows[marks[full, out]], out] = True
    # Cubes with '-': a (2,)*n view whose axis 0 is the most significant input, so a cube is a slice.
    view = table.reshape((2,) * n + (table.shape[1],))
    for j in np.flatnonzero(~full & marks.any(axis=1)):
        index = tuple(slice(None) if c == _DASH else int(c == _ONE) for c in ins[j, ::-1])
        view[index][..., marks[j]] = True


def read_pla(path: str | os.PathLike, *, max_rows: int = DEFAULT_MAX_ROWS, max_cells: int = DEFAULT_MAX_CELLS,
             max_bytes: int = DEFAULT_MAX_BYTES, conflicts: str = "error") -> PLA:
    """Read an Espresso PLA file (optionally gzipped) into rows; see the module docstring.

    Parameters
    ----------
    path : str or os.PathLike
    max_rows : int
        Refuse files that would expand to more rows (``f``/``fd``: ``2**n``).
    max_cells : int
        Refuse files whose expanded table has more than this many cells, rows
        times (inputs + outputs): each of ``X``, ``Y`` and ``care`` takes about
        that many bytes. Checked from the declared sizes before allocating.
    max_bytes : int
        Refuse files larger than this (after decompression for ``.gz``).
    conflicts : {"error", "majority", "drop"}
        What to do with an input row that a type ``fr`` file lists with output
        1 on one line and 0 on another (noisy data): ``"error"`` refuses the
        file naming both lines; ``"majority"`` gives each such output the value
        most of the row's lines give (a tie: the value listed first), on every
        line of the row; ``"drop"`` removes all lines of a row that has a
        conflict on any output. ``PLA.n_conflicts`` counts the rows concerned.

    Returns
    -------
    PLA

    Raises
    ------
    PLAError (a ValueError) naming file and line for malformed or too large files.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or path, got {path!r}")
    max_rows = check_int(max_rows, "max_rows", 1, 1 << 40)
    max_cells = check_int(max_cells, "max_cells", 1, 1 << 46)
    max_bytes = check_int(max_bytes, "max_bytes", 1, 1 << 46)
    check_choice(conflicts, "conflicts", CONFLICTS)
    head, cubes, linenos = _read_lines(path, max_bytes)
    n_i, kind = head["i"], head.get("type", "fd")
    if kind != "fr":
        what = f"type {kind} with {n_i:,} inputs needs 2**{n_i:,} ="
        if n_i > 62:
            _fail(path, head["lines"][".i"], f"{what} more than 2**62 rows; at most 62 inputs")
        _check_size(path, head["lines"][".i"], 1 << n_i, head, max_rows, max_cells, what)
    M = _cube_matrix(path, head, cubes, linenos)
    ins, outs = M[:, :n_i], M[:, n_i:]
    if kind == "fr":
        X, O, n_conflicts = _expand_listed(ins, outs, (max_rows, max_cells), path, head, linenos,
                                           conflicts)
        care = (O == _ZERO) | (O == _ONE)
        Y = O == _ONE
    else:
        Y = np.zeros((1 << n_i, head["o"]), dtype=bool)
        _mark_cubes(Y, ins, outs == _ONE)
        care = np.zeros_like(Y)
        if kind == "fd":
            _mark_cubes(care, ins, outs == _DASH)
        np.logical_not(care, out=care)
        r = np.arange(1 << n_i, dtype=np.int64)
        X = ((r[:, None] >> np.arange(n_i)) & 1) == 1
    keep = care.any(axis=1)
    if not keep.all():
        X, Y, care = X[keep], Y[keep], care[keep]
    if len(X) == 0:
        _fail(path, head["n_lines"], f"type {kind} file specifies no rows (every output of every "
                                     "row is unspecified or don't-care)")
    return PLA(X, Y, care, kind, head.get(".ilb", ()), head.get(".ob", ()), len(cubes),
               n_conflicts if kind == "fr" else 0)


def _split_name(path):
    name = Path(path).name
    for suffix in (".gz", ".pla", ".train"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def from_pla(train: str | os.PathLike, test: str | os.PathLike | None = None,
             valid: str | os.PathLike | None = None, *, merge_valid: bool = False, as_classes: bool = False,
             balanced: bool = False, max_rows: int = DEFAULT_MAX_ROWS, max_cells: int = DEFAULT_MAX_CELLS,
             max_bytes: int = DEFAULT_MAX_BYTES, conflicts: str = "error", name: str | None = None) -> Task:
    """A Boolean task from PLA files (learning-from-examples benchmarks and truth tables).

    Parameters
    ----------
    train : path
        The training rows.
    test : path, optional
        The test rows. Without it the test split is the ``valid`` file when
        one is given and not merged, else the training rows themselves
        (right for ``f``/``fd`` truth tables).
    valid : path, optional
        Validation rows. Always exposed as ``task.X_valid``/``task.Y_valid``;
        with ``merge_valid=True`` they are also appended to the training split
        (as in the IWLS 2020 contest, where train and valid both fit the model).
    merge_valid : bool
    as_classes : bool
        Read a single-output file as a 2-class task: the output is the class
        label (0 or 1) and a machine may have any even number of outputs, half
        voting for each class by popcount (see :func:`btype.tasks.classify`).
        The contest files ``exNN.{train,valid,test}.pla`` have one output.
    balanced : bool
        Score each output by its balanced accuracy (``Task.balanced``): for
        imbalanced files, where the constant majority answer is otherwise a
        trap for search. Not with ``as_classes``.
    max_rows, max_cells, max_bytes : int
        Limits for each file, see :func:`read_pla`.
    conflicts : {"error", "majority", "drop"}
        Rows of a type ``fr`` file listed with both output values (noisy data),
        in every file: refused, set to the majority of their lines, or dropped
        (see :func:`read_pla`).
    name : str, optional
        Task name; default the train file's name without ``.gz``, ``.pla`` and
        ``.train`` (``ex03.train.pla`` gives ``ex03``).

    Returns
    -------
    Task
        Boolean task (a 2-class task with ``as_classes``); ``task.pla`` holds the
        train file's :class:`PLA` (names, type, don't-care mask).
    """
    for flag, value in (("merge_valid", merge_valid), ("as_classes", as_classes), ("balanced", balanced)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{flag} must be a bool, got {value!r}")
    limits = dict(max_rows=max_rows, max_cells=max_cells, max_bytes=max_bytes, conflicts=conflicts)
    tr = read_pla(train, **limits)
    parts = {}
    for key, path in (("test", test), ("valid", valid)):
        if path is None:
            continue
        part = parts[key] = read_pla(path, **limits)
        for what, mine, theirs in (("inputs", part.X, tr.X), ("outputs", part.Y, tr.Y)):
            if mine.shape[1] != theirs.shape[1]:
                raise PLAError(f"{path}: {mine.shape[1]} {what}, but {train} has {theirs.shape[1]}")
    X_train, Y_train = tr.X, tr.Y
    if valid is not None and merge_valid:
        X_train = np.concatenate([X_train, parts["valid"].X])
        Y_train = np.concatenate([Y_train, parts["valid"].Y])
    if test is not None:
        held = parts["test"]
    elif valid is not None and not merge_valid:
        held = parts["valid"]
    else:
        held = tr
    sources = [f"train {Path(train).name}"] + [f"{k} {Path(p).name}" for k, p in
                                               (("test", test), ("valid", valid)) if p is not None]
    X_valid, Y_valid = (parts["valid"].X, parts["valid"].Y) if valid is not None else (None, None)
    if as_classes and tr.Y.shape[1] != 1:
        raise ValueError(f"as_classes needs a single-output file; {train} has {tr.Y.shape[1]} outputs")
    if as_classes and balanced:
        raise ValueError("balanced=True is for Boolean tasks; as_classes makes a 2-class task")
    task = Task(name if name is not None else _split_name(train), X_train, Y_train, held.X, held.Y,
                description=f"PLA type {tr.type}, {tr.X.shape[1]} inputs, {tr.Y.shape[1]} outputs "
                            f"({', '.join(sources)})"
                            + (f"; {tr.n_conflicts} conflicting rows: {conflicts}" if tr.n_conflicts else ""),
                X_valid=X_valid, Y_valid=Y_valid, balanced=balanced)
    if as_classes:
        task = task.as_classes(name=task.name)
    task.pla = tr
    return task
