"""The contract every registered trainer keeps (DESIGN.md section 4).

Parametrised over every search method in ``btype.search.METHODS`` and, when
``sgd`` imports and has ``train``, over gradient descent too. Each trainer
runs on a WB-type machine (half the links modified) for a small budget.
"""
import numpy as np
import pytest

import btype
import btype.search
from btype.train import RECORD_FIELDS


def _trainers():
    params = [pytest.param(name, id=name) for name in sorted(btype.search.METHODS)]
    try:
        import sgd
    except ImportError:
        sgd = None
    if sgd is not None and callable(getattr(sgd, "train", None)):
        params.append(pytest.param("sgd", id="sgd"))
    return params


def _train(name, net, task, seed):
    if name == "sgd":
        import sgd

        return sgd.train(net, task, budget=btype.Budget(steps=30), seed=seed, progress=False)
    return btype.search.train(net, task, method=name, budget=btype.Budget(evaluations=1500),
                              seed=seed, progress=False)


def mux6():
    """The 6-input multiplexer built directly: address bits 0-1 select data bit 2 + address."""
    rows = np.arange(64)
    X = ((rows[:, None] >> np.arange(6)) & 1).astype(bool)
    address = X[:, 0].astype(int) + 2 * X[:, 1].astype(int)
    Y = X[rows, 2 + address][:, None]
    return btype.tasks.Task("mux6", X, Y, X, Y)


@pytest.fixture(scope="module")
def setting():
    task = mux6()
    net = btype.random_network(6, 120, 1, layers=8, reach=2, seed=3, modified_fraction=0.5)
    return net, task


@pytest.fixture(scope="module")
def runs(setting):
    net, task = setting
    cache = {}

    def get(name, seed=0):
        if (name, seed) not in cache:
            cache[name, seed] = _train(name, net, task, seed)
        return cache[name, seed]

    return get


@pytest.mark.parametrize("name", _trainers())
def test_records_are_well_formed(name, runs):
    result = runs(name)
    assert isinstance(result, btype.TrainResult) and result.trace
    previous = None
    for rec in result.trace:
        assert tuple(rec)[:len(RECORD_FIELDS)] == RECORD_FIELDS
        assert rec["method"] == result.method and rec["task"] == "mux6" and rec["seed"] == 0
        for key in ("step", "evaluations", "gate_evals"):
            assert isinstance(rec[key], int) and rec[key] >= 0
        assert 0.0 <= rec["train_fitness"] <= 1.0 and 0.0 <= rec["test_accuracy"] <= 1.0
        assert isinstance(rec["solved"], bool) and rec["seconds"] >= 0.0
        if previous is not None:
            for key in ("step", "evaluations", "gate_evals", "seconds"):
                assert rec[key] >= previous[key], key
        previous = rec


@pytest.mark.parametrize("name", _trainers())
def test_budget_respected(name, runs):
    last = runs(name).trace[-1]
    if name == "sgd":
        assert last["step"] <= 30
    else:
        assert last["evaluations"] <= 1500
    assert not runs(name).interrupted


@pytest.mark.parametrize("name", _trainers())
def test_reported_fitness_is_remeasured_fitness(name, runs, setting):
    net, task = setting
    result = runs(name)
    # independently: per-output bit accuracy of the simulator's outputs
    Y = btype.evaluate(result.network, task.X_train)
    accuracy = float((Y == task.Y_train).mean())
    assert result.train_fitness == pytest.approx(accuracy, abs=1e-12)
    assert result.train_fitness == task.score(result.network, "train").fitness
    assert result.solved == bool((Y == task.Y_train).all())
    if name != "sgd":
        assert result.trace[-1]["train_fitness"] == result.train_fitness


@pytest.mark.parametrize("name", _trainers())
def test_only_modified_links_change(name, runs, setting):
    net, _ = setting
    out = runs(name).network
    assert np.array_equal(out.wiring, net.wiring) and np.array_equal(out.outputs, net.outputs)
    assert np.array_equal(out.modifiers, net.modifiers) and out.link == net.link
    assert out.enabled[~net.modifiers].all()


@pytest.mark.parametrize("name", _trainers())
def test_seed_determinism(name, runs, setting):
    net, task = setting
    first, again = runs(name), _train(name, net, task, 0)
    assert np.array_equal(first.network.enabled, again.network.enabled)
    assert _deterministic(first.trace) == _deterministic(again.trace)


def _deterministic(trace):
    """Records without wall times; NaN made comparable."""
    def same(v):
        return "nan" if isinstance(v, float) and np.isnan(v) else v
    return [{k: same(v) for k, v in rec.items() if not k.endswith("seconds")} for rec in trace]
