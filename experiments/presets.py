"""Named sweeps: which tasks, machines, methods, seeds and budgets.

A preset is plain data; :meth:`Preset.jobs` turns it into :class:`~experiments.job.Job`
objects. For each (task, seed) every method gets the same machine (the wiring seed is
the run's seed) and the same budget on the preset's axis (``seconds``, ``gate_evals``
or ``evaluations``); records carry both wall time and gate-evaluations whichever axis
stops the runs.

The link-mode study reruns some tasks on turing-mode B-types (same wiring, same
seeds) next to the default switch mode.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, replace

from .job import Job

__all__ = ["Preset", "TaskSetup", "PRESETS", "get", "AXES", "MAX_SEEDS"]

AXES = ("seconds", "gate_evals", "evaluations")
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
    """

    network: dict
    scale: float = 1.0
    options: dict = field(default_factory=dict)


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
    axis : {"seconds", "gate_evals", "evaluations"}
        What stops a run.
    budget : float
        How much of ``axis`` each run gets (times the task's ``scale``).
    target : float or None
        Stop a run early once its training fitness reaches this (1.0: solved).
    plateau, plateau_min : float, int or None
        The budget's plateau rule (``btype.Budget``): stop a run whose best training
        fitness has not improved while its gate-evaluations grew ``plateau``-fold, once
        it has spent ``plateau_min`` gate-evaluations.
    options : dict
        ``{method: {option: value}}`` for every task.
    link_tasks : dict
        ``{task name: TaskSetup}`` run in both link modes for the link-mode study.
    link_methods : tuple of str, optional
        None: every registered trainer.
    mnist : dict
        ``{task name: TaskSetup}`` added when an MNIST directory is given.
    device : str
        Device for ``sgd`` (``"auto"`` picks CUDA when present).
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
    options: dict = field(default_factory=dict)
    link_tasks: dict = field(default_factory=dict)
    link_methods: tuple | None = ("es", "sgd")
    mnist: dict = field(default_factory=dict)
    device: str = "auto"

    def __post_init__(self):
        if self.axis not in AXES:
            raise ValueError(f"Preset axis must be one of {AXES}, got {self.axis!r}")
        if isinstance(self.budget, bool) or not isinstance(self.budget, numbers.Real) \
                or not math.isfinite(self.budget) or self.budget <= 0:
            raise ValueError(f"Preset budget must be a finite number > 0, got {self.budget!r}")

    def _budget(self, setup: TaskSetup) -> dict:
        amount = self.budget * setup.scale
        budget = {self.axis: amount if self.axis == "seconds" else int(round(amount))}
        if self.target is not None:
            budget["target"] = self.target
        if self.plateau is not None:
            budget["plateau"] = self.plateau
            budget["plateau_min"] = self.plateau_min
        return budget

    def _job(self, task, setup, method, seed, link, device, task_args, sweep):
        import btype
        options = {**self.options.get(method, {}), **setup.options.get(method, {})}
        network = {**setup.network, "link": link}
        return Job(task=task, method=method, seed=seed, budget=self._budget(setup), network=network,
                   options=options, device=device if btype.registry.info(method).needs_torch else "cpu",
                   task_args=task_args, sweep=sweep)

    def jobs(self, *, seeds=None, methods=None, tasks=None, mnist_dir=None, device=None,
             budget=None) -> list[Job]:
        """The sweep's jobs.

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
        """
        preset = self if budget is None else replace(self, budget=budget)
        n_seeds = self.seeds if seeds is None else seeds
        if isinstance(n_seeds, bool) or not isinstance(n_seeds, numbers.Integral) \
                or not 1 <= n_seeds <= MAX_SEEDS:
            raise ValueError(f"seeds must be an int from 1 to {MAX_SEEDS:,}, got {seeds!r}")
        import btype  # not at the top: pool workers import the main module before their initializer
        all_methods = tuple(btype.trainers())
        own = all_methods if self.methods is None else self.methods
        link_methods = all_methods if self.link_methods is None else self.link_methods
        unknown = set(methods or ()) - set(own)
        if unknown:
            raise ValueError(f"methods must be among {own}, got {sorted(unknown)}")
        device = self.device if device is None else device
        main = dict(self.tasks)
        extra_args = {}
        if mnist_dir is not None:
            main.update(self.mnist)
            extra_args = {name: {"directory": str(mnist_dir)} for name in self.mnist}
        known = set(main) | set(self.link_tasks)
        if tasks is not None:
            unknown = set(tasks) - known
            if unknown:
                raise ValueError(f"tasks must be among {sorted(known)}, got {sorted(unknown)}")
        keep_task = (lambda t: True) if tasks is None else (lambda t: t in set(tasks))
        keep_method = (lambda m: True) if methods is None else (lambda m: m in set(methods))
        sweep = {"preset": self.name, "seeds": list(range(n_seeds)), "axis": self.axis,
                 "budget": preset.budget, "target": self.target}

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
                                            extra_args.get(task, {}), sweep))
        return jobs

    def describe(self) -> str:
        """A one-paragraph summary of the sweep for the command line."""
        unit = {"seconds": "s", "gate_evals": " gate-evals", "evaluations": " evaluations"}[self.axis]
        return (f"preset {self.name!r}: {len(self.tasks)} tasks x "
                f"{'every registered' if self.methods is None else len(self.methods)} methods x "
                f"{self.seeds} seeds at {self.budget:g}{unit} per run (times each task's scale); "
                f"link study on {', '.join(self.link_tasks) or 'no tasks'}. {self.description}")


