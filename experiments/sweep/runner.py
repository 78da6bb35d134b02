"""Sweeps: many jobs, each into its own run file, through any executor, resumable.

:func:`run_sweep` holds the output directory's lock (:func:`sweep_lock`), sorts the jobs
into finished and to-do (:func:`plan`, which clears what killed sweeps left behind) and
runs the rest in a process pool, a Dask cluster or this process. A restart skips
finished runs and redoes the others.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import shutil
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from pathlib import Path

from experiments.sweep.execute import run_job
from experiments.sweep.host import kernels_cached
from experiments.sweep.interrupts import init_worker, jobs_in_this_process, sigint_ignored, stop_children
from experiments.sweep.job import Job
from experiments.sweep.runfiles import TMP_SUFFIX, read_run

__all__ = ["SweepReport", "SweepLocked", "SweepInterrupted", "LOCK_NAME", "sweep_lock", "plan",
           "default_executor", "open_executor", "as_executor", "run_sweep"]

LOCK_NAME = ".sweep.lock"
#: After a Ctrl-C, how long the jobs already running may take to stop and be counted.
WIND_DOWN_SECONDS = 60
#: How long connecting to a Dask scheduler may take.
DASK_TIMEOUT_SECONDS = 10


@dataclass
class SweepReport:
    """What a sweep did: names of runs done now, skipped as finished, failed, redone, and
    reused (linked from another directory's identical finished run)."""

    done: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)
    removed: list = field(default_factory=list)
    stale: list = field(default_factory=list)
    reused: list = field(default_factory=list)


class SweepLocked(RuntimeError):
    """Another sweep holds the output directory's lock."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a sweep; ``report`` says what was finished by then."""

    def __init__(self, report):
        super().__init__(f"sweep interrupted after {len(report.done)} runs")
        self.report = report


_HELD_LOCKS: dict = {}  # lock path -> times entered in this process (the lock is re-entrant)


@contextlib.contextmanager
def sweep_lock(runs_dir, *, wait=False):
    """Hold the exclusive lock of ``runs_dir`` (an advisory ``flock`` on ``.sweep.lock``).

    One sweep at a time writes into a directory: a second one raises
    :class:`SweepLocked` naming the holder, or with ``wait=True`` blocks until the first
    ends. The operating system drops the lock when its process dies, so a killed sweep
    never leaves the directory locked.
    """
    runs_dir = Path(runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    path = (runs_dir / LOCK_NAME).resolve()
    if _HELD_LOCKS.get(path):
        _HELD_LOCKS[path] += 1
        try:
            yield
        finally:
            _HELD_LOCKS[path] -= 1
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "another process"
            raise SweepLocked(f"another sweep ({holder}) is writing into {runs_dir}; wait for it to "
                              f"end (compare --wait) or use another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {platform.node()}, since "
                      f"{time.strftime('%Y-%m-%d %H:%M:%S')}".encode(), 0)
        _HELD_LOCKS[path] = 1
        try:
            yield
        finally:
            del _HELD_LOCKS[path]
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the flock


def plan(jobs, runs_dir, *, reuse_from=None) -> tuple[list, SweepReport]:
    """Sort jobs into finished (skipped) and to-do; delete leftovers of killed sweeps.

    Runs under :func:`sweep_lock`, so no live sweep is writing into ``runs_dir`` and
    every temporary file there is a dead one's. Returns the jobs to run and a report
    listing skipped runs, deleted files (temporary files, incomplete or damaged run
    files, machines without their run file) and ``stale`` runs: finished files whose
    configuration differs from the job's (kept, never overwritten; a warning).

    ``reuse_from``, another runs directory: a job whose finished run is there with the
    very same configuration is not run again but hard-linked (copied where links fail)
    into ``runs_dir`` and listed in ``reused`` (the matched and tuned views share the
    runs where tuning kept the matched settings).
    """
    jobs = list(jobs)
    for job in jobs:
        if not isinstance(job, Job):
            raise TypeError(f"jobs must be Job objects, got {job!r}")
    names = [job.name for job in jobs]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"jobs contain duplicate runs: {dupes[:5]}")
    runs_dir = Path(runs_dir)
    report = SweepReport()
    with sweep_lock(runs_dir):
        for path in sorted(runs_dir.glob(f".*{TMP_SUFFIX}")):
            path.unlink()
            report.removed.append(path.name)
        todo = []
        for job in jobs:
            path = runs_dir / f"{job.name}.jsonl"
            run = read_run(path) if path.exists() else None
            if run is not None and run.complete:
                report.skipped.append(job.name)
                if run.job != job.config():
                    report.stale.append(job.name)
                continue
            for leftover in (path, path.with_suffix(".npz")):
                if leftover.exists():
                    leftover.unlink()
                    report.removed.append(leftover.name)
            if reuse_from is not None and _reuse(job, Path(reuse_from), runs_dir):
                report.reused.append(job.name)
                continue
            todo.append(job)
    return todo, report


def _reuse(job, source_dir: Path, runs_dir: Path) -> bool:
    source = source_dir / f"{job.name}.jsonl"
    run = read_run(source) if source.exists() else None
    if run is None or not run.complete or run.job != job.config():
        return False
    # the machine first, the run file (which marks the run finished) last
    for src in (source.with_suffix(".npz"), source):
        if src.exists():
            dst = runs_dir / src.name
            try:
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)
    return True


def default_executor(workers=2, threads=1):
    """A process pool of ``workers`` spawned processes with ``threads`` threads each."""
    import multiprocessing
    from btype._checks import check_int
    check_int(workers, "workers", 1)
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=init_worker, initargs=(threads,))


