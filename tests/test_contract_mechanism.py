"""The shared training mechanism: Budget, records, argument checks, checkpoints, npz files."""
import json
import math
import zipfile

import numpy as np
import pytest

import btype
from btype import _npz, checkpoint
from btype.train import MAX_COUNT, Budget, check_train_args, make_record


# -- Budget ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error", [
    (dict(evaluations=10 ** 30), ValueError), (dict(evaluations=2 ** 63), ValueError),
    (dict(evaluations=1.5), ValueError), (dict(evaluations=float("nan")), ValueError),
    (dict(evaluations=float("inf")), ValueError), (dict(evaluations=0), ValueError),
    (dict(evaluations="10"), TypeError), (dict(evaluations=True), TypeError),
    (dict(seconds=float("inf")), ValueError), (dict(seconds=float("nan")), ValueError),
    (dict(seconds=-1), ValueError), (dict(target=1.5, steps=1), ValueError),
    (dict(target=0.5), ValueError), (dict(plateau=4), ValueError),
    (dict(steps=5, plateau=1.0), ValueError), (dict(steps=5, plateau_min=10), ValueError),
])
def test_budget_refuses(kwargs, error):
    with pytest.raises(error):
        Budget(**kwargs)


def test_budget_accepts_whole_floats_and_names_the_limit():
    b = Budget(gate_evals=1e10, evaluations=float(MAX_COUNT))
    assert b.gate_evals == 10 ** 10 and isinstance(b.gate_evals, int) and b.evaluations == MAX_COUNT
    assert b.stop_reason(gate_evals=10 ** 10 - 1) is None
    assert b.stop_reason(gate_evals=10 ** 10) == "gate_evals"
    assert Budget(steps=3).stop_reason(steps=3) == "steps"
    assert Budget(seconds=2).stop_reason(seconds=2.5) == "seconds"
    assert Budget(steps=3).stop_reason(fitness=1.0) == "solved"
    assert Budget(steps=3, target=0.9).stop_reason(fitness=0.95) == "target"
    assert Budget(steps=3, target=0.9).exhausted(fitness=0.8) is False


def test_plateau_rule():
    b = Budget(gate_evals=10 ** 9, plateau=4, plateau_min=1000)
    trace = [dict(train_fitness=0.5, gate_evals=0), dict(train_fitness=0.75, gate_evals=500),
             dict(train_fitness=0.75, gate_evals=1500)]
    # best (0.75) first reached at 500 gate-evals: the rule fires at 4 x 500 = 2000
    assert b.stop_reason(gate_evals=1999, trace=trace) is None
    assert b.stop_reason(gate_evals=2000, trace=trace) == "plateau"
    # ... but never before plateau_min
    early = [dict(train_fitness=0.5, gate_evals=0), dict(train_fitness=0.5, gate_evals=10)]
    assert b.stop_reason(gate_evals=999, trace=early) is None
    assert b.stop_reason(gate_evals=1000, trace=early) == "plateau"
    assert Budget(steps=5).stop_reason(steps=1, trace=trace) is None   # no rule, no stop


# -- records ----------------------------------------------------------------------------------
def test_records_are_strict_json():
    rec = make_record(method="m", task="t", seed=np.int64(3), step=np.int64(1), evaluations=2,
                      gate_evals=3, seconds=0.1, train_fitness=0.5, test_accuracy=float("nan"),
                      solved=False, loss=float("nan"), big=np.float64("inf"), n=np.int64(7))
    text = json.dumps(rec, allow_nan=False)          # strict: would raise on NaN
    back = json.loads(text)
    assert back["loss"] is None and back["big"] is None and back["test_accuracy"] is None
    assert back["n"] == 7 and back["seed"] == 3
    with pytest.raises(ValueError, match="train_fitness"):
        make_record(method="m", task="t", seed=0, step=0, evaluations=0, gate_evals=0, seconds=0,
                    train_fitness=float("nan"), test_accuracy=None, solved=False)


# -- arguments -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def setting():
    task = btype.tasks.get("parity3")
    return btype.random_network(3, 40, 1, layers=4, seed=0), task


