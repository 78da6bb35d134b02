"""Real-valued features as bits: thresholds and thermometer codes with cut points learnt from
the training rows only.

A feature coded with cuts ``c_1 < ... < c_m`` becomes ``m`` bits, bit ``j`` being
``value >= c_j`` (a thermometer code; one cut is a plain threshold). The cuts of
each feature are chosen from its training values alone, so nothing of a test
row leaks into the coding.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from .._checks import check_choice, check_int

__all__ = ["Binarizer"]

_METHODS = ("quantile", "uniform")


class Binarizer:
    """Codes each real-valued feature as a thermometer of ``levels`` bits.

    Parameters
    ----------
    levels : int
        Cut points per feature (1: a single threshold). Fewer where a feature
        has fewer distinct training values; a constant feature gives no bits.
    method : {"quantile", "uniform"}
        ``"quantile"``: cut ``j`` splits the training values closest to their
        ``j / (levels + 1)`` quantile, midway between two neighbouring distinct
        values (a 0/1 feature gets the one cut 0.5). ``"uniform"``: cuts evenly
        spaced between the training minimum and maximum.

    Attributes
    ----------
    cuts : list of (m_f,) float arrays
        The cut points of each feature, ascending (after :meth:`fit`).
    names : list of str
        One name per output bit, ``"feature>=cut"``.

    Examples
    --------
    >>> b = Binarizer(levels=3).fit(X_train)          # doctest: +SKIP
    >>> bits_train, bits_test = b.transform(X_train), b.transform(X_test)  # doctest: +SKIP
    """

    def __init__(self, levels: int = 1, *, method: str = "quantile") -> None:
        self.levels = check_int(levels, "levels", 1, 1 << 16)
        self.method = check_choice(method, "method", _METHODS)
        self.cuts = None
        self.names = None
        self.feature_names = None

    def __repr__(self):
        fitted = "" if self.cuts is None else f", {self.n_bits} bits from {len(self.cuts)} features"
        return f"Binarizer(levels={self.levels}, method={self.method!r}{fitted})"

    @property
    def n_bits(self) -> int:
        """Output bits in all (after :meth:`fit`)."""
        self._check_fitted()
        return int(sum(len(c) for c in self.cuts))

    def fit(self, X: ArrayLike, feature_names: Sequence[str] | None = None) -> "Binarizer":
        """Learn the cut points of every column of ``X`` (the training rows); returns self.

        Parameters
        ----------
        X : (S, F) real array (or DataFrame: its column names are used)
        feature_names : sequence of str, optional
            Names of the columns, for :attr:`names`; default the DataFrame's or ``x0, x1, ...``.
        """
        if hasattr(X, "columns") and feature_names is None:
            feature_names = [str(c) for c in X.columns]
        X = self._values(X, "X")
        if len(X) == 0:
            raise ValueError("Binarizer.fit needs at least one row")
        if feature_names is None:
            feature_names = [f"x{j}" for j in range(X.shape[1])]
        feature_names = [str(n) for n in feature_names]
        if len(feature_names) != X.shape[1]:
            raise ValueError(f"feature_names has {len(feature_names)} names for {X.shape[1]} columns")
        cut = self._quantile_cuts if self.method == "quantile" else self._uniform_cuts
        self.cuts = [cut(X[:, j]) for j in range(X.shape[1])]
        self.feature_names = feature_names
        self.names = [f"{name}>={c:g}" for name, cuts in zip(feature_names, self.cuts) for c in cuts]
        if not self.names:
            raise ValueError("every feature is constant on the training rows: no bits to code")
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """(S, F) real values -> (S, n_bits) bool, feature-major (a feature's bits side by side)."""
        self._check_fitted()
        X = self._values(X, "X")
        if X.shape[1] != len(self.cuts):
            raise ValueError(f"X has {X.shape[1]} columns; the binariser was fitted on {len(self.cuts)}")
        columns = [X[:, j, None] >= cuts for j, cuts in enumerate(self.cuts) if len(cuts)]
        return np.concatenate(columns, axis=1) if columns else np.zeros((len(X), 0), bool)

    def fit_transform(self, X: ArrayLike, feature_names: Sequence[str] | None = None) -> np.ndarray:
        """:meth:`fit` then :meth:`transform` on the same rows."""
        return self.fit(X, feature_names).transform(X)

    def _check_fitted(self):
        if self.cuts is None:
            raise ValueError("this Binarizer is not fitted yet; call fit(X_train) first")

    @staticmethod
    def _values(X, what):
        X = X.to_numpy() if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray) else np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"{what} must be 2-dimensional (samples, features), got shape {X.shape}")
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{what} must hold numbers to binarise, got dtype {X.dtype}") from None
        if not np.isfinite(X).all():
            row, col = (int(i) for i in np.argwhere(~np.isfinite(X))[0])
            raise ValueError(f"{what} has {X[row, col]} at row {row}, column {col}; drop or fill "
                             "missing and infinite values first")
        return X

    def _quantile_cuts(self, values):
        distinct, counts = np.unique(values, return_counts=True)
        if len(distinct) < 2:
            return np.zeros(0)
        # Candidate cuts midway between neighbouring distinct values; below[i]: share under cut i.
        candidates = (distinct[:-1] + distinct[1:]) / 2
        below = np.cumsum(counts)[:-1] / len(values)
        targets = np.arange(1, self.levels + 1) / (self.levels + 1)
        best = np.abs(below[None, :] - targets[:, None]).argmin(axis=1)
        return candidates[np.unique(best)]

    def _uniform_cuts(self, values):
        lo, hi = values.min(), values.max()
        if lo == hi:
            return np.zeros(0)
        return np.unique(lo + (hi - lo) * np.arange(1, self.levels + 1) / (self.levels + 1))
