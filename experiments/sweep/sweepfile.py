"""Your own comparison: a sweep file (TOML or JSON) read into a :class:`~experiments.sweep.spec.Preset`.

``btype compare --config FILE`` runs it with everything the named presets have (the
matched view, resume, the lock, Dask, figures, summary, baselines on classification
tasks). A file in TOML::

    name = "mine"                  # default: the file's name
    seeds = 3
    methods = ["es", "sgd"]        # or a table of options per method:
    # [methods.es]
    # flips = 2
    budget = {gate_evals = 1e9, seconds = 30, target = 1.0}   # one axis; seconds beside it caps
    machine = {gates = 256, layers = 8, reach = 2}            # every task's machine by default
    baselines = ["logistic", "tree"]                          # on classification tasks
    device = "cpu"

    [[tasks]]
    name = "majority7"             # a name btype.tasks.get knows (or registered)
    [[tasks]]
    file = "data/noisy.csv"        # .pla, .csv (target = column) or .npz; named after the file
    target = "label"
    machine = {gates = 1000, layers = 4, per_class = 10, link = "both"}
    scale = 2.0                    # this task's budget times 2
    options = {sgd = {lr = 0.2}}
    [[tasks]]
    name = "mine"
    factory = "mypackage.tasks:make_mine"   # a function returning a btype Task
    args = {rows = 500}

``tasks`` may also be a list of names and file paths. A machine takes ``gates``,
``layers``, ``reach``, ``kind`` (``"layered"`` or ``"recurrent"``), ``per_class``
(outputs per class of a classification task) and ``link``: ``"switch"`` (default) or
``"both"`` (the task also runs on turing-mode B-types, in the link-mode study). A task
without a machine gets :func:`experiments.sweep.machines.default_spec`. Relative file
paths are read from the sweep file's folder.
"""
from __future__ import annotations

import json
from pathlib import Path

from btype._checks import check_choice, check_int, check_real
from experiments.sweep import machines, taskfiles
from experiments.sweep.spec import AXES, MAX_SEEDS, Preset, TaskSetup

__all__ = ["read_sweep_file", "preset_from_dict", "setup_for", "BUDGET_KEYS"]

_TOP_KEYS = {"name", "description", "seeds", "methods", "budget", "machine", "baselines", "device",
             "tasks", "options"}
_TASK_KEYS = {"name", "file", "factory", "args", "machine", "scale", "options", "target", "levels"}
_MACHINE_KEYS = {"gates", "n_gates", "layers", "reach", "kind", "per_class", "outputs_per_class", "link"}
BUDGET_KEYS = set(AXES) | {"target", "plateau", "plateau_min"}


class SweepFileError(ValueError):
    """A sweep file that cannot be run; the message names the file and the entry."""


def _toml():
    try:
        import tomllib  # Python 3.11+
    except ImportError:
        try:
            import tomli as tomllib
        except ImportError:
            raise SweepFileError("reading a TOML sweep file needs Python 3.11 or the tomli package; "
                                 "or write it as JSON (.json)") from None
    return tomllib


def read_sweep_file(path) -> Preset:
    """The sweep that the TOML (``.toml``) or JSON (``.json``) file at ``path`` describes."""
    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise SweepFileError(f"cannot read sweep file {str(path)!r}: {exc.strerror or exc}") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = _toml().loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise SweepFileError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'TOML'}: "
                             f"{exc}") from None
    try:
        return preset_from_dict(data, name=path.stem, base=path.parent)
    except (TypeError, ValueError) as exc:
        raise SweepFileError(f"{path}: {exc}") from None


def _unknown(keys, allowed, where):
    extra = sorted(set(keys) - set(allowed))
    if extra:
        raise ValueError(f"{where}: unknown key(s) {extra}; allowed: {sorted(allowed)}")


def _machine(spec, where, default=None) -> tuple[dict | None, bool]:
    """(machine spec or None for the default, whether the link study takes the task)."""
    if spec is None:
        return default, False
    if not isinstance(spec, dict):
        raise TypeError(f"{where} machine must be a table, got {spec!r}")
    _unknown(spec, _MACHINE_KEYS, f"{where} machine")
    names = {"gates": "n_gates", "per_class": "outputs_per_class"}
    network = {names.get(k, k): v for k, v in {**(default or {}), **spec}.items() if k != "link"}
    link = spec.get("link", "switch")
    check_choice(link, f"{where} machine link", ("switch", "both", "turing"))
    if network.get("kind") is None and "layers" in network:
        network["kind"] = "layered"
    return machines.check_spec(network, f"{where} machine"), link != "switch"


