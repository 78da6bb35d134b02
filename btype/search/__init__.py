"""Training B-types by search over the modifier bits.

``btype.search.train(net, task, method="es", budget=btype.Budget(...), seed=0)``
flips only the enable bits of links that carry a modifier; the wiring never
changes. Methods (``METHODS``): ``"es"`` (1 + lambda) evolution strategy with
neutral drift, ``"anneal"`` simulated annealing, ``"ga"`` genetic algorithm,
``"random"`` random search; each module's ``train`` is the registered trainer
(``btype.trainer("es")``).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import registry
from .._checks import check_choice

if TYPE_CHECKING:
    from ..network import Network
    from ..tasks import Task
    from ..train import Budget, TrainResult

__all__ = ["train", "METHODS"]

#: The search methods of the registry (``btype.trainers("search")``): name -> Method class.
METHODS = {name: registry.trainer(name).method_cls for name in registry.trainers("search")}


def train(net: Network, task: Task, *, method: str = "es", budget: Budget, seed: int = 0, progress: bool = True,
          callback: Callable[[dict], object] | None = None, checkpoint_path: str | os.PathLike | None = None,
          resume: bool | str = False, **options: Any) -> TrainResult:
    """Train a machine's modifier bits by search.

    Parameters
    ----------
    net : btype.Network
        The machine; its modifier states are the starting point. Combinational
        tasks need a feed-forward machine and use delta evaluation; clocked
        tasks (``task.steps`` set) run ``btype.run``'s dynamics in full for
        every candidate (slower, any wiring).
    task : btype.tasks.Task
    method : str
        One of ``METHODS``: "es", "anneal", "ga", "random".
    budget : btype.Budget
        When to stop (``Budget.stop_reason``): evaluations (candidates
        evaluated), seconds (excluding compilation), steps (generations),
        gate_evals, target (training fitness; default: stop once every
        training row is right), and the plateau rule.
    seed : int
        Seed of the run, in [0, 2**63 - 1]; a run is deterministic given the seed.
    progress : bool
        Show a tqdm progress bar.
    callback : callable, optional
        Called with each record as it is made; a true return value stops the
        run (``stop_reason`` "callback").
    checkpoint_path : path, optional
        Save the state at records, every ``checkpoint_seconds`` and at the
        end (``btype.checkpoint``: data only, tied to this run's identity).
    resume : bool or "extend"
        Continue from ``checkpoint_path`` if it exists; a checkpoint of any
        other run (task, machine, method, options, seed, budget) is refused.
        ``"extend"`` also continues a run whose checkpoint differs only by a
        smaller budget (no limit of ``budget`` smaller than the checkpoint's,
        the same target and plateau rule): the trace continues, and the result
        equals a run with ``budget`` from the start. Refused where a method's
        steps depend on the budget's size (``anneal`` without ``length``; ``es``
        with ``lam`` > 1 and ``ga`` under an evaluation limit, which cuts a
        generation short).
    **options
        Method options (see each method's class in ``METHODS``) and common ones:
        ``batch_size`` (train on a minibatch of this many rows, the next one
        every ``batch_every`` generations: each epoch is a fresh permutation of
        the training rows cut into batches, whose rows replace the old ones in
        the same buffers; records score the best machine on the whole training
        set and the returned machine is the best record by that fitness;
        memory: the packed batch and one row of words per cone gate, never
        rows x gates), ``record_every`` (records every so
        many evaluations; default geometric, growing by ``record_growth``,
        1.5), ``checkpoint_seconds`` (60).

    Returns
    -------
    btype.TrainResult
        The best machine, its exact training fitness and test accuracy, the
        trace of records (docs/design.md section 4, plus ``skipped`` and
        ``accepted`` counts) and ``stop_reason``. Ctrl-C returns the best
        machine so far with ``interrupted=True``.
    """
    check_choice(method, "method", METHODS)
    return registry.trainer(method)(net, task, budget=budget, seed=seed, progress=progress, callback=callback,
                          checkpoint_path=checkpoint_path, resume=resume, **options)
