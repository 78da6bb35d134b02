"""The tuning stage: the choice rule on synthetic run files, tuning seeds never evaluation
seeds, successive halving's arithmetic, resume, and the tuned view's jobs."""
import json
from dataclasses import replace

import pytest

from experiments.sweep import presets, tune
from experiments.sweep import runner as sweep
from experiments.sweep.job import Job
from experiments.sweep.runfiles import FORMAT, read_run, write_run
from experiments.sweep.spec import MAX_SEEDS, TUNE_SEED0, Preset, TaskSetup, TuneSpec


def _write_synthetic(directory, cid, seed, *, solve_at=None, fitness=0.5):
    """A run file of candidate ``cid``: records every 1e6 gate-evals, solved at ``solve_at``."""
    job = Job(task="parity3", method="es", seed=seed, budget={"gate_evals": 10**7},
              network={"n_gates": 24, "layers": 4}, variant=f"{cid}-r0",
              sweep={"candidate": cid, "family": "parity", "rung": 0})
    records = []
    for step in range(10):
        solved = solve_at is not None and (step + 1) * 10**6 >= solve_at
        records.append({"type": "record", "step": step, "evaluations": step * 10,
                        "gate_evals": (step + 1) * 10**6, "seconds": 0.01 * step, "solved": solved,
                        "train_fitness": 1.0 if solved else fitness * (step + 1) / 10})
        if solved:
            break
    header = {"type": "header", "format": FORMAT, "run": job.name, "job": job.config(), "sweep": job.sweep}
    footer = {"type": "footer", "solved": records[-1]["solved"],
              "train_fitness": records[-1]["train_fitness"], "test_accuracy": None,
              "stop_reason": "solved" if records[-1]["solved"] else "gate_evals"}
    assert write_run(directory, job.name, [header, *records, footer], None)
    return read_run(directory / f"{job.name}.jsonl")


def test_the_choice_rule_picks_the_known_best_on_synthetic_run_files(tmp_path):
    # (solved at, final fitness) per seed; the rule: success, then median gate-evals to
    # solve, then median final fitness, then candidate order.
    plan = {
        "c00": [(None, 0.9), (None, 0.9)],          # never solves, high fitness
        "c01": [(5 * 10**6, 0), (6 * 10**6, 0)],    # solves both, slower
        "c02": [(2 * 10**6, 0), (3 * 10**6, 0)],    # solves both, fastest: the best
        "c03": [(10**6, 0), (None, 0.5)],           # solves one of two
        "c04": [(None, 0.6), (None, 0.6)],          # never solves, lower fitness than c00
        "c05": [(2 * 10**6, 0), (3 * 10**6, 0)],    # ties with c02: the earlier candidate wins
    }
    groups = {cid: [_write_synthetic(tmp_path, cid, TUNE_SEED0 + i, solve_at=at, fitness=fit)
                    for i, (at, fit) in enumerate(seeds)] for cid, seeds in plan.items()}
    ranking = tune.rank(groups)
    assert [cid for cid, _ in ranking] == ["c02", "c05", "c01", "c03", "c00", "c04"]
    best = dict(ranking)["c02"]
    assert best["solved"] == 2 and best["median_gate_evals_to_solve"] == 2.5e6
    assert dict(ranking)["c03"]["median_gate_evals_to_solve"] == float("inf")  # half unsolved
    assert dict(ranking)["c00"]["median_train_fitness"] == pytest.approx(0.9)


def _tiny_preset(**changes):
    spec = TuneSpec(seeds=2, shapes=({"n_gates": 1.0, "layers": 1.0}, {"n_gates": 2.0, "layers": 1.0}),
                    options={"es": {"flips": (1, 2)}}, rungs=(0.25, 1.0), keep=0.5)
    base = Preset(name="tiny", description="test", tasks={
        "parity2": TaskSetup({"n_gates": 16, "kind": "layered", "layers": 4, "reach": 2}),
        "parity3": TaskSetup({"n_gates": 24, "kind": "layered", "layers": 4, "reach": 2}),
        "mux3": TaskSetup({"n_gates": 16, "kind": "layered", "layers": 4, "reach": 2})},
        methods=("es", "random"), seeds=3, axis="evaluations", budget=400, link_tasks={}, tune=spec)
    return replace(base, **changes)


def test_tuning_seeds_never_meet_evaluation_seeds():
    for name in ("standard", "full", "gpu"):
        preset = presets.get(name)
        if preset.tune is None:
            continue
        evaluation = {j.seed for j in preset.jobs(seeds=MAX_SEEDS)}
        cands = {(m, f): tune.candidates(preset.tune, m) for m in preset.methods_here()
                 for f in tune.tuning_tasks(preset)}
        tuning = {j.seed for j in tune.rung_jobs(preset, 0, cands)}
        assert tuning and evaluation and not tuning & evaluation, name
        assert min(tuning) >= TUNE_SEED0 > max(evaluation)


def test_candidates_and_successive_halving_counts():
    preset = _tiny_preset()
    cands = tune.candidates(preset.tune, "es")
    assert [c.id for c in cands] == ["c00", "c01", "c02", "c03"]
    assert cands[0].matched and cands[0].options == {} and cands[1].options == {"flips": 2}
    assert not cands[2].matched and cands[2].shape["n_gates"] == 2.0
    assert len(tune.candidates(preset.tune, "random")) == 2  # shapes only
    # families: parity (parity2, parity3: its middle member is parity2), mux
    assert tune.tuning_tasks(preset) == {"parity": "parity2", "mux": "mux3"}
    planned = tune.planned_budget(preset)
    # rung 0: (4 es + 2 random) candidates x 2 families x 2 seeds; rung 1: es keeps 2, random 1 (done)
    assert planned["runs_per_rung"] == [24, 8]
    assert planned["limit"] == 24 * 100 + 8 * 400


