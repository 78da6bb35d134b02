"""Sweeps: process pool and Dask agree, killed sweeps restart cleanly, presets, the CLI."""
import json
import time
from dataclasses import replace

import numpy as np
import pytest

import btype
from experiments import compare
from experiments.sweep import execute, presets, runfiles, spec
from experiments.sweep import runner as sweep
from experiments.sweep.job import Job

TIMING = {"seconds", "wall_seconds", "finished", "started"}


def _jobs(methods=("es", "sgd"), seeds=(0, 1), evaluations=600):
    return [Job(task="parity3", method=m, seed=s, budget={"evaluations": evaluations},
                network={"n_gates": 24, "layers": 4, "reach": 2}, options={})
            for m in methods for s in seeds]


def _untimed(run):
    records = [{k: v for k, v in r.items() if k not in TIMING} for r in run.records]
    footer = {k: v for k, v in run.footer.items() if k not in TIMING}
    return records, footer


def _compare_dirs(a, b, jobs):
    for job in jobs:
        ra, rb = (runfiles.read_run(d / f"{job.name}.jsonl") for d in (a, b))
        assert ra.complete and rb.complete
        assert ra.job == rb.job == job.config()
        assert _untimed(ra) == _untimed(rb), job.name
        na, nb = (btype.Network.load(d / f"{job.name}.npz") for d in (a, b))
        assert na == nb, job.name


