"""Tasks from CSV files and back: a header row, one sample per line, a target column.

Feature values must be numbers (0/1, or real values with ``binarize=``); the target
column may hold any labels (class names or numbers) or, for Boolean tasks, 0/1.
Errors name the file and the line.
"""
from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from typing import Any
from pathlib import Path

import numpy as np

from .._checks import check_path
from .arrays import from_arrays
from .base import Task

__all__ = ["from_csv", "read_csv", "to_csv"]


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


def read_csv(path: str | os.PathLike, target: str | int | Sequence[str | int], *,
             delimiter: str = ",") -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """The inputs and targets of a CSV file with a header row.

    Parameters
    ----------
    path : path
    target : str or int or sequence of them
        The target column(s), by header name or position; every other column is a feature.
    delimiter : str

    Returns
    -------
    X : (S, F) float64
    y : (S,) labels (int64 when every label is an integer, else str), or (S, K) float64 for
        several target columns
    feature_names, target_names : lists of str
    """
    path = check_path(path, "path", optional=False)
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a directory, not a CSV file")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = csv.reader(fh, delimiter=delimiter)
        try:
            header = next(rows)
        except StopIteration:
            raise ValueError(f"{path}: empty file (a header row is needed)") from None
        header = [h.strip() for h in header]
        targets = _target_columns(path, header, target)
        features = [j for j in range(len(header)) if j not in targets]
        X, Y = [], []
        for row in rows:
            line = rows.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ValueError(f"{path}:{line}: {len(row)} fields, the header has {len(header)}")
            values = [_number(row[j]) for j in features]
            for j, value in zip(features, values):
                if value is None:
                    what = "an empty field" if not row[j].strip() else f"{row[j]!r}, not a number"
                    raise ValueError(f"{path}:{line}: column {header[j]!r}: {what}")
            X.append(values)
            Y.append([row[j].strip() for j in targets])
    if not X:
        raise ValueError(f"{path}: no data rows after the header")
    for k, j in enumerate(targets):
        missing = [i for i, y in enumerate(Y) if not y[k]]
        if missing:
            raise ValueError(f"{path}: column {header[j]!r} is empty on the data row {missing[0] + 1} "
                             "(counting from the first after the header)")
    X = np.array(X, dtype=np.float64).reshape(len(X), len(features))
    if len(targets) > 1:
        Y = np.array([[_number(v) for v in y] for y in Y], dtype=object)
        if any(v is None for v in Y.ravel()):
            raise ValueError(f"{path}: several target columns must hold 0/1 numbers")
        y = Y.astype(np.float64)
    else:
        y = _labels([v[0] for v in Y])
    return X, y, [header[j] for j in features], [header[j] for j in targets]


def _labels(texts):
    """Labels as int64 when every one is an integer, else as str."""
    try:
        return np.array([int(t) for t in texts], dtype=np.int64)
    except ValueError:
        return np.array(texts, dtype=object)


def _target_columns(path, header, target):
    wanted = [target] if isinstance(target, (str, int)) and not isinstance(target, bool) else list(target)
    if not wanted:
        raise ValueError("target must name at least one column")
    columns = []
    for t in wanted:
        if isinstance(t, str):
            if t not in header:
                raise ValueError(f"{path}: no column {t!r} (columns: {', '.join(header[:20])})")
            columns.append(header.index(t))
        elif isinstance(t, int) and not isinstance(t, bool) and -len(header) <= t < len(header):
            columns.append(t % len(header))
        else:
            raise ValueError(f"{path}: target {t!r} is not a column name or position of the "
                             f"{len(header)} columns")
    if len(set(columns)) != len(columns):
        raise ValueError(f"target names a column twice: {target!r}")
    if len(columns) == len(header):
        raise ValueError(f"{path}: every column is a target; no features are left")
    return columns


def from_csv(path: str | os.PathLike, target: str | int | Sequence[str | int], *,
             test_file: str | os.PathLike | None = None, delimiter: str = ",", name: str | None = None,
             **options: Any) -> Task:
    """A task from a CSV file (and optionally a test file with the same columns).

    Parameters
    ----------
    path : path
        Header row, then one sample per line.
    target : str or int or sequence of them
        The target column (class labels, or 0/1 for a Boolean task), or several 0/1
        columns (one output each).
    test_file : path, optional
        The test rows; without it ``test=`` of each class's rows are held out.
    delimiter : str
    name : str, optional
        Default: the file name without its extension.
    **options
        Passed to :func:`btype.tasks.from_arrays` (``test``, ``valid``, ``seed``,
        ``kind``, ``binarize``, ``description``).

    Returns
    -------
    Task
        As :func:`btype.tasks.from_arrays` makes it.
    """
    X, y, features, targets = read_csv(path, target, delimiter=delimiter)
    if test_file is not None:
        X_test, y_test, test_features, test_targets = read_csv(test_file, target, delimiter=delimiter)
        if test_features + test_targets != features + targets:
            raise ValueError(f"{test_file}: columns differ from those of {path}")
        options.update(X_test=X_test, y_test=y_test)
    if "kind" not in options and len(targets) > 1:
        options["kind"] = "boolean"
    y_in = y if y.ndim == 2 else _Named(y, targets[0])
    task = from_arrays(_Named(X, features), y_in, name=name or Path(path).name.split(".")[0],
                       **options)
    return task


class _Named:
    """An array with column names, read by from_arrays as it reads a DataFrame or Series."""

    def __init__(self, values, names):
        self.values = values
        if isinstance(names, str):
            self.name = names
        else:
            self.columns = names

    def to_numpy(self):
        return self.values


def to_csv(task: Task, path: str | os.PathLike, split: str = "train", *, delimiter: str = ",") -> None:
    """Write one split of a task as CSV: its input bits and its target(s), with a header.

    Inputs are written as 0/1 columns named by ``task.input_names`` where the task
    has them (else ``x0, x1, ...``). A classification task's target column ``label``
    holds the original labels (``task.classes``); a Boolean task's outputs are 0/1
    columns ``y0, y1, ...``. :func:`from_csv` reads it back (``target="label"`` or
    the output columns).

    Parameters
    ----------
    task : Task
        A combinational task.
    path : path
    split : {"train", "test", "valid"}
    delimiter : str
    """
    if not isinstance(task, Task):
        raise TypeError(f"task must be a btype.tasks.Task, got {task!r}")
    if task.steps is not None:
        raise ValueError(f"task {task.name!r} is clocked; to_csv writes combinational tasks")
    path = check_path(path, "path", optional=False)
    X, Y = task.split(split)
    names = getattr(task, "input_names", None)
    if names is None or len(names) != task.n_inputs:
        names = [f"x{j}" for j in range(task.n_inputs)]
    if task.n_classes is not None:
        classes = task.classes if task.classes is not None else tuple(range(task.n_classes))
        targets, columns = ["label"], [[classes[k]] for k in Y.tolist()]
    else:
        outputs = getattr(task, "output_names", None)
        targets = list(outputs) if outputs and len(outputs) == Y.shape[1] else [f"y{k}" for k in range(Y.shape[1])]
        columns = Y.astype(np.uint8).tolist()
    bits = X.astype(np.uint8).tolist()
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(list(names) + targets)
        for row, target in zip(bits, columns):
            writer.writerow(row + target)
