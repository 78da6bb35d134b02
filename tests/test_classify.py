"""The packed group vote (btype.vote) against the vote on unpacked outputs."""

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import btype
from btype import reference
from btype.vote import classify, classify_packed, count_correct
from btype.tasks.base import classify as vote_unpacked
from strategies import random_inputs

import btype.vote as packed_vote

# group sizes around the 16 rows of one carry-save tree, and 1
GROUPS = st.sampled_from([1, 2, 3, 7, 15, 16, 17, 33])
SAMPLES = st.sampled_from([0, 1, 2, 63, 64, 65, 130, 200, 1000])


@st.composite
def classifiers(draw):
    """Feed-forward machines whose outputs (any nodes, repeats allowed) split into class groups."""
    n_classes = draw(st.integers(1, 6))
    group = draw(GROUPS)
    n_inputs = draw(st.integers(1, 6))  # a feed-forward gate 0 needs an input to read
    n_gates = draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    wiring = np.array([rng.integers(0, n_inputs + g, 2) for g in range(n_gates)])
    frac = draw(st.sampled_from([0.0, 0.5, 1.0]))
    modifiers = rng.random((n_gates, 2)) < frac
    enabled = ~modifiers | (rng.random((n_gates, 2)) < draw(st.sampled_from([0.3, 0.8])))
    outputs = rng.integers(0, n_inputs + n_gates, n_classes * group)
    link = draw(st.sampled_from(["switch", "turing"]))
    net = btype.Network(n_inputs, wiring, outputs, enabled=enabled, modifiers=modifiers, link=link)
    return net, n_classes


@given(case=classifiers(), S=SAMPLES, seed=st.integers(0, 10**6), prune=st.booleans())
def test_classify_matches_vote_on_unpacked_outputs(case, S, seed, prune):
    net, n_classes = case
    X = random_inputs(seed, (S, net.n_inputs))
    want = vote_unpacked(btype.evaluate(net, X), n_classes)
    got = classify(net, X, n_classes, prune=prune)
    assert got.dtype == np.int64 and got.shape == (S,)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(classify_packed(net, btype.pack(X), S, n_classes, prune=prune), want)


@given(case=classifiers(), S=SAMPLES, seed=st.integers(0, 10**6))
def test_count_correct_matches_accuracy_on_unpacked_outputs(case, S, seed):
    net, n_classes = case
    X = random_inputs(seed, (S, net.n_inputs))
    labels = np.random.default_rng(seed).integers(0, n_classes, S)
    # the per-sample reference simulator, independent of the packed kernels
    want = int((vote_unpacked(reference.evaluate(net, X), n_classes) == labels).sum()) if S else 0
    assert count_correct(net, btype.pack(X), labels, n_classes) == want


def test_ties_go_to_the_lowest_class():
    # outputs are the inputs themselves: class scores are popcounts of X's column groups
    n_classes, group, S = 4, 3, 5000
    net = btype.Network(n_classes * group, [[0, 1]], list(range(n_classes * group)))
    X = random_inputs(7, (S, n_classes * group))
    scores = X.reshape(S, n_classes, group).sum(axis=2)
    want = np.array([next(c for c in range(n_classes) if s[c] == s.max()) for s in scores])
    assert (np.sort(scores, axis=1)[:, -1] == np.sort(scores, axis=1)[:, -2]).mean() > 0.2  # many ties
    np.testing.assert_array_equal(classify(net, X, n_classes), want)


def test_constant_outputs_count_towards_their_class():
    # gate 0 is constant 0 (both links interrupted), gate 1 = NOT gate 0 = constant 1
    wiring = [[0, 0], [1, 1]]
    enabled = [[False, False], [True, True]]
    # class 0: one input; class 1: constant 1; class 2: constant 0
    net = btype.Network(1, wiring, [0, 2, 1], enabled=enabled)
    X = np.array([[False], [True]])
    np.testing.assert_array_equal(classify(net, X, 3), [1, 0])  # tie 1-1 goes to class 0
    np.testing.assert_array_equal(classify(net, X, 3), vote_unpacked(btype.evaluate(net, X), 3))


