"""A search run on the driver: every search method's steps, records and state.

The inner loop of each method runs inside Numba (its own module's kernel, on the
shared pieces of ``_kernels.py``) in *chunks* of whole steps; Python only runs
between chunks, where the driver (:mod:`btype.driver`) writes a record, saves a
checkpoint, moves the progress bar, and :class:`SearchRun` changes the minibatch.
Chunk ends are chosen by evaluation count (the next record point, the budget) and
by time (a chunk lasts about ``CHUNK_SECONDS``), and never change the trajectory:
all search state lives in arrays that the kernels update in place. So a run is
deterministic for a given seed, and a run resumed from a checkpoint continues
exactly as if it had never stopped.
"""
from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import checkpoint
from ..driver import CHUNK_SECONDS, Checkpoint, Trainer, drive, next_point
from ..network import Network
from ..train import Budget, TrainResult, check_train_args, make_record
from . import _kernels as K
from . import state as _state
from .method import COMMON, TRAJECTORY, Method, check_common, parse_mutation, seed_state
from .problem import Structure, build_problem, fitness_from_errs, load_rows, make_work

if TYPE_CHECKING:
    from ..tasks import Task

__all__ = ["SearchRun", "search", "make_train", "Method", "parse_mutation", "seed_state"]

_NO_LIMIT = np.iinfo(np.int64).max


