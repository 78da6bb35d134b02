"""Damaged, foreign and concurrent run files; the compare command's refusals and Ctrl-C."""
import contextlib
import json
import math
import re
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments import compare
from experiments import plot as plot_command
from experiments.analysis import stats
from experiments.sweep import execute, interrupts, presets, runfiles
from experiments.sweep import runner as sweep
from experiments.sweep.job import Job

ROOT = Path(__file__).resolve().parents[1]


def _job(seed=0, method="random", evaluations=200):
    return Job(task="parity3", method=method, seed=seed, budget={"evaluations": evaluations},
               network={"n_gates": 24, "layers": 4, "reach": 2})


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A directory with two finished runs, and the bytes of the first one's file."""
    runs_dir = tmp_path_factory.mktemp("finished")
    jobs = [_job(0), _job(1)]
    report = sweep.run_sweep(jobs, runs_dir, None, progress=False)
    assert sorted(report.done) == sorted(j.name for j in jobs)
    return runs_dir, jobs, (runs_dir / f"{jobs[0].name}.jsonl").read_bytes()


def _copy(finished, tmp_path):
    runs_dir, jobs, _ = finished
    for job in jobs:
        for ext in ("jsonl", "npz"):
            (tmp_path / f"{job.name}.{ext}").write_bytes((runs_dir / f"{job.name}.{ext}").read_bytes())
    return jobs


# -- damaged and foreign files --------------------------------------------------------------

@pytest.mark.parametrize("damage", [
    lambda b: b[:40] + b"\xff\xfe\x80" + b[43:],             # not UTF-8
    lambda b: b.replace(b'"footer"', b'"f\xc3\x28oter"'),     # invalid UTF-8 inside the footer
    lambda b: re.sub(rb'"seconds": [0-9.e+-]+', b'"seconds": -5', b, count=1),  # a negative axis value
    lambda b: b.replace(b'"solved": false', b'"solved": 0', 1),
    lambda b: b + b"[" * 100_000 + b"\n",                     # nesting deep enough for a RecursionError
])
def test_a_damaged_run_is_redone_by_the_sweep(finished, tmp_path, damage):
    jobs = _copy(finished, tmp_path)
    path = tmp_path / f"{jobs[0].name}.jsonl"
    path.write_bytes(damage(path.read_bytes()))
    run = runfiles.read_run(path)
    assert run is None or not run.complete
    report = sweep.run_sweep(jobs, tmp_path, None, progress=False)
    assert report.done == [jobs[0].name] and report.skipped == [jobs[1].name]
    redone, first = runfiles.read_run(path), runfiles.read_run(finished[0] / path.name)
    assert redone.complete and redone.job == first.job
    untimed = lambda run: [(r["evaluations"], r["train_fitness"]) for r in run.records]  # noqa: E731
    assert untimed(redone) == untimed(first)  # the same seed trains the same machine again


def test_plot_skips_a_damaged_and_a_foreign_file_with_a_warning(finished, tmp_path, capsys):
    runs = tmp_path / "runs"
    runs.mkdir()
    jobs = _copy(finished, runs)
    (runs / f"{jobs[0].name}.jsonl").write_bytes(b"\x80\x81 not a run\n")
    (runs / "notes.jsonl").write_text('{"type": "header", "anything": 1}\n["a list"]\n')
    with pytest.warns(runfiles.RunFileWarning) as caught:
        assert plot_command.main([str(tmp_path)]) == 0
    named = sorted(Path(str(w.message).split(":")[0].split()[-1]).name for w in caught
                   if issubclass(w.category, runfiles.RunFileWarning))   # not a stray ResourceWarning
    assert named == sorted([f"{jobs[0].name}.jsonl", "notes.jsonl"])
    assert (tmp_path / "figures" / "convergence_train_seconds.png").exists()
    assert jobs[1].task in (tmp_path / "summary.md").read_text()


def test_nan_tokens_of_old_files_read_as_none(finished, tmp_path):
    text = finished[2].decode().replace('"test_accuracy": 1.0', '"test_accuracy": NaN')
    text = text.replace('"train_fitness"', '"loss": Infinity, "train_fitness"', 1)
    path = tmp_path / "old.jsonl"
    path.write_text(text)
    run = runfiles.read_run(path)
    assert run.complete and run.records[0]["loss"] is None
    assert all(r["test_accuracy"] is None or 0 <= r["test_accuracy"] <= 1 for r in run.records)


