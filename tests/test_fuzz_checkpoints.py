"""Random byte mutations of both checkpoint kinds (search and sgd): resuming from a damaged
checkpoint either continues exactly as from the intact one or is refused with a
ValueError/TypeError; never another exception, a crash or a hang.

The resumes run in a worker process (tests/fuzzing.py), so a crash or a
hang fails the test instead of taking pytest down.
"""
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

import btype
from fuzzing import FUZZ, Worker, mutate, mutations

RESUME = r"""
def resume(kind, path):
    task = btype.tasks.get("parity3")
    net = btype.random_network(3, 24, 1, layers=4, reach=2, seed=2)
    method = "es" if kind == "ckpt-es" else "sgd"
    budget = btype.Budget(evaluations=600) if method == "es" else btype.Budget(steps=12)
    result = btype.trainer(method)(net, task, budget=budget, seed=1, progress=False,
                                   checkpoint_path=path, resume=True)
    return {"enabled": result.network.enabled.tolist(),
            "trace": [{k: v for k, v in r.items() if not k.endswith("seconds")} for r in result.trace]}
"""


@pytest.fixture(scope="module")
def worker():
    w = Worker(extra=RESUME, kinds={"ckpt-es": "resume", "ckpt-sgd": "resume"})
    yield w
    w.close()


@pytest.fixture(scope="module")
def intact(worker):
    """(checkpoint bytes, resumed result) of a run stopped half-way, for each kind."""
    out = {}
    folder = Path(tempfile.mkdtemp())
    for kind, method, budget in (("ckpt-es", "es", btype.Budget(evaluations=600)),
                                 ("ckpt-sgd", "sgd", btype.Budget(steps=12))):
        path = folder / f"{kind}.npz"
        btype.trainer(method)(btype.random_network(3, 24, 1, layers=4, reach=2, seed=2),
                              btype.tasks.get("parity3"), budget=budget, seed=1, progress=False,
                              checkpoint_path=path, callback=lambda rec: rec["step"] > 0)
        data = path.read_bytes()
        answer = worker.read(kind, path)
        assert answer[0] == "ok", answer
        out[kind] = (data, answer[1])
    shutil.rmtree(folder)
    return out


@FUZZ
@given(mutation=mutations(16), kind=st.sampled_from(["ckpt-es", "ckpt-sgd"]))
def test_fuzz_checkpoint_resume(tmp_path_factory, worker, intact, mutation, kind):
    data, expected = intact[kind]
    path = tmp_path_factory.mktemp("ckpt") / "c.npz"
    path.write_bytes(mutate(data, mutation))
    answer = worker.read(kind, path)
    if answer[0] == "ok":
        assert json.dumps(answer[1], sort_keys=True) == json.dumps(expected, sort_keys=True)
