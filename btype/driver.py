"""The one run loop every trainer runs on.

A trainer (a :class:`Trainer`: a search method, gradient descent, a phase of the
hybrid) supplies its steps, its records and its state; :func:`drive` owns
everything around them, the same for all:

* the record schedule (:func:`next_point`) and the first record, of the starting machine;
* warm-up (compilation) before the clock starts, and the elapsed time, which a
  resumed run continues;
* the stop reasons (the budget, the target, the plateau rule, the callback, Ctrl-C, the
  trainer's own, e.g. "nonfinite");
* the progress bar (the share of the budget used);
* Ctrl-C: the first press stops the run at the next point where its state is whole
  (``stop_reason`` "interrupted", the best machine so far, the checkpoint saved); a
  second press stops it at once;
* checkpoints: saved at every record, every ``checkpoint_seconds`` and at the end,
  before the closing record, which a resumed run makes again where it stops. So a run
  resumed from any checkpoint, or extended to a larger budget (``resume="extend"``),
  makes exactly the records the uninterrupted run makes.
"""
from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from . import checkpoint as _checkpoint
from ._checks import MAX_COUNT
from .train import RECORD_FIELDS, Budget, TrainResult

__all__ = ["Trainer", "StopRun", "Checkpoint", "drive", "next_point", "check_trace", "judge_learned", "warn_caller",
           "CHUNK_SECONDS"]

#: About how long a trainer's ``advance`` runs before the driver looks at the clock again.
CHUNK_SECONDS = 0.1


def next_point(done: int, every: int | None = None, growth: float = 1.5, max_gap: int | None = None) -> int:
    """The next record point after ``done`` evaluations: the record schedule of every trainer.

    With ``every``, the next multiple of it; otherwise the next point of the
    geometric grid 1, 2, 3, 5, 8, ... (each ``growth`` times the last, at least one
    more), at most ``max_gap`` beyond ``done``. The grid does not depend on where
    records were made, so a record's place never depends on how a run was cut.
    """
    if every is not None:
        return (done // every + 1) * every
    p = 1
    while p <= done:
        p = max(p + 1, math.ceil(p * growth))
    return p if max_gap is None else min(p, done + max_gap)


class StopRun(Exception):
    """Raised by a trainer to end the run at once with ``reason`` (e.g. "nonfinite"):
    no closing record and no save, so the checkpoint keeps the last good state."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Trainer(ABC):
    """What a trainer supplies to :func:`drive`: its steps, its records and its state.

    Attributes a trainer sets: ``name`` (its method name in the records), ``budget``,
    ``seed``, ``task``, and ``key``, the record field it keeps its best machine by
    (``"train_fitness"``, or ``"valid_accuracy"``).
    """

    name = ""
    key = "train_fitness"

    @abstractmethod
    def start(self) -> None:
        """Begin a fresh run (e.g. evaluate the starting machine)."""

    def warm_up(self) -> None:
        """Compile what the steps need, outside the clock (the state must not change)."""
    @abstractmethod
    def advance(self, until: int, clock: Callable[[], float]) -> bool:
        """Run whole steps, for about :data:`CHUNK_SECONDS`, until the evaluations reach
        ``until`` (the next record point) or the budget would be passed; ``clock()``
        gives the run's elapsed seconds. Returns True when the trainer wants a record
        now for a reason of its own (e.g. a restart segment ended)."""

    @abstractmethod
    def counters(self) -> dict:
        """``{"evaluations", "steps", "gate_evals"}`` used so far (ints)."""

    @abstractmethod
    def record(self, seconds: float) -> dict:
        """A record (``btype.make_record``) of the run now, made ``seconds`` into it."""

    def reached(self, trace: Sequence[Mapping[str, Any]]) -> float | None:
        """The figure (by ``key``) to check the budget's target against, or None."""
        return None

    def stop_reason(self, trace: Sequence[Mapping[str, Any]], seconds: float) -> str | None:
        """Why to stop now: a budget limit or the target (on the counters now), the
        plateau rule (on the records, so it holds at a record), or None."""
        used = dict(self.counters(), seconds=seconds)
        reason = self.budget.stop_reason(**used, fitness=self.reached(trace), key=self.key)
        if reason is None and self.budget.plateau is not None and trace and \
                self.budget.plateaued(trace, key=self.key):
            return "plateau"
        return reason

    @abstractmethod
    def checkpoint_state(self) -> tuple:
        """``(meta, arrays)``: all a resumed run needs, as strict JSON and plain arrays."""

    def checkpoint_spec(self) -> dict:
        """``{name: (dtype, shape)}`` that :meth:`checkpoint_state`'s arrays must have on resume."""
        return {}

    @abstractmethod
    def restore_state(self, meta: dict, arrays: dict, path: str, trace: list) -> None:
        """Continue from a checkpoint's state; ValueError naming ``path`` for any inconsistency."""

    @abstractmethod
    def result(self, trace: list, reason: str) -> TrainResult:
        """The run's result: the best machine, re-scored."""

    def budget_bound(self) -> list:
        """Why this run's steps depend on the size of its budget (then it cannot be
        extended exactly: ``resume="extend"`` is refused); empty when they do not."""
        return []

    def postfix(self) -> dict:
        """Figures for the progress bar."""
        return {}


class Checkpoint:
    """Where :func:`drive` saves and reads a run's state: one checkpoint file.

    Parameters
    ----------
    path : str
    identity : dict
        ``btype.checkpoint.identity`` of the run.
    """

    def __init__(self, path: str | os.PathLike, identity: dict) -> None:
        self.path, self.identity = os.fspath(path), identity
        self.last = None      # (meta, arrays) last saved

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def save(self, meta: dict, arrays: dict) -> None:
        _checkpoint.save(self.path, identity=self.identity, meta=meta, arrays=arrays)
        self.last = (meta, arrays)

    def load(self, spec: dict, budget: Budget | None = None) -> tuple[dict, dict]:
        """``(meta, arrays)``; with ``budget``, a checkpoint of a smaller budget is accepted."""
        return _checkpoint.load(self.path, identity=self.identity, arrays=spec, extend_to=budget)


class _Interrupts:
    """Ctrl-C as a flag while a run goes on: the first press asks the run to stop at its next
    whole state; a second raises KeyboardInterrupt at once. Only in the main thread, and only
    where no one else handles SIGINT; elsewhere KeyboardInterrupt arrives as usual."""

    def __init__(self):
        self.pressed = False

    def _handler(self, signum, frame):
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True

    @contextmanager
    def installed(self):
        mine = threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGINT) is signal.default_int_handler
        if mine:
            signal.signal(signal.SIGINT, self._handler)
        try:
            yield self
        finally:
            if mine:
                signal.signal(signal.SIGINT, signal.default_int_handler)