def setup_for(name: str, *, network=None, scale=1.0, options=None, task_args=None, task=None,
              factory=None) -> TaskSetup:
    """A :class:`TaskSetup` for ``name``: ``network`` when given, else a default machine
    for the task (built with ``task_args`` when ``task`` is not given, to see its size).

    ``factory``: a module-level function returning the task (or its ``"module:function"``
    name), for Python users: every worker builds the task by importing it. A task object
    itself can be written with :func:`experiments.sweep.taskfiles.save_task` and named by
    its file (``task_args={"file": PATH}``)."""
    if factory is not None:
        task_args = {"factory": taskfiles.factory_name(factory), "args": dict(task_args or {})}
    if network is None:
        if task is None:
            task = taskfiles.build_task(name, **(task_args or {}))
        network = machines.default_spec(task)
    elif "kind" not in network:
        task = task or taskfiles.build_task(name, **(task_args or {}))
        kind = "recurrent" if task.is_clocked else "layered"
        network = machines.check_spec({**network, "kind": kind}, f"task {name!r} machine")
    return TaskSetup(network=network, scale=check_real(scale, f"task {name!r} scale", 0, None, lo_open=True),
                     options=dict(options or {}), task_args=dict(task_args or {}))


def _task_entry(entry, default_machine, base: Path):
    if isinstance(entry, str):
        entry = {"file": entry} if taskfiles.is_task_file(entry) else {"name": entry}
    if not isinstance(entry, dict):
        raise TypeError(f"a task must be a name, a file or a table, got {entry!r}")
    _unknown(entry, _TASK_KEYS, f"task {entry.get('name') or entry.get('file')!r}")
    task_args = {}
    if "file" in entry:
        path = Path(entry["file"]).expanduser()
        path = path if path.is_absolute() else (base / path)
        task_args["file"] = str(path.resolve())
        for key in ("target", "levels"):
            if key in entry:
                task_args[key] = entry[key]
        name = entry.get("name") or taskfiles.task_name_of_file(path)
    elif "factory" in entry:
        if "name" not in entry:
            raise ValueError(f"a task with a factory needs a name, got {entry!r}")
        name = entry["name"]
        task_args = {"factory": taskfiles.factory_name(entry["factory"]), "args": dict(entry.get("args", {}))}
    elif "name" in entry:
        name = entry["name"]
        if entry.get("args"):
            task_args = dict(entry["args"])
    else:
        raise ValueError(f"a task needs a name, a file or a factory, got {entry!r}")
    network, in_link_study = _machine(entry.get("machine"), f"task {name!r}", default_machine)
    return name, setup_for(name, network=network, scale=entry.get("scale", 1.0),
                           options=entry.get("options"), task_args=task_args), in_link_study


def _methods(value):
    if value is None:
        return None, {}
    if isinstance(value, list):
        return tuple(value), {}
    if isinstance(value, dict):
        for method, opts in value.items():
            if not isinstance(opts, dict):
                raise TypeError(f"methods.{method} must be a table of options, got {opts!r}")
        return tuple(value), {m: dict(o) for m, o in value.items()}
    raise TypeError(f"methods must be a list of names or a table of options per method, got {value!r}")


def _budget(value) -> dict:
    if not isinstance(value, dict):
        raise TypeError(f"budget must be a table such as {{gate_evals = 1e9}} or {{seconds = 2}}, got {value!r}")
    _unknown(value, BUDGET_KEYS, "budget")
    axes = [k for k in ("gate_evals", "evaluations", "steps") if k in value]
    if len(axes) > 1:
        raise ValueError(f"budget names {' and '.join(axes)}: give one axis (and seconds beside it as a cap)")
    axis = axes[0] if axes else "seconds"
    if axis not in value:
        raise ValueError(f"budget needs an axis: one of {', '.join(AXES)}, got {value!r}")
    fields = {"axis": axis, "budget": check_real(value[axis], f"budget {axis}", 0, None, lo_open=True),
              "target": value.get("target", 1.0)}
    if axis != "seconds" and "seconds" in value:
        fields["cap_seconds"] = check_real(value["seconds"], "budget seconds", 0, None, lo_open=True)
    if "plateau" in value:
        fields["plateau"] = value["plateau"]
        fields["plateau_min"] = value.get("plateau_min", 0)
    return fields


def preset_from_dict(data: dict, *, name="sweep", base=".") -> Preset:
    """The :class:`Preset` of a sweep file's parsed contents (see the module's description)."""
    if not isinstance(data, dict):
        raise TypeError(f"a sweep file holds a table, got {type(data).__name__}")
    _unknown(data, _TOP_KEYS, "sweep file")
    if not data.get("tasks"):
        raise ValueError("a sweep file needs tasks = [...]")
    if "budget" not in data:
        raise ValueError("a sweep file needs a budget, e.g. budget = {seconds = 2} or {gate_evals = 1e9}")
    default_machine, _ = _machine(data.get("machine"), "sweep")
    tasks, link_tasks = {}, {}
    for entry in data["tasks"]:
        task, setup, in_link_study = _task_entry(entry, default_machine, Path(base))
        if task in tasks:
            raise ValueError(f"task {task!r} is named twice")
        tasks[task] = setup
        if in_link_study:
            link_tasks[task] = setup
    methods, options = _methods(data.get("methods"))
    options = {**options, **dict(data.get("options", {}))}
    return Preset(name=str(data.get("name", name)), description=str(data.get("description", "")),
                  tasks=tasks, methods=methods,
                  seeds=check_int(data.get("seeds", 5), "seeds", 1, MAX_SEEDS),
                  **_budget(data["budget"]), options=options, link_tasks=link_tasks,
                  link_methods=None, device=data.get("device", "auto"),
                  baselines=tuple(data.get("baselines", ())))
