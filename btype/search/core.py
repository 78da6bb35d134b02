"""What every search trainer shares: the budget loop, records, checkpoints, Ctrl-C.

The inner loop of each method runs inside Numba (``_kernels.py``) in *chunks*
of whole generations; Python only runs between chunks, to write a record, save
a checkpoint, move the progress bar or change the minibatch. Chunk ends are
chosen by evaluation count (the next record point, the budget) and by time (a
chunk lasts about ``CHUNK_SECONDS``), and never change the trajectory: all
search state lives in arrays that the kernels update in place. So a run is
deterministic for a given seed, and a run resumed from a checkpoint continues
exactly as if it had never stopped.
"""
from __future__ import annotations

import json
import math
import numbers
import os
import time

import numpy as np

from ..train import Budget, TrainResult, check_train_args, make_record
from . import _kernels as K
from .problem import Structure, build_problem, fitness_from_errs, make_work

__all__ = ["Method", "search", "MUTATIONS", "parse_mutation", "seed_state"]

CHUNK_SECONDS = 0.1
CHECKPOINT_FORMAT = "btype.search.checkpoint/1"
MUTATIONS = {"flips": K.MUT_FLIPS, "rate": K.MUT_RATE, "active": K.MUT_ACTIVE}
_NO_LIMIT = np.iinfo(np.int64).max
_COMMON = dict(batch_size=None, batch_every=100, record_every=None, record_growth=1.5,
               checkpoint_path=None, resume=False, checkpoint_seconds=60.0, callback=None)


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


def parse_mutation(mutation, flips, rate, n_links):
    """(mode, k, rate) for the kernels from the user's mutation options."""
    mode = MUTATIONS[check_choice(mutation, "mutation", MUTATIONS)]
    k = check_int(flips, "flips", 1, n_links)
    rate = 1.0 / n_links if rate is None else check_float(rate, "rate", 0.0, 1.0, lo_open=True)
    return mode, k, rate


