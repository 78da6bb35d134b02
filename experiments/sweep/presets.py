"""The named sweeps (``quick``, ``standard``, ``full``, ``gpu``) and the machines they run on.

Each preset is a :class:`~experiments.sweep.spec.Preset`; :func:`get` returns one by name.
:data:`BASE_TASKS` is the set of Boolean tasks with their machines that the standard preset
and the Boolean benchmark (``btype bench-boolean``) run on.
"""
from __future__ import annotations

from experiments.sweep.machines import layered, recurrent
from experiments.sweep.spec import Preset, TaskSetup, TuneSpec

__all__ = ["PRESETS", "BASE_TASKS", "get"]


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
        "parity2": TaskSetup(layered(64, 6, reach=2)),
        "parity3": TaskSetup(layered(256, 8, reach=2)),
        "parity4": TaskSetup(layered(512, 10, reach=2)),
        "mux3": TaskSetup(layered(64, 6, reach=2)),
        "mux6": TaskSetup(layered(512, 10, reach=2)),
        "echo1": TaskSetup(recurrent(8)),
        "digits": TaskSetup(layered(1000, 4, outputs_per_class=10), scale=3.0),
    },
    seeds=5,
    axis="seconds",
    budget=0.5,
    link_tasks={"parity3": TaskSetup(layered(256, 8, reach=2)),
                "majority3": TaskSetup(layered(256, 8, reach=2))},
    link_methods=("es", "sgd"),
    device="auto",
    baselines=("logistic", "tree", "knn"),
)

# The machines of the first full preset (1.5 s per run), which the standard preset and
# experiments.bench_boolean run on. Sizes from `python -m experiments.search_table` and a
# probe of es and sgd at 1.5 s per run: ES solves most seeds of each at these sizes,
# except parity7/8 and mul3, which mark where that budget runs out. stream_parity and
# delay_xor are left out: with one stream frame per clock step a switch-mode machine's
# output is unate in every frame (see the comment on echo above), so no machine of this
# kind can compute a XOR of two frames.
BASE_TASKS = {
    "parity3": TaskSetup(layered(200, 10, reach=2)),
    "parity4": TaskSetup(layered(300, 12, reach=2)),
    "parity5": TaskSetup(layered(600, 14, reach=2)),
    "parity6": TaskSetup(layered(1000, 20, reach=2)),
    "parity7": TaskSetup(layered(1400, 24, reach=2), scale=2.0),
    "parity8": TaskSetup(layered(2000, 28, reach=2), scale=2.0),
    "mux6": TaskSetup(layered(400, 10, reach=2)),
    "mux11": TaskSetup(layered(1500, 14, reach=2), scale=2.0),
    "add2": TaskSetup(layered(400, 12, reach=2)),
    "add3": TaskSetup(layered(800, 14, reach=2)),
    "mul2": TaskSetup(layered(300, 10, reach=2)),
    "mul3": TaskSetup(layered(1500, 14, reach=2), scale=2.0),
    "majority5": TaskSetup(layered(300, 10, reach=2)),
    "cmp2": TaskSetup(layered(300, 10, reach=2)),
    "dec3": TaskSetup(layered(600, 10, reach=2)),
    "digits": TaskSetup(layered(4000, 4, outputs_per_class=40), scale=6.0),
    "echo1": TaskSetup(recurrent(8)),
    "echo3": TaskSetup(recurrent(32)),
}

# The scaling study: every family of the issue by size, machines grown with the task
# (depth above all: the Cartesian GP benchmark study found 24 layers where 10-11 solved
# none, experiments.bench_cgp), a gate-evaluation budget large enough that a search on
# the sizes with published CGP medians solves about half its runs, and the plateau rule
# so the hopeless runs of the largest sizes stop early. Parity is Koza's even parity
# (epar, the CGP benchmark) so that its anchor sits in its own panel. mux20 (2^20 rows)
# is left out: at this budget a search gets a few thousand evaluations of it.
_SCALING_TASKS = {
    **{f"epar{n}": BASE_TASKS[f"parity{n}"] for n in range(3, 7)},  # the parity machines
    "epar7": TaskSetup(layered(1000, 24, reach=2), scale=10.0),
    "epar8": TaskSetup(layered(1000, 24, reach=2), scale=10.0),
    "epar9": TaskSetup(layered(1300, 28, reach=2), scale=10.0),
    "epar10": TaskSetup(layered(1600, 32, reach=2), scale=10.0),
    "mux6": BASE_TASKS["mux6"],
    "mux11": TaskSetup(layered(1500, 14, reach=2), scale=10.0),
    "addc2": TaskSetup(layered(400, 12, reach=2)),
    "addc3": TaskSetup(layered(800, 16, reach=2), scale=10.0),
    "addc4": TaskSetup(layered(2000, 24, reach=2), scale=10.0),
    "addc5": TaskSetup(layered(3000, 28, reach=2), scale=10.0),
    "addc6": TaskSetup(layered(4000, 32, reach=2), scale=10.0),
    "mul2": BASE_TASKS["mul2"],
    "mul3": TaskSetup(layered(2000, 24, reach=2), scale=10.0),
    "mul4": TaskSetup(layered(4000, 28, reach=2), scale=10.0),
    "cmp2": BASE_TASKS["cmp2"],
    "cmp3": TaskSetup(layered(800, 16, reach=2)),
    "cmp4": TaskSetup(layered(2000, 24, reach=2), scale=10.0),
}

