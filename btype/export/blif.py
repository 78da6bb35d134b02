"""A small BLIF reader and evaluator, to check written files independently.

It understands the subset that logic-synthesis tools exchange for gate-level
netlists: ``.model``, ``.inputs``, ``.outputs``, ``.names`` with single-output
covers (``0``, ``1``, ``-``; on-set or off-set rows), ``.latch`` with an initial
value, ``.end``, ``#`` comments and ``\\`` line continuations. It knows nothing
about btype's gates: it evaluates whatever covers the file holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["read_blif", "BlifModel"]


@dataclass
class BlifModel:
    """A parsed BLIF model.

    Attributes
    ----------
    name : str
    inputs, outputs : list of str
        As declared. ``data_inputs`` leaves out latch clocks.
    covers : dict
        Signal -> (input signals, rows, value): ``rows`` are strings over
        ``01-``; the signal is ``value`` (1 or 0) where some row matches.
    latches : dict
        Latch output -> (input signal, control signal or None, init 0/1).
    """

    name: str = ""
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    covers: dict = field(default_factory=dict)
    latches: dict = field(default_factory=dict)

    @property
    def data_inputs(self) -> list[str]:
        clocks = {c for _, c, _ in self.latches.values() if c is not None}
        return [s for s in self.inputs if s not in clocks]

    # -- evaluation -------------------------------------------------------------
    def _settle(self, values, n):
        """Evaluate every cover given ``values`` (signal -> (n,) bool), in dependency order."""
        done = dict(values)
        visiting = set()

        def value(sig):
            if sig in done:
                return done[sig]
            if sig not in self.covers:
                raise ValueError(f"BLIF signal {sig!r} is used but never defined")
            if sig in visiting:
                raise ValueError(f"BLIF signal {sig!r} is on a combinational loop")
            visiting.add(sig)
            ins, rows, val = self.covers[sig]
            args = [value(s) for s in ins]
            hit = np.zeros(n, bool)
            for row in rows:
                match = np.ones(n, bool)
                for ch, a in zip(row, args):
                    if ch == "1":
                        match &= a
                    elif ch == "0":
                        match &= ~a
                hit |= match
            visiting.discard(sig)
            done[sig] = hit if val == 1 else ~hit
            return done[sig]

        for sig in list(self.covers) + list(self.outputs):
            value(sig)
        for d, _, _ in self.latches.values():
            value(d)
        return done

    def _input_values(self, X):
        names = self.data_inputs
        X = np.asarray(X, bool)
        if X.ndim != 2 or X.shape[1] != len(names):
            raise ValueError(f"X must have shape (S, {len(names)}), got {X.shape}")
        return {s: X[:, i] for i, s in enumerate(names)}

    def evaluate(self, X: ArrayLike) -> np.ndarray:
        """Outputs of a combinational model for every row of ``X`` (S, n_data_inputs)."""
        if self.latches:
            raise ValueError("evaluate() is for combinational models; this one has latches, "
                             "use run()")
        X = np.asarray(X, bool)
        vals = self._settle(self._input_values(X), X.shape[0])
        return np.stack([vals[s] for s in self.outputs], axis=1) if self.outputs \
            else np.zeros((X.shape[0], 0), bool)

    def run(self, X: ArrayLike, steps: int) -> np.ndarray:
        """Outputs after ``steps`` clock edges; latches start at their init values.

        ``X`` is (S, n) held fixed, or (S, T, n) with frame ``t`` applied before
        edge ``t + 1`` and zeros from ``T`` on (the btype.run convention).
        """
        X = np.asarray(X, bool)
        if X.ndim == 2:
            X = X[:, None, :]
            hold = True
        elif X.ndim == 3:
            hold = False
        else:
            raise ValueError(f"X must be 2- or 3-dimensional, got shape {X.shape}")
        S, T, _ = X.shape
        state = {q: np.full(S, bool(init)) for q, (_, _, init) in self.latches.items()}

        def frame(t):
            if hold or t < T:
                return X[:, 0 if hold else t, :]
            return np.zeros((S, X.shape[2]), bool)

        for t in range(steps):
            vals = self._settle({**self._input_values(frame(t)), **state}, S)
            state = {q: vals[d].copy() for q, (d, _, _) in self.latches.items()}
        vals = self._settle({**self._input_values(frame(steps)), **state}, S)
        return np.stack([vals[s] for s in self.outputs], axis=1) if self.outputs \
            else np.zeros((S, 0), bool)


def _logical_lines(text):
    pending = ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            yield line


def read_blif(text: str) -> BlifModel:
    """Parse BLIF text (the first model) into a :class:`BlifModel`.

    Raises ``ValueError`` naming the offending line for anything outside the
    supported subset.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    model = BlifModel()
    current = None  # signal whose cover rows are being read
    for line in _logical_lines(text):
        words = line.split()
        if words[0].startswith("."):
            current = None
            key = words[0]
            if key == ".model":
                model.name = words[1] if len(words) > 1 else ""
            elif key == ".inputs":
                model.inputs.extend(words[1:])
            elif key == ".outputs":
                model.outputs.extend(words[1:])
            elif key == ".names":
                if len(words) < 2:
                    raise ValueError(f"BLIF line {line!r}: .names needs an output")
                current = words[-1]
                model.covers[current] = (words[1:-1], [], 1)
            elif key == ".latch":
                if len(words) not in (3, 4, 5, 6):
                    raise ValueError(f"BLIF line {line!r}: cannot read this .latch")
                control = words[4] if len(words) >= 5 else None
                init = int(words[-1]) if len(words) in (4, 6) else 0
                if init not in (0, 1):
                    raise ValueError(f"BLIF line {line!r}: only init values 0 and 1 are supported")
                model.latches[words[2]] = (words[1], control, init)
            elif key == ".end":
                break
            else:
                raise ValueError(f"BLIF line {line!r}: unsupported directive {key}")
            continue
        if current is None:
            raise ValueError(f"BLIF line {line!r}: cover row outside a .names block")
        ins, rows, _ = model.covers[current]
        if ins:
            if len(words) != 2 or len(words[0]) != len(ins) or set(words[0]) - set("01-"):
                raise ValueError(f"BLIF line {line!r}: bad cover row for {current}")
            row, val = words
        else:
            if len(words) != 1:
                raise ValueError(f"BLIF line {line!r}: bad constant row for {current}")
            row, val = "", words[0]
        if val not in ("0", "1") or (rows and int(val) != model.covers[current][2]):
            raise ValueError(f"BLIF line {line!r}: mixed or bad output value")
        rows.append(row)
        model.covers[current] = (ins, rows, int(val))
    return model