class _Bar:
    """The progress bar: the share of the budget used, with the trainer's figures."""

    def __init__(self, trainer, show):
        self.trainer, self.bar = trainer, None
        if show:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=1000, desc=f"{trainer.name} {trainer.task.name}", leave=False,
                            dynamic_ncols=True, bar_format="{desc}: {percentage:3.0f}%|{bar}| "
                                                           "[{elapsed}<{remaining}{postfix}]")

    def update(self, seconds):
        if self.bar is not None:
            used = self.trainer.budget.fraction_used(dict(self.trainer.counters(), seconds=seconds))
            self.bar.update(int(used * 1000) - self.bar.n)
            self.bar.set_postfix(self.trainer.postfix(), refresh=False)

    def close(self):
        if self.bar is not None:
            self.bar.close()


class _Drive:
    def __init__(self, trainer, schedule, callback, checkpoint, checkpoint_seconds):
        self.t, self.schedule, self.callback = trainer, schedule, callback
        self.checkpoint, self.checkpoint_seconds = checkpoint, checkpoint_seconds
        self.trace, self.elapsed, self.next_record = [], 0.0, 1
        self.t_origin = self.last_save = 0.0

    def clock(self) -> float:
        return time.perf_counter() - self.t_origin

    # -- records and checkpoints ------------------------------------------------
    def make_record(self, notify=True):
        """Append a record; hand it to the callback. Returns "callback" or "interrupted"
        (the callback raised KeyboardInterrupt) when the callback stops the run."""
        rec = self.t.record(self.elapsed)
        self.trace.append(rec)
        if not notify or self.callback is None:
            return None
        try:
            return "callback" if self.callback(rec) else None
        except KeyboardInterrupt:
            return "interrupted"

    def scheduled_record(self):
        # the next point first: a callback that raises leaves the state whole
        self.next_record = self.schedule(self.t.counters()["evaluations"])
        reason = self.make_record()
        self.save()
        return reason

    def save(self):
        if self.checkpoint is not None:
            meta, arrays = self.t.checkpoint_state()
            self.checkpoint.save({**meta, "trace": self.trace, "elapsed": self.elapsed,
                                  "next_record": int(self.next_record)}, arrays)
            self.last_save = time.perf_counter()

    def restore(self, extend):
        t, path = self.t, self.checkpoint.path
        if extend:
            bound = t.budget_bound()
            if bound:
                raise ValueError(f"{t.name} cannot extend a run exactly: its steps depend on the "
                                 f"budget through {', '.join(bound)}")
        meta, arrays = self.checkpoint.load(t.checkpoint_spec(), t.budget if extend else None)
        trace, elapsed, next_record = _checked_meta(meta, path, t)
        t.restore_state(meta, arrays, path, trace)
        _check_schedule(trace, next_record, t.counters(), self.schedule, path)
        self.trace, self.elapsed, self.next_record = trace, elapsed, next_record

    # -- the loop ------------------------------------------------------------------
    def loop(self, interrupts, bar):
        t = self.t
        reason = None
        if not self.trace:
            reason = self.scheduled_record()
        while reason is None:
            reason = t.stop_reason(self.trace, self.elapsed) or ("interrupted" if interrupts.pressed else None)
            if reason is not None:
                break
            due = t.advance(self.next_record, self.clock)
            self.elapsed = self.clock()
            if due or t.counters()["evaluations"] >= self.next_record:
                reason = self.scheduled_record()
            elif self.checkpoint is not None and \
                    time.perf_counter() - self.last_save >= self.checkpoint_seconds:
                self.save()
            bar.update(self.elapsed)
        return reason

    def run(self, progress, resume, warn) -> TrainResult:
        t = self.t
        if resume and self.checkpoint is not None and self.checkpoint.exists():
            self.restore(extend=resume == "extend")
        else:
            t.start()
        t.warm_up()
        self.t_origin = time.perf_counter() - self.elapsed
        self.last_save = time.perf_counter()
        bar, whole, stopped = _Bar(t, progress), True, False
        with _Interrupts().installed() as interrupts:
            try:
                reason = self.loop(interrupts, bar)
            except StopRun as stop:
                reason, stopped = stop.reason, True
            except KeyboardInterrupt:     # a second Ctrl-C, or one another handler raised
                reason, whole = "interrupted", False
            finally:
                bar.close()
            self.elapsed = self.clock()
            if not stopped:
                reason = self.close(reason, whole)
        return self.finish(reason, warn)

    def close(self, reason, whole):
        """Save (a whole state only), then the closing record where the counters moved on.
        Returns the stop reason (the trainer's own if it stops the run meanwhile)."""
        try:
            if whole:
                self.save()
            last = self.trace[-1] if self.trace else None
            now = self.t.counters()
            if last is None or (last["evaluations"], last["step"], last["gate_evals"]) != (
                    now["evaluations"], now["steps"], now["gate_evals"]):
                self.make_record(notify=reason != "interrupted")   # after Ctrl-C, no more user code
        except StopRun as stop:
            return reason if reason == "interrupted" else stop.reason
        return reason

    def finish(self, reason, warn=True) -> TrainResult:
        return judge_learned(self.t.result(self.trace, reason), self.t.key, warn=warn)


