"""Run files: one JSON Lines file per run, written whole or not at all, read defensively.

A run's file ``{task}__{method}__seed{seed}.jsonl`` (``__turing`` before the seed for
turing-mode machines) holds a ``header`` record (the job's configuration, the sweep it
belongs to, package versions, the machine), the trainer's records (``type`` is
``"record"``) and a ``footer`` record, in strict JSON (no ``NaN``). :func:`write_run`
writes it under a temporary name and links it to its final name only when it is whole,
by an exclusive create that never replaces a file already there; so a file under its
final name that ends in a footer is a finished run. :func:`read_run` treats anything
else (a truncated, damaged or foreign file) as unfinished and never raises for a
file's contents. The trained machine is saved beside its file as ``.npz``.
"""
from __future__ import annotations

import math
import numbers
import os
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

from experiments.sweep.job import json_line, parse_json_line

__all__ = ["FORMAT", "TMP_SUFFIX", "MAX_RUN_FILE_BYTES", "Run", "RunFileWarning", "RunFileTooLarge", "read_run", "is_complete", "load_runs",
           "write_run", "runs_dir_of"]

FORMAT = 1
TMP_SUFFIX = ".tmp"
#: The largest run file read: a sweep's record schedule writes a few hundred records
#: (about 300 bytes each); a file larger than this was not written by a sweep.
MAX_RUN_FILE_BYTES = 64 * 2 ** 20


def write_run(runs_dir, name, lines, network) -> bool:
    """Write run ``name``'s file (``lines``: header, records, footer) and its machine
    (``network``; None for runs without one, the baselines).

    Returns False, writing nothing, when a file of that name is there already
    (another writer's): hard links are exclusive creates, so nothing is ever
    replaced. The machine goes first; the run file, which marks the run finished, last.
    """
    runs_dir = Path(runs_dir)
    final, final_net = runs_dir / f"{name}.jsonl", runs_dir / f"{name}.npz"
    token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp_net = runs_dir / f".{name}.npz.{token}{TMP_SUFFIX}"
    tmp = runs_dir / f".{name}.jsonl.{token}{TMP_SUFFIX}"
    try:
        if network is not None:
            network.save(tmp_net)
        with open(tmp, "w", encoding="utf-8") as fh:
            for obj in lines:
                fh.write(json_line(obj) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        if network is not None:
            try:
                os.link(tmp_net, final_net)
            except FileExistsError:
                return False
        try:
            os.link(tmp, final)
        except FileExistsError:
            if network is not None:
                final_net.unlink()
            return False
    finally:
        for path in (tmp, tmp_net):
            if path.exists():
                path.unlink()
    return True


class RunFileTooLarge(ValueError):
    """A file too large to be a run file (a sweep's runs record a few hundred lines)."""


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
    def kind(self) -> str:
        """``"train"`` (a trained B-type) or ``"baseline"`` (a classic classifier)."""
        return self.job.get("kind", "train")

    @property
    def variant(self) -> str:
        return self.job.get("variant", "")

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
            and _is_fraction(obj.get("train_fitness")) and _is_fraction(obj.get("test_accuracy"))
            and isinstance(obj.get("stop_reason", ""), str)
            and all(obj.get(k) is None or (_is_number(obj[k]) and obj[k] >= 0)
                    for k in ("pruned_gates", "pruned_depth")))


def read_run(path) -> Run | None:
    """Parse a run file; None when it is not a run file (no readable header).

    Reading stops at the first line that is not valid UTF-8 JSON of the expected shape
    (a truncated, damaged or foreign file): ``footer`` is set only when every line
    parsed and the last one is a footer after at least one record, so anything else
    counts as unfinished. Never raises for the file's contents; the tokens ``NaN`` and
    ``Infinity`` of old files read as None. Raises :class:`RunFileTooLarge` (a ValueError)
    for a file over :data:`MAX_RUN_FILE_BYTES`, before reading it.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_RUN_FILE_BYTES:
                raise RunFileTooLarge(
                    f"{path}: {size / 2**20:.0f} MiB is more than a run file may hold "
                    f"({MAX_RUN_FILE_BYTES / 2**20:.0f} MiB, some {MAX_RUN_FILE_BYTES // 300:,} records); "
                    f"it was not written by a sweep's record schedule: move it out of the folder")
            lines = fh.read().split(b"\n")
    except OSError:
        return None
    header, records, footer = None, [], None
    for i, raw in enumerate(lines):
        if not raw:
            continue
        try:
            obj = parse_json_line(raw.decode("utf-8"))
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


def runs_dir_of(results_dir) -> Path:
    """``results_dir/runs`` when there is one, else ``results_dir`` itself."""
    results_dir = Path(results_dir)
    return results_dir / "runs" if (results_dir / "runs").is_dir() else results_dir


def load_runs(results_dir, *, complete_only=True) -> list[Run]:
    """Every run file under ``results_dir/runs`` (or ``results_dir`` itself), sorted by name.

    A file that is not a whole run (damaged, foreign, or unfinished when
    ``complete_only``) is skipped with a :class:`RunFileWarning` naming it.
    """
    runs_dir = runs_dir_of(results_dir)
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