def nan_trainer(net, task, *, budget, seed, progress, **options):
    """A trainer whose records and result carry NaN and infinities (sgd's step-0 loss)."""
    import btype
    result = btype.trainer("random")(net, task, budget=budget, seed=seed, progress=progress, **options)
    result.trace[0]["loss"] = float("nan")
    result.trace[0]["grad_norm"] = np.float32("inf")
    result.trace[-1]["spread"] = [1.0, float("-inf")]
    return replace(result, test_accuracy=float("nan"))


def test_writers_never_write_the_nan_token(tmp_path):
    job = replace(_job(), trainer=f"{__name__}:nan_trainer")
    report = sweep.run_sweep([job], tmp_path, None, progress=False)
    assert report.done == [job.name], report.failed
    text = (tmp_path / f"{job.name}.jsonl").read_text()

    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    lines = [json.loads(line, parse_constant=refuse) for line in text.splitlines()]
    assert lines[1]["loss"] is None and lines[1]["grad_norm"] is None
    assert lines[-2]["spread"] == [1.0, None] and lines[-1]["test_accuracy"] is None


# A fuzz test: byte mutations of a valid run file give a Run or None, never an exception.
_EDITS = st.lists(st.tuples(st.sampled_from(["set", "insert", "delete", "truncate"]),
                            st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                  min_size=1, max_size=6)


def _mutate(data: bytes, edits) -> bytes:
    for op, where, byte in edits:
        i = int(where * len(data)) if data else 0
        if op == "set" and data:
            data = data[:i] + bytes([byte]) + data[i + 1:]
        elif op == "insert":
            data = data[:i] + bytes([byte]) + data[i:]
        elif op == "delete":
            data = data[:i] + data[i + 1:]
        elif op == "truncate":
            data = data[:i]
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=_EDITS)
def test_fuzzed_run_files_read_as_a_run_or_none(finished, tmp_path, edits):
    data = _mutate(finished[2], edits)
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(data)
    run = runfiles.read_run(path)
    if data == finished[2]:
        assert run is not None and run.complete
    if run is None:
        return
    # what the figures and the summary read from a run works on whatever read_run returns
    assert isinstance(run.task, str) and isinstance(run.method, str) and isinstance(run.link, str)
    assert isinstance(run.seed, int) and run.seed >= 0
    if run.complete:
        for axis in ("seconds", "evaluations", "gate_evals"):
            value, solved = stats.solve_point(run.records, axis)
            assert math.isfinite(value) and isinstance(solved, bool)
            grid = stats.common_grid([run.records], axis, n=8)
            curves = stats.resample_traces([run.records], axis, "train_fitness", grid)
            assert curves.shape == (1, 8)


# -- concurrent sweeps ------------------------------------------------------------------------

