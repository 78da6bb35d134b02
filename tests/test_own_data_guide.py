"""docs/guides/own_data.md runs as written: its Python blocks, in order, in a fresh folder."""
import pathlib
import re

import pytest

GUIDE = pathlib.Path(__file__).resolve().parent.parent / "docs" / "guides" / "own_data.md"


def test_guide_code_runs(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in blocks:
        exec(compile(block, str(GUIDE), "exec"), namespace)
    task, accuracy = namespace["task"], namespace["accuracy"]
    assert task.classes == ("benign", "malignant") and task.n_inputs == 90
    assert (len(task.X_train), len(task.X_test)) == (427, 142)
    # The cut points were fitted on the training rows of the file alone.
    refit = namespace["btype"].tasks.Binarizer(levels=3)
    X, _, _, _ = namespace["btype"].tasks.read_csv("cancer.csv", "diagnosis")
    refit.fit(X[task.rows["train"]])
    assert all((a == b).all() for a, b in zip(refit.cuts, task.binarizer.cuts))
    # Every method beats the majority class (357 benign of 569 rows, 62.7%).
    assert set(accuracy) == {"es", "sgd", "logistic"}
    assert all(0.7 < value <= 1.0 for value in accuracy.values()), accuracy
