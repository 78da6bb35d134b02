"""Running one job: its task and starting machine, its trainer from the registry, its file.

:func:`run_job` is what an executor's worker calls; it trains with
``btype.trainer(job.method)`` under the one trainer contract and writes the run with
:func:`experiments.sweep.runfiles.write_run`.
"""
from __future__ import annotations

import functools
import importlib
import json
import sys
import time
from pathlib import Path

from experiments.sweep import interrupts
from experiments.sweep.job import Job, json_ready, strict_json
from experiments.sweep.machines import random_network_args
from experiments.sweep.host import machine_info, versions
from experiments.sweep.runfiles import FORMAT, is_complete, write_run
from experiments.sweep.taskfiles import build_task

__all__ = ["run_job", "load_task", "build_network", "train_job", "solution_size", "check_devices",
           "DeviceUnavailable"]


@functools.lru_cache(maxsize=8)
def _cached_task(name, args_json):
    return build_task(name, **json.loads(args_json))


def load_task(name, **task_args):
    """The task of a job (:func:`experiments.sweep.taskfiles.build_task`: a built-in name,
    a data file or a factory), cached per process so that a worker loads a data set once
    for all its jobs."""
    return _cached_task(name, json.dumps(strict_json(task_args), sort_keys=True))


def build_network(job: Job, task):
    """The job's starting machine: ``random_network`` seeded by the job's seed, shaped by
    :func:`experiments.sweep.machines.random_network_args`."""
    import btype
    return btype.random_network(**random_network_args(job.network, task), seed=job.seed)


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
    with interrupts.running(job.name):
        try:
            return _run_job(job, Path(runs_dir))
        except Exception:
            # A Ctrl-C that lands inside Numba's compiler can come out as another error
            # (a RuntimeError "no compiled object yet"): it is still a Ctrl-C, not a failed run.
            if interrupts.STATE.stopped is not None:
                raise KeyboardInterrupt(f"run {job.name} interrupted") from None
            raise


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
    with interrupts.writing():
        written = write_run(runs_dir, job.name, [header, *records, footer], result.network)
    if not written:
        return {"name": job.name, "status": "skipped"}  # another writer finished it meanwhile
    return {"name": job.name, "status": "done", "solved": bool(result.solved), "wall_seconds": wall}


def _run_baseline(job: Job, task, header, runs_dir: Path, t0) -> dict:
    """A baseline job: fit the classifier, one record and a footer, no machine file."""
    from experiments.sweep.baselines import baselines
    fitted = baselines(task, which=(job.method,), seed=job.seed)[job.method]
    wall = time.perf_counter() - t0
    record = {"type": "record", "step": 0, "evaluations": 0, "gate_evals": 0,
              "seconds": fitted["seconds"], "solved": False,
              "train_fitness": fitted["train_accuracy"], "test_accuracy": fitted["test_accuracy"]}
    footer = {"type": "footer", "solved": False, "stop_reason": "fitted",
              "train_fitness": fitted["train_accuracy"], "test_accuracy": fitted["test_accuracy"],
              "description": fitted["description"], "n_records": 1, "wall_seconds": wall,
              "network_file": None, "finished": _now()}
    with interrupts.writing():
        written = write_run(runs_dir, job.name, [header, record, footer], None)
    if not written:
        return {"name": job.name, "status": "skipped"}
    return {"name": job.name, "status": "done", "solved": False, "wall_seconds": wall}