_HOLDER = """
import sys
from pathlib import Path
from experiments.sweep import runner as sweep
with sweep.sweep_lock(sys.argv[1]):
    Path(sys.argv[1], ".parity3__random__seed0.jsonl.1-live.tmp").write_text("in flight")
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_a_second_sweep_refuses_or_waits_while_the_first_holds_the_directory(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        in_flight = tmp_path / ".parity3__random__seed0.jsonl.1-live.tmp"
        with pytest.raises(sweep.SweepLocked, match=f"pid {holder.pid} .* is writing into"):
            sweep.run_sweep([_job()], tmp_path, None, progress=False)
        with pytest.raises(sweep.SweepLocked):
            sweep.plan([_job()], tmp_path)
        assert in_flight.read_text() == "in flight"  # a live sweep's temporary file is left alone
        # the command line says the same in one line
        out = tmp_path.parent / f"{tmp_path.name}-cli"
        (out / "runs").mkdir(parents=True)
        cli = subprocess.Popen([sys.executable, "-c", _HOLDER, str(out / "runs")], cwd=ROOT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert cli.stdout.readline().strip() == "locked"
        done = subprocess.run([sys.executable, "-m", "experiments.compare", "--out", str(out), "--tasks",
                               "parity3", "--methods", "es", "--seeds", "1", "--workers", "0",
                               "--no-plots", "--quiet"], cwd=ROOT, capture_output=True, text=True)
        cli.communicate("\n", timeout=30)
        assert done.returncode == 2 and "another sweep (pid" in done.stderr
        assert "Traceback" not in done.stderr and not list((out / "runs").glob("*.jsonl"))

        outcome = {}

        def waiting_sweep():
            try:
                outcome["report"] = sweep.run_sweep([_job()], tmp_path, None, progress=False, wait=True)
            except Exception as exc:  # noqa: BLE001 - recorded and asserted below
                outcome["error"] = exc

        thread = threading.Thread(target=waiting_sweep)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive()  # still waiting for the holder
        holder.communicate("\n", timeout=30)
        thread.join(timeout=120)
        assert "error" not in outcome and outcome["report"].done == [_job().name]
        assert not in_flight.exists()  # now a dead sweep's leftover: removed
    finally:
        if holder.poll() is None:
            holder.kill()


def test_a_run_never_replaces_a_file_another_writer_finished(finished, tmp_path, monkeypatch):
    jobs = _copy(finished, tmp_path)
    path = tmp_path / f"{jobs[0].name}.jsonl"
    before = path.read_bytes(), path.stat().st_mtime_ns
    # The other writer finished after this one checked: it trains, then finds the file there.
    monkeypatch.setattr(execute, "is_complete", lambda p: False)
    outcome = execute.run_job(replace(jobs[0], budget={"evaluations": 300}), tmp_path)
    assert outcome["status"] == "skipped"
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{j.name}.{ext}" for j in jobs for ext in ("jsonl", "npz"))


def test_an_interrupted_trainer_writes_no_run(tmp_path, monkeypatch):
    real = execute._resolve_trainer

    def stopped(job):
        return lambda *args, **kwargs: replace(real(job)(*args, **kwargs), interrupted=True,
                                               stop_reason="interrupted")

    monkeypatch.setattr(execute, "_resolve_trainer", stopped)
    with pytest.raises(sweep.SweepInterrupted) as caught:
        sweep.run_sweep([_job()], tmp_path, None, progress=False)
    assert caught.value.report.done == [] and not list(tmp_path.glob("*.jsonl"))


# -- the command line -----------------------------------------------------------------------

@pytest.mark.parametrize("extra, match", [
    (["--budget", "inf"], "--budget"), (["--budget", "nan"], "--budget"), (["--budget", "-1"], "--budget"),
    (["--budget", "0"], "--budget"), (["--device", "bogus"], "--device"), (["--seeds", "100000000"], "--seeds"),
    (["--seeds", "0"], "--seeds"), (["--mnist", "MISSING"], "--mnist")])
def test_compare_refuses_bad_arguments_at_parse_time(tmp_path, capsys, extra, match):
    extra = [str(tmp_path / "nope") if a == "MISSING" else a for a in extra]
    with pytest.raises(SystemExit) as caught:
        compare.main(["--out", str(tmp_path), "--list", *extra])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert match in err and extra[-1] in err
    assert not (tmp_path / "runs").exists()


def test_compare_lists_the_largest_seed_count_promptly(tmp_path, capsys):
    assert compare.main(["--out", str(tmp_path), "--list", "--seeds", "1000", "--tasks", "parity3"]) == 0
    per_seed = len(presets.get("quick").jobs(tasks=["parity3"], seeds=1))
    assert len(capsys.readouterr().out.splitlines()) == 1000 * per_seed


def _ready_workers(pid):
    """How many pool workers of process ``pid`` handle Ctrl-C already (Linux /proc)."""
    ready = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
            cmdline = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid) and b"spawn_main" in cmdline:
            ready += not int(fields["SigIgn"], 16) & (1 << (signal.SIGINT - 1))
    return ready


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads worker states from /proc")
@pytest.mark.parametrize("workers", [0, 2])
def test_ctrl_c_ends_compare_with_one_line(tmp_path, workers):
    argv = [sys.executable, "-m", "experiments.compare", "--out", str(tmp_path), "--tasks", "digits",
            "--methods", "es", "anneal", "--seeds", "2", "--budget", "60", "--workers", str(workers),
            "--no-plots", "--quiet"]
    # a session of its own, so that the signal goes to its whole process group as a
    # terminal's Ctrl-C does (the pool's workers included), and Ctrl-C not ignored, as in a
    # terminal: the child would inherit an ignored SIGINT from a background test run
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (
                (tmp_path / "runs" / sweep.LOCK_NAME).exists() and _ready_workers(proc.pid) == workers):
            time.sleep(0.2)
        time.sleep(1.0)  # into the first runs
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted: 0 runs finished, rerun to continue"
    assert "Traceback" not in err
    assert not list((tmp_path / "runs").glob("*.jsonl"))
    assert not list((tmp_path / "runs").glob(".*.tmp"))


class _InterruptedInDel:
    """Ctrl-C arriving while ``__del__`` runs: Python cannot raise the KeyboardInterrupt
    out of it and would print it as 'Exception ignored'."""

    def __del__(self):
        signal.raise_signal(signal.SIGINT)
        for _ in range(100):  # the handler runs at one of these bytecodes
            pass


@contextlib.contextmanager
def _a_job_running_in_this_process():
    """As ``run_job`` under ``jobs_in_this_process``; the Ctrl-C it leaves behind
    raises KeyboardInterrupt on leaving, as in a sweep."""
    with pytest.raises(KeyboardInterrupt):
        with interrupts.jobs_in_this_process():
            with interrupts.running("job"):
                yield


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals")
def test_a_ctrl_c_that_python_swallows_still_stops_the_job(capfd):
    hook = sys.unraisablehook
    with _a_job_running_in_this_process():
        with pytest.raises(KeyboardInterrupt):
            _InterruptedInDel()
            for _ in range(10 ** 6):  # without the redelivery this loop would end
                pass
            pytest.fail("the job went on after a Ctrl-C")
    assert "Exception ignored" not in capfd.readouterr().err
    assert sys.unraisablehook is hook  # restored


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals")
def test_a_ctrl_c_during_numba_compilation_waits_for_the_compiler():
    import numba
    import numba.core.event as ev

    class CtrlCAtCompile(ev.Listener):
        def on_start(self, event):
            signal.raise_signal(signal.SIGINT)

        def on_end(self, event):
            pass

    def add_one(x):  # a function of its own: compiled in this test, never cached
        return x + 1
    compiled = numba.njit(add_one)
    listener = CtrlCAtCompile()
    ev.register("numba:compile", listener)
    try:
        with _a_job_running_in_this_process():
            with pytest.raises(KeyboardInterrupt):
                compiled(1)
    finally:
        ev.unregister("numba:compile", listener)
    # the interrupt came once the compiler was done: the function is compiled and works
    assert len(compiled.signatures) == 1 and compiled(1) == 2


def test_a_solved_run_records_why_it_stopped_and_its_pruned_size(tmp_path):
    import btype
    from btype import export
    job = Job(task="parity2", method="es", seed=0, budget={"evaluations": 50000},
              network={"n_gates": 64, "layers": 6, "reach": 2})
    assert sweep.run_sweep([job], tmp_path, None, progress=False).done == [job.name]
    run = runfiles.read_run(tmp_path / f"{job.name}.jsonl")
    assert run.footer["solved"] and run.header["task"] == {"n_inputs": 2, "n_classes": None, "n_train": 4}
    assert "stop_reason" in run.footer  # the trainer's TrainResult.stop_reason
    pruned, _ = export.prune(btype.Network.load(tmp_path / f"{job.name}.npz"))
    task = btype.tasks.get("parity2")
    assert (btype.evaluate(pruned, task.X_train) == task.Y_train).all()  # still solves the task
    assert run.footer["pruned_gates"] == pruned.n_gates <= 64
    assert run.footer["pruned_depth"] == export.describe(pruned)["depth"]


def test_an_unsolved_run_records_its_pruned_size_too(tmp_path):
    # a gate limit (experiments.summary, --gate-limit) asks about data runs, which never "solve"
    import btype
    from btype import export
    job = Job(task="parity5", method="es", seed=0, budget={"evaluations": 10},
              network={"n_gates": 64, "layers": 6, "reach": 2})
    sweep.run_sweep([job], tmp_path, None, progress=False)
    run = runfiles.read_run(tmp_path / f"{job.name}.jsonl")
    assert not run.footer["solved"]
    pruned, _ = export.prune(btype.Network.load(tmp_path / f"{job.name}.npz"))
    assert run.footer["pruned_gates"] == pruned.n_gates
