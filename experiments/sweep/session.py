"""One ``btype compare``: a preset or sweep file made concrete, announced, listed and run.

:func:`customised` applies the command line (tasks of any name or file, machine sizes, a
budget with its axis) to a :class:`~experiments.sweep.spec.Preset`; :func:`make_plan`
turns it into the jobs that will run; :func:`banner` says what they are, with counts
equal to the jobs that :func:`list_jobs` prints; :func:`run_plan` runs the stages (the
tuning stage and tuned view where the preset has one, the matched view) and draws.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from experiments.sweep import machines, taskfiles
from experiments.sweep.args import format_budget
from experiments.sweep.spec import TUNE_SEED0, Preset

__all__ = ["Plan", "customised", "make_plan", "banner", "list_jobs", "run_plan"]


@dataclass
class Plan:
    """What one compare will run: the matched view's jobs, the tuning stage's first rung
    (later rungs depend on its results: counted, not listed) and the tuned view's size."""

    preset: Preset
    filters: dict
    seeds: int
    threads: int = 1
    want_matched: bool = True
    want_tuned: bool = False
    matched: list = field(default_factory=list)
    first_rung: list = field(default_factory=list)
    tuning_runs: list = field(default_factory=list)  # runs per rung, as planned
    tuned_runs: int = 0


def _resolve_tasks(preset, tasks, mnist_dir):
    """(``tasks`` with data files as task names, new setups for tasks the preset lacks)."""
    if tasks is None:
        return None, {}
    known = {**preset.main_tasks(mnist_dir), **preset.link_tasks}
    names, extra = [], {}
    for entry in tasks:
        if taskfiles.is_task_file(entry):
            name = taskfiles.task_name_of_file(entry)
            args = {"file": str(Path(entry).expanduser().resolve())}
        else:
            name, args = entry, {}
        names.append(name)
        if name not in known and name not in extra:
            from experiments.sweep.sweepfile import setup_for
            extra[name] = setup_for(name, task_args=args)
    return names, extra


def customised(preset: Preset, *, tasks=None, gates=None, layers=None, reach=None, budget=None,
               mnist_dir=None) -> tuple[Preset, list | None]:
    """``preset`` with the command line's tasks, machine sizes and budget; returns it and
    the task filter (data files named by their task names).

    Tasks outside the preset get a machine from
    :func:`~experiments.sweep.machines.default_spec`; ``gates``, ``layers`` and ``reach``
    replace the sizes of every selected task's machine (a recurrent machine refuses
    ``layers`` and ``reach``); ``budget`` (an :class:`experiments.sweep.args.Budget`) sets
    the amount and, when it names one, the axis.
    """
    names, extra = _resolve_tasks(preset, tasks, mnist_dir)
    preset = replace(preset, tasks={**preset.tasks, **extra}) if extra else preset
    if any(v is not None for v in (gates, layers, reach)):
        def resize(setups):
            return {t: s if names is not None and t not in names else
                    replace(s, network=machines.with_overrides(s.network, gates=gates, layers=layers,
                                                               reach=reach, where=f"task {t!r}"))
                    for t, s in setups.items()}
        preset = replace(preset, tasks=resize(preset.tasks), link_tasks=resize(preset.link_tasks),
                         mnist=resize(preset.mnist))
    if budget is not None:
        preset = replace(preset, axis=budget.axis or preset.axis, budget=budget.amount)
    return preset, names


