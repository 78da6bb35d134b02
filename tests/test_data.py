"""Real data: IDX files (MNIST layout) that the test writes, and scikit-learn's digits."""
import gzip
import struct

import numpy as np
import pytest

from btype import tasks
from btype.tasks import mnist, read_idx

IDX_CODES = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
             np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def write_idx(path, array, dtype="u1"):
    """A minimal IDX writer: magic 0 0 <type> <ndim>, big-endian uint32 sizes, big-endian data."""
    dtype = np.dtype(dtype)
    array = np.asarray(array).astype(dtype)
    payload = struct.pack(">BBBB", 0, 0, IDX_CODES[dtype], array.ndim)
    payload += b"".join(struct.pack(">I", d) for d in array.shape) + array.tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as fh:
        fh.write(payload)


@pytest.mark.parametrize("dtype", ["u1", "i1", ">i2", ">i4", ">f4", ">f8"])
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trip(tmp_path, dtype, gz):
    rng = np.random.default_rng(0)
    data = rng.integers(-100 if dtype != "u1" else 0, 100, size=(3, 4, 5))
    path = tmp_path / ("a.idx" + (".gz" if gz else ""))
    write_idx(path, data, dtype)
    back = read_idx(path)
    assert back.shape == (3, 4, 5) and np.array_equal(back, data)
    assert back.dtype == np.dtype(dtype).newbyteorder("=")


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "junk").write_bytes(b"\x01\x02\x03")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "junk")
    write_idx(tmp_path / "short", np.zeros((4, 3)))
    (tmp_path / "cut").write_bytes((tmp_path / "short").read_bytes()[:-2])
    with pytest.raises(ValueError, match=r"shape \(4, 3\)"):
        read_idx(tmp_path / "cut")


def fake_mnist(directory, rng, n_train=30, n_test=12, gz_files=("train-images-idx3-ubyte",)):
    """Random 28x28 images with labels 0..9; the named files are gzipped, the rest plain."""
    data = {"train": (rng.integers(0, 256, (n_train, 28, 28)), rng.integers(0, 10, n_train)),
            "t10k": (rng.integers(0, 256, (n_test, 28, 28)), rng.integers(0, 10, n_test))}
    data["train"][1][:10] = np.arange(10)  # every class present
    for prefix, (images, labels) in data.items():
        for base, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
            write_idx(directory / (base + (".gz" if base in gz_files else "")), array)
    return data


