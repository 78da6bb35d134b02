"""Search trainers: they solve small tasks, respect monotonicity, count honestly, resume exactly.

Tasks are built here from their definitions, so the checks do not depend on
``btype.tasks``' generators.
"""
import itertools

import numpy as np
import pytest

import btype
import btype.search
import btype.search.es
from btype.search import _kernels as K
from btype.search.core import SearchRun, parse_mutation
from btype.search.method import COMMON
from btype.search.es import ES
from btype.simulate import node_values


# ---------------------------------------------------------------------------
# tasks built from their definitions
# ---------------------------------------------------------------------------
def table(n):
    rows = np.arange(2**n)
    return ((rows[:, None] >> np.arange(n)) & 1).astype(bool)


def parity(n):
    X = table(n)
    Y = (X.sum(axis=1) % 2 == 1)[:, None]
    return btype.tasks.Task(f"parity{n}", X, Y, X, Y)


def mux6():
    X = table(6)
    address = X[:, 0].astype(int) + 2 * X[:, 1].astype(int)
    Y = X[np.arange(64), 2 + address][:, None]
    return btype.tasks.Task("mux6", X, Y, X, Y)


def es(net, task, evaluations, seed=0, **options):
    return btype.search.train(net, task, method="es", budget=btype.Budget(evaluations=evaluations),
                              seed=seed, progress=False, **options)


def cone_size(net):
    """Gates with a wired path to an output, by a plain search from the outputs."""
    seen, todo = set(), [int(o) for o in net.outputs]
    while todo:
        node = todo.pop()
        if node < net.n_inputs or node in seen:
            continue
        seen.add(node)
        todo.extend(int(s) for s in net.wiring[node - net.n_inputs])
    return len(seen)


# ---------------------------------------------------------------------------
# solving, and what cannot be solved
# ---------------------------------------------------------------------------
def test_es_solves_parity3():
    task = parity(3)
    net = btype.random_network(3, 200, 1, layers=10, reach=2, seed=0)
    result = es(net, task, 100_000)
    assert result.solved and result.train_fitness == 1.0
    X = table(3)
    assert np.array_equal(btype.evaluate(result.network, X)[:, 0], X.sum(axis=1) % 2 == 1)
    # it stopped when solved, well inside the budget
    assert result.trace[-1]["evaluations"] < 100_000 and result.trace[-1]["solved"]


def test_es_solves_mux6():
    task = mux6()
    net = btype.random_network(6, 400, 1, layers=10, reach=2, seed=0)
    result = es(net, task, 300_000)
    assert result.solved
    X = table(6)
    want = [x[2 + x[0] + 2 * x[1]] for x in X]
    assert btype.evaluate(result.network, X)[:, 0].tolist() == want


def monotone_functions_of_two():
    """Every monotone Boolean function of two inputs, as 4-row truth tables (found exhaustively)."""
    rows = table(2)
    below = [(i, j) for i, j in itertools.product(range(4), repeat=2) if (rows[i] <= rows[j]).all()]
    return [f for f in itertools.product([False, True], repeat=4)
            if all(f[i] <= f[j] for i, j in below)]


def test_turing_b_type_cannot_solve_parity2_but_switch_can():
    task = parity(2)
    xor = task.Y_train[:, 0]
    # the best any monotone function does on XOR is 3 of 4 rows
    best_monotone = max(np.mean(np.array(f) == xor) for f in monotone_functions_of_two())
    assert best_monotone == 0.75
    # a turing-mode B-type computes a monotone function, whatever its modifier states
    rows = table(2)
    for seed in range(30):
        net = btype.random_network(2, 12, 1, layers=4, reach=2, seed=seed, link="turing")
        f = btype.evaluate(net, rows)[:, 0]
        assert tuple(f) in monotone_functions_of_two()
    # so no search budget helps it; the switch-mode machine of the same wiring gets there
    turing = btype.random_network(2, 60, 1, layers=6, reach=2, seed=1, link="turing")
    result = es(turing, task, 50_000)
    assert not result.solved and result.train_fitness <= best_monotone
    assert result.trace[-1]["evaluations"] == 50_000
    switch = turing.replace(link="switch")
    assert es(switch, task, 50_000).solved


