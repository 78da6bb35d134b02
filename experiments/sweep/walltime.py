"""Plan a preset's wall time from a sample of its runs, without running it all.

    btype compare --preset standard --out SAMPLE --seeds 1 --view matched --workers 1
    btype estimate --preset standard --sample SAMPLE --workers 2

Each sampled run gives its method's speed on its task (gate-evaluations per second of
training time), the gate-evaluations it spent before it stopped, why it stopped, and the
time it spent outside training (loading, building, writing). Every job of the plan (the
matched view, each rung of the tuning stage, the tuned view) is then predicted from the
sampled run of its (task, method): a run the sample saw solve or plateau stops where it
did (or at its own smaller limit; a plateau no earlier than the job's ``plateau_min``),
one the budget stopped spends its whole limit; the time cap, if any, bounds it. A tuning task never sampled takes its family's nearest
sampled task; machine shapes scale a run's gate-evaluations per second by nothing (the
budget is in gate-evaluations). The sum over jobs, divided by the workers, is the plan.
Compilation is left out (warm caches); every figure is as loaded as the sample was.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from experiments.sweep import tune
from experiments.sweep.spec import task_family, task_size

__all__ = ["Speed", "speeds", "predict", "estimate"]


@dataclass
class Speed:
    """What the sample says of one (task, method): training gate-evaluations per second,
    gate-evaluations spent, whether the budget (not a solve or plateau) stopped it,
    seconds outside training."""

    rate: float
    used: float
    budget_stopped: bool
    overhead: float
    plateaued: bool = False


def speeds(runs) -> dict:
    """``{(task, method): Speed}`` from finished sampled runs (medians over seeds)."""
    groups = {}
    for run in runs:
        if run.kind == "baseline" or run.link != "switch" or not run.records:
            continue
        groups.setdefault((run.task, run.method), []).append(run)
    out = {}
    for key, group in groups.items():
        last = [r.records[-1] for r in group]
        seconds = np.array([max(rec["seconds"], 1e-6) for rec in last])
        used = np.array([rec["gate_evals"] for rec in last], dtype=float)
        wall = np.array([r.footer.get("wall_seconds", s) for r, s in zip(group, seconds)])
        stopped = [r.footer.get("stop_reason") in ("gate_evals", "seconds", "evaluations", "steps")
                   for r in group]
        plateaued = [r.footer.get("stop_reason") == "plateau" for r in group]
        out[key] = Speed(rate=float(np.median(used / seconds)), used=float(np.median(used)),
                         budget_stopped=sum(stopped) * 2 >= len(stopped),
                         overhead=float(np.median(np.clip(wall - seconds, 0, None))),
                         plateaued=sum(plateaued) * 2 > len(plateaued))
    return out


def _speed_for(table, task, method):
    if (task, method) in table:
        return table[(task, method)]
    family, size = (task_size(task) or (task, 0))
    near = [(abs((task_size(t) or (t, 0))[1] - size), t) for t, m in table
            if m == method and task_family(t) == family]
    if near:
        return table[(min(near)[1], method)]
    return None


def predict(job, table, *, cap=None):
    """Predicted seconds of ``job`` from the sample's ``table`` (None: nothing sampled)."""
    if job.kind == "baseline":
        return 1.0  # a fit of seconds at most on these data sets (measured in the sample if present)
    speed = _speed_for(table, job.task, job.method)
    if speed is None:
        return None
    limit = float(job.budget.get("gate_evals", np.inf))
    used = limit if speed.budget_stopped else min(speed.used, limit)
    if speed.plateaued:  # the plateau rule stops no run before its plateau_min
        used = min(max(used, float(job.budget.get("plateau_min") or 0)), limit)
    seconds = used / speed.rate
    cap = job.budget.get("seconds", cap)
    if cap is not None:
        seconds = min(seconds, cap)
    return seconds + speed.overhead


def estimate(preset, table, *, seeds=None, tune_seeds=None, budget=None, tasks=None) -> dict:
    """Predicted core-seconds of each stage of ``preset`` (and the jobs not predicted)."""
    stages = {"matched": preset.jobs(seeds=seeds, budget=budget, tasks=tasks)}
    if preset.tune is not None:
        spec = preset.tune
        family_tasks = tune.tuning_tasks(preset, tasks=tasks)
        for rung in range(len(spec.rungs)):
            survivors = {}
            for method in preset.methods_here():
                cands = tune.candidates(spec, method)
                alive = tune._alive(len(cands), spec.keep, rung)
                if alive > 1:
                    survivors.update({(method, f): cands[:alive] for f in family_tasks})
            stages[f"tuning rung {rung + 1}"] = tune.rung_jobs(preset, rung, survivors, seeds=tune_seeds,
                                                             budget=budget, tasks=tasks)
        # the tuned view: as many runs as the matched main comparison (reused runs are
        # counted, so this is an upper bound)
        stages["tuned"] = [j for j in stages["matched"] if j.link == "switch"]
    out, missing = {}, set()
    for stage, jobs in stages.items():
        total = 0.0
        for job in jobs:
            seconds = predict(job, table)
            if seconds is None:
                missing.add((job.task, job.method))
            else:
                total += seconds
        out[stage] = {"runs": len(jobs), "core_seconds": total}
    return {"stages": out, "missing": sorted(missing)}
