"""``"es"``: (1 + lambda) evolution strategy with neutral drift."""
from __future__ import annotations

from . import _kernels as K
from .core import Method, check_int, parse_mutation


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
    mutation : {"flips", "rate", "active"}
        ``"flips"``: exactly ``flips`` distinct links (default, ``flips=1``);
        ``"rate"``: every link with probability ``rate`` (default 1/M), at
        least one; ``"active"``: random links until one lies in the output
        cone (Cartesian GP's single active mutation).
    flips : int
    rate : float
    """

    name = "es"
    defaults = dict(lam=1, mutation="flips", flips=1, rate=None)

    def configure(self, n_links, budget):
        o = self.options
        self.lam = check_int(o["lam"], "lam", 1, 1 << 16)
        self.mode, self.k, self.rate = parse_mutation(o["mutation"], o["flips"], o["rate"], n_links)
        self.k_max = self.k

    def start(self, run):
        run.evaluate_current(count=True)
        run.wk.fs[K.BEST] = run.wk.fs[K.CUR]

    def chunk(self, run, limits):
        K.local_chunk(run.prob, run.wk, self.lam, self.mode, self.k, self.rate, False, 0, 0.0, 0.0, 1.0,
                      False, *limits)

    def best(self, run):
        return run.wk.bits, run.wk.errs

    def extra(self, run):
        return {"lam": self.lam}
