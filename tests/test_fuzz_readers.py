"""Random byte mutations of valid files: each reader gives a correct result or a ValueError/TypeError.

The readers run in a worker process (tests/fuzzing.py), so a crash or a hang fails
the test instead of taking pytest down or stalling it. Hypothesis draws the
mutations; the examples per test are bounded so that each runs in seconds.
"""
import functools
import gzip
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import btype
from btype.tasks import read_pla
from fuzzing import FUZZ, Worker, mutate, mutations


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    yield w
    w.close()


def pla_bytes():
    rng = np.random.default_rng(0)
    rows = rng.permutation(64)[:12]
    X = (rows[:, None] >> np.arange(6)) & 1 == 1
    head = b"# fuzz seed\n.i 6\n.o 2\n.ilb a b c d e f\n.ob y z\n.p 14\n.type fr\n"
    body = b"".join(("".join("01"[int(v)] for v in x) + " " + "01-~"[j % 4] + "01"[j % 2] + "\n").encode()
                    for j, x in enumerate(X))
    return head + body + b"1-0-1- 1~\n---110 ~0\n.e\n"


FD_PLA = b".i 4\n.o 2\n.type fd\n1-0- 1-\n-11- 01\n0000 -1\n.e\n"


@FUZZ
@given(mutation=mutations(12), which=st.sampled_from(["fr", "fd", "fr.gz"]))
def test_fuzz_pla(tmp_path_factory, worker, mutation, which):
    seed = FD_PLA if which == "fd" else pla_bytes()
    data = mutate(seed if which != "fr.gz" else gzip.compress(seed, mtime=0), mutation)
    path = tmp_path_factory.mktemp("pla") / ("m.pla.gz" if which == "fr.gz" else "m.pla")
    path.write_bytes(data)
    answer = worker.read("pla", path)
    if answer[0] == "ok":
        got = answer[1]
        X, Y, care = (np.array(got[k], dtype=bool).reshape(len(got["X"]), -1) for k in ("X", "Y", "care"))
        assert len(X) == len(Y) == len(care) > 0 and care.any(axis=1).all()
        # The same rows written out as a plain fr file ('~' where don't-care) read back the same.
        again = tmp_path_factory.mktemp("again") / "a.pla"
        outs = np.where(care, np.where(Y, "1", "0"), "~")
        again.write_text(f".i {X.shape[1]}\n.o {Y.shape[1]}\n.type fr\n" + "".join(
            "".join("01"[int(v)] for v in x) + " " + "".join(o) + "\n" for x, o in zip(X, outs)))
        back = read_pla(again)
        assert np.array_equal(back.X, X) and np.array_equal(back.care, care)
        assert np.array_equal(back.Y & back.care, Y & care)


def idx_bytes(gz):
    array = np.arange(2 * 3 * 5, dtype=">i2").reshape(2, 3, 5) - 7
    raw = bytes([0, 0, 0x0B, 3]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape) + array.tobytes()
    return gzip.compress(raw, mtime=0) if gz else raw


@FUZZ
@given(mutation=mutations(8), gz=st.booleans())
def test_fuzz_idx(tmp_path_factory, worker, mutation, gz):
    data = mutate(idx_bytes(gz), mutation)
    path = tmp_path_factory.mktemp("idx") / ("m.idx.gz" if gz else "m.idx")
    path.write_bytes(data)
    answer = worker.read("idx", path)
    if answer[0] == "ok":
        got = answer[1]
        # Exactly the file's bytes: magic, big-endian sizes, then the data in big-endian order.
        raw = gzip.decompress(data) if gz else data
        dtype = np.dtype(got["dtype"])
        values = np.frombuffer(bytes.fromhex(got["hex"]), dtype).reshape(got["shape"])
        header = raw[:4 + 4 * len(got["shape"])]
        assert raw[:2] == b"\0\0" and raw[3] == len(got["shape"])
        assert header[4:] == b"".join(int(d).to_bytes(4, "big") for d in got["shape"])
        assert raw[len(header):] == values.astype(dtype.newbyteorder(">")).tobytes()


@functools.lru_cache(maxsize=None)
def network_bytes(compressed):
    net = btype.random_network(3, 12, 2, seed=5, modified_fraction=0.7)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "seed.npz"
        net.save(path)
        if not compressed:
            with np.load(path) as data:
                np.savez(path, **dict(data))
        return path.read_bytes()


@FUZZ
@given(mutation=mutations(16), compressed=st.booleans())
def test_fuzz_network_load(tmp_path_factory, worker, mutation, compressed):
    folder = tmp_path_factory.mktemp("net")
    data = mutate(network_bytes(compressed), mutation)
    path = folder / "m.npz"
    path.write_bytes(data)
    answer = worker.read("net", path)
    if answer[0] == "ok":
        got = answer[1]
        # zipfile and numpy's .npy reader see the same arrays in the file.
        with zipfile.ZipFile(path) as archive:
            stored = {}
            for name in archive.namelist():
                with archive.open(name) as member:
                    stored[name[:-4]] = np.lib.format.read_array(member, allow_pickle=False)
        assert int(stored["n_inputs"]) == got["n_inputs"] and str(stored["link"]) == got["link"]
        for name in ("wiring", "outputs", "enabled", "modifiers"):
            assert stored[name].tolist() == got[name], name
