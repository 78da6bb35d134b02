"""The machine of a job, decided in this module only.

A machine spec is the JSON-ready dict a job carries as ``Job.network``: ``n_gates``,
``kind`` (``"layered"`` or ``"recurrent"``), ``layers`` and ``reach`` (layered machines
only), ``link``, and for classification tasks ``outputs_per_class`` (or ``n_outputs``).
:func:`layered` and :func:`recurrent` write one, :func:`shaped` scales one (the tuning
stage's candidates), :func:`with_overrides` applies the command line's ``--gates``,
``--layers`` and ``--reach``, :func:`default_spec` gives one to a task that no preset
sizes, and :func:`random_network_args` turns one into the arguments of
``btype.random_network`` for a task. A spec that asks for ``layers`` or ``reach`` on a
recurrent machine is refused (a recurrent machine has neither), never trimmed.
"""
from __future__ import annotations

__all__ = ["KINDS", "LINKS", "KEYS", "layered", "recurrent", "shaped", "with_overrides", "default_spec",
           "check_spec", "random_network_args"]

KINDS = ("layered", "recurrent")
LINKS = ("switch", "turing")
KEYS = ("n_gates", "kind", "layers", "reach", "link", "outputs_per_class", "n_outputs")
#: The largest machine a spec may ask for (the simulator's own limits apply as well).
MAX_GATES = 10_000_000


def layered(n_gates, layers, **extra) -> dict:
    """A layered machine: ``n_gates`` in ``layers`` layers (``reach=``, ``outputs_per_class=`` ...).
    Checked where it is used (:func:`random_network_args`), so that writing the presets'
    machines imports nothing."""
    return {"n_gates": n_gates, "kind": "layered", "layers": layers, **extra}


def recurrent(n_gates, **extra) -> dict:
    """A recurrent machine of ``n_gates`` gates (no layers, no reach)."""
    return {"n_gates": n_gates, "kind": "recurrent", **extra}


def check_spec(spec: dict, where: str = "machine") -> dict:
    """``spec`` checked: known keys, sizes in range, no layers or reach on a recurrent machine.

    Raises ValueError (TypeError for a wrong kind of value) naming ``where`` and the key.
    """
    from btype._checks import check_choice, check_int
    if not isinstance(spec, dict):
        raise TypeError(f"{where} must be a dict of {', '.join(KEYS)}, got {spec!r}")
    unknown = sorted(set(spec) - set(KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; a machine takes {', '.join(KEYS)}")
    if "n_gates" not in spec:
        raise ValueError(f"{where} needs n_gates, got {spec!r}")
    check_int(spec["n_gates"], f"{where} n_gates", 1, MAX_GATES)
    for key, lo in (("layers", 1), ("reach", 1), ("outputs_per_class", 1), ("n_outputs", 1)):
        if spec.get(key) is not None:
            check_int(spec[key], f"{where} {key}", lo, MAX_GATES)
    if "kind" in spec:
        check_choice(spec["kind"], f"{where} kind", KINDS)
    if "link" in spec:
        check_choice(spec["link"], f"{where} link", LINKS)
    if spec.get("kind") == "recurrent":
        extra = [key for key in ("layers", "reach") if spec.get(key) is not None]
        if extra:
            raise ValueError(f"{where}: a recurrent machine has no {' or '.join(extra)}, got {spec!r}")
    return spec


def shaped(network: dict, shape=None) -> dict:
    """``network`` with its ``n_gates`` and ``layers`` multiplied by ``shape``'s factors
    (rounded; at least 2)."""
    network = dict(network)
    for key, factor in (shape or {}).items():
        if key in network and factor != 1:
            network[key] = max(2, int(round(network[key] * factor)))
    return network


def with_overrides(network: dict, *, gates=None, layers=None, reach=None, kind=None,
                   where="machine") -> dict:
    """``network`` with the given sizes replaced (None keeps the spec's); checked."""
    network = dict(network)
    if kind is not None:
        network["kind"] = kind
        if kind == "recurrent":
            network.pop("layers", None)
            network.pop("reach", None)
    for key, value in (("n_gates", gates), ("layers", layers), ("reach", reach)):
        if value is not None:
            network[key] = value
    if network.get("kind") == "layered" and "layers" not in network:
        raise ValueError(f"{where}: a layered machine needs layers")
    return check_spec(network, where)


def default_spec(task) -> dict:
    """A machine for a task that no preset sizes: 32 gates per input (at least 64) in 10
    layers of reach 2 (a recurrent machine of 8 gates per input for a clocked task), ten
    outputs per class for a classification task."""
    if task.is_clocked:
        return check_spec(recurrent(max(8, 8 * int(task.n_inputs))))
    extra = {"outputs_per_class": 10} if task.n_classes is not None else {}
    return check_spec(layered(max(64, 32 * int(task.n_inputs)), 10, reach=2, **extra))


def random_network_args(network: dict, task) -> dict:
    """The keyword arguments of ``btype.random_network`` (``n_inputs``, ``n_gates``,
    ``n_outputs``, ``kind``, ``layers``, ``reach``, ``link``) for ``network`` on ``task``.

    The kind defaults to recurrent for a clocked task and layered otherwise; the outputs
    to the task's outputs (classes times ``outputs_per_class`` for classification).
    """
    spec = dict(network)
    spec.setdefault("kind", "recurrent" if task.is_clocked else "layered")
    check_spec(spec, f"machine for task {task.name!r}")
    per_class = spec.pop("outputs_per_class", None)
    n_outputs = spec.pop("n_outputs", None)
    if n_outputs is None:
        n_outputs = task.n_outputs if task.n_classes is None else task.n_classes * (per_class or 1)
    return {"n_inputs": task.n_inputs, "n_outputs": n_outputs, **spec}
