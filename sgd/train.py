"""``sgd.train``: gradient descent on the relaxed machine, records of the hardened one.

The loop never waits for the device between records: the loss, its
finiteness and the counters stay on the device or on the host clock, and the
hardened machine is scored by the btype simulator only at records (docs/design.md
section 4). Checkpoints go through :mod:`btype.checkpoint` (data only).
"""
from __future__ import annotations

import math
import numbers
import os
import time
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

import btype
from btype import checkpoint
from btype.train import MAX_COUNT, RECORD_FIELDS, check_train_args

from .relax import INITS, MODES, RelaxedNetwork, _initial_theta

__all__ = ["train", "DEFAULTS", "KIND_DEFAULTS", "TABLE_DEFAULTS", "defaults_for", "task_kind",
           "is_truth_table"]

#: Default options of :func:`train` on data (chosen on the digits task; see README).
DEFAULTS = dict(
    lr=0.05, batch_size=256, optimizer="adam", weight_decay=None, mode="soft", straight_through=False,
    tau=1.0, tau_end=None, init="random", init_scale=None, temperature=None, eps=1e-4,
    check_every=None, restarts=1, select="auto",
    record_every=None, record_growth=1.5, record_max_steps=200, relaxed_rows=1024, amp=False,
    backend="auto")

#: Optimiser state per parameter, as torch keeps it after the first step.
_OPT_STATE = {"adam": ("exp_avg", "exp_avg_sq", "step"), "adamw": ("exp_avg", "exp_avg_sq", "step"),
              "sgd": ("momentum_buffer",)}
#: ``weight_decay`` of optimizer="adamw" when none is given.
ADAMW_WEIGHT_DECAY = 0.1

#: The defaults that differ from :data:`DEFAULTS` by the kind of task (:func:`task_kind`),
#: chosen by experiments/studies/sgd_boolean: on truth tables with one output per bit
#: AdamW and 10 restarts (choose_defaults.py, seeds 100-103 of parity5, mux6, add2, mul2
#: on the full preset's machines), on truth tables read as a class vote neither
#: (vote_defaults.py: they cost parity5 on 2,048 gates in 4 layers 4 of 4 seeds), on both
#: the hardened check every 25 steps; on data nothing (AdamW cost digits accuracy).
KIND_DEFAULTS = {"table": dict(optimizer="adamw", check_every=25, restarts=10),
                 "vote table": dict(check_every=25),
                 "data": {}}
#: The truth-table defaults (one output per bit), as used by tests and the README.
TABLE_DEFAULTS = KIND_DEFAULTS["table"]


def is_truth_table(task) -> bool:
    """True for a task whose test split is its training split (a truth table, in any readout)."""
    a, b = task.X_train, task.X_test
    return a is b or (a.shape == b.shape and np.array_equal(a, b))


def task_kind(task) -> str:
    """"table" (a truth table, one output per bit), "vote table" (a truth table read as
    classes, e.g. ``Task.as_classes``) or "data"."""
    if not is_truth_table(task):
        return "data"
    return "table" if task.n_classes is None else "vote table"


def defaults_for(task) -> dict:
    """The default options of :func:`train` on ``task``: the one place they depend on the task."""
    return dict(DEFAULTS, **KIND_DEFAULTS[task_kind(task)])