def seed_state(seed) -> np.ndarray:
    """xoshiro256** state from a seed, by splitmix64."""
    x = int(seed) & 0xFFFFFFFFFFFFFFFF
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

    def __init__(self, options: dict, *, n_links: int, budget: Budget):
        unknown = sorted(set(options) - set(self.defaults))
        if unknown:
            valid = sorted(set(self.defaults) | set(_COMMON))
            raise TypeError(f"unknown option(s) {unknown} for method {self.name!r}; valid options: {valid}")
        self.options = {**self.defaults, **options}
        self.configure(n_links, budget)

    def configure(self, n_links, budget):
        """Validate ``self.options`` into kernel arguments."""

    def start(self, run):
        """Evaluate the starting machine (one evaluation)."""
        run.evaluate_current(count=True)
        run.wk.fs[K.BEST] = run.wk.fs[K.CUR]
        run.wk.best_bits[:] = run.wk.bits
        run.wk.best_errs[:] = run.wk.errs

    def chunk(self, run, limits):
        raise NotImplementedError

    def best(self, run):
        """(bits, errs) of the best machine so far."""
        return run.wk.best_bits, run.wk.best_errs

    def rescore(self, run):
        """Re-evaluate after the minibatch changed (scores on the old batch are stale)."""
        self.start(run)

    def state(self) -> dict:
        return {}

    def load_state(self, arrays: dict):
        pass

    def extra(self, run) -> dict:
        return {}


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
        self.rng = seed_state(seed)
        self.ctr = np.zeros(K.N_CTR, np.int64)
        self.fs = np.full(K.N_FS, np.inf)
        self.bits = self.st.bits0.copy()
        self.best_bits = self.bits.copy()
        self.best_errs = np.zeros(max(1, net.n_outputs), np.int64)
        self.trace = []
        self.elapsed = 0.0
        self.snapshot = None          # minibatch mode: (full-train fitness, bits) of the best record
        self.same_test = (task.X_test is task.X_train and task.Y_test is task.Y_train) or (
            task.X_test.shape == task.X_train.shape and np.array_equal(task.X_test, task.X_train)
            and np.array_equal(task.Y_test, task.Y_train))
        self.load_batch()

    # -- problem and batches ------------------------------------------------
    def batch_rows(self):
        size = self.c["batch_size"]
        if size is None:
            return None
        gen = np.random.default_rng([int(self.seed), self.batch_index, 0xB17E])
        return np.sort(gen.choice(self.S_train, size, replace=False))

    def load_batch(self):
        self.prob, inputs = build_problem(self.st, self.batch_rows())
        self.wk = make_work(self.st, self.prob, inputs, self.bits, self.rng, self.ctr, self.fs,
                            lam=self.method.lam, k_max=self.method.k_max,
                            best_bits=self.best_bits, best_errs=self.best_errs)

    def evaluate_current(self, count):
        work = K.full_evaluate(self.prob, self.wk)
        if count:
            self.ctr[K.EVALS] += 1
            self.ctr[K.GATE_EVALS] += work * self.prob.S

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
            fit = fitness_from_errs(self.task, self.prob.S, errs, self.st.weights)
            return fit, bool(np.all(errs == 0)), net
        score = self.task.score(net, "train")
        return score.fitness, score.solved, net

    def record(self):
        fit, solved, net = self.best_fitness()
        test = fit if self.same_test else self.task.score(net, "test").fitness
        if self.c["batch_size"] is not None and (self.snapshot is None or fit > self.snapshot[0]):
            self.snapshot = (fit, self.method.best(self)[0].copy(), solved)
        ctr = self.ctr
        rec = make_record(method=self.method.name, task=self.task.name, seed=self.seed,
                          step=ctr[K.GENS], evaluations=ctr[K.EVALS], gate_evals=ctr[K.GATE_EVALS],
                          seconds=self.elapsed, train_fitness=fit, test_accuracy=test, solved=solved,
                          skipped=int(ctr[K.SKIPPED]), accepted=int(ctr[K.ACCEPTED]),
                          **self.method.extra(self))
        self.trace.append(rec)
        return rec

    # -- checkpoints ----------------------------------------------------------
    def meta(self):
        opts = {k: v for k, v in self.method.options.items()}
        opts.update({k: self.c[k] for k in ("batch_size", "batch_every")})
        return {"format": CHECKPOINT_FORMAT, "method": self.method.name, "task": self.task.name,
                "seed": int(self.seed), "options": repr(sorted(opts.items())),
                "wiring": _wiring_digest(self.net), "trace": self.trace, "elapsed": self.elapsed,
                "batch_index": self.batch_index, "next_record": self.next_record,
                "target_score": self.target_score,
                "snapshot": None if self.snapshot is None else [self.snapshot[0], self.snapshot[2]]}

    def save(self, path):
        arrays = {"bits": self.bits, "rng": self.rng, "ctr": self.ctr, "fs": self.fs,
                  "errs": self.wk.errs, "best_bits": self.best_bits, "best_errs": self.best_errs}
        if self.snapshot is not None:
            arrays["snapshot_bits"] = self.snapshot[1]
        for key, value in self.method.state().items():
            arrays["m_" + key] = value
        tmp = f"{path}.tmp"
        with open(tmp, "wb") as fh:
            np.savez(fh, meta=np.array(json.dumps(self.meta())), **arrays)
        os.replace(tmp, path)

    def load(self, path):
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {k: data[k] for k in data.files if k != "meta"}
        mine = self.meta()
        for key in ("format", "method", "task", "seed", "options", "wiring"):
            if meta[key] != mine[key]:
                raise ValueError(f"checkpoint {path!r} is for another run: its {key} is {meta[key]!r}, "
                                 f"this run's is {mine[key]!r}")
        for name in ("bits", "rng", "ctr", "fs", "best_bits", "best_errs"):
            getattr(self, name)[:] = arrays[name]
        self.trace = meta["trace"]
        self.elapsed = float(meta["elapsed"])
        self.next_record = int(meta["next_record"])
        self.target_score = float(meta["target_score"])
        self.batch_index = int(meta["batch_index"])
        if meta["snapshot"] is not None:
            self.snapshot = (meta["snapshot"][0], arrays["snapshot_bits"], meta["snapshot"][1])
        self.method.load_state({k[2:]: v for k, v in arrays.items() if k.startswith("m_")})
        self.load_batch()
        saved_fs = self.fs.copy()
        self.evaluate_current(count=False)
        self.fs[:] = saved_fs
        self.wk.errs[:] = arrays["errs"]


def _wiring_digest(net):
    import hashlib

    h = hashlib.sha1()
    for a in (net.wiring, net.modifiers, net.outputs):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(net.link.encode())
    h.update(np.ascontiguousarray(net.enabled).tobytes())
    return h.hexdigest()[:16]