# ---------------------------------------------------------------------------
# delta evaluation and counting
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("link", ["switch", "turing"])
def test_delta_values_match_full_evaluation(link):
    task = btype.tasks.Task("rand", table(5), table(5)[:, [0, 2]] ^ table(5)[:, [1, 3]],
                            table(5), table(5)[:, [0, 2]])
    net = btype.random_network(5, 150, 2, layers=6, reach=2, seed=7, link=link,
                               modified_fraction=0.8)
    budget = btype.Budget(evaluations=10)
    method = ES({}, n_links=net.n_modified, budget=budget)
    run = SearchRun(net, task, method, budget, 0, dict(COMMON))
    method.start(run)
    cone = np.flatnonzero(btype.plan.wired_cone(net))
    tail = btype.bits.tail_mask(32)
    mut = parse_mutation("flips", 2, None, net.n_modified)
    stale = 0
    for stop in (100, 1000, 5000):
        btype.search.es._chunk(run.prob, run.wk, mut, 1, False, 0,
                               K.limits(stop, stop, 1 << 40, 1 << 60, -1.0))
        current = run.network_of(run.wk.bits)
        # active gates (a live path to an output) hold their true values; the live
        # reference counts mark exactly those; inactive gates may hold stale ones
        active = btype.plan.active_cone(current)[cone]
        assert ((run.wk.act[net.n_inputs:] > 0) == active).all()
        full = node_values(current, btype.pack(task.X_train))[net.n_inputs + cone]
        assert np.array_equal(run.wk.values[net.n_inputs:][active] & tail, full[active] & tail)
        stale += int((run.wk.values[net.n_inputs:][~active] & tail != full[~active] & tail).any())
        Y = btype.evaluate(current, task.X_train)
        assert run.wk.errs.tolist() == (Y != task.Y_train).sum(axis=0).tolist()
    assert stale > 0          # inactive gates were left stale: the check above is not vacuous


def test_gate_evals_and_skipped_are_counted_honestly():
    task = parity(3)
    # a wide machine whose cone is a small part: most flips miss it
    net = btype.random_network(3, 300, 1, layers=5, reach=1, seed=2)
    C, S = cone_size(net), 8
    assert C < net.n_gates / 2
    ran = btype.search.train(net, task, method="random", budget=btype.Budget(evaluations=500),
                             progress=False)
    last = ran.trace[-1]
    assert last["gate_evals"] == last["evaluations"] * C * S      # full cone evaluations
    r = es(net, task, 2000, mutation="flips")
    last = r.trace[-1]
    assert last["skipped"] > 0
    # lam = 1: one offspring a step; the starting machine is the first evaluation
    assert last["evaluations"] - 1 + last["skipped"] == last["step"]
    assert last["gate_evals"] < last["evaluations"] * C * S       # delta recomputes less
    r4 = es(net, task, 2000, lam=4, mutation="flips")
    last = r4.trace[-1]
    # four offspring a step, but the budget may cut the last step short
    assert 4 * (last["step"] - 1) < last["evaluations"] - 1 + last["skipped"] <= 4 * last["step"]
    # "active" ends every mutation on an active gate: nothing is skipped
    active = es(net, task, 2000, mutation="active").trace[-1]
    assert active["skipped"] == 0 and active["evaluations"] - 1 == active["step"]
    # "cone" draws from the wired cone: offspring on its inactive gates are skipped
    cone = es(net, task, 2000, mutation="cone").trace[-1]
    assert cone["skipped"] > 0 and cone["evaluations"] - 1 + cone["skipped"] == cone["step"]
    assert cone["gate_evals"] < cone["evaluations"] * C * S


@pytest.mark.parametrize("mutation, extra", [("rate", {"rate": 0.01}), ("flips", {"flips": 3})])
def test_mutation_options_give_valid_results(mutation, extra):
    task = mux6()
    net = btype.random_network(6, 100, 1, layers=6, reach=2, seed=0)
    r = es(net, task, 3000, mutation=mutation, **extra)
    assert r.train_fitness == task.score(r.network).fitness and r.trace[-1]["evaluations"] <= 3000


def test_fixed_record_interval():
    net = btype.random_network(4, 30, 1, layers=3, reach=1, seed=0)
    r = es(net, parity(4), 1000, record_every=100)
    assert not r.solved
    evaluations = [rec["evaluations"] for rec in r.trace]
    assert evaluations[0] == 1 and evaluations[-1] == 1000
    assert all(e % 100 == 0 for e in evaluations[1:])


