"""What a sweep is: which tasks, machines, methods, seeds and budgets.

A preset is plain data (the named ones are in :mod:`experiments.sweep.presets`); :meth:`Preset.jobs` turns it into :class:`~experiments.sweep.job.Job`
objects. For each (task, seed) every method gets the same machine (the wiring seed is
the run's seed) and the same budget on the preset's axis (``seconds``, ``gate_evals``,
``evaluations`` or ``steps``); records carry both wall time and gate-evaluations whichever axis
stops the runs.

The link-mode study reruns some tasks on turing-mode B-types (same wiring, same
seeds) next to the default switch mode.
"""
from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field, replace

from experiments.sweep.job import Job
from experiments.sweep.machines import shaped

__all__ = ["Preset", "TaskSetup", "TuneSpec", "task_size", "task_family", "AXES", "MAX_SEEDS", "TUNE_SEED0"]

AXES = ("seconds", "gate_evals", "evaluations", "steps")
#: More seeds than any sweep needs: a larger count is a typo, not a plan.
MAX_SEEDS = 1_000


@dataclass(frozen=True)
class TaskSetup:
    """How one task is run: machine shape, budget scale and per-method options.

    Parameters
    ----------
    network : dict
        ``Job.network`` without the link: ``n_gates``, ``layers``, ``kind``,
        ``outputs_per_class`` ...
    scale : float
        Multiplies the preset's budget for this task (real data sets need more).
    options : dict
        ``{method: {option: value}}``, merged over the preset's per-method options.
    task_args : dict
        How a worker builds the task when it is not a built-in name: ``{"file": PATH}``
        or ``{"factory": "module:function", "args": {...}}`` (see
        :mod:`experiments.sweep.taskfiles`); JSON-ready.
    """

    network: dict
    scale: float = 1.0
    options: dict = field(default_factory=dict)
    task_args: dict = field(default_factory=dict)


#: Tuning seeds start here; evaluation seeds are 0 .. MAX_SEEDS - 1, so the two never meet.
TUNE_SEED0 = 10 * MAX_SEEDS


@dataclass(frozen=True)
class TuneSpec:
    """The tuning stage of a preset: a grid over machine shape and each method's main
    options, on tuning seeds, cut by successive halving.

    For each (method, task family) the candidates are every ``shape`` times every
    combination of the method's ``options`` values; they run on the family's tuning
    task (``tasks``, default the family's middle member) at rung budgets, and after each
    rung the best ``keep`` share goes on (ranked by :func:`experiments.sweep.tune.rank`).

    Parameters
    ----------
    seeds : int
        Tuning seeds ``TUNE_SEED0 .. TUNE_SEED0 + seeds - 1`` (never evaluation seeds).
    shapes : tuple of dict
        Multipliers of the task's machine: ``{"n_gates": 2.0, "layers": 1.0}``. The first
        should be the matched machine (all 1.0): ties go to earlier candidates.
    options : dict
        ``{method: {option: (values, ...)}}``; the first value of each should be the
        matched setting. Methods not named are tuned over shapes only.
    rungs : tuple of float
        Budget of each rung as a fraction of the preset's per-run budget, increasing.
    keep : float
        Share of candidates kept after each rung (at least one).
    tasks : dict
        ``{family: task}`` tuned on; other families use their middle member.
    """

    seeds: int = 2
    shapes: tuple = ({"n_gates": 1.0, "layers": 1.0},)
    options: dict = field(default_factory=dict)
    rungs: tuple = (0.25, 1.0)
    keep: float = 1 / 3
    tasks: dict = field(default_factory=dict)

    def __post_init__(self):
        # checked by hand, not with btype._checks: the presets are built when this module is
        # imported, and importing btype loads numba, which pool workers must not do before
        # their initializer has set the thread counts
        if isinstance(self.seeds, bool) or not isinstance(self.seeds, int) \
                or not 1 <= self.seeds <= MAX_SEEDS:
            raise ValueError(f"TuneSpec seeds must be an int from 1 to {MAX_SEEDS}, got {self.seeds!r}")
        if not self.shapes or not all(isinstance(sh, dict) and set(sh) <= {"n_gates", "layers"}
                                      and all(isinstance(v, numbers.Real) and v > 0 for v in sh.values())
                                      for sh in self.shapes):
            raise ValueError(f"TuneSpec shapes must be dicts of n_gates/layers multipliers > 0, "
                             f"got {self.shapes!r}")
        rungs = list(self.rungs)
        if not rungs or any(not isinstance(r, numbers.Real) or not 0 < r <= 1 for r in rungs) \
                or rungs != sorted(rungs):
            raise ValueError(f"TuneSpec rungs must be increasing fractions in (0, 1], got {self.rungs!r}")
        if not isinstance(self.keep, numbers.Real) or not 0 < self.keep < 1:
            raise ValueError(f"TuneSpec keep must be a fraction in (0, 1), got {self.keep!r}")
        for method, grid in self.options.items():
            if not isinstance(grid, dict) or not all(isinstance(v, (tuple, list)) and v
                                                     for v in grid.values()):
                raise ValueError(f"TuneSpec options[{method!r}] must map options to non-empty "
                                 f"tuples of values, got {grid!r}")


