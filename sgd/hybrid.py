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
import numbers
import os

import numpy as np

import btype
from btype import _npz, checkpoint, search
from btype.train import MAX_COUNT, Budget, check_train_args

from .train import _Run, check_options, defaults_for, run_identity

__all__ = ["train", "DEFAULTS"]

#: Options of the hybrid: where to switch, and each phase's own options.
DEFAULTS = dict(switch=0.02, switch_plateau=None, switch_plateau_min=None, sgd_options=None, es_options=None)
#: The gradient phase's defaults where they differ from ``sgd.train``'s on the task: one
#: segment (its share of the budget is short; the search does the rest).
SGD_PHASE_DEFAULTS = dict(restarts=1)
METHOD = "sgd+es"
_COUNTS = ("evaluations", "steps", "gate_evals")


def train(net, task, *, budget, seed=0, progress=True, callback=None, checkpoint_path=None, resume=False,
          device="auto", **options) -> btype.TrainResult:
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
    run = _Run(net, task, _phase_budget(budget, o), device, seed, sgd_o, method=METHOD,
                    extra={"phase": "sgd"})
    ident = run_identity(net, task, METHOD, dict(o, sgd_options=sgd_o), budget, seed)
    es_path = None if path is None else path + ".es"

    switched = None
    if resume and os.path.exists(path):
        meta, arrays = checkpoint.load(path, identity=ident)
        phase = meta.get("phase")
        if phase == "sgd":
            run.restore(meta["sgd"], _subset(arrays, run.state_spec(), path), path)
        elif phase == "es":
            switched = _restore_switch(run, meta, arrays, path)
        else:
            raise ValueError(f"checkpoint {path!r} holds an inconsistent state: phase {phase!r}")

    if switched is None:
        def save():
            if path is not None:
                meta, arrays = run.state()
                checkpoint.save(path, identity=ident, meta={"phase": "sgd", "sgd": meta}, arrays=arrays)

        first = run.loop(progress=progress, callback=callback, save=save)
        if first.stop_reason not in ("plateau", "steps", "evaluations", "gate_evals", "seconds"):
            return first    # solved, target, callback, interrupted, nonfinite: the run ends here
        switched = first
        if path is not None:
            if os.path.exists(es_path):
                os.remove(es_path)   # a search checkpoint left by an earlier run
            checkpoint.save(path, identity=ident, meta={"phase": "es", "sgd_trace": first.trace},
                            arrays={"start_enabled": np.array(first.network.enabled)})

    rest, reason = _remaining(budget, switched.trace[-1])
    if rest is None:
        return _combined(switched, None, reason)
    offset = switched.trace[-1]
    stopped = []

    def forward(rec):
        if callback(_shifted(rec, offset)):
            stopped.append(True)
            return True
        return False

    second = search.train(switched.network, task, method="es", budget=rest, seed=seed, progress=progress,
                          callback=None if callback is None else forward, checkpoint_path=es_path,
                          resume=resume, **(o["es_options"] or {}))
    return _combined(switched, second, "callback" if stopped else second.stop_reason)


def _check_options(options):
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"sgd+es got unknown option(s) {sorted(unknown)}; valid options: {sorted(DEFAULTS)}")
    o = dict(DEFAULTS, **options)
    s = o["switch"]
    if isinstance(s, bool) or not isinstance(s, numbers.Real) or not (math.isfinite(s) and 0 < s <= 1):
        raise ValueError(f"switch must be a fraction of the budget in (0, 1], got {s!r}")
    p = o["switch_plateau"]
    if p is not None and (isinstance(p, bool) or not isinstance(p, numbers.Real)
                          or not (math.isfinite(p) and p > 1)):
        raise ValueError(f"switch_plateau must be a number > 1 or None, got {p!r}")
    m = o["switch_plateau_min"]
    if m is not None:
        if p is None:
            raise ValueError("switch_plateau_min needs switch_plateau (the growth factor of the rule)")
        if isinstance(m, bool) or not isinstance(m, numbers.Integral) or not 1 <= m <= MAX_COUNT:
            raise ValueError(f"switch_plateau_min must be an int in [1, 2**62] or None, got {m!r}")
    for name in ("sgd_options", "es_options"):
        if o[name] is not None and not isinstance(o[name], dict):
            raise TypeError(f"{name} must be a dict of options or None, got {o[name]!r}")
    return o


def _phase_budget(budget, o):
    """The gradient phase's share of ``budget``."""
    share = {name: None if getattr(budget, name) is None else max(1, math.floor(getattr(budget, name) * o["switch"]))
             for name in _COUNTS}
    seconds = None if budget.seconds is None else budget.seconds * o["switch"]
    plateau, plateau_min = budget.plateau, budget.plateau_min
    if o["switch_plateau"] is not None:
        plateau, plateau_min = o["switch_plateau"], o["switch_plateau_min"]
    return Budget(**share, seconds=seconds, target=budget.target, plateau=plateau, plateau_min=plateau_min)


def _remaining(budget, last):
    """(the search phase's budget, None), or (None, the axis with nothing left)."""
    rest = {}
    for name, used in (("evaluations", last["evaluations"]), ("steps", last["step"]),
                       ("gate_evals", last["gate_evals"])):
        limit = getattr(budget, name)
        if limit is not None:
            if limit - used < 1:
                return None, name
            rest[name] = limit - used
    if budget.seconds is not None:
        if budget.seconds - last["seconds"] <= 0:
            return None, "seconds"
        rest["seconds"] = budget.seconds - last["seconds"]
    return Budget(**rest, target=budget.target, plateau=budget.plateau, plateau_min=budget.plateau_min), None


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
        return btype.TrainResult(network=first.network, trace=first.trace, solved=first.solved, method=METHOD,
                                 task=first.task, seed=first.seed, train_fitness=first.train_fitness,
                                 test_accuracy=first.test_accuracy, stop_reason=reason)
    offset = first.trace[-1]
    trace = first.trace + [_shifted(rec, offset) for rec in second.trace]
    return btype.TrainResult(network=second.network, trace=trace, solved=second.solved, method=METHOD,
                             task=second.task, seed=second.seed, train_fitness=second.train_fitness,
                             test_accuracy=second.test_accuracy, interrupted=second.interrupted,
                             stop_reason=reason)


def _subset(arrays, spec, path):
    for name, want in spec.items():
        if name not in arrays:
            raise ValueError(f"checkpoint {path!r} lacks the state array {name!r}")
        _npz.check_spec(path, name, arrays[name].dtype, arrays[name].shape, want)
    return arrays


def _restore_switch(run, meta, arrays, path):
    """The gradient phase's result, rebuilt from a checkpoint written at the switch and re-scored."""
    def bad(message):
        return ValueError(f"checkpoint {path!r} holds an inconsistent state: {message}")

    _subset(arrays, {"start_enabled": (np.bool_, (run.net.n_gates, 2))}, path)
    trace = meta.get("sgd_trace")
    if not isinstance(trace, list) or not trace or not all(isinstance(r, dict) for r in trace):
        raise bad("sgd_trace is not a non-empty list of records")
    last = trace[-1]
    counts = {"step": last.get("step"), "evaluations": last.get("evaluations"),
              "gate_evals": last.get("gate_evals")}
    for key, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad(f"the last record's {key} is {value!r}")
    seconds = last.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not (
            math.isfinite(seconds) and seconds >= 0):
        raise bad(f"the last record's seconds is {seconds!r}")
    run._checked_trace(trace, counts, bad)
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
