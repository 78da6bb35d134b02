"""What every trainer shares: the budget, the result and the record format.

Both ``btype.search.train`` and ``sgd.train`` take a :class:`Budget` and return
a :class:`TrainResult` whose ``trace`` is a list of records made by
:func:`make_record` (DESIGN.md section 4).
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

from .network import Network

__all__ = ["Budget", "TrainResult", "make_record", "check_train_args", "RECORD_FIELDS"]

# The fields every record has, in this order; trainers may add more after them.
RECORD_FIELDS = ("method", "task", "seed", "step", "evaluations", "gate_evals", "seconds",
                 "train_fitness", "test_accuracy", "solved")


def _check_limit(value, name, integral):
    if value is None:
        return None
    kind = numbers.Integral if integral else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"Budget {name} must be {'an int' if integral else 'a number'} or None, got {value!r}")
    if not value > 0:
        raise ValueError(f"Budget {name} must be > 0, got {value!r}")
    return int(value) if integral else float(value)


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
        Stop once the training fitness reaches this value (in (0, 1]).
    gate_evals : int, optional
        Gate x sample evaluations, the hardware-neutral compute axis.
    """

    evaluations: int | None = None
    seconds: float | None = None
    steps: int | None = None
    target: float | None = None
    gate_evals: int | None = None

    def __post_init__(self):
        _check_limit(self.evaluations, "evaluations", True)
        _check_limit(self.seconds, "seconds", False)
        _check_limit(self.steps, "steps", True)
        _check_limit(self.gate_evals, "gate_evals", True)
        if self.target is not None:
            _check_limit(self.target, "target", False)
            if self.target > 1:
                raise ValueError(f"Budget target must be in (0, 1], got {self.target!r}")
        if all(v is None for v in (self.evaluations, self.seconds, self.steps, self.gate_evals)):
            raise ValueError("Budget needs at least one of evaluations, seconds, steps or gate_evals "
                             "(a target alone might never be reached)")

    def exhausted(self, *, evaluations=0, seconds=0.0, steps=0, gate_evals=0, fitness=None) -> bool:
        """True once any limit is reached."""
        return ((self.evaluations is not None and evaluations >= self.evaluations)
                or (self.seconds is not None and seconds >= self.seconds)
                or (self.steps is not None and steps >= self.steps)
                or (self.gate_evals is not None and gate_evals >= self.gate_evals)
                or (self.target is not None and fitness is not None and fitness >= self.target))

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("evaluations", "seconds", "steps", "target", "gate_evals")}


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


def make_record(*, method, task, seed, step, evaluations, gate_evals, seconds,
                train_fitness, test_accuracy, solved, **extra) -> dict:
    """One checkpoint record (DESIGN.md section 4) as a JSON-ready dict.

    ``extra`` fields (e.g. ``relaxed_train_fitness``) follow the required ones.
    """
    record = {
        "method": str(method), "task": str(task), "seed": int(seed), "step": int(step),
        "evaluations": int(evaluations), "gate_evals": int(gate_evals), "seconds": float(seconds),
        "train_fitness": float(train_fitness),
        "test_accuracy": None if test_accuracy is None else float(test_accuracy),
        "solved": bool(solved),
    }
    for key, value in extra.items():
        if hasattr(value, "item"):
            value = value.item()
        record[key] = value
    return record


def check_train_args(net, task, budget, seed, progress) -> None:
    """Validate the arguments every trainer takes (``btype.search.train``, ``sgd.train``).

    Raises
    ------
    TypeError, ValueError
        Naming the argument and the offending value; also when the machine does
        not fit the task, has no modified links to train, or the task has no
        training rows.
    """
    from .tasks import Task  # tasks import this module's neighbours; keep the cycle out
    if not isinstance(net, Network):
        raise TypeError(f"net must be a btype.Network, got {type(net).__name__}")
    if not isinstance(task, Task):
        raise TypeError(f"task must be a btype.tasks.Task, got {type(task).__name__}")
    if not isinstance(budget, Budget):
        raise TypeError(f"budget must be a btype.Budget, got {budget!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool, got {progress!r}")
    task.check_network(net)
    if net.n_modified == 0:
        raise ValueError("net has no modified links: there are no bits to train (an A-type?)")
    if len(task.X_train) == 0:
        raise ValueError(f"task {task.name!r} has no training rows")
