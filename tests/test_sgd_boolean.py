"""sgd.train's options for Boolean functions (issue 13): adamw, check_every, restarts, init="pairs",
the defaults that depend on the task, and truth tables read as 2-class tasks."""
import numpy as np
import pytest
import torch

import btype
import sgd
from btype.bits import pack, unpack
from btype.simulate import node_values
from torch_threads import one_torch_thread  # noqa: F401 (autouse)
from sgd.train import KIND_DEFAULTS, TABLE_DEFAULTS, defaults_for, is_truth_table, task_kind


@pytest.fixture(scope="module")
def small():
    task = btype.tasks.get("mux6")
    return btype.random_network(6, 64, 1, layers=4, reach=2, seed=0), task


def _train(net, task, steps, **kw):
    return sgd.train(net, task, budget=btype.Budget(steps=steps), device="cpu", progress=False, **kw)


# --------------------------------------------------------------------------- validation

@pytest.mark.parametrize("options, name", [
    (dict(optimizer="adamax"), "optimizer"),
    (dict(optimizer="adam", weight_decay=0.1), "weight_decay"),
    (dict(optimizer="sgd", weight_decay=0.0), "weight_decay"),
    (dict(optimizer="adamw", weight_decay=-0.1), "weight_decay"),
    (dict(optimizer="adamw", weight_decay=float("inf")), "weight_decay"),
    (dict(optimizer="adamw", weight_decay=True), "weight_decay"),
    (dict(check_every=0), "check_every"),
    (dict(check_every=2.5), "check_every"),
    (dict(check_every=True), "check_every"),
    (dict(restarts=0), "restarts"),
    (dict(restarts=None), "restarts"),
    (dict(restarts=1.0), "restarts"),
    (dict(init="pair"), "init"),
])
def test_bad_options_name_the_argument(small, options, name):
    net, task = small
    with pytest.raises(ValueError, match=name):
        _train(net, task, 1, **options)


def test_pairs_needs_a_feedforward_machine():
    loops = btype.random_network(2, 8, 1, kind="recurrent", seed=0)
    with pytest.raises(ValueError, match="pairs"):
        sgd.RelaxedNetwork(loops, init="pairs")


def test_defaults_depend_on_the_task_kind_only_through_defaults_for():
    table, data = btype.tasks.get("parity3"), btype.tasks.get("digits")
    vote = table.as_classes()
    assert is_truth_table(table) and is_truth_table(vote) and not is_truth_table(data)
    assert [task_kind(t) for t in (table, vote, data)] == ["table", "vote table", "data"]
    assert defaults_for(data) == sgd.DEFAULTS
    assert defaults_for(table) == dict(sgd.DEFAULTS, **TABLE_DEFAULTS)
    assert defaults_for(vote) == dict(sgd.DEFAULTS, **KIND_DEFAULTS["vote table"])
    # the run uses them: a truth table's run has 10 segments, a vote table's one
    net = btype.random_network(3, 40, 1, layers=4, seed=0)
    assert {rec["segment"] for rec in _train(net, table, 20, record_every=10 ** 9).trace} == set(range(10))
    net2 = btype.random_network(3, 40, 2, layers=4, seed=0)
    assert {rec["segment"] for rec in _train(net2, vote, 20).trace} == {0}


def test_adamw_is_torch_adamw_with_the_decay(small):
    """One full-batch step of optimizer="adamw" moves theta as torch's AdamW does from the same start."""
    net, task = small
    r = _train(net, task, 1, optimizer="adamw", weight_decay=0.3, batch_size=64, lr=0.05, restarts=1,
               check_every=None, record_every=64)
    relaxed = sgd.RelaxedNetwork(net, init="random", seed=0)
    opt = torch.optim.AdamW(relaxed.parameters(), lr=0.05, weight_decay=0.3)
    x = torch.as_tensor(np.array(task.X_train), dtype=torch.float32)
    y = torch.as_tensor(np.array(task.Y_train), dtype=torch.float32)
    out = relaxed(x)
    right = y * out + (1 - y) * (1 - out)
    loss = -torch.log(1e-4 + (1 - 2e-4) * right).mean()
    loss.backward()
    opt.step()
    expect = relaxed.harden()
    assert r.trace[-1]["hardened_train_fitness"] == task.score(expect).fitness
    # decay pulls every modified theta toward 0: |theta| shrinks by lr * wd * |theta| before Adam's step
    assert r.trace[0]["loss"] is None and r.trace[-1]["loss"] == pytest.approx(float(loss.detach()), rel=1e-5)