def train(net, task, *, budget, seed=0, progress=True, callback=None, checkpoint_path=None, resume=False,
          device="auto", **options) -> btype.TrainResult:
    """Train a machine's modifier bits by gradient descent on its relaxation.

    Parameters
    ----------
    net : btype.Network
        The wiring, outputs, modifier mask and link mode to train (its modifier
        states are the start only with ``init="bits"``).
    task : btype.tasks.Task
    budget : btype.Budget
        ``evaluations`` counts training samples seen (batch size per step),
        ``steps`` optimiser steps, ``gate_evals`` 3 x gates x batch per step
        (x clock steps for clocked tasks), ``seconds`` wall time excluding
        setup and compilation. ``target`` (default 1.0, i.e. solved) and the
        plateau rule are checked at records, on the hardened machine: on its
        training fitness, or with ``select`` "valid" on its validation
        accuracy (so a run that fits its training rows goes on).
    seed : int
        In [0, 2**63 - 1]. Seeds the initialisation, the batches and the noise.
        Runs with a step or evaluation budget are deterministic on the CPU (on
        CUDA up to rounding in atomic adds); a run resumed from a checkpoint
        then equals the uninterrupted one.
    progress : bool
        Show a tqdm progress bar.
    callback : callable, optional
        Called with each record as it is made; a true return value stops the
        run (``stop_reason`` "callback").
    checkpoint_path : path, optional
        State saved at every record (a :mod:`btype.checkpoint` file).
    resume : bool
        Continue from ``checkpoint_path`` if it exists. Refused (ValueError)
        when the file belongs to another run: another task, machine, seed,
        option or budget.
    device : {"auto", "cpu", "cuda", ...} or torch.device
        "auto" takes CUDA when available.
    **options
        Defaults: :data:`DEFAULTS`, with :data:`KIND_DEFAULTS` by the kind
        of task (:func:`defaults_for`). ``lr`` (the optimiser's learning
        rate, 0.05), ``batch_size`` (256; the whole training set when
        larger), ``optimizer`` ("adam", "adamw" or "sgd" with momentum 0.9),
        ``weight_decay`` (optimizer "adamw" only: the decoupled decay,
        default 0.1), ``mode``
        ("soft", "hard" or "gumbel"; see ``RelaxedNetwork.forward``),
        ``straight_through`` (gumbel), ``tau`` and ``tau_end`` (temperature of
        the enables, moved geometrically from ``tau`` to ``tau_end`` over the
        budget), ``init`` and ``init_scale`` (see ``RelaxedNetwork``),
        ``temperature`` (classification: logits are group sums of output
        probabilities over this; default sqrt(outputs per class / 20), which
        gave the best test accuracy on digits among 0.5 to 9), ``eps``
        (Boolean loss: ``-log(eps + (1 - 2 eps) p_right)``, a cross-entropy
        that keeps a gradient at hard 0/1 outputs), ``record_every`` (records
        every so many evaluations; default geometric growth ``record_growth``
        but at least every ``record_max_steps`` steps), ``amp`` (CUDA:
        bfloat16 node values), ``backend`` (see ``RelaxedNetwork``),
        ``relaxed_rows`` (the relaxed figures of the records are measured on
        at most this many rows of each split, drawn once from the seed; None:
        the whole split), ``check_every`` (every so many steps, between
        records, the hardened machine is scored by the simulator on the
        training split and kept if it is the best so far; a record follows
        when it reaches the budget's target, so the run stops there; None:
        only at records), ``restarts`` (R >= 1: the budget is cut into R equal
        segments, each starting from a fresh ``init`` (segment r > 0 drawn
        from the seed and r) and a fresh optimiser, with the temperature
        schedule run per segment; the best hardened machine over all
        segments is kept and each segment ends with a record), ``select``
        (which hardened machine is kept: "train", the best by training
        fitness; "valid", the best by accuracy on the task's validation split,
        ties to the better training fitness, with the plateau rule on
        ``valid_accuracy`` and the target on it: early stopping; "auto", the default: "valid"
        where the task has a validation split).

    Notes
    -----
    Memory: the training split and the test split as float tensors (rows x
    inputs), plus node values and their gradients for one batch (about
    3 x gates x batch floats); the relaxed scoring at records runs in chunks
    of max(batch, 512) rows and keeps only counts, and the hardened scoring packs each split
    once (rows x inputs bits). No (rows x gates) or (rows x outputs) array is
    made for a whole split.

    Returns
    -------
    btype.TrainResult
        ``network`` is the best hardened machine by training fitness, or by
        validation accuracy (``select``), scored by the btype simulator;
        records report that machine's figures as
        ``train_fitness``/``test_accuracy``/``solved`` (and ``valid_accuracy``,
        None without a validation split) and add
        ``hardened_train_fitness``/``hardened_test_accuracy``/
        ``hardened_valid_accuracy`` (the machine hardened at that record), ``relaxed_train_fitness``/
        ``relaxed_test_accuracy`` (soft outputs thresholded at 1/2, or argmax
        of group sums), ``loss`` (mean since the last record; None at step 0)
        , ``tau`` and ``epoch`` (training samples seen / training rows: passes
        over the training set, fractional). ``stop_reason`` says why it stopped: a budget limit,
        "solved"/"target", "plateau", "callback", "interrupted" (Ctrl-C: the
        best machine so far) or "nonfinite" (the loss turned NaN or infinite:
        the records and the checkpoint end at the last good record).
    """
    seed, path = check_train_args(net, task, budget, seed, progress, callback=callback,
                                  checkpoint_path=checkpoint_path, resume=resume)
    o = check_options(options, defaults_for(task))
    run = _Run(net, task, budget, device, seed, o)
    ident = run_identity(net, task, "sgd", o, budget, seed)
    if resume and os.path.exists(path):
        meta, arrays = checkpoint.load(path, identity=ident, arrays=run.state_spec())
        run.restore(meta, arrays, path)

    def save():
        if path is not None:
            meta, arrays = run.state()
            checkpoint.save(path, identity=ident, meta=meta, arrays=arrays)

    return run.loop(progress=progress, callback=callback, save=save)