class SearchRun(Trainer):
    """One run of a search method (a :class:`Method` instance) on ``net`` and ``task``.

    ``common`` are the checked common options (:func:`btype.search.method.check_common`).
    """

    def __init__(self, net, task, method, budget, seed, common):
        self.net, self.task, self.method, self.budget, self.seed = net, task, method, budget, seed
        self.c = common
        self.st = Structure(net, task)
        self.S_train = len(task.X_train)
        self.batch_index = 0
        self._perm = None              # (epoch, permutation of the training rows)
        self.rng = seed_state(seed)
        self.state_arr = K.new_state()
        self.state = self.state_arr[0]
        self.bits = self.st.bits0.copy()
        self.best_bits = self.bits.copy()
        self.best_errs = np.zeros(max(1, len(self.st.out_nodes)), np.int64)
        self.snapshot = None          # minibatch mode: (full-train fitness, bits, solved) of the best record
        self.same_test = (task.X_test is task.X_train and task.Y_test is task.Y_train) or (
            task.X_test.shape == task.X_train.shape and np.array_equal(task.X_test, task.X_train)
            and np.array_equal(task.Y_test, task.Y_train))
        self.chunk_gens = 16
        self.load_batch()
        self.target_score = self.kernel_target()

    @property
    def name(self):
        return self.method.name

    def counter(self, name) -> int:
        return int(self.state[name])

    # -- problem and batches ------------------------------------------------
    def batch_rows(self):
        """The rows of minibatch ``batch_index`` (None: the whole training set).

        Each epoch is a fresh permutation of the training rows (drawn from the
        seed and the epoch) cut into ``S // batch_size`` batches of exactly
        ``batch_size`` rows; the rows left over join the next epoch's draw.
        """
        size = self.c["batch_size"]
        if size is None:
            return None
        per_epoch = self.S_train // size
        epoch, j = divmod(self.batch_index, per_epoch)
        if self._perm is None or self._perm[0] != epoch:
            gen = np.random.default_rng([int(self.seed), epoch, 0xB17E])
            self._perm = (epoch, gen.permutation(self.S_train))
        return np.sort(self._perm[1][j * size:(j + 1) * size])

    def load_batch(self):
        """Build the packed problem and the search's scratch on the current batch."""
        self.prob, inputs = build_problem(self.st, self.batch_rows())
        self.wk = make_work(self.st, self.prob, inputs, self.bits, self.rng, self.state_arr,
                            lam=self.method.lam, k_max=self.method.k_max,
                            track_active=self.method.track_active,
                            best_bits=self.best_bits, best_errs=self.best_errs)

    def next_batch(self):
        """Move to the next minibatch: its rows replace the old ones in the same buffers (every
        batch has ``batch_size`` rows), then the method scores its machine(s) on them."""
        self.batch_index += 1
        load_rows(self.st, self.prob, self.wk, self.batch_rows())
        self.method.rescore(self)

    def kernel_target(self):
        """The score at which a kernel stops: the target (default: solved) on the training set."""
        target = self.budget.target
        if self.c["batch_size"] is not None:
            return -1.0           # checked on the full training set at records
        if target is None or target >= 1.0:
            return 0.0
        return (1.0 - target) * self.prob.norm * (1.0 + 1e-12)

    def limits(self, soft_evals, gens):
        b = self.budget
        return K.limits(b.evaluations if b.evaluations is not None else _NO_LIMIT, soft_evals, gens,
                        b.gate_evals if b.gate_evals is not None else _NO_LIMIT, self.target_score)

    # -- the driver's calls ---------------------------------------------------
    def start(self):
        self.method.start(self)

    def warm_up(self):
        # compile (or load from cache) the kernel: a chunk that stops at once
        self.method.chunk(self, self.limits(0, self.counter("gens")))

    def advance(self, until, clock):
        c = self.c
        gens = self.counter("gens") + self.chunk_gens
        if self.budget.steps is not None:
            gens = min(gens, self.budget.steps)
        if c["batch_size"] is not None:
            gens = min(gens, (self.batch_index + 1) * c["batch_every"])
        t0, g0 = time.perf_counter(), self.counter("gens")
        self.method.chunk(self, self.limits(until, gens))
        dt = time.perf_counter() - t0
        self.chunk_gens = _next_chunk(self.chunk_gens, self.counter("gens") - g0, dt, self.budget, clock())
        if c["batch_size"] is not None and self.counter("gens") >= (self.batch_index + 1) * c["batch_every"]:
            self.next_batch()
        return False

    def counters(self):
        return {"evaluations": self.counter("evals"), "steps": self.counter("gens"),
                "gate_evals": self.counter("gate_evals")}

    def stop_reason(self, trace, seconds):
        reason = super().stop_reason(trace, seconds)
        return reason or ("stuck" if len(self.st.cone_links) == 0 else None)  # no bit can change an output

    def postfix(self):
        return {"fitness": f"{1.0 - self.state['best'] / self.prob.norm:.4f}"}

    def budget_bound(self):
        return self.method.budget_bound(self.budget)

    # -- fitness and records ----------------------------------------------------
    def network_of(self, bits):
        enabled = np.array(self.net.enabled)
        links = self.st.links
        enabled[links[:, 0], links[:, 1]] = bits.astype(bool)
        return self.net.with_enabled(enabled)

    def best_fitness(self):
        """(train fitness, solved, network) of the best machine, exactly as Task.score gives them."""
        bits, errs = self.method.best(self)
        net = self.network_of(bits)
        if self.c["batch_size"] is None:
            fit = fitness_from_errs(self.task, self.prob, errs)
            return fit, bool(np.all(errs == 0)), net
        score = self.task.score(net, "train")
        return score.fitness, score.solved, net

    def record(self, seconds):
        fit, solved, net = self.best_fitness()
        test = fit if self.same_test else self.task.score(net, "test").fitness
        if self.c["batch_size"] is not None and (self.snapshot is None or fit > self.snapshot[0]):
            self.snapshot = (fit, self.method.best(self)[0].copy(), solved)
        return make_record(method=self.method.name, task=self.task.name, seed=self.seed,
                           step=self.counter("gens"), evaluations=self.counter("evals"),
                           gate_evals=self.counter("gate_evals"), seconds=seconds,
                           train_fitness=fit, test_accuracy=test, solved=solved,
                           skipped=self.counter("skipped"), accepted=self.counter("accepted"),
                           **self.method.extra(self))

    def reached(self, trace):
        """The exact best training fitness once the kernel says the target may be reached, else None."""
        if self.c["batch_size"] is not None:
            return trace[-1]["train_fitness"] if trace else None
        if self.state["best"] > self.target_score:
            return None
        fit, _, _ = self.best_fitness()
        target = 1.0 if self.budget.target is None else self.budget.target
        if fit < target:
            # rounding let the kernel stop a hair early: ask for a strictly better score
            self.target_score = float(np.nextafter(self.state["best"], -np.inf))
        return fit

    def result(self, trace, reason):
        fit, solved, net = self.best_fitness()
        if self.snapshot is not None and self.snapshot[0] > fit:
            fit, solved, net = self.snapshot[0], self.snapshot[2], self.network_of(self.snapshot[1])
        test = fit if self.same_test else self.task.score(net, "test").fitness
        return TrainResult(network=net, trace=trace, solved=solved, method=self.method.name,
                           task=self.task.name, seed=self.seed, train_fitness=fit, test_accuracy=test,
                           interrupted=reason == "interrupted", stop_reason=reason)

    # -- checkpoints ----------------------------------------------------------
    def identity(self):
        options = {**self.method.options, **{k: self.c[k] for k in TRAJECTORY}, "seed": self.seed}
        return checkpoint.identity(self.net, self.task, method=self.method.name, options=options,
                                   budget=self.budget)

    def checkpoint_state(self):
        return _state.state(self)

    def checkpoint_spec(self):
        return _state.state_spec(self)

    def restore_state(self, meta, arrays, path, trace):
        _state.restore(self, meta, arrays, path)



