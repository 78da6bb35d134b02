"""The hybrid trainer ``"sgd+es"``: gradient descent first, then search from the hardened machine.

One budget covers both phases. The gradient phase (``sgd.train``'s loop) gets a
fraction ``switch`` of every limit of the budget and, optionally, a plateau rule
of its own (``switch_plateau``); the search phase (``es``, ``btype.search``)
starts from the best hardened machine and gets what is left on every axis. One
trace holds both: every record has ``phase`` ("sgd" or "es") and counters
(steps, evaluations, gate_evals, seconds) that run on across the switch.

A checkpoint covers both phases: ``checkpoint_path`` holds the run's identity
and the gradient phase's state (or, after the switch, its records and the
machine the search started from), and the search phase keeps its own
checkpoint beside it at ``checkpoint_path + ".es"``.
"""
from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

import btype
from btype import checkpoint, search
from btype._checks import MAX_COUNT, check_int, check_real
from btype.driver import Checkpoint, check_trace, drive, judge_learned
from btype.train import Budget, check_known_options, check_train_args

from .options import check_options, defaults_for, _value
from .run import GradientRun
from .train import run_identity

if TYPE_CHECKING:
    import torch

__all__ = ["train", "DEFAULTS"]

#: Options of the hybrid: where to switch, and each phase's own options.
DEFAULTS = dict(switch=0.02, switch_plateau=None, switch_plateau_min=None, sgd_options=None, es_options=None)
#: The gradient phase's defaults where they differ from ``sgd.train``'s on the task: one
#: segment (its share of the budget is short; the search does the rest).
SGD_PHASE_DEFAULTS = dict(restarts=1)
METHOD = "sgd+es"


def train(net: btype.Network, task: btype.tasks.Task, *, budget: btype.Budget, seed: int = 0,
          progress: bool = True, callback: Callable[[dict], object] | None = None,
          checkpoint_path: str | os.PathLike | None = None, resume: bool | str = False,
          device: str | torch.device = "auto", **options: Any) -> btype.TrainResult:
    """Gradient descent for part of the budget, then ``es`` from the hardened machine.

    Parameters
    ----------
    net, task, budget, seed, progress, callback, checkpoint_path, resume
        As for every trainer (``btype.trainer``). ``budget`` is shared: the
        phases' evaluations, steps, gate-evaluations and seconds add up.
        Its plateau rule, if any, ends each phase (the gradient phase's
        unless ``switch_plateau`` is given), applied to that phase's records.
    device : str or torch.device
        Of the gradient phase (see ``sgd.train``).
    switch : float
        In (0, 1]: the gradient phase may use this fraction of every limit
        of the budget (default 0.02: on parity5, 600 gates in 14 layers, with
        2e9 gate-evaluations, it solved with fewer than 0.1 did in 3 of 3 seeds).
    switch_plateau, switch_plateau_min : float, int, optional
        Also switch once the gradient phase's best hardened fitness has not
        improved while its gate-evaluations grew ``switch_plateau`` times (> 1)
        and at least ``switch_plateau_min`` were spent (``Budget``'s plateau
        rule; the step-0 record has spent none, so without a minimum a run that
        never improves on its start switches at its first record).
    sgd_options, es_options : dict, optional
        Options of ``sgd.train`` (its defaults on the task, but one segment:
        :data:`SGD_PHASE_DEFAULTS`) and of ``es`` (``btype.search.train``).

    Returns
    -------
    btype.TrainResult
        The best machine of the search phase (which starts from the best of
        the gradient phase), or of the gradient phase when it solved the task
        or the run stopped before the switch. ``stop_reason`` is that of the
        phase that ended the run.
    """
    seed, path = check_train_args(net, task, budget, seed, progress, callback=callback,
                                  checkpoint_path=checkpoint_path, resume=resume)
    o = _check_options(options)
    sgd_o = check_options(o["sgd_options"] or {}, dict(defaults_for(task), **SGD_PHASE_DEFAULTS),
                          who="sgd+es sgd_options")
    if o["es_options"]:   # es checks its own options: a one-step run, before the long gradient phase
        search.train(net, task, method="es", budget=Budget(steps=1), seed=seed, progress=False,
                           **o["es_options"])
    phase_budget = budget.share(o["switch"], plateau=o["switch_plateau"], plateau_min=o["switch_plateau_min"])
    run = GradientRun(net, task, phase_budget, device, seed, sgd_o, method=METHOD, extra={"phase": "sgd"})
    ident = run_identity(net, task, METHOD, dict(o, sgd_options=sgd_o), budget, seed)
    es_path = None if path is None else path + ".es"
    ckpt = None if path is None else _PhaseCheckpoint(path, ident)

    switched = None
    if resume and ckpt.exists():
        switched = ckpt.open(run, budget if resume == "extend" else None)
    if switched is None:
        first = drive(run, schedule=run.schedule, progress=progress, callback=callback, checkpoint=ckpt,
                      resume=resume, warn_untrained=False)
        if first.stop_reason not in ("plateau", "steps", "evaluations", "gate_evals", "seconds"):
            return first    # solved, target, callback, interrupted, nonfinite: the run ends here
        switched = first
        if path is not None:
            if os.path.exists(es_path):
                os.remove(es_path)   # a search checkpoint left by an earlier run
            ckpt.switch(first)

    last = switched.trace[-1]
    rest, reason = budget.remaining(dict(evaluations=last["evaluations"], steps=last["step"],
                                         gate_evals=last["gate_evals"], seconds=last["seconds"]))
    if rest is None:
        return _combined(switched, None, reason)
    stopped = []

    def forward(rec):
        if callback(_shifted(rec, last)):
            stopped.append(True)
            return True
        return False

    with warnings.catch_warnings():   # the search phase starts from the handed-over machine:
        warnings.filterwarnings("ignore", "es on .* untrained machine", RuntimeWarning)  # judged whole below
        second = search.train(switched.network, task, method="es", budget=rest, seed=seed, progress=progress,
                              callback=None if callback is None else forward, checkpoint_path=es_path,
                              resume=bool(resume), **(o["es_options"] or {}))
    return _combined(switched, second, "callback" if stopped else second.stop_reason)


