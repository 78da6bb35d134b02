"""The gradient-descent run: one optimiser step, the records of the hardened machine, on the driver.

:class:`GradientRun` is the :class:`btype.driver.Trainer` of ``sgd.train`` and of the
hybrid's gradient phase. A step never waits for the device: the loss, its finiteness
and the counters stay on the device or on the host clock, and the hardened machine
is scored by the btype simulator only at records (and at the optional checks).
"""
from __future__ import annotations

import functools
import math
import time
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

import btype
from btype.driver import CHUNK_SECONDS, StopRun, Trainer, next_point

from . import state as _state
from .options import ADAMW_WEIGHT_DECAY, device as _device
from .relax import RelaxedNetwork, _initial_theta

__all__ = ["GradientRun"]


class _Best(NamedTuple):
    """The hardened machine a run keeps, with the simulator's scores of it."""

    train: float            # training fitness
    solved: bool
    test: float             # test accuracy
    network: btype.Network
    valid: float | None     # validation accuracy; None without a validation split


def _optimizer(params, o):
    """The optimiser of the options: Adam, AdamW (decoupled weight decay) or SGD with momentum."""
    if o["optimizer"] == "adam":
        return torch.optim.Adam(params, lr=o["lr"])
    if o["optimizer"] == "adamw":
        wd = ADAMW_WEIGHT_DECAY if o["weight_decay"] is None else o["weight_decay"]
        return torch.optim.AdamW(params, lr=o["lr"], weight_decay=wd)
    return torch.optim.SGD(params, lr=o["lr"], momentum=0.9)


