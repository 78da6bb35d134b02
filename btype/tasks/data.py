"""Real data sets as classification tasks: scikit-learn's 8x8 digits and MNIST from IDX files.

Nothing is downloaded: digits ship inside scikit-learn, MNIST is read from a
directory the user names. Inputs are binarised pixels; targets are ``(S,)``
int labels with ``n_classes`` set (DESIGN.md section 3).
"""
from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from .base import Task
from .truth import _check_int

__all__ = ["digits", "mnist", "read_idx", "MNIST_FILES"]

#: The four standard MNIST file names (each may also be present with ``.gz``).
MNIST_FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
               "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}

_IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def _check_classes(classes, labels_present):
    """Validated tuple of distinct class labels, or None."""
    if classes is None:
        return None
    try:
        classes = tuple(classes)
    except TypeError:
        raise TypeError(f"classes must be a sequence of labels, got {classes!r}") from None
    if len(classes) < 2:
        raise ValueError(f"classes must name at least two labels, got {classes!r}")
    classes = tuple(_check_int(c, "classes", 0, 2**31) for c in classes)
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes must be distinct, got {classes!r}")
    missing = sorted(set(classes) - set(labels_present))
    if missing:
        raise ValueError(f"classes {missing} do not occur in the data (labels: {sorted(labels_present)})")
    return classes


def _select(X, y, classes):
    """Rows of the listed classes, labels remapped to their position in ``classes``."""
    if classes is None:
        return X, y.astype(np.int64)
    lookup = np.full(int(max(y.max(initial=0), max(classes))) + 1, -1, dtype=np.int64)
    lookup[list(classes)] = np.arange(len(classes))
    keep = lookup[y] >= 0
    return X[keep], lookup[y[keep]]


def _suffix(classes):
    return "" if classes is None else "-" + "v".join(map(str, classes))


def digits(*, threshold: int | None = None, levels: int | None = None, classes=None,
           test_fraction: float = 0.2, seed: int = 0) -> Task:
    """scikit-learn's bundled 8x8 digits (1,797 images, pixel values 0..16), binarised.

    Parameters
    ----------
    threshold : int, optional
        A pixel is 1 when its value is ``>= threshold`` (1..16; default 8).
        64 inputs.
    levels : int, optional
        Thermometer code instead: ``levels`` bits per pixel, bit ``j`` is 1 when
        the value is ``>= 16 * (j + 1) / (levels + 1)`` (``levels=1`` is the
        threshold 8). Inputs are pixel-major: column ``levels * p + j``.
        Not together with ``threshold``.
    classes : sequence of int, optional
        Keep only these digits; label ``classes[i]`` becomes ``i``.
    test_fraction : float
        Share of rows in the test split (stratified by class).
    seed : int
        Seed of the split; the same seed always gives the same split.

    Returns
    -------
    Task
        Classification task, ``n_classes = len(classes)`` or 10.
    """
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:  # pragma: no cover - scikit-learn is installed in CI
        raise ImportError("btype.tasks.digits needs scikit-learn: pip install scikit-learn") from None
    if threshold is not None and levels is not None:
        raise ValueError(f"give threshold or levels, not both (got threshold={threshold!r}, "
                         f"levels={levels!r})")
    if levels is not None:
        levels = _check_int(levels, "levels", 1, 16)
        cuts = 16 * np.arange(1, levels + 1) / (levels + 1)
    else:
        cuts = np.array([_check_int(8 if threshold is None else threshold, "threshold", 1, 16)])
    if not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    seed = _check_int(seed, "seed", 0, 2**32 - 1)
    data = load_digits()
    pixels, y = data.data, data.target
    classes = _check_classes(classes, np.unique(y).tolist())
    X = (pixels[:, :, None] >= cuts).reshape(len(pixels), -1)
    X, y = _select(X, y, classes)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_fraction, random_state=seed, stratify=y)
    coding = f"thermometer {levels} levels" if levels is not None else f"threshold {int(cuts[0])}"
    name = "digits" + (f"-t{levels}" if levels is not None else "") + _suffix(classes)
    return Task(name, X_train, y_train, X_test, y_test,
                n_classes=10 if classes is None else len(classes),
                description=f"scikit-learn 8x8 digits, {coding}, {X.shape[1]} inputs"
                            + (f", classes {classes}" if classes else ""))


