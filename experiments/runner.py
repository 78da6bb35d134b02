"""Run (task, method, seed) jobs, one JSON Lines file each, through any executor.

A job's file ``runs/{task}__{method}__seed{seed}.jsonl`` (``__turing`` before the seed
for turing-mode machines) holds a ``header`` record (the job's configuration, the sweep
it belongs to, package versions, the machine), the trainer's records (``type`` is
``"record"``) and a ``footer`` record, in strict JSON (no ``NaN``). The file is written under a temporary
name and linked to its final name only when it is whole, by an exclusive create that
never replaces a file already there; so a file under its final name that ends in a
footer is a finished run: it is skipped on restart and never overwritten. Anything else
(temporary files of a killed sweep, a truncated, damaged or foreign file) is deleted and
redone. A sweep holds a lock on its directory, so two sweeps never write into one.

The trained machine is saved beside its file as ``.npz``.
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import importlib
import json
import math
import numbers
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback
import uuid
import warnings
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["Job", "Run", "SweepReport", "METHODS", "SEARCH_METHODS", "run_job", "run_sweep",
           "plan", "default_executor", "as_executor", "load_runs", "read_run", "is_complete",
           "machine_info", "build_network", "load_task", "sweep_lock", "SweepLocked",
           "SweepInterrupted", "RunFileWarning"]

FORMAT = 1
SEARCH_METHODS = ("es", "anneal", "ga", "random")
METHODS = SEARCH_METHODS + ("sgd",)
_NAME_OK = re.compile(r"^[A-Za-z0-9_.\-]+$")
_TMP_SUFFIX = ".tmp"
LOCK_NAME = ".sweep.lock"


def _strict(value):
    """``value`` with NaN and infinities as None and NumPy values as Python ones, so that
    ``json.dumps(..., allow_nan=False)`` writes strict JSON (no ``NaN`` token)."""
    if isinstance(value, dict):
        return {str(k) if isinstance(k, Path) else k: _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):  # NumPy scalars and arrays
        return _strict(value.tolist())
    return value


def _dumps(value) -> str:
    """One line of strict JSON (see :func:`_strict`)."""
    return json.dumps(_strict(value), allow_nan=False)


def _loads(line):
    """Parse one JSON line; the non-standard tokens ``NaN``/``Infinity`` of old files read as None."""
    return json.loads(line, parse_constant=lambda token: None)


def _json_ready(value):
    """A JSON round trip, so configurations compare equal however they were spelled."""
    return _loads(_dumps(value))


@dataclass(frozen=True)
class Job:
    """One training run: a task, a method, a seed, a budget and a machine shape.

    Parameters
    ----------
    task : str
        A ``btype.tasks.get`` name, e.g. ``"parity5"``, ``"digits"``, ``"mnist14-3v7"``.
    method : str
        ``"es"``, ``"anneal"``, ``"ga"``, ``"random"`` or ``"sgd"`` (any name with ``trainer``).
    seed : int
        Seeds both the wiring (``random_network``) and the trainer, so every method
        trained on (task, seed) starts from the same machine.
    budget : dict
        Keyword arguments of ``btype.Budget``.
    network : dict
        ``n_gates`` and optionally ``n_outputs`` (default: the task's), ``outputs_per_class``
        (classification), ``kind``, ``layers``, ``reach``, ``link``, ``modified_fraction``.
    options : dict
        Extra keyword arguments of the trainer.
    device : str
        For ``sgd``: ``"cpu"``, ``"cuda"`` or ``"auto"``.
    task_args : dict
        Extra arguments of ``btype.tasks.get`` (e.g. ``{"directory": ...}`` for MNIST).
    threads : int
        Numba and torch threads inside the job; 1 keeps search runs deterministic
        and lets jobs run side by side.
    trainer : str, optional
        ``"module:function"`` called instead of the built-in trainer, as
        ``function(net, task, method=, budget=, seed=, device=, options=)``.
    sweep : dict
        Facts about the sweep (preset, seeds, budget axis); written to the header but
        not part of the job's identity.
    """

    task: str
    method: str
    seed: int
    budget: dict
    network: dict
    options: dict = field(default_factory=dict)
    device: str = "cpu"
    task_args: dict = field(default_factory=dict)
    threads: int = 1
    trainer: str | None = None
    sweep: dict = field(default_factory=dict)

    def __post_init__(self):
        for name in ("task", "method"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _NAME_OK.match(value) or "__" in value:
                raise ValueError(f"Job {name} must be a plain name (letters, digits, '_.-', "
                                 f"no '__'), got {value!r}")
        if self.trainer is None and self.method not in METHODS:
            raise ValueError(f"Job method must be one of {METHODS} (or give trainer=), got {self.method!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"Job seed must be an int >= 0, got {self.seed!r}")
        for name in ("budget", "network", "options", "task_args", "sweep"):
            if not isinstance(getattr(self, name), dict):
                raise TypeError(f"Job {name} must be a dict, got {getattr(self, name)!r}")
        import btype
        btype.Budget(**self.budget)  # a bad budget fails here, not once in every job
        if "n_gates" not in self.network:
            raise ValueError(f"Job network needs n_gates, got {self.network!r}")
        if self.trainer is not None and (not isinstance(self.trainer, str) or ":" not in self.trainer):
            raise ValueError(f"Job trainer must be 'module:function', got {self.trainer!r}")
        if isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 1:
            raise ValueError(f"Job threads must be an int >= 1, got {self.threads!r}")

    @property
    def link(self) -> str:
        return self.network.get("link", "switch")

    @property
    def name(self) -> str:
        """The file stem: ``{task}__{method}__seed{seed}``, with ``__{link}`` for non-switch links."""
        link = "" if self.link == "switch" else f"__{self.link}"
        return f"{self.task}__{self.method}{link}__seed{self.seed}"

    def config(self) -> dict:
        """The job's identity as JSON-ready data (everything but ``sweep``)."""
        data = asdict(self)
        data.pop("sweep")
        return _json_ready(data)


# -- the machine ---------------------------------------------------------------------------

def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or platform.machine() or "unknown CPU"


def _gpu_name():
    # Ask torch only where it is loaded already: importing it just to name a GPU
    # would cost every search-only worker a second or two.
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
        except Exception:  # a broken CUDA install must not sink the run
            return None
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=10)
            names = [n.strip() for n in out.stdout.splitlines() if n.strip()]
            return names[0] if out.returncode == 0 and names else None
        except (OSError, subprocess.SubprocessError):
            return None
    return None


