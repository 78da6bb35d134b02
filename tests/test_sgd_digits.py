"""The relaxation learns a real data set: digits, with sgd.train's defaults, on the CPU.

The issue's bar: at least 93% test accuracy of the *hardened* machine (scored
here again by the btype simulator, independently of the trainer's records) with
a layered machine of at most 8,000 gates, within a minute of training. The budget
here is in optimiser steps, so the outcome does not depend on how busy the machine
is: 5,000 steps is what fits in a minute on the project's 2-core CPU (seed 0
stops solved at step 4,473; the whole test takes about 41 s on a quiet machine).
"""
import numpy as np
import pytest

import btype

torch = pytest.importorskip("torch")
sgd = pytest.importorskip("sgd")


def test_digits_reaches_93_percent_hardened_within_a_minute_of_steps():
    task = btype.tasks.get("digits")
    per_class = 80
    net = btype.random_network(task.n_inputs, 8000, task.n_classes * per_class, kind="layered",
                               layers=4, seed=0)
    result = sgd.train(net, task, budget=btype.Budget(steps=5000, target=1.0), device="cpu", seed=0,
                       progress=False)
    assert result.trace[-1]["step"] <= 5000

    # Re-score the hardened machine with the simulator: the class is the group of
    # outputs with the most ones (ties to the lowest class), docs/design.md section 3.
    out = btype.evaluate(result.network, task.X_test)
    votes = out.reshape(len(out), task.n_classes, per_class).sum(-1)
    accuracy = float(np.mean(votes.argmax(1) == task.Y_test))
    assert accuracy == pytest.approx(result.test_accuracy)
    assert accuracy >= 0.93
