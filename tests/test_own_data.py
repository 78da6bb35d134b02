"""Tasks from your own data: from_arrays, the binariser, CSV in and out, the registration hook."""
import numpy as np
import pytest

import btype
from btype.tasks import Binarizer, Task, from_arrays, from_csv, split_rows, to_csv


def _bits(seed=0, n=240, f=6):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, (n, f))
    return X, X[:, 0] ^ X[:, 1]


# -- Task accepts 0/1 integers ---------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.uint8, np.int64, bool])
def test_task_accepts_01_integer_arrays(dtype):
    X, y = _bits()
    Y = y[:, None].astype(dtype)
    task = Task("mine", X.astype(dtype), Y, X[:10].astype(dtype), Y[:10])
    assert task.X_train.dtype == bool and task.Y_train.dtype == bool
    assert np.array_equal(task.X_train, X.astype(bool))


def test_task_refuses_other_integers_and_floats():
    X, y = _bits()
    with pytest.raises(ValueError, match=r"X_train must hold only 0 and 1, got 2"):
        Task("mine", X * 2, y[:, None], X, y[:, None])
    with pytest.raises(TypeError, match="X_train must be bool.*binariser"):
        Task("mine", X * 0.5, y[:, None], X, y[:, None])


# -- from_arrays -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [bool, np.uint8, np.int64])
def test_from_arrays_binary_inputs_any_dtype(dtype):
    X, y = _bits()
    task = from_arrays(X.astype(dtype), y.astype(bool), test=0.25, seed=3)
    assert task.n_classes is None and task.n_outputs == 1 and task.X_train.dtype == bool
    rows = np.concatenate([task.rows["train"], task.rows["test"]])
    assert sorted(rows.tolist()) == list(range(len(X)))           # a partition of the rows
    assert np.array_equal(task.X_train, X[task.rows["train"]].astype(bool))
    assert np.array_equal(task.Y_test[:, 0], y[task.rows["test"]].astype(bool))


def test_from_arrays_string_labels_mapped_and_kept():
    X, y = _bits(n=300)
    names = np.array(["cat", "dog", "emu"])[(X[:, 0] + X[:, 1])]
    task = from_arrays(X, names, seed=1)
    assert task.classes == ("cat", "dog", "emu") and task.n_classes == 3
    back = np.array(task.classes)[task.Y_train]
    assert np.array_equal(back, names[task.rows["train"]])


def test_from_arrays_dataframe_and_series():
    pd = pytest.importorskip("pandas")
    X, y = _bits()
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    labels = pd.Series(np.where(y == 1, "yes", "no"), name="answer")
    task = from_arrays(frame, labels, seed=2)
    assert task.input_names == list(frame.columns) and task.classes == ("no", "yes")
    same = from_arrays(X, np.where(y == 1, "yes", "no"), seed=2)
    assert np.array_equal(task.X_train, same.X_train) and np.array_equal(task.Y_test, same.Y_test)
    outputs = pd.DataFrame({"a": y, "b": 1 - y})
    multi = from_arrays(frame, outputs, seed=2)
    assert multi.n_outputs == 2 and multi.output_names == ["a", "b"]
    assert np.array_equal(multi.Y_train[:, 0], ~multi.Y_train[:, 1])


def test_split_is_stratified_and_seeded():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [500, 300, 200])
    X = rng.integers(0, 2, (len(y), 4))
    task = from_arrays(X, y, test=0.2, valid=0.1, seed=7)
    for label, n in zip(range(3), (500, 300, 200)):
        assert (task.Y_test == label).sum() == round(0.2 * n)
        assert (task.Y_valid == label).sum() == round(0.1 * n)
        assert (task.Y_train == label).sum() == n - round(0.2 * n) - round(0.1 * n)
    again = from_arrays(X, y, test=0.2, valid=0.1, seed=7)
    other = from_arrays(X, y, test=0.2, valid=0.1, seed=8)
    for key in ("train", "test", "valid"):
        assert np.array_equal(task.rows[key], again.rows[key])
    assert not np.array_equal(task.rows["test"], other.rows["test"])