def read_idx(path) -> np.ndarray:
    """Read one IDX file (the MNIST format), plain or gzipped (by a ``.gz`` suffix).

    Returns
    -------
    ndarray of the stored dtype and shape (native byte order).
    """
    path = Path(path)
    if path.suffix == ".gz":
        with gzip.open(path) as fh:
            raw = fh.read()
    else:
        raw = path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()})")
    dtype, ndim = _IDX_TYPES[raw[2]], raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{path}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, offset=4))
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) != 4 + 4 * ndim + count * dtype.itemsize:
        raise ValueError(f"{path}: IDX header says shape {shape} ({count * dtype.itemsize} data bytes) "
                         f"but the file has {len(raw) - 4 - 4 * ndim}")
    data = np.frombuffer(raw, dtype, count, offset=4 + 4 * ndim).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def _find_mnist_files(directory):
    if directory is None:
        directory = os.environ.get("BTYPE_MNIST_DIR")
    expected = ", ".join(f"{n}[.gz]" for n in MNIST_FILES.values())
    if directory is None:
        raise ValueError(f"mnist needs directory= (or the BTYPE_MNIST_DIR environment variable) "
                         f"naming a folder with {expected}")
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"MNIST directory {str(directory)!r} does not exist; it should hold "
                                f"{expected}")
    found, missing = {}, []
    for key, base in MNIST_FILES.items():
        for candidate in (directory / base, directory / (base + ".gz")):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            missing.append(base)
    if missing:
        raise FileNotFoundError(f"{directory}: missing {', '.join(missing)} (plain or .gz); an MNIST "
                                f"directory holds {expected}")
    return found


def _pool(images, factor):
    """Sum over ``factor x factor`` blocks: (N, H, W) -> (N, H/f, W/f) int32."""
    N, H, W = images.shape
    if factor == 1:
        return images
    if H % factor or W % factor:
        raise ValueError(f"downsample={factor} does not divide the {H}x{W} images")
    blocks = images.reshape(N, H // factor, factor, W // factor, factor)
    return blocks.sum(axis=(2, 4), dtype=np.int32)


def mnist(directory=None, *, threshold: int = 128, downsample: int = 1, classes=None,
          limit=None) -> Task:
    """MNIST (or any data set in its IDX layout) from files in ``directory``.

    Parameters
    ----------
    directory : path, optional
        Folder with ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each plain or
        ``.gz``). Default: the ``BTYPE_MNIST_DIR`` environment variable.
    threshold : int
        A (pooled) pixel is 1 when its mean grey value is ``>= threshold`` (1..255).
    downsample : int
        Average ``downsample x downsample`` blocks first: 2 gives 14x14 images.
    classes : sequence of int, optional
        Keep only these digits (e.g. ``(3, 7)``); label ``classes[i]`` becomes ``i``.
    limit : int or (int, int), optional
        Keep at most this many train (and test) rows, the first ones in file
        order after class selection; a pair limits train and test separately.

    Returns
    -------
    Task
        Classification task with ``(28 / downsample)**2`` inputs.
    """
    files = _find_mnist_files(directory)
    threshold = _check_int(threshold, "threshold", 1, 255)
    downsample = _check_int(downsample, "downsample", 1, 28)
    if limit is None or isinstance(limit, (int, np.integer)):
        limits = (limit, limit)
    else:
        limits = tuple(limit)
        if len(limits) != 2:
            raise ValueError(f"limit must be an int or a (train, test) pair, got {limit!r}")
    limits = tuple(None if n is None else _check_int(n, "limit", 1, 2**40) for n in limits)
    splits, labels_present = {}, set()
    for split in ("train", "test"):
        images, labels = read_idx(files[f"{split}_images"]), read_idx(files[f"{split}_labels"])
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"{files[split + '_images']}: expected (N, H, W) images and (N,) labels, "
                             f"got {images.shape} and {labels.shape}")
        splits[split] = images, labels.astype(np.int64)
        labels_present |= set(np.unique(labels).tolist())
    classes = _check_classes(classes, labels_present)
    out = []
    for (images, labels), n in zip(splits.values(), limits):
        images, labels = _select(images, labels, classes)
        if n is not None:
            images, labels = images[:n], labels[:n]
        X = _pool(images, downsample) >= threshold * downsample * downsample
        out += [X.reshape(len(X), -1), labels]
    side = splits["train"][0].shape[1] // downsample
    n_classes = len(classes) if classes is not None else max(labels_present) + 1
    return Task(f"mnist{side if downsample > 1 else ''}{_suffix(classes)}", out[0], out[1], out[2],
                out[3], n_classes=n_classes,
                description=f"MNIST {side}x{side}, threshold {threshold}"
                            + (f", classes {classes}" if classes else "") + f", from {files['train_images'].parent}")