def test_pool_dask_and_in_process_sweeps_give_identical_runs(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    jobs = _jobs()
    pool = sweep.default_executor(2)
    try:
        report = sweep.run_sweep(jobs, tmp_path / "pool", pool, progress=False)
    finally:
        pool.shutdown()
    assert sorted(report.done) == sorted(j.name for j in jobs) and not report.failed
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        report = sweep.run_sweep(jobs, tmp_path / "dask", client, progress=False)
    assert not report.failed, report.failed
    _compare_dirs(tmp_path / "pool", tmp_path / "dask", jobs)
    sweep.run_sweep(jobs[:2], tmp_path / "here", None, progress=False)
    _compare_dirs(tmp_path / "pool", tmp_path / "here", jobs[:2])
    # the machines start from the same wiring for every method of a (task, seed)
    nets = {j.name: btype.Network.load(tmp_path / "pool" / f"{j.name}.npz") for j in jobs}
    for seed in (0, 1):
        same = [n for name, n in nets.items() if name.endswith(f"seed{seed}")]
        assert all(np.array_equal(n.wiring, same[0].wiring) for n in same)
    header = runfiles.read_run(tmp_path / "pool" / f"{jobs[0].name}.jsonl").header
    assert header["versions"]["btype"] == btype.__version__
    assert header["machine"]["cpu"] and header["machine"]["cores"] >= 1


def _snapshot(path):
    return path.read_bytes(), path.stat().st_mtime_ns


def test_a_killed_sweep_restarts_and_ends_with_every_run_once(tmp_path, monkeypatch):
    runs_dir = tmp_path / "runs"
    jobs = _jobs(methods=("es", "random"), seeds=(0, 1, 2), evaluations=300)
    real = execute._resolve_trainer
    calls = []

    def dying(job):
        calls.append(job.name)
        if len(calls) == 4:
            raise KeyboardInterrupt  # the sweep is killed during its fourth run
        return real(job)

    monkeypatch.setattr(execute, "_resolve_trainer", dying)
    with pytest.raises(KeyboardInterrupt):
        sweep.run_sweep(jobs, runs_dir, None, progress=False)
    monkeypatch.setattr(execute, "_resolve_trainer", real)
    finished = {j.name: _snapshot(runs_dir / f"{j.name}.jsonl") for j in jobs[:3]}
    # What a kill during writing leaves: a temporary file, and (say, from a copy) a truncated run.
    (runs_dir / f".{jobs[3].name}.jsonl.999-dead.tmp").write_text('{"type": "header"')
    whole = (runs_dir / f"{jobs[0].name}.jsonl").read_text().splitlines()
    (runs_dir / f"{jobs[4].name}.jsonl").write_text("\n".join(whole[:3]) + "\n" + whole[3][:20])
    assert not runfiles.is_complete(runs_dir / f"{jobs[4].name}.jsonl")
    assert runfiles.read_run(runs_dir / f"{jobs[4].name}.jsonl").footer is None

    report = sweep.run_sweep(jobs, runs_dir, None, progress=False)
    assert sorted(report.skipped) == sorted(finished)
    assert sorted(report.done) == sorted(j.name for j in jobs[3:])
    assert f"{jobs[4].name}.jsonl" in report.removed and len(report.removed) == 2
    assert sorted(p.name for p in runs_dir.iterdir() if p.name != sweep.LOCK_NAME) == sorted(
        f"{j.name}.{ext}" for j in jobs for ext in ("jsonl", "npz"))
    for job in jobs:
        run = runfiles.read_run(runs_dir / f"{job.name}.jsonl")
        assert run.complete and run.job == job.config()
        assert sum(1 for line in open(run.path) if '"footer"' in line) == 1
    for name, snap in finished.items():
        assert _snapshot(runs_dir / f"{name}.jsonl") == snap, "a finished run was rewritten"


def test_finished_runs_with_other_settings_are_kept_and_reported(tmp_path):
    jobs = _jobs(methods=("random",), seeds=(0,), evaluations=200)
    sweep.run_sweep(jobs, tmp_path, None, progress=False)
    before = _snapshot(tmp_path / f"{jobs[0].name}.jsonl")
    report = sweep.run_sweep([replace(jobs[0], budget={"evaluations": 400})], tmp_path, None, progress=False)
    assert report.skipped == report.stale == [jobs[0].name] and not report.done
    assert _snapshot(tmp_path / f"{jobs[0].name}.jsonl") == before


def test_a_failing_job_is_reported_and_the_others_finish(tmp_path):
    good = _jobs(methods=("random",), seeds=(0,), evaluations=200)[0]
    bad = replace(good, seed=1, network={"n_gates": 24, "layers": 99})
    report = sweep.run_sweep([good, bad], tmp_path, None, progress=False)
    assert report.done == [good.name] and list(report.failed) == [bad.name]
    assert "layers" in report.failed[bad.name]
    assert not (tmp_path / f"{bad.name}.jsonl").exists()


@pytest.mark.parametrize("change, match", [
    (dict(method="adam"), "method"), (dict(task="a__b"), "task"), (dict(seed=-1), "seed"),
    (dict(network={"layers": 3}), "n_gates"), (dict(budget=[1]), "budget"),
    (dict(trainer="nocolon"), "trainer"), (dict(threads=0), "threads")])
def test_job_validation_names_the_argument(change, match):
    base = dict(task="parity3", method="es", seed=0, budget={"evaluations": 10}, network={"n_gates": 8})
    with pytest.raises((ValueError, TypeError), match=match):
        Job(**{**base, **change})


def test_job_names_and_duplicates(tmp_path):
    job = _jobs(methods=("es",), seeds=(3,))[0]
    assert job.name == "parity3__es__seed3"
    turing = replace(job, network={**job.network, "link": "turing"})
    assert turing.name == "parity3__es__turing__seed3"
    with pytest.raises(ValueError, match="duplicate"):
        sweep.plan([job, job], tmp_path)


def test_quick_preset_covers_what_the_readme_promises():
    preset = presets.get("quick")
    every = preset.jobs()
    assert {(j.task, j.method) for j in every if j.kind == "baseline"} == {
        ("digits", "logistic"), ("digits", "tree"), ("digits", "knn")}
    assert preset.tune is None  # the quick preset has no tuning stage (its 3 minutes)
    jobs = [j for j in every if j.kind == "train"]
    tasks = {j.task for j in jobs}
    assert len(tasks) >= 3 and "digits" in tasks
    assert any(btype.tasks.get(t).is_clocked for t in tasks)
    assert set(btype.trainers()) <= {j.method for j in jobs}
    assert min(len({j.seed for j in jobs if j.task == t}) for t in tasks) >= 5
    assert any(j.link == "turing" for j in jobs)
    # every method of a (task, link, seed) gets the same machine and budget
    cells = {}
    for j in jobs:
        cells.setdefault((j.task, j.link, j.seed), set()).add(
            json.dumps([j.network, j.budget], sort_keys=True))
    assert all(len(v) == 1 for v in cells.values())
    # the turing runs use the very wiring of the switch runs
    for j in jobs:
        if j.link == "turing":
            twin = [k for k in jobs if k.task == j.task and k.seed == j.seed and k.link == "switch"]
            assert twin and {**twin[0].network, "link": "turing"} == j.network


def test_full_preset_is_the_scaling_study():
    preset = presets.get("full")
    jobs = preset.jobs()
    sizes = {}
    for j in jobs:
        family, size = spec.task_size(j.task)
        sizes.setdefault(family, set()).add(size)
    assert sizes == {"epar": set(range(3, 11)), "mux": {6, 11}, "addc": set(range(2, 7)),
                     "mul": {2, 3, 4}, "cmp": {2, 3, 4}}
    # every task with a published CGP median is in its family's scaling panel
    from experiments.analysis.anchors import CGP_MEDIANS
    assert set(CGP_MEDIANS) <= {j.task for j in jobs}
    # on the gate-evaluation axis, with the plateau rule and a time cap; bigger tasks, bigger budgets
    budgets = {j.task: j.budget for j in jobs}
    assert all(b["plateau"] == 10.0 and b["seconds"] == preset.cap_seconds for b in budgets.values())
    assert budgets["epar8"]["gate_evals"] == 10 * budgets["epar3"]["gate_evals"] == 10 ** 11
    # ... and a plateau rule that waits as much longer
    assert budgets["epar8"]["plateau_min"] == 10 * budgets["epar3"]["plateau_min"] == 10 ** 10
    assert not preset.link_tasks and not any(t.startswith("mnist") for t in budgets)
    with_mnist = preset.jobs(mnist_dir="/data/mnist", seeds=1)
    mnist = [j for j in with_mnist if j.task.startswith("mnist")]
    assert mnist and all(j.task_args == {"directory": "/data/mnist"} for j in mnist)
    with pytest.raises(ValueError, match="preset"):
        presets.get("nope")
    with pytest.raises(ValueError, match="tasks"):
        preset.jobs(tasks=["parity99"])


def test_compare_command_runs_skips_and_plots(tmp_path, capsys):
    argv = ["--preset", "quick", "--out", str(tmp_path), "--tasks", "parity3", "--methods", "es", "sgd",
            "--seeds", "1", "--budget", "0.05", "--workers", "0", "--quiet"]
    assert compare.main(argv) == 0
    out = capsys.readouterr().out
    names = sorted(p.name for p in (tmp_path / "runs").glob("*.jsonl"))
    assert names == ["parity3__es__seed0.jsonl", "parity3__es__turing__seed0.jsonl",
                     "parity3__sgd__seed0.jsonl", "parity3__sgd__turing__seed0.jsonl"]
    assert "4 runs done" in out and str(tmp_path / "figures") in out
    assert (tmp_path / "figures" / "link_modes.png").exists() and (tmp_path / "summary.md").exists()
    header = runfiles.read_run(tmp_path / "runs" / names[0]).header
    assert header["sweep"]["preset"] == "quick" and header["job"]["budget"]["seconds"] == 0.05
    assert compare.main(argv + ["--no-plots"]) == 0
    assert "0 runs done, 4 already finished" in capsys.readouterr().out


def test_standard_preset_stops_on_gate_evals_or_a_plateau_and_has_the_anchor_tasks():
    from experiments.analysis.anchors import CGP_MEDIANS
    preset = presets.get("standard")
    jobs = [j for j in preset.jobs() if j.kind == "train"]
    assert preset.axis == "gate_evals" and {j.task for j in jobs} >= set(CGP_MEDIANS)
    for job in jobs:
        budget = btype.Budget(**job.budget)
        scale = preset.tasks.get(job.task, preset.link_tasks.get(job.task)).scale
        assert budget.gate_evals == round(preset.budget * scale) and budget.target == 1.0
        assert budget.plateau == preset.plateau and budget.plateau_min == round(preset.plateau_min * scale)
        assert budget.seconds == preset.cap_seconds
    # the plateau rule as the budget applies it: no better fitness while gate-evals grew
    # 10-fold, and never before plateau_min (1e9) gate-evaluations
    assert preset.plateau == 10.0 and preset.plateau_min == 10**9
    budget = btype.Budget(**jobs[0].budget)
    flat = [{"gate_evals": g, "train_fitness": 0.5} for g in (10**8, 5 * 10**8, 12 * 10**8)]
    assert budget.stop_reason(gate_evals=12 * 10**8, fitness=0.5, trace=flat) == "plateau"
    rising = [dict(r, train_fitness=0.5 + 0.1 * i) for i, r in enumerate(flat)]
    assert budget.stop_reason(gate_evals=12 * 10**8, fitness=0.7, trace=rising) is None
    early = [{"gate_evals": g, "train_fitness": 0.5} for g in (10**6, 10**7, 5 * 10**8)]
    assert budget.stop_reason(gate_evals=5 * 10**8, fitness=0.5, trace=early) is None


def test_standard_preset_runs_end_to_end_on_a_tiny_override(tmp_path, capsys):
    """Tuning stage, tuned view, matched view, baselines and every figure of both views:
    the path of the real run, on one seed and budgets of a few evaluations."""
    argv = ["--preset", "standard", "--out", str(tmp_path), "--seeds", "1", "--tune-seeds", "1",
            "--budget", "2e5", "--tasks", "parity3", "parity4", "digits", "--methods", "es", "sgd",
            "--workers", "0", "--quiet"]
    assert compare.main(argv) == 0
    out = capsys.readouterr().out
    assert "tuning rung 1/2" in out and "tuning rung 2/2" in out
    chosen = json.loads((tmp_path / "tuned" / "chosen.json").read_text())
    assert {(c["method"], c["family"]) for c in chosen["choices"]} == {
        (m, f) for m in ("es", "sgd") for f in ("parity", "digits")}
    assert chosen["rule"] and chosen["tuning_seeds"] == [spec.TUNE_SEED0]
    tuning = runfiles.load_runs(tmp_path / "tune")
    assert tuning and all(r.seed >= spec.TUNE_SEED0 for r in tuning)
    for view, directory in (("matched", tmp_path), ("tuned", tmp_path / "tuned")):
        runs = runfiles.load_runs(directory)
        assert {r.seed for r in runs} == {0}
        assert {r.method for r in runs if r.kind == "baseline"} == {"logistic", "tree", "knn"}
        text = (directory / "summary.md").read_text()
        assert f"# Sweep summary: {view} view" in text
        for stem in ("convergence_test_gate_evals", "ecdf_gate_evals", "scaling"):
            assert (directory / "figures" / f"{stem}.png").exists(), (view, stem)
    assert "## Settings chosen by the tuning stage" in (tmp_path / "tuned" / "summary.md").read_text()
    assert (tmp_path / "figures" / "link_modes.png").exists()
    # a restart finds every stage finished
    assert compare.main(argv + ["--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "0 done" in out and "tuned view: 0 runs done" in out and "matched view: 0 runs done" in out


def test_gpu_preset_lists_its_jobs_and_refuses_without_cuda(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    preset = presets.get("gpu")
    jobs = preset.jobs(seeds=1)
    families = {btype.registry.info(j.method).family for j in jobs}
    assert families == {"gradient", "hybrid"} and all(j.device == "cuda" for j in jobs)
    assert compare.main(["--preset", "gpu", "--out", str(tmp_path), "--list"]) == 0
    listed = capsys.readouterr().out
    assert "parity10__sgd__seed0" in listed and "__es__" not in listed
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the refusal is not reachable")
    assert compare.main(["--preset", "gpu", "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "'cuda'" in err and "no CUDA device" in err and "--device cpu" in err
    assert not (tmp_path / "runs").exists() and not (tmp_path / "tune").exists()
    # a cuda device on any preset is refused the same way; auto falls back to the CPU
    assert compare.main(["--preset", "quick", "--out", str(tmp_path), "--device", "cuda",
                         "--tasks", "parity2", "--quiet"]) == 2
    with pytest.raises(execute.DeviceUnavailable, match="cuda:1"):
        execute.check_devices([replace(jobs[0], device="cuda:1")])
    execute.check_devices([replace(jobs[0], device="auto")])


def test_view_needs_a_tuning_stage(capsys):
    assert compare.main(["--preset", "quick", "--out", "/tmp/x", "--view", "tuned", "--list"]) == 2
    assert "no tuning stage" in capsys.readouterr().err


def test_ctrl_c_that_a_library_turns_into_another_error_still_stops_the_sweep(tmp_path, monkeypatch):
    # Numba's compiler, interrupted, can leave its state half-built and fail the next step
    # with a RuntimeError; the sweep (jobs in this process) must stop, not settle the job as
    # failed and go on with the next one.
    import os
    import signal

    from experiments.sweep import execute
    jobs = _jobs(methods=("random",), seeds=(0, 1, 2), evaluations=200)
    started = []

    def interrupted_compile(job, runs_dir):
        started.append(job.name)
        try:
            os.kill(os.getpid(), signal.SIGINT)  # the user's Ctrl-C, in the middle of the job
            time.sleep(5)
        except KeyboardInterrupt:
            raise RuntimeError("no compiled object yet for <Library 'evaluate'>") from None
        return {"name": job.name, "status": "done"}

    monkeypatch.setattr(execute, "_run_job", interrupted_compile)
    # Ctrl-C as in a terminal (a background test run may have it ignored)
    outer = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(sweep.SweepInterrupted) as info:
            sweep.run_sweep(jobs, tmp_path, None, progress=False)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    finally:
        signal.signal(signal.SIGINT, outer)
    assert started == [jobs[0].name]  # no further job started
    assert not info.value.report.failed and not info.value.report.done
    # without the Ctrl-C the same error is an ordinary failed run, and the others go on
    monkeypatch.setattr(execute, "_run_job", lambda job, runs_dir: (_ for _ in ()).throw(RuntimeError("boom")))
    report = sweep.run_sweep(jobs, tmp_path, None, progress=False)
    assert sorted(report.failed) == sorted(j.name for j in jobs)


def test_a_sweep_on_an_empty_kernel_cache_says_its_workers_compile(tmp_path, monkeypatch, capsys):
    # kernels_cached() reads the cache folder without importing Numba; checked against what
    # Numba really writes there, and the sweep's one line before its first runs.
    import subprocess
    import sys
    from experiments.sweep.host import kernels_cached

    cache = tmp_path / "cache"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))
    assert not kernels_cached()
    job = _jobs(methods=("random",), seeds=(0,), evaluations=200)[0]
    sweep.run_sweep([job], tmp_path / "a", None, progress=True)
    assert "compile the Numba kernels" in capsys.readouterr().err
    subprocess.run([sys.executable, "-c", "import numpy as np, btype; btype.evaluate("
                    "btype.random_network(2, 3, 1, seed=0), np.zeros((3, 2), bool))"], check=True)
    assert kernels_cached()
    sweep.run_sweep([job], tmp_path / "b", None, progress=True)
    assert "compile the Numba kernels" not in capsys.readouterr().err
