"""``"random"``: random search, the baseline every plot needs."""
from __future__ import annotations

from ..jit import njit
from . import _kernels as K
from .core import make_train
from .method import Method


@njit(cache=True, _nrt=False)
def _chunk(prob, wk, lim):
    """A fresh uniformly random genome per evaluation; keep the best."""
    st = wk.state[0]
    lim = lim[0]
    while not K.stop(st, lim):
        K.random_bits(wk.rng, wk.offs_bits)
        st.evals += 1
        st.cur = K.evaluate_genome(prob, wk, wk.offs_bits)
        if st.cur < st.best:
            st.best = st.cur
            K.copy(wk.best_bits, wk.bits)
            K.copy(wk.best_errs, wk.errs)
        st.gens += 1


class RandomSearch(Method):
    """Random search: every evaluation draws a fresh uniformly random genome.

    The starting machine is the first evaluation; the best machine seen is
    returned. No options.
    """

    name = "random"
    defaults: dict = {}

    def rescore(self, run):
        # the minibatch changed: the best genome so far is scored again, on the new batch
        K.load_genome(run.prob, run.wk, run.wk.best_bits.copy())
        super().rescore(run)

    def chunk(self, run, lim):
        _chunk(run.prob, run.wk, lim)


train = make_train(RandomSearch)
