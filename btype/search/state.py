"""A search run's checkpoint state: what is saved, and how a saved state is checked and restored.

The driver (:mod:`btype.driver`) saves and checks the records, the elapsed time and
the next record point; this module the search's own arrays and fields. Every array
is checked for its dtype and shape on reading (``btype.checkpoint.load``) and for
its values here, before any of it reaches a kernel.
"""
from __future__ import annotations

import numpy as np

from . import _kernels as K

__all__ = ["COUNTERS", "SCORES", "state", "state_spec", "restore"]

COUNTERS = ("evals", "gens", "skipped", "gate_evals", "accepted", "restarts", "since")
SCORES = ("cur", "best")


def state(run) -> tuple:
    """``(meta, arrays)`` of a search run (``SearchRun``)."""
    arrays = {"bits": run.bits, "rng": run.rng, "errs": run.wk.errs,
              "best_bits": run.best_bits, "best_errs": run.best_errs,
              "counters": np.array([run.state[f] for f in COUNTERS], np.int64),
              "scores": np.array([run.state[f] for f in SCORES], np.float64)}
    if run.snapshot is not None:
        arrays["snapshot_bits"] = run.snapshot[1]
    if run.wk.act.size:
        # inactive gates may hold stale values: a resumed run needs the same ones
        arrays["values"], arrays["stale"] = run.wk.values, run.wk.stale
    for key, value in run.method.state().items():
        arrays["m_" + key] = value
    meta = {"batch_index": run.batch_index, "target_score": float(run.target_score),
            "snapshot": None if run.snapshot is None else [float(run.snapshot[0]), bool(run.snapshot[2])]}
    return meta, arrays


def state_spec(run) -> dict:
    """Dtypes and shapes of :func:`state`'s arrays."""
    M, n_out = len(run.bits), len(run.best_errs)
    spec = {"bits": (np.uint8, (M,)), "rng": (np.uint64, (4,)), "errs": (np.int64, (n_out,)),
            "best_bits": (np.uint8, (M,)), "best_errs": (np.int64, (n_out,)),
            "counters": (np.int64, (len(COUNTERS),)), "scores": (np.float64, (len(SCORES),))}
    spec.update({"m_" + k: v for k, v in run.method.state_spec(run).items()})
    if run.wk.act.size:
        spec.update(values=(np.uint64, run.wk.values.shape), stale=(np.uint8, run.wk.stale.shape))
    return spec


def restore(run, meta, arrays, path) -> None:
    """Put a checked state into ``run`` and rebuild its scratch on the restored batch."""
    _check(path, arrays, meta, run.S_train, run.prob.norm)
    M = len(run.bits)
    run.bits[:] = arrays["bits"]
    run.rng[:] = arrays["rng"]
    run.best_bits[:] = arrays["best_bits"]
    run.best_errs[:] = arrays["best_errs"]
    for f, v in zip(COUNTERS, arrays["counters"]):
        run.state[f] = v
    for f, v in zip(SCORES, arrays["scores"]):
        run.state[f] = v
    run.target_score = float(meta["target_score"])
    run.batch_index = int(meta["batch_index"])
    if meta["snapshot"] is not None:
        if "snapshot_bits" not in arrays or arrays["snapshot_bits"].shape != (M,):
            raise ValueError(f"checkpoint {path!r} lacks a valid snapshot_bits array")
        run.snapshot = (meta["snapshot"][0], arrays["snapshot_bits"], meta["snapshot"][1])
    run.method.load_state({k[2:]: v for k, v in arrays.items() if k.startswith("m_")})
    run.load_batch()
    K.evaluate(run.prob, run.wk)      # node values of the restored machine
    if run.wk.act.size:
        # active gates keep the true values just computed; inactive ones what they held
        n_in = run.prob.n_in
        inactive = n_in + np.flatnonzero(run.wk.act[n_in:] == 0)
        run.wk.values[inactive] = arrays["values"][inactive]
        run.wk.stale[:] = arrays["stale"]
    run.wk.errs[:] = arrays["errs"]


def _check(path, arrays, meta, S, norm):
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
    for key, kind in (("batch_index", int), ("target_score", (int, float))):
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            bad(f"meta field {key!r} is {meta.get(key)!r}")
    if meta["batch_index"] < 0:
        bad(f"meta field 'batch_index' is {meta['batch_index']!r}")
    snap = meta.get("snapshot")
    if snap is not None and not (isinstance(snap, list) and len(snap) == 2 and isinstance(snap[1], bool)
                                 and isinstance(snap[0], (int, float)) and not isinstance(snap[0], bool)):
        bad(f"meta field 'snapshot' is {snap!r}")
