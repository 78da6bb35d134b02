"""The contract every registered trainer keeps (docs/design.md sections 2 and 4).

Parametrised over ``btype.trainers()``: no trainer gets a branch of its own. Each runs
on a WB-type machine (half the links modified) for a small evaluation budget.
"""
import numpy as np
import pytest

import btype
from btype import _npz
from btype.train import RECORD_FIELDS, STOP_REASONS

BUDGET = btype.Budget(evaluations=1500)
TRAINERS = [pytest.param(name, id=name) for name in btype.trainers()]


def _train(name, net, task, **kwargs):
    kwargs = {"budget": BUDGET, "seed": 0, "progress": False, **kwargs}
    return btype.trainer(name)(net, task, **kwargs)


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
            cache[name, seed] = _train(name, net, task, seed=seed)
        return cache[name, seed]

    return get


@pytest.mark.parametrize("name", TRAINERS)
def test_records_are_well_formed(name, runs):
    result = runs(name)
    assert isinstance(result, btype.TrainResult) and result.trace
    previous = None
    for rec in result.trace:
        assert tuple(rec)[:len(RECORD_FIELDS)] == RECORD_FIELDS
        assert rec["method"] == result.method == name and rec["task"] == "mux6" and rec["seed"] == 0
        for key in ("step", "evaluations", "gate_evals"):
            assert isinstance(rec[key], int) and rec[key] >= 0
        assert 0.0 <= rec["train_fitness"] <= 1.0 and 0.0 <= rec["test_accuracy"] <= 1.0
        assert isinstance(rec["solved"], bool) and rec["seconds"] >= 0.0
        if previous is not None:
            for key in ("step", "evaluations", "gate_evals", "seconds"):
                assert rec[key] >= previous[key], key
        previous = rec


@pytest.mark.parametrize("name", TRAINERS)
def test_budget_respected_and_stop_reason(name, runs):
    result = runs(name)
    assert result.trace[-1]["evaluations"] <= BUDGET.evaluations
    assert not result.interrupted
    assert result.stop_reason in STOP_REASONS
    assert result.stop_reason == ("solved" if result.solved else "evaluations")


@pytest.mark.parametrize("name", TRAINERS)
def test_reported_fitness_is_remeasured_fitness(name, runs, setting):
    net, task = setting
    result = runs(name)
    # independently: per-output bit accuracy of the simulator's outputs
    Y = btype.evaluate(result.network, task.X_train)
    accuracy = float((Y == task.Y_train).mean())
    assert result.train_fitness == pytest.approx(accuracy, abs=1e-12)
    assert result.train_fitness == task.score(result.network, "train").fitness
    assert result.solved == bool((Y == task.Y_train).all())
    assert max(rec["train_fitness"] for rec in result.trace) == result.train_fitness


@pytest.mark.parametrize("name", TRAINERS)
def test_only_modified_links_change(name, runs, setting):
    net, _ = setting
    out = runs(name).network
    assert np.array_equal(out.wiring, net.wiring) and np.array_equal(out.outputs, net.outputs)
    assert np.array_equal(out.modifiers, net.modifiers) and out.link == net.link
    assert out.enabled[~net.modifiers].all()


def _deterministic(trace):
    """Records without wall times."""
    return [{k: v for k, v in rec.items() if not k.endswith("seconds")} for rec in trace]


@pytest.mark.parametrize("name", TRAINERS)
def test_seed_determinism(name, runs, setting):
    net, task = setting
    first, again = runs(name), _train(name, net, task)
    assert np.array_equal(first.network.enabled, again.network.enabled)
    assert _deterministic(first.trace) == _deterministic(again.trace)


@pytest.mark.parametrize("name", TRAINERS)
@pytest.mark.parametrize("change, error, match", [
    (dict(budget=None), TypeError, "budget"),
    (dict(seed=-1), ValueError, "seed"), (dict(seed=2 ** 64), ValueError, "seed"),
    (dict(seed=1.5), TypeError, "seed"), (dict(progress="no"), TypeError, "progress"),
    (dict(callback=3), TypeError, "callback"), (dict(resume=True), ValueError, "checkpoint_path"),
    (dict(no_such_option=1), TypeError, "no_such_option"),
])
def test_same_mistake_same_error(name, setting, change, error, match):
    net, task = setting
    with pytest.raises(error, match=match):
        _train(name, net, task, **change)


@pytest.mark.parametrize("name", TRAINERS)
def test_keyword_only_after_task(name, setting):
    net, task = setting
    with pytest.raises(TypeError):
        btype.trainer(name)(net, task, BUDGET)
    with pytest.raises(TypeError):
        btype.trainer(name)(net, task)           # budget is required


