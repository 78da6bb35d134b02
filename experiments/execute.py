"""Running one job: its task and starting machine, its trainer from the registry, its file.

:func:`run_job` is what an executor's worker calls; it trains with
``btype.trainer(job.method)`` under the one trainer contract and writes the run with
:func:`experiments.runfiles.write_run`.
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from .job import Job, json_ready, strict_json
from .machine import machine_info, versions
from .runfiles import FORMAT, is_complete, write_run

__all__ = ["run_job", "load_task", "build_network", "train_job", "init_worker", "sigint_ignored",
           "jobs_in_this_process",
           "solution_size", "check_devices", "DeviceUnavailable"]


@functools.lru_cache(maxsize=8)
def _cached_task(name, args_json):
    import btype
    return btype.tasks.get(name, **json.loads(args_json))


def load_task(name, **task_args):
    """The task of a job: ``btype.tasks.get(name, **task_args)``, cached per process
    so that a worker loads a data set once for all its jobs."""
    return _cached_task(name, json.dumps(strict_json(task_args), sort_keys=True))


def build_network(job: Job, task):
    """The job's starting machine: ``random_network`` seeded by the job's seed."""
    import btype
    spec = dict(job.network)
    n_gates = spec.pop("n_gates")
    per_class = spec.pop("outputs_per_class", None)
    n_outputs = spec.pop("n_outputs", None)
    if n_outputs is None:
        if task.n_classes is not None:
            n_outputs = task.n_classes * (per_class or 1)
        else:
            n_outputs = task.n_outputs
    spec.setdefault("kind", "recurrent" if task.is_clocked else "layered")
    if spec["kind"] == "recurrent":
        spec.pop("layers", None)
        spec.pop("reach", None)
    return btype.random_network(task.n_inputs, n_gates, n_outputs, seed=job.seed, **spec)


def _resolve_trainer(job: Job):
    import btype
    if job.trainer is None:
        return btype.trainer(job.method)
    module, _, attr = job.trainer.partition(":")
    return getattr(importlib.import_module(module), attr)


def train_job(job: Job, net, task):
    """Train ``net`` on ``task`` as the job says, through the trainer contract."""
    import btype
    options = dict(job.options)
    if job.trainer is None and btype.registry.info(job.method).needs_torch:
        options["device"] = job.device
    return _resolve_trainer(job)(net, task, budget=btype.Budget(**job.budget), seed=job.seed,
                                 progress=False, **options)


def _limit_threads(threads: int) -> None:
    import numba
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


_RUNNING = []  # names of the jobs running in this process
_STOPPED = []  # set by Ctrl-C (pool worker, or the sweep's own process): no further job starts


def _interrupt_running_job(signum, frame):
    # Ctrl-C reaches every process of the group. In a worker it stops the running job
    # (its trainer returns early and run_job writes nothing) and the jobs already queued
    # to it; an idle worker does not die with a traceback.
    if not _STOPPED:
        _STOPPED.append(signum)
    if not _RUNNING:
        return
    lock = sys.modules.get("numba.core.compiler_lock")
    if lock is not None and lock.global_compiler_lock.is_locked():
        # Inside Numba's compiler a KeyboardInterrupt can land in one of llvmlite's
        # ctypes callbacks, which prints a traceback and swallows it (the job would then
        # run to its budget): raise it when the compiler lock is released instead.
        _after_compiling.arm()
        return
    raise KeyboardInterrupt


class _AfterCompiling:
    """Raises a deferred Ctrl-C's KeyboardInterrupt in the thread that held Numba's
    compiler lock, as it releases the lock's outermost hold (a Numba event listener,
    registered at the first deferral: this module does not import numba)."""

    def __init__(self):
        self.armed = False
        self.listening = False

    def arm(self):
        if not self.listening:
            import numba.core.event as ev

            class RaiseAfterCompiling(ev.Listener):
                def on_start(_self, event):
                    pass

                def on_end(_self, event):
                    self.on_release()

            ev.register("numba:compiler_lock", RaiseAfterCompiling())
            self.listening = True
        self.armed = True

    def on_release(self):
        from numba.core.compiler_lock import global_compiler_lock
        if self.armed and not global_compiler_lock.is_locked():
            self.armed = False
            if _RUNNING:
                raise KeyboardInterrupt


_after_compiling = _AfterCompiling()


def _redeliver_swallowed_interrupt(unraisable):
    """``sys.unraisablehook`` while jobs run: a KeyboardInterrupt raised inside a
    callback that Python cannot propagate (a weakref callback, a ``__del__``, a ctypes
    callback) is delivered again instead of printed, so that it stops the job."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt) and _RUNNING:
        # from another thread, a moment later: delivered here, it would land in this
        # hook, itself a callback (swallowed again, it comes back here)
        threading.Timer(0.001, _interrupt_main_if_running).start()
    else:
        _hook_before[0](unraisable)