def schedule(common):
    """The record schedule of a search run with these common options."""
    return functools.partial(next_point, every=common["record_every"], growth=common["record_growth"])


def search(net, task, method_cls, *, budget, seed, progress, callback, checkpoint_path, resume,
           options) -> TrainResult:
    """Validated entry point of every search method's ``train``."""
    seed, path = check_train_args(net, task, budget, seed, progress, callback=callback,
                                  checkpoint_path=checkpoint_path, resume=resume)
    options = dict(options)
    common = {k: options.pop(k) for k in list(options) if k in COMMON}
    method = method_cls(options, n_links=net.n_modified, budget=budget)
    common = check_common(common, len(task.X_train))
    run = SearchRun(net, task, method, budget, seed, common)
    ckpt = None if path is None else Checkpoint(path, run.identity())
    return drive(run, schedule=schedule(common), progress=progress, callback=callback, checkpoint=ckpt,
                 resume=resume, checkpoint_seconds=common["checkpoint_seconds"])


def make_train(method_cls: type[Method]) -> Callable[..., TrainResult]:
    """The contract's ``train`` callable for a search method (btype.registry)."""

    def train(net: Network, task: Task, *, budget: Budget, seed: int = 0, progress: bool = True,
              callback: Callable[[dict], object] | None = None, checkpoint_path: str | os.PathLike | None = None,
              resume: bool | str = False, **options: Any) -> TrainResult:
        return search(net, task, method_cls, budget=budget, seed=seed, progress=progress,
                      callback=callback, checkpoint_path=checkpoint_path, resume=resume,
                      options=options)

    train.__name__ = train.__qualname__ = "train"
    train.method_cls = method_cls
    train.__doc__ = (f"Train a machine's modifier bits with the {method_cls.name!r} search method.\n\n"
                     f"See :func:`btype.search.train` for the arguments; options of this method:\n"
                     f"{sorted(method_cls.defaults)} and the common ones {sorted(COMMON)}.\n\n"
                     + (method_cls.__doc__ or ""))
    return train


def _next_chunk(chunk_gens, done, dt, budget, elapsed):
    if done <= 0 or dt <= 0:
        return chunk_gens
    want = CHUNK_SECONDS
    if budget.seconds is not None:
        want = min(want, max(budget.seconds - elapsed, 0.0) * 0.5 + 1e-4)
    return int(max(1, min(done / dt * want, chunk_gens * 8, 1 << 40)))