def judge_learned(result: TrainResult, key: str = "train_fitness", *, warn: bool = True) -> TrainResult:
    """Set ``result.learned`` (did the ``key`` figure of its trace ever better its first?) and,
    when the plateau rule ended a run that never did, warn at the caller's line."""
    figures = [rec[key] for rec in result.trace if rec.get(key) is not None]
    result.learned = bool(figures) and max(figures) > figures[0]
    if warn and not result.learned and result.stop_reason == "plateau":
        warn_caller(f"{result.method} on {result.task} stopped by the plateau rule at step "
                    f"{result.trace[-1]['step']} without bettering its starting machine "
                    f"({key} {figures[0] if figures else None}): it returns an untrained machine")
    return result


def warn_caller(message: str) -> None:
    """A RuntimeWarning attributed to the first caller outside btype and sgd (the user's line)."""
    level, frame = 2, sys._getframe(1)   # stacklevel 2 is warn_caller's caller
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] in ("btype", "sgd"):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, RuntimeWarning, stacklevel=level)


def drive(trainer: Trainer, *, schedule: Callable[[int], int], progress: bool = False,
          callback: Callable[[dict], object] | None = None, checkpoint: Checkpoint | None = None,
          resume: bool | str = False, checkpoint_seconds: float = 60.0,
          warn_untrained: bool = True) -> TrainResult:
    """Run ``trainer`` until its budget, target, plateau rule, callback or Ctrl-C stops it.

    Parameters
    ----------
    trainer : Trainer
    schedule : callable
        ``schedule(evaluations) -> int``: the next record point (see :func:`next_point`).
    progress : bool
        Show the progress bar.
    callback : callable, optional
        Called with each record; a true return value stops the run ("callback").
    checkpoint : Checkpoint, optional
        Where to save the state; also what ``resume`` reads.
    resume : bool or "extend"
        Continue from the checkpoint if it exists; "extend" also accepts a checkpoint
        of the same run with a smaller budget (every limit of ``trainer.budget`` at
        least the checkpoint's, the target and plateau rule the same).
    checkpoint_seconds : float
        Save at least this often between records.
    warn_untrained : bool
        Warn when the plateau rule stops a run that never bettered its starting machine
        (off for a phase that hands over to another).

    Returns
    -------
    TrainResult
        ``trainer.result``, with ``learned``.
    """
    return _Drive(trainer, schedule, callback, checkpoint, checkpoint_seconds).run(progress, resume, warn_untrained)


