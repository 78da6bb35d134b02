"""The Task type and the scoring that every trainer shares (docs/design.md section 3)."""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from .._checks import check_bool
from .._checks import check_int as _check_int

if TYPE_CHECKING:
    from ..network import Network

__all__ = ["Task", "Score", "classify", "balanced_accuracy"]


def check_int(value: object, name: str, lo: int, hi: int) -> int:
    """``value`` as an int in ``lo..hi``; TypeError/ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be in {lo}..{hi}, got {value}")
    return value


#: Largest class count of a classification task.
MAX_CLASSES = 1 << 20
#: Largest clock step at which a clocked task reads its outputs.
MAX_STEPS = 1 << 20


def _bool_array(X, name, ndim):
    """A boolean array of ``ndim`` dimensions from bools or 0/1 integers."""
    X = np.asarray(X)
    if X.dtype != bool and not np.issubdtype(X.dtype, np.integer):
        raise TypeError(f"{name} must be bool (or 0/1 integers), got dtype {X.dtype}; real-valued "
                        "features need a binariser (btype.tasks.Binarizer, or "
                        "btype.tasks.from_arrays(..., binarize=...))")
    if X.dtype != bool and X.size and not np.isin(X, (0, 1)).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isin(X, (0, 1)))[0])
        raise ValueError(f"{name} must hold only 0 and 1, got {X[bad]} at index {bad}")
    X = X.astype(bool, copy=False)
    if X.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {X.shape}")
    return X


def classify(Y: ArrayLike, n_classes: int) -> np.ndarray:
    """Class predictions from machine outputs by group popcount.

    The ``n_out`` outputs are split into ``n_classes`` equal consecutive groups;
    a class's score is the number of ones in its group and the prediction is the
    highest score (ties go to the lowest class index).

    Parameters
    ----------
    Y : (S, n_out) bool
    n_classes : int

    Returns
    -------
    (S,) int64 labels
    """
    Y = np.asarray(Y, dtype=bool)
    if Y.ndim != 2:
        raise ValueError(f"Y must be 2-dimensional (samples, outputs), got shape {Y.shape}")
    S, n_out = Y.shape
    if n_classes < 1 or n_out % n_classes:
        raise ValueError(f"{n_out} outputs cannot be split into {n_classes} equal class groups")
    scores = Y.reshape(S, n_classes, n_out // n_classes).sum(axis=2)
    return np.argmax(scores, axis=1).astype(np.int64)


def balanced_accuracy(right1: ArrayLike, n1: ArrayLike, right0: ArrayLike, n0: ArrayLike) -> np.ndarray:
    """Per-output balanced accuracy from counts: the mean of the accuracy on the rows whose
    target is 1 (``right1`` of ``n1``) and on those whose target is 0 (``right0`` of ``n0``);
    a target value without rows is left out of the mean (all-empty: 1)."""
    n1, n0 = np.asarray(n1, np.int64), np.asarray(n0, np.int64)
    acc1 = np.asarray(right1, np.float64) / np.maximum(n1, 1)
    acc0 = np.asarray(right0, np.float64) / np.maximum(n0, 1)
    both = (acc1 + acc0) / 2.0
    return np.where((n1 > 0) & (n0 > 0), both, np.where(n1 > 0, acc1, np.where(n0 > 0, acc0, 1.0)))


@dataclass(frozen=True)
class Score:
    """How well a machine's outputs meet a task on one split.

    ``fitness`` is per-output bit accuracy for Boolean tasks (optionally weighted
    per output) and classification accuracy for classification tasks; it is the
    number trainers maximise and records report. ``solved`` means every row is
    exactly right.
    """

    fitness: float
    solved: bool


@dataclass(eq=False)
class Task:
    """A learning task: train and test inputs and targets.

    Attributes
    ----------
    name : str
    X_train, X_test : bool arrays
        (S, n_inputs) for combinational tasks; (S, T, n_inputs) sequences for
        clocked tasks (frame ``t`` is presented at clock step ``t``).
    Y_train, Y_test :
        (S, n_outputs) bool for Boolean tasks, (S,) int labels for
        classification tasks.
    n_classes : int or None
        Number of classes, or None for Boolean tasks.
    description : str
    steps : int or None
        For clocked tasks, the clock step at which outputs are read
        (``btype.run(net, X, steps=task.steps)``); None for combinational tasks.
    output_weights : (n_outputs,) float or None
        Optional weights of the outputs in the fitness of a Boolean task.
    X_valid, Y_valid : arrays or None
        An optional validation split (e.g. from a PLA ``valid`` file).
    balanced : bool
        Boolean tasks: score each output by its balanced accuracy (the mean of
        its accuracies on the rows whose target is 1 and on those whose target
        is 0; see :func:`balanced_accuracy`) instead of its bit accuracy, so a
        constant output scores 1/2 however imbalanced the split. For imbalanced
        single-output tasks, where the majority answer is a deep local optimum.
    classes : tuple or None
        Classification tasks: the original label of each class, by index (label
        ``k`` of the targets is ``classes[k]``); None when the labels are the classes.
    """

    name: str
    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    n_classes: int | None = None
    description: str = ""
    steps: int | None = None
    output_weights: np.ndarray | None = None
    X_valid: np.ndarray | None = None
    Y_valid: np.ndarray | None = None
    balanced: bool = False
    classes: tuple | None = None
    # packed inputs of each split, made on first scoring (classification tasks)
    _packed: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.n_classes is not None:
            self.n_classes = _check_int(self.n_classes, "Task n_classes", 1, MAX_CLASSES)
        if self.steps is not None:
            self.steps = _check_int(self.steps, "Task steps", 1, MAX_STEPS)
        want_ndim = 2 if self.steps is None else 3
        if (self.X_valid is None) != (self.Y_valid is None):
            raise ValueError("Task X_valid and Y_valid must be given together (got "
                             f"{'X_valid without Y_valid' if self.Y_valid is None else 'Y_valid without X_valid'})")
        splits = [("X_train", "Y_train"), ("X_test", "Y_test")]
        if self.X_valid is not None:
            splits.append(("X_valid", "Y_valid"))
        for xs, ys in splits:
            setattr(self, xs, _bool_array(getattr(self, xs), f"Task {xs}", want_ndim))
            setattr(self, ys, self._targets(getattr(self, ys), ys))
            X, Y = getattr(self, xs), getattr(self, ys)
            if len(X) != len(Y):
                raise ValueError(f"Task {xs} has {len(X)} rows but {ys} has {len(Y)}")
            if X.shape[1:] != self.X_train.shape[1:] and xs != "X_train":
                what = "input count" if X.shape[-1] != self.X_train.shape[-1] else "frame count"
                raise ValueError(f"Task {xs} has shape {X.shape}, X_train {self.X_train.shape}: "
                                 f"a different {what}")
            if self.n_classes is None and Y.shape[1] != self.Y_train.shape[1]:
                raise ValueError(f"Task {ys} has {Y.shape[1]} outputs but Y_train has "
                                 f"{self.Y_train.shape[1]}")
        self.balanced = check_bool(self.balanced, "Task balanced")
        if self.balanced and self.n_classes is not None:
            raise ValueError("Task balanced=True is for Boolean tasks (n_classes None); a "
                             "classification task scores by accuracy")
        if self.output_weights is not None:
            self.output_weights = self._weights(self.output_weights)
        if self.classes is not None:
            self.classes = tuple(self.classes)
            if self.n_classes is None or len(self.classes) != self.n_classes:
                raise ValueError(f"Task classes must name the {self.n_classes} classes of a classification "
                                 f"task, got {len(self.classes)}: {self.classes[:10]!r}")

    def _targets(self, Y, name):
        """Targets as stored: (S, n_outputs) bool (0/1 integers converted) or (S,) int64 labels in 0..K-1."""
        Y = np.asarray(Y)
        if self.n_classes is None:
            if Y.ndim != 2 or not (Y.dtype == bool or np.issubdtype(Y.dtype, np.integer)):
                raise TypeError(f"Task {name} must be (S, n_outputs) bool for a Boolean task, "
                                f"got {Y.dtype} of shape {Y.shape}")
            return _bool_array(Y, f"Task {name}", 2)
        if Y.ndim != 1 or not np.issubdtype(Y.dtype, np.integer) or Y.dtype == bool:
            raise TypeError(f"Task {name} must be (S,) integer labels for a classification task, "
                            f"got {Y.dtype} of shape {Y.shape}")
        if Y.size and (Y.min() < 0 or Y.max() >= self.n_classes):
            row = int(np.argmax((Y < 0) | (Y >= self.n_classes)))
            raise ValueError(f"Task {name} has label {Y[row]} at row {row}; labels must be in "
                             f"0..{self.n_classes - 1} (n_classes={self.n_classes})")
        return Y

    def _weights(self, weights):
        """``output_weights`` checked: one finite, non-negative weight per output, not all zero."""
        if self.n_classes is not None:
            raise ValueError("Task output_weights are for Boolean tasks (n_classes None)")
        w = np.asarray(weights)
        if w.dtype == bool or not (np.issubdtype(w.dtype, np.integer) or np.issubdtype(w.dtype, np.floating)):
            raise TypeError(f"Task output_weights must be numbers, got {w.dtype}")
        w = w.astype(np.float64)
        if w.shape != (self.n_outputs,):
            raise ValueError(f"Task output_weights must have shape ({self.n_outputs},), one weight "
                             f"per output, got shape {w.shape}")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError(f"Task output_weights must be finite and >= 0, got {w.tolist()}")
        if not w.any():
            raise ValueError("Task output_weights must not all be zero")
        return w

    @property
    def n_inputs(self) -> int:
        return self.X_train.shape[-1]

    @property
    def n_outputs(self) -> int | None:
        """Output count of a Boolean task; None for classification (any multiple of n_classes)."""
        return None if self.n_classes is not None else self.Y_train.shape[1]

    @property
    def is_clocked(self) -> bool:
        return self.steps is not None

    def split(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """(X, Y) of ``"train"`` or ``"test"``."""
        if split == "train":
            return self.X_train, self.Y_train
        if split == "test":
            return self.X_test, self.Y_test
        if split == "valid" and self.X_valid is not None:
            return self.X_valid, self.Y_valid
        valid = ", 'valid'" if self.X_valid is not None else ""
        raise ValueError(f"split must be 'train', 'test'{valid}, got {split!r}")

    def check_network(self, net: Network) -> None:
        """Raise ValueError when ``net`` cannot be scored on this task."""
        if net.n_inputs != self.n_inputs:
            raise ValueError(f"network has {net.n_inputs} inputs but task {self.name!r} has {self.n_inputs}")
        if self.n_classes is None:
            if net.n_outputs != self.n_outputs:
                raise ValueError(f"network has {net.n_outputs} outputs but task {self.name!r} "
                                 f"needs {self.n_outputs}")
        elif net.n_outputs == 0 or net.n_outputs % self.n_classes:
            raise ValueError(f"network has {net.n_outputs} outputs; task {self.name!r} needs a "
                             f"multiple of its {self.n_classes} classes")
        if self.steps is None and not net.is_feedforward:
            raise ValueError(f"task {self.name!r} is combinational but the network has loops; "
                             "use a feed-forward network")

    def outputs(self, net: Network, split: str = "train") -> np.ndarray:
        """The machine's (S, n_outputs) bool outputs on a split, by the btype simulator."""
        from ..simulate import evaluate, run

        self.check_network(net)
        X, _ = self.split(split)
        if self.steps is None:
            return evaluate(net, X)
        return run(net, X, steps=self.steps)

    def score_outputs(self, Y: ArrayLike, split: str = "train") -> Score:
        """Score machine outputs ``Y`` (S, n_outputs) bool against a split's targets."""
        _, target = self.split(split)
        Y = np.asarray(Y, dtype=bool)
        if len(Y) != len(target):
            raise ValueError(f"Y has {len(Y)} rows, the {split} split has {len(target)}")
        if len(Y) == 0:
            return Score(1.0, True)
        if self.n_classes is not None:
            correct = classify(Y, self.n_classes) == target
            return Score(float(correct.mean()), bool(correct.all()))
        if Y.shape != target.shape:
            raise ValueError(f"Y has shape {Y.shape}, targets have {target.shape}")
        right = Y == target
        if self.balanced:
            per_output = balanced_accuracy((right & target).sum(0), target.sum(0),
                                           (right & ~target).sum(0), (~target).sum(0))
        else:
            per_output = right.mean(axis=0)
        if self.output_weights is None:
            fitness = float(per_output.mean())
        else:
            w = np.asarray(self.output_weights, float)
            fitness = float((per_output * w).sum() / w.sum())
        return Score(fitness, bool(right.all()))

    def score(self, net: Network, split: str = "train") -> Score:
        """Simulate ``net`` on a split and score it.

        Combinational classification tasks are scored by the packed group vote
        (``btype.count_correct``): no output is unpacked, and the split's inputs
        are packed once per task.
        """
        if self.n_classes is None or self.steps is not None:
            return self.score_outputs(self.outputs(net, split), split)
        from ..bits import pack
        from ..vote import count_correct

        self.check_network(net)
        X, labels = self.split(split)
        if len(labels) == 0:
            return Score(1.0, True)
        if split not in self._packed:
            self._packed[split] = pack(X)
        right = count_correct(net, self._packed[split], labels, self.n_classes, prune=False)
        return Score(right / len(labels), right == len(labels))

    def as_classes(self, name: str | None = None) -> "Task":
        """This single-output Boolean task as a 2-class task: the output bit is the class.

        A machine for the 2-class task may have any even number of outputs: the
        first half votes for class 0, the second half for class 1, and the class
        with more ones wins (ties go to class 0; :func:`classify`). The vote is
        a readout, not gates: a machine "solves" the 2-class task when its vote
        is right on every row. Default name: this one's with ``-vote`` appended.
        """
        if self.n_classes is not None:
            raise ValueError(f"task {self.name!r} is a classification task already")
        if self.n_outputs != 1:
            raise ValueError(f"as_classes needs a single-output task; {self.name!r} has {self.n_outputs} outputs")
        labels = [None if Y is None else np.asarray(Y)[..., 0].astype(np.int64)
                  for Y in (self.Y_train, self.Y_test, self.Y_valid)]
        return Task(f"{self.name}-vote" if name is None else name, self.X_train, labels[0], self.X_test,
                    labels[1], n_classes=2, description=f"{self.description} (as 2 classes)",
                    steps=self.steps, X_valid=self.X_valid, Y_valid=labels[2])

    def __repr__(self):
        kind = f"{self.n_classes} classes" if self.n_classes else f"{self.n_outputs} outputs"
        clock = f", steps={self.steps}" if self.steps is not None else ""
        return (f"Task({self.name!r}, {self.n_inputs} inputs, {kind}, "
                f"{len(self.X_train)} train / {len(self.X_test)} test rows{clock})")
