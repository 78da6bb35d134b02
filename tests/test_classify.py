"""The packed group vote (btype.vote) against the vote on unpacked outputs."""

import shutil

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
    (lambda: count_correct(NET, btype.pack(X3), [0] * 64, 2, n_samples=5), ValueError,
     "64 labels for the n_samples = 5 samples"),
    (lambda: count_correct(NET, btype.pack(X3), [0] * 5, 2, n_samples=65), ValueError, "n_samples must be in"),
    (lambda: count_correct(NET, btype.pack(X3), [0] * 5, 2, n_samples=5.0), TypeError, "n_samples must be"),
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


def test_count_correct_takes_the_sample_count_and_never_counts_padding():
    """16 samples packed and 64 labels: with the count given, the labels beyond it are refused;
    with one label per sample, the count is the reference's."""
    net = btype.random_network(6, 40, 6, seed=5)
    X = random_inputs(11, (16, 6))
    labels = np.random.default_rng(1).integers(0, 3, 64)
    with pytest.raises(ValueError, match="64 labels for the n_samples = 16 samples"):
        count_correct(net, btype.pack(X), labels, 3, n_samples=16)
    want = int((vote_unpacked(reference.evaluate(net, X), 3) == labels[:16]).sum())
    assert count_correct(net, btype.pack(X), labels[:16], 3, n_samples=16) == want


def _packed_by_definition(X):
    """Sample s of column i is bit s % 64 of word s // 64 of row i, written out bit by bit."""
    S, n = X.shape
    P = np.zeros((n, -(-S // 64)), np.uint64)
    for s_ in range(S):
        for i in range(n):
            if X[s_, i]:
                P[i, s_ // 64] |= np.uint64(1) << np.uint64(s_ % 64)
    return P


@given(S=st.integers(0, 300), n=st.integers(0, 40), seed=st.integers(0, 10**6))
def test_pack_and_classify_pack_as_the_definition_says(S, n, seed):
    """btype.pack and classify's packing, serial and by blocks, against the bit layout itself."""
    X = random_inputs(seed, (S, n))
    want = _packed_by_definition(X)
    np.testing.assert_array_equal(btype.pack(X), want)
    for n_threads in (1, 3):
        np.testing.assert_array_equal(packed_vote._packed(X, n_threads), want)
    if S >= 64 * 64 or n > 8:
        return
    wide = random_inputs(seed, (64 * 70 + S, n))  # enough words for the blocks
    np.testing.assert_array_equal(packed_vote._packed(wide, 2), _packed_by_definition(wide))


@pytest.fixture(scope="module")
def trained_digits():
    """A classifier trained by gradient descent on digits (a machine shaped by data, not random)."""
    sgd = pytest.importorskip("sgd")
    task = btype.tasks.get("digits")
    net = btype.random_network(task.n_inputs, 1200, 400, layers=3, seed=0)
    result = sgd.train(net, task, budget=btype.Budget(steps=60), seed=0, progress=False, device="cpu")
    return result.network, task


def test_classify_on_a_trained_machine_equals_the_unpacked_vote(trained_digits):
    net, task = trained_digits
    X, y = task.split("test")
    X = np.asarray(X, bool)
    want = vote_unpacked(btype.evaluate(net, X), task.n_classes)
    assert (want == np.asarray(y)).mean() > 0.3  # it learned something: the pruned machine is not trivial
    for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
        np.testing.assert_array_equal(classify(net, X, task.n_classes, threads=threads), want)
    assert count_correct(net, btype.pack(X), np.asarray(y), task.n_classes, n_samples=len(X)) == \
        int((want == np.asarray(y)).sum())


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_generated_c_program_predicts_as_btype(trained_digits, tmp_path):
    """The straight-line C program of the benchmark script, compiled and run, against btype.classify."""
    from experiments.bench import classify_vs_c as cvc
    net, task = trained_digits
    X = np.asarray(task.split("test")[0], bool)[:1000]
    source, pruned = cvc.c_program(net, task.n_classes)
    binary, _ = cvc.compile_c(source, tmp_path)
    _, pred = cvc.run_c(binary, btype.pack(X), tmp_path, 1)
    np.testing.assert_array_equal(pred[:len(X)], classify(net, X, task.n_classes))
    # and on a random machine whose outputs include inputs, constants and repeats
    rng = np.random.default_rng(2)
    rand = btype.Network(8, [rng.integers(0, 8 + g, 2) for g in range(30)], rng.integers(0, 38, 12),
                         enabled=rng.random((30, 2)) < 0.7, link="turing")
    Xr = random_inputs(3, (300, 8))
    source, _ = cvc.c_program(rand, 4)
    binary, _ = cvc.compile_c(source, tmp_path)
    _, pred = cvc.run_c(binary, btype.pack(Xr), tmp_path, 1)
    np.testing.assert_array_equal(pred[:300], vote_unpacked(reference.evaluate(rand, Xr), 4))
