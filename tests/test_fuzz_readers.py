"""Random byte mutations of valid files: each reader gives a correct result or a ValueError/TypeError.

The readers run in a separate worker process that imports btype once and reads
one file per request, so a crash (segfault, abort) or a hang (no answer within
HANG_SECONDS, a guard far above any honest read of these small files) fails the
test instead of taking pytest down or stalling it. Hypothesis draws the
mutations; the examples per test are bounded so that each runs in seconds.
"""
import functools
import gzip
import json
import os
import select
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import btype
from btype.tasks import read_pla

HANG_SECONDS = 60
EXAMPLES = 100

WORKER = r"""
import json, sys, traceback
import numpy as np
import btype
from btype.tasks import read_idx, read_pla

def summary(kind, path):
    if kind == "pla":
        pla = read_pla(path, max_rows=1 << 16, max_cells=1 << 22)
        return {"X": pla.X.astype(int).tolist(), "Y": pla.Y.astype(int).tolist(),
                "care": pla.care.astype(int).tolist(), "type": pla.type}
    if kind == "idx":
        data = read_idx(path, max_bytes=1 << 20)
        return {"dtype": data.dtype.str, "shape": list(data.shape), "hex": data.tobytes().hex()}
    net = btype.Network.load(path, max_bytes=1 << 20)
    return {"n_inputs": net.n_inputs, "wiring": net.wiring.tolist(), "outputs": net.outputs.tolist(),
            "enabled": net.enabled.tolist(), "modifiers": net.modifiers.tolist(), "link": net.link}

for line in sys.stdin:
    kind, path = line.rstrip("\n").split("\t")
    try:
        answer = ["ok", summary(kind, path)]
    except (ValueError, TypeError) as exc:
        answer = ["refused", type(exc).__name__, str(exc)]
    except Exception as exc:
        answer = ["other", type(exc).__name__, traceback.format_exc()]
    print(json.dumps(answer), flush=True)
"""


class Worker:
    """One reader process; ``read(kind, path)`` returns its answer or fails the test."""

    def __init__(self):
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    def read(self, kind, path):
        self.proc.stdin.write(f"{kind}\t{path}\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], HANG_SECONDS)
        if not ready:
            self.proc.kill()
            pytest.fail(f"reader hung on {path} (no answer in {HANG_SECONDS} s)")
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            pytest.fail(f"reader crashed on {path} with exit code {code}: {self.proc.stderr.read()[-2000:]}")
        answer = json.loads(line)
        assert answer[0] != "other", f"{path}: {answer[1]} is neither ValueError nor TypeError:\n{answer[2]}"
        return answer

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=HANG_SECONDS)


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    yield w
    w.close()


def mutations(max_size):
    """(position fraction, byte) replacements, an optional cut and an optional insertion."""
    edit = st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255))
    return st.tuples(st.lists(edit, min_size=0, max_size=8), st.none() | st.floats(0, 1),
                     st.none() | st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=max_size)))


def mutate(data, mutation):
    edits, cut, insert = mutation
    data = bytearray(data)
    for where, value in edits:
        if data:
            data[int(where * len(data))] = value
    if insert is not None:
        at = int(insert[0] * len(data))
        data[at:at] = insert[1]
    if cut is not None:
        data = data[: int(cut * len(data))]
    return bytes(data)


FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


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