@pytest.mark.parametrize("change, error, match", [
    (dict(budget=None), TypeError, "budget is required"),
    (dict(budget=5), TypeError, "budget"),
    (dict(seed=2 ** 64), ValueError, "seed"), (dict(seed=-1), ValueError, "seed"),
    (dict(seed=1.5), TypeError, "seed"), (dict(seed="0"), TypeError, "seed"),
    (dict(progress=1), TypeError, "progress"), (dict(callback=3), TypeError, "callback"),
    (dict(checkpoint_path=3), TypeError, "checkpoint_path"),
    (dict(resume=True), ValueError, "checkpoint_path"), (dict(resume="yes"), TypeError, "resume"),
])
def test_check_train_args(setting, change, error, match):
    net, task = setting
    kwargs = {**dict(budget=Budget(steps=1), seed=0, progress=False), **change}
    with pytest.raises(error, match=match):
        check_train_args(net, task, **kwargs)


def test_check_train_args_returns_normalised(setting, tmp_path):
    net, task = setting
    seed, path = check_train_args(net, task, budget=Budget(steps=1), seed=np.int64(5), progress=False,
                                  checkpoint_path=tmp_path / "c.npz")
    assert seed == 5 and type(seed) is int and path == str(tmp_path / "c.npz")


# -- the registry ----------------------------------------------------------------------------
def test_registry():
    names = btype.trainers()
    assert {"es", "anneal", "ga", "random"} <= set(names)
    assert set(btype.trainers("search")) == {"es", "anneal", "ga", "random"}
    assert btype.registry.info("sgd").needs_torch
    with pytest.raises(ValueError, match="unknown trainer"):
        btype.trainer("nope")
    with pytest.raises(ValueError, match="family"):
        btype.trainers("other")


# -- checkpoints -----------------------------------------------------------------------------
def _ident(net, task, **change):
    args = dict(method="es", options={"lam": 1, "rate": None}, budget=Budget(evaluations=100))
    args.update(change)
    return checkpoint.identity(net, task, **args)


def test_checkpoint_round_trip_and_identity(setting, tmp_path):
    net, task = setting
    path = tmp_path / "run.npz"
    ident = _ident(net, task)
    state = {"bits": np.arange(6, dtype=np.uint8) % 2, "rng": np.array([1, 2, 3, 4], np.uint64)}
    checkpoint.save(path, identity=ident, meta={"step": 7, "trace": [{"a": None}]}, arrays=state)
    meta, arrays = checkpoint.load(path, identity=ident,
                                   arrays={"bits": (np.uint8, (None,)), "rng": (np.uint64, (4,))})
    assert meta == {"step": 7, "trace": [{"a": None}]}
    assert np.array_equal(arrays["bits"], state["bits"]) and np.array_equal(arrays["rng"], state["rng"])
    other_y = btype.tasks.Task(task.name, task.X_train, ~task.Y_train, task.X_test, ~task.Y_test)
    others = {
        "method": _ident(net, task, method="anneal"),
        "task": _ident(net, other_y, ),
        "wiring": _ident(net.with_enabled(~net.enabled | ~net.modifiers), task),
        "options": _ident(net, task, options={"lam": 2, "rate": None}),
        "budget": _ident(net, task, budget=Budget(evaluations=101)),
    }
    for field, ident2 in others.items():
        assert ident2[field] != ident[field]
        with pytest.raises(ValueError, match=f"its {field} differs"):
            checkpoint.load(path, identity=ident2)
    with pytest.raises(ValueError, match="bits"):
        checkpoint.load(path, identity=ident, arrays={"bits": (np.uint8, (5,))})
    with pytest.raises(ValueError, match="lacks"):
        checkpoint.load(path, identity=ident, arrays={"errs": ("i", None)})


