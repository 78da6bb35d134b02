"""``"random"``: random search, the baseline every plot needs."""
from __future__ import annotations

from . import _kernels as K
from .core import Method


class RandomSearch(Method):
    """Random search: every evaluation draws a fresh uniformly random genome.

    The starting machine is the first evaluation; the best machine seen is
    returned. No options.
    """

    name = "random"
    defaults: dict = {}

    def rescore(self, run):
        # the minibatch changed: the best genome so far is scored again, on the new batch
        K.masks_from_bits(run.prob, run.wk, run.wk.best_bits.copy())
        super().rescore(run)

    def chunk(self, run, limits):
        K.random_chunk(run.prob, run.wk, *limits)