@functools.lru_cache(maxsize=None)
def _static_machine_info() -> tuple:
    import platform
    return (("cpu", _cpu_model()), ("cores", os.cpu_count()), ("platform", platform.platform()),
            ("python", platform.python_version()), ("host", platform.node()))


def machine_info() -> dict:
    """CPU model, core count, GPU name (None without one), platform and Python version."""
    info = dict(_static_machine_info())
    info["gpu"] = _gpu_name()
    return info


def _versions() -> dict:
    import btype
    versions = {"btype": btype.__version__}
    for name in ("numpy", "numba", "torch"):
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = getattr(module, "__version__", "?")
    return versions


# -- one job ---------------------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def _cached_task(name, args_json):
    import btype
    return btype.tasks.get(name, **json.loads(args_json))


def load_task(name, **task_args):
    """The task of a job: ``btype.tasks.get(name, **task_args)``, cached per process
    so that a worker loads a data set once for all its jobs."""
    return _cached_task(name, json.dumps(_strict(task_args), sort_keys=True))


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


def _train_search(net, task, *, method, budget, seed, device, options):
    from btype import search
    return search.train(net, task, method=method, budget=budget, seed=seed, progress=False, **options)


def _train_sgd(net, task, *, method, budget, seed, device, options):
    import sgd
    return sgd.train(net, task, budget=budget, device=device, seed=seed, progress=False, **options)


