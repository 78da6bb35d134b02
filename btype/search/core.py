"""What every search trainer shares: the budget loop, records, checkpoints, Ctrl-C.

The inner loop of each method runs inside Numba (its own module's kernel, on the
shared pieces of ``_kernels.py``) in *chunks* of whole steps; Python only runs
between chunks, to write a record, save a checkpoint, move the progress bar or
change the minibatch. Chunk ends are chosen by evaluation count (the next record
point, the budget) and by time (a chunk lasts about ``CHUNK_SECONDS``), and never
change the trajectory: all search state lives in arrays that the kernels update
in place. So a run is deterministic for a given seed, and a run resumed from a
checkpoint continues exactly as if it had never stopped.
"""
from __future__ import annotations

import math
import numbers
import os
import time

import numpy as np

from .. import checkpoint
from ..train import TrainResult, check_train_args, make_record
from . import _kernels as K
from .problem import Structure, build_problem, fitness_from_errs, load_rows, make_work

__all__ = ["Method", "search", "make_train", "MUTATIONS", "parse_mutation", "seed_state"]

CHUNK_SECONDS = 0.1
MUTATIONS = {"flips": K.MUT_FLIPS, "cone": K.MUT_CONE, "rate": K.MUT_RATE, "active": K.MUT_ACTIVE}
FLIP_DISTS = {"fixed": K.DIST_FIXED, "geometric": K.DIST_GEOMETRIC}
_NO_LIMIT = np.iinfo(np.int64).max
#: Options every search method takes besides its own.
_COMMON = dict(batch_size=None, batch_every=100, record_every=None, record_growth=1.5,
               checkpoint_seconds=60.0)
#: Common options that change the trajectory (part of a checkpoint's identity).
_TRAJECTORY = ("batch_size", "batch_every", "record_every", "record_growth")
_COUNTERS = ("evals", "gens", "skipped", "gate_evals", "accepted", "restarts", "since")
_SCORES = ("cur", "best")


