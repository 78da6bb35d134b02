"""``sgd.train``: gradient descent on the relaxed machine, records of the hardened one.

The loop never waits for the device between records: the loss, its
finiteness and the counters stay on the device or on the host clock, and the
hardened machine is scored by the btype simulator only at records (DESIGN.md
section 4).
"""
from __future__ import annotations

import math
import numbers
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

import btype
from btype.train import check_train_args

from . import checkpoint as ckpt
from .relax import INITS, MODES, RelaxedNetwork

__all__ = ["train", "NonFiniteLossError", "DEFAULTS"]

#: Default options of :func:`train` (chosen on the digits task; see README).
DEFAULTS = dict(
    lr=0.05, batch_size=256, optimizer="adam", mode="soft", straight_through=False,
    tau=1.0, tau_end=None, init="random", init_scale=None, temperature=None, eps=1e-4,
    record_every=None, record_growth=1.5, record_max_steps=200,
    checkpoint_path=None, resume=False, amp=False, backend="auto", callback=None)


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite.

    Attributes
    ----------
    result : btype.TrainResult
        The best hardened machine found before it happened and the records so far.
    step : int
        The record step at which the non-finite loss was detected.
    """

    def __init__(self, message, result, step):
        super().__init__(message)
        self.result = result
        self.step = step


def train(net, task, budget=None, device="auto", seed=0, progress=True, **options) -> btype.TrainResult:
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
        setup and compilation. ``target`` (default 1.0, i.e. solved) is the
        hardened training fitness at which to stop, checked at records.
    device : {"auto", "cpu", "cuda", ...} or torch.device
        "auto" takes CUDA when available.
    seed : int
        Seeds the initialisation, the batches and the noise. Runs with a
        step or evaluation budget are deterministic on the CPU (on CUDA up to
        rounding in atomic adds); a run resumed from a checkpoint then equals
        the uninterrupted one.
    progress : bool
        Show a tqdm progress bar.
    **options
        ``lr`` (Adam's learning rate, 0.05), ``batch_size`` (256; the whole
        training set when larger), ``optimizer`` ("adam" or "sgd"), ``mode``
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
        but at least every ``record_max_steps`` steps), ``checkpoint_path``
        (state saved at every record), ``resume`` (continue from
        ``checkpoint_path`` if it exists), ``amp`` (CUDA: bfloat16 node
        values), ``backend`` (see ``RelaxedNetwork``), ``callback`` (called
        at each record with the record; a true return value stops the run).

    Returns
    -------
    btype.TrainResult
        ``network`` is the best hardened machine by training fitness (scored by
        the btype simulator); records report that machine's figures as
        ``train_fitness``/``test_accuracy``/``solved`` and add
        ``hardened_train_fitness``/``hardened_test_accuracy`` (the machine
        hardened at that record), ``relaxed_train_fitness``/
        ``relaxed_test_accuracy`` (soft outputs thresholded at 1/2, or argmax
        of group sums), ``loss`` (mean since the last record) and ``tau``.
        Ctrl-C returns the best machine so far with ``interrupted=True``.

    Raises
    ------
    NonFiniteLossError
        (a FloatingPointError) when the loss turns NaN or infinite; its
        ``result`` holds the best machine found before, and the checkpoint
        file (if any) keeps the last good state.
    """
    run = _Run(net, task, budget, device, seed, progress, options)
    return run.loop()


def _check_options(options):
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"sgd.train got unknown option(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    o = dict(DEFAULTS, **options)
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
    for name in ("batch_size", "record_every", "record_max_steps"):
        v = o[name]
        if v is None and name == "record_every":
            continue
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{name} must be an int >= 1, got {v!r}")
    if o["mode"] not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {o['mode']!r}")
    if o["init"] not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {o['init']!r}")
    if o["optimizer"] not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {o['optimizer']!r}")
    for name in ("straight_through", "resume", "amp"):
        if not isinstance(o[name], bool):
            raise TypeError(f"{name} must be a bool, got {o[name]!r}")
    if o["checkpoint_path"] is not None and not isinstance(o["checkpoint_path"], (str, os.PathLike)):
        raise TypeError(f"checkpoint_path must be a path, got {o['checkpoint_path']!r}")
    if o["resume"] and o["checkpoint_path"] is None:
        raise ValueError("resume=True needs a checkpoint_path")
    if o["callback"] is not None and not callable(o["callback"]):
        raise TypeError(f"callback must be callable, got {o['callback']!r}")
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


