"""sgd at scale: relaxed scoring batch by batch on bounded rows, epochs in the records."""
import numpy as np
import pytest
import torch

import btype
import sgd
from sgd.run import GradientRun as _Run
from sgd.options import check_options


def _run(task, net, **options):
    return _Run(net, task, btype.Budget(steps=1), "cpu", 0, check_options(options))


def _unchunked(run, split, rows=None):
    """The relaxed fitness from one forward pass over the rows, scored by the task's own scorer."""
    X, Y = run.task.split(split)
    x = run.X[split] if rows is None else run.X[split][rows]
    with torch.no_grad():
        out = run.relaxed(x, mode="soft", steps=run.task.steps).float().numpy()
    if run.task.n_classes is None:
        return run.task.score_outputs(out > 0.5, split).fitness
    labels = Y if rows is None else Y[rows.numpy()]
    return float((out.reshape(len(out), run.task.n_classes, -1).sum(-1).argmax(1) == labels).mean())


@pytest.mark.parametrize("batch", [1, 7, 64, 10_000])
def test_chunked_relaxed_accuracy_equals_one_pass(batch):
    task = btype.tasks.get("digits")
    net = btype.random_network(task.n_inputs, 300, task.n_classes * 5, layers=3, seed=1)
    run = _run(task, net, batch_size=batch, relaxed_rows=None)
    for split in ("train", "test"):
        assert run._relaxed_fitness(split) == pytest.approx(_unchunked(run, split), abs=1e-12)


def test_chunked_relaxed_fitness_of_a_boolean_task_equals_score_outputs():
    task = btype.tasks.get("mux6")
    net = btype.random_network(task.n_inputs, 60, task.n_outputs, layers=4, reach=2, seed=2)
    run = _run(task, net, batch_size=5, relaxed_rows=None)
    assert run._relaxed_fitness("train") == pytest.approx(_unchunked(run, "train"), abs=1e-12)


def test_relaxed_rows_scores_a_fixed_subset():
    task = btype.tasks.get("digits")
    net = btype.random_network(task.n_inputs, 300, task.n_classes * 5, layers=3, seed=1)
    run = _run(task, net, batch_size=32, relaxed_rows=100)
    rows = run.relaxed_rows["train"]
    assert len(rows) == 100 and len(set(rows.tolist())) == 100
    assert run._relaxed_fitness("train") == pytest.approx(_unchunked(run, "train", rows), abs=1e-12)
    assert run.relaxed_rows["test"] is not None  # 360 test rows > 100
    small = _run(task, net, batch_size=32, relaxed_rows=10_000)
    assert small.relaxed_rows["train"] is None


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_relaxed_rows_is_checked(bad):
    task = btype.tasks.get("mux6")
    net = btype.random_network(task.n_inputs, 20, 1, seed=0)
    with pytest.raises(ValueError, match="relaxed_rows"):
        sgd.train(net, task, budget=btype.Budget(steps=1), progress=False, device="cpu", relaxed_rows=bad)


def test_records_count_epochs():
    """epoch = samples seen / training rows, counted from the step and the batch size."""
    task = btype.tasks.get("digits")
    n = len(task.X_train)
    net = btype.random_network(task.n_inputs, 200, task.n_classes * 4, layers=3, seed=0)
    result = sgd.train(net, task, budget=btype.Budget(steps=40), progress=False, device="cpu",
                       batch_size=100, record_every=500)
    steps = [r["step"] for r in result.trace]
    assert steps[0] == 0 and steps[-1] == 40 and len(steps) > 3
    for rec in result.trace:
        assert rec["epoch"] == rec["step"] * 100 / n
    assert result.trace[-1]["epoch"] > 2  # 4,000 samples over 1,437 rows
    full = sgd.train(net, task, budget=btype.Budget(steps=3), progress=False, device="cpu",
                     batch_size=10 ** 6, record_every=1)
    assert [r["epoch"] for r in full.trace] == [0.0, 1.0, 2.0, 3.0]
