"""The fast simulator against the per-sample reference (btype.reference)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import btype
from btype import plan, reference
from btype.simulate import DeltaEvaluator, node_values
from strategies import SAMPLE_COUNTS, networks, random_inputs


@given(net=networks(feedforward=True), S=SAMPLE_COUNTS, seed=st.integers(0, 10**6))
def test_evaluate_matches_reference(net, S, seed):
    X = random_inputs(seed, (S, net.n_inputs))
    np.testing.assert_array_equal(btype.evaluate(net, X), reference.evaluate(net, X))


@given(net=networks(feedforward=True), S=SAMPLE_COUNTS, seed=st.integers(0, 10**6))
def test_evaluate_packed_matches_unpacked(net, S, seed):
    X = random_inputs(seed, (S, net.n_inputs))
    Yp = btype.evaluate_packed(net, btype.pack(X))
    assert Yp.shape == (net.n_outputs, (S + 63) // 64)
    np.testing.assert_array_equal(btype.unpack(Yp, S), reference.evaluate(net, X))


@given(net=networks(feedforward=False, min_inputs=0), S=SAMPLE_COUNTS,
       steps=st.integers(0, 7), seed=st.integers(0, 10**6),
       init=st.sampled_from(["none", "shared", "per-sample"]), sequence=st.booleans())
def test_run_matches_reference(net, S, steps, seed, init, sequence):
    rng = np.random.default_rng(seed)
    X = rng.random((S, 3, net.n_inputs) if sequence else (S, net.n_inputs)) < 0.5
    initial = {"none": None, "shared": rng.random(net.n_gates) < 0.5,
               "per-sample": rng.random((S, net.n_gates)) < 0.5}[init]
    np.testing.assert_array_equal(btype.run(net, X, steps=steps, initial=initial),
                                  reference.run(net, X, steps, initial=initial))
    H = btype.run(net, X, steps=steps, initial=initial, record=True)
    assert H.shape == (steps + 1, S, net.n_gates)
    np.testing.assert_array_equal(H, reference.run(net, X, steps, initial=initial, record=True))


@given(net=networks(feedforward=True), seed=st.integers(0, 10**6))
def test_run_settles_to_evaluate_in_switch_mode(net, seed):
    # a feed-forward switch-mode machine settles after (depth) steps from any start
    net = net.replace(link="switch")
    X = random_inputs(seed, (70, net.n_inputs))
    depth = int(net.levels().max())
    initial = random_inputs(seed + 1, (70, net.n_gates))
    np.testing.assert_array_equal(btype.run(net, X, steps=depth, initial=initial), btype.evaluate(net, X))


def test_zero_input_machine_turing_example():
    # A 0-input machine: three gates in a ring. NAND(x, x) = NOT x around a
    # ring of 3 inverters oscillates with period 6 from the all-zero state.
    net = btype.Network(0, [[2, 2], [0, 0], [1, 1]], outputs=[0, 1, 2], modifiers=np.zeros((3, 2), bool))
    X = np.zeros((1, 0), bool)
    H = btype.run(net, X, steps=12, record=True)[:, 0, :]
    np.testing.assert_array_equal(H, reference.run(net, X, 12, record=True)[:, 0, :])
    np.testing.assert_array_equal(H[0], [0, 0, 0])
    np.testing.assert_array_equal(H[1], [1, 1, 1])
    np.testing.assert_array_equal(H[6], H[0])
    assert not np.array_equal(H[3], H[0])


def test_switch_btype_gate_functions_truth_table():
    # A switch-mode B-type gate computes NAND, NOT a, NOT b or constant 0.
    X = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], bool)
    a, b = X[:, 0], X[:, 1]
    expected = {(True, True): ~(a & b), (True, False): ~a, (False, True): ~b, (False, False): np.zeros(4, bool)}
    for bits, want in expected.items():
        net = btype.Network(2, [[0, 1]], [2], enabled=[list(bits)])
        np.testing.assert_array_equal(btype.evaluate(net, X)[:, 0], want)
        # turing mode with both links modified: OR, a, b, constant 0
        tur = net.replace(link="turing")
        want_t = {(True, True): a | b, (True, False): a, (False, True): b, (False, False): np.zeros(4, bool)}
        np.testing.assert_array_equal(btype.evaluate(tur, X)[:, 0], want_t[bits])


def test_turing_link_is_one_step_late():
    # input -> modified passing link -> gate (other port interrupted): the gate
    # reads NOT x one extra step late, so output = NOT NOT x = x after 2 steps,
    # and after 1 step it still reads the register's initial 1 -> NAND(1,1) = 0.
    net = btype.Network(1, [[0, 0]], [1], enabled=[[True, False]], link="turing")
    X = np.array([[True], [False]])
    H = btype.run(net, X, steps=3, record=True)[:, :, 0]
    np.testing.assert_array_equal(H[1], [False, False])
    np.testing.assert_array_equal(H[2], [True, False])


@given(net=networks(feedforward=True), S=SAMPLE_COUNTS, seed=st.integers(0, 10**6))
def test_delta_evaluation_matches_full(net, S, seed):
    rng = np.random.default_rng(seed)
    X = random_inputs(seed, (S, net.n_inputs))
    delta = DeltaEvaluator(net, X)
    modified = np.argwhere(net.modifiers)
    if len(modified) == 0:
        return
    for _ in range(8):
        links = modified[rng.integers(0, len(modified), size=rng.integers(1, 4))]
        n = delta.flip(links)
        assert 0 <= n <= net.n_gates
        current = delta.network
        np.testing.assert_array_equal(delta.outputs(), reference.evaluate(current, X))
        full = node_values(current, btype.pack(X))
        tail = btype.bits.tail_mask(S)
        np.testing.assert_array_equal(delta.values & tail, full & tail)


def test_delta_recomputes_only_downstream():
    # a chain g0 -> g1 -> g2 and an independent gate g3; flipping g3 touches g3 only
    net = btype.Network(1, [[0, 0], [1, 1], [2, 2], [0, 0]], [3, 4])
    delta = DeltaEvaluator(net, np.array([[0], [1]], bool))
    assert delta.flip([[3, 0]]) == 1
    # flipping g0's port 0: g0 becomes NOT x (was NOT x via both ports): no change, stops at g0
    assert delta.flip([[0, 0]]) == 1
    # interrupting g0's other port too: g0 = constant 0, so g1 and g2 change
    assert delta.flip([[0, 1]]) == 3


@pytest.mark.parametrize("threads", [1, 2])
def test_thread_count_gives_same_result_and_is_restored(threads):
    import numba
    net = btype.random_network(6, 300, 4, seed=3)
    X = random_inputs(0, (5000, 6))
    before = numba.get_num_threads()
    Y = btype.evaluate(net, X, threads=min(threads, numba.config.NUMBA_NUM_THREADS))
    assert numba.get_num_threads() == before
    np.testing.assert_array_equal(Y, btype.evaluate(net, X, threads=1))
    np.testing.assert_array_equal(Y[:50], reference.evaluate(net, X[:50]))


def test_block_size_does_not_change_result():
    net = btype.random_network(5, 200, 3, seed=1, link="turing")
    P = btype.pack(random_inputs(1, (3000, 5)))
    base = btype.evaluate_packed(net, P, block=1)
    for block in (3, 16, 64, 1000):
        np.testing.assert_array_equal(btype.evaluate_packed(net, P, block=block), base)


def test_pack_unpack_round_trip_and_bit_order():
    X = np.zeros((65, 2), bool)
    X[0, 0] = X[64, 1] = X[63, 0] = True
    P = btype.pack(X)
    assert P.dtype == np.uint64 and P.shape == (2, 2)
    assert P[0, 0] == np.uint64(1 | (1 << 63)) and P[1, 1] == 1 and P[0, 1] == 0
    np.testing.assert_array_equal(btype.unpack(P, 65), X)


def test_remembered_plans_and_masks_stay_those_of_the_network():
    """Each network remembers its kernel plan and link masks; flips made by a
    DeltaEvaluator or a pickle round trip must not leak into them."""
    import pickle

    net = btype.random_network(5, 60, 3, kind="layered", layers=4, seed=3, link="switch")
    X = random_inputs(1, (70, 5))
    first = btype.evaluate(net, X)  # fills the memo
    assert np.array_equal(first, reference.evaluate(net, X))
    xm, om, reg = btype.simulate.link_masks(net)
    assert not (xm.flags.writeable or om.flags.writeable or reg.flags.writeable)

    delta = DeltaEvaluator(net, X)
    links = np.argwhere(net.modifiers)[:10]
    delta.flip(links)
    bits = net.enabled.copy()
    bits[links[:, 0], links[:, 1]] ^= True
    assert delta.network == net.with_enabled(bits)
    assert np.array_equal(delta.outputs(), reference.evaluate(net.with_enabled(bits), X))
    assert np.array_equal(btype.evaluate(net, X), first)  # the original network is untouched

    copy = pickle.loads(pickle.dumps(net))
    assert copy == net and copy._memo == {}
    assert np.array_equal(btype.evaluate(copy, X), first)


@given(net=networks(feedforward=True))
def test_gate_levels_match_a_plain_recursion(net):
    """btype.plan's levels (the one place they are computed) against the definition:
    inputs are level 0, a gate one more than its deeper source."""
    def level(node):
        if node < net.n_inputs:
            return 0
        a, b = net.wiring[node - net.n_inputs]
        return 1 + max(level(a), level(b))
    expected = np.array([level(net.n_inputs + g) for g in range(net.n_gates)], np.int64)
    np.testing.assert_array_equal(net.levels(), expected)
    np.testing.assert_array_equal(plan.gate_levels(net.n_inputs, net.wiring), expected)
    ptr, gates = plan.level_groups(net.n_inputs, net.wiring)
    assert len(ptr) == expected.max(initial=0) + 1 and ptr[-1] == net.n_gates
    for k in range(len(ptr) - 1):
        np.testing.assert_array_equal(gates[ptr[k]:ptr[k + 1]], np.flatnonzero(expected == k + 1))


def test_gate_levels_need_a_feed_forward_wiring():
    loop = btype.Network(1, [[0, 2], [1, 1]], [2])
    with pytest.raises(ValueError, match="feed-forward"):
        loop.levels()
    with pytest.raises(ValueError, match="feed-forward"):
        plan.level_groups(1, loop.wiring)
