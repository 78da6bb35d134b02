"""Tests of ``sgd``: the relaxation against the btype simulator.

- Exactness: with saturated enables (``init="bits"``) and 0/1 inputs the relaxed
  forward equals ``btype.evaluate`` / ``btype.run`` bit for bit, in every mode,
  both link modes, every CPU backend, feed-forward and clocked.
- Gradients, in double precision: every backend against central differences
  (``gradcheck`` too for the clocked path) and against a second, independent
  relaxation written here gate by gate with plain autograd.
- ``harden``, ``state_dict`` round trips, learning parity3 and mux6, errors,
  and checkpoint/resume of ``sgd.train``.
"""
import importlib
import io
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import btype
from strategies import networks
from torch_threads import one_torch_thread  # noqa: F401 (autouse)

torch = pytest.importorskip("torch")
sgd = pytest.importorskip("sgd")
_ops = importlib.import_module("sgd._ops")
_cpu = importlib.import_module("sgd._cpu")
sgd_train = importlib.import_module("sgd.train")
_npz = importlib.import_module("btype._npz")

CPU_BACKENDS = ("auto", "numba", "torch")
#: (mode, straight_through): every way the forward pass can turn theta into enables
MODES = [("soft", False), ("hard", False), ("gumbel", False), ("gumbel", True)]
SAMPLE_COUNTS = (1, 63, 64, 65)


def bits(seed, shape):
    return np.random.default_rng(seed).random(shape) < 0.5


def assert_bits_equal(out, expected):
    """``out`` (a tensor) holds exactly 0.0/1.0 and equals the bool array ``expected``."""
    values = out.detach().cpu().double().numpy()
    assert values.shape == expected.shape
    assert np.isin(values, (0.0, 1.0)).all(), np.unique(values)
    np.testing.assert_array_equal(values.astype(bool), expected)


def relaxed_outputs(module, X, mode, straight_through, generator, **kw):
    x = torch.as_tensor(X, dtype=torch.float32)
    return module(x, mode=mode, straight_through=straight_through, generator=generator, **kw)


# --------------------------------------------------------------------------- exactness: feed-forward

LAYERED = [  # (n_inputs, n_gates, n_outputs, layers, reach)
    (1, 4, 1, 1, 1), (3, 24, 3, 3, 1), (5, 40, 4, 4, 2), (6, 60, 5, 6, 6), (4, 33, 2, 5, 3)]