# ---------------------------------------------------------------------------
# the other scorings: weights, classes, clocked runs, minibatches
# ---------------------------------------------------------------------------
def classification_task():
    rng = np.random.default_rng(0)
    X = rng.random((150, 8)) < 0.5
    labels = (X[:, 0].astype(int) + X[:, 1] + X[:, 2]) % 3
    return btype.tasks.Task("cls", X[:100], labels[:100], X[100:], labels[100:], n_classes=3)


def clocked_task():
    X = table(3)[:, :, None]                        # three frames of one input line
    Y = (X[:, 0, 0] ^ X[:, 2, 0])[:, None]
    return btype.tasks.Task("seq", X, Y, X, Y, steps=6)


@pytest.mark.parametrize("method", sorted(btype.search.METHODS))
@pytest.mark.parametrize("kind", ["weighted", "classes", "clocked", "minibatch"])
def test_packed_fitness_equals_task_score(method, kind):
    options = {}
    if kind == "weighted":
        X = table(4)
        Y = np.stack([X[:, 0] & X[:, 1], X[:, 2] | X[:, 3], X[:, 0] ^ X[:, 3]], axis=1)
        task = btype.tasks.Task("w", X, Y, X, Y, output_weights=np.array([1.0, 0.5, 3.0]))
        net = btype.random_network(4, 80, 3, layers=6, reach=2, seed=1)
    elif kind in ("classes", "minibatch"):
        task = classification_task()
        net = btype.random_network(8, 120, 6, layers=5, reach=2, seed=1)
        if kind == "minibatch":
            options = dict(batch_size=40, batch_every=20)
    else:
        task = clocked_task()
        net = btype.random_network(1, 25, 1, kind="recurrent", seed=4)
    r = btype.search.train(net, task, method=method, budget=btype.Budget(evaluations=600), seed=1,
                           progress=False, **options)
    assert r.train_fitness == task.score(r.network, "train").fitness
    assert r.test_accuracy == task.score(r.network, "test").fitness
    assert r.trace[-1]["evaluations"] <= 600


def test_target_stops_early():
    net = btype.random_network(6, 200, 1, layers=8, reach=2, seed=0)
    r = btype.search.train(net, mux6(), budget=btype.Budget(evaluations=100_000, target=0.8),
                           progress=False)
    assert r.train_fitness >= 0.8 and r.trace[-1]["evaluations"] < 100_000


# ---------------------------------------------------------------------------
# checkpoints, resume, Ctrl-C
# ---------------------------------------------------------------------------
def _stop_after(calls):
    count = [0]

    def callback(info):
        count[0] += 1
        if count[0] >= calls:
            raise KeyboardInterrupt
    return callback


@pytest.mark.parametrize("method", sorted(btype.search.METHODS))
def test_interrupted_then_resumed_equals_uninterrupted(method, tmp_path):
    task = mux6()
    net = btype.random_network(6, 150, 1, layers=8, reach=2, seed=5)
    budget = btype.Budget(evaluations=20_000)
    whole = btype.search.train(net, task, method=method, budget=budget, seed=3, progress=False)
    path = tmp_path / "run.ckpt"
    cut = btype.search.train(net, task, method=method, budget=budget, seed=3, progress=False,
                             checkpoint_path=str(path), callback=_stop_after(3))
    assert cut.interrupted and cut.trace[-1]["evaluations"] < 20_000
    assert cut.train_fitness == task.score(cut.network).fitness
    resumed = btype.search.train(net, task, method=method, budget=budget, seed=3, progress=False,
                                 checkpoint_path=str(path), resume=True)
    assert not resumed.interrupted
    assert np.array_equal(resumed.network.enabled, whole.network.enabled)
    strip = lambda trace: [{k: v for k, v in r.items() if k != "seconds"} for r in trace]
    assert strip(resumed.trace) == strip(whole.trace)
    # resuming a finished run changes nothing
    again = btype.search.train(net, task, method=method, budget=budget, seed=3, progress=False,
                               checkpoint_path=str(path), resume=True)
    assert strip(again.trace) == strip(whole.trace)


def test_ctrl_c_returns_best_so_far(monkeypatch):
    task = parity(4)
    net = btype.random_network(4, 300, 1, layers=12, reach=2, seed=0)
    calls = [0]
    real = btype.search.es._chunk

    def chunk_then_interrupt(*args):
        calls[0] += 1
        if calls[0] == 6:               # as if Ctrl-C arrived during the 6th chunk
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(btype.search.es, "_chunk", chunk_then_interrupt)
    r = es(net, task, 10_000_000)
    assert r.interrupted and not r.solved
    assert r.trace[-1]["evaluations"] < 10_000_000
    assert r.train_fitness == task.score(r.network).fitness == r.trace[-1]["train_fitness"]
    assert r.train_fitness == max(rec["train_fitness"] for rec in r.trace)


