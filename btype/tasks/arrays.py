"""Tasks from your own arrays: NumPy or pandas inputs, Boolean targets or class labels, split
per class with a seed, real-valued features binarised on the training rows only.

pandas is never imported here: a DataFrame or Series is recognised by its ``to_numpy``
method, so the package works without it.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from .._checks import check_choice, check_fraction, check_seed
from .base import Task

if TYPE_CHECKING:
    from .binarize import Binarizer

__all__ = ["from_arrays", "split_rows"]

_BINARISE_HINT = ("binarise real-valued features: btype.tasks.from_arrays(..., "
                  "binarize=btype.tasks.Binarizer(levels=...)) fits cut points on the training rows")


def split_rows(strata: ArrayLike, fractions: Sequence[float], seed: int) -> list[np.ndarray]:
    """Row indices of each split, drawn per stratum (class) with a seed.

    For each stratum in sorted order, its rows are permuted by one
    ``numpy.random.default_rng(seed)`` generator; the first
    ``round(fraction * n)`` go to the first held-out split, the next ones to the
    second, and so on; the rest stay in training.

    Parameters
    ----------
    strata : (S,) array
        The stratum of each row (class labels, or any integer code).
    fractions : sequence of float
        Share of each stratum's rows per held-out split.
    seed : int

    Returns
    -------
    list of (n,) int64 arrays
        Training rows first, then one array per fraction; each sorted (rows keep their order).
    """
    strata = np.asarray(strata)
    rng = np.random.default_rng(seed)
    which = np.zeros(len(strata), dtype=np.int64)
    for value in np.unique(strata):
        rows = rng.permutation(np.flatnonzero(strata == value))
        start = 0
        for k, fraction in enumerate(fractions, 1):
            count = int(round(fraction * len(rows)))
            which[rows[start:start + count]] = k
            start += count
    return [np.flatnonzero(which == k) for k in range(len(fractions) + 1)]


def _array(data, what):
    """(values as a NumPy array, column names or None) of an array, DataFrame or Series."""
    names = None
    if hasattr(data, "to_numpy") and not isinstance(data, np.ndarray):
        if hasattr(data, "columns"):
            names = [str(c) for c in data.columns]
        elif getattr(data, "name", None) is not None:
            names = [str(data.name)]
        data = data.to_numpy()
    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be an array, a DataFrame or a Series, got {type(data).__name__} "
                        f"({exc})") from None
    if array.ndim == 0:
        raise ValueError(f"{what} must hold one row per sample, got a scalar {array!r}")
    return array, names


def _nan_at(array, what):
    """ValueError naming the first missing value (NaN or None) of ``array``, if any."""
    if array.dtype == object:
        missing = np.vectorize(lambda v: v is None or (isinstance(v, float) and v != v), otypes=[bool])(array)
    elif np.issubdtype(array.dtype, np.floating):
        missing = np.isnan(array)
    else:
        return
    if missing.any():
        index = tuple(int(i) for i in np.argwhere(missing)[0])
        where = f"row {index[0]}" + (f", column {index[1]}" if len(index) > 1 else "")
        raise ValueError(f"{what} has a missing value (NaN) at {where}; drop or fill missing values first")


def _binary(array, what, names):
    """``array`` as bool when every value is 0 or 1 (bool, integer or float); errors say what to do."""
    _nan_at(array, what)
    if array.dtype == bool:
        return array
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{what} must be bool or 0/1 numbers, got dtype {array.dtype}; "
                        f"{_BINARISE_HINT}")
    bad = ~np.isin(array, (0, 1))
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad.reshape(len(array), -1))[0])
        column = names[col] if names else col
        value = array.reshape(len(array), -1)[row, col].item()
        raise ValueError(f"{what} must hold only 0 and 1, got {value!r} "
                         f"at row {row}, column {column!r}; {_BINARISE_HINT}")
    return array.astype(bool)


def _labels(y, y_test):
    """(codes, test codes, classes): labels mapped to 0..K-1 in sorted order (first-seen if unsortable)."""
    _nan_at(y, "y")
    values = list(dict.fromkeys(y.tolist()))
    try:
        values.sort()
    except TypeError:
        pass
    if len(values) < 2:
        raise ValueError(f"y has only one class ({values[0]!r} on all {len(y)} rows); a "
                         "classification task needs at least two")
    index = {value: k for k, value in enumerate(values)}
    codes = np.fromiter((index[v] for v in y.tolist()), dtype=np.int64, count=len(y))
    test_codes = None
    if y_test is not None:
        _nan_at(y_test, "y_test")
        unknown = [v for v in dict.fromkeys(y_test.tolist()) if v not in index]
        if unknown:
            raise ValueError(f"y_test has labels {unknown[:5]} that y does not have (classes: {values[:20]})")
        test_codes = np.fromiter((index[v] for v in y_test.tolist()), dtype=np.int64, count=len(y_test))
    return codes, test_codes, tuple(values)


def _kind(y, kind):
    check_choice(kind, "kind", ("auto", "labels", "boolean"))
    if kind != "auto":
        return kind
    return "boolean" if y.ndim == 2 or y.dtype == bool else "labels"


def _test_split(X, y, X_test, y_test):
    """The explicit test split as arrays, checked against the training data."""
    if X_test is None or y_test is None:
        raise ValueError("X_test and y_test must be given together")
    X_test, _ = _array(X_test, "X_test")
    y_test, _ = _array(y_test, "y_test")
    _check_rows(X_test, y_test, "X_test", "y_test")
    if X_test.shape[1] != X.shape[1]:
        raise ValueError(f"X_test has {X_test.shape[1]} columns but X has {X.shape[1]}")
    if y_test.shape[1:] != y.shape[1:]:
        raise ValueError(f"y_test has shape {y_test.shape}, y {y.shape}: a different target width")
    return X_test, y_test


def _targets(y, y_test, kind, names):
    """(y, y_test, classes, strata): labels as codes 0..K-1 or Boolean targets as (S, K) bool,
    and the stratum of each row (its class, or its pattern of target bits)."""
    if kind == "labels":
        if y.ndim != 1:
            raise ValueError(f"class labels must be one column, got y of shape {y.shape}")
        if np.issubdtype(y.dtype, np.floating) and (np.isfinite(y) & (y != np.round(y))).any():
            value = y[np.isfinite(y) & (y != np.round(y))][0].item()
            raise ValueError(f"y holds real values (e.g. {value!r}); give class labels or 0/1 targets")
        y, y_test, classes = _labels(y, y_test)
        return y, y_test, classes, y
    y = _binary(y.reshape(len(y), -1), "y", names)
    if y_test is not None:
        y_test = _binary(y_test.reshape(len(y_test), -1), "y_test", names)
    strata = np.unique(y, axis=0, return_inverse=True)[1].ravel() if len(y) else np.zeros(0, np.int64)
    return y, y_test, None, strata


def _check_rows(X, y, what_x, what_y):
    if X.ndim != 2:
        raise ValueError(f"{what_x} must be 2-dimensional (samples, features), got shape {X.shape}")
    if len(X) != len(y):
        raise ValueError(f"{what_x} has {len(X)} rows but {what_y} has {len(y)}")


def from_arrays(X: ArrayLike, y: ArrayLike, *, X_test: ArrayLike | None = None, y_test: ArrayLike | None = None,
                test: float | None = None, valid: float = 0.0, seed: int = 0, name: str = "data",
                kind: str = "auto", binarize: Binarizer | None = None,
                description: str = "") -> Task:
    """A task from your own data: arrays or pandas objects, split per class with a seed.

    Parameters
    ----------
    X : (S, F) array or DataFrame
        Inputs: bool or 0/1 numbers, or real values with ``binarize``.
    y : (S,) or (S, K) array, Series or DataFrame
        Class labels (any hashable values: strings, ints; mapped to 0..K-1 in
        sorted order, kept as ``task.classes``) or Boolean targets (bool or 0/1;
        a 2-D ``y`` gives one output per column).
    X_test, y_test : optional
        An explicit test split (then ``test`` must be left out or 0).
    test : float, optional
        Share of each class's rows held out for testing (default 0.2; 0 when
        ``X_test`` is given).
    valid : float
        Share of each class's rows held out as ``task.X_valid``/``task.Y_valid``.
    seed : int
        Seed of the splits: the same seed gives the same rows in each split.
    name, description : str
    kind : {"auto", "labels", "boolean"}
        What ``y`` holds. ``"auto"``: a 2-D or bool ``y`` gives Boolean targets,
        anything else class labels (so 0/1 integers are two classes; say
        ``"boolean"`` for one output instead).
    binarize : Binarizer, optional
        Codes real-valued features (:class:`btype.tasks.Binarizer`); it is
        fitted on the training rows only, then codes every split.

    Returns
    -------
    Task
        With ``task.classes`` (the original label of each class, or None),
        ``task.rows`` (``{"train": ..., "test": ..., "valid": ...}``: the rows of
        ``X`` in each split, ``"test"`` None for an explicit test split) and
        ``task.binarizer`` (the fitted binariser, or None).

    Raises
    ------
    ValueError for missing values (NaN), non-binary inputs without ``binarize``,
    lengths that differ, a single class, or splits left empty; TypeError for
    inputs that are not numbers.
    """
    from .binarize import Binarizer

    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    X, feature_names = _array(X, "X")
    y, target_names = _array(y, "y")
    _check_rows(X, y, "X", "y")
    explicit = X_test is not None or y_test is not None
    if explicit:
        X_test, y_test = _test_split(X, y, X_test, y_test)
    test = (0.0 if explicit else 0.2) if test is None else check_fraction(test, "test")
    if explicit and test:
        raise ValueError(f"give X_test/y_test or test=, not both (got test={test})")
    valid = check_fraction(valid, "valid")
    if test + valid >= 1:
        raise ValueError(f"test + valid must be below 1, got {test} + {valid}")
    seed = check_seed(seed)
    if binarize is not None and not isinstance(binarize, Binarizer):
        raise TypeError(f"binarize must be a btype.tasks.Binarizer or None, got {binarize!r}")
    if binarize is None:
        X = _binary(X, "X", feature_names)
        if X_test is not None:
            X_test = _binary(X_test, "X_test", feature_names)
    y, y_test, classes, strata = _targets(y, y_test, _kind(y, kind), target_names)
    train, *held = split_rows(strata, (test, valid), seed)
    for part, fraction, what in ((held[0], test, "test"), (held[1], valid, "validation")):
        if fraction and not len(part):
            raise ValueError(f"{what}={fraction} holds out no rows of {len(y)}; use a larger share")
    if not len(train):
        raise ValueError(f"no training rows left of {len(y)}")
    if classes is not None:
        missing = sorted(set(range(len(classes))) - set(y[train].tolist()))
        if missing:
            raise ValueError(f"classes {[classes[k] for k in missing]} have no training rows; use "
                             "smaller test/valid shares or more rows of them")
    if binarize is not None:
        code = binarize.fit(X[train], feature_names=feature_names).transform
        parts = {k: code(X[rows]) for k, rows in (("train", train), ("test", held[0]), ("valid", held[1]))}
        if X_test is not None:
            parts["test"] = code(X_test)
    else:
        parts = {"train": X[train], "test": X[held[0]] if X_test is None else X_test, "valid": X[held[1]]}
    Y_test = y[held[0]] if y_test is None else y_test
    task = Task(name, parts["train"], y[train], parts["test"], Y_test,
                n_classes=None if classes is None else len(classes),
                description=description or _describe(classes, y, parts["train"], binarize),
                X_valid=parts["valid"] if valid else None, Y_valid=y[held[1]] if valid else None,
                classes=classes)
    task.rows = {"train": train, "test": None if explicit else held[0], "valid": held[1] if valid else None}
    task.binarizer = binarize
    task.input_names = binarize.names if binarize is not None else feature_names
    task.output_names = target_names if classes is None else None
    return task


def _describe(classes, y, X, binarize):
    target = f"{len(classes)} classes" if classes is not None else f"{y.shape[1]} Boolean outputs"
    coded = f" (binarised: {binarize})" if binarize is not None else ""
    return f"from arrays: {X.shape[1]} inputs{coded}, {target}"