def run_identity(net, task, method, options, budget, seed) -> dict:
    """The checkpoint identity of a run: the envelope's fields and the seed."""
    return dict(checkpoint.identity(net, task, method=method, options=options, budget=budget), seed=seed)


def check_options(options, defaults=DEFAULTS, who="sgd.train"):
    """The options after defaults; TypeError for an unknown one, listing the valid ones."""
    unknown = set(options) - set(defaults)
    if unknown:
        raise TypeError(f"{who} got unknown option(s) {sorted(unknown)}; valid options: {sorted(defaults)}")
    o = dict(defaults, **options)
    for name in ("lr", "tau", "eps", "record_growth"):
        v = o[name]
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    if o["eps"] >= 0.5:
        raise ValueError(f"eps must be < 0.5, got {o['eps']!r}")
    if o["record_growth"] <= 1:
        raise ValueError(f"record_growth must be > 1, got {o['record_growth']!r}")
    for name in ("tau_end", "temperature", "init_scale"):
        v = o[name]
        if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Real)
                              or not math.isfinite(v) or v <= 0):
            raise ValueError(f"{name} must be a finite number > 0 or None, got {v!r}")
    for name in ("batch_size", "record_every", "record_max_steps", "relaxed_rows"):
        v = o[name]
        if v is None and name in ("record_every", "relaxed_rows"):
            continue
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 1 <= v <= MAX_COUNT:
            raise ValueError(f"{name} must be an int in [1, 2**62], got {v!r}")
    if o["mode"] not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {o['mode']!r}")
    if o["init"] not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {o['init']!r}")
    if o["optimizer"] not in _OPT_STATE:
        raise ValueError(f"optimizer must be one of {tuple(_OPT_STATE)}, got {o['optimizer']!r}")
    wd = o["weight_decay"]
    if wd is not None:
        if o["optimizer"] != "adamw":
            raise ValueError(f"weight_decay applies to optimizer='adamw' only, got weight_decay={wd!r} "
                             f"with optimizer={o['optimizer']!r}")
        if isinstance(wd, bool) or not isinstance(wd, numbers.Real) or not math.isfinite(wd) or wd < 0:
            raise ValueError(f"weight_decay must be a finite number >= 0 or None, got {wd!r}")
    for name in ("check_every", "restarts"):
        v = o[name]
        if v is None and name == "check_every":
            continue
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 1 <= v <= MAX_COUNT:
            raise ValueError(f"{name} must be an int in [1, 2**62]{' or None' if name == 'check_every' else ''}"
                             f", got {v!r}")
    if o["select"] not in ("auto", "train", "valid"):
        raise ValueError(f"select must be 'auto', 'train' or 'valid', got {o['select']!r}")
    for name in ("straight_through", "amp"):
        if not isinstance(o[name], bool):
            raise TypeError(f"{name} must be a bool, got {o[name]!r}")
    return o


def _device(device):
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (TypeError, RuntimeError):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or a torch.device, got {device!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device} was asked for but CUDA is not available")
    return device


class _NonFinite(Exception):
    """The loss turned NaN or infinite since the last record."""


class _Best(NamedTuple):
    """The hardened machine a run keeps, with the simulator's scores of it."""

    train: float            # training fitness
    solved: bool
    test: float             # test accuracy
    network: btype.Network
    valid: float | None     # validation accuracy; None without a validation split