@dataclass(frozen=True)
class Preset:
    """A sweep: tasks x methods x seeds at a budget, plus the link-mode study.

    Parameters
    ----------
    name, description : str
    tasks : dict
        ``{task name: TaskSetup}`` of the main comparison (switch-mode B-types).
    methods : tuple of str, optional
        Default: every registered trainer (``btype.trainers()``).
    seeds : int
        Seeds 0 .. seeds-1.
    axis : {"seconds", "gate_evals", "evaluations", "steps"}
        What stops a run.
    budget : float
        How much of ``axis`` each run gets (times the task's ``scale``).
    target : float or None
        Stop a run early once its training fitness reaches this (1.0: solved).
    cap_seconds : float, optional
        With an axis other than ``seconds``: also stop a run after this much wall time
        (the footer's ``stop_reason`` says which limit ended it); a tuning rung's runs
        get the rung's fraction of it, as of the budget.
    plateau, plateau_min : float, int or None
        The budget's plateau rule (``btype.Budget``): stop a run whose best training
        fitness has not improved while its gate-evaluations grew ``plateau``-fold, once
        it has spent ``plateau_min`` gate-evaluations (times the task's ``scale``, as the
        budget: a task given ten times the budget searches ten times longer before the
        rule may stop it).
    options : dict
        ``{method: {option: value}}`` for every task.
    link_tasks : dict
        ``{task name: TaskSetup}`` run in both link modes for the link-mode study.
    link_methods : tuple of str, optional
        None: every registered trainer.
    mnist : dict
        ``{task name: TaskSetup}`` added when an MNIST directory is given.
    device : str
        Device for the trainers that need torch (``"auto"`` picks CUDA when present;
        ``"cuda"`` refuses to run without it).
    families : tuple of str, optional
        Keep only the registered trainers of these registry families
        (``btype.registry.FAMILIES``); None: all.
    baselines : tuple of str
        :data:`experiments.sweep.baselines.BASELINES` fitted, as jobs of the sweep, on every
        classification task (a setup with ``outputs_per_class``).
    tune : TuneSpec, optional
        The tuning stage; with it the sweep also has a tuned view (see
        :mod:`experiments.sweep.tune`).
    """

    name: str
    description: str
    tasks: dict
    methods: tuple | None = None
    seeds: int = 5
    axis: str = "seconds"
    budget: float = 1.0
    target: float | None = 1.0
    plateau: float | None = None
    plateau_min: int | None = None
    cap_seconds: float | None = None
    options: dict = field(default_factory=dict)
    link_tasks: dict = field(default_factory=dict)
    link_methods: tuple | None = ("es", "sgd")
    mnist: dict = field(default_factory=dict)
    device: str = "auto"
    families: tuple | None = None
    baselines: tuple = ()
    tune: TuneSpec | None = None

    def __post_init__(self):
        from experiments.sweep.baselines import BASELINES
        unknown = set(self.baselines) - set(BASELINES)
        if unknown:
            raise ValueError(f"Preset baselines must be among {sorted(BASELINES)}, got {sorted(unknown)}")
        if self.axis not in AXES:
            raise ValueError(f"Preset axis must be one of {AXES}, got {self.axis!r}")
        if isinstance(self.budget, bool) or not isinstance(self.budget, numbers.Real) \
                or not math.isfinite(self.budget) or self.budget <= 0:  # by hand: see TuneSpec
            raise ValueError(f"Preset budget must be a finite number > 0, got {self.budget!r}")

    def _budget(self, setup: TaskSetup, fraction: float = 1.0) -> dict:
        amount = self.budget * setup.scale * fraction
        budget = {self.axis: amount if self.axis == "seconds" else int(round(amount))}
        if self.cap_seconds is not None and self.axis != "seconds":
            budget["seconds"] = self.cap_seconds * fraction
        if self.target is not None:
            budget["target"] = self.target
        if self.plateau is not None:
            budget["plateau"] = self.plateau
            budget["plateau_min"] = int(round(self.plateau_min * setup.scale))
        return budget

    def _job(self, task, setup, method, seed, link, device, task_args, sweep, *, fraction=1.0,
             shape=None, options=None, variant=""):
        import btype
        merged = {**self.options.get(method, {}), **setup.options.get(method, {}), **(options or {})}
        network = {**shaped(setup.network, shape), "link": link}
        return Job(task=task, method=method, seed=seed, budget=self._budget(setup, fraction),
                   network=network, options=merged,
                   device=device if btype.registry.info(method).needs_torch else "cpu",
                   task_args=task_args, sweep=sweep, variant=variant)

    def methods_here(self) -> tuple:
        """The preset's methods among the trainers registered here."""
        import btype
        names = tuple(btype.trainers()) if self.methods is None else self.methods
        if self.families is not None:
            names = tuple(m for m in names if btype.registry.info(m).family in self.families)
        return names

    def main_tasks(self, mnist_dir=None) -> dict:
        """``{task: TaskSetup}`` of the main comparison (with the MNIST tasks when
        ``mnist_dir`` is given)."""
        main = dict(self.tasks)
        if mnist_dir is not None:
            main.update(self.mnist)
        return main

    def task_args(self, task, mnist_dir=None) -> dict:
        """How a worker builds ``task``: its setup's ``task_args``, and the MNIST folder."""
        setup = self.main_tasks(mnist_dir).get(task) or self.link_tasks.get(task)
        args = dict(setup.task_args) if setup is not None else {}
        if mnist_dir is not None and task in self.mnist:
            args["directory"] = str(mnist_dir)
        return args

    def sweep_facts(self, n_seeds, view, budget=None) -> dict:
        return {"preset": self.name, "view": view, "seeds": list(range(n_seeds)), "axis": self.axis,
                "budget": self.budget if budget is None else budget, "target": self.target}

    def check_filters(self, *, seeds=None, methods=None, tasks=None, mnist_dir=None) -> int:
        """Validate the command line's filters; returns the number of seeds."""
        n_seeds = self.seeds if seeds is None else seeds
        from btype._checks import check_int
        check_int(n_seeds, "seeds", 1, MAX_SEEDS)
        own = self.methods_here()
        unknown = set(methods or ()) - set(own)
        if unknown:
            raise ValueError(f"methods must be among {own}, got {sorted(unknown)}")
        known = set(self.main_tasks(mnist_dir)) | set(self.link_tasks)
        unknown = set(tasks or ()) - known
        if unknown:
            raise ValueError(f"tasks must be among {sorted(known)}, got {sorted(unknown)}")
        return int(n_seeds)

    def baseline_jobs(self, *, tasks=None, mnist_dir=None, view="matched", seeds=None) -> list[Job]:
        """One job per (classification task, baseline): scikit-learn on the task's
        binarised inputs, seed 0 (the classifiers are deterministic given the split, the
        tree given its seed). None where scikit-learn is not installed."""
        import importlib.util
        if not self.baselines or importlib.util.find_spec("sklearn") is None:
            return []
        sweep = self.sweep_facts(self.seeds if seeds is None else seeds, view)
        return [Job(task=task, method=name, seed=0, budget={}, network={}, kind="baseline",
                    task_args=self.task_args(task, mnist_dir), sweep=sweep)
                for task, setup in self.main_tasks(mnist_dir).items()
                if "outputs_per_class" in setup.network and (tasks is None or task in set(tasks))
                for name in self.baselines]

    def jobs(self, *, seeds=None, methods=None, tasks=None, mnist_dir=None, device=None,
             budget=None, baselines=True) -> list[Job]:
        """The sweep's jobs: the matched view (every method on the same machine with the
        preset's options), plus the baselines on classification tasks.

        Parameters
        ----------
        seeds : int, optional
            Override the number of seeds.
        methods, tasks : sequence of str, optional
            Keep only these methods / tasks.
        mnist_dir : path, optional
            Directory of MNIST IDX files; adds the preset's MNIST tasks.
        device : str, optional
            Override the ``sgd`` device.
        budget : float, optional
            Override the budget on the preset's axis.
        baselines : bool
            Add the baseline jobs (:meth:`baseline_jobs`).
        """
        preset = self if budget is None else replace(self, budget=budget)
        n_seeds = self.check_filters(seeds=seeds, methods=methods, tasks=tasks, mnist_dir=mnist_dir)
        import btype  # not at the top: pool workers import the main module before their initializer
        own = self.methods_here()
        link_methods = tuple(btype.trainers()) if self.link_methods is None else self.link_methods
        link_methods = tuple(m for m in link_methods if m in own)
        device = self.device if device is None else device
        main = self.main_tasks(mnist_dir)
        keep_task = (lambda t: True) if tasks is None else (lambda t: t in set(tasks))
        keep_method = (lambda m: True) if methods is None else (lambda m: m in set(methods))
        sweep = preset.sweep_facts(n_seeds, "matched")

        wanted = {}  # ordered by (task, link, method, seed); dict drops the study's duplicates
        for task, setup in main.items():
            for method in own:
                wanted[(task, "switch", method)] = setup
        for task, setup in self.link_tasks.items():
            setup = main.get(task, setup)  # both link modes on the very machines of the main runs
            for method in link_methods:
                for link in ("switch", "turing"):
                    wanted.setdefault((task, link, method), setup)
        # Seed-major order: a pool's workers start on different methods (so on a fresh
        # install they compile different kernels side by side), and a sweep stopped early
        # already has a few seeds of every cell.
        jobs = []
        for seed in range(n_seeds):
            for (task, link, method), setup in wanted.items():
                if keep_task(task) and keep_method(method):
                    jobs.append(preset._job(task, setup, method, seed, link, device,
                                            self.task_args(task, mnist_dir), sweep))
        if baselines:
            jobs += preset.baseline_jobs(tasks=tasks, mnist_dir=mnist_dir, seeds=n_seeds)
        return jobs


_FAMILY_SIZE = re.compile(r"^([a-z_]+?)(\d+)$")


def task_size(name: str):
    """``("parity", 5)`` for ``"parity5"``; None when the name does not end in a number."""
    m = _FAMILY_SIZE.match(name)
    return None if m is None else (m.group(1), int(m.group(2)))


def task_family(name: str) -> str:
    """The family of a task: ``"parity"`` for ``"parity5"``; a name without a size
    (``"digits"``, ``"mnist14-3v7"``) is its own family."""
    size = task_size(name)
    return name if size is None else size[0]
