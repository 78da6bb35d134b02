"""Run (task, method, seed) jobs, one JSON Lines file each, through any executor.

A job's file ``runs/{task}__{method}__seed{seed}.jsonl`` (``__turing`` before the seed
for turing-mode machines) holds a ``header`` record (the job's configuration, the sweep
it belongs to, package versions, the machine), the trainer's records (``type`` is
``"record"``) and a ``footer`` record. The file is written under a temporary name and
renamed into place only when it is whole, so a file under its final name that ends in a
footer is a finished run: it is skipped on restart and never overwritten. Anything else
(temporary files of a killed sweep, a truncated file) is deleted and redone.

The trained machine is saved beside its file as ``.npz``.
"""
from __future__ import annotations

import functools
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
import uuid
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["Job", "Run", "SweepReport", "METHODS", "SEARCH_METHODS", "run_job", "run_sweep",
           "plan", "default_executor", "as_executor", "load_runs", "read_run", "is_complete",
           "machine_info", "build_network", "load_task"]

FORMAT = 1
SEARCH_METHODS = ("es", "anneal", "ga", "random")
METHODS = SEARCH_METHODS + ("sgd",)
_NAME_OK = re.compile(r"^[A-Za-z0-9_.\-]+$")
_TMP_SUFFIX = ".tmp"


def _json_ready(value):
    """A JSON round trip, so configurations compare equal however they were spelled."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(obj):
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} {obj!r} to JSON")


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
    return _cached_task(name, json.dumps(task_args, sort_keys=True, default=_json_default))


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


def _init_worker(threads: int) -> None:
    """Process-pool initializer: fix thread counts before numba or torch load."""
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)


def _write_lines(path: Path, lines) -> None:
    with open(path, "w") as fh:
        for obj in lines:
            fh.write(json.dumps(obj, default=_json_default) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def run_job(job: Job, runs_dir) -> dict:
    """Train one job and write its file (runs inside a worker).

    Returns a small dict: ``name``, ``status`` (``"done"`` or ``"skipped"`` when a
    finished file was already there), ``solved``, ``wall_seconds``.
    """
    runs_dir = Path(runs_dir)
    final = runs_dir / f"{job.name}.jsonl"
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
    wall = time.perf_counter() - t0
    header = {"type": "header", "format": FORMAT, "run": job.name, "job": job.config(),
              "sweep": _json_ready(job.sweep), "versions": _versions(), "machine": machine_info(),
              "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started))}
    records = [{"type": "record", **r} for r in result.trace]
    footer = {"type": "footer", "solved": bool(result.solved),
              "train_fitness": float(result.train_fitness),
              "test_accuracy": None if result.test_accuracy is None else float(result.test_accuracy),
              "interrupted": bool(result.interrupted), "n_records": len(records),
              "wall_seconds": wall, "network_file": f"{job.name}.npz",
              "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp_net = runs_dir / f".{job.name}.npz.{token}{_TMP_SUFFIX}"
    tmp = runs_dir / f".{job.name}.jsonl.{token}{_TMP_SUFFIX}"
    try:
        result.network.save(tmp_net)
        _write_lines(tmp, [header, *records, footer])
        if is_complete(final):  # finished elsewhere meanwhile: keep theirs
            return {"name": job.name, "status": "skipped"}
        os.replace(tmp_net, runs_dir / f"{job.name}.npz")
        os.replace(tmp, final)  # the footer-ended file appears last: it marks the run finished
    finally:
        for path in (tmp, tmp_net):
            if path.exists():
                path.unlink()
    return {"name": job.name, "status": "done", "solved": bool(result.solved), "wall_seconds": wall}


# -- reading files ---------------------------------------------------------------------------

@dataclass
class Run:
    """One run read back from its JSON Lines file."""

    header: dict
    records: list
    footer: dict | None = None
    path: Path | None = None

    @property
    def job(self) -> dict:
        return self.header.get("job", {})

    @property
    def task(self) -> str:
        return self.job.get("task", "")

    @property
    def method(self) -> str:
        return self.job.get("method", "")

    @property
    def seed(self) -> int:
        return int(self.job.get("seed", 0))

    @property
    def link(self) -> str:
        return self.job.get("network", {}).get("link", "switch")

    @property
    def machine(self) -> dict:
        return self.header.get("machine", {})

    @property
    def complete(self) -> bool:
        return self.footer is not None


def read_run(path) -> Run | None:
    """Parse a run file; None when it has no readable header.

    Reading stops at the first line that does not parse (a truncated file), and
    ``footer`` is set only when the last line is a footer.
    """
    path = Path(path)
    header, records, footer = None, [], None
    try:
        with open(path) as fh:
            lines = fh.read().split("\n")
    except OSError:
        return None
    for i, line in enumerate(lines):
        if not line:
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            footer = None
            break
        kind = obj.get("type") if isinstance(obj, dict) else None
        if i == 0:
            if kind != "header":
                return None
            header = obj
        elif kind == "record":
            footer = None
            records.append({k: v for k, v in obj.items() if k != "type"})
        elif kind == "footer":
            footer = obj
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
    """Every run file under ``results_dir/runs`` (or ``results_dir`` itself), sorted by name."""
    runs_dir = _runs_dir(results_dir)
    if not runs_dir.is_dir():
        raise FileNotFoundError(f"results_dir {str(results_dir)!r} has no runs/ folder")
    runs = []
    for path in sorted(runs_dir.glob("*.jsonl")):
        run = read_run(path)
        if run is not None and (run.complete or not complete_only):
            runs.append(run)
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


def plan(jobs, runs_dir) -> tuple[list, SweepReport]:
    """Sort jobs into finished (skipped) and to-do; delete leftovers of killed sweeps.

    Returns the jobs to run and a report listing skipped runs, deleted files
    (temporary files, incomplete run files) and ``stale`` runs: finished files whose
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
    runs_dir.mkdir(parents=True, exist_ok=True)
    report = SweepReport()
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
        if path.exists():
            path.unlink()
            report.removed.append(path.name)
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


def run_sweep(jobs, runs_dir, executor=None, *, progress=True) -> SweepReport:
    """Run every unfinished job, each into its own file under ``runs_dir``.

    Parameters
    ----------
    jobs : iterable of Job
    runs_dir : path
    executor : concurrent.futures.Executor, dask Client, or None
        None runs the jobs one after another in this process.
    progress : bool
        Show a tqdm bar over jobs.

    Returns
    -------
    SweepReport
        A job that raised is listed in ``failed`` with its traceback; the others go on.
    """
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
    finally:
        bar.close()
    return report