class _Run:
    """State of one training run; ``loop`` runs it.

    ``method`` and ``extra`` (fields added to every record) let the hybrid
    trainer run its gradient phase through the same loop.
    """

    def __init__(self, net, task, budget, device, seed, o, *, method="sgd", extra=None):
        self.o = o
        self.device = _device(device)
        if o["amp"] and self.device.type != "cuda":
            raise ValueError(f"amp=True needs a CUDA device, got {self.device}")
        self.net, self.task, self.budget, self.seed = net, task, budget, seed
        self.method, self.extra = method, dict(extra or {})
        self.dtype = torch.bfloat16 if o["amp"] else torch.float32
        self.steps = task.steps  # clock steps for clocked tasks, None otherwise
        self.has_valid = task.X_valid is not None
        if o["select"] == "valid" and not self.has_valid:
            raise ValueError(f"select='valid' needs a validation split; task {task.name!r} has none "
                             f"(data tasks take valid=, e.g. btype.tasks.get({task.name!r}, valid=0.1))")
        self.by_valid = o["select"] == "valid" or (o["select"] == "auto" and self.has_valid)

        dev = self.device
        self.X = {s: torch.as_tensor(np.array(task.split(s)[0]), device=dev).to(self.dtype) for s in ("train", "test")}
        target = torch.float32 if task.n_classes is None else torch.int64
        self.targets = {s: torch.as_tensor(np.array(task.split(s)[1]), device=dev).to(target)
                        for s in ("train", "test")}
        self.Y = self.targets["train"]
        rng = np.random.default_rng(seed)
        k = o["relaxed_rows"]
        self.relaxed_rows = {s: None if k is None or len(self.X[s]) <= k else
                             torch.as_tensor(np.sort(rng.choice(len(self.X[s]), k, replace=False)), device=dev)
                             for s in ("train", "test")}
        if task.n_classes is None:
            w = task.output_weights
            w = np.ones(task.n_outputs) if w is None else np.asarray(w, float)
            self.weights = torch.as_tensor(w / w.sum(), dtype=torch.float32, device=dev)
            # Fitness as Task.score_outputs computes it (weighted mean, in float64), so a
            # machine right on every row scores exactly 1.0, not 1 + rounding.
            self.fitness_weights = torch.as_tensor(w, dtype=torch.float64, device=dev)
        else:
            self.Y = torch.as_tensor(np.array(task.Y_train), device=dev).to(torch.int64)
            per_class = net.n_outputs // task.n_classes
            self.temperature = o["temperature"] or math.sqrt(per_class / 20)
        n_train = len(task.X_train)
        self.batch = min(o["batch_size"], n_train)
        self.full_batch = self.batch == n_train
        clock = 1 if self.steps is None else max(1, self.steps)
        self.gate_evals_per_step = 3 * net.n_gates * self.batch * clock

        torch.manual_seed(seed)  # anything inside torch that draws without a generator
        self.relaxed = RelaxedNetwork(net, init=o["init"], tau=o["tau"], scale=o["init_scale"],
                                      seed=seed, backend=o["backend"]).to(dev)
        params = self.relaxed.parameters()
        if o["optimizer"] == "adam":
            self.opt = torch.optim.Adam(params, lr=o["lr"])
        elif o["optimizer"] == "adamw":
            wd = ADAMW_WEIGHT_DECAY if o["weight_decay"] is None else o["weight_decay"]
            self.opt = torch.optim.AdamW(params, lr=o["lr"], weight_decay=wd)
        else:
            self.opt = torch.optim.SGD(params, lr=o["lr"], momentum=0.9)
        self.segment = 0          # restart segment, 0 .. restarts - 1
        self.gen = torch.Generator(device=dev)
        self.gen.manual_seed(seed)
        self.perm, self.pos = None, 0
        self.step = self.evaluations = self.gate_evals = 0
        self.elapsed = 0.0
        self.trace = []
        self.best = None          # a _Best: the kept hardened machine and its scores
        self.loss_sum = torch.zeros((), device=dev)
        self.loss_count = 0
        self.bad = torch.zeros((), dtype=torch.bool, device=dev)
        self.next_record = 1

    # -- one optimiser step, no host synchronisation --------------------------------
    def _indices(self):
        if self.full_batch:
            return None
        n = len(self.task.X_train)
        if self.perm is None or self.pos + self.batch > n:
            self.perm = torch.randperm(n, generator=self.gen, device=self.device)
            self.pos = 0
        idx = self.perm[self.pos:self.pos + self.batch]
        self.pos += self.batch
        return idx

    def _tau(self):
        o = self.o
        if o["tau_end"] is None:
            return o["tau"]
        within = min(1.0, max(0.0, self._progress() * o["restarts"] - self.segment))
        return o["tau"] * (o["tau_end"] / o["tau"]) ** within

    def _segment_done(self):
        """True once this restart segment's share of the budget is used (never in the last one)."""
        R = self.o["restarts"]
        return self.segment < R - 1 and self._progress() * R >= self.segment + 1

    def _restart(self):
        """The next segment: a fresh initialisation (from the seed and the segment) and optimiser."""
        self.segment += 1
        o = self.o
        theta = _initial_theta(self.net, o["init"], o["init_scale"], (self.seed, self.segment))
        with torch.no_grad():
            self.relaxed.theta.copy_(torch.as_tensor(theta))
        self.opt.state.clear()

    def _progress(self):
        b = self.budget
        parts = [0.0]
        for used, limit in ((self.step, b.steps), (self.evaluations, b.evaluations),
                            (self.gate_evals, b.gate_evals), (self.elapsed, b.seconds)):
            if limit is not None:
                parts.append(used / limit)
        return min(1.0, max(parts))

    def _loss(self, out, idx):
        o = self.o
        out = out.float()
        if self.task.n_classes is None:
            y = self.Y if idx is None else self.Y[idx]
            right = y * out + (1 - y) * (1 - out)
            nll = -torch.log(o["eps"] + (1 - 2 * o["eps"]) * right)
            return (nll.mean(0) * self.weights).sum()
        y = self.Y if idx is None else self.Y[idx]
        logits = out.view(out.shape[0], self.task.n_classes, -1).sum(-1) / self.temperature
        return F.cross_entropy(logits, y)

    def _forward(self, x, mode, **kw):
        return self.relaxed(x, mode=mode, steps=self.steps, **kw)

    def train_step(self):
        o = self.o
        idx = self._indices()
        x = self.X["train"] if idx is None else self.X["train"][idx]
        tau = self._tau()
        out = self._forward(x, o["mode"], tau=tau, generator=self.gen, straight_through=o["straight_through"])
        loss = self._loss(out, idx)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        d = loss.detach()
        self.loss_sum += d
        self.loss_count += 1
        self.bad |= ~torch.isfinite(d)
        self.step += 1
        self.evaluations += self.batch
        self.gate_evals += self.gate_evals_per_step

    # -- records ------------------------------------------------------------------
    @torch.no_grad()
    def _relaxed_fitness(self, split):
        """Fitness of the soft outputs at the current tau (thresholded at 1/2, or argmax of
        group sums) on the split's ``relaxed_rows``, in chunks: only counts are kept."""
        X, Y, rows = self.X[split], self.targets[split], self.relaxed_rows[split]
        n = len(X) if rows is None else len(rows)
        if n == 0:
            return 1.0
        right, chunk = 0, max(self.batch, 512)  # fewer calls, each one's set-up amortised
        for start in range(0, n, chunk):
            sel = slice(start, start + chunk) if rows is None else rows[start:start + chunk]
            out = self._forward(X[sel], "soft", tau=self._tau()).float()
            if self.task.n_classes is None:
                right = right + ((out > 0.5) == (Y[sel] > 0.5)).sum(0)
            else:
                scores = out.view(len(out), self.task.n_classes, -1).sum(-1)
                right += int((scores.argmax(1) == Y[sel]).sum())
        if self.task.n_classes is None:
            w = self.fitness_weights
            return float((right.double() / n * w).sum() / w.sum())
        return right / n

    def _consider(self, hard, test=True):
        """Score a hardened machine with the simulator; keep it if it is the best so far
        (by :meth:`_rank`).

        Returns whether it was kept, its training fitness, its validation accuracy (None
        without a split) and (with ``test``, or when it is kept) its test accuracy.
        """
        train = self.task.score(hard, "train")
        valid = self.task.score(hard, "valid").fitness if self.has_valid else None
        better = self.best is None or self._rank(train.fitness, valid) > self._rank(self.best.train, self.best.valid)
        score = self.task.score(hard, "test").fitness if test or better else None
        if better:
            self.best = _Best(train.fitness, train.solved, score, hard, valid)
        return better, train.fitness, valid, score

    def _selection(self):
        """``fitness`` and ``key`` for ``Budget.stop_reason``: the kept machine's figure it is
        chosen by (validation accuracy or training fitness), which the target and the plateau
        rule read."""
        if self.by_valid:
            return dict(fitness=self.best.valid, key="valid_accuracy")
        return dict(fitness=self.best.train, key="train_fitness")

    def _rank(self, train, valid):
        return (valid, train) if self.by_valid else train

    def check(self):
        """The hardened check between records: True when the kept best now meets the budget's target."""
        if not self._consider(self.relaxed.harden(), test=False)[0]:
            return False
        return self.budget.stop_reason(**self._selection()) is not None

    def record(self):
        """Score the hardened machine, keep it if best, append a record. Syncs the device."""
        if bool(self.bad):
            raise _NonFinite
        _, train, valid, test = self._consider(self.relaxed.harden())
        loss = float(self.loss_sum) / self.loss_count if self.loss_count else None
        self.loss_sum.zero_()
        self.loss_count = 0
        rec = btype.make_record(
            method=self.method, task=self.task.name, seed=self.seed, step=self.step,
            evaluations=self.evaluations, gate_evals=self.gate_evals, seconds=self.elapsed,
            train_fitness=self.best.train, test_accuracy=self.best.test, solved=self.best.solved,
            **self.extra, valid_accuracy=self.best.valid, hardened_train_fitness=train,
            hardened_test_accuracy=test, hardened_valid_accuracy=valid,
            relaxed_train_fitness=self._relaxed_fitness("train"),
            relaxed_test_accuracy=self._relaxed_fitness("test"), loss=loss, tau=self._tau(),
            epoch=self.evaluations / len(self.task.X_train), segment=self.segment)
        self.trace.append(rec)
        return rec

    def _schedule_next(self):
        o = self.o
        if o["record_every"] is not None:
            nxt = self.evaluations + o["record_every"]
        else:
            nxt = max(self.evaluations + 1, math.ceil(self.evaluations * o["record_growth"]))
            nxt = min(nxt, self.evaluations + o["record_max_steps"] * self.batch)
        self.next_record = nxt

    def counters(self):
        return dict(evaluations=self.evaluations, seconds=self.elapsed, steps=self.step,
                    gate_evals=self.gate_evals)

    def stop_reason(self):
        """Why to stop after the last record (budget, target, plateau), or None."""
        return (self.budget.stop_reason(**self.counters(), **self._selection(), trace=self.trace)
                or self._step_reason())

    def _step_reason(self):
        """The budget axis that one more step would overrun, or None (no limit is ever exceeded)."""
        return self.budget.stop_reason(evaluations=self.evaluations + self.batch - 1, seconds=self.elapsed,
                                       steps=self.step, gate_evals=self.gate_evals + self.gate_evals_per_step - 1)

    def result(self, stop_reason):
        fit, solved, test, net, _ = self.best
        return btype.TrainResult(network=net, trace=list(self.trace), solved=solved, method=self.method,
                                 task=self.task.name, seed=self.seed, train_fitness=fit,
                                 test_accuracy=test, interrupted=stop_reason == "interrupted",
                                 stop_reason=stop_reason)

    # -- checkpoints ----------------------------------------------------------------
    def state(self) -> tuple:
        """``(meta, arrays)``: everything the loop needs to continue, as JSON and arrays."""
        opt = self.opt.state_dict()["state"].get(0, {})
        arrays = {"theta": self.relaxed.theta.detach().cpu().numpy(),
                  "best_enabled": np.array(self.best.network.enabled),
                  "generator": self.gen.get_state().cpu().numpy(),
                  "perm": np.zeros(0, np.int64) if self.perm is None else self.perm.cpu().numpy()}
        arrays.update({f"opt.{k}": v.detach().cpu().numpy() for k, v in opt.items()})
        meta = {"step": self.step, "evaluations": self.evaluations, "gate_evals": self.gate_evals,
                "elapsed": self.elapsed, "pos": self.pos, "next_record": self.next_record,
                "has_perm": self.perm is not None, "optimizer_started": bool(opt), "segment": self.segment,
                "trace": self.trace}
        return meta, arrays

    def state_spec(self) -> dict:
        """Dtypes and shapes that :meth:`state`'s arrays must have (for ``checkpoint.load``)."""
        G = self.net.n_gates
        return {"theta": (np.float32, (G, 2)), "best_enabled": (np.bool_, (G, 2)),
                "generator": (np.uint8, (None,)), "perm": (np.int64, (None,))}

    def restore(self, meta, arrays, path):
        """Continue from a checkpoint's state; ValueError naming the file for any inconsistency.

        The best machine is re-scored with the simulator and must have the
        fitness that the last record reports: nothing stored about it is trusted.
        """
        def bad(message):
            return ValueError(f"checkpoint {os.fspath(path)!r} holds an inconsistent state: {message}")

        counts = {}
        for key in ("step", "evaluations", "gate_evals", "pos", "next_record", "segment"):
            v = meta.get(key)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_COUNT:
                raise bad(f"{key} is {v!r}, not an int in [0, 2**62]")
            counts[key] = v
        elapsed = meta.get("elapsed")
        if isinstance(elapsed, bool) or not isinstance(elapsed, (int, float)) or not (
                math.isfinite(elapsed) and elapsed >= 0):
            raise bad(f"elapsed is {elapsed!r}, not a finite number >= 0")
        for key in ("has_perm", "optimizer_started"):
            if not isinstance(meta.get(key), bool):
                raise bad(f"{key} is {meta.get(key)!r}, not a bool")
        if counts["segment"] >= self.o["restarts"]:
            raise bad(f"segment is {counts['segment']}, not below restarts={self.o['restarts']}")
        if counts["step"] * self.batch != counts["evaluations"] or \
                counts["step"] * self.gate_evals_per_step != counts["gate_evals"]:
            raise bad(f"step {counts['step']}, evaluations {counts['evaluations']} and gate_evals "
                      f"{counts['gate_evals']} do not agree (batch {self.batch})")
        theta = arrays["theta"]
        if not np.isfinite(theta).all():
            raise bad("theta is not finite")
        n = len(self.task.X_train)
        perm = arrays["perm"]
        if meta["has_perm"]:
            if not np.array_equal(np.sort(perm), np.arange(n)) or counts["pos"] > n:
                raise bad(f"perm is not a permutation of the {n} training rows with pos <= {n}")
        elif len(perm) or counts["pos"]:
            raise bad("perm or pos without has_perm")
        generator = arrays["generator"]
        if not generator.any():
            raise bad("the random generator's state is all zero")
        opt = self._optimizer_state(meta["optimizer_started"], arrays, bad)
        trace = self._checked_trace(meta.get("trace"), counts, bad)
        try:
            best_net = self.net.with_enabled(arrays["best_enabled"])
        except (TypeError, ValueError) as exc:
            raise bad(f"best_enabled: {exc}") from None

        with torch.no_grad():
            self.relaxed.theta.copy_(torch.as_tensor(theta))
        state = self.opt.state_dict()
        state["state"] = {0: opt} if opt else {}
        self.opt.load_state_dict(state)
        try:
            self.gen.set_state(torch.as_tensor(generator))
        except RuntimeError as exc:
            raise bad(f"the random generator's state is not one torch can use ({exc})") from None
        self.perm = torch.as_tensor(perm, device=self.device) if meta["has_perm"] else None
        self.pos, self.step, self.next_record = counts["pos"], counts["step"], counts["next_record"]
        self.segment = counts["segment"]
        self.evaluations, self.gate_evals, self.elapsed = counts["evaluations"], counts["gate_evals"], float(elapsed)
        self.trace = trace
        self._consider(best_net)
        last = trace[-1]
        if (self.best.train, self.best.solved) != (last["train_fitness"], last["solved"]):
            raise bad(f"its last record reports train_fitness {last['train_fitness']!r} (solved "
                      f"{last['solved']!r}) but its best machine scores {self.best.train!r} (solved {self.best.solved!r})")

    def _optimizer_state(self, started, arrays, bad):
        names = _OPT_STATE[self.o["optimizer"]]
        present = {k[4:] for k in arrays if k.startswith("opt.")}
        if not started:
            if present:
                raise bad(f"optimizer state {sorted(present)} although the optimizer has not started")
            return {}
        if present != set(names):
            raise bad(f"optimizer state arrays {sorted(present)}, expected {sorted(names)}")
        state = {}
        for name in names:
            a = arrays["opt." + name]
            shape = () if name == "step" else (self.net.n_gates, 2)
            if a.dtype != np.float32 or a.shape != shape or not np.isfinite(a).all():
                raise bad(f"optimizer state {name!r} is not a finite float32 array of shape {shape}")
            if name in ("exp_avg_sq", "step") and (a < 0).any():
                raise bad(f"optimizer state {name!r} is negative")
            state[name] = torch.as_tensor(a.copy(), device="cpu" if name == "step" else self.device)
        return state

    def _checked_trace(self, trace, counts, bad):
        if not isinstance(trace, list) or not trace or not all(isinstance(r, dict) for r in trace):
            raise bad("trace is not a non-empty list of records")
        for rec in trace:
            missing = [k for k in RECORD_FIELDS if k not in rec]
            if missing or rec["method"] != self.method or rec["seed"] != self.seed:
                raise bad(f"a record lacks {missing} or is of another method or seed: {rec!r}")
            f = rec["train_fitness"]
            if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 <= f <= 1:
                raise bad(f"a record's train_fitness is {f!r}")
        last = trace[-1]
        if (last["step"], last["evaluations"], last["gate_evals"]) != (
                counts["step"], counts["evaluations"], counts["gate_evals"]):
            raise bad("the last record's counters are not the state's")
        return trace

    # -- the loop -------------------------------------------------------------------
    def _warm_up(self):
        """Compile the kernels (numba, triton) outside the clock, on two samples."""
        x = self.X["train"][:2]
        out = self._forward(x, "soft")
        out.float().sum().backward()
        self.relaxed.zero_grad(set_to_none=True)
        self.task.score(self.relaxed.harden(), "train")

    def loop(self, *, progress=False, callback=None, save=None):
        """Train until the budget, the target, the plateau rule, the callback or Ctrl-C stops it.

        ``save()`` is called after every record (to write a checkpoint).
        """
        self._warm_up()
        bar = self._bar() if progress else None
        reason = None
        t_origin = time.perf_counter() - self.elapsed

        def at_record():
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
            self.elapsed = time.perf_counter() - t_origin
            rec = self.record()
            self._schedule_next()
            if save is not None:
                save()
            if bar is not None:
                bar.set_postfix(fitness=f"{rec['train_fitness']:.4f}", refresh=False)
            if callback is not None and callback(rec):
                return "callback"
            return self.stop_reason()

        try:
            reason = at_record() if not self.trace else self.stop_reason()
            every = self.o["check_every"]
            while reason is None:
                if self._segment_done():    # after the segment's last record (and checkpoint)
                    self._restart()
                self.train_step()
                self.elapsed = time.perf_counter() - t_origin
                if self.evaluations >= self.next_record or self._step_reason() or self._segment_done() or (
                        every is not None and self.step % every == 0 and self.check()):
                    reason = at_record()
                if bar is not None:
                    bar.update(1)
        except KeyboardInterrupt:
            reason = "interrupted"
            if not self.trace or self.trace[-1]["step"] != self.step:
                try:
                    at_record()
                except _NonFinite:
                    pass
        except _NonFinite:
            reason = "nonfinite"
        finally:
            if bar is not None:
                bar.close()
        return self.result(reason)

    def _bar(self):
        from tqdm.auto import tqdm

        b = self.budget
        total = b.steps
        if total is None and b.evaluations is not None:
            total = -(-b.evaluations // self.batch)
        if total is None and b.gate_evals is not None:
            total = -(-b.gate_evals // self.gate_evals_per_step)
        return tqdm(total=total, initial=self.step, unit="step", desc=f"{self.method} {self.task.name}",
                    leave=False, dynamic_ncols=True)