def test_tuning_runs_resume_and_choose_the_same(tmp_path):
    preset = _tiny_preset()
    logs = []
    chosen = tune.run_tuning(preset, tmp_path, None, progress=False, log=logs.append)
    files = sorted((tmp_path / "runs").glob("*.jsonl"))
    assert len(files) == sum(tune.planned_budget(preset)["runs_per_rung"]) == 32
    seeds = {read_run(f).seed for f in files}
    assert seeds == {TUNE_SEED0, TUNE_SEED0 + 1}
    assert all(read_run(f).header["sweep"]["view"] == "tuning" for f in files)
    # a killed stage: one rung-0 run and every rung-1 run gone; the rest must not be redone
    rung1 = [f for f in files if "-r1__" in f.name]
    assert len(rung1) == 8
    for f in rung1 + [files[0]]:
        f.unlink()
        f.with_suffix(".npz").unlink()
    kept = {f: f.stat().st_mtime_ns for f in files if f.exists()}
    again = tune.run_tuning(preset, tmp_path, None, progress=False, log=logs.append)
    assert again == chosen
    assert all(f.stat().st_mtime_ns == t for f, t in kept.items())
    assert "1 done, 23 already finished" in logs[2] and "8 done, 0 already finished" in logs[3]
    path = tune.write_chosen(chosen, tmp_path / "tuned" / tune.CHOSEN_FILE)
    assert tune.read_chosen(path) == chosen and chosen["rule"] == tune.RULE
    picks = {(c["method"], c["family"]): c for c in chosen["choices"]}
    assert set(picks) == {("es", "parity"), ("es", "mux"), ("random", "parity"), ("random", "mux")}
    # a choice is the best of its last rung by the rule, recomputed from the run files
    for (method, family), pick in picks.items():
        if method != "es":
            assert [r["rung"] for r in pick["rungs"]] == [0]
            continue
        last = pick["rungs"][-1]
        groups = {}
        for f in (tmp_path / "runs").glob(f"*__{method}__*-r{last['rung']}__*.jsonl"):
            run = read_run(f)
            if run.header["sweep"]["family"] == family:
                groups.setdefault(run.header["sweep"]["candidate"], []).append(run)
        assert pick["candidate"] == tune.rank(groups)[0][0]
        assert len(groups) == 2  # keep 0.5 of 4


def test_tuned_jobs_use_the_chosen_settings_and_match_the_matched_view_where_chosen_so(tmp_path):
    preset = _tiny_preset()
    chosen = {"choices": [
        {"method": "es", "family": "parity", "candidate": "c03", "shape": {"n_gates": 2.0, "layers": 1.0},
         "options": {"flips": 2}},
        {"method": "es", "family": "mux", "candidate": "c00", "shape": {"n_gates": 1.0, "layers": 1.0},
         "options": {}},
        {"method": "random", "family": "parity", "candidate": "c00", "shape": {"n_gates": 1.0}, "options": {}},
        {"method": "random", "family": "mux", "candidate": "c00", "shape": {"n_gates": 1.0}, "options": {}}]}
    jobs = tune.tuned_jobs(preset, chosen)
    matched = {j.name: j for j in preset.jobs()}
    assert sorted(j.name for j in jobs) == sorted(matched)
    assert {j.seed for j in jobs} == {0, 1, 2}
    for job in jobs:
        if job.method == "es" and job.task.startswith("parity"):
            assert job.network["n_gates"] == 2 * preset.tasks[job.task].network["n_gates"]
            assert job.options == {"flips": 2} and job.config() != matched[job.name].config()
        else:
            assert job.config() == matched[job.name].config()
        assert job.sweep["view"] == "tuned"
    # identical finished runs of the other view are linked, not rerun
    report = sweep.run_sweep(list(matched.values()), tmp_path / "matched", None, progress=False)
    assert len(report.done) == len(matched)
    report = sweep.run_sweep(jobs, tmp_path / "tuned", None, progress=False,
                             reuse_from=tmp_path / "matched")
    es_parity = [j for j in jobs if j.method == "es" and j.task.startswith("parity")]
    assert sorted(report.done) == sorted(j.name for j in es_parity)
    assert len(report.reused) == len(jobs) - len(es_parity)
    name = report.reused[0]
    assert (tmp_path / "tuned" / f"{name}.jsonl").read_bytes() == \
        (tmp_path / "matched" / f"{name}.jsonl").read_bytes()


def test_tune_spec_validation_names_the_field():
    with pytest.raises(ValueError, match="rungs"):
        TuneSpec(rungs=(0.5, 0.1))
    with pytest.raises(ValueError, match="shapes"):
        TuneSpec(shapes=({"width": 2.0},))
    with pytest.raises(ValueError, match="keep"):
        TuneSpec(keep=1.0)
    with pytest.raises(ValueError, match="options"):
        TuneSpec(options={"es": {"flips": ()}})
    with pytest.raises(ValueError, match="no tuning stage"):
        tune.run_tuning(presets.get("quick"), "/nonexistent")


def test_chosen_json_is_plain_json(tmp_path):
    preset = _tiny_preset(methods=("random",))
    chosen = tune.run_tuning(preset, tmp_path, None, progress=False, log=lambda *_: None)
    text = (tune.write_chosen(chosen, tmp_path / "chosen.json")).read_text()
    assert json.loads(text)["tuning_seeds"] == [TUNE_SEED0, TUNE_SEED0 + 1]
    assert "NaN" not in text and "Infinity" not in text