def test_resume_refuses_another_run(tmp_path):
    task = mux6()
    net = btype.random_network(6, 80, 1, layers=6, reach=2, seed=0)
    path = str(tmp_path / "c.ckpt")
    es(net, task, 500, checkpoint_path=path)
    with pytest.raises(ValueError, match="another run"):
        es(net, task, 500, seed=1, checkpoint_path=path, resume=True)


# ---------------------------------------------------------------------------
# argument checking
# ---------------------------------------------------------------------------
def test_validation():
    task = mux6()
    net = btype.random_network(6, 50, 1, seed=0)
    budget = btype.Budget(evaluations=10)
    with pytest.raises(ValueError, match="'anneal'.*'es'.*'ga'.*'random'"):
        btype.search.train(net, task, method="hill", budget=budget)
    with pytest.raises(TypeError, match="unknown option"):
        btype.search.train(net, task, budget=budget, lambda_=3)
    with pytest.raises(ValueError, match="inputs"):
        btype.search.train(btype.random_network(5, 50, 1, seed=0), task, budget=budget)
    with pytest.raises(ValueError, match="no modified links"):
        btype.search.train(btype.random_network(6, 50, 1, modified_fraction=0.0), task,
                           budget=budget)
    with pytest.raises(TypeError, match="budget"):
        btype.search.train(net, task, budget=10)
    with pytest.raises(ValueError, match="mutation"):
        btype.search.train(net, task, budget=budget, mutation="swap")
    with pytest.raises(ValueError, match="lam"):
        btype.search.train(net, task, budget=budget, lam=0)
    with pytest.raises(ValueError, match="flip_dist.*'poisson'"):
        btype.search.train(net, task, budget=budget, flip_dist="poisson")
    with pytest.raises(ValueError, match="accept.*'always'"):
        btype.search.train(net, task, budget=budget, accept="always")
    with pytest.raises(ValueError, match="restart.*got 0"):
        btype.search.train(net, task, budget=budget, restart=0)
    with pytest.raises(TypeError, match="restart.*'10'"):
        btype.search.train(net, task, budget=budget, restart="10")
    with pytest.raises(ValueError, match="flip_dist"):
        btype.search.train(net, task, method="anneal", budget=budget, flip_dist="poisson")
    with pytest.raises(ValueError, match="checkpoint_path"):
        btype.search.train(net, task, budget=budget, resume=True)
    with pytest.raises(ValueError, match="seed"):
        btype.search.train(net, task, budget=budget, seed=-1)


# ---------------------------------------------------------------------------
# hostile inputs (issue 11) and the checkpoint envelope
# ---------------------------------------------------------------------------
def test_record_every_with_checkpoint_writes_and_resumes(tmp_path):
    # used to die at the first record: "Object of type int64 is not JSON serializable"
    task = mux6()
    net = btype.random_network(6, 80, 1, layers=6, reach=2, seed=0)
    path = tmp_path / "c.npz"
    first = es(net, task, 1000, record_every=100, checkpoint_path=path)
    assert path.exists() and not list(tmp_path.glob("*.tmp"))
    again = es(net, task, 1000, record_every=100, checkpoint_path=path, resume=True)
    assert [r["evaluations"] for r in again.trace] == [r["evaluations"] for r in first.trace]


@pytest.mark.parametrize("change, field", [
    (dict(method="anneal"), "method"), (dict(flips=2), "options"), (dict(seed=1), "options"),
    (dict(record_every=50), "options"), (dict(batch_size=32), "options"),
])
def test_resume_refuses_each_identity_field(tmp_path, change, field):
    task = mux6()
    net = btype.random_network(6, 80, 1, layers=6, reach=2, seed=0)
    path = tmp_path / "c.npz"
    base = dict(method="es", seed=0)
    btype.search.train(net, task, budget=btype.Budget(evaluations=500), progress=False,
                       checkpoint_path=path, **base)
    kwargs = {**base, **change}
    with pytest.raises(ValueError, match=f"{field} differs"):
        btype.search.train(net, task, budget=btype.Budget(evaluations=500), progress=False,
                           checkpoint_path=path, resume=True, **kwargs)