_FULL = Preset(
    name="full",
    description=("The scaling study: even parity 3-10, multiplexers 6/11, adders with carry-in "
                 "2-6, multipliers 2-4, comparators 2-4, 5 seeds, 1e10 gate-evaluations per run "
                 "(1e11 from 7 inputs up, and on mul3) or 30 s, plateau rule; matched view (sgd "
                 "at lr=0.2, the standard preset's tuned choice). Measured: about 38 min on 2 "
                 "cores (2 workers, nothing else running), figures included."),
    tasks=_SCALING_TASKS,
    seeds=5,
    axis="gate_evals",
    budget=1e10,
    cap_seconds=30.0,
    plateau=10.0,
    plateau_min=1_000_000_000,
    options={"sgd": {"lr": 0.2}},
    link_tasks={},
    mnist={"mnist14-3v7": TaskSetup(layered(4000, 4, outputs_per_class=40), scale=4.0)},
    device="auto",
    baselines=("logistic", "tree", "knn"),
)

# The tuning grid: machine shapes (multipliers of each task's matched machine) and each
# method's main options, the preset's own setting first (ties go to it). Methods left out
# (random) are tuned over shapes only.
_SHAPES = ({"n_gates": 1.0, "layers": 1.0}, {"n_gates": 0.5, "layers": 1.0},
           {"n_gates": 2.0, "layers": 1.0}, {"n_gates": 1.0, "layers": 1.5})
_TUNE_OPTIONS = {
    "es": {"flips": (1, 2), "lam": (1, 4)},
    "anneal": {"t_start": (0.05, 0.01, 0.2)},
    "ga": {"population": (64, 16)},
    "sgd": {"lr": (0.05, 0.01, 0.2)},
    "sgd+es": {"switch": (0.02, 0.2)},
}

# The standard comparison: a hardware-neutral budget on the gate-evaluation axis, large
# enough that a search run solves or stalls, with the plateau rule ending a stalled run
# once its gate-evaluations grew 10-fold without a better machine, and a time cap that
# bounds what gradient descent on one CPU thread (20-100x fewer gate-evaluations per
# second than the searches) may take. epar8, mul3, addc4 and cmp4 are the tasks with
# published Cartesian GP medians (drawn in the scaling figure).
_STANDARD_TASKS = {
    **{name: BASE_TASKS[name] for name in ("parity3", "parity4", "parity5", "parity6", "parity7",
                                            "mux6", "mux11", "add2", "add3", "mul2", "mul3",
                                            "cmp2", "majority5", "digits")},
    "epar8": BASE_TASKS["parity8"],
    "addc4": TaskSetup(layered(1500, 16, reach=2)),
    "cmp4": TaskSetup(layered(1200, 14, reach=2)),
}

_STANDARD = Preset(
    name="standard",
    description=("The answer with confidence intervals: a tuning stage per (method, task family) "
                 "on tuning seeds, then the tuned view and the matched view on the evaluation "
                 "seeds, at a gate-evaluation budget with the plateau rule and a time cap. "
                 "Measured: 29.9 min on 2 cores (2 workers, nothing else running), figures "
                 "included."),
    tasks=_STANDARD_TASKS,
    seeds=8,
    axis="gate_evals",
    budget=2e9,
    cap_seconds=10.0,
    plateau=10.0,
    plateau_min=1_000_000_000,
    link_tasks={"parity3": BASE_TASKS["parity3"], "majority5": BASE_TASKS["majority5"]},
    device="auto",
    baselines=("logistic", "tree", "knn"),
    tune=TuneSpec(seeds=2, shapes=_SHAPES, options=_TUNE_OPTIONS, rungs=(0.1, 0.5), keep=1 / 4),
)

# The gpu pass: gradient descent and the hybrid only, on CUDA (refused without it), on
# machines and budgets a search on the CPU cannot reach. Not yet run (no GPU was lent
# when it was written): its wall time is unmeasured.
_GPU = Preset(
    name="gpu",
    description=("Gradient descent (and the hybrid) on a CUDA GPU, larger machines and "
                 "budgets; refused on a machine without CUDA. Wall time not yet measured."),
    tasks={
        "parity7": TaskSetup(layered(2800, 24, reach=2)),
        "parity8": TaskSetup(layered(4000, 28, reach=2)),
        "parity10": TaskSetup(layered(8000, 36, reach=2)),
        "mux11": TaskSetup(layered(3000, 14, reach=2)),
        "add4": TaskSetup(layered(3000, 18, reach=2)),
        "mul3": TaskSetup(layered(3000, 14, reach=2)),
        "digits": TaskSetup(layered(16000, 4, outputs_per_class=160)),
    },
    families=("gradient", "hybrid"),
    seeds=5,
    axis="gate_evals",
    budget=2e11,
    cap_seconds=300.0,
    plateau=10.0,
    plateau_min=20_000_000_000,
    link_tasks={},
    device="cuda",
    options={"sgd": {"batch_size": 4096}},
    mnist={"mnist14-3v7": TaskSetup(layered(16000, 4, outputs_per_class=160))},
    tune=TuneSpec(seeds=2, shapes=_SHAPES[:3], options={"sgd": {"lr": (0.05, 0.01, 0.2)},
                                                        "sgd+es": {"switch": (0.02, 0.2)}},
                  rungs=(0.1, 0.5), keep=1 / 3),
)

PRESETS = {p.name: p for p in (_QUICK, _STANDARD, _FULL, _GPU)}


def get(name: str) -> Preset:
    """The preset called ``name`` (see ``PRESETS``)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name]
