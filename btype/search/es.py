"""``"es"``: (1 + lambda) evolution strategy with neutral drift and restarts."""
from __future__ import annotations

import numpy as np

from ..jit import njit
from . import _kernels as K
from .._checks import check_choice, check_int
from .core import make_train
from .method import Method, parse_mutation

ACCEPT = {"neutral": False, "better": True}   # name -> strict


@njit(cache=True, inline="always")
def _generation(prob, wk, mut, lam, hard_evals, strict):
    """lam offspring, each scored and undone; the first best replaces the parent when
    at least as good (better, if ``strict``); applied again: its gate-evaluations
    count, not as an evaluation."""
    st = wk.state[0]
    parent = st.cur
    best_i = -1
    best_s = np.inf
    for i in range(lam):
        if st.evals >= hard_evals:
            break
        flips = wk.offs[i]
        n = K.draw_mutation(prob, wk, mut, flips)
        wk.off_n[i] = n
        if not K.touches_cone(prob, wk, flips, n):
            st.skipped += 1
            s = parent
        else:
            st.evals += 1
            s = K.apply(prob, wk, flips, n)
            K.undo(prob, wk, flips, n)
        if s < best_s:
            best_s = s
            best_i = i
    if best_i < 0 or best_s > parent or (strict and best_s == parent):
        return
    flips = wk.offs[best_i]
    n = wk.off_n[best_i]
    if K.touches_cone(prob, wk, flips, n):
        st.cur = K.apply(prob, wk, flips, n)
    else:
        K.toggle_unevaluated(prob, wk, flips, n)
    st.accepted += 1


@njit(cache=True, inline="always")
def _restart(prob, wk):
    """A fresh random genome, scored from scratch (one evaluation)."""
    st = wk.state[0]
    K.random_bits(wk.rng, wk.offs_bits)
    st.cur = K.evaluate_genome(prob, wk, wk.offs_bits)
    st.evals += 1
    st.restarts += 1
    st.since = st.evals


@njit(cache=True, _nrt=False)
def _chunk(prob, wk, mut, lam, strict, restart, lim):
    st = wk.state[0]
    mut = mut[0]
    lim = lim[0]
    while not K.stop(st, lim):
        if lam == 1:
            K.local_step(prob, wk, mut, 0.0, strict)
        else:
            _generation(prob, wk, mut, lam, lim.hard_evals, strict)
        st.gens += 1
        if st.cur < st.best:
            st.best = st.cur
            st.since = st.evals
            K.copy(wk.best_bits, wk.bits)
            K.copy(wk.best_errs, wk.errs)
        elif restart > 0 and st.evals - st.since >= restart and st.evals < lim.hard_evals:
            _restart(prob, wk)
            if st.cur < st.best:
                st.best = st.cur
                K.copy(wk.best_bits, wk.bits)
                K.copy(wk.best_errs, wk.errs)


class ES(Method):
    """(1 + lam) evolution strategy with neutral drift.

    Every generation makes ``lam`` offspring, each the parent plus one
    mutation, scored by delta evaluation (only the gates downstream of the
    flips are recomputed). The first best offspring replaces the parent when it
    is at least as fit (neutral drift: equally fit offspring are accepted).
    Offspring whose flips all lie on *inactive* gates (no path of live links
    to an output, as inactive genes in Cartesian GP) cannot change an output
    and are not evaluated: their fitness is the parent's; records count them
    as ``skipped``. With ``lam`` > 1 the chosen offspring is applied again by
    delta evaluation (counted in ``gate_evals``, not in ``evaluations``). The
    starting machine is the first evaluation; a step is one generation. The
    best machine seen is returned.

    Options
    -------
    lam : int
        Offspring per generation (default 1).
    mutation : {"cone", "flips", "rate", "active"}
        ``"cone"``: ``flips`` distinct links of the output cone (default);
        ``"flips"``: ``flips`` distinct links of the whole genome;
        ``"rate"``: every link with probability ``rate`` (default 1/M), at
        least one; ``"active"``: random links until one lies on an active
        gate (all of them flipped).
    flips : int
        Links per mutation for ``"cone"`` and ``"flips"`` (default 1).
    flip_dist : {"fixed", "geometric"}
        ``"fixed"``: always ``flips`` links (default); ``"geometric"``:
        1 + a geometric number drawn per offspring, ``flips`` on average.
    rate : float
    accept : {"neutral", "better"}
        Keep an offspring at least as fit as the parent (default) or only a
        strictly fitter one.
    restart : int, optional
        Start again from a fresh random genome after this many evaluations
        without a new best score (None: never); the best machine is kept, so
        a budget becomes a portfolio of runs. The restart's own scoring is
        an evaluation.
    """

    name = "es"
    defaults = dict(lam=1, mutation="cone", flips=1, flip_dist="fixed", rate=None,
                    accept="neutral", restart=None)
    track_active = True

    def configure(self, n_links, budget):
        o = self.options
        self.lam = check_int(o["lam"], "lam", 1, 1 << 16)
        self.mut = parse_mutation(o["mutation"], o["flips"], o["rate"], n_links, o["flip_dist"])
        self.k_max = int(self.mut["k"][0])
        self.strict = ACCEPT[check_choice(o["accept"], "accept", ACCEPT)]
        self.restart = 0 if o["restart"] is None else check_int(o["restart"], "restart", 1)

    def chunk(self, run, lim):
        _chunk(run.prob, run.wk, self.mut, self.lam, self.strict, self.restart, lim)

    def budget_bound(self, budget):
        if self.lam > 1 and budget.evaluations is not None:
            return ["evaluations (with lam > 1 a generation cut short by the evaluation limit: "
                    "give steps= instead)"]
        return []

    def extra(self, run):
        return {"lam": self.lam, "restarts": run.counter("restarts")}


train = make_train(ES)
