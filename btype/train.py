"""What every trainer shares: the budget, the result and the record format.

Both ``btype.search.train`` and ``sgd.train`` take a :class:`Budget` and return
a :class:`TrainResult` whose ``trace`` is a list of records made by
:func:`make_record` (docs/design.md section 4).
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._checks import MAX_COUNT, MAX_SEED, check_bool, check_callable, check_path, check_real, check_seed, check_whole
from .network import Network

if TYPE_CHECKING:
    from .tasks import Task

__all__ = ["Budget", "TrainResult", "make_record", "check_train_args", "RECORD_FIELDS",
           "STOP_REASONS", "MAX_COUNT", "MAX_SEED", "check_seed", "check_known_options", "COUNTS", "LIMITS", "PLATEAU_SHARE",
           "RESUME_MODES"]

# The fields every record has, in this order; trainers may add more after them.
RECORD_FIELDS = ("method", "task", "seed", "step", "evaluations", "gate_evals", "seconds",
                 "train_fitness", "test_accuracy", "solved")

#: Why a run stopped (``TrainResult.stop_reason``): a budget limit, the target, the
#: plateau rule, the callback, Ctrl-C, no trainable bit reaching an output, a NaN loss.
STOP_REASONS = ("solved", "target", "evaluations", "seconds", "steps", "gate_evals", "plateau",
                "callback", "interrupted", "stuck", "nonfinite")

#: What ``resume`` accepts: False (start afresh), True (continue the same run), "extend"
#: (continue a run whose checkpoint matches in everything but a larger budget).
RESUME_MODES = (False, True, "extend")

#: The count limits of a budget (besides ``seconds``).
COUNTS = ("evaluations", "steps", "gate_evals")
#: The limits of a budget, each a number of something a run uses up.
LIMITS = ("evaluations", "seconds", "steps", "gate_evals")
#: Without ``plateau_min`` the plateau rule waits until a run has used this share of its budget.
PLATEAU_SHARE = 0.1


def _check_count(value, name):
    return None if value is None else check_whole(value, f"Budget {name}", 1)


def _check_real(value, name, lo, hi):
    return None if value is None else check_real(value, f"Budget {name}", lo, hi, lo_open=True)


@dataclass(frozen=True)
class Budget:
    """When to stop training: whichever limit is reached first.

    Parameters
    ----------
    evaluations : int, optional
        Candidate evaluations (search: offspring evaluated; gradient descent:
        training samples seen, i.e. batch size per step).
    seconds : float, optional
        Wall time, excluding JIT compilation and one-time setup.
    steps : int, optional
        Trainer steps (search: generations; gradient descent: optimiser steps).
    target : float, optional
        Stop once the training fitness reaches this value (in (0, 1]; default:
        stop when solved, i.e. 1). A trainer that keeps its machine by a validation
        split (``sgd.train`` on a data task with one) checks the target, like the
        plateau rule, against the validation accuracy instead: fitting the training
        rows is then no reason to stop.
    gate_evals : int, optional
        Gate x sample evaluations, the hardware-neutral compute axis. Checked after
        each evaluation: a search, whose candidates cost what their changes
        propagate to, may pass it by the cost of its last evaluation.
    plateau : float, optional
        The plateau rule: stop once the best figure (training fitness, or the
        validation accuracy a trainer keeps its machine by) has not improved
        while the gate-evaluations spent grew ``plateau``-fold (> 1). Growth is
        measured from the first record at which the best was reached, or from
        the first record that spent any compute if that is later (the starting
        machine's record has spent none, and no growth from 0 means anything).
    plateau_min : int, optional
        The rule never stops a run before it spent this many gate-evaluations.
        Without it, the rule never stops a run before it used a tenth
        (:data:`PLATEAU_SHARE`) of its budget (:meth:`fraction_used`): a minimum
        that means the same for every trainer, whatever a step costs. A run that
        stops by the rule without bettering its starting machine says so
        (``TrainResult.learned`` is False, with a warning).

    Count limits accept ints and whole floats (``1e10``) up to 2**62; a limit
    must be finite (leave it None for no limit), and at least one of
    ``evaluations``, ``seconds``, ``steps``, ``gate_evals`` must be given.
    """

    evaluations: int | None = None
    seconds: float | None = None
    steps: int | None = None
    target: float | None = None
    gate_evals: int | None = None
    plateau: float | None = None
    plateau_min: int | None = None

    def __post_init__(self):
        for name in COUNTS:
            object.__setattr__(self, name, _check_count(getattr(self, name), name))
        object.__setattr__(self, "seconds", _check_real(self.seconds, "seconds", 0.0, 1e15))
        object.__setattr__(self, "target", _check_real(self.target, "target", 0.0, 1.0))
        object.__setattr__(self, "plateau", _check_real(self.plateau, "plateau", 1.0, 1e15))
        if self.plateau_min is not None:
            object.__setattr__(self, "plateau_min", _check_count(self.plateau_min, "plateau_min"))
            if self.plateau is None:
                raise ValueError("Budget plateau_min needs plateau (the growth factor of the rule)")
        if all(getattr(self, name) is None for name in LIMITS):
            raise ValueError("Budget needs at least one of evaluations, seconds, steps or gate_evals "
                             "(a target or plateau alone might never be reached)")

    def stop_reason(self, *, evaluations: float = 0, seconds: float = 0.0, steps: float = 0,
                    gate_evals: float = 0, fitness: float | None = None,
                    trace: Sequence[Mapping[str, Any]] | None = None,
                    key: str = "train_fitness") -> str | None:
        """Why a run with these counters should stop now, or None to go on.

        ``key`` names the figure the run keeps its best machine by: ``"train_fitness"``
        (the default), or ``"valid_accuracy"`` for a trainer that selects by a
        validation split. ``fitness`` is the best value of it so far, which the target
        is checked against; ``trace`` the records so far, whose ``key`` field the
        plateau rule reads. Returns one of "solved" (the training fitness reached a
        target of 1), "target" (``fitness`` reached any other target, or a validation
        accuracy reached its target), "evaluations", "seconds", "steps", "gate_evals",
        "plateau".
        """
        target = 1.0 if self.target is None else self.target
        if fitness is not None and fitness >= target:
            return "solved" if target >= 1.0 and key == "train_fitness" else "target"
        used = dict(evaluations=evaluations, seconds=seconds, steps=steps, gate_evals=gate_evals)
        for name in ("evaluations", "steps", "gate_evals", "seconds"):
            limit = getattr(self, name)
            if limit is not None and used[name] >= limit:
                return name
        if self.plateau is not None and trace and self.plateaued(trace, gate_evals, key=key, used=used):
            return "plateau"
        return None

    def plateaued(self, trace: Sequence[Mapping[str, Any]], gate_evals: float | None = None,
                  key: str = "train_fitness", used: Mapping[str, float] | None = None) -> bool:
        """The plateau rule on a list of records (``key``, default ``train_fitness``, and
        ``gate_evals``); ``used``: the run's counters (default: the last record's), for
        the share of the budget the rule waits for without ``plateau_min``."""
        best = max(rec[key] for rec in trace if rec[key] is not None) if any(
            rec[key] is not None for rec in trace) else None
        if best is None:
            return False
        since = next(rec["gate_evals"] for rec in trace if rec[key] is not None and rec[key] >= best)
        spent = next((rec["gate_evals"] for rec in trace if rec["gate_evals"] > 0), None)
        if spent is None:
            return False             # no record has spent anything yet: nothing to measure growth from
        since = max(since, spent)
        now = trace[-1]["gate_evals"] if gate_evals is None else gate_evals
        if now < self.plateau * since:
            return False
        if self.plateau_min is not None:
            return now >= self.plateau_min
        if used is None:
            last = trace[-1]
            used = dict(evaluations=last.get("evaluations", 0), steps=last.get("step", 0), gate_evals=now,
                        seconds=last.get("seconds", 0.0))
        return self.fraction_used(used) >= PLATEAU_SHARE

    def exhausted(self, **used: Any) -> bool:
        """True once :meth:`stop_reason` gives a reason (same arguments)."""
        return self.stop_reason(**used) is not None

    def fraction_used(self, counters: Mapping[str, float]) -> float:
        """The share of the budget used, in [0, 1]: the largest over its limits of used / limit.

        ``counters`` maps limit names (``evaluations``, ``seconds``, ``steps``,
        ``gate_evals``; missing ones count as 0) to what was used.
        """
        parts = [0.0]
        for name in LIMITS:
            limit = getattr(self, name)
            if limit is not None:
                parts.append(counters.get(name, 0) / limit)
        return min(1.0, max(parts))

    def share(self, fraction: float, *, plateau: float | None = None,
              plateau_min: int | None = None) -> Budget:
        """This budget with every limit cut to ``fraction`` of it (counts rounded down, at least 1).

        The target stays; the plateau rule stays unless ``plateau`` (with its
        ``plateau_min``) is given to replace it.
        """
        fraction = check_real(fraction, "fraction", 0.0, 1.0, lo_open=True)
        limits = {name: None if getattr(self, name) is None else max(1, math.floor(getattr(self, name) * fraction))
                  for name in COUNTS}
        seconds = None if self.seconds is None else self.seconds * fraction
        if plateau is None:
            plateau, plateau_min = self.plateau, self.plateau_min
        return Budget(**limits, seconds=seconds, target=self.target, plateau=plateau, plateau_min=plateau_min)

    def remaining(self, counters: Mapping[str, float]) -> tuple[Budget | None, str | None]:
        """What is left after a phase that used ``counters`` (as for :meth:`fraction_used`).

        Returns ``(budget, None)``, the rest of every limit (target and plateau rule
        kept), or ``(None, name)`` naming a limit with nothing left.
        """
        rest = {}
        for name in COUNTS:
            limit = getattr(self, name)
            if limit is not None:
                if limit - counters.get(name, 0) < 1:
                    return None, name
                rest[name] = limit - counters.get(name, 0)
        if self.seconds is not None:
            if self.seconds - counters.get("seconds", 0.0) <= 0:
                return None, "seconds"
            rest["seconds"] = self.seconds - counters.get("seconds", 0.0)
        return Budget(**rest, target=self.target, plateau=self.plateau, plateau_min=self.plateau_min), None

    def covers(self, other: Budget) -> bool:
        """True when this budget is ``other`` with no limit smaller (a limit dropped counts as
        larger) and the same target and plateau rule: a run of ``other`` can be extended to it."""
        for name in LIMITS:
            mine, theirs = getattr(self, name), getattr(other, name)
            if theirs is None and mine is not None or (mine is not None and mine < theirs):
                return False
        return all(getattr(self, name) == getattr(other, name) for name in ("target", "plateau", "plateau_min"))

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("evaluations", "seconds", "steps", "target", "gate_evals",
                                              "plateau", "plateau_min")}


@dataclass
class TrainResult:
    """What a trainer returns.

    Attributes
    ----------
    network : Network
        The best machine found (for gradient descent: the hardened machine).
    trace : list of dict
        Records, one per checkpoint (see :func:`make_record`).
    solved : bool
        Whether ``network`` gets every training row exactly right.
    method, task, seed : identifying fields, as in the records.
    train_fitness, test_accuracy : float
        Of ``network``, as measured by the btype simulator.
    interrupted : bool
        True when the run was stopped by Ctrl-C before its budget ran out.
    stop_reason : str
        Why the run stopped, one of :data:`STOP_REASONS`.
    learned : bool
        Whether the returned machine is better than the starting machine (by the
        figure the run keeps its machine by); False warns of an untrained machine.
    """

    network: Network
    trace: list = field(default_factory=list)
    solved: bool = False
    method: str = ""
    task: str = ""
    seed: int = 0
    train_fitness: float = float("nan")
    test_accuracy: float = float("nan")
    interrupted: bool = False
    stop_reason: str = ""
    learned: bool = True


def _finite_or_none(value):
    return value if not isinstance(value, float) or math.isfinite(value) else None


def make_record(*, method: str, task: str, seed: int, step: int, evaluations: int, gate_evals: int,
                seconds: float, train_fitness: float, test_accuracy: float | None, solved: bool,
                **extra: Any) -> dict:
    """One checkpoint record (docs/design.md section 4) as a JSON-ready dict.

    ``extra`` fields (e.g. ``relaxed_train_fitness``) follow the required ones.
    NaN and infinite numbers are written as None, so the records stay strict JSON.
    """
    train_fitness = float(train_fitness)
    if not 0.0 <= train_fitness <= 1.0:
        raise ValueError(f"train_fitness must be in [0, 1], got {train_fitness!r}")
    record = {
        "method": str(method), "task": str(task), "seed": int(seed), "step": int(step),
        "evaluations": int(evaluations), "gate_evals": int(gate_evals), "seconds": float(seconds),
        "train_fitness": train_fitness,
        "test_accuracy": None if test_accuracy is None else _finite_or_none(float(test_accuracy)),
        "solved": bool(solved),
    }
    for key, value in extra.items():
        if hasattr(value, "item"):
            value = value.item()
        record[key] = _finite_or_none(value)
    return record


def check_train_args(net: Network, task: Task, budget: Budget | None = None, seed: int = 0,
                     progress: bool = True, *, callback: Callable[[dict], object] | None = None,
                     checkpoint_path: str | os.PathLike | None = None,
                     resume: bool | str = False) -> tuple[int, str | None]:
    """Validate the arguments every trainer takes (the contract of ``btype.trainer``).

    ``resume`` is one of :data:`RESUME_MODES`.

    Returns
    -------
    (seed, checkpoint_path) : (int, str or None)

    Raises
    ------
    TypeError
        A wrong type: ``net``, ``task``, ``budget`` (None included), ``seed``,
        ``progress``, ``callback``, ``checkpoint_path``, ``resume``.
    ValueError
        A seed outside [0, 2**63 - 1], ``resume`` without a checkpoint path, a
        machine that does not fit the task, no modified links to train, a task
        without training rows.
    """
    from .tasks import Task  # tasks import this module's neighbours; keep the cycle out
    if not isinstance(net, Network):
        raise TypeError(f"net must be a btype.Network, got {type(net).__name__}")
    if not isinstance(task, Task):
        raise TypeError(f"task must be a btype.tasks.Task, got {type(task).__name__}")
    if not isinstance(budget, Budget):
        hint = " (budget is required, e.g. btype.Budget(evaluations=100000))" if budget is None else ""
        raise TypeError(f"budget must be a btype.Budget, got {budget!r}{hint}")
    seed = check_seed(seed)
    check_bool(progress, "progress")
    check_callable(callback, "callback")
    checkpoint_path = check_path(checkpoint_path, "checkpoint_path")
    if not (isinstance(resume, bool) or resume == "extend"):
        raise TypeError(f"resume must be a bool or 'extend', got {resume!r}")
    if resume and checkpoint_path is None:
        raise ValueError(f"resume={resume!r} needs a checkpoint_path")
    task.check_network(net)
    if net.n_modified == 0:
        raise ValueError("net has no modified links: there are no bits to train (an A-type?)")
    if len(task.X_train) == 0:
        raise ValueError(f"task {task.name!r} has no training rows")
    return seed, checkpoint_path


def check_known_options(options: Iterable[str], valid: Iterable[str], who: str) -> None:
    """TypeError naming the unknown ones among ``options`` and listing the ``valid`` ones;
    ``who`` is the trainer (its registry name), so every trainer words it the same way."""
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise TypeError(f"{who} got unknown option(s) {unknown}; valid options: {sorted(valid)}")