class _Run:
    """State of one training run; ``loop`` runs it."""

    def __init__(self, net, task, budget, device, seed, progress, options):
        check_train_args(net, task, budget, seed, progress)
        self.o = o = _check_options(options)
        self.device = _device(device)
        if o["amp"] and self.device.type != "cuda":
            raise ValueError(f"amp=True needs a CUDA device, got {self.device}")
        self.net, self.task, self.budget, self.seed, self.progress = net, task, budget, int(seed), progress
        self.dtype = torch.bfloat16 if o["amp"] else torch.float32
        self.steps = task.steps  # clock steps for clocked tasks, None otherwise

        dev = self.device
        self.X = {s: torch.as_tensor(np.array(task.split(s)[0]), device=dev).to(self.dtype) for s in ("train", "test")}
        if task.n_classes is None:
            self.Y = torch.as_tensor(np.array(task.Y_train), device=dev).to(torch.float32)
            w = task.output_weights
            w = np.ones(task.n_outputs) if w is None else np.asarray(w, float)
            self.weights = torch.as_tensor(w / w.sum(), dtype=torch.float32, device=dev)
        else:
            self.Y = torch.as_tensor(np.array(task.Y_train), device=dev).to(torch.int64)
            per_class = net.n_outputs // task.n_classes
            self.temperature = o["temperature"] or math.sqrt(per_class / 20)
        n_train = len(task.X_train)
        self.batch = min(o["batch_size"], n_train)
        self.full_batch = self.batch == n_train
        clock = 1 if self.steps is None else max(1, self.steps)
        self.gate_evals_per_step = 3 * net.n_gates * self.batch * clock

        torch.manual_seed(self.seed)  # anything inside torch that draws without a generator
        self.relaxed = RelaxedNetwork(net, init=o["init"], tau=o["tau"], scale=o["init_scale"],
                                      seed=self.seed, backend=o["backend"]).to(dev)
        params = self.relaxed.parameters()
        self.opt = (torch.optim.Adam(params, lr=o["lr"]) if o["optimizer"] == "adam"
                    else torch.optim.SGD(params, lr=o["lr"], momentum=0.9))
        self.gen = torch.Generator(device=dev)
        self.gen.manual_seed(self.seed)
        self.perm, self.pos = None, 0
        self.step = self.evaluations = self.gate_evals = 0
        self.elapsed = 0.0
        self.trace = []
        self.best = None          # (train fitness, solved, test accuracy, network)
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
        return o["tau"] * (o["tau_end"] / o["tau"]) ** self._progress()

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
        X, _ = self.task.split(split)
        if len(X) == 0:
            return 1.0
        outs = []
        chunk = max(self.batch, 1024)
        for start in range(0, len(X), chunk):
            outs.append(self._forward(self.X[split][start:start + chunk], "soft").float().cpu())
        p = torch.cat(outs).numpy()
        if self.task.n_classes is None:
            return self.task.score_outputs(p > 0.5, split).fitness
        scores = p.reshape(len(p), self.task.n_classes, -1).sum(-1)
        _, labels = self.task.split(split)
        return float((scores.argmax(1) == labels).mean())

    def record(self):
        """Score the hardened machine; keep it if best; append a record. Syncs the device."""
        if bool(self.bad):
            raise NonFiniteLossError(
                f"the loss became NaN or infinite between steps {self.trace[-1]['step'] if self.trace else 0} "
                f"and {self.step}; lower lr or use another mode (result holds the best machine so far)",
                self._result(False), self.step)
        hard = self.relaxed.harden()
        train = self.task.score(hard, "train")
        test = self.task.score(hard, "test").fitness
        if self.best is None or train.fitness > self.best[0]:
            self.best = (train.fitness, train.solved, test, hard)
        loss = float(self.loss_sum) / self.loss_count if self.loss_count else float("nan")
        self.loss_sum.zero_()
        self.loss_count = 0
        rec = btype.make_record(
            method="sgd", task=self.task.name, seed=self.seed, step=self.step, evaluations=self.evaluations,
            gate_evals=self.gate_evals, seconds=self.elapsed, train_fitness=self.best[0],
            test_accuracy=self.best[2], solved=self.best[1], hardened_train_fitness=train.fitness,
            hardened_test_accuracy=test, relaxed_train_fitness=self._relaxed_fitness("train"),
            relaxed_test_accuracy=self._relaxed_fitness("test"), loss=loss, tau=self._tau())
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

    def _result(self, interrupted):
        fit, solved, test, net = self.best
        return btype.TrainResult(network=net, trace=list(self.trace), solved=solved, method="sgd",
                                 task=self.task.name, seed=self.seed, train_fitness=fit,
                                 test_accuracy=test, interrupted=interrupted)

    # -- checkpoints ----------------------------------------------------------------
    def _identity(self):
        n = self.net
        return {"task": self.task.name, "seed": self.seed, "n_inputs": n.n_inputs,
                "wiring": np.array(n.wiring), "outputs": np.array(n.outputs),
                "modifiers": np.array(n.modifiers), "link": n.link}

    def save(self, path):
        state = {
            "identity": self._identity(), "relaxed": self.relaxed.state_dict(),
            "optimizer": self.opt.state_dict(), "generator": self.gen.get_state(),
            "perm": None if self.perm is None else self.perm.cpu(), "pos": self.pos,
            "step": self.step, "evaluations": self.evaluations, "gate_evals": self.gate_evals,
            "elapsed": self.elapsed, "trace": self.trace, "next_record": self.next_record,
            "best_fitness": self.best[0], "best_solved": self.best[1], "best_test": self.best[2],
            "best_network": self.best[3]}
        ckpt.save(path, state)

    def load(self, path):
        state = ckpt.load(path)
        ident = state["identity"]
        for key, value in self._identity().items():
            same = np.array_equal(ident[key], value) if isinstance(value, np.ndarray) else ident[key] == value
            if not same:
                raise ValueError(f"checkpoint {os.fspath(path)!r} is for another run: its {key} differs")
        self.relaxed.load_state_dict(state["relaxed"])
        self.opt.load_state_dict(state["optimizer"])
        self.gen.set_state(state["generator"])
        self.perm = None if state["perm"] is None else state["perm"].to(self.device)
        for key in ("pos", "step", "evaluations", "gate_evals", "elapsed", "trace", "next_record"):
            setattr(self, key, state[key])
        self.best = (state["best_fitness"], state["best_solved"], state["best_test"], state["best_network"])

    # -- the loop -------------------------------------------------------------------
    def _warm_up(self):
        """Compile the kernels (numba, triton) outside the clock, on two samples."""
        x = self.X["train"][:2]
        out = self._forward(x, "soft")
        out.float().sum().backward()
        self.relaxed.zero_grad(set_to_none=True)
        self.task.score(self.relaxed.harden(), "train")

    def _done(self):
        b = self.budget
        if b.exhausted(evaluations=self.evaluations, seconds=self.elapsed, steps=self.step,
                       gate_evals=self.gate_evals):
            return True
        target = 1.0 if b.target is None else b.target
        return bool(self.trace) and self.trace[-1]["train_fitness"] >= target

    def loop(self):
        o = self.o
        path = o["checkpoint_path"]
        if o["resume"] and os.path.exists(path):
            self.load(path)
        self._warm_up()
        if not self.trace:
            self.record()
            self._schedule_next()
            if path is not None:
                self.save(path)
        bar = self._bar()
        interrupted = False
        t_origin = time.perf_counter() - self.elapsed
        try:
            while not self._done():
                self.train_step()
                self.elapsed = time.perf_counter() - t_origin
                finishing = self.budget.exhausted(evaluations=self.evaluations, seconds=self.elapsed,
                                                  steps=self.step, gate_evals=self.gate_evals)
                if self.evaluations >= self.next_record or finishing:
                    if self.device.type == "cuda":
                        torch.cuda.synchronize(self.device)
                    self.elapsed = time.perf_counter() - t_origin
                    rec = self.record()
                    self._schedule_next()
                    if path is not None:
                        self.save(path)
                    if bar is not None:
                        bar.set_postfix(fitness=f"{rec['train_fitness']:.4f}", loss=f"{rec['loss']:.4g}",
                                        refresh=False)
                    if o["callback"] is not None and o["callback"](rec):
                        break
                if bar is not None:
                    bar.update(1)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if bar is not None:
                bar.close()
        if interrupted or (self.trace and self.trace[-1]["step"] != self.step):
            self.elapsed = time.perf_counter() - t_origin
            self.record()
            if path is not None:
                self.save(path)
        return self._result(interrupted)

    def _bar(self):
        if not self.progress:
            return None
        from tqdm.auto import tqdm

        b = self.budget
        total = b.steps
        if total is None and b.evaluations is not None:
            total = -(-b.evaluations // self.batch)
        if total is None and b.gate_evals is not None:
            total = -(-b.gate_evals // self.gate_evals_per_step)
        return tqdm(total=total, initial=self.step, unit="step", desc=f"sgd {self.task.name}",
                    leave=False, dynamic_ncols=True)
