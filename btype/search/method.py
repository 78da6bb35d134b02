"""What a search method is: its options, the calls into its kernel, its mutation, its seed.

Each method (``es``, ``anneal``, ``ga``, ``random``) is a :class:`Method` subclass
in its own module, beside its Numba kernel; :mod:`btype.search.core` runs it.
"""
from __future__ import annotations

import numpy as np

from .._checks import check_choice, check_int, check_real
from ..train import check_known_options
from . import _kernels as K

__all__ = ["Method", "MUTATIONS", "FLIP_DISTS", "COMMON", "TRAJECTORY", "parse_mutation", "seed_state",
           "check_common"]

MUTATIONS = {"flips": K.MUT_FLIPS, "cone": K.MUT_CONE, "rate": K.MUT_RATE, "active": K.MUT_ACTIVE}
FLIP_DISTS = {"fixed": K.DIST_FIXED, "geometric": K.DIST_GEOMETRIC}
#: Options every search method takes besides its own.
COMMON = dict(batch_size=None, batch_every=100, record_every=None, record_growth=1.5,
              checkpoint_seconds=60.0)
#: Common options that change the trajectory (part of a checkpoint's identity).
TRAJECTORY = ("batch_size", "batch_every", "record_every", "record_growth")


def parse_mutation(mutation, flips, rate, n_links, flip_dist="fixed") -> np.ndarray:
    """The kernels' mutation record (:data:`_kernels.MUTATION`) from the user's options."""
    mode = MUTATIONS[check_choice(mutation, "mutation", MUTATIONS)]
    k = check_int(flips, "flips", 1, n_links)
    rate = 1.0 / n_links if rate is None else check_real(rate, "rate", 0.0, 1.0, lo_open=True)
    dist = FLIP_DISTS[check_choice(flip_dist, "flip_dist", FLIP_DISTS)]
    mut = np.zeros(1, K.MUTATION)
    mut[0] = (mode, k, rate, dist)
    return mut


def seed_state(seed) -> np.ndarray:
    """xoshiro256** state from a seed in [0, 2**63 - 1], by splitmix64 (never all zero)."""
    x = int(seed)
    out = []
    for _ in range(4):
        x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        out.append(z ^ (z >> 31))
    return np.array(out, np.uint64)


def check_common(common, n_train) -> dict:
    """The common options (:data:`COMMON`) after defaults, checked."""
    c = {**COMMON, **common}
    if c["batch_size"] is not None:
        c["batch_size"] = check_int(c["batch_size"], "batch_size", 1, n_train)
        if c["batch_size"] == n_train:
            c["batch_size"] = None
    c["batch_every"] = check_int(c["batch_every"], "batch_every", 1)
    if c["record_every"] is not None:
        c["record_every"] = check_int(c["record_every"], "record_every", 1)
    c["record_growth"] = check_real(c["record_growth"], "record_growth", 1.0, 1e6, lo_open=True)
    c["checkpoint_seconds"] = check_real(c["checkpoint_seconds"], "checkpoint_seconds", 0.0, 1e12)
    return c


class Method:
    """A search method: its options and the calls into its kernel.

    Subclasses set ``name``, ``defaults`` (option -> default) and implement
    :meth:`chunk`; the others have defaults for single-machine methods whose
    best machine is kept in ``wk.best_bits``.
    """

    name = ""
    defaults: dict = {}
    lam = 1      # offspring buffers the kernel needs
    k_max = 1    # flips a mutation may need beyond the genome length
    track_active = False   # keep live reference counts (skip candidates on inactive gates)

    def __init__(self, options: dict, *, n_links: int, budget):
        check_known_options(options, set(self.defaults) | set(COMMON), self.name)
        self.options = {**self.defaults, **options}
        self.configure(n_links, budget)

    def configure(self, n_links, budget):
        """Validate ``self.options`` into kernel arguments."""

    def start(self, run):
        """Evaluate the starting machine (one evaluation)."""
        K.start(run.prob, run.wk)

    def chunk(self, run, lim):
        raise NotImplementedError

    def best(self, run):
        """(bits, errs) of the best machine so far."""
        return run.wk.best_bits, run.wk.best_errs

    def rescore(self, run):
        """Score the current machine again after the minibatch changed (scores on the old
        batch are stale); gate-evaluations are counted, evaluations are not."""
        K.rescore_current(run.prob, run.wk)
        st = run.state
        st["best"] = st["cur"]
        run.wk.best_bits[:] = run.wk.bits
        run.wk.best_errs[:] = run.wk.errs

    def state(self) -> dict:
        """Method state for a checkpoint: name -> array."""
        return {}

    def state_spec(self, run) -> dict:
        """``{name: (dtype, shape)}`` that :meth:`state`'s arrays must have on resume."""
        return {}

    def load_state(self, arrays: dict):
        pass

    def extra(self, run) -> dict:
        return {}

    def budget_bound(self, budget) -> list:
        """Why this method's steps depend on the size of ``budget`` (see ``Trainer.budget_bound``)."""
        return []
