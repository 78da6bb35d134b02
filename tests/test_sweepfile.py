"""Your own comparison: sweep files, tasks of any name or file, machine sizes, budget axes,
the banner against the job list, and ``btype train``."""
import json
import re

import numpy as np
import pytest

import btype
from experiments import compare
from experiments import train as train_command
from experiments.sweep import machines, presets, runfiles, taskfiles
from experiments.sweep.args import budget_arg
from experiments.sweep.sweepfile import SweepFileError, preset_from_dict, read_sweep_file

SWEEP = """
name = "mine"
seeds = 2
methods = ["es", "random"]
budget = {evaluations = 3000}
machine = {gates = 64, layers = 6, reach = 2}
device = "cpu"

[[tasks]]
name = "maj3"
factory = "btype.tasks:majority"
args = {n = 3}

[[tasks]]
file = "small.npz"
machine = {gates = 48, layers = 4, link = "both"}
"""


def _small_task_file(folder):
    task = btype.tasks.get("parity2")
    return taskfiles.save_task(task, folder / "small.npz")


def _banner_counts(text):
    m = re.search(r"matched view: (\d+) runs(?:.* = (\d+) runs)?", text)
    return int(m.group(2) or m.group(1))


def test_a_sweep_file_runs_end_to_end_with_figures_and_summary(tmp_path, capsys):
    _small_task_file(tmp_path)
    config = tmp_path / "sweep.toml"
    config.write_text(SWEEP)
    out = tmp_path / "out"
    argv = ["--config", str(config), "--out", str(out), "--workers", "0", "--quiet"]
    assert compare.main(argv + ["--list"]) == 0
    captured = capsys.readouterr()
    listed = captured.out.splitlines()
    # 2 tasks x 2 methods x 2 seeds, plus the link-mode study of small (turing, 2 methods x 2 seeds)
    assert len(listed) == 2 * 2 * 2 + 2 * 2 == _banner_counts(captured.err)
    assert "budget 3000 evaluations per run (axis evaluations)" in captured.err
    assert compare.main(argv) == 0
    captured = capsys.readouterr()
    runs = runfiles.load_runs(out)
    assert sorted({(r.task, r.method, r.link) for r in runs}) == [
        ("maj3", "es", "switch"), ("maj3", "random", "switch"), ("small", "es", "switch"),
        ("small", "es", "turing"), ("small", "random", "switch"), ("small", "random", "turing")]
    assert len(runs) == len(listed) and all(r.footer["train_fitness"] <= 1 for r in runs)
    # every run was made on the machine the file asked for, scored as its task says
    for run in runs:
        net = btype.Network.load(run.path.with_suffix(".npz"))
        assert net.n_gates == (64 if run.task == "maj3" else 48)
        task = btype.tasks.majority(3) if run.task == "maj3" else btype.tasks.get("parity2")
        assert task.score(net, "train").fitness == pytest.approx(run.footer["train_fitness"])
    assert (out / "summary.md").is_file() and list((out / "figures").glob("convergence_train_*.png"))
    # a rerun finds every run finished
    assert compare.main(argv + ["--no-plots"]) == 0
    assert "sweep: 0 runs done, 12 already finished" in capsys.readouterr().out


def test_a_sweep_file_with_a_csv_task(tmp_path, capsys):
    if not hasattr(btype.tasks, "from_csv"):
        pytest.skip("btype.tasks.from_csv is not in this checkout")
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, (120, 4))
    rows = ["a,b,c,d,label"] + [",".join(map(str, x)) + f",{int(x[0] ^ x[1])}" for x in X]
    (tmp_path / "xor.csv").write_text("\n".join(rows) + "\n")
    config = tmp_path / "sweep.json"
    config.write_text(json.dumps({"seeds": 1, "methods": ["es"], "budget": {"evaluations": 2000},
                                  "tasks": [{"file": "xor.csv", "target": "label"}]}))
    assert compare.main(["--config", str(config), "--out", str(tmp_path / "o"), "--workers", "0",
                         "--quiet", "--no-plots"]) == 0
    (run,) = runfiles.load_runs(tmp_path / "o")
    assert run.task == "xor" and run.header["task"]["n_inputs"] == 4


