"""Tasks of a sweep that are not built-in names: data files and Python factories.

A job names its task (``Job.task``) and carries how to build it in ``Job.task_args``,
JSON-ready so that any worker (a spawned process, a Dask node) rebuilds it:

- ``{"file": PATH, ...}``: a data file, by its extension: ``.pla``
  (:func:`btype.tasks.from_pla`), ``.csv`` (:func:`btype.tasks.from_csv`; ``target`` names
  the target column, default the last; ``levels`` codes real-valued columns in that
  many quantile cut points fitted on the training rows, :class:`btype.tasks.Binarizer`)
  or ``.npz`` (arrays ``X_train``, ``Y_train``,
  ``X_test``, ``Y_test``, optionally ``X_valid``, ``Y_valid``, ``n_classes``, ``steps``;
  :func:`save_task` writes one from a Task). The other keys are passed to the reader.
- ``{"factory": "module:function", "args": {...}}``: a function that returns a
  :class:`btype.tasks.Task`, imported in each worker (a module-level function; a
  callable given from Python is turned into its ``"module:function"`` name by
  :func:`factory_name`).
- anything else: ``btype.tasks.get(name, **task_args)``.
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import numpy as np

from btype._checks import check_bool_array

__all__ = ["FILE_SUFFIXES", "build_task", "factory_name", "save_task", "task_name_of_file", "is_task_file"]

FILE_SUFFIXES = (".pla", ".csv", ".npz")
_NPZ_ARRAYS = ("X_train", "Y_train", "X_test", "Y_test", "X_valid", "Y_valid")


def is_task_file(text) -> bool:
    """True when ``text`` names a data file by its extension (``.pla``, ``.csv``, ``.npz``)."""
    return isinstance(text, (str, Path)) and Path(text).suffix.lower() in FILE_SUFFIXES


def task_name_of_file(path) -> str:
    """A job-safe task name for a data file: its stem with other characters as ``-``."""
    stem = Path(path).name.split(".")[0]
    name = re.sub(r"[^A-Za-z0-9_.+-]+", "-", stem).strip("-").replace("__", "_")
    return name or "data"


def factory_name(factory) -> str:
    """``"module:function"`` of a module-level function (or the string itself)."""
    if isinstance(factory, str):
        if ":" not in factory:
            raise ValueError(f"factory must be 'module:function', got {factory!r}")
        return factory
    module, qualname = getattr(factory, "__module__", None), getattr(factory, "__qualname__", "")
    if not callable(factory) or module in (None, "__main__") or "<" in qualname or "." in qualname:
        raise ValueError(f"factory must be a function defined at the top of an importable module "
                         f"(workers import it by name), got {factory!r}")
    return f"{module}:{qualname}"


def _import(spec: str):
    module, _, attr = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"factory {spec!r} cannot be imported: {exc}") from None


def build_task(name: str, **task_args):
    """The task called ``name`` as ``task_args`` say (see the module's description)."""
    import btype
    args = dict(task_args)
    if "factory" in args:
        task = _import(args.pop("factory"))(**args.pop("args", {}), **args)
        if not isinstance(task, btype.tasks.Task):
            raise TypeError(f"task {name!r}: its factory returned {type(task).__name__}, not a btype Task")
        return task
    if "file" not in args:
        return btype.tasks.get(name, **args)
    path = Path(args.pop("file"))
    if not path.is_file():
        raise FileNotFoundError(f"task {name!r}: no data file {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix == ".pla":
        return btype.tasks.from_pla(path, name=name, **args)
    if suffix == ".csv":
        if not hasattr(btype.tasks, "from_csv"):
            raise ValueError(f"task {name!r}: reading CSV files needs btype.tasks.from_csv")
        levels = args.pop("levels", None)
        if levels is not None:   # real-valued columns: thermometer codes fitted on the training rows
            args["binarize"] = btype.tasks.Binarizer(levels=levels)
        try:
            return btype.tasks.from_csv(path, args.pop("target", -1), name=name, **args)
        except ValueError as exc:
            if levels is None and "binaris" in str(exc):
                raise ValueError(f"{exc} (here: btype train --levels N, or levels = N beside the "
                                 "file in a sweep file)") from None
            raise
    if suffix == ".npz":
        return _read_npz(path, name, **args)
    raise ValueError(f"task {name!r}: {str(path)!r} is not a .pla, .csv or .npz file")


def save_task(task, path) -> Path:
    """Write ``task``'s splits to an ``.npz`` file that a sweep can name as a task file."""
    arrays = {key: np.asarray(getattr(task, key)) for key in _NPZ_ARRAYS if getattr(task, key) is not None}
    for key in ("n_classes", "steps"):
        if getattr(task, key) is not None:
            arrays[key] = np.asarray(getattr(task, key))
    path = Path(path)
    np.savez_compressed(path, **arrays)
    return path


def _read_npz(path: Path, name: str, **options):
    import btype
    with np.load(path, allow_pickle=False) as data:
        missing = [key for key in _NPZ_ARRAYS[:4] if key not in data]
        if missing:
            raise ValueError(f"{path}: a task file needs arrays {', '.join(_NPZ_ARRAYS[:4])}; "
                             f"missing {', '.join(missing)}")
        fields = {key: data[key] for key in _NPZ_ARRAYS if key in data}
        for key in ("n_classes", "steps"):
            if key in data:
                fields[key] = int(data[key])
    boolean = ("X_train", "X_test", "X_valid") + (("Y_train", "Y_test", "Y_valid")
                                                   if fields.get("n_classes") is None else ())
    for key in boolean:
        if key in fields:
            fields[key] = check_bool_array(fields[key], f"{path.name} {key}")
    return btype.tasks.Task(name=name, description=f"from {path.name}", **fields, **options)