def _resolve_trainer(job: Job):
    if job.trainer is None:
        return _train_sgd if job.method == "sgd" else _train_search
    module, _, attr = job.trainer.partition(":")
    return getattr(importlib.import_module(module), attr)


def _limit_threads(threads: int) -> None:
    import numba
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


_RUNNING = []  # names of the jobs running in this process
_STOPPED = []  # set in a pool worker by Ctrl-C: it starts no further job


def _interrupt_running_job(signum, frame):
    # Ctrl-C reaches every process of the group. In a worker it stops the running job
    # (its trainer returns early and run_job writes nothing) and the jobs already queued
    # to it; an idle worker does not die with a traceback.
    _STOPPED.append(signum)
    if _RUNNING:
        raise KeyboardInterrupt


@contextlib.contextmanager
def _sigint_ignored():
    """Ignore Ctrl-C while pool workers are started: an ignored signal stays ignored in
    the new process until its initializer runs, so a Ctrl-C while a worker imports its
    modules cannot kill it with a traceback."""
    import threading
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _init_worker(threads: int) -> None:
    """Process-pool initializer: fix thread counts before numba or torch load; Ctrl-C
    stops only a running job."""
    signal.signal(signal.SIGINT, _interrupt_running_job)
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)


def _write_lines(path: Path, lines) -> None:
    with open(path, "w") as fh:
        for obj in lines:
            fh.write(_dumps(obj) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def run_job(job: Job, runs_dir) -> dict:
    """Train one job and write its file (runs inside a worker).

    Returns a small dict: ``name``, ``status`` (``"done"`` or ``"skipped"`` when a
    finished file was already there), ``solved``, ``wall_seconds``. A run stopped by
    Ctrl-C raises KeyboardInterrupt and writes nothing: it is redone on restart.
    """
    if _STOPPED:
        raise KeyboardInterrupt("the sweep was interrupted")
    _RUNNING.append(job.name)
    try:
        return _run_job(job, Path(runs_dir))
    finally:
        _RUNNING.remove(job.name)


def _run_job(job: Job, runs_dir: Path) -> dict:
    final = runs_dir / f"{job.name}.jsonl"
    final_net = runs_dir / f"{job.name}.npz"
    if is_complete(final):
        return {"name": job.name, "status": "skipped"}
    started = time.time()
    t0 = time.perf_counter()
    trainer = _resolve_trainer(job)
    _limit_threads(job.threads)
    task = load_task(job.task, **job.task_args)
    net = build_network(job, task)
    import btype
    result = trainer(net, task, method=job.method, budget=btype.Budget(**job.budget),
                     seed=job.seed, device=job.device, options=dict(job.options))
    if result.interrupted:
        raise KeyboardInterrupt(f"run {job.name} interrupted")
    wall = time.perf_counter() - t0
    header = {"type": "header", "format": FORMAT, "run": job.name, "job": job.config(),
              "sweep": _json_ready(job.sweep), "versions": _versions(), "machine": machine_info(),
              "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started))}
    records = [{"type": "record", **r} for r in result.trace]
    footer = {"type": "footer", "solved": bool(result.solved),
              "train_fitness": float(result.train_fitness),
              "test_accuracy": None if result.test_accuracy is None else float(result.test_accuracy),
              "interrupted": bool(result.interrupted), "n_records": len(records),
              "wall_seconds": wall, "network_file": final_net.name,
              "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp_net = runs_dir / f".{job.name}.npz.{token}{_TMP_SUFFIX}"
    tmp = runs_dir / f".{job.name}.jsonl.{token}{_TMP_SUFFIX}"
    try:
        result.network.save(tmp_net)
        _write_lines(tmp, [header, *records, footer])
        # Hard links are exclusive creates: a file already under the final name (another
        # writer's) is never replaced. The machine goes first; the run file, which marks
        # the run finished, last.
        try:
            os.link(tmp_net, final_net)
        except FileExistsError:
            return {"name": job.name, "status": "skipped"}
        try:
            os.link(tmp, final)
        except FileExistsError:
            final_net.unlink()
            return {"name": job.name, "status": "skipped"}
    finally:
        for path in (tmp, tmp_net):
            if path.exists():
                path.unlink()
    return {"name": job.name, "status": "done", "solved": bool(result.solved), "wall_seconds": wall}


# -- reading files ---------------------------------------------------------------------------

class RunFileWarning(UserWarning):
    """A file under ``runs/`` that is not a whole run (damaged, foreign or unfinished)."""


@dataclass
class Run:
    """One run read back from its JSON Lines file."""

    header: dict
    records: list
    footer: dict | None = None
    path: Path | None = None

    @property
    def job(self) -> dict:
        return self.header["job"]

    @property
    def task(self) -> str:
        return self.job["task"]

    @property
    def method(self) -> str:
        return self.job["method"]

    @property
    def seed(self) -> int:
        return self.job["seed"]

    @property
    def link(self) -> str:
        return self.job["network"].get("link", "switch")

    @property
    def machine(self) -> dict:
        return self.header.get("machine", {})

    @property
    def complete(self) -> bool:
        return self.footer is not None


_AXES = ("step", "evaluations", "gate_evals", "seconds")


def _is_number(value) -> bool:
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value))


def _is_fraction(value) -> bool:
    return value is None or (_is_number(value) and 0.0 <= value <= 1.0)


def _good_header(obj) -> bool:
    if not isinstance(obj, dict) or obj.get("type") != "header" or obj.get("format") != FORMAT:
        return False
    job = obj.get("job")
    if not isinstance(job, dict) or not isinstance(job.get("network"), dict):
        return False
    if not all(isinstance(job.get(k), str) and job[k] for k in ("task", "method")):
        return False
    seed = job.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        return False
    if not isinstance(job["network"].get("link", "switch"), str):
        return False
    return all(isinstance(obj.get(k, {}), dict) for k in ("machine", "versions", "sweep"))


def _good_record(obj, previous) -> bool:
    if not isinstance(obj, dict) or not isinstance(obj.get("solved"), bool):
        return False
    if not all(_is_number(obj.get(k)) and obj[k] >= 0 for k in _AXES):
        return False
    if previous is not None and any(obj[k] < previous[k] for k in _AXES):
        return False  # the axes only grow along a run
    return all(_is_fraction(obj.get(k)) for k in obj if k.endswith(("_fitness", "_accuracy")))


def _good_footer(obj) -> bool:
    return (isinstance(obj, dict) and isinstance(obj.get("solved"), bool)
            and _is_fraction(obj.get("train_fitness")) and _is_fraction(obj.get("test_accuracy")))


def read_run(path) -> Run | None:
    """Parse a run file; None when it is not a run file (no readable header).

    Reading stops at the first line that is not valid UTF-8 JSON of the expected shape
    (a truncated, damaged or foreign file): ``footer`` is set only when every line
    parsed and the last one is a footer after at least one record, so anything else
    counts as unfinished. Never raises for the file's contents; the tokens ``NaN`` and
    ``Infinity`` of old files read as None.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            lines = fh.read().split(b"\n")
    except OSError:
        return None
    header, records, footer = None, [], None
    for i, raw in enumerate(lines):
        if not raw:
            continue
        try:
            obj = _loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
            footer = None
            break
        if header is None:
            if not _good_header(obj):
                return None
            header = obj
            continue
        kind = obj.get("type") if isinstance(obj, dict) and footer is None else None
        if kind == "record" and _good_record(obj, records[-1] if records else None):
            records.append({k: v for k, v in obj.items() if k != "type"})
        elif kind == "footer" and records and _good_footer(obj):
            footer = obj
        else:
            footer = None
            break
    if header is None:
        return None
    return Run(header, records, footer, path)


def is_complete(path) -> bool:
    """True when ``path`` holds a whole run (a header first, a footer last)."""
    path = Path(path)
    if not path.is_file():
        return False
    run = read_run(path)
    return run is not None and run.complete


def _runs_dir(results_dir) -> Path:
    results_dir = Path(results_dir)
    return results_dir / "runs" if (results_dir / "runs").is_dir() else results_dir


def load_runs(results_dir, *, complete_only=True) -> list[Run]:
    """Every run file under ``results_dir/runs`` (or ``results_dir`` itself), sorted by name.

    A file that is not a whole run (damaged, foreign, or unfinished when
    ``complete_only``) is skipped with a :class:`RunFileWarning` naming it.
    """
    runs_dir = _runs_dir(results_dir)
    if not runs_dir.is_dir():
        raise FileNotFoundError(f"results_dir {str(results_dir)!r} has no runs/ folder")
    runs = []
    for path in sorted(runs_dir.glob("*.jsonl")):
        run = read_run(path)
        if run is not None and (run.complete or not complete_only):
            runs.append(run)
        else:
            warnings.warn(f"skipping {path}: not a whole run file (damaged, foreign or unfinished)",
                          RunFileWarning, stacklevel=2)
    return runs


# -- sweeps ----------------------------------------------------------------------------------

@dataclass
class SweepReport:
    """What a sweep did: names of runs done now, skipped as finished, failed, and redone."""

    done: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)
    removed: list = field(default_factory=list)
    stale: list = field(default_factory=list)


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
        import platform
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


def plan(jobs, runs_dir) -> tuple[list, SweepReport]:
    """Sort jobs into finished (skipped) and to-do; delete leftovers of killed sweeps.

    Runs under :func:`sweep_lock`, so no live sweep is writing into ``runs_dir`` and
    every temporary file there is a dead one's. Returns the jobs to run and a report
    listing skipped runs, deleted files (temporary files, incomplete or damaged run
    files, machines without their run file) and ``stale`` runs: finished files whose
    configuration differs from the job's (kept, never overwritten; a warning).
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
        for path in sorted(runs_dir.glob(f".*{_TMP_SUFFIX}")):
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
            todo.append(job)
    return todo, report


def default_executor(workers=2, threads=1):
    """A process pool of ``workers`` spawned processes with ``threads`` threads each."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an int >= 1, got {workers!r}")
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(threads,))


def as_executor(executor):
    """Accept a ``concurrent.futures.Executor`` or a ``dask.distributed.Client``."""
    if hasattr(executor, "get_executor"):  # a dask Client: its submit returns dask futures
        return executor.get_executor()
    if executor is None or hasattr(executor, "submit"):
        return executor
    raise TypeError(f"executor must be a concurrent.futures.Executor or a dask Client, got {executor!r}")


def run_sweep(jobs, runs_dir, executor=None, *, progress=True, wait=False) -> SweepReport:
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
        return _run_planned(jobs, runs_dir, executor, progress)


def _run_planned(jobs, runs_dir, executor, progress) -> SweepReport:
    from tqdm.auto import tqdm
    todo, report = plan(jobs, runs_dir)
    executor = as_executor(executor)
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
            for job in todo:
                try:
                    outcome = run_job(job, str(runs_dir))
                except Exception:
                    settle(job, error=traceback.format_exc())
                else:
                    settle(job, outcome)
        else:
            with _sigint_ignored():  # pool workers start with Ctrl-C ignored (see _init_worker)
                futures = {executor.submit(run_job, job, str(runs_dir)): job for job in todo}
            try:
                for future in as_completed(futures):
                    try:
                        outcome = future.result()
                    except Exception as exc:
                        settle(futures[future], error="".join(
                            traceback.format_exception(type(exc), exc, exc.__traceback__)))
                    else:
                        settle(futures[future], outcome)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    except KeyboardInterrupt as exc:
        raise SweepInterrupted(report) from exc
    finally:
        bar.close()
    return report
