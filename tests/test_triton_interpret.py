"""The Triton backend of ``sgd.RelaxedNetwork`` on the CPU, in Triton's interpreter.

With ``TRITON_INTERPRET=1`` Triton runs the same kernels that the GPU runs, one
program at a time on numpy arrays, so CI checks the GPU code without a GPU:

- with saturated enables and 0/1 inputs the Triton forward pass equals
  ``btype.evaluate`` bit for bit (both link modes, B- and WB-types);
- with random enables its outputs and its theta gradients equal the numba
  backend's (float32 rounding apart; the Triton backward adds with atomics in
  another order), in the soft and straight-through hard modes, for batches
  below, at and above one column block.
"""
import importlib
import os

import numpy as np
import pytest

import btype

torch = pytest.importorskip("torch")
sgd = pytest.importorskip("sgd")
_ops = importlib.import_module("sgd._ops")

# Triton decides at import time whether its kernels are interpreted.
_OLD_FLAG = os.environ.get("TRITON_INTERPRET")


def _restore_flag():
    if _OLD_FLAG is None:
        os.environ.pop("TRITON_INTERPRET", None)
    else:
        os.environ["TRITON_INTERPRET"] = _OLD_FLAG


os.environ["TRITON_INTERPRET"] = "1"
try:
    _triton = importlib.import_module("sgd._triton")
except ImportError:
    pytest.skip("triton is not installed (pip install triton)", allow_module_level=True)
finally:
    _restore_flag()  # set again by the fixture while these tests run, not during collection
if not _triton.INTERPRETED:
    pytest.skip("triton was imported before TRITON_INTERPRET=1 could be set; run this file on its own",
                allow_module_level=True)


@pytest.fixture(scope="module", autouse=True)
def interpreter():
    """TRITON_INTERPRET=1 while these tests run (sgd refuses Triton on the CPU without it)."""
    os.environ["TRITON_INTERPRET"] = "1"
    yield
    _restore_flag()


def machine(link, fraction=1.0, seed=0, n_inputs=5, n_gates=48, n_outputs=3, layers=6, reach=2):
    return btype.random_network(n_inputs, n_gates, n_outputs, kind="layered", layers=layers,
                                reach=reach, seed=seed, link=link, modified_fraction=fraction)


def inputs(seed, n_samples, n_inputs, soft=False):
    rng = np.random.default_rng(seed)
    X = rng.random((n_samples, n_inputs)) if soft else rng.random((n_samples, n_inputs)) < 0.5
    return X, torch.as_tensor(X, dtype=torch.float32)


def outputs_and_grads(net, backend, x, mode, seed, weights):
    module = sgd.RelaxedNetwork(net, init="random", tau=0.8, seed=seed, backend=backend)
    out = module(x, mode=mode)
    (out * weights).sum().backward()
    return out.detach(), module.theta.grad


def test_interpreted_triton_is_a_cpu_backend():
    assert _ops.pick_backend("triton", "cpu") == "triton"
    assert _ops.pick_backend("auto", "cpu") == "numba"  # asked for by name only


@pytest.mark.parametrize("link", ["switch", "turing"])
@pytest.mark.parametrize("fraction", [0.5, 1.0])
def test_forward_with_bits_equals_evaluate(link, fraction):
    for seed, S in [(0, 1), (1, 70), (2, 300)]:
        net = machine(link, fraction, seed)
        net = net.with_enabled((np.random.default_rng(seed).random((48, 2)) < 0.6) | ~net.modifiers)
        X, x = inputs(seed, S, net.n_inputs)
        out = sgd.RelaxedNetwork(net, init="bits", backend="triton")(x, mode="hard")
        values = out.detach().numpy()
        assert np.isin(values, (0.0, 1.0)).all()
        np.testing.assert_array_equal(values.astype(bool), btype.evaluate(net, X))


@pytest.mark.parametrize("link", ["switch", "turing"])
@pytest.mark.parametrize("mode", ["soft", "hard"])
@pytest.mark.parametrize("n_samples", [3, 128, 300])
def test_forward_and_theta_gradient_equal_numba(link, mode, n_samples):
    net = machine(link, 0.75, seed=n_samples)
    _, x = inputs(n_samples, n_samples, net.n_inputs, soft=True)
    weights = torch.as_tensor(np.random.default_rng(7).normal(size=(n_samples, net.n_outputs)),
                              dtype=torch.float32)
    out_t, grad_t = outputs_and_grads(net, "triton", x, mode, 3, weights)
    out_n, grad_n = outputs_and_grads(net, "numba", x, mode, 3, weights)
    np.testing.assert_allclose(out_t.numpy(), out_n.numpy(), rtol=0, atol=1e-6)
    scale = float(grad_n.abs().max())
    assert scale > 0
    np.testing.assert_allclose(grad_t.numpy(), grad_n.numpy(), rtol=1e-4, atol=1e-5 * scale)


def test_level_gates_not_contiguous():
    # a hand-wired machine whose first level holds gates 0 and 2 (not a contiguous span)
    net = btype.Network(2, [[0, 1], [2, 2], [0, 1], [3, 4], [5, 4]], outputs=[5, 6])
    plan = sgd.RelaxedNetwork(net)._plan("cpu")
    assert any(span is None for span, _, _ in plan.levels)
    for link in ("switch", "turing"):
        net = btype.Network(2, net.wiring, net.outputs, link=link)
        _, x = inputs(4, 9, 2, soft=True)
        weights = torch.ones((9, 2))
        out_t, grad_t = outputs_and_grads(net, "triton", x, "soft", 5, weights)
        out_n, grad_n = outputs_and_grads(net, "numba", x, "soft", 5, weights)
        np.testing.assert_allclose(out_t.numpy(), out_n.numpy(), atol=1e-6)
        np.testing.assert_allclose(grad_t.numpy(), grad_n.numpy(), rtol=1e-4, atol=1e-6)
