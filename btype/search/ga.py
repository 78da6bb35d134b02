"""``"ga"``: a genetic algorithm on the modifier bit string."""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from . import _kernels as K
from .core import Method, check_choice, check_float, check_int, parse_mutation

Pop = namedtuple("Pop", ["bits", "nbits", "scores", "nscores", "errs", "nerrs", "order"])
CROSSOVERS = {"uniform": 0, "one_point": 1}


class GA(Method):
    """Genetic algorithm in the style used on unorganised machines.

    A population of genomes (member 0 the starting machine, the others random);
    each generation keeps the ``elitism`` best, and fills the other places with
    children: a parent chosen by tournament, crossed (with probability
    ``crossover_rate``) with a second one, uniformly or at one point of the
    genome, then mutated. Children are evaluated in full (on the output cone);
    a child whose cone bits equal its first parent's is not evaluated (its
    fitness is known) and counted as ``skipped``. The step is one generation.

    Options
    -------
    population : int (default 64)
    tournament : int (default 3)
    crossover : {"uniform", "one_point"}
    crossover_rate : float (default 0.9)
    elitism : int (default 1)
    mutation : {"rate", "flips", "active"}
        Default ``"rate"`` with ``rate`` 1/M: about one flip per child. With
        ``"rate"`` a child gets at least one flip.
    flips, rate : see ``"es"``.
    """

    name = "ga"
    defaults = dict(population=64, tournament=3, crossover="uniform", crossover_rate=0.9,
                    elitism=1, mutation="rate", flips=1, rate=None)

    def configure(self, n_links, budget):
        o = self.options
        self.P = check_int(o["population"], "population", 2, 1 << 20)
        self.tournament = check_int(o["tournament"], "tournament", 1, self.P)
        self.crossover = CROSSOVERS[check_choice(o["crossover"], "crossover", CROSSOVERS)]
        self.p_cross = check_float(o["crossover_rate"], "crossover_rate", 0.0, 1.0)
        self.elitism = check_int(o["elitism"], "elitism", 0, self.P - 1)
        self.mode, self.k, self.rate = parse_mutation(o["mutation"], o["flips"], o["rate"], n_links)
        self.k_max = self.k
        self.pop = None
        self._M = n_links

    def _alloc(self, run):
        if self.pop is not None:
            return
        P, M, n_out = self.P, self._M, len(run.wk.errs)
        self.pop = Pop(bits=np.zeros((P, M), np.uint8), nbits=np.zeros((P, M), np.uint8),
                       scores=np.full(P, np.inf), nscores=np.full(P, np.inf),
                       errs=np.zeros((P, n_out), np.int64), nerrs=np.zeros((P, n_out), np.int64),
                       order=np.zeros(P, np.int64))

    def start(self, run):
        self._alloc(run)
        K.ga_init(run.prob, run.wk, self.pop, True)

    def rescore(self, run):
        K.ga_init(run.prob, run.wk, self.pop, False)

    def chunk(self, run, limits):
        self._alloc(run)
        K.ga_chunk(run.prob, run.wk, self.pop, self.tournament, self.crossover, self.p_cross,
                   self.mode, self.k, self.rate, self.elitism, *limits)

    def state(self):
        return {"bits": self.pop.bits, "scores": self.pop.scores, "errs": self.pop.errs}

    def load_state(self, arrays):
        P, M = arrays["bits"].shape
        n_out = arrays["errs"].shape[1]
        self.pop = Pop(bits=arrays["bits"].copy(), nbits=np.zeros((P, M), np.uint8),
                       scores=arrays["scores"].copy(), nscores=np.full(P, np.inf),
                       errs=arrays["errs"].copy(), nerrs=np.zeros((P, n_out), np.int64),
                       order=np.zeros(P, np.int64))

    def extra(self, run):
        return {"population": self.P}
