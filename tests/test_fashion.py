"""Fashion-MNIST: on Debian's dataset-fashion-mnist files when installed, else on files the test writes."""
import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from btype import tasks
from btype.tasks import FASHION_DIR, fashion

from test_data import fake_mnist

INSTALLED = all((Path(FASHION_DIR) / f"{name}.gz").is_file() for name in tasks.MNIST_FILES.values())


def parse_idx_gz(path, header_bytes):
    """An independent reading of a gzipped MNIST-layout file: skip the header, bytes as they are."""
    with gzip.open(path, "rb") as fh:
        return np.frombuffer(fh.read(), np.uint8)[header_bytes:]


@pytest.mark.skipif(not INSTALLED, reason="Fashion-MNIST is not installed: sudo apt-get install "
                                          "dataset-fashion-mnist (or ./install.sh data)")
def test_real_fashion_mnist():
    task = tasks.get("fashion28")
    assert task.name == "fashion28" and task.n_classes == 10 and task.n_inputs == 784
    assert task.X_train.shape == (60000, 784) and task.X_test.shape == (10000, 784)
    images = parse_idx_gz(Path(FASHION_DIR) / "train-images-idx3-ubyte.gz", 16).reshape(60000, 784)
    labels = parse_idx_gz(Path(FASHION_DIR) / "train-labels-idx1-ubyte.gz", 8)
    assert np.array_equal(task.X_train, images >= 128) and np.array_equal(task.Y_train, labels)
    # The published class balance: 6,000 training and 1,000 test images per class.
    assert np.bincount(task.Y_train).tolist() == [6000] * 10
    assert np.bincount(task.Y_test).tolist() == [1000] * 10
    # The default size, 14x14, on a hard pair with a validation split: block means of the same pixels.
    pair = tasks.get("fashion0v6", valid=0.1)
    assert pair.name == "fashion0v6" and pair.n_inputs == 196 and pair.n_classes == 2
    assert tasks.get("fashion").n_inputs == 196
    keep = np.isin(labels, (0, 6))
    means = images[keep].reshape(-1, 14, 2, 14, 2).astype(float).mean(axis=(2, 4)).reshape(-1, 196)
    both = np.concatenate([pair.X_train, pair.X_valid])
    assert len(both) == keep.sum() == 12000 and len(pair.X_valid) == 1200
    assert sorted(map(bytes, np.packbits(both, axis=1))) == \
        sorted(map(bytes, np.packbits(means >= 128, axis=1)))


@pytest.fixture
def fake_fashion(tmp_path, monkeypatch):
    data = fake_mnist(tmp_path, np.random.default_rng(11), n_train=50, n_test=20)
    monkeypatch.setenv("BTYPE_FASHION_DIR", str(tmp_path))
    return data


def test_fashion_options_on_written_files(fake_fashion, tmp_path):
    images, labels = fake_fashion["train"]
    task = fashion(downsample=1)
    assert task.name == "fashion28" and np.array_equal(task.X_train, images.reshape(-1, 784) >= 128)
    assert np.array_equal(task.Y_train, labels) and task.X_valid is None
    default = fashion()
    means = images.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4)).reshape(-1, 196)
    assert default.name == "fashion" and np.array_equal(default.X_train, means >= 128)
    pair = tasks.get("fashion0v6")
    assert pair.name == "fashion0v6" and pair.n_classes == 2 and pair.n_inputs == 196
    rows = [s for s in range(len(labels)) if labels[s] in (0, 6)]
    assert pair.Y_train.tolist() == [int(labels[s] == 6) for s in rows]
    coded = tasks.get("fashion7-t2")
    assert coded.name == "fashion7-t2" and coded.n_inputs == 98
    means = images.reshape(-1, 7, 4, 7, 4).mean(axis=(2, 4)).reshape(-1, 49)
    expected = np.stack([means >= 85, means >= 170], axis=2).reshape(-1, 98)
    assert np.array_equal(coded.X_train, expected)
    direct = fashion(tmp_path, downsample=4, levels=2, classes=(0, 6), valid=0.2, seed=1)
    assert direct.name == "fashion7-t2-0v6" and direct.X_valid is not None
    assert np.array_equal(tasks.get("fashion7-t2-0v6", valid=0.2, seed=1).X_valid, direct.X_valid)


def test_fashion_missing_files_say_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("BTYPE_FASHION_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="sudo apt-get install dataset-fashion-mnist"):
        tasks.get("fashion")
    (tmp_path / "partial").mkdir()
    with pytest.raises(FileNotFoundError, match=r"missing train-images-idx3-ubyte.*install.sh data"):
        fashion(tmp_path / "partial")


def test_mnist_missing_files_say_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.delenv("BTYPE_MNIST_DIR", raising=False)
    with pytest.raises(ValueError, match="btype downloads nothing: save the four MNIST files"):
        tasks.get("mnist3v7")
    with pytest.raises(FileNotFoundError, match="BTYPE_MNIST_DIR"):
        tasks.get("mnist3v7", directory=tmp_path)