def test_mnist_full_resolution(tmp_path):
    rng = np.random.default_rng(1)
    data = fake_mnist(tmp_path, rng, gz_files=("train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))
    task = mnist(tmp_path, threshold=100)
    assert task.name == "mnist" and task.n_classes == 10 and task.n_inputs == 784
    for X, y, (images, labels) in ((task.X_train, task.Y_train, data["train"]),
                                   (task.X_test, task.Y_test, data["t10k"])):
        assert X.dtype == bool and np.array_equal(X, images.reshape(len(images), 784) >= 100)
        assert np.array_equal(y, labels)
    score = task.score_outputs(np.eye(10, dtype=bool)[task.Y_test], "test")
    assert score.fitness == 1.0  # one-hot outputs of the true labels classify perfectly


def test_mnist_downsample_classes_and_limit(tmp_path):
    rng = np.random.default_rng(2)
    data = fake_mnist(tmp_path, rng, n_train=60)
    images, labels = data["train"]
    task = mnist(tmp_path, downsample=2, classes=(7, 3), threshold=128)
    assert task.name == "mnist14-7v3" and task.n_classes == 2 and task.n_inputs == 196
    rows = [s for s in range(len(labels)) if labels[s] in (7, 3)]
    assert task.Y_train.tolist() == [0 if labels[s] == 7 else 1 for s in rows]
    for out, s in enumerate(rows):
        for i in range(14):
            for j in range(14):
                block = [images[s, 2 * i + a, 2 * j + b] for a in (0, 1) for b in (0, 1)]
                assert task.X_train[out, 14 * i + j] == (sum(block) / 4 >= 128)
    limited = mnist(tmp_path, downsample=4, classes=(7, 3), limit=(2, 1))
    assert limited.X_train.shape == (2, 49) and len(limited.X_test) <= 1
    assert np.array_equal(limited.Y_train, task.Y_train[:2])
    by_name = tasks.get("mnist14-7v3", directory=tmp_path)
    assert np.array_equal(by_name.X_train, task.X_train) and np.array_equal(by_name.Y_test, task.Y_test)


def test_mnist_directory_from_environment(tmp_path, monkeypatch):
    fake_mnist(tmp_path, np.random.default_rng(3))
    monkeypatch.setenv("BTYPE_MNIST_DIR", str(tmp_path))
    assert tasks.get("mnist7").n_inputs == 49


def test_mnist_missing_files(tmp_path, monkeypatch):
    monkeypatch.delenv("BTYPE_MNIST_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.*t10k-labels-idx1-ubyte"):
        mnist(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="BTYPE_MNIST_DIR"):
        mnist()
    fake_mnist(tmp_path, np.random.default_rng(4))
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="missing t10k-labels-idx1-ubyte"):
        mnist(tmp_path)


@pytest.mark.parametrize("kwargs", [dict(classes=(3,)), dict(classes=(3, 3)), dict(classes=(3, 12)),
                                    dict(downsample=5), dict(threshold=0), dict(limit=(1, 2, 3))])
def test_mnist_arguments_checked(tmp_path, kwargs):
    fake_mnist(tmp_path, np.random.default_rng(5))
    with pytest.raises(ValueError):
        mnist(tmp_path, **kwargs)


def sorted_rows(X):
    return sorted(map(bytes, np.packbits(X, axis=1)))


def test_digits_default():
    from sklearn.datasets import load_digits
    data = load_digits()
    task = tasks.digits()
    assert task.name == "digits" and task.n_classes == 10 and task.n_inputs == 64
    assert task.X_train.shape == (1437, 64) and task.X_test.shape == (360, 64)
    assert task.Y_train.shape == (1437,) and np.issubdtype(task.Y_train.dtype, np.integer)
    assert task.X_train.dtype == bool
    # The two splits together are exactly the thresholded images, labels included.
    both = np.concatenate([task.X_train, task.X_test])
    assert sorted_rows(both) == sorted_rows(data.data >= 8)
    assert np.array_equal(np.bincount(np.concatenate([task.Y_train, task.Y_test])), np.bincount(data.target))
    # Stratified: every class in both splits.
    assert set(task.Y_test.tolist()) == set(range(10))
    again, other = tasks.digits(seed=0), tasks.digits(seed=1)
    assert np.array_equal(again.X_train, task.X_train) and not np.array_equal(other.X_train, task.X_train)


def test_digits_thermometer_and_classes():
    from sklearn.datasets import load_digits
    data = load_digits()
    task = tasks.digits(levels=3, classes=(8, 3), test_fraction=0.25)
    assert task.name == "digits-t3-8v3" and task.n_classes == 2 and task.n_inputs == 192
    keep = np.isin(data.target, (8, 3))
    coded = np.stack([data.data[keep] >= cut for cut in (4, 8, 12)], axis=2).reshape(-1, 192)
    assert sorted_rows(np.concatenate([task.X_train, task.X_test])) == sorted_rows(coded)
    labels = np.concatenate([task.Y_train, task.Y_test])
    assert (labels == 0).sum() == (data.target == 8).sum() and (labels == 1).sum() == (data.target == 3).sum()
    assert tasks.get("digits-t3-8v3", test_fraction=0.25).X_train.shape == task.X_train.shape
    assert tasks.digits(threshold=1).X_train.mean() > task.X_train.mean()


@pytest.mark.parametrize("kwargs", [dict(threshold=8, levels=2), dict(threshold=17), dict(levels=0),
                                    dict(classes=(3, 10)), dict(test_fraction=1.0)])
def test_digits_arguments_checked(kwargs):
    with pytest.raises(ValueError):
        tasks.digits(**kwargs)


# ---------------------------------------------------------------- hostile IDX files and labels

def write_mnist_split(directory, prefix, images, labels, image_dtype="u1", label_dtype="u1"):
    write_idx(directory / f"{prefix}-images-idx3-ubyte", images, image_dtype)
    write_idx(directory / f"{prefix}-labels-idx1-ubyte", labels, label_dtype)


def small_mnist(directory, train_labels, test_labels=(0, 1), label_dtype="u1", images=None,
                image_dtype="u1"):
    train_labels, test_labels = np.array(train_labels), np.array(test_labels)
    if images is None:
        images = np.zeros((len(train_labels), 28, 28))
    write_mnist_split(directory, "train", images, train_labels, image_dtype, label_dtype)
    write_mnist_split(directory, "t10k", np.zeros((len(test_labels), 28, 28)), test_labels,
                      "u1", label_dtype)


@pytest.mark.parametrize("train_labels, label_dtype, kwargs, words", [
    # int8 -1 used to index from the end of the class table: class "7" with classes=(3, 7).
    ([3, 7, -1, 3], "i1", dict(classes=(3, 7)), "negative label -1 at row 2"),
    ([0, 1, 255], "u1", {}, "labels must be 0..K-1 with every class present (K >= 2); found 3 "
                            "distinct labels up to 255, missing 2, 3, 4, 5, 6, ..."),
    ([0, 1, 2**30], ">i4", {}, "found 3 distinct labels up to 1073741824"),
    ([0, 1, 2], ">f4", {}, "labels must be (N,) integers, got float32"),
    ([1, 1, 1], "u1", {}, "found 1 distinct labels up to 1"),
])
def test_mnist_labels_checked(tmp_path, train_labels, label_dtype, kwargs, words):
    small_mnist(tmp_path, train_labels, label_dtype=label_dtype)
    with pytest.raises(ValueError) as info:
        mnist(tmp_path, **kwargs)
    message = str(info.value)
    assert "train-labels-idx1-ubyte" in message and words in message, message


def test_mnist_test_labels_within_training_classes(tmp_path):
    small_mnist(tmp_path, [0, 1, 2], test_labels=[1, 3])
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte: label 3 at row 1 is not one of the "
                                         r"training classes 0\.\.2"):
        mnist(tmp_path)


