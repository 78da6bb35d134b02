"""Real data sets as classification tasks: scikit-learn's 8x8 digits, and what image data sets share.

Nothing is downloaded: digits ship inside scikit-learn; MNIST and
Fashion-MNIST (``btype.tasks.images``) are read from files on disk. Inputs are
binarised pixels (a threshold or a thermometer code); targets are ``(S,)``
int labels with ``n_classes`` set (docs/design.md section 3). Every data set takes
``valid=``, the share of its training rows held out as a validation split
(stratified by class, fixed by ``seed``).
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from .arrays import split_rows
from .base import Task, check_int

__all__ = ["digits"]


def check_classes(classes, labels_present):
    """Validated tuple of distinct class labels, or None."""
    if classes is None:
        return None
    try:
        classes = tuple(classes)
    except TypeError:
        raise TypeError(f"classes must be a sequence of labels, got {classes!r}") from None
    if len(classes) < 2:
        raise ValueError(f"classes must name at least two labels, got {classes!r}")
    classes = tuple(check_int(c, "classes", 0, 2**31) for c in classes)
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes must be distinct, got {classes!r}")
    missing = sorted(set(classes) - set(labels_present))
    if missing:
        raise ValueError(f"classes {missing} do not occur in the data (labels: {sorted(labels_present)})")
    return classes


def select(X, y, classes):
    """Rows of the listed classes, labels remapped to their position in ``classes``."""
    if classes is None:
        return X, y.astype(np.int64)
    lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, -1, dtype=np.int64)
    lookup[list(classes)] = np.arange(len(classes))
    keep = lookup[y] >= 0
    return X[keep], lookup[y[keep]]


def with_classes(name, classes):
    """``name`` with a class subset appended: ``fashion0v6``, ``mnist14-3v7`` (a dash after a digit)."""
    if classes is None:
        return name
    return name + ("-" if name[-1].isdigit() else "") + "v".join(map(str, classes))


def coding(threshold, levels, maximum, default_threshold):
    """The cut points of a pixel code: ``[threshold]`` or ``levels`` thermometer cuts.

    Thermometer bit ``j`` of a value is 1 when the value is ``>= maximum * (j + 1) / (levels + 1)``
    (``levels=1`` is the cut ``maximum / 2``). Returns (cuts, name suffix, description).
    """
    if threshold is not None and levels is not None:
        raise ValueError(f"give threshold or levels, not both (got threshold={threshold!r}, "
                         f"levels={levels!r})")
    if levels is not None:
        levels = check_int(levels, "levels", 1, maximum)
        return (maximum * np.arange(1, levels + 1) / (levels + 1), f"-t{levels}",
                f"thermometer {levels} levels")
    threshold = check_int(default_threshold if threshold is None else threshold, "threshold", 1, maximum)
    return np.array([threshold]), "", f"threshold {threshold}"


def encode(values, cuts):
    """(N, P) pixel values -> (N, P * len(cuts)) bool, pixel-major: column ``len(cuts) * p + j``."""
    return (values[:, :, None] >= cuts).reshape(len(values), -1)


def check_fraction(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def hold_out(X, y, fraction, seed):
    """(X_train, y_train, X_valid, y_valid): ``fraction`` of each class's rows held out at random
    (:func:`btype.tasks.split_rows`).

    With ``fraction`` 0 the validation arrays are None. Rows keep their order within each split.
    """
    if fraction == 0:
        return X, y, None, None
    train, valid = split_rows(y, (fraction,), seed)
    if not len(train) or not len(valid):
        raise ValueError(f"valid={fraction} leaves {'no training' if not len(train) else 'no validation'} "
                         f"rows of {len(y)}")
    return X[train], y[train], X[valid], y[valid]


def digits(*, threshold: int | None = None, levels: int | None = None, classes: Sequence[int] | None = None,
           test_fraction: float = 0.2, valid: float = 0.0, seed: int = 0) -> Task:
    """scikit-learn's bundled 8x8 digits (1,797 images, pixel values 0..16), binarised.

    Parameters
    ----------
    threshold : int, optional
        A pixel is 1 when its value is ``>= threshold`` (1..16; default 8).
        64 inputs.
    levels : int, optional
        Thermometer code instead: ``levels`` bits per pixel, bit ``j`` is 1 when
        the value is ``>= 16 * (j + 1) / (levels + 1)`` (``levels=1`` is the
        threshold 8). Inputs are pixel-major: column ``levels * p + j``.
        Not together with ``threshold``.
    classes : sequence of int, optional
        Keep only these digits; label ``classes[i]`` becomes ``i``.
    test_fraction : float
        Share of rows in the test split (stratified by class).
    valid : float
        Share of the training rows held out as ``X_valid``/``Y_valid``
        (stratified); 0 (the default, which keeps the 1,437/360 split) for none.
    seed : int
        Seed of the splits; the same seed always gives the same splits.

    Returns
    -------
    Task
        Classification task, ``n_classes = len(classes)`` or 10.
    """
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:  # pragma: no cover - scikit-learn is installed in CI
        raise ImportError("btype.tasks.digits needs scikit-learn: pip install scikit-learn") from None
    cuts, code_name, code_text = coding(threshold, levels, 16, 8)
    if not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    valid = check_fraction(valid, "valid")
    seed = check_int(seed, "seed", 0, 2**32 - 1)
    data = load_digits()
    pixels, y = data.data, data.target
    classes = check_classes(classes, np.unique(y).tolist())
    X, y = select(encode(pixels, cuts), y, classes)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_fraction, random_state=seed, stratify=y)
    X_train, y_train, X_valid, y_valid = hold_out(X_train, y_train, valid, seed)
    return Task(with_classes("digits" + code_name, classes), X_train, y_train, X_test, y_test,
                n_classes=10 if classes is None else len(classes),
                description=f"scikit-learn 8x8 digits, {code_text}, {X.shape[1]} inputs"
                            + (f", classes {classes}" if classes else ""),
                X_valid=X_valid, Y_valid=y_valid)
