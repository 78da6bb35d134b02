"""Every public entry point rejects bad input with an error that names it."""
import io
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

import btype
from btype import reference
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
    (dict(wiring=[[0, 1], [0]]), ValueError, r"wiring must be a rectangular array, got \[\[0, 1\], \[0\]\]"),
    (dict(wiring=[[0, 1], [0, [2]]]), ValueError, "wiring must be a rectangular array"),
    (dict(enabled=[[True, True], [True]]), ValueError, "enabled must be a rectangular array"),
    (dict(outputs=[3, [3]]), ValueError, "outputs must be a rectangular array"),
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


def saved_fields(tmp_path):
    """The arrays of a saved 2-input, 2-gate network, to be damaged by a test."""
    make().save(tmp_path / "ok.npz")
    with np.load(tmp_path / "ok.npz") as data:
        return dict(data)


@pytest.mark.parametrize("change, words", [
    (dict(format=np.array(["btype.Network"])), "array 'format' has shape (1,), expected ()"),
    (dict(version=np.array([1])), "array 'version' has shape (1,), expected ()"),
    (dict(format=np.array("other.Thing")), "format 'other.Thing', expected 'btype.Network'"),
    (dict(n_inputs=np.array(3.9)), "array 'n_inputs' has dtype float64, expected 'iu'"),
    (dict(n_inputs=np.array("3")), "array 'n_inputs' has dtype <U1, expected 'iu'"),
    (dict(n_inputs=np.array(True)), "array 'n_inputs' has dtype bool, expected 'iu'"),
    (dict(version=np.array(1.0)), "array 'version' has dtype float64"),
    (dict(enabled=np.ones((3, 2), bool)), "array 'enabled' has shape (3, 2) but wiring has 2 gates"),
    (dict(modifiers=np.ones((2, 3), bool)), "array 'modifiers' has shape (2, 3), expected (None, 2)"),
    (dict(link=np.array(["switch"])), "array 'link' has shape (1,)"),
    (dict(extra=np.zeros(2)), "unexpected array(s) ['extra']"),
])
def test_load_checks_every_field(tmp_path, change, words):
    data = saved_fields(tmp_path)
    data.update(change)
    np.savez(tmp_path / "bad.npz", **data)
    with pytest.raises(ValueError) as info:
        btype.Network.load(tmp_path / "bad.npz")
    assert "bad.npz" in str(info.value) and words in str(info.value), str(info.value)


def test_load_refuses_npy_and_damaged_deflate_streams(tmp_path):
    np.save(tmp_path / "plain.npy", np.arange(4))
    with pytest.raises(ValueError, match=r"plain\.npy.*not an \.npz archive"):
        btype.Network.load(tmp_path / "plain.npy")
    net = btype.random_network(4, 2000, 3, seed=1)
    net.save(tmp_path / "net.npz")
    with zipfile.ZipFile(tmp_path / "net.npz") as archive:
        info = archive.getinfo("wiring.npy")
    assert info.compress_type == zipfile.ZIP_DEFLATED
    raw = bytearray((tmp_path / "net.npz").read_bytes())
    # The member's data follow its 30-byte local header, name and extra field.
    name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    raw[start + info.compress_size // 2:start + info.compress_size // 2 + 64] = b"\xff" * 64
    (tmp_path / "broken.npz").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"broken\.npz.*damaged"):
        btype.Network.load(tmp_path / "broken.npz")
    with pytest.raises(ValueError, match="over the limit of 1,000"):
        btype.Network.load(tmp_path / "net.npz", max_bytes=1000)
    assert btype.Network.load(tmp_path / "net.npz") == net


