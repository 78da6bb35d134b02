"""The tuning stage: each method at its best settings, chosen on seeds the evaluation never uses.

For every (method, task family) of a preset with a :class:`~experiments.sweep.spec.TuneSpec`,
the candidates are the spec's machine shapes (multipliers of the task's ``n_gates`` and
``layers``) times every combination of the method's option values. They are cut by
successive halving on the family's tuning task: rung ``r`` runs every surviving candidate
on the tuning seeds (``TUNE_SEED0`` up, disjoint from the evaluation seeds 0 .. seeds-1)
at ``rungs[r]`` of the preset's per-run budget, and the best ``keep`` share goes on to the
next rung. The winner of the last rung is the family's setting for that method.

The rung jobs are ordinary sweep jobs (``variant`` ``"c03-r1"``: candidate 3, rung 1) in
``OUT/tune/runs``, run by :func:`experiments.sweep.runner.run_sweep` through the same executor:
a restart skips the finished ones, and the choice, which depends only on the run files,
comes out the same. The chosen settings, the rule and every candidate's score are
written to ``OUT/tuned/chosen.json``; :func:`tuned_jobs` gives the evaluation on the
evaluation seeds at those settings (the *tuned view*, ``OUT/tuned``), beside the *matched
view* (``OUT/runs``: the same machine and the preset's options for every method).
"""
from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from experiments.sweep.job import Job, json_ready
from experiments.sweep.machines import shaped
from experiments.sweep.spec import TUNE_SEED0, Preset, task_family, task_size
from experiments.sweep.runfiles import read_run

__all__ = ["Candidate", "RULE", "candidates", "tuning_tasks", "tuning_seeds", "rung_jobs", "score",
           "rank", "run_tuning", "tuned_jobs", "read_chosen", "planned_budget", "CHOSEN_FILE",
           "TuningFailed"]

CHOSEN_FILE = "chosen.json"

#: The choice rule, as written into ``chosen.json``.
RULE = ("candidates are ranked on their runs of one rung by (1) share of tuning runs solved, "
        "higher first; (2) median gate-evaluations to solve, unsolved runs counting as never "
        "solving (so infinite when fewer than half solved), lower first; (3) median final "
        "training fitness (best so far), higher first; (4) candidate order, the matched "
        "setting first. After each rung the best `keep` share (at least one) goes on; the "
        "best of the last rung reached is chosen. Test data is never used.")


class TuningFailed(RuntimeError):
    """Some tuning runs failed, so no choice can be made; ``report`` is the sweep's."""

    def __init__(self, message, report):
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class Candidate:
    """One setting tried: an id (``"c00"``), a machine shape and trainer options."""

    id: str
    shape: dict
    options: dict

    @property
    def matched(self) -> bool:
        """True for the matched setting: every shape factor 1 and no options changed."""
        return all(v == 1 for v in self.shape.values()) and not self.options


def candidates(spec, method) -> list[Candidate]:
    """Every shape times every combination of ``method``'s option values, in order.

    A combination equal to the first value of every option is the preset's own
    setting, so it is given as no option change (the matched candidate when the shape is
    all ones)."""
    grid = spec.options.get(method, {})
    names = sorted(grid)
    combos = list(itertools.product(*(grid[n] for n in names))) if names else [()]
    out = []
    for shape in spec.shapes:
        for combo in combos:
            options = {n: v for n, v in zip(names, combo) if v != grid[n][0]}
            out.append(Candidate(f"c{len(out):02d}", dict(shape), options))
    return out


def tuning_seeds(spec, seeds=None) -> list[int]:
    """The tuning seeds: ``TUNE_SEED0`` up, never an evaluation seed."""
    n = spec.seeds if seeds is None else seeds
    return [TUNE_SEED0 + i for i in range(n)]


