"""Task fields are checked when the task is made, with errors naming the field."""
import numpy as np
import pytest

import btype
from btype.tasks import Task
from btype.tasks.base import MAX_STEPS

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=bool)
Y = np.array([[0, 1], [1, 0], [1, 0], [0, 1]], dtype=bool)
LABELS = np.array([0, 1, 1, 0])


def boolean(**fields):
    return Task("t", X, Y, X, Y, **fields)


def classes(**fields):
    return Task("t", X, LABELS, X, LABELS, **{"n_classes": 2, **fields})


@pytest.mark.parametrize("value, error", [(0, ValueError), (-2, ValueError), (2**20 + 1, ValueError),
                                          ("2", TypeError), (True, TypeError), (2.0, TypeError)])
def test_n_classes_refused(value, error):
    with pytest.raises(error, match="n_classes"):
        classes(n_classes=value)


def test_labels_outside_the_classes_refused():
    with pytest.raises(ValueError, match="Y_train has label 2 at row 0; labels must be in 0..1"):
        Task("t", X, np.array([2, 0, 1, 0]), X, LABELS, n_classes=2)


@pytest.mark.parametrize("steps", [-1, 0, MAX_STEPS + 1])
def test_steps_refused(steps):
    seq = np.zeros((4, 3, 2), bool)
    with pytest.raises(ValueError, match="steps"):
        Task("t", seq, Y, seq, Y, steps=steps)
    with pytest.raises(TypeError, match="steps"):
        Task("t", seq, Y, seq, Y, steps="3")


def test_valid_split_checked():
    with pytest.raises(ValueError, match="X_valid and Y_valid must be given together.*X_valid without Y_valid"):
        boolean(X_valid=X)
    with pytest.raises(ValueError, match="Y_valid without X_valid"):
        boolean(Y_valid=Y)
    with pytest.raises(ValueError, match="X_valid has shape \\(4, 3\\), X_train \\(4, 2\\)"):
        boolean(X_valid=np.zeros((4, 3), bool), Y_valid=Y)
    with pytest.raises(TypeError, match="X_valid must be bool"):
        boolean(X_valid=X.astype(float), Y_valid=Y)
    with pytest.raises(ValueError, match="X_valid has 4 rows but Y_valid has 3"):
        boolean(X_valid=X, Y_valid=Y[:3])
    with pytest.raises(ValueError, match="Y_valid has 1 outputs but Y_train has 2"):
        boolean(X_valid=X, Y_valid=Y[:, :1])
    task = boolean(X_valid=X.astype(np.uint8), Y_valid=Y.astype(np.int64))   # 0/1 integers converted
    assert task.X_valid.dtype == bool and task.Y_valid.dtype == bool


def test_test_target_width_checked():
    with pytest.raises(ValueError, match="Y_test has 1 outputs but Y_train has 2"):
        Task("t", X, Y, X, Y[:, :1])


@pytest.mark.parametrize("weights, match", [
    ([1.0], r"shape \(2,\)"), ([1, 2, 3], r"shape \(2,\)"), ([np.nan, 1], "finite"),
    ([-1, 2], ">= 0"), ([0, 0], "all be zero"), ([np.inf, 1], "finite"),
])
def test_output_weights_refused(weights, match):
    with pytest.raises(ValueError, match=match):
        boolean(output_weights=weights)


def test_output_weights_used_as_given():
    task = boolean(output_weights=[3, 1])
    net = btype.random_network(2, 6, 2, seed=1)
    Yhat = task.outputs(net)
    per_output = (Yhat == Y).mean(axis=0)
    assert task.score(net).fitness == pytest.approx((3 * per_output[0] + per_output[1]) / 4)


def test_output_weights_only_for_boolean_tasks():
    with pytest.raises(ValueError, match="Boolean tasks"):
        classes(output_weights=[1, 1])


def test_classes_names_checked():
    assert classes(classes=("no", "yes")).classes == ("no", "yes")
    with pytest.raises(ValueError, match="classes must name the 2 classes"):
        classes(classes=("a", "b", "c"))
