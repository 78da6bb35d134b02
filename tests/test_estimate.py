"""The wall-time plan from sampled runs: rates, stops and caps worked by hand."""
import pytest

from experiments.sweep import walltime as estimate
from experiments.sweep import presets
from experiments.sweep.job import Job
from experiments.sweep.runfiles import FORMAT, Run


def _run(task, method, *, gate_evals, seconds, wall, stop):
    header = {"type": "header", "format": FORMAT,
              "job": {"task": task, "method": method, "seed": 0, "network": {"n_gates": 8}}}
    record = {"step": 1, "evaluations": 1, "gate_evals": gate_evals, "seconds": seconds, "solved": stop == "solved"}
    footer = {"solved": stop == "solved", "stop_reason": stop, "train_fitness": 1.0, "wall_seconds": wall}
    return Run(header, [record], footer)


def _job(task, method, gate_evals, seconds=None, plateau_min=None):
    budget = {"gate_evals": gate_evals, "plateau": 10.0 if plateau_min else None, "plateau_min": plateau_min}
    if seconds is not None:
        budget["seconds"] = seconds
    return Job(task=task, method=method, seed=0, budget={k: v for k, v in budget.items() if v is not None},
               network={"n_gates": 8})


def test_predictions_follow_the_sampled_rate_stop_and_cap():
    table = estimate.speeds([
        _run("parity5", "es", gate_evals=1e8, seconds=0.1, wall=0.3, stop="solved"),       # 1e9/s, solves at 1e8
        _run("parity5", "sgd", gate_evals=2e8, seconds=10.0, wall=10.5, stop="seconds"),   # 2e7/s, capped
        _run("mux6", "es", gate_evals=2e8, seconds=0.5, wall=0.5, stop="plateau"),         # 4e8/s, plateau
    ])
    assert table[("parity5", "es")].rate == pytest.approx(1e9)
    assert table[("parity5", "es")].overhead == pytest.approx(0.2)
    # a solved run stops where the sample solved, whatever the larger budget
    assert estimate.predict(_job("parity5", "es", 4e9), table) == pytest.approx(0.1 + 0.2)
    # ... or at its own smaller limit
    assert estimate.predict(_job("parity5", "es", 5e7), table) == pytest.approx(0.05 + 0.2)
    # a budget-stopped run spends its whole limit, bounded by the time cap
    assert estimate.predict(_job("parity5", "sgd", 1e8), table) == pytest.approx(5.0 + 0.5)
    assert estimate.predict(_job("parity5", "sgd", 1e9, seconds=10.0), table) == pytest.approx(10.5)
    # a plateau comes no earlier than the job's plateau_min
    assert estimate.predict(_job("mux6", "es", 2e9, plateau_min=1e9), table) == pytest.approx(2.5)
    # an unsampled task takes its family's nearest sampled size; none at all: no prediction
    assert estimate.predict(_job("parity6", "es", 4e9), table) == pytest.approx(0.3)
    assert estimate.predict(_job("add2", "es", 4e9), table) is None


def test_estimate_counts_every_stage_of_a_tuned_preset():
    preset = presets.get("standard")
    table = {(t, m): estimate.Speed(rate=1e9, used=1e9, budget_stopped=False, overhead=0.0)
             for t in preset.tasks for m in preset.methods_here()}
    result = estimate.estimate(preset, table, seeds=1)
    stages = result["stages"]
    assert set(stages) == {"matched", "tuning rung 1", "tuning rung 2", "tuned"}
    assert not result["missing"]
    from experiments.sweep import tune
    assert [stages[f"tuning rung {i + 1}"]["runs"] for i in range(2)] == \
        tune.planned_budget(preset)["runs_per_rung"]


def test_estimate_command_takes_a_budget_as_compare_does(tmp_path, monkeypatch, capsys):
    # --budget 2s sets the amount and the axis of the preset, as `btype compare --budget 2s`;
    # the planned core-seconds follow the sampled rate on that budget.
    from experiments import estimate as command
    runs = [_run(t, m, gate_evals=1e12, seconds=100.0, wall=100.0, stop="seconds")
            for t in presets.get("quick").tasks for m in ("es", "anneal", "ga", "random", "sgd", "sgd+es")]
    monkeypatch.setattr(command.runfiles, "load_runs", lambda path: runs)
    totals = {}
    for budget in ("2s", "4s"):
        assert command.main(["--preset", "quick", "--sample", str(tmp_path), "--budget", budget]) == 0
        out = capsys.readouterr().out
        totals[budget] = float(out.split("total")[1].split("core-s")[0])
    assert totals["4s"] > totals["2s"] > 0