# ---------------------------------------------------------------------------
# option checking
# ---------------------------------------------------------------------------
def check_int(value, name, lo=1, hi=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        raise ValueError(f"{name} must be in [{lo}, {hi if hi is not None else 'inf'}], got {value}")
    return int(value)


def check_float(value, name, lo, hi, lo_open=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number, got {value!r}")
    if value < lo or value > hi or (lo_open and value == lo):
        raise ValueError(f"{name} must be in {'(' if lo_open else '['}{lo}, {hi}], got {value}")
    return float(value)


def check_choice(value, name, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def parse_mutation(mutation, flips, rate, n_links, flip_dist="fixed") -> np.ndarray:
    """The kernels' mutation record (:data:`_kernels.MUTATION`) from the user's options."""
    mode = MUTATIONS[check_choice(mutation, "mutation", MUTATIONS)]
    k = check_int(flips, "flips", 1, n_links)
    rate = 1.0 / n_links if rate is None else check_float(rate, "rate", 0.0, 1.0, lo_open=True)
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


# ---------------------------------------------------------------------------
# methods
# ---------------------------------------------------------------------------
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
        unknown = sorted(set(options) - set(self.defaults))
        if unknown:
            valid = sorted(set(self.defaults) | set(_COMMON) | {"callback", "checkpoint_path", "resume"})
            raise TypeError(f"unknown option(s) {unknown} for method {self.name!r}; valid options: {valid}")
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


def make_train(method_cls):
    """The contract's ``train`` callable for a search method (btype.registry)."""

    def train(net, task, *, budget, seed=0, progress=True, callback=None, checkpoint_path=None,
              resume=False, **options):
        return search(net, task, method_cls, budget=budget, seed=seed, progress=progress,
                      callback=callback, checkpoint_path=checkpoint_path, resume=resume,
                      options=options)

    train.__name__ = train.__qualname__ = "train"
    train.__doc__ = (f"Train a machine's modifier bits with the {method_cls.name!r} search method.\n\n"
                     f"See :func:`btype.search.train` for the arguments; options of this method:\n"
                     f"{sorted(method_cls.defaults)} and the common ones {sorted(_COMMON)}.\n\n"
                     + (method_cls.__doc__ or ""))
    return train


# ---------------------------------------------------------------------------
# a run
# ---------------------------------------------------------------------------
class _Run:
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
        self.trace = []
        self.elapsed = 0.0
        self.callback = None
        self.next_record = 1
        self.snapshot = None          # minibatch mode: (full-train fitness, bits, solved) of the best record
        self.same_test = (task.X_test is task.X_train and task.Y_test is task.Y_train) or (
            task.X_test.shape == task.X_train.shape and np.array_equal(task.X_test, task.X_train)
            and np.array_equal(task.Y_test, task.Y_train))
        self.load_batch()
        self.target_score = self.kernel_target()

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

    # -- fitness ------------------------------------------------------------
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

    def record(self, notify=True) -> bool:
        """Append a record and hand it to the callback (if ``notify``); returns whether the
        callback asks to stop."""
        fit, solved, net = self.best_fitness()
        test = fit if self.same_test else self.task.score(net, "test").fitness
        if self.c["batch_size"] is not None and (self.snapshot is None or fit > self.snapshot[0]):
            self.snapshot = (fit, self.method.best(self)[0].copy(), solved)
        rec = make_record(method=self.method.name, task=self.task.name, seed=self.seed,
                          step=self.counter("gens"), evaluations=self.counter("evals"),
                          gate_evals=self.counter("gate_evals"), seconds=self.elapsed,
                          train_fitness=fit, test_accuracy=test, solved=solved,
                          skipped=self.counter("skipped"), accepted=self.counter("accepted"),
                          **self.method.extra(self))
        self.trace.append(rec)
        return bool(self.callback(rec)) if notify and self.callback is not None else False

    def fitness_if_reached(self):
        """The exact best training fitness once the kernel says the target may be reached, else None."""
        if self.c["batch_size"] is not None:
            return self.trace[-1]["train_fitness"] if self.trace else None
        if self.state["best"] > self.target_score:
            return None
        fit, _, _ = self.best_fitness()
        target = 1.0 if self.budget.target is None else self.budget.target
        if fit < target:
            # rounding let the kernel stop a hair early: ask for a strictly better score
            self.target_score = float(np.nextafter(self.state["best"], -np.inf))
        return fit

    def stop_reason(self):
        return self.budget.stop_reason(
            evaluations=self.counter("evals"), seconds=self.elapsed, steps=self.counter("gens"),
            gate_evals=self.counter("gate_evals"), fitness=self.fitness_if_reached(), trace=self.trace)

    # -- checkpoints ----------------------------------------------------------
    def identity(self):
        options = {**self.method.options, **{k: self.c[k] for k in _TRAJECTORY}, "seed": self.seed}
        return checkpoint.identity(self.net, self.task, method=self.method.name, options=options,
                                   budget=self.budget)

    def save(self, path):
        arrays = {"bits": self.bits, "rng": self.rng, "errs": self.wk.errs,
                  "best_bits": self.best_bits, "best_errs": self.best_errs,
                  "counters": np.array([self.state[f] for f in _COUNTERS], np.int64),
                  "scores": np.array([self.state[f] for f in _SCORES], np.float64)}
        if self.snapshot is not None:
            arrays["snapshot_bits"] = self.snapshot[1]
        if self.wk.act.size:
            # inactive gates may hold stale values: a resumed run needs the same ones
            arrays["values"], arrays["stale"] = self.wk.values, self.wk.stale
        for key, value in self.method.state().items():
            arrays["m_" + key] = value
        meta = {"trace": self.trace, "elapsed": self.elapsed, "batch_index": self.batch_index,
                "next_record": int(self.next_record), "target_score": float(self.target_score),
                "snapshot": None if self.snapshot is None else [float(self.snapshot[0]),
                                                                bool(self.snapshot[2])]}
        checkpoint.save(path, identity=self.identity(), meta=meta, arrays=arrays)

    def load(self, path):
        M, n_out = len(self.bits), len(self.best_errs)
        spec = {"bits": (np.uint8, (M,)), "rng": (np.uint64, (4,)), "errs": (np.int64, (n_out,)),
                "best_bits": (np.uint8, (M,)), "best_errs": (np.int64, (n_out,)),
                "counters": (np.int64, (len(_COUNTERS),)), "scores": (np.float64, (len(_SCORES),))}
        spec.update({"m_" + k: v for k, v in self.method.state_spec(self).items()})
        if self.wk.act.size:
            spec.update(values=(np.uint64, self.wk.values.shape), stale=(np.uint8, self.wk.stale.shape))
        meta, arrays = checkpoint.load(path, identity=self.identity(), arrays=spec)
        _check_restored(path, arrays, meta, self.S_train, self.prob.norm)
        self.bits[:] = arrays["bits"]
        self.rng[:] = arrays["rng"]
        self.best_bits[:] = arrays["best_bits"]
        self.best_errs[:] = arrays["best_errs"]
        for f, v in zip(_COUNTERS, arrays["counters"]):
            self.state[f] = v
        for f, v in zip(_SCORES, arrays["scores"]):
            self.state[f] = v
        self.trace = meta["trace"]
        self.elapsed = float(meta["elapsed"])
        self.next_record = int(meta["next_record"])
        self.target_score = float(meta["target_score"])
        self.batch_index = int(meta["batch_index"])
        if meta["snapshot"] is not None:
            if "snapshot_bits" not in arrays or arrays["snapshot_bits"].shape != (M,):
                raise ValueError(f"checkpoint {path!r} lacks a valid snapshot_bits array")
            self.snapshot = (meta["snapshot"][0], arrays["snapshot_bits"], meta["snapshot"][1])
        self.method.load_state({k[2:]: v for k, v in arrays.items() if k.startswith("m_")})
        self.load_batch()
        scores = [self.state[f] for f in _SCORES]
        K.evaluate(self.prob, self.wk)      # node values of the restored machine
        if self.wk.act.size:
            # active gates keep the true values just computed; inactive ones what they held
            n_in = self.prob.n_in
            inactive = n_in + np.flatnonzero(self.wk.act[n_in:] == 0)
            self.wk.values[inactive] = arrays["values"][inactive]
            self.wk.stale[:] = arrays["stale"]
        for f, v in zip(_SCORES, scores):
            self.state[f] = v
        self.wk.errs[:] = arrays["errs"]


def _check_restored(path, arrays, meta, S, norm):
    """Value ranges of a checkpoint's state (its shapes and dtypes are checked on reading)."""
    def bad(what):
        raise ValueError(f"checkpoint {path!r} holds an invalid state: {what}")

    for name in ("bits", "best_bits", "snapshot_bits", "m_bits", "stale"):
        if name in arrays and arrays[name].size and arrays[name].max() > 1:
            bad(f"{name} has values other than 0 and 1")
    if not arrays["rng"].any():
        bad("the random generator state is all zero")
    if (arrays["counters"] < 0).any():
        bad(f"negative counters {arrays['counters'].tolist()}")
    scores = arrays["scores"]
    if not np.isfinite(scores).all() or (scores < 0).any() or (scores > norm * (1 + 1e-9)).any():
        bad(f"scores {scores.tolist()} outside [0, {norm:g}]")
    for name in ("errs", "best_errs", "m_errs"):
        if name in arrays and arrays[name].size and (arrays[name].min() < 0 or arrays[name].max() > S):
            bad(f"{name} outside [0, {S}]")
    if "m_scores" in arrays and not np.isfinite(arrays["m_scores"]).all():
        bad("population scores that are not finite")
    for key, kind in (("trace", list), ("elapsed", (int, float)), ("batch_index", int),
                      ("next_record", int), ("target_score", (int, float))):
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            bad(f"meta field {key!r} is {meta.get(key)!r}")


def _next_point(evals, every, growth):
    if every is not None:
        return (evals // every + 1) * every
    p = 1
    while p <= evals:
        p = max(p + 1, math.ceil(p * growth))
    return p


def _check_common(common, n_train):
    c = {**_COMMON, **common}
    if c["batch_size"] is not None:
        c["batch_size"] = check_int(c["batch_size"], "batch_size", 1, n_train)
        if c["batch_size"] == n_train:
            c["batch_size"] = None
    c["batch_every"] = check_int(c["batch_every"], "batch_every")
    if c["record_every"] is not None:
        c["record_every"] = check_int(c["record_every"], "record_every")
    c["record_growth"] = check_float(c["record_growth"], "record_growth", 1.0, 1e6, lo_open=True)
    c["checkpoint_seconds"] = check_float(c["checkpoint_seconds"], "checkpoint_seconds", 0.0, 1e12)
    return c


# ---------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------
def search(net, task, method_cls, *, budget, seed, progress, callback, checkpoint_path, resume,
           options) -> TrainResult:
    """Validated entry point of every search method's ``train``."""
    seed, path = check_train_args(net, task, budget, seed, progress, callback=callback,
                                  checkpoint_path=checkpoint_path, resume=resume)
    options = dict(options)
    common = {k: options.pop(k) for k in list(options) if k in _COMMON}
    method = method_cls(options, n_links=net.n_modified, budget=budget)
    common = _check_common(common, len(task.X_train))
    run = _Run(net, task, method, budget, seed, common)
    return _loop(run, progress, callback, path, resume)


def _loop(run, progress, callback, path, resume):
    c = run.c
    if resume and os.path.exists(path):
        run.load(path)
    else:
        run.method.start(run)
    # compile (or load from cache) the kernel outside the clock: a chunk that stops at once
    run.method.chunk(run, run.limits(0, run.counter("gens")))
    run.callback = callback
    reason = None
    if not run.trace:
        run.next_record = _next_point(run.counter("evals"), c["record_every"], c["record_growth"])
        reason = "callback" if run.record() else None
    bar = _bar(progress, run)
    chunk_gens = 16
    t_origin = time.perf_counter() - run.elapsed
    last_save = time.perf_counter()
    stuck = len(run.st.cone_links) == 0   # no bit can change an output
    try:
        while reason is None:
            reason = run.stop_reason() or ("stuck" if stuck else None)
            if reason is not None:
                break
            gens = run.counter("gens") + chunk_gens
            if run.budget.steps is not None:
                gens = min(gens, run.budget.steps)
            if c["batch_size"] is not None:
                gens = min(gens, (run.batch_index + 1) * c["batch_every"])
            t0, g0 = time.perf_counter(), run.counter("gens")
            run.method.chunk(run, run.limits(run.next_record, gens))
            now = time.perf_counter()
            run.elapsed = now - t_origin
            chunk_gens = _next_chunk(chunk_gens, run.counter("gens") - g0, now - t0, run.budget,
                                     run.elapsed)
            if c["batch_size"] is not None and run.counter("gens") >= (run.batch_index + 1) * c["batch_every"]:
                run.next_batch()
            if run.counter("evals") >= run.next_record:
                # the next point first: a callback that raises leaves the checkpoint consistent
                run.next_record = _next_point(run.counter("evals"), c["record_every"], c["record_growth"])
                if run.record():
                    reason = "callback"
                if path is not None:
                    run.save(path)
                    last_save = time.perf_counter()
            elif path is not None and time.perf_counter() - last_save >= c["checkpoint_seconds"]:
                run.save(path)
                last_save = time.perf_counter()
            if bar is not None:
                bar.update(run.counter("evals") - bar.n)
                bar.set_postfix(fitness=f"{1.0 - run.state['best'] / run.prob.norm:.4f}", refresh=False)
    except KeyboardInterrupt:
        reason = "interrupted"
    run.elapsed = time.perf_counter() - t_origin
    if bar is not None:
        bar.close()
    if path is not None:
        # before the closing record, which a resumed run makes again where it stops
        run.save(path)
    last = run.trace[-1] if run.trace else None
    if (last is None or last["evaluations"] != run.counter("evals") or last["step"] != run.counter("gens")
            or reason == "interrupted"):
        run.record(notify=reason != "interrupted")   # after Ctrl-C, no more user code
    fit, solved, net = run.best_fitness()
    if run.snapshot is not None and run.snapshot[0] > fit:
        fit, solved, net = run.snapshot[0], run.snapshot[2], run.network_of(run.snapshot[1])
    test = fit if run.same_test else run.task.score(net, "test").fitness
    return TrainResult(network=net, trace=run.trace, solved=solved, method=run.method.name,
                       task=run.task.name, seed=run.seed, train_fitness=fit, test_accuracy=test,
                       interrupted=reason == "interrupted", stop_reason=reason)


def _next_chunk(chunk_gens, done, dt, budget, elapsed):
    if done <= 0 or dt <= 0:
        return chunk_gens
    want = CHUNK_SECONDS
    if budget.seconds is not None:
        want = min(want, max(budget.seconds - elapsed, 0.0) * 0.5 + 1e-4)
    return int(max(1, min(done / dt * want, chunk_gens * 8, 1 << 40)))


def _bar(progress, run):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=run.budget.evaluations, initial=run.counter("evals"), unit="eval",
                desc=f"{run.method.name} {run.task.name}", leave=False, dynamic_ncols=True)
