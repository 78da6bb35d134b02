"""MNIST and Fashion-MNIST from their IDX files: 28x28 grey images, 10 classes.

Nothing is downloaded. Fashion-MNIST comes with Debian's ``dataset-fashion-mnist``
package (``./install.sh data`` installs it) in :data:`FASHION_DIR`; MNIST is read
from a directory the user names. Both take the same options: downsampling by
block means, a threshold or thermometer code, a class subset, row limits and a
validation split.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .base import Task, check_int
from .data import check_classes, check_fraction, coding, encode, hold_out, select, with_classes
from .idx import read_idx

__all__ = ["mnist", "fashion", "MNIST_FILES", "FASHION_DIR", "FASHION_CLASSES"]

#: The four standard file names (each may also be present with ``.gz``).
MNIST_FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
               "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
#: Where Debian's dataset-fashion-mnist package installs the files.
FASHION_DIR = "/usr/share/datasets/fashion-mnist"
#: Fashion-MNIST's class names, by label.
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")

_EXPECTED = ", ".join(f"{n}[.gz]" for n in MNIST_FILES.values())
_MNIST_HINT = (f"btype downloads nothing: save the four MNIST files ({_EXPECTED}, e.g. from the MNIST "
               "database's page or a torchvision download folder) in one folder and pass directory= "
               "or set BTYPE_MNIST_DIR to it")
_FASHION_HINT = ("install Fashion-MNIST with 'sudo apt-get install dataset-fashion-mnist' (or "
                 "'./install.sh data'), or pass directory= / set BTYPE_FASHION_DIR to a folder with "
                 f"{_EXPECTED}")


def _find_files(directory, hint):
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"directory {str(directory)!r} does not exist; {hint}")
    found, missing = {}, []
    for key, base in MNIST_FILES.items():
        for candidate in (directory / base, directory / (base + ".gz")):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            missing.append(base)
    if missing:
        raise FileNotFoundError(f"{directory}: missing {', '.join(missing)} (plain or .gz); {hint}")
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


def _read_split(files, split):
    """(images uint8 (N, H, W), labels int64 (N,)) of one split, both checked."""
    images_path, labels_path = files[f"{split}_images"], files[f"{split}_labels"]
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"{images_path}: images must be (N, H, W) unsigned bytes (IDX type 0x08), "
                         f"got {images.dtype} of shape {images.shape}")
    if not np.issubdtype(labels.dtype, np.integer) or labels.ndim != 1:
        raise ValueError(f"{labels_path}: labels must be (N,) integers, got {labels.dtype} of "
                         f"shape {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{labels_path}: {len(labels)} labels for the {len(images)} images of "
                         f"{images_path}")
    if labels.size and labels.min() < 0:
        row = int(np.argmax(labels < 0))
        raise ValueError(f"{labels_path}: negative label {labels[row]} at row {row}")
    return images, labels.astype(np.int64)


def _check_labels(files, splits):
    """n_classes: the training labels must be exactly 0..K-1, the test labels within them."""
    present = np.unique(splits["train"][1])
    n_classes = int(present[-1]) + 1 if present.size else 0
    if n_classes < 2 or present.size != n_classes:
        missing = _first_gaps(present, 6)
        shown = ", ".join(map(str, missing[:5])) + (", ..." if len(missing) > 5 else "")
        raise ValueError(f"{files['train_labels']}: labels must be 0..K-1 with every class present "
                         f"(K >= 2); found {present.size} distinct labels up to {n_classes - 1}"
                         + (f", missing {shown}" if missing else ""))
    test = splits["test"][1]
    if test.size and test.max() >= n_classes:
        row = int(np.argmax(test >= n_classes))
        raise ValueError(f"{files['test_labels']}: label {test[row]} at row {row} is not one of "
                         f"the training classes 0..{n_classes - 1}")
    return n_classes


def _first_gaps(present, count):
    """The first ``count`` non-negative integers missing from the sorted array ``present``."""
    gaps, expected = [], 0
    for value in present.tolist():
        while expected < value and len(gaps) < count:
            gaps.append(expected)
            expected += 1
        if len(gaps) == count:
            break
        expected = value + 1
    return gaps


def _image_task(base, files, *, default_downsample, downsample, side, threshold, levels, classes,
                limit, valid, seed):
    """The shared body of :func:`mnist` and :func:`fashion`.

    The task's name carries the image side when it is not the default one.
    """
    if side is not None:
        side = check_int(side, "side", 1, 28)
        if downsample is not None or 28 % side:
            raise ValueError(f"side must divide 28 (28, 14, 7, 4, 2, 1) and not come with "
                             f"downsample=, got side={side}, downsample={downsample}")
        downsample = 28 // side
    if downsample is None:
        downsample = default_downsample
    downsample = check_int(downsample, "downsample", 1, 28)
    cuts, code_name, code_text = coding(threshold, levels, 255, 128)
    if limit is None or isinstance(limit, (int, np.integer)):
        limits = (limit, limit)
    else:
        limits = tuple(limit)
        if len(limits) != 2:
            raise ValueError(f"limit must be an int or a (train, test) pair, got {limit!r}")
    limits = tuple(None if n is None else check_int(n, "limit", 1, 2**40) for n in limits)
    valid = check_fraction(valid, "valid")
    seed = check_int(seed, "seed", 0, 2**32 - 1)
    splits = {split: _read_split(files, split) for split in ("train", "test")}
    n_classes = _check_labels(files, splits)
    classes = check_classes(classes, range(n_classes))
    out = []
    for (images, labels), n in zip(splits.values(), limits):
        images, labels = select(images, labels, classes)
        if n is not None:
            images, labels = images[:n], labels[:n]
        # Block sums compared with cut * block size: the code of the block mean, without floats.
        pooled = _pool(images, downsample).reshape(len(images), -1)
        out += [encode(pooled, cuts * downsample * downsample), labels]
    X_train, y_train, X_valid, y_valid = hold_out(out[0], out[1], valid, seed)
    H = splits["train"][0].shape[1] // downsample
    name = with_classes(f"{base}{H if downsample != default_downsample else ''}{code_name}", classes)
    return Task(name, X_train, y_train, out[2], out[3],
                n_classes=len(classes) if classes is not None else n_classes,
                description=f"{base} {H}x{H}, {code_text}" + (f", classes {classes}" if classes else "")
                            + f", from {files['train_images'].parent}",
                X_valid=X_valid, Y_valid=y_valid)


_OPTIONS_DOC = """
    downsample : int, optional
        Average ``downsample x downsample`` blocks first: 2 gives 14x14 images.
        Default 1 (28x28) for MNIST, 2 (14x14) for Fashion-MNIST.
    side : int, optional
        The image side instead (28 // downsample); what a name like ``mnist14``
        or ``fashion28`` sets. Names leave out the default side.
    threshold : int, optional
        A (pooled) pixel is 1 when its mean grey value is ``>= threshold`` (1..255, default 128).
    levels : int, optional
        Thermometer code instead: ``levels`` bits per pixel, bit ``j`` is 1 when the mean grey
        value is ``>= 255 (j + 1) / (levels + 1)``; pixel-major columns ``levels * p + j``.
    classes : sequence of int, optional
        Keep only these labels (e.g. ``(3, 7)``); label ``classes[i]`` becomes ``i``.
    limit : int or (int, int), optional
        Keep at most this many train (and test) rows, the first ones in file
        order after class selection; a pair limits train and test separately.
    valid : float
        Share of the training rows held out as ``X_valid``/``Y_valid`` (stratified by
        class, chosen by ``seed``); 0 for none.
    seed : int
        Seed of the validation split.

    Returns
    -------
    Task
        Classification task with ``(28 / downsample)**2 * levels`` inputs.

    Raises
    ------
    FileNotFoundError saying how to get the files when they are missing; ValueError
    naming the file for a malformed one (images must be bytes, labels integers 0..K-1).
"""


def mnist(directory: str | os.PathLike | None = None, *, downsample: int | None = None, side: int | None = None,
          threshold: int | None = None, levels: int | None = None, classes: Sequence[int] | None = None,
          limit: int | tuple[int, int] | None = None, valid: float = 0.0, seed: int = 0) -> Task:
    if directory is None:
        directory = os.environ.get("BTYPE_MNIST_DIR")
    if directory is None:
        raise ValueError(f"mnist needs directory= (or the BTYPE_MNIST_DIR environment variable); "
                         f"{_MNIST_HINT}")
    return _image_task("mnist", _find_files(directory, _MNIST_HINT), default_downsample=1,
                       downsample=downsample, side=side,
                       threshold=threshold, levels=levels, classes=classes, limit=limit, valid=valid,
                       seed=seed)


mnist.__doc__ = """MNIST (or any data set in its IDX layout) from the four files in ``directory``.

    Parameters
    ----------
    directory : path, optional
        Folder with ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each plain or
        ``.gz``). Default: the ``BTYPE_MNIST_DIR`` environment variable.""" + _OPTIONS_DOC


def fashion(directory: str | os.PathLike | None = None, *, downsample: int | None = None, side: int | None = None,
            threshold: int | None = None, levels: int | None = None, classes: Sequence[int] | None = None,
            limit: int | tuple[int, int] | None = None, valid: float = 0.0,
            seed: int = 0) -> Task:
    if directory is None:
        directory = os.environ.get("BTYPE_FASHION_DIR", FASHION_DIR)
    return _image_task("fashion", _find_files(directory, _FASHION_HINT), default_downsample=2,
                       downsample=downsample,
                       side=side, threshold=threshold, levels=levels, classes=classes, limit=limit,
                       valid=valid, seed=seed)


fashion.__doc__ = """Fashion-MNIST (Zalando's 60,000 + 10,000 clothing images, classes
    :data:`FASHION_CLASSES`), binarised; by default 14x14 at threshold 128 (196 inputs).

    Parameters
    ----------
    directory : path, optional
        Folder with the four IDX files. Default: ``BTYPE_FASHION_DIR``, else
        :data:`FASHION_DIR` (Debian's ``dataset-fashion-mnist``).""" + _OPTIONS_DOC