# --------------------------------------------------------------------------- init="pairs"

def test_pairs_init_makes_pairs_that_pass_their_source():
    """Hardened at init, every gate is NOT of the source it keeps (btype simulator), and every
    even-level gate reading exactly one gate of the level below keeps that one, so the two
    pass the lower gate's kept source unchanged."""
    net = btype.random_network(4, 240, 2, layers=8, reach=2, seed=3)
    hard = sgd.RelaxedNetwork(net, init="pairs", seed=5).harden()
    X = btype.tasks.truth_table_inputs(4)
    values = unpack(node_values(hard, pack(X)), len(X)).T    # (n_nodes, S)
    n_in, w = net.n_inputs, np.asarray(net.wiring)
    kept = hard.enabled.argmax(axis=1)
    assert (hard.enabled.sum(axis=1) == 1).all()              # one link passes in every gate
    source = w[np.arange(net.n_gates), kept]
    assert (values[n_in:] == ~values[source]).all()          # each gate inverts its kept source
    level = np.concatenate([np.zeros(n_in, int), net.levels()])
    pairs = 0
    for g in range(net.n_gates):
        lv = level[n_in + g]
        below = [p for p in (0, 1) if level[w[g, p]] == lv - 1]
        if lv % 2 == 0 and len(below) == 1:
            assert kept[g] == below[0]
            h = w[g, below[0]] - n_in                           # the odd gate it reads
            assert (values[n_in + g] == values[source[h]]).all()   # twice inverted: the identity
            pairs += 1
    assert pairs > 40


def test_pairs_init_differs_from_inverter_only_on_paired_gates():
    net = btype.random_network(4, 240, 2, layers=8, reach=2, seed=3)
    inv = sgd.RelaxedNetwork(net, init="inverter", seed=5).theta.detach().numpy()
    pairs = sgd.RelaxedNetwork(net, init="pairs", seed=5).theta.detach().numpy()
    level = net.levels()
    odd = level % 2 == 1
    assert np.array_equal(inv[odd], pairs[odd]) and not np.array_equal(inv, pairs)


# --------------------------------------------------------------------------- check_every, restarts

def test_check_every_stops_when_solved_between_records():
    task = btype.tasks.get("parity3")
    net = btype.random_network(3, 200, 1, layers=10, reach=2, seed=0)
    r = _train(net, task, 2000, check_every=5, record_every=10 ** 9, restarts=1)
    assert r.solved and r.stop_reason == "solved"
    last = r.trace[-1]
    assert last["step"] % 5 == 0 and len(r.trace) == 2       # step 0 and the check that solved
    assert task.score(r.network).solved                     # the simulator's word


def test_restarts_keep_the_best_segment_and_end_each_with_a_record(small):
    net, task = small
    r = _train(net, task, 60, restarts=3, check_every=None, record_every=10 ** 9, lr=0.2)
    ends = [rec["step"] for rec in r.trace]
    assert ends == [0, 20, 40, 60] and [rec["segment"] for rec in r.trace] == [0, 0, 1, 2]
    assert r.train_fitness == max(rec["hardened_train_fitness"] for rec in r.trace)
    assert task.score(r.network).fitness == r.train_fitness
    # segment 1 starts from its own draw: a one-segment run of 20 steps ends where segment 0 did
    one = _train(net, task, 20, restarts=1, check_every=None, record_every=10 ** 9, lr=0.2)
    assert one.trace[-1]["hardened_train_fitness"] == r.trace[1]["hardened_train_fitness"]


@pytest.fixture(scope="module")
def restart_setting():
    task = btype.tasks.get("mux6")
    net = btype.random_network(6, 48, 1, layers=4, reach=2, seed=2)
    # minibatches and a temperature schedule per segment cross the restarts too
    options = dict(restarts=3, check_every=3, batch_size=16, tau_end=0.5, record_every=80, optimizer="adamw")
    return net, task, options