@pytest.mark.parametrize("name", TRAINERS)
def test_callback_sees_every_record_and_can_stop(name, setting):
    net, task = setting
    budget = btype.Budget(evaluations=20000, target=0.999999)
    seen = []
    full = _train(name, net, task, budget=budget, callback=seen.append)
    assert seen == full.trace
    calls = []

    def stop_at_second(rec):
        calls.append(rec)
        return len(calls) >= 2

    stopped = _train(name, net, task, budget=budget, callback=stop_at_second)
    assert stopped.stop_reason in ("callback", "target")
    if stopped.stop_reason == "callback":
        assert stopped.trace == calls and len(calls) == 2


@pytest.mark.parametrize("name", TRAINERS)
def test_checkpoint_is_data_only_and_tied_to_its_run(name, setting, tmp_path):
    net, task = setting
    path = tmp_path / f"{name}.npz"
    first = _train(name, net, task, checkpoint_path=path)
    arrays = _npz.read(path)      # plain arrays only: no pickle anywhere
    assert str(arrays["__format__"]) == btype.checkpoint.FORMAT
    # resuming a finished run gives the same result
    again = _train(name, net, task, checkpoint_path=path, resume=True)
    assert np.array_equal(again.network.enabled, first.network.enabled)
    assert _deterministic(again.trace) == _deterministic(first.trace)
    # another budget, seed, task or machine: refused, naming what differs
    other_task = btype.tasks.Task("mux6", task.X_train, ~task.Y_train, task.X_test, ~task.Y_test)
    other_net = net.with_enabled(~net.enabled | ~net.modifiers)
    for kwargs, field in ((dict(budget=btype.Budget(evaluations=1501)), "budget"),
                          (dict(task=other_task), "task"), (dict(net=other_net), "wiring")):
        args = {"net": net, "task": task, **kwargs}
        with pytest.raises(ValueError, match=f"{field} differs"):
            _train(name, args.pop("net"), args.pop("task"), checkpoint_path=path, resume=True, **args)


@pytest.mark.parametrize("name", TRAINERS)
def test_resume_after_stop_equals_uninterrupted(name, setting, tmp_path):
    net, task = setting
    budget = btype.Budget(evaluations=6000, target=0.999999)
    whole = _train(name, net, task, budget=budget)
    path = tmp_path / "c.npz"
    part = _train(name, net, task, budget=budget, checkpoint_path=path, callback=lambda rec: rec["step"] > 0)
    rest = _train(name, net, task, budget=budget, checkpoint_path=path, resume=True)
    assert part.stop_reason in ("callback", "solved", "target")
    assert np.array_equal(rest.network.enabled, whole.network.enabled)
    assert _deterministic(rest.trace) == _deterministic(whole.trace)


@pytest.mark.parametrize("name", TRAINERS)
def test_plateau_rule_stops_a_hopeless_run(name):
    task = btype.tasks.get("parity5")
    net = btype.random_network(5, 6, 1, layers=2, seed=1)     # far too small for parity5
    budget = btype.Budget(evaluations=10 ** 8, plateau=3, plateau_min=10 ** 6)
    result = btype.trainer(name)(net, task, budget=budget, seed=0, progress=False)
    assert result.stop_reason == "plateau" and not result.solved
    assert result.trace[-1]["evaluations"] < 10 ** 8
    assert result.trace[-1]["gate_evals"] >= 10 ** 6


# -- one entry, one error ---------------------------------------------------------------------
def _entry_points(name):
    """Every public way into trainer ``name``: the registry, and the package's own ``train``."""
    entries = [btype.trainer(name)]
    if name in btype.search.METHODS:
        entries.append(lambda net, task, **kw: btype.search.train(net, task, method=name, **kw))
    if name == "sgd":
        import sgd
        entries.append(sgd.train)
    return entries


@pytest.mark.parametrize("change", [dict(seed=-1), dict(seed=1.5), dict(seed=2 ** 64), dict(budget=None),
                                    dict(budget=5), dict(budget=btype.Budget), dict(no_such_option=1)],
                         ids=["seed-1", "seed1.5", "seed2**64", "budgetNone", "budget5", "budgetclass", "option"])
def test_every_entry_point_words_a_mistake_the_same(setting, change):
    net, task = setting
    texts = set()
    for name in btype.trainers():
        for entry in _entry_points(name):
            kwargs = {"budget": BUDGET, "seed": 0, "progress": False, **change}
            with pytest.raises((TypeError, ValueError)) as info:
                entry(net, task, **kwargs)
            text = f"{type(info.value).__name__}: {info.value}"
            if "no_such_option" in change:   # the trainer names itself and its own options
                prefix = f"TypeError: {name} got unknown option(s) ['no_such_option']; valid options: ["
                assert text.startswith(prefix), text
                text = "unknown option"
            texts.add(text)
    assert len(texts) == 1, texts


# -- Ctrl-C and resume ------------------------------------------------------------------------
LONG = btype.Budget(steps=300)


def _interrupt_at_record(k):
    """A callback that raises KeyboardInterrupt (as Ctrl-C would) at the k-th record."""
    seen = []

    def callback(rec):
        seen.append(rec)
        if len(seen) == k:
            raise KeyboardInterrupt
    return callback


