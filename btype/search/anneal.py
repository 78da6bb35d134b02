"""``"anneal"``: simulated annealing over the modifier bits."""
from __future__ import annotations

from . import _kernels as K
from .core import Method, check_choice, check_float, check_int, parse_mutation

SCHEDULES = {"exp": 0, "linear": 1, "constant": 2}


class Anneal(Method):
    """Simulated annealing: one mutation per step, Metropolis acceptance.

    A candidate that loses ``d`` fitness (a fraction in [0, 1]) is accepted
    with probability ``exp(-d / T)``; an equal or better one always. The
    temperature ``T`` falls from ``t_start`` to ``t_end`` over ``length`` steps
    (exponentially, linearly, or stays at ``t_start``) and, with ``cycle``,
    starts again (reheating) after every ``length`` steps. The best machine
    seen is returned. Mutation options as for ``"es"``.

    Options
    -------
    schedule : {"exp", "linear", "constant"}
    t_start, t_end : float
        Temperatures in fitness units (defaults 0.05 and 0.0005).
    length : int, optional
        Steps of one cooling; default the step or evaluation budget, else 100000.
    cycle : bool
        Reheat after each ``length`` steps (default True).
    mutation, flips, rate : see ``"es"``.
    """

    name = "anneal"
    defaults = dict(schedule="exp", t_start=0.05, t_end=0.0005, length=None, cycle=True,
                    mutation="flips", flips=1, rate=None)

    def configure(self, n_links, budget):
        o = self.options
        self.schedule = SCHEDULES[check_choice(o["schedule"], "schedule", SCHEDULES)]
        self.t_start = check_float(o["t_start"], "t_start", 0.0, 1e6)
        self.t_end = check_float(o["t_end"], "t_end", 0.0, 1e6)
        if self.schedule == 0 and not (self.t_start > 0 and self.t_end > 0):
            raise ValueError(f"the exp schedule needs t_start > 0 and t_end > 0, "
                             f"got {self.t_start} and {self.t_end}")
        length = o["length"]
        if length is None:
            length = budget.steps or budget.evaluations or 100_000
        self.length = check_int(length, "length")
        if not isinstance(o["cycle"], bool):
            raise TypeError(f"cycle must be a bool, got {o['cycle']!r}")
        self.mode, self.k, self.rate = parse_mutation(o["mutation"], o["flips"], o["rate"], n_links)
        self.k_max = self.k

    def chunk(self, run, limits):
        K.local_chunk(run.prob, run.wk, 1, self.mode, self.k, self.rate, True, self.schedule,
                      self.t_start, self.t_end, float(self.length), self.options["cycle"], *limits)

    def extra(self, run):
        return {"temperature": K.temperature(self.schedule, self.t_start, self.t_end,
                                             float(self.length), run.ctr[K.GENS],
                                             self.options["cycle"])}