class _PhaseCheckpoint(Checkpoint):
    """The hybrid's checkpoint: the gradient phase's state (``phase`` "sgd"), or after the
    switch (``phase`` "es") that state with the phase's records and the machine the search
    started from; the search phase keeps its own file beside it."""

    def save(self, meta, arrays):
        super().save({"phase": "sgd", "sgd": meta}, arrays)
        self.last = (meta, arrays)

    def switch(self, first):
        meta, arrays = self.last
        super().save({"phase": "es", "sgd": meta, "sgd_trace": first.trace},
                     dict(arrays, start_enabled=np.array(first.network.enabled)))

    extend_to = None      # the whole run's budget when it is extended (the phase has a share of it)

    def load(self, spec, budget=None):
        meta, arrays = super().load(spec, self.extend_to)
        if not isinstance(meta.get("sgd"), dict):
            raise ValueError(f"checkpoint {self.path!r} holds an inconsistent state: no gradient phase state")
        return meta["sgd"], arrays

    def open(self, run, extend_to):
        """The gradient phase's result if the checkpoint is past the switch (and not extended
        to a larger budget, which goes on with the gradient phase), else None."""
        self.extend_to = extend_to
        meta, arrays = checkpoint.load(self.path, identity=self.identity, extend_to=extend_to)
        phase = meta.get("phase")
        if phase == "sgd" or (phase == "es" and extend_to is not None):
            if phase == "es" and os.path.exists(self.path + ".es"):
                os.remove(self.path + ".es")   # the search phase starts again after the longer gradient phase
            return None
        if phase == "es":
            return _restore_switch(run, meta, arrays, self.path)
        raise ValueError(f"checkpoint {self.path!r} holds an inconsistent state: phase {phase!r}")


def _check_options(options):
    check_known_options(options, DEFAULTS, METHOD)
    o = dict(DEFAULTS, **options)
    _value(check_real, o["switch"], "switch", 0.0, 1.0, lo_open=True)
    if o["switch_plateau"] is not None:
        _value(check_real, o["switch_plateau"], "switch_plateau", 1.0, None, lo_open=True)
    if o["switch_plateau_min"] is not None:
        if o["switch_plateau"] is None:
            raise ValueError("switch_plateau_min needs switch_plateau (the growth factor of the rule)")
        _value(check_int, o["switch_plateau_min"], "switch_plateau_min", 1, MAX_COUNT)
    for name in ("sgd_options", "es_options"):
        if o[name] is not None and not isinstance(o[name], dict):
            raise TypeError(f"{name} must be a dict of options or None, got {o[name]!r}")
    return o


def _shifted(rec, offset):
    """A search-phase record with the run's counters (the gradient phase's added) and its phase."""
    out = dict(rec, method=METHOD)
    for key, base in (("step", "step"), ("evaluations", "evaluations"), ("gate_evals", "gate_evals"),
                      ("seconds", "seconds")):
        if key in out:
            out[key] = out[key] + offset[base]
    out["phase"] = "es"
    return out


def _combined(first, second, reason):
    if second is None:
        result = btype.TrainResult(network=first.network, trace=first.trace, solved=first.solved,
                                   method=METHOD, task=first.task, seed=first.seed,
                                   train_fitness=first.train_fitness, test_accuracy=first.test_accuracy,
                                   stop_reason=reason)
    else:
        offset = first.trace[-1]
        trace = first.trace + [_shifted(rec, offset) for rec in second.trace]
        result = btype.TrainResult(network=second.network, trace=trace, solved=second.solved, method=METHOD,
                                   task=second.task, seed=second.seed, train_fitness=second.train_fitness,
                                   test_accuracy=second.test_accuracy, interrupted=second.interrupted,
                                   stop_reason=reason)
    return judge_learned(result)


def _restore_switch(run, meta, arrays, path):
    """The gradient phase's result, rebuilt from a checkpoint written at the switch and re-scored."""
    def bad(message):
        return ValueError(f"checkpoint {path!r} holds an inconsistent state: {message}")

    checkpoint.check_arrays(path, arrays, {"start_enabled": (np.bool_, (run.net.n_gates, 2))})
    trace = check_trace(meta.get("sgd_trace"), path, METHOD, run.seed, "sgd_trace")
    last = trace[-1]
    seconds = last.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not (
            math.isfinite(seconds) and seconds >= 0):
        raise bad(f"the last record's seconds is {seconds!r}")
    try:
        start = run.net.with_enabled(arrays["start_enabled"])
    except (TypeError, ValueError) as exc:
        raise bad(f"start_enabled: {exc}") from None
    score = run.task.score(start, "train")
    if (score.fitness, score.solved) != (last["train_fitness"], last["solved"]):
        raise bad(f"its last record reports train_fitness {last['train_fitness']!r} but the machine "
                  f"the search started from scores {score.fitness!r}")
    return btype.TrainResult(network=start, trace=trace, solved=score.solved, method=METHOD, task=run.task.name,
                             seed=run.seed, train_fitness=score.fitness,
                             test_accuracy=run.task.score(start, "test").fitness, stop_reason="switch")