@pytest.mark.parametrize("shape", LAYERED, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("link", ["switch", "turing"])
@pytest.mark.parametrize("fraction", [0.5, 1.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_feedforward_equals_evaluate_bit_for_bit(shape, link, fraction, seed):
    n_in, G, n_out, layers, reach = shape
    net = btype.random_network(n_in, G, n_out, kind="layered", layers=layers, reach=reach, seed=seed,
                               link=link, modified_fraction=fraction)
    generator = torch.Generator().manual_seed(seed)
    for S in SAMPLE_COUNTS:
        X = bits(100 * seed + S, (S, n_in))
        expected = btype.evaluate(net, X)
        for backend in CPU_BACKENDS:
            module = sgd.RelaxedNetwork(net, init="bits", backend=backend)
            for mode, st_ in MODES:
                assert_bits_equal(relaxed_outputs(module, X, mode, st_, generator), expected)
            # float64 and bool inputs too
            x64 = torch.as_tensor(X, dtype=torch.float64)
            out = module(x64)
            assert out.dtype == torch.float64
            assert_bits_equal(out, expected)
            assert_bits_equal(module(x64, mode="hard"), expected)
            assert_bits_equal(module(torch.as_tensor(X)), expected)
            # sigmoid(-40 + noise) is below float32's resolution at 1 but not float64's:
            # float64 gumbel outputs are the bits up to rounding
            noisy = module(x64, mode="gumbel", generator=generator).detach().numpy()
            np.testing.assert_array_equal(noisy.round().astype(bool), expected)
            assert np.abs(noisy - expected).max() < 1e-9
        # clocked long enough (a turing register adds a step per level), it settles to the same answer
        settle = 2 * int(net.levels().max())
        assert_bits_equal(relaxed_outputs(module, X, "soft", False, None, steps=settle), expected)


@given(net=networks(feedforward=True), S=st.sampled_from(SAMPLE_COUNTS), seed=st.integers(0, 2**16))
def test_feedforward_exact_on_arbitrary_machines(net, S, seed):
    """Partial modifier masks, outputs on input nodes, repeated sources."""
    X = bits(seed, (S, net.n_inputs))
    expected = btype.reference.evaluate(net, X)
    generator = torch.Generator().manual_seed(seed)
    for backend in CPU_BACKENDS:
        module = sgd.RelaxedNetwork(net, init="bits", backend=backend)
        assert module.is_feedforward
        for mode, st_ in MODES:
            assert_bits_equal(relaxed_outputs(module, X, mode, st_, generator), expected)


def test_parallel_cpu_kernels_exact(monkeypatch):
    """Force the threaded numba kernels (normally only for large work) on several blocks."""
    monkeypatch.setattr(_cpu, "PARALLEL_MIN", 0)
    net = btype.random_network(6, 80, 4, layers=5, reach=2, seed=7, modified_fraction=0.5)
    for S in (65, 200, 300, 1000):
        X = bits(S, (S, 6))
        module = sgd.RelaxedNetwork(net, init="bits", backend="numba")
        assert_bits_equal(relaxed_outputs(module, X, "soft", False, None), btype.evaluate(net, X))


# --------------------------------------------------------------------------- exactness: clocked

RECURRENT = [(0, 5, 2), (1, 7, 1), (3, 12, 3), (4, 20, 4)]  # (n_inputs, n_gates, n_outputs)


@pytest.mark.parametrize("shape", RECURRENT, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("link", ["switch", "turing"])
@pytest.mark.parametrize("fraction", [0.5, 1.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_clocked_equals_run_bit_for_bit(shape, link, fraction, seed):
    n_in, G, n_out = shape
    net = btype.random_network(n_in, G, n_out, kind="recurrent", seed=seed, link=link,
                               modified_fraction=fraction)
    module = sgd.RelaxedNetwork(net, init="bits")
    generator = torch.Generator().manual_seed(seed)
    S = 65
    held = bits(seed, (S, n_in))
    sequence = bits(seed + 1, (S, 4, n_in))
    shared = bits(seed + 2, (G,))
    per_sample = bits(seed + 3, (S, G))
    for steps in (0, 1, 2, 5, 9):
        for X in (held, sequence):
            for initial in (None, shared, per_sample):
                expected = btype.run(net, X, steps, initial=initial)
                init_t = None if initial is None else torch.as_tensor(initial)
                for mode, st_ in MODES:
                    out = relaxed_outputs(module, X, mode, st_, generator, steps=steps, initial=init_t)
                    assert_bits_equal(out, expected)


@given(net=networks(feedforward=False, min_inputs=0), S=st.sampled_from(SAMPLE_COUNTS),
       steps=st.integers(0, 8), T=st.integers(0, 4), seed=st.integers(0, 2**16))
def test_clocked_exact_on_arbitrary_machines(net, S, steps, T, seed):
    """T = 0: inputs held; T > 0: a sequence of T frames, zeros afterwards."""
    shape = (S, net.n_inputs) if T == 0 else (S, T, net.n_inputs)
    X = bits(seed, shape)
    initial = bits(seed + 1, (S, net.n_gates))
    expected = btype.reference.run(net, X, steps, initial=initial)
    generator = torch.Generator().manual_seed(seed)
    module = sgd.RelaxedNetwork(net, init="bits")
    for mode, st_ in MODES:
        out = relaxed_outputs(module, X, mode, st_, generator, steps=steps, initial=torch.as_tensor(initial))
        assert_bits_equal(out, expected)


@pytest.mark.parametrize("link", ["switch", "turing"])
def test_clocked_every_step_equals_recorded_history(link):
    """Reading every gate at step t reproduces ``run(..., record=True)[t]``."""
    net = btype.random_network(3, 15, 1, kind="recurrent", seed=5, link=link, modified_fraction=0.7)
    every_gate = net.replace(outputs=np.arange(net.n_inputs, net.n_nodes))
    X = bits(0, (64, 2, 3))
    initial = bits(1, (net.n_gates,))
    history = btype.run(net, X, 10, initial=initial, record=True)
    module = sgd.RelaxedNetwork(every_gate, init="bits")
    for t in range(11):
        assert_bits_equal(module(torch.as_tensor(X, dtype=torch.float32), steps=t,
                                 initial=torch.as_tensor(initial)), history[t])


@pytest.mark.parametrize("name", ["stream_parity3", "delay_xor2", "echo1"])
@pytest.mark.parametrize("link", ["switch", "turing"])
def test_clocked_tasks_as_sgd_reads_them(name, link):
    """Sequence inputs (S, T, 1) read at ``task.steps``, as ``sgd.train`` does."""
    task = btype.tasks.get(name)
    for seed in range(3):
        net = btype.random_network(1, 16, 1, kind="recurrent", seed=seed, link=link)
        module = sgd.RelaxedNetwork(net, init="bits")
        X = np.array(task.split("train")[0])
        out = module(torch.as_tensor(X, dtype=torch.float32), mode="hard", steps=task.steps)
        assert_bits_equal(out, btype.run(net, X, task.steps))
        assert_bits_equal(out, task.outputs(net, "train"))


@pytest.mark.parametrize("name", ["mux6", "stream_parity3"])
def test_train_first_record_scores_the_start_machine(name):
    """With init="bits" the step-0 record's relaxed and hardened fitness are the machine's."""
    task = btype.tasks.get(name)
    if task.is_clocked:
        net = btype.random_network(1, 24, 1, kind="recurrent", seed=3)
    else:
        net = btype.random_network(task.n_inputs, 40, 1, layers=4, reach=2, seed=3)
    result = sgd.train(net, task, budget=btype.Budget(steps=1), device="cpu", seed=0, progress=False,
                       init="bits")
    first = result.trace[0]
    assert first["step"] == 0
    fitness = task.score(net, "train").fitness
    assert first["hardened_train_fitness"] == fitness
    assert first["relaxed_train_fitness"] == fitness


# --------------------------------------------------------------------------- gradients

def reference_relaxation(net, theta, x, tau=1.0, hard=False):
    """The relaxation of the module docstring, gate by gate with plain autograd.

    ``hard``: enables ``theta > 0`` forward with the sigmoid's gradient (straight-through).
    """
    e = torch.sigmoid(theta / tau)
    if hard:
        e = (theta > 0).to(e.dtype) + (e - e.detach())
    values = [x[:, i] for i in range(net.n_inputs)]
    for g in range(net.n_gates):
        links = []
        for p in range(2):
            v = values[net.wiring[g, p]]
            if not net.modifiers[g, p]:
                links.append(v)
            elif net.link == "switch":
                links.append(1 - e[g, p] * (1 - v))
            else:
                links.append(1 - e[g, p] * v)
        values.append(1 - links[0] * links[1])
    return torch.stack([values[o] for o in net.outputs], 1)


@pytest.mark.parametrize("link", ["switch", "turing"])
@pytest.mark.parametrize("backend, parallel", [("auto", False), ("numba", False), ("numba", True),
                                               ("torch", False)])
@pytest.mark.parametrize("mode", ["soft", "hard"])
def test_forward_and_gradient_match_reference(link, backend, parallel, mode, monkeypatch):
    if parallel:  # the threaded numba kernels, normally only for large work
        monkeypatch.setattr(_cpu, "PARALLEL_MIN", 0)
    net = btype.random_network(5, 30, 3, layers=5, reach=2, seed=11, link=link, modified_fraction=0.7)
    rng = np.random.default_rng(0)
    theta0 = torch.as_tensor(rng.normal(0, 1.5, (30, 2)))
    mods = torch.as_tensor(np.array(net.modifiers))
    for S in (1, 65, 300):
        x = torch.as_tensor(rng.random((S, 5)))  # probabilities, not only bits
        weights = torch.as_tensor(rng.normal(size=(S, 3)))
        theta = theta0.clone().requires_grad_(True)
        expected = reference_relaxation(net, theta, x, tau=0.7, hard=mode == "hard")
        (expected * weights).sum().backward()
        for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
            # the temperature given once to the constructor, once to the call
            module = sgd.RelaxedNetwork(net, init="random", tau=0.7 if S == 65 else 3.0, backend=backend)
            module = module.to(dtype)
            call_tau = None if S == 65 else 0.7
            with torch.no_grad():
                module.theta.copy_(theta0 * mods)
            out = module(x.to(dtype), mode=mode, tau=call_tau)
            assert out.dtype == dtype
            torch.testing.assert_close(out.double(), expected.detach(), rtol=0, atol=tol)
            (out * weights.to(dtype)).sum().backward()
            torch.testing.assert_close(module.theta.grad.double(), theta.grad * mods, rtol=tol, atol=tol)
            assert (module.theta.grad[~mods] == 0).all()
            with torch.no_grad():  # the path without autograd gives the same values
                again = module(x.to(dtype), mode=mode, tau=call_tau)
            torch.testing.assert_close(again, out.detach(), rtol=0, atol=0)


def test_gumbel_noise_follows_the_generator():
    net = btype.random_network(4, 20, 2, layers=3, seed=3)
    module = sgd.RelaxedNetwork(net, init="random")
    x = torch.as_tensor(bits(0, (65, 4)), dtype=torch.float32)

    def draw(seed, **kw):
        return module(x, mode="gumbel", generator=torch.Generator().manual_seed(seed), **kw).detach()

    torch.testing.assert_close(draw(1), draw(1), rtol=0, atol=0)
    assert not torch.equal(draw(1), draw(2))
    hard = draw(1, straight_through=True)
    assert np.isin(hard.numpy(), (0.0, 1.0)).all()  # hard enables and 0/1 inputs give bits


def assert_gradient_matches_differences(f, inputs, n_projections=2, eps=1e-6, seed=0):
    """Every entry of ``w . J`` (one backward per fresh forward) against central differences.

    Not ``torch.autograd.gradcheck``: that calls backward repeatedly on one graph,
    which the feed-forward function does not support (see
    ``test_backward_twice_with_retain_graph``).
    """
    rng = np.random.default_rng(seed)
    for _ in range(n_projections):
        out = f(*inputs)
        w = torch.as_tensor(rng.normal(size=tuple(out.shape)))
        analytic = torch.autograd.grad((out * w).sum(), inputs)
        with torch.no_grad():
            for k, (tensor, grad) in enumerate(zip(inputs, analytic)):
                flat = grad.reshape(-1)
                for i in range(tensor.numel()):
                    shifted = [t.detach().clone() for t in inputs]
                    shifted[k].view(-1)[i] += eps
                    up = (f(*shifted) * w).sum()
                    shifted[k].view(-1)[i] -= 2 * eps
                    down = (f(*shifted) * w).sum()
                    numeric = float(up - down) / (2 * eps)
                    assert float(flat[i]) == pytest.approx(numeric, rel=1e-6, abs=1e-7), (k, i)


@pytest.mark.parametrize("link", ["switch", "turing"])
@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_feedforward_autograd_function_against_differences(link, backend):
    """The custom backward, alpha and beta as independent inputs (turing mode folds alpha to 1)."""
    net = btype.random_network(3, 12, 2, layers=3, reach=2, seed=2, link=link)
    plan = sgd.RelaxedNetwork(net)._plan(torch.device("cpu"))
    rng = np.random.default_rng(1)
    x = torch.as_tensor(rng.random((70, 3)))
    alpha = torch.as_tensor(rng.random((12, 2))).requires_grad_(True)
    beta = torch.as_tensor(rng.uniform(-1, 1, (12, 2))).requires_grad_(True)

    def f(a, b):
        return _ops.FeedForward.apply(x, a, b, plan, backend)

    assert_gradient_matches_differences(f, (alpha, beta))


@pytest.mark.parametrize("link", ["switch", "turing"])
@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_theta_gradient_feedforward_against_differences(link, backend):
    net = btype.random_network(4, 10, 2, layers=3, seed=4, link=link, modified_fraction=0.8)
    module = sgd.RelaxedNetwork(net, init="random", tau=0.8, seed=1, backend=backend).double()
    x = torch.as_tensor(bits(3, (33, 4)), dtype=torch.float64)
    theta = module.theta.detach().clone().requires_grad_(True)

    def f(th):
        return torch.func.functional_call(module, {"theta": th}, (x,))

    assert_gradient_matches_differences(f, (theta,))


@pytest.mark.parametrize("link", ["switch", "turing"])
def test_theta_gradcheck_clocked(link):
    """Back-propagation through time, with loops, turing registers and a sequence."""
    net = btype.random_network(2, 6, 2, kind="recurrent", seed=8, link=link, modified_fraction=0.8)
    module = sgd.RelaxedNetwork(net, init="random", seed=2).double()
    x = torch.as_tensor(bits(4, (9, 3, 2)), dtype=torch.float64)
    initial = torch.as_tensor(bits(5, (6,)), dtype=torch.float64)
    theta = module.theta.detach().clone().requires_grad_(True)

    def f(th):
        return torch.func.functional_call(module, {"theta": th}, (x,), {"steps": 6, "initial": initial})

    assert torch.autograd.gradcheck(f, (theta,), eps=1e-6, atol=1e-7, rtol=1e-6)
    assert_gradient_matches_differences(f, (theta,))


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_backward_twice_with_retain_graph(backend):
    net = btype.random_network(3, 8, 1, layers=2, seed=0)
    module = sgd.RelaxedNetwork(net, init="random", backend=backend)
    out = module(torch.as_tensor(bits(0, (8, 3)), dtype=torch.float32)).sum()
    first, = torch.autograd.grad(out, module.theta, retain_graph=True)
    second, = torch.autograd.grad(out, module.theta)
    torch.testing.assert_close(first, second)


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_empty_batch_feedforward(backend):
    net = btype.random_network(3, 8, 2, layers=2, seed=0)
    module = sgd.RelaxedNetwork(net, init="bits", backend=backend)
    with torch.no_grad():
        out = module(torch.zeros((0, 3)))
    assert out.shape == btype.evaluate(net, np.zeros((0, 3), bool)).shape == (0, 2)


def test_empty_batch_clocked():
    net = btype.random_network(3, 8, 2, kind="recurrent", seed=0)
    out = sgd.RelaxedNetwork(net, init="bits")(torch.zeros((0, 3)), steps=3)
    assert out.shape == btype.run(net, np.zeros((0, 3), bool), 3).shape == (0, 2)


# --------------------------------------------------------------------------- harden

@given(net=networks(feedforward=False, min_inputs=0), scale=st.sampled_from([None, 0.01, 3.0]))
def test_harden_returns_the_bits(net, scale):
    module = sgd.RelaxedNetwork(net, init="bits", scale=scale)
    hard = module.harden()
    assert hard == net
    assert hard.link == net.link and hard.is_feedforward == net.is_feedforward


@pytest.mark.parametrize("link", ["switch", "turing"])
def test_harden_is_theta_positive_on_modified_links(link):
    net = btype.random_network(4, 50, 3, layers=5, seed=9, link=link, modified_fraction=0.6)
    module = sgd.RelaxedNetwork(net, init="bits")
    theta = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    theta[0] = 0.0  # exactly zero counts as interrupted (theta > 0 passes)
    with torch.no_grad():
        module.theta.copy_(torch.as_tensor(theta))
    expected = (theta > 0) | ~net.modifiers
    hard = module.harden()
    assert hard == net.with_enabled(expected)
    # the hardened machine is what "hard" mode computes
    X = bits(1, (65, 4))
    assert_bits_equal(module(torch.as_tensor(X, dtype=torch.float32), mode="hard"), btype.evaluate(hard, X))


# --------------------------------------------------------------------------- state_dict

def _roundtrip(state):
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer)


@pytest.mark.parametrize("kind", ["layered", "recurrent"])
@pytest.mark.parametrize("link", ["switch", "turing"])
def test_state_dict_round_trip(kind, link):
    net = btype.random_network(4, 30, 3, kind=kind, seed=1, link=link, modified_fraction=0.7)
    source = sgd.RelaxedNetwork(net, init="random", tau=0.6, seed=5)
    steps = None if kind == "layered" else 7
    x = torch.as_tensor(np.random.default_rng(2).random((65, 4)), dtype=torch.float32)
    expected = source(x, steps=steps).detach()
    state = _roundtrip(source.state_dict())

    # a module of the same shape but another wiring, modifier mask, link mode and
    # temperature, already run once (so it has cached its evaluation plan)
    other_net = btype.random_network(4, 30, 3, kind="recurrent", seed=99,
                                     link="turing" if link == "switch" else "switch", modified_fraction=0.3)
    target = sgd.RelaxedNetwork(other_net, init="bits", tau=2.0)
    target(x, steps=3)
    target.load_state_dict(state)
    rebuilt = sgd.RelaxedNetwork.from_state_dict(state)
    for module in (target, rebuilt):
        assert module.tau == 0.6 and module.link == link
        assert module.harden() == source.harden()
        torch.testing.assert_close(module.theta, source.theta, rtol=0, atol=0)
        torch.testing.assert_close(module(x, steps=steps), expected, rtol=0, atol=0)
        if kind == "layered":
            assert module.is_feedforward
            module(x)  # combinational evaluation allowed again


def test_from_state_dict_rejects_foreign_dicts():
    with pytest.raises(ValueError, match="missing"):
        sgd.RelaxedNetwork.from_state_dict({"theta": torch.zeros(3, 2)})


# --------------------------------------------------------------------------- learning

def truth_table(n):
    rows = np.arange(1 << n)
    return ((rows[:, None] >> np.arange(n)) & 1).astype(bool)


def parity3_targets(X):
    return (X.sum(axis=1) % 2 == 1)[:, None]


def mux6_targets(X):
    address = X[:, 0].astype(int) + 2 * X[:, 1].astype(int)
    return X[np.arange(len(X)), 2 + address][:, None]


# Deep, narrow switch-mode machines learn these reliably: with 2,048 gates in 20
# layers (reach 2), lr 0.1 and the "inverter" start, seeds 0-9 each solved both
# tasks within 210 steps when this test was written (with Adam and one segment, the options
# passed here; the truth-table defaults' 10 restarts would cut 600 steps into 60-step segments).
@pytest.mark.parametrize("name, n, targets", [("parity3", 3, parity3_targets), ("mux6", 6, mux6_targets)])
@pytest.mark.parametrize("seed", [0, 1])
def test_learns_exactly_after_hardening(name, n, targets, seed):
    task = btype.tasks.get(name)
    net = btype.random_network(n, 2048, 1, kind="layered", layers=20, reach=2, seed=seed)
    result = sgd.train(net, task, budget=btype.Budget(steps=600), device="cpu", seed=seed, progress=False,
                       lr=0.1, init="inverter", optimizer="adam", restarts=1)
    assert result.solved and result.train_fitness == 1.0
    assert result.trace[-1]["step"] < 600  # stopped at the target, not at the budget
    X = truth_table(n)
    np.testing.assert_array_equal(btype.evaluate(result.network, X), targets(X))
    assert result.network.wiring.tobytes() == net.wiring.tobytes()
    assert result.network.modifiers.tobytes() == net.modifiers.tobytes()


# --------------------------------------------------------------------------- errors

@pytest.fixture(scope="module")
def small():
    task = btype.tasks.get("mux6")
    net = btype.random_network(6, 64, 1, layers=4, reach=2, seed=0)
    return net, task


def test_nonfinite_loss_stops_with_the_last_good_state(small, monkeypatch, tmp_path):
    net, task = small
    loss = sgd_train.GradientRun._loss

    def poisoned(self, out, idx):  # the loss turns NaN from the 7th step on
        value = loss(self, out, idx)
        return value * float("nan") if self.step >= 6 else value

    monkeypatch.setattr(sgd_train.GradientRun, "_loss", poisoned)
    path = tmp_path / "run.ckpt"
    budget = btype.Budget(steps=12)
    result = sgd.train(net, task, budget=budget, device="cpu", seed=0, progress=False,
                       record_every=64 * 4, checkpoint_path=path, restarts=1)
    assert result.stop_reason == "nonfinite" and not result.interrupted
    assert [rec["step"] for rec in result.trace] == [0, 4]  # detected at the record of step 8
    assert result.train_fitness == task.score(result.network, "train").fitness
    # the checkpoint keeps the last good state; resuming without the poison finishes
    monkeypatch.undo()
    resumed = sgd.train(net, task, budget=budget, device="cpu", seed=0, progress=False,
                        record_every=64 * 4, checkpoint_path=path, resume=True, restarts=1)
    assert [rec["step"] for rec in resumed.trace] == [0, 4, 8, 12] and resumed.stop_reason == "steps"
    # continued from the checkpoint: the early records are copies, wall times included
    assert _same_records(resumed.trace[:2], result.trace)


def test_records_are_strict_json(small):
    # the step-0 record has no loss yet: null, not NaN (which strict JSON parsers refuse)
    net, task = small
    result = sgd.train(net, task, budget=btype.Budget(steps=3), device="cpu", progress=False)
    assert result.trace[0]["step"] == 0 and result.trace[0]["loss"] is None
    text = json.dumps(result.trace, allow_nan=False)
    assert json.loads(text) == result.trace


@pytest.mark.parametrize("limit", ["evaluations", "gate_evals"])
def test_budget_never_overrun(small, limit):
    # 64 rows a step: a limit between two steps stops before the step that would pass it
    net, task = small
    per_step = {"evaluations": 64, "gate_evals": 3 * 64 * 64}[limit]
    result = sgd.train(net, task, budget=btype.Budget(**{limit: 10 * per_step - 1}), device="cpu",
                       progress=False)
    assert result.stop_reason == limit
    assert result.trace[-1][limit] == 9 * per_step and result.trace[-1]["step"] == 9


def test_plateau_rule_and_target(small):
    net, task = small
    budget = btype.Budget(steps=10 ** 6, plateau=2, plateau_min=10 ** 6)
    result = sgd.train(net, task, budget=budget, device="cpu", progress=False, lr=1e-9)  # cannot move
    assert result.stop_reason == "plateau"
    best = max(rec["train_fitness"] for rec in result.trace)
    first = next(rec["gate_evals"] for rec in result.trace if rec["train_fitness"] == best)
    last = result.trace[-1]["gate_evals"]
    assert last >= max(2 * first, 10 ** 6)
    assert not budget.plateaued(result.trace[:-1])  # it stopped at the first record where the rule held
    target = sgd.train(net, task, budget=btype.Budget(steps=400, target=0.6), device="cpu", progress=False)
    assert target.stop_reason == "target" and target.train_fitness >= 0.6


@pytest.mark.parametrize("options, error", [
    (dict(bogus=1), TypeError),
    (dict(lr=0), ValueError),
    (dict(lr=float("nan")), ValueError),
    (dict(lr=True), ValueError),
    (dict(tau=-1.0), ValueError),
    (dict(eps=0.5), ValueError),
    (dict(record_growth=1.0), ValueError),
    (dict(tau_end=0), ValueError),
    (dict(batch_size=0), ValueError),
    (dict(batch_size=2.5), ValueError),
    (dict(record_every=0), ValueError),
    (dict(mode="sharp"), ValueError),
    (dict(init="zeros"), ValueError),
    (dict(optimizer="lbfgs"), ValueError),
    (dict(backend="cuda"), ValueError),
    (dict(straight_through=1), TypeError),
    (dict(amp=True), ValueError),
])
def test_bad_options(small, options, error):
    net, task = small
    with pytest.raises(error, match=next(iter(options))):
        sgd.train(net, task, budget=btype.Budget(steps=1), device="cpu", progress=False, **options)


@pytest.mark.parametrize("args, error", [
    (dict(net="net"), TypeError),
    (dict(task="mux6"), TypeError),
    (dict(budget=None), TypeError),
    (dict(seed=-1), ValueError),
    (dict(seed=2 ** 64), ValueError),
    (dict(seed=1.5), TypeError),
    (dict(resume=True), ValueError),
    (dict(checkpoint_path=3), TypeError),
    (dict(callback="stop"), TypeError),
    (dict(progress=1), TypeError),
    (dict(device="abacus"), ValueError),
])
def test_bad_arguments(small, args, error):
    net, task = small
    kwargs = dict(net=net, task=task, budget=btype.Budget(steps=1), device="cpu", progress=False)
    kwargs.update(args)
    with pytest.raises(error, match="budget" if "budget" in args else next(iter(args))):
        sgd.train(kwargs.pop("net"), kwargs.pop("task"), **kwargs)


def test_unknown_option_lists_the_valid_ones(small):
    net, task = small
    with pytest.raises(TypeError, match="bogus") as info:
        sgd.train(net, task, budget=btype.Budget(steps=1), progress=False, bogus=1)
    assert all(name in str(info.value) for name in sgd.DEFAULTS)


def test_wrong_machines_rejected(small):
    net, task = small
    with pytest.raises(ValueError):  # A-type: no modifier to train
        sgd.train(net.replace(modifiers=np.zeros((64, 2), bool)), task, budget=btype.Budget(steps=1),
                  device="cpu", progress=False)
    with pytest.raises(ValueError):  # 5 inputs for a 6-input task
        sgd.train(btype.random_network(5, 64, 1, seed=0), task, budget=btype.Budget(steps=1),
                  device="cpu", progress=False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_cuda(small):
    net, task = small
    with pytest.raises(ValueError, match="CUDA"):
        sgd.train(net, task, budget=btype.Budget(steps=1), device="cuda", progress=False)


def test_relaxed_network_argument_errors():
    ff = btype.random_network(3, 10, 2, layers=2, seed=0)
    loops = btype.random_network(3, 10, 2, kind="recurrent", seed=0)
    assert not loops.is_feedforward
    with pytest.raises(TypeError):
        sgd.RelaxedNetwork("net")
    with pytest.raises(ValueError):
        sgd.RelaxedNetwork(ff, init="zeros")
    with pytest.raises(ValueError):
        sgd.RelaxedNetwork(ff, backend="gpu")
    with pytest.raises(ValueError):
        sgd.RelaxedNetwork(ff, tau=0)
    with pytest.raises(TypeError):
        sgd.RelaxedNetwork(ff, tau="hot")
    with pytest.raises(ValueError):
        sgd.RelaxedNetwork(ff, scale=-1.0)
    with pytest.raises(TypeError):
        sgd.RelaxedNetwork(ff, seed=1.5)
    module = sgd.RelaxedNetwork(ff)
    x = torch.zeros((4, 3))
    with pytest.raises(TypeError):
        module(np.zeros((4, 3)))
    with pytest.raises(ValueError):
        module(x, mode="sharp")
    with pytest.raises(ValueError):
        module(torch.zeros((4, 2)))
    with pytest.raises(ValueError):
        module(x, initial=torch.zeros(10))  # initial needs steps
    with pytest.raises(ValueError):
        module(x, steps=-1)
    with pytest.raises(ValueError):
        module(x, steps=2, initial=torch.zeros(9))
    with pytest.raises(ValueError):
        module(torch.zeros((4, 2, 2)), steps=2)
    with pytest.raises(ValueError, match="loops"):
        sgd.RelaxedNetwork(loops)(x)
    with pytest.raises(ValueError, match="triton"):  # a module on the CPU
        sgd.RelaxedNetwork(ff, backend="triton")(x)


# --------------------------------------------------------------------------- checkpoint / resume

def _same_records(a, b):
    """Equal records, wall times included (those are only equal when copied)."""
    return (_deterministic(a) == _deterministic(b)
            and [rec["seconds"] for rec in a] == [rec["seconds"] for rec in b])


def _deterministic(trace):
    """Records without wall times."""
    return [{k: v for k, v in rec.items() if k != "seconds"} for rec in trace]


@pytest.fixture(scope="module")
def resume_setting():
    task = btype.tasks.get("mux6")
    net = btype.random_network(6, 48, 1, layers=4, reach=2, seed=1, modified_fraction=0.8)
    # minibatches (the sampler's permutation), gumbel noise (the generator) and a
    # temperature schedule (the budget's progress) all have to survive the restart
    options = dict(mode="gumbel", batch_size=16, tau_end=0.5, record_every=32, lr=0.05, init="random")
    return net, task, options


def _resume_run(setting, steps, seed=0, **more):
    net, task, options = setting
    return sgd.train(net, task, budget=btype.Budget(steps=steps), device="cpu", seed=seed, progress=False,
                     **dict(options, **more))


@pytest.fixture(scope="module")
def uninterrupted(resume_setting):
    result = _resume_run(resume_setting, 40)
    assert not result.solved and result.trace[-1]["step"] == 40  # the whole budget is used
    return result


def test_resume_after_callback_stop_equals_uninterrupted(resume_setting, uninterrupted, tmp_path):
    path = tmp_path / "run.ckpt"
    first = _resume_run(resume_setting, 40, checkpoint_path=path, callback=lambda rec: rec["step"] >= 14)
    assert first.trace[-1]["step"] == 14
    seen = []
    resumed = _resume_run(resume_setting, 40, checkpoint_path=path, resume=True,
                          callback=lambda rec: seen.append(rec["step"]))
    assert resumed.network == uninterrupted.network
    assert _deterministic(resumed.trace) == _deterministic(uninterrupted.trace)
    assert resumed.train_fitness == uninterrupted.train_fitness
    # it did continue (a fresh start would give the same result): only the later
    # records were made again, the earlier ones come from the checkpoint, wall times included
    assert seen == list(range(16, 41, 2))
    assert _same_records(resumed.trace[:8], first.trace)


def test_resume_without_checkpoint_starts_fresh(resume_setting, uninterrupted, tmp_path):
    resumed = _resume_run(resume_setting, 40, checkpoint_path=tmp_path / "none.ckpt", resume=True)
    assert resumed.network == uninterrupted.network
    assert _deterministic(resumed.trace) == _deterministic(uninterrupted.trace)
    assert (tmp_path / "none.ckpt").exists()


@pytest.fixture
def stopped_run(resume_setting, tmp_path):
    """A checkpoint of a run stopped by its callback at step 8."""
    path = tmp_path / "run.ckpt"
    _resume_run(resume_setting, 40, checkpoint_path=path, callback=lambda rec: rec["step"] >= 8)
    return path


def test_resume_refuses_another_runs_checkpoint(resume_setting, stopped_run):
    net, task, options = resume_setting
    other_task = btype.tasks.Task("mux6", task.X_train, ~task.Y_train, task.X_test, ~task.Y_test)
    other_wiring = btype.random_network(6, 48, 1, layers=4, reach=2, seed=2, modified_fraction=0.8)
    for change, field in [(dict(seed=1), "seed"), (dict(steps=41), "budget"), (dict(lr=0.051), "options"),
                          (dict(mode="soft"), "options"), (dict(task=other_task), "task"),
                          (dict(net=other_wiring), "wiring"),
                          (dict(net=net.with_enabled(~net.enabled | ~net.modifiers)), "wiring")]:
        change = dict(change)
        setting = (change.pop("net", net), change.pop("task", task), options)
        steps = change.pop("steps", 40)
        with pytest.raises(ValueError, match=f"{field} differs"):
            _resume_run(setting, steps, checkpoint_path=stopped_run, resume=True, **change)


def test_resume_refuses_damaged_files(resume_setting, tmp_path):
    path = tmp_path / "run.ckpt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable btype checkpoint"):
        _resume_run(resume_setting, 8, checkpoint_path=path, resume=True)


def _rewrite(path, resume_setting, change_meta=None, change_arrays=None):
    """Rewrite a checkpoint's state keeping its identity (as a forger would)."""
    data = _npz.read(path)
    identity = _npz.from_json_array(data.pop("__identity__"))
    meta = _npz.from_json_array(data.pop("__meta__"))
    arrays = {k: v for k, v in data.items() if not k.startswith("__")}
    if change_meta:
        change_meta(meta)
    if change_arrays:
        change_arrays(arrays)
    btype.checkpoint.save(path, identity=identity, meta=meta, arrays=arrays)


def _forge_solved(meta):
    for rec in meta["trace"]:
        rec["train_fitness"], rec["solved"] = 1.0, True


@pytest.mark.parametrize("forge, match", [
    (dict(change_meta=_forge_solved), "scores"),                       # 11.7: re-scored, not trusted
    (dict(change_meta=lambda m: m.update(step=-1)), "step"),
    (dict(change_meta=lambda m: m.update(evaluations=10 ** 30)), "evaluations"),
    (dict(change_meta=lambda m: m.update(elapsed="soon")), "elapsed"),
    (dict(change_meta=lambda m: m.update(trace=[])), "trace"),
    (dict(change_meta=lambda m: m["trace"].pop()), "last record"),
    (dict(change_arrays=lambda a: a.update(theta=np.full((48, 2), np.nan, np.float32))), "theta"),
    (dict(change_arrays=lambda a: a.update(theta=np.zeros((48, 3), np.float32))), "shape"),
    (dict(change_arrays=lambda a: a.update(perm=np.zeros(64, np.int64))), "permutation"),
    (dict(change_arrays=lambda a: a.update(generator=np.zeros_like(a["generator"]))), "all zero"),
    (dict(change_arrays=lambda a: a.update(generator=np.ones(7, np.uint8))), "generator"),
    (dict(change_arrays=lambda a: a.update({"opt.exp_avg_sq": -a["opt.exp_avg_sq"] - 1})), "negative"),
    (dict(change_arrays=lambda a: a.pop("opt.exp_avg")), "optimizer state"),
    (dict(change_arrays=lambda a: a.update(best_enabled=np.zeros((48, 2), bool))), "best"),
])
def test_resume_validates_the_restored_state(resume_setting, stopped_run, forge, match):
    _rewrite(stopped_run, resume_setting, **forge)
    with pytest.raises(ValueError, match=match):
        _resume_run(resume_setting, 40, checkpoint_path=stopped_run, resume=True)


def test_checkpoint_holds_no_pickle_and_no_torch_files(resume_setting, stopped_run):
    # every member is a plain array (the reader refuses object arrays); the file is a zip of .npy
    import zipfile
    names = zipfile.ZipFile(stopped_run).namelist()
    assert all(name.endswith(".npy") for name in names)
    data = _npz.read(stopped_run)
    assert all(a.dtype.kind in "biufU" for a in data.values())
    assert str(data["__format__"]) == btype.checkpoint.FORMAT


def test_plan_levels_are_the_networks_levels():
    """The relaxation's per-level passes group the gates exactly as ``Network.levels`` does."""
    net = btype.random_network(5, 60, 4, layers=6, reach=3, seed=9)
    plan = sgd.RelaxedNetwork(net)._plan(torch.device("cpu"))
    levels = net.levels()
    assert len(plan.levels) == levels.max()
    for k, (span, gates, sources) in enumerate(plan.levels, start=1):
        np.testing.assert_array_equal(gates.numpy(), np.flatnonzero(levels == k))
        np.testing.assert_array_equal(sources.numpy(), np.asarray(net.wiring)[gates.numpy()].ravel())
        if span is not None:
            assert span == (int(gates[0]), int(gates[-1]) + 1)


def test_forward_with_given_enables_is_the_machine_with_those_bits():
    # enables= replaces the module's own modifier states: 0/1 enables are exactly the
    # machine with those bits, as the btype simulator evaluates it.
    net = btype.random_network(5, 60, 3, layers=4, seed=3)
    relaxed = sgd.RelaxedNetwork(net, init="bits")
    bits = np.random.default_rng(0).random((net.n_gates, 2)) < 0.5
    X = np.array([[(r >> i) & 1 for i in range(5)] for r in range(32)], dtype=bool)
    out = relaxed(torch.as_tensor(X, dtype=torch.float32), enables=torch.as_tensor(bits, dtype=torch.float32))
    np.testing.assert_array_equal(out.detach().numpy() > 0.5, btype.evaluate(net.with_enabled(bits), X))
    with pytest.raises(ValueError, match="enables"):
        relaxed(torch.zeros(2, 5), enables=torch.zeros(3, 2))
