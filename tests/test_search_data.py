"""The search on data tasks: its class fitness is the package's one group vote, its
minibatches change rows in place, and its reports are full-data scores."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import btype
from btype.search import core
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
    run = core._Run(net, task, btype.search.es.ES({}, n_links=net.n_modified, budget=budget), budget, 0, core._check_common({}, len(task.X_train)))
    run.method.start(run)
    for gens in range(1, 120):
        run.method.chunk(run, run.limits(10**9, gens))
        fresh = make_work(run.st, run.prob, btype.pack(task.X_train), run.bits.copy(), run.rng.copy(),
                          K.new_state())
        assert K.evaluate(run.prob, fresh) == run.wk.errs[0]
        assert (len(task.X_train) - run.wk.errs[0]) / len(task.X_train) == task.score(run.network_of(run.bits)).fitness


@pytest.mark.parametrize("method", ["es", "anneal", "random"])
def test_a_batch_change_equals_a_rebuild_on_the_same_rows(method):
    task = btype.tasks.get("digits")
    net = btype.random_network(64, 300, 10 * 4, layers=4, seed=1)
    cls = btype.search.METHODS[method]
    budget = btype.Budget(evaluations=10**6)
    run = core._Run(net, task, cls({}, n_links=net.n_modified, budget=budget), budget, 5, core._check_common(dict(batch_size=200, batch_every=10), len(task.X_train)))
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
        np.testing.assert_array_equal(run.prob.labels, prob.labels)
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