def tuning_tasks(preset: Preset, *, tasks=None, mnist_dir=None) -> dict:
    """``{family: task}`` tuned on: the spec's choice, else the family's middle member
    (by size) among the preset's main tasks (kept by ``tasks``)."""
    main = [t for t in preset.main_tasks(mnist_dir) if tasks is None or t in set(tasks)]
    families = {}
    for task in main:
        families.setdefault(task_family(task), []).append(task)
    chosen = {}
    for family, members in families.items():
        wanted = preset.tune.tasks.get(family)
        if wanted in members:
            chosen[family] = wanted
        else:
            members = sorted(members, key=lambda t: (task_size(t) or (t, 0))[1])
            chosen[family] = members[(len(members) - 1) // 2]
    return chosen


def rung_jobs(preset: Preset, rung: int, survivors: dict, *, seeds=None, budget=None,
              mnist_dir=None, device=None, tasks=None, methods=None, threads=1) -> list[Job]:
    """The jobs of rung ``rung``: every surviving candidate of every (method, family)
    (``survivors``: ``{(method, family): [Candidate]}``; ``methods`` keeps only these) on
    every tuning seed."""
    spec = preset.tune
    base = preset if budget is None else replace(preset, budget=budget)
    fraction = spec.rungs[rung]
    family_tasks = tuning_tasks(preset, tasks=tasks, mnist_dir=mnist_dir)
    main = preset.main_tasks(mnist_dir)
    device = preset.device if device is None else device
    seed_list = tuning_seeds(spec, seeds)
    jobs = []
    for seed in seed_list:
        for (method, family), cands in survivors.items():
            if methods is not None and method not in set(methods):
                continue
            task = family_tasks[family]
            for cand in cands:
                sweep = {**base.sweep_facts(0, "tuning"), "seeds": seed_list, "rung": rung,
                         "fraction": fraction, "candidate": cand.id, "family": family}
                jobs.append(base._job(task, main[task], method, seed, "switch", device,
                                      preset.task_args(task, mnist_dir), sweep, fraction=fraction,
                                      shape=cand.shape, options=cand.options,
                                      variant=f"{cand.id}-r{rung}"))
    return jobs if threads == 1 else [replace(job, threads=threads) for job in jobs]


def _solve_gate_evals(run):
    for record in run.records:
        if record.get("solved"):
            return float(record["gate_evals"]), True
    return math.inf, False


def _best_fitness(run):
    values = [r.get("train_fitness") for r in run.records if r.get("train_fitness") is not None]
    if run.footer and run.footer.get("train_fitness") is not None:
        values.append(run.footer["train_fitness"])
    return max(values) if values else float("nan")


def score(runs) -> dict:
    """The numbers the rule ranks a candidate by, from its runs of one rung."""
    pairs = [_solve_gate_evals(r) for r in runs]
    solved = sum(ok for _, ok in pairs)
    fitness = np.array([_best_fitness(r) for r in runs], dtype=float)
    fitness = fitness[~np.isnan(fitness)]
    return {"runs": len(runs), "solved": int(solved),
            "success": solved / len(runs) if runs else 0.0,
            "median_gate_evals_to_solve": float(np.median([g for g, _ in pairs])) if runs else math.inf,
            "median_train_fitness": float(np.median(fitness)) if len(fitness) else float("nan")}


def _key(item):
    index, numbers_ = item
    fitness = numbers_["median_train_fitness"]
    return (-numbers_["success"], numbers_["median_gate_evals_to_solve"],
            -(fitness if math.isfinite(fitness) else -1.0), index)


def rank(groups: dict) -> list:
    """Candidate ids best first by :data:`RULE`; ``groups`` maps each candidate id
    (``"c00"`` ...) to its runs of one rung. Returns ``[(id, score), ...]``."""
    scored = [(int(cid.lstrip("c")), score(runs)) for cid, runs in groups.items()]
    return [(f"c{i:02d}", s) for i, s in sorted(scored, key=_key)]


def planned_budget(preset: Preset, *, seeds=None, tasks=None, methods=None, mnist_dir=None,
                   budget=None) -> dict:
    """The tuning stage's budget, as planned: runs per rung and the most of the preset's
    axis they may spend (the sum of their limits; runs that solve or plateau spend less)."""
    spec = preset.tune
    methods = [m for m in preset.methods_here() if methods is None or m in set(methods)]
    family_tasks = tuning_tasks(preset, tasks=tasks, mnist_dir=mnist_dir)
    n_seeds = len(tuning_seeds(spec, seeds))
    per_run = preset.budget if budget is None else budget
    main = preset.main_tasks(mnist_dir)
    runs, limit = [], 0.0
    for rung, fraction in enumerate(spec.rungs):
        count = 0
        for method in methods:
            alive = _alive(len(candidates(spec, method)), spec.keep, rung)
            alive = alive if alive > 1 else 0  # a single candidate left needs no more runs
            for task in family_tasks.values():
                count += alive * n_seeds
                limit += alive * n_seeds * per_run * fraction * main[task].scale
        runs.append(count)
    return {"runs_per_rung": runs, "axis": preset.axis, "limit": limit}


def _alive(n, keep, rung):
    for _ in range(rung):
        n = max(1, math.ceil(n * keep))
    return n


def _groups(jobs, runs_dir):
    groups = {}
    for job in jobs:
        run = read_run(Path(runs_dir) / f"{job.name}.jsonl")
        if run is None or not run.complete:
            raise RuntimeError(f"tuning run {job.name} has no finished run file")
        family = job.sweep["family"]
        groups.setdefault((job.method, family), {}).setdefault(job.sweep["candidate"], []).append(run)
    return groups


def run_tuning(preset: Preset, tune_dir, executor=None, *, seeds=None, methods=None, tasks=None,
               mnist_dir=None, device=None, budget=None, progress=True, wait=False,
               eval_seeds=None, threads=1, log=print) -> dict:
    """Run the tuning stage into ``tune_dir/runs`` and return the choice (what
    ``chosen.json`` holds; :func:`tuned_jobs` takes it).

    ``seeds``: number of tuning seeds (default the spec's); ``eval_seeds``: number of
    evaluation seeds, recorded in the choice. Raises :class:`TuningFailed` when runs failed.
    """
    from experiments.sweep import runner
    spec = preset.tune
    if spec is None:
        raise ValueError(f"preset {preset.name!r} has no tuning stage")
    preset.check_filters(methods=methods, tasks=tasks, mnist_dir=mnist_dir)
    own = [m for m in preset.methods_here() if methods is None or m in set(methods)]
    family_tasks = tuning_tasks(preset, tasks=tasks, mnist_dir=mnist_dir)
    all_cands = {m: candidates(spec, m) for m in own}
    survivors = {(m, f): list(all_cands[m]) for m in own for f in family_tasks}
    history = {key: [] for key in survivors}
    runs_dir = Path(tune_dir) / "runs"
    for rung in range(len(spec.rungs)):
        active = {key: cands for key, cands in survivors.items() if len(cands) > 1}
        if not active:
            break
        jobs = rung_jobs(preset, rung, active, seeds=seeds, budget=budget, mnist_dir=mnist_dir,
                         device=device, tasks=tasks, threads=threads)
        report = runner.run_sweep(jobs, runs_dir, executor, progress=progress, wait=wait)
        log(f"tuning rung {rung + 1}/{len(spec.rungs)} ({spec.rungs[rung]:g} of the budget): "
            f"{len(jobs)} runs, {len(report.done)} done, {len(report.skipped)} already finished, "
            f"{len(report.failed)} failed")
        if report.failed:
            raise TuningFailed(f"{len(report.failed)} tuning run(s) failed, e.g. "
                               f"{next(iter(report.failed))}", report)
        for key, groups in _groups(jobs, runs_dir).items():
            ranking = rank(groups)
            by_id = {c.id: c for c in survivors[key]}
            history[key].append({"rung": rung, "fraction": spec.rungs[rung], "ranking": [
                {"candidate": cid, "shape": by_id[cid].shape, "options": by_id[cid].options, **numbers_}
                for cid, numbers_ in ranking]})
            kept = max(1, math.ceil(len(ranking) * spec.keep))
            survivors[key] = [by_id[cid] for cid, _ in ranking[:kept]]
    main = preset.main_tasks(mnist_dir)
    choices = []
    for (method, family), cands in survivors.items():
        best = cands[0]
        task = family_tasks[family]
        choices.append({"method": method, "family": family, "tuned_on": task,
                        "candidate": best.id, "matched": best.matched, "shape": best.shape,
                        "options": best.options, "network": shaped(main[task].network, best.shape),
                        "candidates": len(all_cands[method]), "rungs": history[(method, family)]})
    n_eval = preset.seeds if eval_seeds is None else eval_seeds
    return json_ready({
        "preset": preset.name, "rule": RULE, "axis": preset.axis,
        "budget_per_run": preset.budget if budget is None else budget,
        "rungs": list(spec.rungs), "keep": spec.keep,
        "tuning_seeds": tuning_seeds(spec, seeds), "evaluation_seeds": list(range(n_eval)),
        "planned": planned_budget(preset, seeds=seeds, tasks=tasks, methods=methods,
                                  mnist_dir=mnist_dir, budget=budget),
        "choices": choices})


def write_chosen(chosen: dict, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(chosen, indent=1) + "\n", encoding="utf-8")
    return path


def read_chosen(path) -> dict:
    """The choice written by a tuning stage (``chosen.json``)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def tuned_jobs(preset: Preset, chosen: dict, *, seeds=None, methods=None, tasks=None, mnist_dir=None,
               device=None, budget=None, baselines=True) -> list[Job]:
    """The tuned view's jobs: every main task and method on the evaluation seeds, at the
    settings chosen for (method, the task's family)."""
    n_seeds = preset.check_filters(seeds=seeds, methods=methods, tasks=tasks, mnist_dir=mnist_dir)
    base = preset if budget is None else replace(preset, budget=budget)
    picks = {(c["method"], c["family"]): c for c in chosen["choices"]}
    device = preset.device if device is None else device
    jobs = []
    for seed in range(n_seeds):
        for task, setup in preset.main_tasks(mnist_dir).items():
            if tasks is not None and task not in set(tasks):
                continue
            for method in preset.methods_here():
                pick = picks.get((method, task_family(task)))
                if pick is None or (methods is not None and method not in set(methods)):
                    continue
                sweep = {**base.sweep_facts(n_seeds, "tuned"), "candidate": pick["candidate"]}
                jobs.append(base._job(task, setup, method, seed, "switch", device,
                                      preset.task_args(task, mnist_dir), sweep,
                                      shape=pick["shape"], options=pick["options"]))
    if baselines:
        jobs += base.baseline_jobs(tasks=tasks, mnist_dir=mnist_dir, view="tuned", seeds=n_seeds)
    return jobs
