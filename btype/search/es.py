"""``"es"``: (1 + lambda) evolution strategy with neutral drift."""
from __future__ import annotations

import numpy as np

from ..jit import njit
from . import _kernels as K
from .core import Method, check_int, make_train, parse_mutation


@njit(cache=True, inline="always")
def _generation(prob, wk, mut, lam, hard_evals):
    """lam offspring, each scored and undone; the first best replaces the parent when
    at least as good (applied again: its gate-evaluations count, not as an evaluation)."""
    st = wk.state[0]
    parent = st.cur
    best_i = -1
    best_s = np.inf
    for i in range(lam):
        if st.evals >= hard_evals:
            break
        flips = wk.offs[i]
        n = K.draw_mutation(prob, wk.rng, mut, flips)
        wk.off_n[i] = n
        if not K.touches_cone(prob, flips, n):
            st.skipped += 1
            s = parent
        else:
            st.evals += 1
            s = K.apply(prob, wk, flips, n)
            K.undo(prob, wk, flips, n)
        if s < best_s:
            best_s = s
            best_i = i
    if best_i < 0 or best_s > parent:
        return
    flips = wk.offs[best_i]
    n = wk.off_n[best_i]
    if K.touches_cone(prob, flips, n):
        st.cur = K.apply(prob, wk, flips, n)
    else:
        K.toggle_all(prob, wk, flips, n)
    st.accepted += 1


@njit(cache=True, _nrt=False)
def _chunk(prob, wk, mut, lam, lim):
    st = wk.state[0]
    mut = mut[0]
    lim = lim[0]
    while not K.stop(st, lim):
        if lam == 1:
            K.local_step(prob, wk, mut, 0.0)
        else:
            _generation(prob, wk, mut, lam, lim.hard_evals)
        st.gens += 1
        st.best = st.cur


class ES(Method):
    """(1 + lam) evolution strategy with neutral drift.

    Every generation makes ``lam`` offspring, each the parent plus one
    mutation, scored by delta evaluation (only the gates downstream of the
    flips are recomputed). The first best offspring replaces the parent when it
    is at least as fit (neutral drift: equally fit offspring are accepted).
    Offspring whose flips all lie outside the output cone are not evaluated:
    their fitness is the parent's; records count them as ``skipped``. With
    ``lam`` > 1 the chosen offspring is applied again by delta evaluation
    (counted in ``gate_evals``, not in ``evaluations``). The starting machine
    is the first evaluation; a step is one generation.

    Options
    -------
    lam : int
        Offspring per generation (default 1).
    mutation : {"cone", "flips", "rate", "active"}
        ``"cone"``: exactly ``flips`` distinct links of the output cone
        (default, ``flips=1``: the same offspring as ``"flips"`` once those
        that miss the cone are left out, without drawing them);
        ``"flips"``: exactly ``flips`` distinct links of the whole genome;
        ``"rate"``: every link with probability ``rate`` (default 1/M), at
        least one; ``"active"``: random links until one lies in the output
        cone (all of them flipped).
    flips : int
    rate : float
    """

    name = "es"
    defaults = dict(lam=1, mutation="cone", flips=1, rate=None)

    def configure(self, n_links, budget):
        o = self.options
        self.lam = check_int(o["lam"], "lam", 1, 1 << 16)
        self.mut = parse_mutation(o["mutation"], o["flips"], o["rate"], n_links)
        self.k_max = int(self.mut["k"][0])

    def chunk(self, run, lim):
        _chunk(run.prob, run.wk, self.mut, self.lam, lim)

    def best(self, run):
        return run.wk.bits, run.wk.errs

    def extra(self, run):
        return {"lam": self.lam}


train = make_train(ES)