def open_executor(workers=2, threads=1, *, dask=None):
    """``(executor, close)`` for a sweep: a Dask client's executor when ``dask`` names a
    scheduler, else a pool of ``workers`` processes, or None (jobs one by one in this
    process) for ``workers=0``. Call ``close()`` when done."""
    if dask:
        client = _dask_client(dask)
        return client.get_executor(), client.close
    if workers == 0:
        return None, lambda: None
    pool = default_executor(workers, threads)
    return pool, lambda: pool.shutdown(wait=True, cancel_futures=True)


def _dask_client(address):
    """A ``dask.distributed.Client`` of the scheduler at ``address``, or ValueError saying
    what failed. The connection is made in a thread and given up after
    :data:`DASK_TIMEOUT_SECONDS`: a server that answers but is no Dask scheduler can hold
    the client's own timeout off."""
    import threading
    from dask.distributed import Client
    made = {}

    def connect():
        try:
            made["client"] = Client(address, timeout=DASK_TIMEOUT_SECONDS)
        except BaseException as exc:  # a refused, silent or foreign server fails in many ways
            made["error"] = exc

    thread = threading.Thread(target=connect, daemon=True, name="btype-dask-connect")
    thread.start()
    thread.join(DASK_TIMEOUT_SECONDS + 5)
    if "client" in made:
        return made["client"]
    error = made.get("error")
    reason = (f"{type(error).__name__}: {error}" if error is not None else
              "no answer a Dask scheduler would give (is another server listening on that port?)")
    raise ValueError(f"cannot connect to a Dask scheduler at {address} within "
                     f"{DASK_TIMEOUT_SECONDS + 5} s: {reason}")


def as_executor(executor):
    """Accept a ``concurrent.futures.Executor`` or a ``dask.distributed.Client``."""
    if hasattr(executor, "get_executor"):  # a dask Client: its submit returns dask futures
        return executor.get_executor()
    if executor is None or hasattr(executor, "submit"):
        return executor
    raise TypeError(f"executor must be a concurrent.futures.Executor or a dask Client, got {executor!r}")


def run_sweep(jobs, runs_dir, executor=None, *, progress=True, wait=False, reuse_from=None) -> SweepReport:
    """Run every unfinished job, each into its own file under ``runs_dir``.

    The sweep holds ``runs_dir``'s lock (:func:`sweep_lock`) from start to end.

    Parameters
    ----------
    jobs : iterable of Job
    runs_dir : path
    executor : concurrent.futures.Executor, dask Client, or None
        None runs the jobs one after another in this process.
    progress : bool
        Show a tqdm bar over jobs.
    wait : bool
        Wait for another sweep writing into ``runs_dir`` to end instead of raising
        :class:`SweepLocked`.
    reuse_from : path, optional
        Another runs directory whose identical finished runs are linked, not rerun
        (see :func:`plan`).

    Returns
    -------
    SweepReport
        A job that raised is listed in ``failed`` with its traceback; the others go on.

    Raises
    ------
    SweepInterrupted
        On Ctrl-C (a KeyboardInterrupt carrying the report so far).
    """
    with sweep_lock(runs_dir, wait=wait):
        return _run_planned(jobs, runs_dir, executor, progress, reuse_from)


def _run_planned(jobs, runs_dir, executor, progress, reuse_from=None) -> SweepReport:
    from tqdm.auto import tqdm
    todo, report = plan(jobs, runs_dir, reuse_from=reuse_from)
    executor = as_executor(executor)
    if progress and todo and not kernels_cached():
        print("btype: the workers compile the Numba kernels on their first runs (cached for later "
              "sweeps); the first runs are slow and the first time estimates too long", file=sys.stderr,
              flush=True)
    bar = tqdm(total=len(todo), desc="runs", unit="run", disable=not progress or not todo)

    def settle(job, outcome=None, error=None):
        if error is not None:
            report.failed[job.name] = error
        elif outcome["status"] == "done":
            report.done.append(job.name)
        else:
            report.skipped.append(job.name)
        bar.update(1)
        if report.failed:
            bar.set_postfix(failed=len(report.failed))

    try:
        if executor is None:
            with jobs_in_this_process():
                for job in todo:
                    try:
                        outcome = run_job(job, str(runs_dir))
                    except Exception:
                        settle(job, error=traceback.format_exc())
                    else:
                        settle(job, outcome)
        else:
            _run_in_executor(executor, todo, runs_dir, settle)
    except KeyboardInterrupt as exc:
        raise SweepInterrupted(report) from exc
    finally:
        bar.close()
    return report


def _settle_future(future, job, settle) -> None:
    try:
        outcome = future.result()
    except Exception as exc:
        settle(job, error="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    else:
        settle(job, outcome)


def _run_in_executor(executor, todo, runs_dir, settle) -> None:
    with sigint_ignored():  # pool workers start with Ctrl-C ignored (see init_worker)
        futures = {executor.submit(run_job, job, str(runs_dir)): job for job in todo}
    settled = set()
    try:
        for future in as_completed(futures):
            settled.add(future)
            _settle_future(future, futures[future], settle)
    except BaseException:
        # Ctrl-C or SIGTERM: wind down with further signals held off, so that the jobs
        # already finishing are counted and no worker outlives the sweep.
        with sigint_ignored():
            for future in futures:
                future.cancel()
            pool = isinstance(executor, ProcessPoolExecutor)
            if pool:
                stop_children()
            _, running = wait(futures, timeout=WIND_DOWN_SECONDS)
            if running and pool:
                stop_children(kill=True)  # stuck: their runs are redone on restart
            for future, job in futures.items():
                if future not in settled and future.done() and not future.cancelled() \
                        and future.exception() is None:
                    _settle_future(future, job, settle)
        raise