def make_plan(preset: Preset, *, seeds=None, methods=None, tasks=None, mnist_dir=None, device=None,
              view=None, tune_seeds=None, threads=1) -> Plan:
    """The jobs of a compare (raises ValueError for filters the preset cannot meet)."""
    from experiments.sweep import tune
    view = view or ("both" if preset.tune is not None else "matched")
    if view != "matched" and preset.tune is None:
        raise ValueError(f"--view {view}: sweep {preset.name!r} has no tuning stage")
    filters = dict(methods=methods, tasks=tasks, mnist_dir=mnist_dir, device=device)
    n_seeds = preset.check_filters(seeds=seeds, methods=methods, tasks=tasks, mnist_dir=mnist_dir)
    plan = Plan(preset, filters, n_seeds, threads, view in ("matched", "both"), view in ("tuned", "both"))
    if plan.want_matched:
        plan.matched = [replace(job, threads=threads) if threads != 1 else job
                        for job in preset.jobs(seeds=seeds, **filters)]
    if plan.want_tuned:
        spec = preset.tune
        own = [m for m in preset.methods_here() if methods is None or m in methods]
        plan.first_rung = tune.rung_jobs(
            preset, 0, {(m, f): tune.candidates(spec, m) for m in own
                        for f in tune.tuning_tasks(preset, tasks=tasks, mnist_dir=mnist_dir)
                        if len(tune.candidates(spec, m)) > 1},
            seeds=tune_seeds, threads=threads, **filters)
        plan.tuning_runs = tune.planned_budget(preset, seeds=tune_seeds, tasks=tasks, methods=methods,
                                               mnist_dir=mnist_dir)["runs_per_rung"]
        plan.tuned_runs = len(tune.tuned_jobs(preset, _every_choice(preset, own, tasks, mnist_dir),
                                              seeds=seeds, **filters))
    return plan


def _every_choice(preset, methods, tasks, mnist_dir) -> dict:
    """A stand-in choice for every (method, family), to count the tuned view's jobs."""
    from experiments.sweep import tune
    families = tune.tuning_tasks(preset, tasks=tasks, mnist_dir=mnist_dir)
    return {"choices": [{"method": m, "family": f, "candidate": "c00", "shape": None, "options": {}}
                        for m in methods for f in families]}


def _span(values) -> str:
    values = sorted(values)
    if not values:
        return "none"
    return f"{values[0]}-{values[-1]}" if values == list(range(values[0], values[-1] + 1)) and len(values) > 1 \
        else ", ".join(map(str, values))


def banner(plan: Plan) -> str:
    """What will run: tasks, methods, seeds, the budget and its axis, the link-mode study,
    baselines, the tuning stage and the tuned view, with their run counts."""
    preset = plan.preset
    trained = [j for j in plan.matched if j.kind == "train"]
    main = set(preset.main_tasks(plan.filters["mnist_dir"]))
    main_runs = [j for j in trained if j.link == "switch" and j.task in main]
    link_runs = [j for j in trained if j not in main_runs]
    base_runs = [j for j in plan.matched if j.kind == "baseline"]
    jobs = plan.matched + plan.first_rung
    tasks = list(dict.fromkeys(j.task for j in jobs if j.kind == "train"))
    methods = list(dict.fromkeys(j.method for j in jobs if j.kind == "train"))
    seeds = sorted({j.seed for j in plan.matched if j.kind == "train"})
    cap = (f", or {preset.cap_seconds:g} s" if preset.cap_seconds is not None and preset.axis != "seconds" else "")
    plateau = (f"; plateau rule {preset.plateau:g}-fold after {preset.plateau_min:.3g} gate-evals"
               if preset.plateau is not None else "")
    scaled = [f"{t} x{preset.main_tasks(plan.filters['mnist_dir'])[t].scale:g}" for t in tasks
              if t in main and preset.main_tasks(plan.filters["mnist_dir"])[t].scale != 1]
    lines = [f"sweep {preset.name!r}: {len(tasks)} tasks x {len(methods)} methods x {plan.seeds} seeds, "
             f"budget {format_budget(preset.budget, preset.axis)} per run (axis {preset.axis}{cap}){plateau}",
             f"  tasks: {', '.join(tasks) or 'none'}" + (f" (budget scaled: {', '.join(scaled)})" if scaled else ""),
             f"  methods: {', '.join(methods) or 'none'}; seeds: {_span(seeds) if seeds else 'none'}"]
    if plan.want_matched:
        study = (f" + {len(link_runs)} link-mode study runs ({', '.join(dict.fromkeys(j.task for j in link_runs))}, "
                 f"switch and turing)" if link_runs else "")
        base = (f" + {len(base_runs)} baselines ({', '.join(dict.fromkeys(j.method for j in base_runs))})"
                if base_runs else "")
        total = f" = {len(plan.matched)} runs" if study or base else ""
        lines.append(f"  matched view: {len(main_runs)} runs{study}{base}{total}")
    if plan.want_tuned:
        tune_seeds = sorted({j.seed - TUNE_SEED0 for j in plan.first_rung})
        lines.append(f"  tuning stage: {' + '.join(map(str, plan.tuning_runs))} runs by rung on tuning seeds "
                     f"{_span([TUNE_SEED0 + s for s in tune_seeds])} (rung 1: {len(plan.first_rung)} runs; "
                     f"later rungs run the best share)")
        lines.append(f"  tuned view: up to {plan.tuned_runs} runs at the chosen settings")
    total = len(plan.matched) + sum(plan.tuning_runs) + plan.tuned_runs
    whole = plan.filters["tasks"] is None and plan.filters["methods"] is None and plan.seeds == preset.seeds
    lines.append(f"  in all: {'up to ' if plan.want_tuned else ''}{total} runs"
                 + (f". {preset.description}" if preset.description and whole else ""))
    return "\n".join(lines)