@pytest.mark.parametrize("data, message", [
    ({"tasks": ["parity3"]}, "needs a budget"),
    ({"tasks": ["parity3"], "budget": {"gate_evals": 1e6, "steps": 3}}, "give one axis"),
    ({"tasks": ["parity3"], "budget": {"seconds": 1}, "machine": {"gates": 8, "wires": 2}}, "unknown key"),
    ({"tasks": [{"name": "echo1", "machine": {"gates": 8, "kind": "recurrent", "layers": 3}}],
      "budget": {"seconds": 1}}, "a recurrent machine has no layers"),
    ({"tasks": ["nope7"], "budget": {"seconds": 1}}, "unknown task name"),
])
def test_sweep_file_mistakes_are_named(data, message):
    with pytest.raises((TypeError, ValueError), match=message):
        preset_from_dict(data)


def test_a_broken_sweep_file_is_an_error_line(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text("seeds = [\n")
    with pytest.raises(SweepFileError, match="bad.toml: not valid TOML"):
        read_sweep_file(config)
    assert compare.main(["--config", str(config), "--list"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_tasks_of_any_name_machine_sizes_and_a_named_budget_axis(capsys):
    argv = ["--list", "--tasks", "majority7", "parity3", "--methods", "es", "--seeds", "2",
            "--gates", "100", "--layers", "5", "--budget", "1e6ge"]
    assert compare.main(argv) == 0
    captured = capsys.readouterr()
    jobs = [line.split(" ", 1) for line in captured.out.splitlines()]
    assert sorted(name for name, _ in jobs) == [
        "majority7__es__seed0", "majority7__es__seed1", "parity3__es__seed0", "parity3__es__seed1",
        "parity3__es__turing__seed0", "parity3__es__turing__seed1"]
    assert all("'n_gates': 100" in rest and "'layers': 5" in rest and "'gate_evals': 1000000" in rest
               for _, rest in jobs)
    assert len(jobs) == _banner_counts(captured.err)
    assert "axis gate_evals" in captured.err and "link-mode study" in captured.err
    # a recurrent machine has no layers: refused, not dropped
    assert compare.main(["--list", "--tasks", "echo1", "--layers", "5"]) == 2
    assert "a recurrent machine has no layers" in capsys.readouterr().err


@pytest.mark.parametrize("preset", sorted(presets.PRESETS))
def test_the_banner_counts_the_jobs_listed(preset, capsys):
    assert compare.main(["--list", "--preset", preset, "--seeds", "1"]) == 0
    captured = capsys.readouterr()
    listed = captured.out.splitlines()
    matched = [line for line in listed if not line.startswith("tune/")]
    assert len(matched) == _banner_counts(captured.err)
    rung = re.search(r"rung 1: (\d+) runs", captured.err)
    assert len(listed) - len(matched) == (int(rung.group(1)) if rung else 0)


def test_budget_values_name_their_axis():
    assert budget_arg("2s") == (2.0, "seconds") and budget_arg("1e9ge") == (1e9, "gate_evals")
    assert budget_arg("500steps") == (500, "steps") and budget_arg("0.5") == (0.5, None)
    for bad in ("2 parsecs", "-1s", "nan", "1.5steps", ""):
        with pytest.raises(Exception, match="must"):
            budget_arg(bad)


def test_the_machine_spec_is_decided_in_one_place():
    task = btype.tasks.get("echo1")
    with pytest.raises(ValueError, match="recurrent machine has no layers"):
        machines.random_network_args({"n_gates": 8, "kind": "recurrent", "layers": 2}, task)
    args = machines.random_network_args({"n_gates": 8}, task)
    assert args["kind"] == "recurrent" and "layers" not in args
    digits = btype.tasks.get("digits")
    assert machines.random_network_args(machines.default_spec(digits), digits)["n_outputs"] == 100


def test_btype_train_writes_a_machine_that_loads_and_scores_as_reported(tmp_path, capsys):
    out = tmp_path / "p3"
    argv = ["parity3", "--out", str(out), "--gates", "96", "--layers", "6", "--budget", "20000ev",
            "--option", "flips=2", "--seed", "3"]
    assert train_command.main(argv) == 0
    report = json.loads((out / train_command.REPORT_FILE).read_text())
    net = btype.Network.load(out / report["machine_file"])
    task = btype.tasks.get("parity3")
    assert net.n_gates == report["gates"] == 96
    assert task.score(net, "train").fitness == report["train_fitness"]
    assert task.score(net, "test").fitness == report["test_accuracy"]
    from btype import export
    assert export.prune(net)[0].n_gates == report["pruned_gates"]
    run = runfiles.read_run(out / report["trace_file"])
    assert run.complete and run.job["options"] == {"flips": 2} and run.job["seed"] == 3
    assert run.footer["train_fitness"] == report["train_fitness"]


def test_btype_train_checkpoints_and_resumes_a_data_file_task(tmp_path, capsys):
    path = _small_task_file(tmp_path)
    out = tmp_path / "o"
    argv = [str(path), "--out", str(out), "--budget", "2000ev", "--checkpoint", "--gates", "32",
            "--layers", "4"]
    assert train_command.main(argv) == 0
    assert (out / train_command.CHECKPOINT_FILE).is_file()
    report = json.loads((out / train_command.REPORT_FILE).read_text())
    assert report["task"] == "small"
    first = btype.Network.load(out / report["machine_file"])
    for name in (report["machine_file"], report["trace_file"], train_command.REPORT_FILE):
        (out / name).unlink()
    # resumed from the finished run's checkpoint: the same machine again
    assert train_command.main(argv[:-5] + ["--resume", "--gates", "32", "--layers", "4"]) == 0
    again = btype.Network.load(out / report["machine_file"])
    assert np.array_equal(again.wiring, first.wiring) and np.array_equal(again.enabled, first.enabled)


def test_python_users_give_a_task_factory(tmp_path):
    from experiments.sweep import runner
    from experiments.sweep.spec import Preset
    from experiments.sweep.sweepfile import setup_for
    setup = setup_for("maj5", factory=btype.tasks.majority, task_args={"n": 5},
                      network=machines.layered(64, 6, reach=2))
    assert setup.task_args == {"factory": "btype.tasks.truth:majority", "args": {"n": 5}}
    preset = Preset(name="py", description="", tasks={"maj5": setup}, methods=("es",), seeds=1,
                    axis="evaluations", budget=2000, link_tasks={})
    report = runner.run_sweep(preset.jobs(), tmp_path, None, progress=False)
    assert report.done == ["maj5__es__seed0"] and not report.failed
    run = runfiles.read_run(tmp_path / "maj5__es__seed0.jsonl")
    assert run.header["task"]["n_inputs"] == 5
    with pytest.raises(ValueError, match="top of an importable module"):
        setup_for("x", factory=lambda: btype.tasks.majority(3))


def test_btype_train_codes_a_real_valued_csv_with_levels(tmp_path, capsys):
    # Real-valued columns are refused with a hint, and --levels codes them on the training
    # rows: the saved machine scores as reported on the task that from_csv builds the same way.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "yes", "no")
    path = tmp_path / "real.csv"
    path.write_text("a,b,c,label\n" + "".join(f"{r[0]},{r[1]},{r[2]},{t}\n" for r, t in zip(X, y)))
    out = tmp_path / "o"
    argv = [str(path), "--target", "label", "--out", str(out), "--budget", "3000ev", "--gates", "64",
            "--layers", "4"]
    with pytest.raises(SystemExit) as stop:
        train_command.main(argv)
    assert stop.value.code == 2 and "--levels" in capsys.readouterr().err
    assert train_command.main(argv + ["--levels", "3"]) == 0
    report = json.loads((out / train_command.REPORT_FILE).read_text())
    task = btype.tasks.from_csv(path, "label", name="real", binarize=btype.tasks.Binarizer(levels=3))
    net = btype.Network.load(out / report["machine_file"])
    assert net.n_inputs == 9 and task.classes == ("no", "yes")
    assert task.score(net, "test").fitness == report["test_accuracy"]
