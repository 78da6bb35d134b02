"""The hybrid trainer "sgd+es": gradient descent, then es from the hardened machine.

Checked against its two halves run on their own: the gradient phase is
``sgd.train`` on the phase's share of the budget, the search phase is
``btype.search.train(method="es")`` from the machine the gradient phase handed
over, on what is left of the budget; the hybrid's trace is the two traces with
the counters of the second continuing from the first.
"""
import importlib

import numpy as np
import pytest

import btype
from btype import _npz

torch = pytest.importorskip("torch")
sgd = pytest.importorskip("sgd")
hybrid = importlib.import_module("sgd.hybrid")

COUNTERS = ("step", "evaluations", "gate_evals", "seconds")


def _deterministic(trace):
    return [{k: v for k, v in rec.items() if not k.endswith("seconds")} for rec in trace]


@pytest.fixture(scope="module")
def setting():
    # far too small to solve parity5: both phases run to their limits
    task = btype.tasks.get("parity5")
    net = btype.random_network(5, 40, 1, layers=4, reach=2, seed=1)
    budget = btype.Budget(evaluations=4000, steps=900, gate_evals=10 ** 9)
    return net, task, budget


def _hybrid(setting, **kwargs):
    net, task, budget = setting
    kwargs = {"budget": budget, "seed": 0, "progress": False, "device": "cpu", "switch": 0.25,
              "sgd_options": {"record_every": 32 * 20}, **kwargs}
    return hybrid.train(net, task, **kwargs)


@pytest.fixture(scope="module")
def whole(setting):
    return _hybrid(setting)


def test_registered():
    assert "sgd+es" in btype.trainers()
    assert btype.trainer("sgd+es") is hybrid.train
    assert btype.registry.info("sgd+es").family == "hybrid"


def test_phases_are_sgd_then_es_with_counters_running_on(whole):
    phases = [rec["phase"] for rec in whole.trace]
    k = phases.index("es")
    assert set(phases[:k]) == {"sgd"} and set(phases[k:]) == {"es"}
    assert all(rec["method"] == "sgd+es" for rec in whole.trace) and whole.method == "sgd+es"
    for a, b in zip(whole.trace, whole.trace[1:]):
        for key in COUNTERS:
            assert b[key] >= a[key], key


def test_budget_accounting_equals_the_two_halves(setting, whole):
    net, task, budget = setting
    k = [rec["phase"] for rec in whole.trace].index("es")
    # the gradient phase: sgd.train on a quarter of every limit, in one segment (SGD_PHASE_DEFAULTS)
    share = btype.Budget(evaluations=1000, steps=225, gate_evals=250_000_000)
    first = sgd.train(net, task, budget=share, seed=0, progress=False, device="cpu", record_every=32 * 20,
                      **hybrid.SGD_PHASE_DEFAULTS)
    assert _deterministic(whole.trace[:k]) == [dict(rec, method="sgd+es", phase="sgd")
                                               for rec in _deterministic(first.trace)]
    assert first.stop_reason == "evaluations"           # 1000 samples = 31 steps of 32 rows
    used = first.trace[-1]
    assert used["evaluations"] <= 1000 and used["step"] <= 225
    # the search phase: es from sgd's best machine on what is left of every limit
    rest = btype.Budget(evaluations=4000 - used["evaluations"], steps=900 - used["step"],
                        gate_evals=10 ** 9 - used["gate_evals"])
    second = btype.search.train(first.network, task, method="es", budget=rest, seed=0, progress=False)
    expected = [dict(rec, method="sgd+es", phase="es", step=rec["step"] + used["step"],
                     evaluations=rec["evaluations"] + used["evaluations"],
                     gate_evals=rec["gate_evals"] + used["gate_evals"]) for rec in _deterministic(second.trace)]
    assert _deterministic(whole.trace[k:]) == expected
    assert np.array_equal(whole.network.enabled, second.network.enabled)
    assert whole.train_fitness == second.train_fitness == task.score(whole.network, "train").fitness
    # together within every limit of the one budget
    last = whole.trace[-1]
    assert last["evaluations"] <= budget.evaluations and last["step"] <= budget.steps
    assert last["gate_evals"] <= budget.gate_evals
    assert last["evaluations"] == budget.evaluations or last["step"] == budget.steps


def test_switch_on_a_plateau(setting):
    net, task, _ = setting
    budget = btype.Budget(evaluations=10 ** 6, steps=3000)
    result = _hybrid(setting, budget=budget, switch=1.0, switch_plateau=2.0, switch_plateau_min=10 ** 6)
    sgd_trace = [rec for rec in result.trace if rec["phase"] == "sgd"]
    # the gradient phase ended at the first record where its plateau rule held, long before its share
    rule = btype.Budget(steps=1, plateau=2.0, plateau_min=10 ** 6)
    assert rule.plateaued(sgd_trace) and not rule.plateaued(sgd_trace[:-1])
    assert sgd_trace[-1]["step"] < 3000
    assert any(rec["phase"] == "es" for rec in result.trace)


