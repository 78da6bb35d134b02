"""Saving and restoring the state of an ``sgd.train`` run (for ``resume=True``).

A checkpoint holds everything the loop needs to continue exactly where it
stopped: the relaxed module, the optimiser, the random generator, the batch
sampler, the counters, the best hardened machine and the records so far. It is
written to a temporary file and renamed, so a crash never leaves half a file.
"""
from __future__ import annotations

import os

import numpy as np
import torch

import btype

FORMAT = "sgd.checkpoint/1"

__all__ = ["save", "load", "FORMAT"]


def save(path, state: dict) -> None:
    """Write ``state`` (a dict of tensors, numbers, lists and networks) atomically."""
    path = os.fspath(path)
    state = dict(state, format=FORMAT)
    best = state.get("best_network")
    if isinstance(best, btype.Network):
        state["best_network"] = _network_dict(best)
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def load(path, map_location="cpu") -> dict:
    """Read a checkpoint written by :func:`save`; ValueError names a foreign file."""
    path = os.fspath(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=False)
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
        raise ValueError(f"{path!r} is not an sgd checkpoint ({exc})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path!r} is not an sgd checkpoint (format {FORMAT!r} expected)")
    if isinstance(state.get("best_network"), dict):
        state["best_network"] = _network_from_dict(state["best_network"])
    return state


def _network_dict(net):
    return {"n_inputs": net.n_inputs, "wiring": np.array(net.wiring), "outputs": np.array(net.outputs),
            "enabled": np.array(net.enabled), "modifiers": np.array(net.modifiers), "link": net.link}


def _network_from_dict(d):
    return btype.Network(d["n_inputs"], d["wiring"], d["outputs"], enabled=d["enabled"],
                         modifiers=d["modifiers"], link=d["link"])
