"""The search on data tasks: its class fitness is the package's one group vote, its
minibatches change rows in place, and its reports are full-data scores."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import btype
from btype.search import core
from btype.search.method import check_common
from btype.search import _kernels as K
from btype.search.problem import build_problem, make_work
from btype.tasks.base import classify as vote_unpacked
from strategies import random_inputs
from test_classify import classifiers


def _class_task(net, n_classes, S, seed):
    X = random_inputs(seed, (2 * S, net.n_inputs))
    labels = np.random.default_rng(seed).integers(0, n_classes, 2 * S)
    return btype.tasks.Task("cls", X[:S], labels[:S], X[S:], labels[S:], n_classes=n_classes)


@settings(max_examples=60, deadline=None)
@given(case=classifiers(), S=st.sampled_from([1, 63, 64, 65, 200]), seed=st.integers(0, 10**6),
       evaluations=st.sampled_from([1, 40]))
def test_search_class_fitness_is_the_vote_of_task_score(case, S, seed, evaluations):
    # random machines with outputs repeated, on inputs and constants: many ties, which the
    # vote gives to the lowest class everywhere (search, btype.count_correct, numpy argmax)
    net, n_classes = case
    if net.n_modified == 0:      # nothing to search; an A-type is refused
        net = net.replace(modifiers=np.ones_like(net.modifiers))
    task = _class_task(net, n_classes, S, seed)
    r = btype.search.train(net, task, method="es", budget=btype.Budget(evaluations=evaluations), seed=seed,
                           progress=False)
    expected = float(np.mean(vote_unpacked(btype.evaluate(r.network, task.X_train), n_classes) == task.Y_train))
    assert r.train_fitness == expected == task.score(r.network, "train").fitness


def test_every_delta_score_is_the_vote_of_the_full_evaluation():
    # step the ES kernel one generation at a time; after each, the kernel's error count equals
    # the vote recomputed from scratch on the same genome
    task = btype.tasks.get("digits")
    net = btype.random_network(64, 600, 10 * 7, layers=4, seed=3)
    budget = btype.Budget(evaluations=10**6)
    run = core.SearchRun(net, task, btype.search.es.ES({}, n_links=net.n_modified, budget=budget), budget, 0, check_common({}, len(task.X_train)))
    run.method.start(run)
    for gens in range(1, 120):
        run.method.chunk(run, run.limits(10**9, gens))
        fresh = make_work(run.st, run.prob, btype.pack(task.X_train), run.bits.copy(), run.rng.copy(),
                          K.new_state())
        assert K.evaluate(run.prob, fresh) == run.wk.errs[0]
        assert (len(task.X_train) - run.wk.errs[0]) / len(task.X_train) == task.score(run.network_of(run.bits)).fitness


@pytest.mark.parametrize("kind", ["classes", "boolean", "balanced"])
@pytest.mark.parametrize("method", ["es", "anneal", "random"])
def test_a_batch_change_equals_a_rebuild_on_the_same_rows(method, kind):
    task = btype.tasks.get("digits")
    net = btype.random_network(64, 300, 10 * 4, layers=4, seed=1)
    if kind != "classes":       # digit 3 or not, 10% positives
        Y = lambda y: (y == 3)[:, None]
        task = btype.tasks.Task("d3", task.X_train, Y(task.Y_train), task.X_test, Y(task.Y_test),
                                balanced=kind == "balanced")
        net = net.replace(outputs=net.outputs[:1])
    cls = btype.search.METHODS[method]
    budget = btype.Budget(evaluations=10**6)
    run = core.SearchRun(net, task, cls({}, n_links=net.n_modified, budget=budget), budget, 5, check_common(dict(batch_size=200, batch_every=10), len(task.X_train)))
    run.method.start(run)
    seen = []
    for b in range(12):           # 1,437 rows: 7 batches an epoch, so this crosses an epoch
        run.method.chunk(run, run.limits(10**9, (b + 1) * 10))
        run.next_batch()
        rows = run.batch_rows()
        seen.append(rows)
        prob, inputs = build_problem(run.st, rows)
        fresh = make_work(run.st, prob, inputs, run.bits.copy(), run.rng.copy(), K.new_state())
        assert K.evaluate(prob, fresh) == run.state["cur"]
        np.testing.assert_array_equal(run.wk.values, fresh.values)
        for name in ("labels", "target", "masks", "counts", "weights"):
            np.testing.assert_array_equal(getattr(run.prob, name), getattr(prob, name))
    # an epoch is a partition: its batches' rows are distinct
    epoch = np.concatenate(seen[6:13])     # batch indices 7..13 are epoch 1
    assert len(np.unique(epoch)) == len(epoch)


@pytest.mark.parametrize("method", ["es", "anneal"])
def test_minibatch_runs_report_the_whole_training_set(method):
    task = btype.tasks.get("digits")
    net = btype.random_network(64, 800, 10 * 8, layers=4, seed=2)
    r = btype.search.train(net, task, method=method, budget=btype.Budget(evaluations=20_000), seed=0,
                           progress=False, batch_size=256, batch_every=50, record_every=2_000)
    assert r.train_fitness == task.score(r.network, "train").fitness
    assert r.test_accuracy == task.score(r.network, "test").fitness
    assert r.train_fitness == max(rec["train_fitness"] for rec in r.trace)
    assert r.train_fitness > 0.3        # it learns (chance: 0.1)


# ---------------------------------------------------------------------------
# balanced fitness for imbalanced Boolean tasks
# ---------------------------------------------------------------------------
def _imbalanced_task(S=1200, n_inputs=12, seed=0, n_outputs=1):
    rng = np.random.default_rng(seed)
    X = rng.random((2 * S, n_inputs)) < 0.5
    # rare positives: output j is the AND of three inputs (1/8 of the rows) or, for j >= 1, of four
    Y = np.stack([X[:, j:j + 3 + min(j, 1)].all(axis=1) for j in range(n_outputs)], axis=1)
    return X[:S], Y[:S], X[S:], Y[S:]


def test_balanced_score_is_sklearns_balanced_accuracy():
    from sklearn.metrics import balanced_accuracy_score
    X, Y, Xt, Yt = _imbalanced_task(n_outputs=3)
    task = btype.tasks.Task("imb", X, Y, Xt, Yt, balanced=True)
    rng = np.random.default_rng(1)
    for _ in range(5):
        guess = rng.random(Y.shape) < rng.random()
        want = np.mean([balanced_accuracy_score(Y[:, j], guess[:, j]) for j in range(3)])
        assert task.score_outputs(guess).fitness == pytest.approx(want, abs=1e-12)
    # a constant answer scores 1/2 whatever the imbalance; an output without positives counts
    # its negatives only
    assert task.score_outputs(np.zeros_like(Y)).fitness == 0.5
    one = btype.tasks.Task("none", X, np.zeros_like(Y[:, :1]), Xt, Yt[:, :1], balanced=True)
    assert one.score_outputs(X[:, :1]).fitness == 1.0 - X[:, 0].mean()


@pytest.mark.parametrize("options", [{}, dict(batch_size=300, batch_every=25)])
@pytest.mark.parametrize("method", sorted(btype.search.METHODS))
def test_balanced_search_fitness_equals_task_score(method, options):
    X, Y, Xt, Yt = _imbalanced_task(n_outputs=3, seed=2)
    Y[:, 2] = False                          # an output with no positive rows at all
    task = btype.tasks.Task("imb", X, Y, Xt, Yt, balanced=True, output_weights=np.array([1.0, 2.0, 0.5]))
    net = btype.random_network(12, 150, 3, layers=5, reach=2, seed=1)
    r = btype.search.train(net, task, method=method, budget=btype.Budget(evaluations=3000), seed=1,
                           progress=False, **options)
    assert r.train_fitness == task.score(r.network, "train").fitness
    assert r.test_accuracy == task.score(r.network, "test").fitness


def test_balanced_fitness_keeps_es_off_the_constant_answer():
    # 8% positives (at least 7 of 9 inputs on): on plain bit accuracy ES settles on the
    # constant 0 (92% right, pruned to one gate); on balanced accuracy it learns the rule
    rng = np.random.default_rng(3)
    X = rng.random((4000, 16)) < 0.5
    Y = (X[:, :9].sum(axis=1) >= 7)[:, None]
    plain = btype.tasks.Task("imb", X[:2000], Y[:2000], X[2000:], Y[2000:])
    balanced = btype.tasks.Task("imb", X[:2000], Y[:2000], X[2000:], Y[2000:], balanced=True)
    net = btype.random_network(16, 200, 1, layers=6, reach=2, seed=0)
    found = {}
    for name, task in (("plain", plain), ("balanced", balanced)):
        r = btype.search.train(net, task, method="es", budget=btype.Budget(evaluations=30_000), seed=0,
                               progress=False)
        found[name] = (balanced.score(r.network, "test").fitness, btype.export.prune(r.network)[0].n_gates)
    assert found["plain"][0] < 0.55 and found["balanced"][0] > 0.7, found
    assert found["balanced"][1] > found["plain"][1], found


def test_from_pla_balanced(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((300, 6)) < 0.5
    Y = X[:, :3].all(axis=1)[:, None]
    btype.tasks.write_pla(tmp_path / "ex.train.pla", X, Y)
    task = btype.tasks.from_pla(tmp_path / "ex.train.pla", balanced=True)
    assert task.balanced and task.score_outputs(np.zeros_like(Y)).fitness == 0.5
    with pytest.raises(ValueError, match="balanced"):
        btype.tasks.from_pla(tmp_path / "ex.train.pla", balanced=True, as_classes=True)
    with pytest.raises(TypeError, match="balanced"):
        btype.tasks.from_pla(tmp_path / "ex.train.pla", balanced=1)