def _layered(n_gates, layers, **extra):
    return {"n_gates": n_gates, "kind": "layered", "layers": layers, **extra}


def _recurrent(n_gates, **extra):
    return {"n_gates": n_gates, "kind": "recurrent", **extra}


# Machine sizes: random layered B-types need slack to contain a solution; these were
# measured with `es` on this 2-core machine (a run solves parity3 on 256 gates in about
# 0.01 s, parity4 and mux6 on 512 gates in about 0.1 s). echo1 is the clocked task: in
# switch mode every gate is antitone, so with one stream frame per clock step a frame
# reaches the output only through paths of one length and the output is unate in it;
# echo{k} is solvable when k + settle + 1 is even (echo1 with the default settle of 4).
_QUICK = Preset(
    name="quick",
    description="A small sweep that draws every figure; about two minutes on 2 cores.",
    tasks={
        "parity2": TaskSetup(_layered(64, 6, reach=2)),
        "parity3": TaskSetup(_layered(256, 8, reach=2)),
        "parity4": TaskSetup(_layered(512, 10, reach=2)),
        "mux3": TaskSetup(_layered(64, 6, reach=2)),
        "mux6": TaskSetup(_layered(512, 10, reach=2)),
        "echo1": TaskSetup(_recurrent(8)),
        "digits": TaskSetup(_layered(1000, 4, outputs_per_class=10), scale=4.0),
    },
    seeds=5,
    axis="seconds",
    budget=0.5,
    link_tasks={"parity3": TaskSetup(_layered(256, 8, reach=2)),
                "majority3": TaskSetup(_layered(256, 8, reach=2))},
    link_methods=("es", "sgd"),
    device="auto",
)

# Sizes from `python -m experiments.search_table` and a probe of es and sgd at 1.5 s per
# run: ES solves most seeds of each at these sizes, except parity7/8 and mul3, which mark
# where this budget runs out. stream_parity and delay_xor are left out: with one stream
# frame per clock step a switch-mode machine's output is unate in every frame (see the
# comment on echo above), so no machine of this kind can compute a XOR of two frames.
_FULL_TASKS = {
    "parity3": TaskSetup(_layered(200, 10, reach=2)),
    "parity4": TaskSetup(_layered(300, 12, reach=2)),
    "parity5": TaskSetup(_layered(600, 14, reach=2)),
    "parity6": TaskSetup(_layered(1000, 20, reach=2)),
    "parity7": TaskSetup(_layered(1400, 24, reach=2), scale=2.0),
    "parity8": TaskSetup(_layered(2000, 28, reach=2), scale=2.0),
    "mux6": TaskSetup(_layered(400, 10, reach=2)),
    "mux11": TaskSetup(_layered(1500, 14, reach=2), scale=2.0),
    "add2": TaskSetup(_layered(400, 12, reach=2)),
    "add3": TaskSetup(_layered(800, 14, reach=2)),
    "mul2": TaskSetup(_layered(300, 10, reach=2)),
    "mul3": TaskSetup(_layered(1500, 14, reach=2), scale=2.0),
    "majority5": TaskSetup(_layered(300, 10, reach=2)),
    "cmp2": TaskSetup(_layered(300, 10, reach=2)),
    "dec3": TaskSetup(_layered(600, 10, reach=2)),
    "digits": TaskSetup(_layered(4000, 4, outputs_per_class=40), scale=6.0),
    "echo1": TaskSetup(_recurrent(8)),
    "echo3": TaskSetup(_recurrent(32)),
}

_FULL = Preset(
    name="full",
    description="The README's results: every task family, 20 seeds (about 35 minutes on 2 cores).",
    tasks=_FULL_TASKS,
    seeds=20,
    axis="seconds",
    budget=1.5,
    link_tasks={"parity3": _FULL_TASKS["parity3"], "majority5": _FULL_TASKS["majority5"],
                "mux6": _FULL_TASKS["mux6"]},
    link_methods=None,
    mnist={"mnist14-3v7": TaskSetup(_layered(4000, 4, outputs_per_class=40), scale=4.0)},
    device="auto",
)

# The standard comparison: a hardware-neutral budget on the gate-evaluation axis, large
# enough that a run solves or stalls, with the plateau rule ending a stalled run once its
# gate-evaluations grew 4-fold without a better machine. epar8, mul3, addc4 and cmp4 are
# the tasks with published Cartesian GP medians (drawn in the scaling figure).
_STANDARD_TASKS = {
    **{name: _FULL_TASKS[name] for name in ("parity3", "parity4", "parity5", "parity6", "parity7",
                                            "mux6", "mux11", "add2", "add3", "mul2", "mul3",
                                            "cmp2", "majority5", "digits")},
    "epar8": _FULL_TASKS["parity8"],
    "addc4": TaskSetup(_layered(1500, 16, reach=2)),
    "cmp4": TaskSetup(_layered(1200, 14, reach=2)),
}

_STANDARD = Preset(
    name="standard",
    description=("Every method on every task family at a gate-evaluation budget with the plateau "
                 "rule, 10 seeds (planned for about an hour on 2 cores; not yet measured)."),
    tasks=_STANDARD_TASKS,
    seeds=10,
    axis="gate_evals",
    budget=5e8,
    plateau=4.0,
    plateau_min=50_000_000,
    link_tasks={"parity3": _FULL_TASKS["parity3"], "majority5": _FULL_TASKS["majority5"]},
    device="auto",
)

PRESETS = {p.name: p for p in (_QUICK, _STANDARD, _FULL)}


def get(name: str) -> Preset:
    """The preset called ``name`` (see ``PRESETS``)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name]
