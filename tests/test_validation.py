"""Every public entry point rejects bad input with an error that names it."""
import numpy as np
import pytest

import btype
from btype.simulate import DeltaEvaluator


def make(**kw):
    args = dict(n_inputs=2, wiring=[[0, 1], [0, 2]], outputs=[3])
    args.update(kw)
    return btype.Network(**args)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_inputs=-1), ValueError, "n_inputs"),
    (dict(n_inputs=2.0), TypeError, "n_inputs"),
    (dict(wiring=[[0, 1, 2]]), ValueError, "wiring"),
    (dict(wiring=[0, 1]), ValueError, "wiring"),
    (dict(wiring=[[0.0, 1.0]]), TypeError, "wiring"),
    (dict(wiring=[[0, 1], [0, 7]]), ValueError, r"wiring\[1, 1\] = 7"),
    (dict(wiring=[[0, -1], [0, 2]]), ValueError, r"wiring\[0, 1\] = -1"),
    (dict(outputs=[4]), ValueError, r"outputs\[0\] = 4"),
    (dict(outputs=[[3]]), ValueError, "outputs"),
    (dict(link="nand"), ValueError, "link"),
    (dict(enabled=[[True, True]]), ValueError, "enabled"),
    (dict(enabled=[[1, 2], [1, 1]]), TypeError, "enabled"),
    (dict(modifiers=[[True, False], [True, True]], enabled=[[True, False], [True, True]]),
     ValueError, r"enabled\[0, 1\].*no modifier"),
])
def test_network_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        make(**kwargs)


def test_network_is_immutable():
    net = make()
    with pytest.raises(AttributeError):
        net.link = "turing"
    with pytest.raises(ValueError):
        net.enabled[0, 0] = False


def test_save_load_round_trip(tmp_path):
    net = btype.random_network(4, 50, 3, seed=2, link="turing", modified_fraction=0.6)
    net.save(tmp_path / "m.npz")
    back = btype.Network.load(tmp_path / "m.npz")
    assert back == net
    for name in ("wiring", "outputs", "enabled", "modifiers"):
        assert getattr(back, name).dtype == getattr(net, name).dtype


def test_load_rejects_corrupt_and_foreign_files(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="junk.npz"):
        btype.Network.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "foreign.npz", a=np.arange(3))
    with pytest.raises(ValueError, match="not a btype network"):
        btype.Network.load(tmp_path / "foreign.npz")
    net = make()
    net.save(tmp_path / "ok.npz")
    data = dict(np.load(tmp_path / "ok.npz"))
    data["version"] = np.array(99)
    np.savez(tmp_path / "future.npz", **data)
    with pytest.raises(ValueError, match="version 99"):
        btype.Network.load(tmp_path / "future.npz")
    data["version"] = np.array(1)
    data["wiring"] = np.array([[0, 1], [0, 9]])
    np.savez(tmp_path / "bad.npz", **data)
    with pytest.raises(ValueError, match="invalid network"):
        btype.Network.load(tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError):
        btype.Network.load(tmp_path / "missing.npz")


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_inputs=-1), ValueError, "n_inputs"),
    (dict(n_gates=0), ValueError, "n_gates"),
    (dict(n_outputs=99), ValueError, "n_outputs"),
    (dict(kind="grid"), ValueError, "kind"),
    (dict(layers=500), ValueError, "layers"),
    (dict(reach=0), ValueError, "reach"),
    (dict(modified_fraction=1.5), ValueError, "modified_fraction"),
    (dict(link="x"), ValueError, "link"),
    (dict(seed=1.5), TypeError, "seed"),
    (dict(n_inputs=0), ValueError, "n_inputs"),
])
def test_random_network_validation(kwargs, error, match):
    args = dict(n_inputs=3, n_gates=20, n_outputs=2)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        btype.random_network(**args)


def test_random_network_shapes_and_determinism():
    a = btype.random_network(5, 100, 4, layers=5, reach=2, seed=7, modified_fraction=0.5)
    assert a == btype.random_network(5, 100, 4, layers=5, reach=2, seed=7, modified_fraction=0.5)
    assert a != btype.random_network(5, 100, 4, layers=5, reach=2, seed=8, modified_fraction=0.5)
    assert a.is_feedforward and a.n_modified == 100
    np.testing.assert_array_equal(a.outputs, 5 + np.arange(96, 100))
    # each port reads a node of the previous `reach` layers (layer sizes 20, inputs = layer 0)
    layer_of_node = np.concatenate([np.zeros(5, int), 1 + np.arange(100) // 20])
    gate_layer = layer_of_node[5:]
    src_layer = layer_of_node[a.wiring]
    assert ((gate_layer[:, None] - src_layer >= 1) & (gate_layer[:, None] - src_layer <= 2)).all()
    assert btype.random_network(5, 50, 2, modified_fraction=0.0).n_modified == 0
    r = btype.random_network(0, 30, 3, kind="recurrent", seed=1)
    assert r.n_inputs == 0 and r.wiring.max() < 30


def test_simulator_validation():
    net = make()
    X = np.zeros((4, 2), bool)
    with pytest.raises(TypeError, match="net"):
        btype.evaluate("net", X)
    with pytest.raises(ValueError, match="2 inputs"):
        btype.evaluate(net, np.zeros((4, 3), bool))
    with pytest.raises(TypeError, match="X"):
        btype.evaluate(net, np.full((4, 2), 0.5))
    with pytest.raises(ValueError, match="X"):
        btype.evaluate(net, np.zeros(4, bool))
    loop = btype.Network(1, [[0, 1]], [1])
    with pytest.raises(ValueError, match="feed-forward"):
        btype.evaluate(loop, np.zeros((2, 1), bool))
    with pytest.raises(TypeError, match="P"):
        btype.evaluate_packed(net, np.zeros((2, 1), np.int64))
    with pytest.raises(ValueError, match="P"):
        btype.evaluate_packed(net, np.zeros((3, 1), np.uint64))
    with pytest.raises(ValueError, match="steps"):
        btype.run(net, X, steps=-1)
    with pytest.raises(TypeError, match="steps"):
        btype.run(net, X, steps=2.5)
    with pytest.raises(ValueError, match="initial"):
        btype.run(net, X, steps=2, initial=np.zeros(5, bool))
    with pytest.raises(TypeError, match="record"):
        btype.run(net, X, steps=2, record="yes")
    with pytest.raises(ValueError, match="threads"):
        btype.evaluate(net, X, threads=0)
    with pytest.raises(ValueError, match="n_samples"):
        btype.unpack(np.zeros((1, 1), np.uint64), 65)
    partial = make(modifiers=[[True, False], [True, True]], enabled=[[True, True], [True, True]])
    delta = DeltaEvaluator(partial, X)
    with pytest.raises(ValueError, match="no modifier"):
        delta.flip([[0, 1]])
    with pytest.raises(ValueError, match="links"):
        delta.flip([[5, 0]])