def _interrupt_main_if_running() -> None:
    if _RUNNING:
        import _thread
        _thread.interrupt_main(signal.SIGINT)  # runs _interrupt_running_job in the main thread


_hook_before = [sys.__unraisablehook__]  # the unraisablehook that _handle_ctrl_c replaced


def _handle_ctrl_c() -> None:
    signal.signal(signal.SIGINT, _interrupt_running_job)
    if sys.unraisablehook is not _redeliver_swallowed_interrupt:
        _hook_before[0] = sys.unraisablehook
        sys.unraisablehook = _redeliver_swallowed_interrupt


@contextlib.contextmanager
def jobs_in_this_process():
    """Ctrl-C while jobs run in the calling process (``--workers 0``), as in a pool worker:
    it is recorded, so that a job whose KeyboardInterrupt a library turned into another
    error still stops the sweep (see :func:`run_job`), and one after the last job's end
    raises KeyboardInterrupt on leaving. Restores the previous handler."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # e.g. a background job: leave it so
        yield
        return
    _STOPPED.clear()
    previous, previous_hook = signal.getsignal(signal.SIGINT), sys.unraisablehook
    _handle_ctrl_c()
    try:
        yield
        if _STOPPED:  # Ctrl-C between or after the jobs: still the user's Ctrl-C
            raise KeyboardInterrupt("the sweep was interrupted")
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = previous_hook
        _after_compiling.armed = False
        _STOPPED.clear()


@contextlib.contextmanager
def sigint_ignored():
    """Ignore Ctrl-C while pool workers are started: an ignored signal stays ignored in
    the new process until :func:`init_worker` runs, so a Ctrl-C while a worker imports
    its modules cannot kill it with a traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def init_worker(threads: int) -> None:
    """Process-pool initializer: fix thread counts before numba or torch load; Ctrl-C
    stops only a running job.

    A spawned worker imports the parent's main module before this runs, so a script
    that uses a pool keeps ``import btype`` (which loads numba) out of its top level.
    """
    _handle_ctrl_c()
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)


class DeviceUnavailable(RuntimeError):
    """A job asks for a device this machine does not have."""


def check_devices(jobs) -> None:
    """Refuse, before anything runs, jobs on a CUDA device where torch sees none.

    Raises :class:`DeviceUnavailable` naming the device, the jobs and the way out. Jobs on
    ``"cpu"`` or ``"auto"`` (CUDA when present, else the CPU) always pass.
    """
    wanted = sorted({job.device for job in jobs if str(job.device).startswith("cuda")})
    if not wanted:
        return
    import torch
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    for device in wanted:
        index = int(device.partition(":")[2] or 0)
        if index >= count:
            n = sum(job.device == device for job in jobs)
            raise DeviceUnavailable(
                f"{n} job(s) ask for device {device!r}, but this machine has "
                f"{'no CUDA device' if count == 0 else f'{count} CUDA device(s)'} "
                f"(torch.cuda.is_available() is {torch.cuda.is_available()}); run them where a "
                f"GPU is lent, or pass --device cpu to run them on the CPU")


