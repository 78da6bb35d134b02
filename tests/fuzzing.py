"""Shared machinery of the fuzz tests: byte mutations and a worker process that reads files.

The worker imports btype once and answers one request per line, so a crash (segfault,
abort) or a hang (no answer within HANG_SECONDS, a guard far above any honest read of
the small files the tests write) fails the test instead of taking pytest down or
stalling it. ``Worker(extra=..., kinds=...)`` adds readers of its own: ``extra`` is code
defining functions ``f(kind, path) -> JSON-able``, ``kinds`` maps a kind to one of them.
"""
import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

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

EXTRA = {}

for line in sys.stdin:
    kind, path = line.rstrip("\n").split("\t")
    try:
        answer = ["ok", (globals()[EXTRA[kind]] if kind in EXTRA else summary)(kind, path)]
    except (ValueError, TypeError) as exc:
        answer = ["refused", type(exc).__name__, str(exc)]
    except Exception as exc:
        answer = ["other", type(exc).__name__, traceback.format_exc()]
    print(json.dumps(answer), flush=True)
"""


class Worker:
    """One reader process; ``read(kind, path)`` returns its answer or fails the test."""

    def __init__(self, extra="", kinds=None):
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        code = WORKER.replace("EXTRA = {}", f"{extra}\nEXTRA = {dict(kinds or {})!r}")
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
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


