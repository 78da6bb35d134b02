"""The job: one (task, method, seed) training run, as plain data, and the strict JSON
it is written in."""
from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["Job", "KINDS", "strict_json", "json_line", "parse_json_line", "json_ready"]

_NAME_OK = re.compile(r"^[A-Za-z0-9_.+\-]+$")
KINDS = ("train", "baseline")


def strict_json(value):
    """``value`` with NaN and infinities as None and NumPy values as Python ones, so that
    ``json.dumps(..., allow_nan=False)`` writes strict JSON (no ``NaN`` token)."""
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):  # NumPy scalars and arrays
        return strict_json(value.tolist())
    return value


def json_line(value) -> str:
    """One line of strict JSON (see :func:`strict_json`)."""
    return json.dumps(strict_json(value), allow_nan=False)


def parse_json_line(line):
    """Parse one JSON line; the non-standard tokens ``NaN``/``Infinity`` of old files read as None."""
    return json.loads(line, parse_constant=lambda token: None)


def json_ready(value):
    """A JSON round trip, so configurations compare equal however they were spelled."""
    return parse_json_line(json_line(value))


@dataclass(frozen=True)
class Job:
    """One training run: a task, a method, a seed, a budget and a machine shape.

    Parameters
    ----------
    task : str
        A ``btype.tasks.get`` name, e.g. ``"parity5"``, ``"digits"``, ``"mnist14-3v7"``.
    method : str
        A registered trainer (``btype.trainers()``: ``"es"``, ``"sgd"``, ...), or any name
        with ``trainer``.
    seed : int
        Seeds both the wiring (``random_network``) and the trainer, so every method
        trained on (task, seed) starts from the same machine.
    budget : dict
        Keyword arguments of ``btype.Budget``.
    network : dict
        ``n_gates`` and optionally ``n_outputs`` (default: the task's), ``outputs_per_class``
        (classification), ``kind``, ``layers``, ``reach``, ``link``, ``modified_fraction``.
    options : dict
        Extra keyword arguments of the trainer.
    device : str
        For trainers that need torch (``btype.registry.info(method).needs_torch``):
        ``"cpu"``, ``"cuda"`` or ``"auto"``; passed to them as the ``device`` option.
    task_args : dict
        Extra arguments of ``btype.tasks.get`` (e.g. ``{"directory": ...}`` for MNIST).
    threads : int
        Numba and torch threads inside the job; 1 keeps search runs deterministic
        and lets jobs run side by side.
    trainer : str, optional
        ``"module:function"`` called instead of the registered trainer, with the same
        contract: ``function(net, task, budget=, seed=, progress=False, **options)``.
    sweep : dict
        Facts about the sweep (preset, view, seeds, budget axis); written to the header
        but not part of the job's identity.
    kind : {"train", "baseline"}
        ``"train"``: a B-type trained by ``method``. ``"baseline"``: a classic classifier
        of :data:`experiments.sweep.baselines.BASELINES` (``method`` names it) fitted on the
        task's binarised inputs; ``budget`` and ``network`` are then empty.
    variant : str
        A plain name telling apart runs of one (task, method, seed) with other settings
        (the tuning stage's candidates); part of the file name when given.
    """

    task: str
    method: str
    seed: int
    budget: dict
    network: dict
    options: dict = field(default_factory=dict)
    device: str = "cpu"
    task_args: dict = field(default_factory=dict)
    threads: int = 1
    trainer: str | None = None
    sweep: dict = field(default_factory=dict)
    kind: str = "train"
    variant: str = ""

    def __post_init__(self):
        for name in ("task", "method"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _NAME_OK.match(value) or "__" in value:
                raise ValueError(f"Job {name} must be a plain name (letters, digits, '_.+-', "
                                 f"no '__'), got {value!r}")
        if self.kind not in KINDS:
            raise ValueError(f"Job kind must be one of {KINDS}, got {self.kind!r}")
        if not isinstance(self.variant, str) or (self.variant and (
                not _NAME_OK.match(self.variant) or "__" in self.variant)):
            raise ValueError(f"Job variant must be '' or a plain name (letters, digits, '_.+-', "
                             f"no '__'), got {self.variant!r}")
        import btype
        from btype._checks import check_int
        if self.kind == "baseline":
            from experiments.sweep.baselines import BASELINES
            if self.method not in BASELINES:
                raise ValueError(f"Job method of a baseline must be one of {sorted(BASELINES)}, "
                                 f"got {self.method!r}")
        elif self.trainer is None:
            try:
                btype.registry.info(self.method)
            except ValueError as exc:
                raise ValueError(f"Job method: {exc} (or give trainer=)") from None
        check_int(self.seed, "Job seed", 0)
        for name in ("budget", "network", "options", "task_args", "sweep"):
            if not isinstance(getattr(self, name), dict):
                raise TypeError(f"Job {name} must be a dict, got {getattr(self, name)!r}")
        if self.kind == "baseline":
            if self.trainer is not None:
                raise ValueError("Job trainer is for trained jobs, not baselines")
            return
        btype.Budget(**self.budget)  # a bad budget fails here, not once in every job
        if "n_gates" not in self.network:
            raise ValueError(f"Job network needs n_gates, got {self.network!r}")
        if self.trainer is not None and (not isinstance(self.trainer, str) or ":" not in self.trainer):
            raise ValueError(f"Job trainer must be 'module:function', got {self.trainer!r}")
        check_int(self.threads, "Job threads", 1)

    @property
    def link(self) -> str:
        return self.network.get("link", "switch")

    @property
    def name(self) -> str:
        """The file stem: ``{task}__{method}__seed{seed}``, with ``__{link}`` for non-switch
        links and ``__{variant}`` for a variant before the seed."""
        link = "" if self.link == "switch" else f"__{self.link}"
        variant = f"__{self.variant}" if self.variant else ""
        return f"{self.task}__{self.method}{link}{variant}__seed{self.seed}"

    def config(self) -> dict:
        """The job's identity as JSON-ready data (everything but ``sweep``; ``kind`` and
        ``variant`` only where they differ from their defaults, so run files written
        before they existed keep their identity)."""
        data = asdict(self)
        data.pop("sweep")
        if data["kind"] == "train":
            data.pop("kind")
        if not data["variant"]:
            data.pop("variant")
        return json_ready(data)
