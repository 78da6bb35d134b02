"""Classic baselines on the very inputs a B-type sees: scikit-learn on the binarised task.

Computing apart from drawing: :func:`baselines` returns numbers; the benchmark script
and the sweep's summary print them beside the trained machines.
"""
from __future__ import annotations

import time
import warnings

import numpy as np

__all__ = ["BASELINES", "baselines", "labels_of"]

#: name -> (description, factory(seed) of a scikit-learn estimator)
BASELINES = {
    "logistic": ("logistic regression", lambda seed: _sk("linear_model").LogisticRegression(
        max_iter=300, random_state=seed)),
    "tree": ("decision tree, depth 10", lambda seed: _sk("tree").DecisionTreeClassifier(
        max_depth=10, random_state=seed)),
    "knn": ("3-nearest neighbours", lambda seed: _sk("neighbors").KNeighborsClassifier(n_neighbors=3)),
    "mlp": ("MLP, one hidden layer of 256", lambda seed: _sk("neural_network").MLPClassifier(
        hidden_layer_sizes=(256,), max_iter=30, random_state=seed)),
}


def _sk(module):
    import importlib

    return importlib.import_module(f"sklearn.{module}")


def labels_of(task, split):
    """Class labels of a split: the labels of a classification task, or the single
    output of a one-output Boolean task (a learning-from-examples file) as 0/1."""
    X, Y = task.split(split)
    if task.n_classes is not None:
        return X, np.asarray(Y)
    Y = np.asarray(Y)
    if Y.ndim != 2 or Y.shape[1] != 1:
        raise ValueError(f"baselines need a classification task or a one-output Boolean task; "
                         f"{task.name!r} has {Y.shape[1]} outputs")
    return X, Y[:, 0].astype(np.int64)


def baselines(task, *, which=("logistic", "tree", "knn"), seed=0) -> dict:
    """Test accuracy and fitting time of each baseline in ``which`` on ``task``.

    Returns ``{name: {"description", "test_accuracy", "train_accuracy", "seconds"}}``.
    Clocked (sequence) tasks are refused: the baselines see one input vector per sample.
    """
    if task.is_clocked:
        raise ValueError(f"baselines need a combinational task; {task.name!r} is clocked")
    unknown = set(which) - set(BASELINES)
    if unknown:
        raise ValueError(f"which must be among {sorted(BASELINES)}, got {sorted(unknown)}")
    X_train, y_train = labels_of(task, "train")
    X_test, y_test = labels_of(task, "test")
    X_train = X_train.astype(np.float32)
    X_test = X_test.astype(np.float32)
    out = {}
    for name in which:
        description, make = BASELINES[name]
        model = make(seed)
        t0 = time.perf_counter()
        with warnings.catch_warnings():   # capped iterations are the point: a fixed, stated cost
            warnings.simplefilter("ignore")
            model.fit(X_train, y_train)
        test = float((model.predict(X_test) == y_test).mean())
        seconds = time.perf_counter() - t0
        train = float((model.predict(X_train[:10000]) == y_train[:10000]).mean())
        out[name] = {"description": description, "test_accuracy": test, "train_accuracy": train,
                     "seconds": seconds}
    return out
