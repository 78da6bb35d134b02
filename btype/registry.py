"""The one registry of trainers: every method by name, imported only when asked for.

Each entry names where its ``train`` callable lives; every such callable keeps the
same contract::

    train(net, task, *, budget, seed=0, progress=True, callback=None,
          checkpoint_path=None, resume=False, **options) -> btype.TrainResult

Adding a method means its own module and one line in ``_ENTRIES``. Entries that
need torch are listed by :func:`trainers` only where torch can be imported (found
without importing it, so ``import btype`` stays free of torch).
"""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .train import TrainResult

__all__ = ["TrainerInfo", "trainers", "trainer", "info", "FAMILIES"]

FAMILIES = ("search", "gradient", "hybrid")


@dataclass(frozen=True)
class TrainerInfo:
    """A registered trainer: its name, where its ``train`` lives, what it is."""

    name: str
    target: str          # "module:attribute"
    family: str          # one of FAMILIES
    needs_torch: bool
    summary: str
    #: Options (name, value) under which a run's steps do not depend on the size of its
    #: budget, so that it can be extended exactly (``resume="extend"``), with a budget of
    #: steps; the defaults of the others already are.
    budget_free: tuple = ()


_ENTRIES = (
    TrainerInfo("es", "btype.search.es:train", "search", False,
                "(1 + lambda) evolution strategy with neutral drift on delta evaluation"),
    TrainerInfo("anneal", "btype.search.anneal:train", "search", False,
                "simulated annealing over the modifier bits", (("length", 100_000),)),
    TrainerInfo("ga", "btype.search.ga:train", "search", False,
                "genetic algorithm: tournament selection, crossover, mutation, elitism"),
    TrainerInfo("random", "btype.search.random_search:train", "search", False,
                "random search, the baseline"),
    TrainerInfo("sgd", "sgd.train:train", "gradient", True,
                "gradient descent on the relaxed machine, hardened back into a B-type",
                (("restarts", 1), ("tau_end", None))),
    TrainerInfo("sgd+es", "sgd.hybrid:train", "hybrid", True,
                "gradient descent for part of the budget, then es from the hardened machine"),
)
_REGISTRY = {entry.name: entry for entry in _ENTRIES}


def _torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def trainers(family: str | None = None) -> list:
    """Names of the registered trainers that can run here (optionally of one family)."""
    if family is not None and family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES} or None, got {family!r}")
    torch_ok = _torch_available()
    return [e.name for e in _ENTRIES
            if (torch_ok or not e.needs_torch) and (family is None or e.family == family)]


def info(name: str) -> TrainerInfo:
    """The registry entry of trainer ``name``."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown trainer {name!r}; registered: {sorted(_REGISTRY)}")
    return _REGISTRY[name]


def trainer(name: str) -> Callable[..., TrainResult]:
    """The ``train`` callable of trainer ``name`` (imports its module on first use)."""
    entry = info(name)
    if entry.needs_torch and not _torch_available():
        raise ValueError(f"trainer {name!r} needs PyTorch, which is not installed here "
                         "(./install.sh installs it)")
    module, _, attr = entry.target.partition(":")
    return getattr(importlib.import_module(module), attr)
