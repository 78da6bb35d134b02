"""One checkpoint format for every trainer: data only, tied to the run it belongs to.

A checkpoint is an ``.npz`` archive (see ``btype._npz``): the trainer's state as
plain arrays, its other state as strict JSON, and the run's *identity*: digests of
the task (every input and target array), the machine (wiring, outputs, modifier
mask, link mode and starting modifier states), the method, its options and the
budget. Resuming checks the identity first and refuses a checkpoint of any other
run, naming what differs; nothing in the file is ever executed or unpickled.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _npz

if TYPE_CHECKING:
    from .network import Network
    from .tasks import Task
    from .train import Budget

__all__ = ["identity", "save", "load", "check_arrays", "FORMAT", "VERSION", "IDENTITY_FIELDS"]

FORMAT = "btype.checkpoint"
VERSION = 1
IDENTITY_FIELDS = ("method", "task", "wiring", "options", "budget")
_RESERVED = ("__format__", "__version__", "__identity__", "__meta__")


def _digest(parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            a = np.ascontiguousarray(part)
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(a.tobytes())
        else:
            h.update(repr(part).encode())
        h.update(b"|")
    return h.hexdigest()[:24]


def _task_digest(task) -> str:
    parts = [task.name, task.n_classes, task.steps]
    for name in ("X_train", "Y_train", "X_test", "Y_test", "X_valid", "Y_valid", "output_weights"):
        value = getattr(task, name, None)
        parts.append(None if value is None else np.asarray(value))
    if getattr(task, "balanced", False):   # another fitness; absent when False, so older digests hold
        parts.append("balanced")
    return _digest(parts)


def _network_digest(net) -> str:
    return _digest([net.n_inputs, net.link, np.asarray(net.wiring), np.asarray(net.outputs),
                    np.asarray(net.modifiers), np.asarray(net.enabled)])


def _plain(value):
    """Options as canonical JSON-able data; a machine by its digest, other objects by type."""
    from .network import Network

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Network):
        return {"network": _network_digest(value)}
    if isinstance(value, np.ndarray):
        return {"array": _digest([value])}
    if hasattr(value, "item") and np.ndim(value) == 0:
        return _plain(value.item())
    if isinstance(value, float) and value != value:
        return "nan"
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


def identity(net: Network, task: Task, *, method: str, options: Mapping[str, Any],
             budget: Budget) -> dict:
    """The identity of a run: what a checkpoint must match to be resumed.

    Parameters
    ----------
    net : btype.Network
        The starting machine.
    task : btype.tasks.Task
    method : str
        The trainer's registry name.
    options : dict
        The trainer's options after defaults (callbacks, paths and progress flags
        do not belong here).
    budget : btype.Budget
    """
    return {
        "method": str(method),
        "task": f"{task.name}:{_task_digest(task)}",
        "wiring": _network_digest(net),
        "options": _digest([json.dumps(_plain(dict(options)), sort_keys=True)]),
        "budget": json.dumps(budget.to_dict(), sort_keys=True),
    }


def save(path: str | os.PathLike, *, identity: dict, meta: dict, arrays: dict) -> None:
    """Write a checkpoint atomically (a temporary file, synced, then renamed).

    ``meta`` must be strict JSON (no NaN); ``arrays`` plain numeric or string arrays.
    """
    path = os.fspath(path)
    for name in arrays:
        if not isinstance(name, str) or name.startswith("__") or not name.replace("_", "").replace(
                "/", "").replace(".", "").isalnum():
            raise ValueError(f"checkpoint array name {name!r} is not a plain name")
    members = {"__format__": np.array(FORMAT), "__version__": np.array(VERSION, np.int64),
               "__identity__": _npz.json_array(identity), "__meta__": _npz.json_array(meta)}
    members.update({name: np.asarray(value) for name, value in arrays.items()})
    _npz.write(path, members)


def load(path: str | os.PathLike, *, identity: dict, arrays: dict | None = None,
         extend_to: Budget | None = None) -> tuple[dict, dict]:
    """Read a checkpoint of the run with this ``identity``; returns ``(meta, arrays)``.

    Parameters
    ----------
    path : path-like
    identity : dict
        From :func:`identity` for the run that resumes.
    arrays : dict, optional
        ``{name: (dtype kinds or dtype, shape)}`` that the state must have
        (``None`` entries in a shape match any length).
    extend_to : btype.Budget, optional
        Accept a checkpoint whose budget differs, if ``extend_to`` covers it
        (``Budget.covers``: no limit smaller, the same target and plateau rule);
        every other identity field must still match.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Naming the file: not a btype checkpoint, damaged, another format version,
        another run (naming the identity field that differs), or an array missing
        or of another dtype or shape.
    """
    path = os.fspath(path)
    spec = {"__format__": ("U", ()), "__version__": ("iu", ()), "__identity__": (np.uint8, (None,)),
            "__meta__": (np.uint8, (None,))}
    try:
        data = _npz.read(path, spec)
    except ValueError as exc:
        raise ValueError(f"{path!r} is not a readable btype checkpoint: {exc}") from None
    if str(data.pop("__format__")) != FORMAT:
        raise ValueError(f"{path!r} is not a btype checkpoint (format field is not {FORMAT!r})")
    version = int(data.pop("__version__"))
    if version != VERSION:
        raise ValueError(f"{path!r} is a checkpoint of format version {version}; this btype reads {VERSION}")
    stored = _npz.from_json_array(data.pop("__identity__"), path, "__identity__")
    meta = _npz.from_json_array(data.pop("__meta__"), path, "__meta__")
    if not isinstance(stored, dict) or not isinstance(meta, dict):
        raise ValueError(f"{path!r} is not a btype checkpoint (identity and meta must be objects)")
    for key in sorted(set(identity) | set(stored)):
        if key == "budget" and extend_to is not None:
            _check_extension(path, stored.get(key), extend_to)
        elif stored.get(key) != identity.get(key):
            raise ValueError(f"checkpoint {path!r} is for another run: its {key} differs "
                             f"(checkpoint {stored.get(key)!r}, this run {identity.get(key)!r})")
    check_arrays(path, data, arrays or {})
    return meta, data


def check_arrays(path: str | os.PathLike, data: dict, spec: dict) -> dict:
    """Check that ``data`` holds every array of ``spec`` (``{name: (dtype, shape)}``, as for
    :func:`load`) with its dtype and shape; returns ``data``. ValueError naming ``path``."""
    for name, want in spec.items():
        if name not in data:
            raise ValueError(f"checkpoint {path!r} lacks the state array {name!r}")
        _npz.check_spec(path, name, data[name].dtype, data[name].shape, want)
    return data


def _check_extension(path, stored, budget):
    """Refuse to extend a checkpoint's run to ``budget`` unless it covers the stored budget."""
    from .train import Budget

    try:
        old = Budget(**json.loads(stored))
    except (TypeError, ValueError):
        raise ValueError(f"checkpoint {path!r} holds an invalid budget {stored!r}") from None
    if not budget.covers(old):
        raise ValueError(f"checkpoint {path!r} cannot be extended to this budget: its budget "
                         f"{old.to_dict()} is not covered by {budget.to_dict()} (no limit may be "
                         f"smaller; the target and plateau rule must be the same)")