def test_many_chunks_wide_groups_and_threads(monkeypatch):
    rng = np.random.default_rng(3)
    net = btype.random_network(20, 900, 600, seed=1)
    net = net.with_enabled(rng.random((900, 2)) < 0.8)
    X = random_inputs(4, (5000, 20))
    want = vote_unpacked(btype.evaluate(net, X), 3)  # 200 outputs per class: 8-bit counts
    for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):  # 2: the vote in parallel
        np.testing.assert_array_equal(classify(net, X, 3, threads=threads), want)
        np.testing.assert_array_equal(classify(net, X, 3, threads=threads, prune=False), want)
    monkeypatch.setattr(packed_vote, "CHUNK_BYTES", 8 * 64 * 8)  # 8 words per chunk at 64 rows
    np.testing.assert_array_equal(classify(net, X, 3), want)


def test_plan_follows_the_modifier_states():
    net = btype.random_network(8, 60, 20, seed=2)
    X = random_inputs(5, (300, 8))
    rng = np.random.default_rng(0)
    for _ in range(3):
        other = net.with_enabled(rng.random((60, 2)) < 0.6)
        classify(net, X, 4)
        np.testing.assert_array_equal(classify(other, X, 4), vote_unpacked(btype.evaluate(other, X), 4))


# -- validation -------------------------------------------------------------------
NET = btype.random_network(3, 10, 4, seed=0)
X3 = np.zeros((5, 3), bool)


@pytest.mark.parametrize("call, error, words", [
    (lambda: classify("net", X3, 2), TypeError, "net must be a btype.Network"),
    (lambda: classify(btype.random_network(3, 10, 4, kind="recurrent"), X3, 2), ValueError,
     "feed-forward"),
    (lambda: classify(NET, X3, 3), ValueError, "n_classes = 3"),
    (lambda: classify(NET, X3, 0), ValueError, "n_classes = 0"),
    (lambda: classify(NET, X3, 2.0), TypeError, "n_classes must be an int"),
    (lambda: classify(NET, X3, True), TypeError, "n_classes must be an int"),
    (lambda: classify(NET, np.zeros((5, 4), bool), 2), ValueError, "4 input columns"),
    (lambda: classify(NET, np.zeros(3, bool), 2), ValueError, "X must have shape"),
    (lambda: classify(NET, np.full((5, 3), 0.5), 2), TypeError, "X must be boolean"),
    (lambda: classify(NET, X3, 2, prune=1), TypeError, "prune must be a bool"),
    (lambda: classify(NET, X3, 2, threads=0), ValueError, "threads must be >= 1"),
    (lambda: classify_packed(NET, btype.pack(X3).astype(np.int64), 5, 2), TypeError, "P must be uint64"),
    (lambda: classify_packed(NET, btype.pack(X3), 65, 2), ValueError, "n_samples = 65"),
    (lambda: classify_packed(NET, btype.pack(X3), -1, 2), ValueError, "n_samples = -1"),
    (lambda: classify_packed(NET, btype.pack(X3), 5.0, 2), TypeError, "n_samples must be an int"),
    (lambda: count_correct(NET, btype.pack(X3), np.zeros(5), 2), TypeError, "labels must be integer"),
    (lambda: count_correct(NET, btype.pack(X3), np.zeros((5, 1), int), 2), ValueError,
     "labels must be 1-dimensional"),
    (lambda: count_correct(NET, btype.pack(X3), [0, 1, 2, 0, 1], 2), ValueError, r"labels\[2\] = 2"),
    (lambda: count_correct(NET, btype.pack(X3), [0, -1, 0, 0, 1], 2), ValueError, r"labels\[1\] = -1"),
    (lambda: count_correct(NET, btype.pack(np.zeros((70, 3), bool)), [0] * 5, 2), ValueError,
     "P holds 2 words but 5 labels need 1"),
])
def test_errors_name_the_argument(call, error, words):
    with pytest.raises(error, match=words):
        call()


@given(case=classifiers(), S=SAMPLES, seed=st.integers(0, 10**6))
def test_kernel_for_search_counts_wrong_on_node_values(case, S, seed):
    # how a search kernel would score a candidate: every node's value, output nodes as rows
    from btype._vote_kernels import _count_wrong
    from btype.simulate import node_values
    net, n_classes = case
    X = random_inputs(seed, (S, net.n_inputs))
    labels = np.random.default_rng(seed).integers(0, n_classes, S)
    group = net.n_outputs // n_classes
    values = node_values(net, btype.pack(X))
    wrong = _count_wrong(values, net.outputs, group * np.arange(n_classes + 1), np.zeros(n_classes, np.int64),
                         group.bit_length(), labels)
    assert wrong == int((vote_unpacked(btype.evaluate(net, X), n_classes) != labels).sum())
