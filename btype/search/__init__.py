"""Training B-types by search over the modifier bits.

``btype.search.train(net, task, method="es", budget=btype.Budget(...), seed=0)``
flips only the enable bits of links that carry a modifier; the wiring never
changes. Methods (``METHODS``): ``"es"`` (1 + lambda) evolution strategy with
neutral drift, ``"anneal"`` simulated annealing, ``"ga"`` genetic algorithm,
``"random"`` random search.
"""
from __future__ import annotations

from .anneal import Anneal
from .core import search as _search
from .es import ES
from .ga import GA
from .random_search import RandomSearch

__all__ = ["train", "METHODS"]

#: Registered search methods: name -> Method class.
METHODS = {cls.name: cls for cls in (ES, Anneal, GA, RandomSearch)}


def train(net, task, method="es", budget=None, seed=0, progress=True, **options):
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
        When to stop: evaluations (candidates evaluated), seconds (excluding
        compilation), steps (generations), gate_evals, and target (training
        fitness; default: stop once every training row is right).
    seed : int
        Seed of the run; a run is deterministic given the seed.
    progress : bool
        Show a tqdm progress bar.
    **options
        Method options (see each method's class in ``METHODS``) and common ones:
        ``batch_size`` (train on a random minibatch of this many rows, redrawn
        every ``batch_every`` generations; the returned machine is the best
        record by full training fitness), ``record_every`` (records every so
        many evaluations; default geometric, growing by ``record_growth``,
        1.5), ``checkpoint_path`` (save state at records, every
        ``checkpoint_seconds`` and at the end), ``resume`` (continue from
        ``checkpoint_path`` if it exists), ``callback`` (called after each
        chunk with a dict of counters; a true return value stops the run).

    Returns
    -------
    btype.TrainResult
        The best machine, its exact training fitness and test accuracy, and
        the trace of records (DESIGN.md section 4, plus ``skipped`` and
        ``accepted`` counts). Ctrl-C returns the best machine so far with
        ``interrupted=True``.
    """
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    if budget is None:
        raise ValueError("budget is required, e.g. btype.Budget(evaluations=100000)")
    return _search(net, task, METHODS[method], budget, seed, progress, dict(options))

