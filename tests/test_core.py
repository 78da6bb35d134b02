"""The one simulator core (btype.plan, btype.kernels) as the search and export use it,
against the per-sample reference and plain re-derivations."""
import os
import subprocess
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import btype
from btype import plan, reference
from btype.export import active_gates, link_literals
from btype.search import _kernels as K
from btype.search.core import seed_state
from btype.search.problem import Structure, build_problem, make_work
from strategies import networks, random_inputs


def reachable(net, live_only):
    """Gates from which an output is reachable, by fixed-point iteration over the links."""
    useful = np.zeros(net.n_nodes, bool)
    useful[net.outputs] = True
    while True:
        before = useful.copy()
        for g in range(net.n_gates):
            if useful[net.n_inputs + g]:
                for p in range(2):
                    if not live_only or reference.link_value(net, g, p, False) is not True \
                            or reference.link_value(net, g, p, True) is not True:
                        useful[net.wiring[g, p]] = True
        if (useful == before).all():
            return useful[net.n_inputs:]


@given(net=networks(feedforward=False, min_inputs=0))
def test_plan_against_plain_derivations(net):
    live, inverted = plan.link_terms(net)
    for g in range(net.n_gates):
        for p in range(2):
            for v in (False, True):
                want = reference.link_value(net, g, p, v)
                got = True if not live[g, p] else (v != inverted[g, p])
                assert got == want
    xm, om, _ = plan.link_masks(net)
    assert ((xm != 0) == inverted).all() and ((om != 0) == ~live).all()
    assert (plan.wired_cone(net) == reachable(net, live_only=False)).all()
    assert (plan.active_cone(net) == reachable(net, live_only=True)).all()
    assert (active_gates(net) == plan.active_cone(net)).all()
    source, inv = link_literals(net)
    assert (inv == inverted).all() and ((source >= 0) == live).all()
    ptr, idx = plan.readers(net)
    for node in range(net.n_nodes):
        assert idx[ptr[node]:ptr[node + 1]].tolist() == sorted(
            {g for g in range(net.n_gates) if node in net.wiring[g]})


def search_setup(net, task, seed=0):
    st_ = Structure(net, task)
    prob, inputs = build_problem(st_)
    state = K.new_state()
    wk = make_work(st_, prob, inputs, st_.bits0.copy(), seed_state(seed), state)
    K.start(prob, wk)
    return st_, prob, wk


def enabled_of(net, st_, bits):
    enabled = np.array(net.enabled)
    enabled[st_.links[:, 0], st_.links[:, 1]] = bits.astype(bool)
    return enabled


@settings(max_examples=60, deadline=None)
@given(net=networks(feedforward=True), S=st.sampled_from([1, 5, 64, 70]), seed=st.integers(0, 10**6))
def test_search_delta_and_undo_match_reference(net, S, seed):
    if net.n_modified == 0:
        return
    rng = np.random.default_rng(seed)
    X = random_inputs(seed, (S, net.n_inputs))
    Y = rng.random((S, net.n_outputs)) < 0.5
    task = btype.tasks.Task("t", X, Y, X, Y)
    st_, prob, wk = search_setup(net, task, seed)

    def wrong(bits):
        out = reference.evaluate(net.with_enabled(enabled_of(net, st_, bits)), X)
        return (out != Y).sum(axis=0)

    assert wk.errs.tolist() == wrong(wk.bits).tolist()
    for _ in range(8):
        n = int(rng.integers(1, min(3, net.n_modified) + 1))
        flips = rng.choice(net.n_modified, n, replace=False).astype(np.int64)
        before = (wk.bits.copy(), wk.errs.copy(), wk.values.copy())
        s = K.apply(prob, wk, flips, n)
        assert wk.errs.tolist() == wrong(wk.bits).tolist()
        assert s == wk.errs.sum()
        if rng.random() < 0.5:
            K.undo(prob, wk, flips, n)
            assert (wk.bits == before[0]).all() and (wk.errs == before[1]).all()
            # padding bits beyond S are free to differ: nothing reads them
            tail = btype.bits.tail_mask(S)
            assert ((wk.values & tail) == (before[2] & tail)).all()
        else:
            wk.state["cur"] = s


@settings(max_examples=40, deadline=None)
@given(net=networks(feedforward=False, min_inputs=1), S=st.sampled_from([1, 64, 66]),
       steps=st.integers(1, 6), seed=st.integers(0, 10**6))
def test_search_clocked_evaluation_matches_reference(net, S, steps, seed):
    if net.n_modified == 0:
        return
    rng = np.random.default_rng(seed)
    X = rng.random((S, 3, net.n_inputs)) < 0.5
    Y = rng.random((S, net.n_outputs)) < 0.5
    task = btype.tasks.Task("seq", X, Y, X, Y, steps=steps)
    st_, prob, wk = search_setup(net, task, seed)
    for _ in range(3):
        want = (reference.run(net.with_enabled(enabled_of(net, st_, wk.bits)), X, steps) != Y).sum(axis=0)
        assert wk.errs.tolist() == want.tolist()
        flips = rng.choice(net.n_modified, 1).astype(np.int64)
        wk.state["cur"] = K.apply(prob, wk, flips, 1)


def test_evaluate_packed_caps_the_block_at_the_words():
    net = btype.random_network(4, 50, 2, seed=0)
    P = btype.pack(random_inputs(0, (200, 4)))
    # used to raise MemoryError inside the kernel (a 10**9-word buffer per live row)
    assert np.array_equal(btype.evaluate_packed(net, P, block=10 ** 9), btype.evaluate_packed(net, P))


def test_no_cache_switch_reaches_every_kernel():
    code = """
import importlib, numba
from numba.core.caching import NullCache
mods = ["btype.kernels", "btype.search._kernels", "btype.search.es", "btype.search.anneal",
        "btype.search.ga", "btype.search.random_search"]
try:
    import torch  # noqa: F401
    mods.append("sgd._cpu")
except ImportError:
    pass
n = 0
for name in mods:
    mod = importlib.import_module(name)
    for obj in vars(mod).values():
        if isinstance(obj, numba.core.registry.CPUDispatcher) and obj.__module__ == name:
            assert isinstance(obj._cache, NullCache), (name, obj.__name__)
            n += 1
print(n)
"""
    env = {**os.environ, "BTYPE_NO_CACHE": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), timeout=300)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) > 20