def _next_point(evals, every, growth):
    if every is not None:
        return (evals // every + 1) * every
    p = 1
    while p <= evals:
        p = max(p + 1, math.ceil(p * growth))
    return p


def _check_common(common, n_train, budget):
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
    if c["checkpoint_path"] is not None and not isinstance(c["checkpoint_path"], (str, os.PathLike)):
        raise TypeError(f"checkpoint_path must be a path, got {c['checkpoint_path']!r}")
    if not isinstance(c["resume"], bool):
        raise TypeError(f"resume must be a bool, got {c['resume']!r}")
    if c["resume"] and c["checkpoint_path"] is None:
        raise ValueError("resume=True needs a checkpoint_path")
    if c["callback"] is not None and not callable(c["callback"]):
        raise TypeError(f"callback must be callable, got {c['callback']!r}")
    return c


# ---------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------
def search(net, task, method_cls, budget, seed, progress, options) -> TrainResult:
    """Validated entry point used by :func:`btype.search.train`."""
    check_train_args(net, task, budget, seed, progress)
    common = {k: options.pop(k) for k in list(options) if k in _COMMON}
    method = method_cls(options, n_links=net.n_modified, budget=budget)
    common = _check_common(common, len(task.X_train), budget)
    run = _Run(net, task, method, budget, int(seed), common)
    return _loop(run, progress)


def _target_score(run):
    target = run.budget.target
    if run.c["batch_size"] is not None:
        return -1.0           # checked on the full training set at records
    if target is None or target >= 1.0:
        return 0.0
    return (1.0 - target) * run.prob.norm * (1.0 + 1e-12)


def _loop(run, progress):
    c, b, ctr = run.c, run.budget, run.ctr
    path = c["checkpoint_path"]
    resumed = c["resume"] and os.path.exists(path)
    run.next_record = 1
    run.target_score = _target_score(run)
    if resumed:
        run.load(path)
    else:
        run.method.start(run)
    hard = b.evaluations if b.evaluations is not None else _NO_LIMIT
    ge_limit = b.gate_evals if b.gate_evals is not None else _NO_LIMIT
    step_limit = b.steps if b.steps is not None else _NO_LIMIT
    # compile (or load from cache) the kernel outside the clock: a chunk that stops at once
    run.method.chunk(run, (hard, 0, ctr[K.GENS], ge_limit, run.target_score))
    if not run.trace:
        run.record()
        run.next_record = _next_point(ctr[K.EVALS], c["record_every"], c["record_growth"])
    bar = _bar(progress, run)
    interrupted = False
    chunk_gens = 16
    t_origin = time.perf_counter() - run.elapsed
    last_save = time.perf_counter()
    stuck = len(run.st.cone_links) == 0   # no bit can change an output
    try:
        while not stuck and not _finished(run, hard, ge_limit, step_limit):
            gen_limit = min(step_limit, ctr[K.GENS] + chunk_gens)
            if c["batch_size"] is not None:
                gen_limit = min(gen_limit, (run.batch_index + 1) * c["batch_every"])
            t0, g0 = time.perf_counter(), ctr[K.GENS]
            run.method.chunk(run, (hard, run.next_record, gen_limit, ge_limit, run.target_score))
            now = time.perf_counter()
            run.elapsed = now - t_origin
            chunk_gens = _next_chunk(chunk_gens, ctr[K.GENS] - g0, now - t0, b, run.elapsed)
            if c["batch_size"] is not None and ctr[K.GENS] >= (run.batch_index + 1) * c["batch_every"]:
                run.batch_index += 1
                run.load_batch()
                run.method.rescore(run)
            if ctr[K.EVALS] >= run.next_record:
                run.record()
                run.next_record = _next_point(ctr[K.EVALS], c["record_every"], c["record_growth"])
                if path is not None:
                    run.save(path)
                    last_save = time.perf_counter()
            elif path is not None and time.perf_counter() - last_save >= c["checkpoint_seconds"]:
                run.save(path)
                last_save = time.perf_counter()
            if bar is not None:
                bar.update(int(ctr[K.EVALS]) - bar.n)
                bar.set_postfix(fitness=f"{_approx_fitness(run):.4f}", refresh=False)
            if c["callback"] is not None and c["callback"](_info(run)):
                break
    except KeyboardInterrupt:
        interrupted = True
    run.elapsed = time.perf_counter() - t_origin
    if path is not None:
        run.save(path)
    if bar is not None:
        bar.close()
    last = run.trace[-1] if run.trace else None
    if last is None or last["evaluations"] != ctr[K.EVALS] or last["step"] != ctr[K.GENS] or interrupted:
        run.record()
    fit, solved, net = run.best_fitness()
    if run.snapshot is not None and run.snapshot[0] > fit:
        fit, solved, net = run.snapshot[0], run.snapshot[2], run.network_of(run.snapshot[1])
    test = fit if run.same_test else run.task.score(net, "test").fitness
    return TrainResult(network=net, trace=run.trace, solved=solved, method=run.method.name,
                       task=run.task.name, seed=run.seed, train_fitness=fit, test_accuracy=test,
                       interrupted=interrupted)


def _approx_fitness(run):
    return 1.0 - run.fs[K.BEST] / run.prob.norm


def _info(run):
    return {"evaluations": int(run.ctr[K.EVALS]), "step": int(run.ctr[K.GENS]),
            "gate_evals": int(run.ctr[K.GATE_EVALS]), "seconds": run.elapsed,
            "fitness": _approx_fitness(run)}


def _finished(run, hard, ge_limit, step_limit):
    ctr, b = run.ctr, run.budget
    if (ctr[K.EVALS] >= hard or ctr[K.GATE_EVALS] >= ge_limit or ctr[K.GENS] >= step_limit
            or (b.seconds is not None and run.elapsed >= b.seconds)):
        return True
    if run.c["batch_size"] is not None:
        target = 1.0 if b.target is None else b.target
        return bool(run.trace) and run.trace[-1]["train_fitness"] >= target
    if run.fs[K.BEST] > run.target_score:
        return False
    fit, _, _ = run.best_fitness()
    if fit >= (1.0 if b.target is None else b.target):
        return True
    # rounding let the kernel stop a hair early: ask for a strictly better score
    run.target_score = float(np.nextafter(run.fs[K.BEST], -np.inf))
    return False


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

    return tqdm(total=run.budget.evaluations, initial=int(run.ctr[K.EVALS]), unit="eval",
                desc=f"{run.method.name} {run.task.name}", leave=False, dynamic_ncols=True)