def test_split_rows_reference():
    """split_rows draws each stratum's held-out rows as a plain permutation would."""
    strata = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1, 1])
    train, held = split_rows(strata, (0.4,), seed=5)
    rng = np.random.default_rng(5)
    expect = np.sort(np.concatenate([rng.permutation(np.flatnonzero(strata == s))[:n]
                                     for s, n in ((0, 2), (1, 2))]))
    assert np.array_equal(held, expect)
    assert sorted(np.concatenate([train, held]).tolist()) == list(range(10))


def test_explicit_test_split():
    X, y = _bits()
    task = from_arrays(X[:200], y[:200], X_test=X[200:], y_test=y[200:])
    assert len(task.X_train) == 200 and len(task.X_test) == 40 and task.rows["test"] is None
    assert np.array_equal(task.Y_test, y[200:])
    with pytest.raises(ValueError, match="not both"):
        from_arrays(X[:200], y[:200], X_test=X[200:], y_test=y[200:], test=0.3)
    with pytest.raises(ValueError, match="labels \\[5\\] that y does not have"):
        from_arrays(X[:200], y[:200], X_test=X[200:], y_test=np.full(40, 5))


@pytest.mark.parametrize("X, y, error, match", [
    (np.full((10, 2), 0.5), np.arange(10) % 2, ValueError, r"only 0 and 1, got 0\.5 at row 0.*Binarizer"),
    (np.array([[0, 1], [np.nan, 1], [1, 0], [0, 0]]), [0, 1, 0, 1], ValueError, "NaN.*row 1, column 0"),
    (np.zeros((10, 2), int), np.arange(9) % 2, ValueError, "X has 10 rows but y has 9"),
    (np.zeros((10, 2), int), np.zeros(10, int), ValueError, "only one class"),
    (np.zeros((10, 2), int), np.array(["a", None] * 5, dtype=object), ValueError, "NaN"),
    (np.array([["a", "b"]] * 4), [0, 1, 0, 1], TypeError, "bool or 0/1"),
    (np.zeros((4, 2), int), [0.5, 1.0, 0.0, 1.0], ValueError, "real values \\(e.g. 0.5\\)"),
])
def test_from_arrays_errors(X, y, error, match):
    with pytest.raises(error, match=match):
        from_arrays(X, y)


def test_from_arrays_refuses_empty_splits():
    X, y = _bits(n=6)
    with pytest.raises(ValueError, match="no rows"):
        from_arrays(X, y, test=0.01)


# -- the binariser ---------------------------------------------------------------------------

def test_binarizer_quantile_cuts_reference():
    values = np.arange(1.0, 101.0)[:, None]          # 1..100
    b = Binarizer(levels=3).fit(values)
    # quartiles of 1..100 split 25/50/75 values below: cuts midway between 25|26, 50|51, 75|76
    assert b.cuts[0].tolist() == [25.5, 50.5, 75.5]
    bits = b.transform(np.array([[25.0], [26.0], [80.0]]))
    assert bits.tolist() == [[False, False, False], [True, False, False], [True, True, True]]
    assert Binarizer(levels=3).fit(np.array([[0], [1], [0], [0]])).cuts[0].tolist() == [0.5]
    assert Binarizer(3, method="uniform").fit(np.array([[0.0], [8.0]])).cuts[0].tolist() == [2, 4, 6]


def test_binarizer_fitted_on_training_rows_only():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = np.where(X[:, 0] > 0, "pos", "neg")
    task = from_arrays(X, y, test=0.25, valid=0.1, binarize=Binarizer(levels=4), seed=1)
    train = task.rows["train"]
    alone = Binarizer(levels=4).fit(X[train])
    assert all(np.array_equal(a, b) for a, b in zip(task.binarizer.cuts, alone.cuts))
    # Whatever the held-out rows hold, the cuts and the training bits stay the same.
    poisoned = X.copy()
    held = np.setdiff1d(np.arange(len(X)), train)
    poisoned[held] = 1e6
    again = from_arrays(poisoned, y, test=0.25, valid=0.1, binarize=Binarizer(levels=4), seed=1)
    assert np.array_equal(again.rows["train"], train)
    assert all(np.array_equal(a, b) for a, b in zip(again.binarizer.cuts, alone.cuts))
    assert np.array_equal(again.X_train, task.X_train)
    assert again.X_test.all()                                  # 1e6 is above every cut
    assert np.array_equal(task.X_test, alone.transform(X[task.rows["test"]]))


