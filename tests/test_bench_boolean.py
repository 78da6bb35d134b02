"""experiments.bench.bench_boolean: the --sgd-options study of one option."""
import json

import numba
import pytest
import torch

import btype
from experiments.bench import bench_boolean


@pytest.fixture(autouse=True)
def _threads_kept(monkeypatch):
    """main() pins one Numba and one torch thread and sets NUMBA_NUM_THREADS for its own
    process; here that would leak into the tests that follow."""
    monkeypatch.setenv("NUMBA_NUM_THREADS", str(numba.config.NUMBA_NUM_THREADS))
    numba_threads, torch_threads = numba.get_num_threads(), torch.get_num_threads()
    yield
    numba.set_num_threads(numba_threads)
    torch.set_num_threads(torch_threads)


def _argv(out, options):
    return ["--out", str(out), "--sets", "full", "--tasks", "parity3", "--methods", "sgd",
            "--seeds", "0", "--sgd-options", options]


def test_sgd_options_reach_the_trainer_and_the_row(tmp_path, monkeypatch, capsys):
    seen = []
    real = btype.trainer

    def spy(name):
        train = real(name)

        def wrapped(net, task, **kwargs):
            seen.append(kwargs)
            return train(net, task, **kwargs)
        return wrapped

    monkeypatch.setattr(btype, "trainer", spy)
    out = tmp_path / "lr.jsonl"
    assert bench_boolean.main(_argv(out, '{"lr": 0.2}')) == 0
    assert seen and seen[0]["lr"] == 0.2 and seen[0]["device"] == "cpu"
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["sgd_options"] == {"lr": 0.2} and row["task"] == "parity3"
    # the same setting resumes (nothing rerun); another setting in the same file is refused
    assert bench_boolean.main(_argv(out, '{"lr": 0.2}')) == 0 and len(seen) == 1
    with pytest.raises(SystemExit):
        bench_boolean.main(_argv(out, '{"lr": 0.05}'))
    assert "other --sgd-options" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["[0.2]", "lr=0.2"])
def test_sgd_options_must_be_a_json_object(tmp_path, text, capsys):
    with pytest.raises(SystemExit):
        bench_boolean.main(_argv(tmp_path / "x.jsonl", text))
    assert "--sgd-options" in capsys.readouterr().err