@pytest.mark.parametrize("image_dtype, fill", [(">f4", np.nan), (">f8", 200.0), ("i1", -3), (">i2", 7)])
def test_mnist_images_must_be_bytes(tmp_path, image_dtype, fill):
    # NaN pixels used to become 0 without a word.
    small_mnist(tmp_path, [0, 1], images=np.full((2, 28, 28), fill), image_dtype=image_dtype)
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: images must be \(N, H, W\) unsigned "
                                         r"bytes \(IDX type 0x08\), got " + np.dtype(image_dtype).name):
        mnist(tmp_path)


def test_mnist_label_count_must_match_images(tmp_path):
    write_mnist_split(tmp_path, "train", np.zeros((3, 28, 28)), np.array([0, 1]))
    write_mnist_split(tmp_path, "t10k", np.zeros((1, 28, 28)), np.array([0]))
    with pytest.raises(ValueError, match="2 labels for the 3 images"):
        mnist(tmp_path)


def test_read_idx_limits_and_damage(tmp_path):
    # Four dimensions of 2**32 - 1: the product must not wrap around in int64.
    header = bytes([0, 0, 0x08, 4]) + b"\xff\xff\xff\xff" * 4
    (tmp_path / "huge").write_bytes(header + b"\x00" * 16)
    with pytest.raises(ValueError, match=r"declares shape \(4294967295, 4294967295, 4294967295, "
                                         r"4294967295\) \(.* data bytes\), over max_bytes=2,147,483,648; "
                                         r"pass a larger max_bytes="):
        read_idx(tmp_path / "huge")
    write_idx(tmp_path / "ok.gz", np.arange(60).reshape(3, 4, 5))
    with pytest.raises(ValueError, match=r"shape \(3, 4, 5\) \(60 data bytes\), over max_bytes=59"):
        read_idx(tmp_path / "ok.gz", max_bytes=59)
    assert read_idx(tmp_path / "ok.gz", max_bytes=60).sum() == sum(range(60))
    write_idx(tmp_path / "pad", np.zeros((2, 2)))
    (tmp_path / "pad").write_bytes((tmp_path / "pad").read_bytes() + b"\x00")
    with pytest.raises(ValueError, match="has more than 4 data bytes"):
        read_idx(tmp_path / "pad")
    (tmp_path / "head").write_bytes(bytes([0, 0, 0x08, 3]) + b"\x00\x00\x00\x02")
    with pytest.raises(ValueError, match="truncated IDX header"):
        read_idx(tmp_path / "head")
    data = (tmp_path / "ok.gz").read_bytes()
    for name, payload in (("cut.gz", data[:-10]), ("plain.gz", b"\x00\x00\x08\x01\x00\x00\x00\x01\x05")):
        (tmp_path / name).write_bytes(payload)
        with pytest.raises(ValueError, match=rf"{name}: not a readable gzip file"):
            read_idx(tmp_path / name)
    with pytest.raises(TypeError):
        read_idx(3)


