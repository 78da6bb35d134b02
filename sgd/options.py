"""The options of ``sgd.train``: defaults, the defaults by kind of task (in one place), checks."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from btype._checks import MAX_COUNT, check_bool, check_choice, check_int, check_real
from btype.tasks import Task
from btype.train import check_known_options

from .relax import INITS, MODES

__all__ = ["DEFAULTS", "KIND_DEFAULTS", "TABLE_DEFAULTS", "ADAMW_WEIGHT_DECAY", "OPT_STATE", "SELECT",
           "defaults_for", "task_kind", "is_truth_table", "check_options", "device"]

#: Default options of ``sgd.train`` on data (chosen on the digits task; see README).
DEFAULTS = dict(
    lr=0.05, batch_size=256, optimizer="adam", weight_decay=None, mode="soft", straight_through=False,
    tau=1.0, tau_end=None, init="random", init_scale=None, temperature=None, eps=1e-4,
    check_every=None, restarts=1, select="auto",
    record_every=None, record_growth=1.5, record_max_steps=200, relaxed_rows=1024, amp=False,
    backend="auto")

#: Optimiser state per parameter, as torch keeps it after the first step.
OPT_STATE = {"adam": ("exp_avg", "exp_avg_sq", "step"), "adamw": ("exp_avg", "exp_avg_sq", "step"),
             "sgd": ("momentum_buffer",)}
#: ``weight_decay`` of optimizer="adamw" when none is given.
ADAMW_WEIGHT_DECAY = 0.1
#: Which hardened machine a run keeps (see ``sgd.train``).
SELECT = ("auto", "train", "valid")

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


def is_truth_table(task: Task) -> bool:
    """True for a task whose test split is its training split (a truth table, in any readout)."""
    a, b = task.X_train, task.X_test
    return a is b or (a.shape == b.shape and np.array_equal(a, b))


def task_kind(task: Task) -> str:
    """"table" (a truth table, one output per bit), "vote table" (a truth table read as
    classes, e.g. ``Task.as_classes``) or "data"."""
    if not is_truth_table(task):
        return "data"
    return "table" if task.n_classes is None else "vote table"


def defaults_for(task: Task) -> dict:
    """The default options of ``sgd.train`` on ``task``: the one place they depend on the task."""
    return dict(DEFAULTS, **KIND_DEFAULTS[task_kind(task)])


def _value(check, *args, **kwargs):
    """A check whose every failure is a ValueError: an option of the wrong kind is a wrong value."""
    try:
        return check(*args, **kwargs)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


def check_options(options: Mapping[str, Any], defaults: Mapping[str, Any] = DEFAULTS, who: str = "sgd") -> dict:
    """The options after defaults, checked; TypeError for an unknown one, listing the valid ones."""
    check_known_options(options, defaults, who)
    o = dict(defaults, **options)
    for name in ("lr", "tau", "eps", "record_growth"):
        _value(check_real, o[name], name, 0.0, None, lo_open=True)
    _value(check_real, o["eps"], "eps", 0.0, 0.5, lo_open=True, hi_open=True)
    _value(check_real, o["record_growth"], "record_growth", 1.0, None, lo_open=True)
    for name in ("tau_end", "temperature", "init_scale"):
        if o[name] is not None:
            _value(check_real, o[name], name, 0.0, None, lo_open=True)
    for name in ("batch_size", "record_every", "record_max_steps", "relaxed_rows", "check_every", "restarts"):
        if o[name] is not None or name in ("batch_size", "record_max_steps", "restarts"):
            _value(check_int, o[name], name, 1, MAX_COUNT)
    check_choice(o["mode"], "mode", MODES)
    check_choice(o["init"], "init", INITS)
    check_choice(o["optimizer"], "optimizer", OPT_STATE)
    check_choice(o["select"], "select", SELECT)
    if o["weight_decay"] is not None:
        if o["optimizer"] != "adamw":
            raise ValueError(f"weight_decay applies to optimizer='adamw' only, got weight_decay="
                             f"{o['weight_decay']!r} with optimizer={o['optimizer']!r}")
        _value(check_real, o["weight_decay"], "weight_decay", 0.0, None)
    for name in ("straight_through", "amp"):
        check_bool(o[name], name)
    return o


def device(value: str | torch.device) -> torch.device:
    """A torch device from ``"auto"`` (CUDA when available), a name or a ``torch.device``."""
    if value == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        value = torch.device(value)
    except (TypeError, RuntimeError):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or a torch.device, got {value!r}") from None
    if value.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {value} was asked for but CUDA is not available")
    return value