def test_binarizer_errors():
    with pytest.raises(ValueError, match="not fitted"):
        Binarizer().transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="row 1, column 0"):
        Binarizer().fit(np.array([[0.0], [np.nan]]))
    with pytest.raises(ValueError, match="fitted on 2"):
        Binarizer().fit(np.arange(8.0).reshape(4, 2)).transform(np.zeros((1, 3)))


# -- CSV -------------------------------------------------------------------------------------

def test_csv_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(150, 3))
    y = np.array(["lo", "mid", "hi"])[np.digitize(X[:, 0], [-0.5, 0.5])]
    task = from_arrays(X, y, binarize=Binarizer(levels=2), seed=4)
    to_csv(task, tmp_path / "train.csv")
    to_csv(task, tmp_path / "test.csv", "test")
    back = from_csv(tmp_path / "train.csv", target="label", test_file=tmp_path / "test.csv")
    assert back.classes == task.classes and back.name == "train"
    for field in ("X_train", "Y_train", "X_test", "Y_test"):
        assert np.array_equal(getattr(back, field), getattr(task, field)), field
    assert back.input_names == task.input_names


def test_csv_real_features_and_boolean_outputs(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,out1,out2\n" + "".join(f"{i * 0.5},{i % 3},{i % 2},{(i // 2) % 2}\n" for i in range(40)))
    task = from_csv(path, target=["out1", "out2"], binarize=Binarizer(levels=2), test=0.25)
    assert task.n_outputs == 2 and task.n_classes is None and task.n_inputs == 4


@pytest.mark.parametrize("text, match", [
    ("a,b,y\n1,0,x\n1,0\n", r"d\.csv:3: 2 fields, the header has 3"),
    ("a,b,y\n1,0,x\n1,zz,y\n", r"d\.csv:3: column 'b': 'zz', not a number"),
    ("a,b,y\n1,0,x\n,0,y\n", r"d\.csv:3: column 'a': an empty field"),
    ("a,b,z\n1,0,x\n", r"no column 'y'"),
    ("", "empty file"),
    ("a,b,y\n", "no data rows"),
])
def test_csv_errors_name_file_and_line(tmp_path, text, match):
    path = tmp_path / "d.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        from_csv(path, target="y")


# -- the registration hook -------------------------------------------------------------------

def test_register_name_and_pattern():
    X, y = _bits()
    calls = []

    def noisy(n, seed=0):
        calls.append((n, seed))
        return from_arrays(X[:, :n], y, seed=seed, name=f"noisy{n}")

    btype.tasks.register("xor-mine", lambda seed=0: from_arrays(X, y, seed=seed, name="xor-mine"))
    btype.tasks.register(r"noisy(?P<n>\d+)", noisy)
    try:
        assert btype.tasks.get("xor-mine").n_inputs == 6
        assert "xor-mine" in btype.tasks.names()
        task = btype.tasks.get("noisy4", seed=2)
        assert task.n_inputs == 4 and calls == [(4, 2)]
        with pytest.raises(ValueError, match="unknown task name.*xor-mine \\(registered\\)"):
            btype.tasks.get("xor-min")
    finally:
        btype.tasks.unregister("xor-mine")
        btype.tasks.unregister(r"noisy(?P<n>\d+)")
    with pytest.raises(ValueError, match="unknown task name"):
        btype.tasks.get("xor-mine")


def test_register_refuses_builtin_names_and_bad_factories():
    with pytest.raises(ValueError, match="built-in"):
        btype.tasks.register("parity5", lambda: None)
    with pytest.raises(TypeError, match="factory must be callable"):
        btype.tasks.register("mine", 3)
    btype.tasks.register("not-a-task", lambda: "oops")
    try:
        with pytest.raises(TypeError, match="returned str, not a btype.tasks.Task"):
            btype.tasks.get("not-a-task")
    finally:
        btype.tasks.unregister("not-a-task")


def test_registered_task_trains():
    X, y = _bits()
    btype.tasks.register("xor-train", lambda: from_arrays(X, y.astype(bool), name="xor-train"))
    try:
        task = btype.tasks.get("xor-train")
        net = btype.random_network(task.n_inputs, 12, 1, seed=0)
        result = btype.trainer("es")(net, task, budget=btype.Budget(evaluations=300), seed=0,
                                     progress=False)
        assert result.network.n_inputs == 6
    finally:
        btype.tasks.unregister("xor-train")