def solution_size(net) -> dict:
    """Gate count and depth of ``net`` once :func:`btype.export.prune` has cut what does
    not reach an output (depth None for a clocked machine)."""
    from btype import export
    pruned, _ = export.prune(net)
    info = export.describe(pruned)
    return {"pruned_gates": int(info["n_gates"]),
            "pruned_depth": None if info.get("depth") is None else int(info["depth"])}


def _now(t=None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t))


def run_job(job: Job, runs_dir) -> dict:
    """Train one job and write its file (runs inside a worker).

    Returns a small dict: ``name``, ``status`` (``"done"``, or ``"skipped"`` when a
    finished file was already there), ``solved``, ``wall_seconds``. A run stopped by
    Ctrl-C raises KeyboardInterrupt and writes nothing: it is redone on restart.
    """
    if _STOPPED:
        raise KeyboardInterrupt("the sweep was interrupted")
    _RUNNING.append(job.name)
    try:
        return _run_job(job, Path(runs_dir))
    except Exception:
        # A Ctrl-C that lands inside Numba's compiler can come out as another error
        # (a RuntimeError "no compiled object yet"): it is still a Ctrl-C, not a failed run.
        if _STOPPED:
            raise KeyboardInterrupt(f"run {job.name} interrupted") from None
        raise
    finally:
        _RUNNING.remove(job.name)


def _run_job(job: Job, runs_dir: Path) -> dict:
    if is_complete(runs_dir / f"{job.name}.jsonl"):
        return {"name": job.name, "status": "skipped"}
    started = time.time()
    t0 = time.perf_counter()
    _limit_threads(job.threads)
    task = load_task(job.task, **job.task_args)
    header = {"type": "header", "format": FORMAT, "run": job.name, "job": job.config(),
              "task": {"n_inputs": int(task.n_inputs), "n_classes": task.n_classes,
                       "n_train": int(task.X_train.shape[0])},
              "sweep": json_ready(job.sweep), "versions": versions(), "machine": machine_info(),
              "started": _now(started)}
    if job.kind == "baseline":
        return _run_baseline(job, task, header, runs_dir, t0)
    result = train_job(job, build_network(job, task), task)
    if result.interrupted or result.stop_reason == "interrupted":
        raise KeyboardInterrupt(f"run {job.name} interrupted")
    wall = time.perf_counter() - t0
    records = [{"type": "record", **r} for r in result.trace]
    footer = {"type": "footer", "solved": bool(result.solved), "stop_reason": result.stop_reason,
              "train_fitness": float(result.train_fitness),
              "test_accuracy": None if result.test_accuracy is None else float(result.test_accuracy),
              "n_records": len(records), "wall_seconds": wall, "network_file": f"{job.name}.npz",
              **solution_size(result.network), "finished": _now()}
    if not write_run(runs_dir, job.name, [header, *records, footer], result.network):
        return {"name": job.name, "status": "skipped"}  # another writer finished it meanwhile
    return {"name": job.name, "status": "done", "solved": bool(result.solved), "wall_seconds": wall}


def _run_baseline(job: Job, task, header, runs_dir: Path, t0) -> dict:
    """A baseline job: fit the classifier, one record and a footer, no machine file."""
    from .baselines import baselines
    fitted = baselines(task, which=(job.method,), seed=job.seed)[job.method]
    wall = time.perf_counter() - t0
    record = {"type": "record", "step": 0, "evaluations": 0, "gate_evals": 0,
              "seconds": fitted["seconds"], "solved": False,
              "train_fitness": fitted["train_accuracy"], "test_accuracy": fitted["test_accuracy"]}
    footer = {"type": "footer", "solved": False, "stop_reason": "fitted",
              "train_fitness": fitted["train_accuracy"], "test_accuracy": fitted["test_accuracy"],
              "description": fitted["description"], "n_records": 1, "wall_seconds": wall,
              "network_file": None, "finished": _now()}
    if not write_run(runs_dir, job.name, [header, record, footer], None):
        return {"name": job.name, "status": "skipped"}
    return {"name": job.name, "status": "done", "solved": False, "wall_seconds": wall}
