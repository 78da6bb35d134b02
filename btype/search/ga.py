"""``"ga"``: a genetic algorithm on the modifier bit string."""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..jit import njit
from . import _kernels as K
from .._checks import check_choice, check_int, check_real
from .core import make_train
from .method import Method, parse_mutation

Pop = namedtuple("Pop", ["bits", "nbits", "scores", "nscores", "errs", "nerrs", "order"])
Pop.__doc__ = "The population (bits, scores, errs) and the next one being built (n*)."
CROSSOVERS = {"uniform": 0, "one_point": 1}


@njit(cache=True)
def _tournament(rng, scores, size):
    P = scores.shape[0]
    best = K.below(rng, P)
    for _ in range(size - 1):
        j = K.below(rng, P)
        if scores[j] < scores[best]:
            best = j
    return best


@njit(cache=True)
def _rank(scores, order):
    """order = indices of scores, best (lowest) first, ties in index order (insertion sort)."""
    for i in range(scores.shape[0]):
        j = i
        while j > 0 and scores[order[j - 1]] > scores[i]:
            order[j] = order[j - 1]
            j -= 1
        order[j] = i


@njit(cache=True, inline="always")
def _keep(pop, i, j):
    """Place i of the next population is member j of the current one."""
    K.copy(pop.nbits[i], pop.bits[j])
    pop.nscores[i] = pop.scores[j]
    K.copy(pop.nerrs[i], pop.errs[j])


@njit(cache=True)
def _swap(pop, wk):
    """The next population becomes the current one (``cur``: its best score); track the
    best member ever."""
    for i in range(pop.bits.shape[0]):
        K.copy(pop.bits[i], pop.nbits[i])
        K.copy(pop.errs[i], pop.nerrs[i])
    K.copy(pop.scores, pop.nscores)
    b = np.argmin(pop.scores)
    st = wk.state[0]
    st.cur = pop.scores[b]
    if pop.scores[b] < st.best:
        st.best = pop.scores[b]
        K.copy(wk.best_bits, pop.bits[b])
        K.copy(wk.best_errs, pop.errs[b])


@njit(cache=True)
def _init(prob, wk, pop, fresh):
    """Score a population and make it current.

    fresh: a first population, member 0 wk.bits and the others random (each
    an evaluation); otherwise the current population again after the
    minibatch changed (gate-evaluations counted, not evaluations).
    """
    P = pop.bits.shape[0]
    st = wk.state[0]
    if fresh:
        K.copy(pop.nbits[0], wk.bits)
        for i in range(1, P):
            K.random_bits(wk.rng, pop.nbits[i])
    else:
        for i in range(P):
            K.copy(pop.nbits[i], pop.bits[i])
        st.best = np.inf
    for i in range(P):
        pop.nscores[i] = K.evaluate_genome(prob, wk, pop.nbits[i])
        K.copy(pop.nerrs[i], wk.errs)
        if fresh:
            st.evals += 1
    _swap(pop, wk)


@njit(cache=True, _nrt=False)
def _chunk(prob, wk, pop, mut, tournament, crossover, p_cross, elitism, lim):
    """Generations: elitism, tournament selection, crossover, mutation.

    crossover 0 uniform, 1 one-point (on the genome in link order). A child
    whose cone bits equal its first parent's is not evaluated (its score is
    known; counted as skipped). When the evaluation budget runs out in the
    middle of a generation, the remaining places keep old members in rank order.
    """
    st = wk.state[0]
    mut = mut[0]
    lim = lim[0]
    P, M = pop.bits.shape
    flips = wk.offs[0]
    cone_links = prob.cone_links
    while not K.stop(st, lim):
        _rank(pop.scores, pop.order)
        for i in range(elitism):
            _keep(pop, i, pop.order[i])
        for i in range(elitism, P):
            if st.evals >= lim.hard_evals:
                _keep(pop, i, pop.order[i])
                continue
            a = _tournament(wk.rng, pop.scores, tournament)
            child = pop.nbits[i]
            K.copy(child, pop.bits[a])
            if K.uniform(wk.rng) < p_cross:
                b = _tournament(wk.rng, pop.scores, tournament)
                if crossover == 0:
                    for w in range(0, M, 64):
                        r = K.next_u64(wk.rng)
                        for j in range(min(64, M - w)):
                            if (r >> np.uint64(j)) & np.uint64(1):
                                child[w + j] = pop.bits[b, w + j]
                elif M > 1:
                    cut = 1 + K.below(wk.rng, M - 1)
                    for j in range(cut, M):
                        child[j] = pop.bits[b, j]
            if mut.mode != K.MUT_RATE or mut.rate > 0.0:
                n = K.draw_mutation(prob, wk, mut, flips)
                for f in range(n):
                    child[flips[f]] ^= np.uint8(1)
            same = True
            for j in range(cone_links.shape[0]):
                m = cone_links[j]
                if child[m] != pop.bits[a, m]:
                    same = False
                    break
            if same:
                st.skipped += 1
                pop.nscores[i] = pop.scores[a]
                K.copy(pop.nerrs[i], pop.errs[a])
                continue
            st.evals += 1
            pop.nscores[i] = K.evaluate_genome(prob, wk, child)
            K.copy(pop.nerrs[i], wk.errs)
        _swap(pop, wk)
        st.gens += 1


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
        self.p_cross = check_real(o["crossover_rate"], "crossover_rate", 0.0, 1.0)
        self.elitism = check_int(o["elitism"], "elitism", 0, self.P - 1)
        self.mut = parse_mutation(o["mutation"], o["flips"], o["rate"], n_links)
        self.k_max = int(self.mut["k"][0])
        self.pop = None
        self._M = n_links

    def _alloc(self, n_out):
        P, M = self.P, self._M
        self.pop = Pop(bits=np.zeros((P, M), np.uint8), nbits=np.zeros((P, M), np.uint8),
                       scores=np.full(P, np.inf), nscores=np.full(P, np.inf),
                       errs=np.zeros((P, n_out), np.int64), nerrs=np.zeros((P, n_out), np.int64),
                       order=np.zeros(P, np.int64))

    def start(self, run):
        self._alloc(len(run.wk.errs))
        _init(run.prob, run.wk, self.pop, True)

    def rescore(self, run):
        _init(run.prob, run.wk, self.pop, False)

    def chunk(self, run, lim):
        if self.pop is None:
            self._alloc(len(run.wk.errs))
        _chunk(run.prob, run.wk, self.pop, self.mut, self.tournament, self.crossover, self.p_cross,
               self.elitism, lim)

    def state(self):
        return {"bits": self.pop.bits, "scores": self.pop.scores, "errs": self.pop.errs}

    def state_spec(self, run):
        n_out = len(run.best_errs)
        return {"bits": (np.uint8, (self.P, self._M)), "scores": (np.float64, (self.P,)),
                "errs": (np.int64, (self.P, n_out))}

    def load_state(self, arrays):
        self._alloc(arrays["errs"].shape[1])
        self.pop.bits[:] = arrays["bits"]
        self.pop.scores[:] = arrays["scores"]
        self.pop.errs[:] = arrays["errs"]

    def budget_bound(self, budget):
        if budget.evaluations is not None:
            return ["evaluations (a generation cut short by the evaluation limit: give steps= instead)"]
        return []

    def extra(self, run):
        return {"population": self.P}


train = make_train(GA)