def test_load_checks_shapes_before_reading_a_compressed_bomb(tmp_path):
    """A ~100 KB file whose 'enabled' inflates to 100 MB is refused without inflating it."""
    data = saved_fields(tmp_path)
    path = tmp_path / "bomb.npz"
    rows = 50_000_000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, value in data.items():
            if name != "enabled":
                archive.writestr(name + ".npy", npy_bytes(value))
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "|b1", "fortran_order": False,
                                                      "shape": (rows, 2)})
        with archive.open("enabled.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            chunk = bytes(1 << 20)
            for _ in range(2 * rows // len(chunk)):
                member.write(chunk)
            member.write(bytes(2 * rows % len(chunk)))
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"array 'enabled' has shape \(50000000, 2\) but wiring has 2"):
            btype.Network.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 << 20, f"peak {peak:,} bytes while refusing the file"


def npy_bytes(value):
    buffer = io.BytesIO()
    np.save(buffer, value)
    return buffer.getvalue()


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
    (dict(seed=-1), ValueError, r"seed must be in \[0, 2\*\*63 - 1\], got -1"),
    (dict(seed=2**63), ValueError, r"seed must be in \[0, 2\*\*63 - 1\], got 9223372036854775808"),
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


def test_sizes_are_checked_before_anything_is_allocated():
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"n_gates must be in \[1, 134217728\], got 10000000000"):
            btype.random_network(3, 10**10, 2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    for n in (2**63, 10**12, 2**32 + 1):
        with pytest.raises(ValueError, match=r"n_inputs must be in \[0, 4294967296\]"):
            btype.Network(n, [[0, 1]], [0])
    with pytest.raises(ValueError, match="n_inputs"):
        btype.random_network(2**63, 10, 2)
    # inputs and gates together: a node id has to stay a node id
    with pytest.raises(ValueError, match="MAX_NODES"):
        btype.Network(2**32, [[0, 1]], [0])
    assert btype.Network(2**32 - 1, np.zeros((0, 2), int), [0]).n_nodes == 2**32 - 1
    with pytest.raises(TypeError, match="n_samples"):
        btype.unpack(np.zeros((1, 1), np.uint64), True)


def test_run_refuses_unbounded_work_and_says_how_to_allow_it():
    loop = btype.Network(1, [[0, 2], [1, 1]], [2])          # two gates, a loop
    X = np.array([[0], [1], [1]], bool)                      # 3 samples: one 64-sample word
    with pytest.raises(ValueError, match=r"max_gate_evals.*pass a larger max_gate_evals="):
        btype.run(loop, X, steps=10**12)
    with pytest.raises(ValueError, match="steps"):
        btype.run(loop, X, steps=2**62 + 1, max_gate_evals=2**80)
    # the work is steps x gates x samples in whole words: 10 x 2 x 64 = 1280
    with pytest.raises(ValueError, match="1.28e\\+03 gate evaluations"):
        btype.run(loop, X, steps=10, max_gate_evals=1279)
    out = btype.run(loop, X, steps=10, max_gate_evals=1280)
    np.testing.assert_array_equal(out, reference.run(loop, X, 10))
    with pytest.raises(TypeError, match="max_gate_evals"):
        btype.run(loop, X, steps=10, max_gate_evals=1e6)


def test_a_refused_flip_changes_nothing():
    partial = make(modifiers=[[True, False], [True, True]], enabled=[[True, True], [True, True]])
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], bool)
    delta = DeltaEvaluator(partial, X)
    before = delta.values.copy()
    # the first link is fine; the kernel checks them all before it flips any
    for links, match in (([[0, 0], [0, 1]], r"link \[0, 1\] carries no modifier"),
                         ([[1, 0], [1, 2]], r"links contains \[1, 2\]"),
                         ([[1, 0], [-1, 0]], r"links contains \[-1, 0\]"),
                         (np.array([[1, 0], [2**63, 0]], np.uint64), r"links contains \[9223372036854775808, 0\]")):
        with pytest.raises(ValueError, match=match):
            delta.flip(links)
        np.testing.assert_array_equal(delta.values, before)
        assert delta.network == partial and delta.recomputed == 0
    with pytest.raises(TypeError, match="links"):
        delta.flip([[0.0, 1.0]])