# ---------------------------------------------------------------- coding and validation splits

def test_mnist_thermometer_code(tmp_path):
    data = fake_mnist(tmp_path, np.random.default_rng(6))
    images, _ = data["train"]
    task = mnist(tmp_path, downsample=4, levels=3)
    assert task.name == "mnist7-t3" and task.n_inputs == 49 * 3
    for s in range(3):
        for p in range(49):
            i, j = divmod(p, 7)
            mean = images[s, 4 * i:4 * i + 4, 4 * j:4 * j + 4].mean()
            assert [bool(task.X_train[s, 3 * p + k]) for k in range(3)] == [
                mean >= 255 * (k + 1) / 4 for k in range(3)]
    assert tasks.get("mnist7-t3", directory=tmp_path).name == "mnist7-t3"
    with pytest.raises(ValueError, match="threshold or levels, not both"):
        mnist(tmp_path, threshold=100, levels=2)


def check_hold_out(task, X_all, y_all, fraction):
    """Valid and train are a partition of the training rows, each class split by ``fraction``."""
    assert sorted_rows(np.concatenate([task.X_train, task.X_valid])) == sorted_rows(X_all)
    for label in np.unique(y_all):
        count = int((y_all == label).sum())
        assert int((task.Y_valid == label).sum()) == int(round(fraction * count))
        assert int((task.Y_train == label).sum()) == count - int(round(fraction * count))


def test_mnist_validation_split(tmp_path):
    fake_mnist(tmp_path, np.random.default_rng(7), n_train=80)
    whole = mnist(tmp_path, downsample=2)
    assert whole.X_valid is None
    task = mnist(tmp_path, downsample=2, valid=0.25, seed=3)
    check_hold_out(task, whole.X_train, whole.Y_train, 0.25)
    assert np.array_equal(task.X_test, whole.X_test)
    again, other = mnist(tmp_path, downsample=2, valid=0.25, seed=3), mnist(tmp_path, downsample=2,
                                                                          valid=0.25, seed=4)
    assert np.array_equal(again.X_valid, task.X_valid) and not np.array_equal(other.X_valid, task.X_valid)
    assert task.split("valid")[0] is task.X_valid
    for bad in (1.0, -0.1, "0.1", True):
        with pytest.raises(ValueError, match="valid must be a number in"):
            mnist(tmp_path, valid=bad)


def test_digits_validation_split():
    whole = tasks.digits(seed=2)
    task = tasks.digits(valid=0.1, seed=2)
    check_hold_out(task, whole.X_train, whole.Y_train, 0.1)
    assert np.array_equal(task.X_test, whole.X_test)


@pytest.mark.parametrize("name, canonical", [("mnist3v7", "mnist3v7"), ("mnist-3v7", "mnist3v7"),
                                             ("mnist14-3v7", "mnist14-3v7"), ("mnist14-t2-3v7", "mnist14-t2-3v7"),
                                             ("mnist-t2", "mnist-t2"), ("mnist7", "mnist7")])
def test_mnist_names(tmp_path, name, canonical):
    fake_mnist(tmp_path, np.random.default_rng(8))
    assert tasks.get(name, directory=tmp_path).name == canonical