def list_jobs(plan: Plan, out=None) -> None:
    """Print every job known before running (the matched view, tuning rung 1), one a line."""
    out = sys.stdout if out is None else out
    for job in plan.matched:
        print(job.name, job.budget, job.network, job.options, file=out)
    for job in plan.first_rung:
        print("tune/" + job.name, job.budget, job.network, job.options, file=out)


def _print_report(stage, report, t0, out_dir):
    reused = f", {len(report.reused)} reused from the other view" if report.reused else ""
    print(f"{stage}: {len(report.done)} runs done, {len(report.skipped)} already finished{reused}, "
          f"{len(report.failed)} failed, in {time.perf_counter() - t0:.0f} s")
    if report.removed:
        print(f"removed {len(report.removed)} leftover file(s) of an interrupted sweep")
    if report.stale:
        print(f"warning: {len(report.stale)} finished run(s) in {out_dir} were made with other "
              f"settings and were kept, e.g. {report.stale[0]}; use a new --out to rerun them")
    for name, error in list(report.failed.items())[:3]:
        print(f"--- {name} failed:\n{error}", file=sys.stderr)


def run_plan(plan: Plan, out: Path, executor, *, tune_seeds=None, progress=True, wait=False,
             plots=True, gate_limit=None) -> int:
    """Run the plan's stages into ``out``; 1 when runs failed, else 0. Raises
    :class:`~experiments.sweep.runner.SweepInterrupted` on a stop signal."""
    from experiments.sweep import runner, tune
    preset, filters, t0, failed = plan.preset, plan.filters, time.perf_counter(), False
    tuned_dir = out / "tuned"
    if plan.want_tuned:
        chosen = tune.run_tuning(preset, out / "tune", executor, seeds=tune_seeds, eval_seeds=plan.seeds,
                                 progress=progress, wait=wait, threads=plan.threads, **filters)
        path = tune.write_chosen(chosen, tuned_dir / tune.CHOSEN_FILE)
        print(f"tuning stage done in {time.perf_counter() - t0:.0f} s; chosen settings in {path}")
        jobs = tune.tuned_jobs(preset, chosen, seeds=plan.seeds, **filters)
        jobs = [replace(job, threads=plan.threads) for job in jobs] if plan.threads != 1 else jobs
        t1 = time.perf_counter()
        report = runner.run_sweep(jobs, tuned_dir / "runs", executor, progress=progress, wait=wait,
                                  reuse_from=out / "runs")
        _print_report("tuned view", report, t1, tuned_dir)
        failed |= bool(report.failed)
    if plan.want_matched:
        t1 = time.perf_counter()
        report = runner.run_sweep(plan.matched, out / "runs", executor, progress=progress, wait=wait,
                                  reuse_from=tuned_dir / "runs" if plan.want_tuned else None)
        _print_report("matched view" if plan.want_tuned else "sweep", report, t1, out)
        failed |= bool(report.failed)
    if plots:
        from experiments.figures.make import make_all
        figures = []
        for directory, wanted in ((out, plan.want_matched), (tuned_dir, plan.want_tuned)):
            if wanted:
                figures += sorted({str(Path(p).parent) for p in make_all(directory, gate_limit=gate_limit)})
        print(f"figures and summary in {', '.join(figures)}")
        print(f"total {time.perf_counter() - t0:.0f} s")
    return 1 if failed else 0