def test_checkpoint_refuses_foreign_and_damaged_files(setting, tmp_path):
    net, task = setting
    ident = _ident(net, task)
    path = tmp_path / "c.npz"
    checkpoint.save(path, identity=ident, meta={}, arrays={"x": np.zeros(1000, np.int64)})
    raw = path.read_bytes()
    (tmp_path / "half.npz").write_bytes(raw[: len(raw) // 2])
    np.savez(tmp_path / "foreign.npz", x=np.zeros(3))
    np.save(tmp_path / "plain.npy", np.zeros(3))
    (tmp_path / "text.npz").write_text("hello")
    np.savez(tmp_path / "pickled.npz", __format__=np.array("btype.checkpoint"), __version__=np.array(1),
             __identity__=np.array([ident], dtype=object), __meta__=np.array([{}], dtype=object))
    for name in ("half.npz", "foreign.npz", "plain.npy", "text.npz", "pickled.npz"):
        with pytest.raises(ValueError, match=name):
            checkpoint.load(tmp_path / name, identity=ident)
    with pytest.raises(FileNotFoundError):
        checkpoint.load(tmp_path / "missing.npz", identity=ident)
    with pytest.raises(ValueError):          # NaN is not strict JSON
        checkpoint.save(path, identity=ident, meta={"x": math.nan}, arrays={})


def test_npz_reader_checks_before_reading(tmp_path):
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, x=np.zeros(20_000_000, np.uint8))   # 20 MB of zeros, ~20 KB on disk
    assert path.stat().st_size < 100_000
    with pytest.raises(ValueError, match="over the limit"):
        _npz.read(path, max_bytes=1 << 20)
    # a header that claims more data than the member holds
    evil = tmp_path / "evil.npz"
    with zipfile.ZipFile(evil, "w") as zf:
        dict_text = b"{'descr': '<i8', 'fortran_order': False, 'shape': (100000000,), }"
        dict_text += b" " * (118 - 10 - len(dict_text)) + b"\n"
        header = b"\x93NUMPY\x01\x00" + len(dict_text).to_bytes(2, "little") + dict_text
        zf.writestr("x.npy", header + b"\x00" * 64)
    with pytest.raises(ValueError, match="more than the member holds"):
        _npz.read(evil)
    good = tmp_path / "good.npz"
    _npz.write(good, {"a": np.arange(3), "s": np.array("text")})
    out = _npz.read(good, {"a": ("iu", (3,)), "s": ("U", ())})
    assert out["a"].tolist() == [0, 1, 2] and str(out["s"]) == "text"
    with pytest.raises(ValueError, match="unexpected"):
        _npz.read(good, {"a": ("iu", None)}, allow_extra=False)


def test_plateau_rule_grows_from_the_first_record_that_spent_compute():
    # the starting machine's record has spent nothing: growth is measured from the first
    # record that did, and without plateau_min the rule waits for a tenth of the budget
    b = Budget(gate_evals=10_000, plateau=2)
    trace = [dict(train_fitness=0.5, gate_evals=0, evaluations=0, step=0, seconds=0.0),
             dict(train_fitness=0.5, gate_evals=300, evaluations=3, step=3, seconds=0.0)]
    assert b.stop_reason(gate_evals=300, trace=trace) is None          # 0 -> 300 is no growth
    assert b.stop_reason(gate_evals=599, trace=trace) is None
    assert b.stop_reason(gate_evals=600, trace=trace) is None          # 2x, but 6% of the budget
    assert b.stop_reason(gate_evals=1000, trace=trace) == "plateau"    # 2x and 10% of the budget
    assert not b.plateaued(trace[:1])                                    # nothing spent yet
    assert b.fraction_used({"gate_evals": 2500}) == 0.25
    assert Budget(steps=10, seconds=4).fraction_used({"steps": 3, "seconds": 3.0}) == 0.75


def test_budget_share_and_remaining():
    b = Budget(evaluations=1000, steps=90, seconds=10, target=0.9, plateau=3, plateau_min=50)
    share = b.share(0.1)
    assert (share.evaluations, share.steps, share.seconds, share.target) == (100, 9, 1.0, 0.9)
    assert (share.plateau, share.plateau_min) == (3, 50)
    assert b.share(0.001).steps == 1                              # never a zero limit
    assert b.share(0.1, plateau=2).plateau == 2 and b.share(0.1, plateau=2).plateau_min is None
    rest, why = b.remaining({"evaluations": 400, "steps": 30, "seconds": 2.5})
    assert why is None and (rest.evaluations, rest.steps, rest.seconds) == (600, 60, 7.5)
    assert b.remaining({"evaluations": 1000}) == (None, "evaluations")
    assert b.covers(b) and Budget(evaluations=2000, steps=90, seconds=10, target=0.9, plateau=3,
                                  plateau_min=50).covers(b)
    assert Budget(evaluations=2000, steps=90, target=0.9, plateau=3, plateau_min=50).covers(b)  # no time limit
    assert not Budget(evaluations=999, steps=90, seconds=10, target=0.9, plateau=3, plateau_min=50).covers(b)
    assert not Budget(evaluations=2000, steps=90, seconds=10, plateau=3, plateau_min=50).covers(b)


def test_the_untrained_machine_warning_points_at_the_callers_line():
    # The plateau rule stops a run that never beat its start: the warning names this file,
    # the line that called the trainer, not a line inside the package.
    task = btype.tasks.get("parity5")
    net = btype.random_network(5, 4, 1, seed=0)
    with pytest.warns(RuntimeWarning, match="untrained machine") as caught:
        result = btype.trainer("random")(net, task, budget=btype.Budget(evaluations=20000, plateau=2.0),
                                         seed=0, progress=False)
    assert result.stop_reason == "plateau" and not result.learned
    assert caught[0].filename == __file__