def test_resume_with_other_targets_under_the_same_name_is_refused(tmp_path):
    # used to report the old run's fitness for a machine that scores otherwise
    task = mux6()
    net = btype.random_network(6, 80, 1, layers=6, reach=2, seed=0)
    path = tmp_path / "c.npz"
    es(net, task, 300, checkpoint_path=path)
    flipped = btype.tasks.Task("mux6", task.X_train, ~task.Y_train, task.X_test, ~task.Y_test)
    with pytest.raises(ValueError, match="task differs"):
        es(net, flipped, 300, checkpoint_path=path, resume=True)


@pytest.mark.parametrize("damage, match", [
    (lambda a: a.__setitem__("rng", np.zeros(4, np.uint64)), "all zero"),
    (lambda a: a["bits"].__setitem__(0, 2), "0 and 1"),
    (lambda a: a["scores"].__setitem__(1, np.nan), "scores"),
    (lambda a: a["scores"].__setitem__(0, -3.0), "scores"),
    (lambda a: a["counters"].__setitem__(0, -1), "counters"),
    (lambda a: a["errs"].__setitem__(0, 10 ** 6), "errs"),
    (lambda a: a.__setitem__("bits", a["bits"][:-1]), "bits"),
    (lambda a: a.__setitem__("rng", a["rng"].astype(np.int64)), "rng"),
])
def test_resume_validates_the_restored_state(tmp_path, damage, match):
    task = mux6()
    net = btype.random_network(6, 80, 1, layers=6, reach=2, seed=0)
    path = tmp_path / "c.npz"
    es(net, task, 300, checkpoint_path=path)
    arrays = {k: np.array(v) for k, v in btype._npz.read(path).items()}
    damage(arrays)
    btype._npz.write(path, arrays)
    with pytest.raises(ValueError, match=match):
        es(net, task, 300, checkpoint_path=path, resume=True)


def test_huge_budget_and_seed_are_clear_errors():
    task = mux6()
    net = btype.random_network(6, 50, 1, seed=0)
    with pytest.raises(ValueError, match="evaluations"):      # was a Numba TypingError
        btype.search.train(net, task, budget=btype.Budget(evaluations=10 ** 30), progress=False)
    with pytest.raises(ValueError, match="seed"):             # was silently seed 0
        es(net, task, 100, seed=2 ** 64)
    # the largest seed is a seed of its own
    top, zero = es(net, task, 300, seed=2 ** 63 - 1), es(net, task, 300, seed=0)
    assert [r["accepted"] for r in top.trace] != [r["accepted"] for r in zero.trace] or \
        not np.array_equal(top.network.enabled, zero.network.enabled)
    # the largest budget runs (and stops on another limit)
    r = btype.search.train(net, task, budget=btype.Budget(evaluations=2 ** 62, steps=50),
                           progress=False)
    assert r.stop_reason == "steps" and r.trace[-1]["step"] == 50


@pytest.mark.parametrize("method", sorted(btype.search.METHODS))
def test_minibatches_never_overrun_the_evaluation_budget(method):
    # anneal with batch_size ran 30,001 evaluations on a 30,000 budget (rescoring counted)
    task = classification_task()
    net = btype.random_network(8, 60, 3, layers=4, reach=2, seed=0)
    r = btype.search.train(net, task, method=method, budget=btype.Budget(evaluations=3000),
                           progress=False, batch_size=30, batch_every=7)
    assert r.trace[-1]["evaluations"] == 3000 and r.stop_reason == "evaluations"


def test_stop_reasons():
    task = mux6()
    net = btype.random_network(6, 80, 1, layers=6, reach=2, seed=0)
    assert btype.search.train(net, task, budget=btype.Budget(steps=40), progress=False).stop_reason == "steps"
    r = btype.search.train(net, task, budget=btype.Budget(gate_evals=20_000), progress=False)
    assert r.stop_reason == "gate_evals" and r.trace[-1]["gate_evals"] >= 20_000
    r = btype.search.train(net, task, budget=btype.Budget(seconds=0.05), progress=False)
    assert r.stop_reason in ("seconds", "solved")
    # no modified link inside the output cone: nothing can change an output
    outside = ~btype.plan.wired_cone(net)[:, None].repeat(2, axis=1)
    stuck = net.replace(modifiers=outside, enabled=np.ones_like(net.enabled))
    assert btype.search.train(stuck, task, budget=btype.Budget(evaluations=100),
                              progress=False).stop_reason == "stuck"