def _bad(path, what):
    return ValueError(f"checkpoint {path!r} holds an inconsistent state: {what}")


def check_trace(trace: object, path: str | os.PathLike, method: str, seed: int, name: str = "trace") -> list:
    """A checkpoint's records, checked: a non-empty list of records of ``method`` and ``seed``
    with the fields every record has, their counters whole numbers. ValueError naming ``path``."""
    if not isinstance(trace, list) or not trace or not all(isinstance(r, dict) for r in trace):
        raise _bad(path, f"{name} is not a non-empty list of records")
    for rec in trace:
        missing = [k for k in RECORD_FIELDS if k not in rec]
        if missing or rec["method"] != method or rec["seed"] != seed:
            raise _bad(path, f"a record lacks {missing} or is of another method or seed: {rec!r}")
        f = rec["train_fitness"]
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 <= f <= 1:
            raise _bad(path, f"a record's train_fitness is {f!r}")
        for key in ("step", "evaluations", "gate_evals"):
            if isinstance(rec[key], bool) or not isinstance(rec[key], int) or not 0 <= rec[key] <= MAX_COUNT:
                raise _bad(path, f"a record's {key} is {rec[key]!r}")
    return trace


def _checked_meta(meta, path, trainer) -> tuple:
    """(trace, elapsed, next_record) of a checkpoint's meta, checked."""
    trace = check_trace(meta.get("trace"), path, trainer.name, trainer.seed)
    elapsed = meta.get("elapsed")
    if isinstance(elapsed, bool) or not isinstance(elapsed, (int, float)) or not (
            math.isfinite(elapsed) and elapsed >= 0):
        raise _bad(path, f"elapsed is {elapsed!r}, not a finite number >= 0")
    next_record = meta.get("next_record")
    if isinstance(next_record, bool) or not isinstance(next_record, int) or not 0 <= next_record <= 2 * MAX_COUNT:
        raise _bad(path, f"next_record is {next_record!r}, not an int in [0, 2**63]")
    return trace, float(elapsed), next_record


def _check_schedule(trace, next_record, counters, schedule, path):
    last = trace[-1]
    if schedule(last["evaluations"]) != next_record or any(
            last[k] > counters[c] for k, c in (("step", "steps"), ("evaluations", "evaluations"),
                                               ("gate_evals", "gate_evals"))):
        raise _bad(path, f"the last record (step {last['step']}, evaluations {last['evaluations']}) does "
                         f"not lead to the state's next record point {next_record} and counters {counters}")