class GradientRun(Trainer):
    """One gradient-descent run of ``sgd.train`` (``o``: its checked options), run by
    ``btype.driver.drive``.

    ``method`` (the name in the records) and ``extra`` (fields added to every
    record) let the hybrid trainer run its gradient phase as a run of its own.
    """

    def __init__(self, net, task, budget, device, seed, o, *, method="sgd", extra=None):
        self.o = o
        self.device = _device(device)
        if o["amp"] and self.device.type != "cuda":
            raise ValueError(f"amp=True needs a CUDA device, got {self.device}")
        self.net, self.task, self.budget, self.seed = net, task, budget, seed
        self.name = self.method = method
        self.extra = dict(extra or {})
        self.dtype = torch.bfloat16 if o["amp"] else torch.float32
        self.steps = task.steps  # clock steps for clocked tasks, None otherwise
        self.has_valid = task.X_valid is not None
        if o["select"] == "valid" and not self.has_valid:
            raise ValueError(f"select='valid' needs a validation split; task {task.name!r} has none "
                             f"(data tasks take valid=, e.g. btype.tasks.get({task.name!r}, valid=0.1))")
        self.by_valid = o["select"] == "valid" or (o["select"] == "auto" and self.has_valid)
        self.key = "valid_accuracy" if self.by_valid else "train_fitness"

        self._load_data(net, task, o, seed)
        n_train = len(task.X_train)
        self.batch = min(o["batch_size"], n_train)
        self.full_batch = self.batch == n_train
        clock = 1 if self.steps is None else max(1, self.steps)
        self.gate_evals_per_step = 3 * net.n_gates * self.batch * clock

        dev = self.device
        torch.manual_seed(seed)  # anything inside torch that draws without a generator
        self.relaxed = RelaxedNetwork(net, init=o["init"], tau=o["tau"], scale=o["init_scale"],
                                      seed=seed, backend=o["backend"]).to(dev)
        self.opt = _optimizer(self.relaxed.parameters(), o)
        self.segment = 0          # restart segment, 0 .. restarts - 1
        self.gen = torch.Generator(device=dev)
        self.gen.manual_seed(seed)
        self.perm, self.pos = None, 0
        self.step = self.evaluations = self.gate_evals = 0
        self.elapsed = 0.0
        self.best = None          # a _Best: the kept hardened machine and its scores
        self.loss_sum = torch.zeros((), device=dev)
        self.loss_count = 0
        self.bad = torch.zeros((), dtype=torch.bool, device=dev)
        self.schedule = functools.partial(next_point, every=o["record_every"], growth=o["record_growth"],
                                          max_gap=o["record_max_steps"] * self.batch)

    def _load_data(self, net, task, o, seed):
        """The splits as tensors on the device, the rows of the relaxed figures, the loss weights."""
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
            per_class = net.n_outputs // task.n_classes
            self.temperature = o["temperature"] or math.sqrt(per_class / 20)

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
        return self.budget.fraction_used(dict(self.counters(), seconds=self.elapsed))

    def _loss(self, out, idx):
        o = self.o
        out = out.float()
        y = self.Y if idx is None else self.Y[idx]
        if self.task.n_classes is None:
            right = y * out + (1 - y) * (1 - out)
            nll = -torch.log(o["eps"] + (1 - 2 * o["eps"]) * right)
            return (nll.mean(0) * self.weights).sum()
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
        tau = self._tau()
        for start in range(0, n, chunk):
            sel = slice(start, start + chunk) if rows is None else rows[start:start + chunk]
            out = self._forward(X[sel], "soft", tau=tau).float()
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

    def record(self, seconds):
        """Score the hardened machine, keep it if best, make a record. Syncs the device."""
        if bool(self.bad):
            raise StopRun("nonfinite")
        self.elapsed = seconds
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
        return rec

    def counters(self):
        return dict(evaluations=self.evaluations, steps=self.step, gate_evals=self.gate_evals)

    def reached(self, trace):
        return self._selection()["fitness"]

    def stop_reason(self, trace, seconds):
        """Why to stop (budget, target, plateau, or a step that would pass a limit), or None."""
        return super().stop_reason(trace, seconds) or self._step_reason()

    def _step_reason(self):
        """The budget axis that one more step would overrun, or None (no limit is ever exceeded)."""
        return self.budget.stop_reason(evaluations=self.evaluations + self.batch - 1, seconds=self.elapsed,
                                       steps=self.step, gate_evals=self.gate_evals + self.gate_evals_per_step - 1)

    def result(self, trace, stop_reason):
        fit, solved, test, net, _ = self.best
        return btype.TrainResult(network=net, trace=list(trace), solved=solved, method=self.method,
                                 task=self.task.name, seed=self.seed, train_fitness=fit,
                                 test_accuracy=test, interrupted=stop_reason == "interrupted",
                                 stop_reason=stop_reason)

    # -- the driver's other calls ---------------------------------------------------
    def start(self):
        """A fresh run starts from the state built in ``__init__``."""

    def warm_up(self):
        """Compile the kernels (numba, triton) on two samples; the state does not change."""
        x = self.X["train"][:2]
        out = self._forward(x, "soft")
        out.float().sum().backward()
        self.relaxed.zero_grad(set_to_none=True)
        self.task.score(self.relaxed.harden(), "train")

    def advance(self, until, clock):
        """Steps until a record is due (the schedule's point ``until``, the end of a restart
        segment, a check that meets the target) -> True, or until one more step would pass a
        limit or about ``CHUNK_SECONDS`` passed -> False."""
        every = self.o["check_every"]
        t0 = time.perf_counter()
        if self._segment_done():    # after the segment's last record (and checkpoint)
            self._restart()
        while True:
            self.train_step()
            self.elapsed = clock()
            if self.evaluations >= until or self._segment_done() or (
                    every is not None and self.step % every == 0 and self.check()):
                if self.device.type == "cuda":
                    torch.cuda.synchronize(self.device)
                return True
            if self._step_reason() or time.perf_counter() - t0 >= CHUNK_SECONDS:
                return False      # a limit is reached: the driver stops and makes the closing record

    def postfix(self):
        return {} if self.best is None else {"fitness": f"{self.best.train:.4f}"}

    def budget_bound(self):
        o, bound = self.o, []
        if o["restarts"] > 1:
            bound.append(f"restarts={o['restarts']} (segments cut from the budget: give restarts=1)")
        if o["tau_end"] is not None:
            bound.append("tau_end (a temperature schedule over the budget)")
        return bound

    def checkpoint_state(self):
        return _state.state(self)

    def checkpoint_spec(self):
        return _state.spec(self)

    def restore_state(self, meta, arrays, path, trace):
        _state.restore(self, meta, arrays, path, trace)