def test_whole_budget_to_sgd_leaves_nothing_for_es(setting):
    result = _hybrid(setting, budget=btype.Budget(steps=40), switch=1.0)
    assert {rec["phase"] for rec in result.trace} == {"sgd"}
    assert result.stop_reason == "steps" and result.trace[-1]["step"] == 40


@pytest.mark.parametrize("stop_phase", ["sgd", "es"])
def test_resume_equals_uninterrupted(setting, whole, tmp_path, stop_phase):
    path = tmp_path / "run.npz"
    seen = []

    def stop(rec):
        seen.append(rec["phase"])
        return rec["phase"] == stop_phase and rec["step"] >= {"sgd": 20, "es": 100}[stop_phase]

    part = _hybrid(setting, checkpoint_path=path, callback=stop)
    assert part.stop_reason == "callback" and seen[-1] == stop_phase
    rest = _hybrid(setting, checkpoint_path=path, resume=True)
    assert np.array_equal(rest.network.enabled, whole.network.enabled)
    assert _deterministic(rest.trace) == _deterministic(whole.trace)
    assert rest.stop_reason == whole.stop_reason


def test_resume_refuses_changed_runs_and_forged_switch_states(setting, tmp_path):
    net, task, budget = setting
    path = tmp_path / "run.npz"
    _hybrid(setting, checkpoint_path=path, callback=lambda rec: rec["phase"] == "es")
    for change, field in [(dict(switch=0.3), "options"), (dict(sgd_options={"record_every": 64}), "options"),
                          (dict(seed=1), "seed"), (dict(budget=btype.Budget(evaluations=4001, steps=900)), "budget")]:
        with pytest.raises(ValueError, match=f"{field} differs"):
            _hybrid(setting, checkpoint_path=path, resume=True, **change)
    data = _npz.read(path)
    identity = _npz.from_json_array(data["__identity__"])
    meta = _npz.from_json_array(data["__meta__"])
    assert meta["phase"] == "es"
    # records forged to say solved: the hand-over machine is re-scored and does not agree
    forged = dict(meta, sgd_trace=[dict(rec, train_fitness=1.0, solved=True) for rec in meta["sgd_trace"]])
    btype.checkpoint.save(path, identity=identity, meta=forged, arrays={"start_enabled": data["start_enabled"]})
    with pytest.raises(ValueError, match="scores"):
        _hybrid(setting, checkpoint_path=path, resume=True)
    # another hand-over machine: the search phase's checkpoint belongs to the machine it started from
    other = np.array(data["start_enabled"])
    other[net.modifiers] = ~other[net.modifiers]
    assert task.score(net.with_enabled(other), "train").fitness == meta["sgd_trace"][-1]["train_fitness"]
    btype.checkpoint.save(path, identity=identity, meta=meta, arrays={"start_enabled": other})
    with pytest.raises(ValueError, match="wiring"):
        _hybrid(setting, checkpoint_path=path, resume=True)


@pytest.mark.parametrize("options, error, match", [
    (dict(switch=0), ValueError, "switch"), (dict(switch=1.5), ValueError, "switch"),
    (dict(switch=True), ValueError, "switch"), (dict(switch_plateau=1.0), ValueError, "switch_plateau"),
    (dict(switch_plateau_min=10), ValueError, "needs switch_plateau"),
    (dict(switch_plateau=2, switch_plateau_min=0.5), ValueError, "switch_plateau_min"),
    (dict(sgd_options="fast"), TypeError, "sgd_options"), (dict(es_options=[1]), TypeError, "es_options"),
    (dict(sgd_options={"lr": -1}), ValueError, "lr"), (dict(sgd_options={"bogus": 1}), TypeError, "bogus"),
    (dict(es_options={"bogus": 1}), TypeError, "bogus"), (dict(bogus=1), TypeError, "switch_plateau"),
])
def test_bad_options(setting, options, error, match):
    net, task, budget = setting
    with pytest.raises(error, match=match):
        hybrid.train(net, task, budget=budget, progress=False, **options)


@pytest.mark.slow
def test_solves_parity5_on_the_full_presets_machine():
    # 600 gates in 14 layers, reach 2, 2e9 gate-evaluations, the defaults (2% of the budget to
    # sgd). Measured with this code on seeds 0-7: solved 0, 1, 3, 4, 7 (es alone: all but 3).
    # The test asks for 2 of seeds 0-2, each answer checked against parity itself.
    task = btype.tasks.get("parity5")
    X = ((np.arange(32)[:, None] >> np.arange(5)) & 1).astype(bool)
    solved = 0
    for seed in range(3):
        net = btype.random_network(5, 600, 1, layers=14, reach=2, seed=seed)
        result = btype.trainer("sgd+es")(net, task, budget=btype.Budget(gate_evals=2e9), seed=seed,
                                         progress=False)
        assert {rec["phase"] for rec in result.trace} == {"sgd", "es"}
        # gate_evals is checked after each evaluation: at most one evaluation (cone x rows) over
        assert result.trace[-1]["gate_evals"] <= 2e9 + net.n_gates * len(X)
        if result.solved:
            solved += 1
            np.testing.assert_array_equal(btype.evaluate(result.network, X)[:, 0], X.sum(1) % 2 == 1)
    assert solved >= 2
