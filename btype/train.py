"""What every trainer shares: the budget, the result and the record format.

Both ``btype.search.train`` and ``sgd.train`` take a :class:`Budget` and return
a :class:`TrainResult` whose ``trace`` is a list of records made by
:func:`make_record` (docs/design.md section 4).
"""
from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass, field

from .network import Network

__all__ = ["Budget", "TrainResult", "make_record", "check_train_args", "RECORD_FIELDS",
           "STOP_REASONS", "MAX_COUNT", "MAX_SEED", "check_seed"]

# The fields every record has, in this order; trainers may add more after them.
RECORD_FIELDS = ("method", "task", "seed", "step", "evaluations", "gate_evals", "seconds",
                 "train_fitness", "test_accuracy", "solved")

#: Why a run stopped (``TrainResult.stop_reason``): a budget limit, the target, the
#: plateau rule, the callback, Ctrl-C, no trainable bit reaching an output, a NaN loss.
STOP_REASONS = ("solved", "target", "evaluations", "seconds", "steps", "gate_evals", "plateau",
                "callback", "interrupted", "stuck", "nonfinite")

#: Largest count limit: counters are int64 inside the kernels, with room to overshoot.
MAX_COUNT = 2 ** 62
#: Seeds are in [0, MAX_SEED].
MAX_SEED = 2 ** 63 - 1

_COUNTS = ("evaluations", "steps", "gate_evals")


def _check_count(value, name):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Budget {name} must be a whole number or None, got {value!r}")
    if not math.isfinite(value) or value != math.floor(value):
        raise ValueError(f"Budget {name} must be a finite whole number, got {value!r}")
    value = int(value)
    if not 0 < value <= MAX_COUNT:
        raise ValueError(f"Budget {name} must be in [1, 2**62], got {value!r}")
    return value


def _check_real(value, name, lo, hi, hint=""):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Budget {name} must be a number or None, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and lo < value <= hi):
        raise ValueError(f"Budget {name} must be a finite number in ({lo:g}, {hi:g}]{hint}, got {value!r}")
    return value


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
        The plateau rule: stop once the best training fitness has not improved
        while the gate-evaluations spent grew ``plateau``-fold (> 1) since the
        record at which it was first reached, ...
    plateau_min : int, optional
        ... and at least this many gate-evaluations were spent (default 0).

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
        for name in _COUNTS:
            object.__setattr__(self, name, _check_count(getattr(self, name), name))
        object.__setattr__(self, "seconds", _check_real(self.seconds, "seconds", 0.0, 1e15,
                                                        " (None for no time limit)"))
        object.__setattr__(self, "target", _check_real(self.target, "target", 0.0, 1.0))
        object.__setattr__(self, "plateau", _check_real(self.plateau, "plateau", 1.0, 1e15))
        if self.plateau_min is not None:
            object.__setattr__(self, "plateau_min", _check_count(self.plateau_min, "plateau_min"))
            if self.plateau is None:
                raise ValueError("Budget plateau_min needs plateau (the growth factor of the rule)")
        if all(v is None for v in (self.evaluations, self.seconds, self.steps, self.gate_evals)):
            raise ValueError("Budget needs at least one of evaluations, seconds, steps or gate_evals "
                             "(a target or plateau alone might never be reached)")

    def stop_reason(self, *, evaluations=0, seconds=0.0, steps=0, gate_evals=0, fitness=None,
                    trace=None, key="train_fitness") -> str | None:
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
        for name, used in (("evaluations", evaluations), ("steps", steps), ("gate_evals", gate_evals),
                           ("seconds", seconds)):
            limit = getattr(self, name)
            if limit is not None and used >= limit:
                return name
        if self.plateau is not None and trace and self.plateaued(trace, gate_evals, key=key):
            return "plateau"
        return None

    def plateaued(self, trace, gate_evals=None, key="train_fitness") -> bool:
        """The plateau rule on a list of records (``key``, default ``train_fitness``, and ``gate_evals``)."""
        best = max(rec[key] for rec in trace)
        since = next(rec["gate_evals"] for rec in trace if rec[key] >= best)
        used = trace[-1]["gate_evals"] if gate_evals is None else gate_evals
        return used >= self.plateau * since and used >= (self.plateau_min or 0)

    def exhausted(self, **used) -> bool:
        """True once :meth:`stop_reason` gives a reason (same arguments)."""
        return self.stop_reason(**used) is not None

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


def _finite_or_none(value):
    return value if not isinstance(value, float) or math.isfinite(value) else None


def make_record(*, method, task, seed, step, evaluations, gate_evals, seconds,
                train_fitness, test_accuracy, solved, **extra) -> dict:
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


def check_seed(seed, name="seed") -> int:
    """A seed as an int in [0, MAX_SEED]; TypeError / ValueError naming ``name`` otherwise."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {seed!r}")
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"{name} must be in [0, 2**63 - 1], got {seed!r}")
    return int(seed)


def check_train_args(net, task, budget=None, seed=0, progress=True, *, callback=None,
                     checkpoint_path=None, resume=False) -> tuple:
    """Validate the arguments every trainer takes (the contract of ``btype.trainer``).

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
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool, got {progress!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {callback!r}")
    if checkpoint_path is not None:
        if not isinstance(checkpoint_path, (str, os.PathLike)):
            raise TypeError(f"checkpoint_path must be a path or None, got {checkpoint_path!r}")
        checkpoint_path = os.fspath(checkpoint_path)
    if not isinstance(resume, bool):
        raise TypeError(f"resume must be a bool, got {resume!r}")
    if resume and checkpoint_path is None:
        raise ValueError("resume=True needs a checkpoint_path")
    task.check_network(net)
    if net.n_modified == 0:
        raise ValueError("net has no modified links: there are no bits to train (an A-type?)")
    if len(task.X_train) == 0:
        raise ValueError(f"task {task.name!r} has no training rows")
    return seed, checkpoint_path