def test_restarts_resumed_equals_uninterrupted(restart_setting, tmp_path):
    net, task, options = restart_setting

    def run(**kw):
        return _train(net, task, 45, **dict(options, **kw))

    whole = run()
    assert not whole.solved and whole.trace[-1]["step"] == 45
    assert {rec["segment"] for rec in whole.trace} == {0, 1, 2}
    for stop_at in (15, 20, 35):     # a segment's end, inside segment 1, inside the last
        path = tmp_path / f"run{stop_at}.ckpt"
        first = run(checkpoint_path=path, callback=lambda rec: rec["step"] >= stop_at)
        assert first.stop_reason == "callback" and first.trace[-1]["step"] == stop_at
        resumed = run(checkpoint_path=path, resume=True)
        assert resumed.network == whole.network and resumed.train_fitness == whole.train_fitness
        strip = [{k: v for k, v in rec.items() if k != "seconds"} for rec in resumed.trace]
        assert strip == [{k: v for k, v in rec.items() if k != "seconds"} for rec in whole.trace]


def test_restarts_share_a_gate_evaluation_budget(small):
    net, task = small
    per_step = 3 * net.n_gates * 64
    r = sgd.train(net, task, budget=btype.Budget(gate_evals=per_step * 30), device="cpu", progress=False,
                  restarts=3, check_every=None, record_every=10 ** 9)
    assert [rec["step"] for rec in r.trace] == [0, 10, 20, 30] and r.stop_reason in ("gate_evals", "solved")
    assert r.trace[-1]["gate_evals"] <= per_step * 30


# --------------------------------------------------------------------------- 2-class readout

def test_as_classes_reads_the_output_bit_as_the_class():
    task = btype.tasks.get("mux6")
    two = btype.tasks.get("mux6", as_classes=True)
    assert two.name == "mux6-vote" and two.n_classes == 2 and np.array_equal(two.X_train, task.X_train)
    assert two.Y_train.tolist() == task.Y_train[:, 0].astype(int).tolist()
    with pytest.raises(ValueError, match="single-output"):
        btype.tasks.get("add2", as_classes=True)
    with pytest.raises(TypeError, match="as_classes"):
        btype.tasks.get("mux6", as_classes=1)
    # a machine whose 3 + 3 outputs copy the target bit into group 1 and its negation into group 0
    net = btype.random_network(6, 64, 6, layers=4, seed=0)
    Y = np.zeros((64, 6), bool)
    Y[:, 3:] = task.Y_train
    Y[:, :3] = ~task.Y_train
    assert two.score_outputs(Y).solved and not two.score_outputs(~Y).solved
    # a tie (one vote each way, the rest silent) goes to class 0
    tie = np.zeros((64, 6), bool)
    tie[:, 0] = tie[:, 3] = True
    assert two.score_outputs(tie).fitness == float((task.Y_train[:, 0] == 0).mean())
    assert two.score(net).fitness == two.score_outputs(btype.evaluate(net, task.X_train)).fitness


def test_sgd_solves_a_truth_table_read_as_a_vote():
    task = btype.tasks.get("parity3", as_classes=True)
    net = btype.random_network(3, 256, 64, layers=3, seed=0)
    r = _train(net, task, 1000)
    assert r.solved and task.score(r.network).solved


def test_relaxed_fitness_of_a_multi_output_table_never_exceeds_one():
    # add2 has 3 outputs: weights of 1/3 in float32 summed to 1 + 3e-8, so a relaxed machine
    # right on every row scored 1.0000000298 and the sweep's run reader (rightly) refused
    # the record. Fitness is now the weighted mean as Task.score_outputs computes it.
    task = btype.tasks.get("add2")
    net = btype.random_network(task.n_inputs, 400, task.n_outputs, kind="layered", layers=12, reach=2, seed=1)
    result = sgd.train(net, task, budget=btype.Budget(steps=1000), seed=1, device="cpu",
                       progress=False, lr=0.2, restarts=1)
    fields = [k for k in result.trace[-1] if k.endswith(("_fitness", "_accuracy"))]
    values = [rec[k] for rec in result.trace for k in fields if rec[k] is not None]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert 1.0 in [rec["relaxed_train_fitness"] for rec in result.trace]  # the case that overflowed
