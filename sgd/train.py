"""``sgd.train``: gradient descent on the relaxed machine, records of the hardened one.

The loop never waits for the device between records: the loss, its
finiteness and the counters stay on the device or on the host clock, and the
hardened machine is scored by the btype simulator only at records (docs/design.md
section 4). Checkpoints go through :mod:`btype.checkpoint` (data only).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import btype
from btype import checkpoint
from btype.driver import Checkpoint, drive
from btype.train import check_train_args

from .options import DEFAULTS, KIND_DEFAULTS, TABLE_DEFAULTS, check_options, defaults_for, is_truth_table, task_kind
from .run import GradientRun

if TYPE_CHECKING:
    import torch

__all__ = ["train", "DEFAULTS", "KIND_DEFAULTS", "TABLE_DEFAULTS", "defaults_for", "task_kind",
           "is_truth_table", "check_options", "run_identity", "GradientRun"]

def train(net: btype.Network, task: btype.tasks.Task, *, budget: btype.Budget, seed: int = 0,
          progress: bool = True, callback: Callable[[dict], object] | None = None,
          checkpoint_path: str | os.PathLike | None = None, resume: bool | str = False,
          device: str | torch.device = "auto", **options: Any) -> btype.TrainResult:
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
        State saved at every record, every minute and at the end (a
        :mod:`btype.checkpoint` file); Ctrl-C saves the state where it stopped.
    resume : bool or "extend"
        Continue from ``checkpoint_path`` if it exists. Refused (ValueError)
        when the file belongs to another run: another task, machine, seed,
        option or budget. ``"extend"`` also continues a run whose checkpoint
        differs only by a smaller budget (see ``btype.search.train``); refused
        with ``restarts`` > 1 or ``tau_end``, which cut the budget into
        segments or a schedule.
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
    run = GradientRun(net, task, budget, device, seed, o)
    ckpt = None if path is None else Checkpoint(path, run_identity(net, task, "sgd", o, budget, seed))
    return drive(run, schedule=run.schedule, progress=progress, callback=callback, checkpoint=ckpt,
                 resume=resume)


def run_identity(net: btype.Network, task: btype.tasks.Task, method: str, options: Mapping[str, Any],
                 budget: btype.Budget, seed: int) -> dict:
    """The checkpoint identity of a run: the envelope's fields and the seed."""
    return dict(checkpoint.identity(net, task, method=method, options=options, budget=budget), seed=seed)
