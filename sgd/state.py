"""A gradient-descent run's checkpoint state: what is saved, and how it is checked and restored.

The driver (:mod:`btype.driver`) saves and checks the records, the elapsed time and
the next record point; this module the run's own: the relaxed parameters, the
optimiser, the random generator and sampler, the counters, the loss so far and the
kept machine. Every value is checked before any of it is used; the kept machine is
re-scored by the simulator and must score what the state says (nothing stored
about it is trusted).
"""
from __future__ import annotations

import math
import os

import numpy as np
import torch

from btype._checks import MAX_COUNT

from .options import OPT_STATE

__all__ = ["state", "spec", "restore"]

_INTS = ("step", "evaluations", "gate_evals", "pos", "segment", "loss_count")


def state(run) -> tuple:
    """``(meta, arrays)`` of a ``GradientRun``, at any point between steps."""
    from btype.driver import StopRun

    if bool(run.bad):
        raise StopRun("nonfinite")     # nothing after a NaN loss is worth keeping
    opt = run.opt.state_dict()["state"].get(0, {})
    arrays = {"theta": run.relaxed.theta.detach().cpu().numpy(),
              "best_enabled": np.array(run.best.network.enabled),
              "generator": run.gen.get_state().cpu().numpy(),
              "perm": np.zeros(0, np.int64) if run.perm is None else run.perm.cpu().numpy()}
    arrays.update({f"opt.{k}": v.detach().cpu().numpy() for k, v in opt.items()})
    best = run.best
    meta = {"step": run.step, "evaluations": run.evaluations, "gate_evals": run.gate_evals,
            "pos": run.pos, "has_perm": run.perm is not None, "optimizer_started": bool(opt),
            "segment": run.segment, "loss_sum": float(run.loss_sum), "loss_count": run.loss_count,
            "best": {"train": best.train, "solved": best.solved, "test": _finite(best.test),
                     "valid": _finite(best.valid)}}
    return meta, arrays


def _finite(value):
    """A figure as strict JSON takes it (NaN as None)."""
    return None if value is None or not math.isfinite(value) else value


def spec(run) -> dict:
    """Dtypes and shapes that :func:`state`'s arrays must have (for ``checkpoint.load``)."""
    G = run.net.n_gates
    return {"theta": (np.float32, (G, 2)), "best_enabled": (np.bool_, (G, 2)),
            "generator": (np.uint8, (None,)), "perm": (np.int64, (None,))}


def restore(run, meta, arrays, path, trace) -> None:
    """Continue ``run`` from a checkpoint's state; ValueError naming the file for any inconsistency."""
    def bad(message):
        return ValueError(f"checkpoint {os.fspath(path)!r} holds an inconsistent state: {message}")

    counts = _checked_counts(run, meta, bad)
    theta = arrays["theta"]
    if not np.isfinite(theta).all():
        raise bad("theta is not finite")
    n = len(run.task.X_train)
    perm = arrays["perm"]
    if meta["has_perm"]:
        if not np.array_equal(np.sort(perm), np.arange(n)) or counts["pos"] > n:
            raise bad(f"perm is not a permutation of the {n} training rows with pos <= {n}")
    elif len(perm) or counts["pos"]:
        raise bad("perm or pos without has_perm")
    generator = arrays["generator"]
    if not generator.any():
        raise bad("the random generator's state is all zero")
    opt = _optimizer_state(run, meta["optimizer_started"], arrays, bad)
    loss_sum = meta.get("loss_sum")
    if isinstance(loss_sum, bool) or not isinstance(loss_sum, (int, float)) or not math.isfinite(loss_sum):
        raise bad(f"loss_sum is {loss_sum!r}, not a finite number")
    try:
        best_net = run.net.with_enabled(arrays["best_enabled"])
    except (TypeError, ValueError) as exc:
        raise bad(f"best_enabled: {exc}") from None

    with torch.no_grad():
        run.relaxed.theta.copy_(torch.as_tensor(theta))
    opt_state = run.opt.state_dict()
    opt_state["state"] = {0: opt} if opt else {}
    run.opt.load_state_dict(opt_state)
    try:
        run.gen.set_state(torch.as_tensor(generator))
    except RuntimeError as exc:
        raise bad(f"the random generator's state is not one torch can use ({exc})") from None
    run.perm = torch.as_tensor(perm, device=run.device) if meta["has_perm"] else None
    run.pos, run.step, run.segment = counts["pos"], counts["step"], counts["segment"]
    run.evaluations, run.gate_evals = counts["evaluations"], counts["gate_evals"]
    run.elapsed = float(meta["elapsed"])
    run.loss_sum.fill_(float(loss_sum))
    run.loss_count = counts["loss_count"]
    _check_best(run, best_net, meta.get("best"), trace[-1], bad)


def _checked_counts(run, meta, bad) -> dict:
    counts = {}
    for key in _INTS:
        v = meta.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_COUNT:
            raise bad(f"{key} is {v!r}, not an int in [0, 2**62]")
        counts[key] = v
    for key in ("has_perm", "optimizer_started"):
        if not isinstance(meta.get(key), bool):
            raise bad(f"{key} is {meta.get(key)!r}, not a bool")
    if counts["segment"] >= run.o["restarts"]:
        raise bad(f"segment is {counts['segment']}, not below restarts={run.o['restarts']}")
    if counts["step"] * run.batch != counts["evaluations"] or \
            counts["step"] * run.gate_evals_per_step != counts["gate_evals"]:
        raise bad(f"step {counts['step']}, evaluations {counts['evaluations']} and gate_evals "
                  f"{counts['gate_evals']} do not agree (batch {run.batch})")
    return counts


def _check_best(run, best_net, stored, last, bad):
    """Re-score the kept machine: it must score what the state says, and at least what the
    last record reports."""
    if not isinstance(stored, dict) or set(stored) != {"train", "solved", "test", "valid"}:
        raise bad(f"best is {stored!r}, not the kept machine's figures")
    run.best = None
    run._consider(best_net)
    best = run.best
    if (best.train, best.solved, _finite(best.test), _finite(best.valid)) != (
            stored["train"], stored["solved"], stored["test"], stored["valid"]):
        raise bad(f"the state says its best machine scores {stored!r} but it scores train {best.train!r}, "
                  f"test {best.test!r}, valid {best.valid!r}")
    if run._rank(best.train, best.valid) < run._rank(last["train_fitness"], last.get("valid_accuracy")) or (
            best.train == last["train_fitness"] and best.solved != last["solved"]):
        raise bad(f"its last record reports train_fitness {last['train_fitness']!r} (solved "
                  f"{last['solved']!r}) but its best machine scores {best.train!r} (solved {best.solved!r})")


def _optimizer_state(run, started, arrays, bad) -> dict:
    names = OPT_STATE[run.o["optimizer"]]
    present = {k[4:] for k in arrays if k.startswith("opt.")}
    if not started:
        if present:
            raise bad(f"optimizer state {sorted(present)} although the optimizer has not started")
        return {}
    if present != set(names):
        raise bad(f"optimizer state arrays {sorted(present)}, expected {sorted(names)}")
    out = {}
    for name in names:
        a = arrays["opt." + name]
        shape = () if name == "step" else (run.net.n_gates, 2)
        if a.dtype != np.float32 or a.shape != shape or not np.isfinite(a).all():
            raise bad(f"optimizer state {name!r} is not a finite float32 array of shape {shape}")
        if name in ("exp_avg_sq", "step") and (a < 0).any():
            raise bad(f"optimizer state {name!r} is negative")
        out[name] = torch.as_tensor(a.copy(), device="cpu" if name == "step" else run.device)
    return out
