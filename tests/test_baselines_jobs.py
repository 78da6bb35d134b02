"""The scikit-learn baselines as jobs of the sweep: same accuracy as scikit-learn called
directly on the same arrays, in the run files, tables and figures; no sklearn at import."""
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

import btype
from experiments.analysis import summary
from experiments.figures import make as plot
from experiments.sweep import execute, presets, runfiles, spec
from experiments.sweep.job import Job

sklearn = pytest.importorskip("sklearn")


def _direct(task):
    """The three baselines fitted here, independently of experiments.sweep.baselines."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.tree import DecisionTreeClassifier
    X_train, y_train = task.split("train")
    X_test, y_test = task.split("test")
    models = {"logistic": LogisticRegression(max_iter=300, random_state=0),
              "tree": DecisionTreeClassifier(max_depth=10, random_state=0),
              "knn": KNeighborsClassifier(n_neighbors=3)}
    out = {}
    for name, model in models.items():
        model.fit(np.asarray(X_train, np.float32), np.asarray(y_train))
        out[name] = float(np.mean(model.predict(np.asarray(X_test, np.float32)) == np.asarray(y_test)))
    return out


def test_baseline_jobs_write_the_accuracy_scikit_learn_gives(tmp_path):
    preset = presets.get("quick")
    jobs = [j for j in preset.jobs(seeds=1, tasks=["digits"]) if j.kind == "baseline"]
    assert sorted(j.method for j in jobs) == ["knn", "logistic", "tree"]
    assert all(j.task == "digits" and j.seed == 0 and j.name == f"digits__{j.method}__seed0" for j in jobs)
    for job in jobs:
        assert execute.run_job(job, tmp_path)["status"] == "done"
    want = _direct(btype.tasks.get("digits"))
    runs = runfiles.load_runs(tmp_path)
    assert {r.method: r.footer["test_accuracy"] for r in runs} == pytest.approx(want, abs=1e-12)
    assert all(r.kind == "baseline" and r.footer["stop_reason"] == "fitted" for r in runs)
    assert not list(tmp_path.glob("*.npz"))  # no machine for a baseline
    # a second call finds the finished file
    assert execute.run_job(jobs[0], tmp_path)["status"] == "skipped"


def test_baselines_are_rows_and_reference_lines_not_methods(tmp_path):
    preset = presets.get("quick")
    jobs = [j for j in preset.jobs(seeds=1, tasks=["digits"], methods=["es"])]
    jobs = [j if j.kind == "baseline" else replace(j, budget={"evaluations": 30}) for j in jobs]
    (tmp_path / "runs").mkdir()
    for job in jobs:
        execute.run_job(job, tmp_path / "runs")
    runs = runfiles.load_runs(tmp_path)
    text = summary.summary_markdown(runs, n_boot=50)
    assert "| logistic: logistic regression (scikit-learn, same binarised inputs) |" in text
    assert "| es | 0/1 |" in text and "| knn | " not in text
    plot.make_all(tmp_path)
    assert (tmp_path / "figures" / "convergence_test_gate_evals.png").exists()
    # only trained runs are methods of the figures' panels
    assert [r.method for r in runs if r.kind != "baseline"] == ["es"]


def test_only_classification_tasks_get_baselines():
    preset = presets.get("standard")
    base = {j.task for j in preset.jobs(seeds=1) if j.kind == "baseline"}
    assert base == {t for t, s in preset.tasks.items() if "outputs_per_class" in s.network} == {"digits"}
    with_mnist = {j.task for j in presets.get("full").jobs(seeds=1, mnist_dir="/data/mnist")
                  if j.kind == "baseline"}
    assert with_mnist == {"mnist14-3v7"}
    with pytest.raises(ValueError, match="baselines"):
        spec.Preset(name="x", description="", tasks={}, baselines=("svm",))
    with pytest.raises(ValueError, match="baseline"):
        Job(task="digits", method="svm", seed=0, budget={}, network={}, kind="baseline")


def test_the_package_imports_without_sklearn():
    code = ("import sys, btype, experiments.compare, experiments.sweep.presets, experiments.sweep.runner, "
            "experiments.sweep.tune, experiments.sweep.job, experiments.sweep.execute; "
            "experiments.sweep.presets.get('standard').jobs(seeds=1); "
            "assert 'sklearn' not in sys.modules, 'sklearn imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
