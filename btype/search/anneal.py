"""``"anneal"``: simulated annealing over the modifier bits."""
from __future__ import annotations

import math

from ..jit import njit
from . import _kernels as K
from .._checks import check_bool, check_choice, check_int, check_real
from .core import make_train
from .method import Method, parse_mutation

SCHEDULES = {"exp": 0, "linear": 1, "constant": 2}


@njit(cache=True)
def temperature(schedule, t_start, t_end, length, step, cycle):
    """Annealing temperature at ``step``: 0 exponential, 1 linear, 2 constant (t_start)."""
    if schedule == 2:
        return t_start
    x = step / length
    x = x - math.floor(x) if cycle else min(x, 1.0)
    if schedule == 0:
        return t_start * (t_end / t_start) ** x
    return t_start + (t_end - t_start) * x


@njit(cache=True, _nrt=False)
def _chunk(prob, wk, mut, schedule, t_start, t_end, length, cycle, lim):
    st = wk.state[0]
    mut = mut[0]
    lim = lim[0]
    while not K.stop(st, lim):
        t = temperature(schedule, t_start, t_end, length, st.gens, cycle)
        if K.local_step(prob, wk, mut, t) and st.cur < st.best:
            st.best = st.cur
            K.copy(wk.best_bits, wk.bits)
            K.copy(wk.best_errs, wk.errs)
        st.gens += 1


class Anneal(Method):
    """Simulated annealing: one mutation per step, Metropolis acceptance.

    A candidate that loses ``d`` fitness (a fraction in [0, 1]) is accepted
    with probability ``exp(-d / T)``; an equal or better one always. The
    temperature ``T`` at step ``t`` falls from ``t_start`` to ``t_end`` over
    ``length`` steps (exponentially, linearly, or stays at ``t_start``) and,
    with ``cycle``, starts again (reheating) after every ``length`` steps. The
    best machine seen is returned. Mutation options as for ``"es"``.

    Options
    -------
    schedule : {"exp", "linear", "constant"}
    t_start, t_end : float
        Temperatures in fitness units (defaults 0.05 and 0.0005).
    length : int, optional
        Steps of one cooling; default the step or evaluation budget, else 100000.
    cycle : bool
        Reheat after each ``length`` steps (default True).
    mutation, flips, flip_dist, rate : see ``"es"``.
    """

    name = "anneal"
    defaults = dict(schedule="exp", t_start=0.05, t_end=0.0005, length=None, cycle=True,
                    mutation="cone", flips=1, flip_dist="fixed", rate=None)
    track_active = True

    def configure(self, n_links, budget):
        o = self.options
        self.schedule = SCHEDULES[check_choice(o["schedule"], "schedule", SCHEDULES)]
        self.t_start = check_real(o["t_start"], "t_start", 0.0, 1e6)
        self.t_end = check_real(o["t_end"], "t_end", 0.0, 1e6)
        if self.schedule == 0 and not (self.t_start > 0 and self.t_end > 0):
            raise ValueError(f"the exp schedule needs t_start > 0 and t_end > 0, "
                             f"got {self.t_start} and {self.t_end}")
        length = o["length"]
        if length is None:
            length = min(budget.steps or budget.evaluations or 100_000, 1 << 62)
        self.length = check_int(length, "length", 1)
        check_bool(o["cycle"], "cycle")
        self.mut = parse_mutation(o["mutation"], o["flips"], o["rate"], n_links, o["flip_dist"])
        self.k_max = int(self.mut["k"][0])

    def _temperature(self, step):
        return temperature(self.schedule, self.t_start, self.t_end, float(self.length), step,
                           self.options["cycle"])

    def chunk(self, run, lim):
        _chunk(run.prob, run.wk, self.mut, self.schedule, self.t_start, self.t_end,
               float(self.length), self.options["cycle"], lim)

    def budget_bound(self, budget):
        if self.options["length"] is None and (budget.steps or budget.evaluations):
            return ["length (by default the budget's steps or evaluations: give length=)"]
        return []

    def extra(self, run):
        return {"temperature": self._temperature(run.counter("gens"))}


train = make_train(Anneal)