@pytest.mark.parametrize("name", TRAINERS)
def test_interrupted_and_resumed_equals_uninterrupted(name, setting, tmp_path):
    net, task = setting
    whole = _train(name, net, task, budget=LONG)
    points = sorted({2, len(whole.trace) // 2, len(whole.trace) - 1} - {0, 1})
    for k in points:
        path = tmp_path / f"at{k}.npz"
        part = _train(name, net, task, budget=LONG, checkpoint_path=path, callback=_interrupt_at_record(k))
        assert part.interrupted and part.stop_reason == "interrupted"
        assert _deterministic(part.trace[:k]) == _deterministic(whole.trace[:k])
        rest = _train(name, net, task, budget=LONG, checkpoint_path=path, resume=True)
        assert _deterministic(rest.trace) == _deterministic(whole.trace), k
        assert np.array_equal(rest.network.enabled, whole.network.enabled)


def _with_ctrl_c_after(seconds, run):
    """``run()`` with a SIGINT (as a person's Ctrl-C) sent to the main thread after ``seconds``;
    None where it landed outside the run's loop (a KeyboardInterrupt then ends ``run``)."""
    import _thread
    import threading
    import time

    timer = threading.Timer(seconds, _thread.interrupt_main)
    result = None
    try:
        timer.start()
        result = run()
    except KeyboardInterrupt:
        pass
    for _ in range(3):       # let an interrupt that comes after the run land here
        try:
            timer.join()
            time.sleep(0.02)
            break
        except KeyboardInterrupt:
            result = None if result is None or not result.interrupted else result
    return result


@pytest.mark.parametrize("name", TRAINERS)
def test_ctrl_c_between_records_then_resume_equals_uninterrupted(name, setting, tmp_path):
    net, task = setting
    budget = btype.Budget(steps=3000 if btype.registry.info(name).family == "search" else 300)
    whole = _train(name, net, task, budget=budget)
    took = max(whole.trace[-1]["seconds"], 0.05)
    for fraction in (0.2, 0.5, 0.8):
        path = tmp_path / f"at{fraction}.npz"
        part = _with_ctrl_c_after(took * fraction, lambda: _train(name, net, task, budget=budget,
                                                                   checkpoint_path=path))
        if part is not None and part.interrupted:
            assert part.trace[-1]["step"] < budget.steps
        rest = _train(name, net, task, budget=budget, checkpoint_path=path, resume=True)
        assert _deterministic(rest.trace) == _deterministic(whole.trace), fraction
        assert np.array_equal(rest.network.enabled, whole.network.enabled)


# -- extending a run --------------------------------------------------------------------------
@pytest.mark.parametrize("name", TRAINERS)
def test_extended_equals_full_budget(name, setting, tmp_path):
    net, task = setting
    options = dict(btype.registry.info(name).budget_free)
    small, large = btype.Budget(steps=100), btype.Budget(steps=400)
    full = _train(name, net, task, budget=large, **options)
    path = tmp_path / "run.npz"
    first = _train(name, net, task, budget=small, checkpoint_path=path, **options)
    assert first.stop_reason in ("steps", "solved")
    # resume=True keeps to the same budget; a smaller budget cannot be an extension
    with pytest.raises(ValueError, match="budget differs"):
        _train(name, net, task, budget=large, checkpoint_path=path, resume=True, **options)
    with pytest.raises(ValueError, match="cannot be extended"):
        _train(name, net, task, budget=btype.Budget(steps=50), checkpoint_path=path, resume="extend", **options)
    longer = _train(name, net, task, budget=large, checkpoint_path=path, resume="extend", **options)
    assert _deterministic(longer.trace) == _deterministic(full.trace)
    assert np.array_equal(longer.network.enabled, full.network.enabled)
    assert longer.stop_reason == full.stop_reason


def test_extension_refused_where_the_steps_depend_on_the_budget(setting, tmp_path):
    net, task = setting
    path = tmp_path / "run.npz"
    btype.trainer("anneal")(net, task, budget=btype.Budget(steps=50), progress=False, checkpoint_path=path)
    with pytest.raises(ValueError, match="length"):
        btype.trainer("anneal")(net, task, budget=btype.Budget(steps=80), progress=False,
                                checkpoint_path=path, resume="extend")


# -- the plateau rule ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", TRAINERS)
def test_plateau_rule_waits_for_its_minimum(name):
    task = btype.tasks.get("parity5")
    net = btype.random_network(5, 6, 1, layers=2, seed=1)     # far too small for parity5
    budget = btype.Budget(evaluations=200_000, plateau=1.5)  # no plateau_min: a tenth of the budget
    result = btype.trainer(name)(net, task, budget=budget, seed=0, progress=False)
    last = result.trace[-1]
    if result.stop_reason == "plateau":
        assert last["evaluations"] >= 0.1 * budget.evaluations
    else:
        assert result.stop_reason in ("evaluations", "solved")
    figures = [rec["train_fitness"] for rec in result.trace]
    assert result.learned == (max(figures) > figures[0])
