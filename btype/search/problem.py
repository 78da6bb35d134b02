"""The packed form of (machine, task) that the search kernels read.

A search only ever needs the *output cone*: the gates with a wired path to an
output. :func:`build_problem` renumbers those gates (keeping their order, so a
feed-forward cone stays topologically sorted), packs the samples and targets,
and maps every modifier bit of the genome to its cone gate and port (or -1
for a link outside the cone).
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..bits import n_words, pack, tail_mask
from ..plan import csr, link_masks, wired_cone
from ..tasks import Task
from . import _kernels as K

__all__ = ["Prob", "Work", "genome_links", "build_problem", "make_work",
           "fitness_from_errs"]

Prob = namedtuple("Prob", [
    "n_in", "S", "norm", "n_classes", "turing", "clocked", "steps",
    "src", "dst", "rd_ptr", "rd_idx", "out_nodes", "out_ptr", "out_idx",
    "target", "tail", "weights", "labels",
    "link_cone", "link_port", "cone_links", "frames", "reg", "init", "no_history",
])
Prob.__doc__ = "Read-only packed problem (see btype.search._kernels)."

Work = namedtuple("Work", [
    "bits", "xm", "om", "values", "errs", "saved_errs", "best_bits", "best_errs",
    "heap", "queued", "undo_gates", "undo_rows", "dirty", "nxt", "lreg",
    "offs", "off_n", "offs_bits", "rng", "state", "res", "act", "stack", "stale", "fresh",
])
Work.__doc__ = "Mutable search state and scratch (see btype.search._kernels)."


def genome_links(net) -> np.ndarray:
    """(M, 2) int64 (gate, port) of the modified links, in row-major order: genome index m."""
    return np.argwhere(net.modifiers).astype(np.int64)


class Structure:
    """Everything about (net, task) that does not depend on the samples."""

    def __init__(self, net, task: Task):
        self.net, self.task = net, task
        n_in = net.n_inputs
        self.links = genome_links(net)
        self.cone = wired_cone(net)
        cone_ids = np.flatnonzero(self.cone)
        self.C = len(cone_ids)
        to_cone = np.full(net.n_nodes, -1, np.int64)
        to_cone[:n_in] = np.arange(n_in)
        to_cone[n_in + cone_ids] = n_in + np.arange(self.C)
        self.src = np.ascontiguousarray(to_cone[net.wiring[cone_ids]]).reshape(self.C, 2)
        self.dst = np.arange(n_in, n_in + self.C, dtype=np.int64)
        self.rd_ptr, self.rd_idx = csr(n_in + self.C, self.src.ravel(), np.repeat(np.arange(self.C), 2))
        self.out_nodes = to_cone[net.outputs].astype(np.int64)
        self.out_ptr, self.out_idx = csr(n_in + self.C, self.out_nodes, np.arange(len(self.out_nodes)))
        gate_cone = to_cone[n_in:] - n_in
        self.link_cone = np.where(self.cone[self.links[:, 0]], gate_cone[self.links[:, 0]], -1) \
            if len(self.links) else np.zeros(0, np.int64)
        self.link_cone = self.link_cone.astype(np.int64)
        self.link_port = self.links[:, 1].astype(np.int64) if len(self.links) else np.zeros(0, np.int64)
        self.cone_links = np.flatnonzero(self.link_cone >= 0).astype(np.int64)
        xm, om, reg = link_masks(net)
        self.xm0 = np.ascontiguousarray(xm[cone_ids]).reshape(self.C, 2)
        self.om0 = np.ascontiguousarray(om[cone_ids]).reshape(self.C, 2)
        self.reg = np.ascontiguousarray(reg[cone_ids]).reshape(self.C, 2) if task.is_clocked \
            else np.zeros((self.C, 2), bool)
        self.bits0 = net.enabled[self.links[:, 0], self.links[:, 1]].astype(np.uint8) \
            if len(self.links) else np.zeros(0, np.uint8)
        if task.n_classes is None:
            w = np.ones(net.n_outputs) if task.output_weights is None else \
                np.asarray(task.output_weights, float)
            if w.shape != (net.n_outputs,) or (w < 0).any() or not w.sum() > 0:
                raise ValueError(f"task output_weights must be {net.n_outputs} non-negative numbers "
                                 f"with a positive sum, got {task.output_weights!r}")
            self.weights = np.ascontiguousarray(w, dtype=np.float64)
        else:
            self.weights = np.ones(net.n_outputs)


def build_problem(st: Structure, rows=None) -> tuple:
    """The packed problem on the training rows ``rows`` (None: all). Returns (prob, input words)."""
    task, net = st.task, st.net
    X, Y = task.X_train, task.Y_train
    if rows is not None:
        X, Y = X[rows], Y[rows]
    S = len(X)
    W = n_words(S)
    n_in = net.n_inputs
    if task.is_clocked:
        T = X.shape[1]
        frames = np.stack([pack(X[:, t]) if n_in else np.zeros((0, W), np.uint64) for t in range(T)])
        inputs = np.zeros((n_in, W), np.uint64)
    else:
        frames = np.zeros((0, n_in, W), np.uint64)
        inputs = pack(X) if n_in else np.zeros((0, W), np.uint64)
    if task.n_classes is None:
        target = pack(Y) if Y.shape[1] else np.zeros((0, W), np.uint64)
        labels = np.zeros(0, np.int64)
        norm = float(S * st.weights.sum())
    else:
        target = np.zeros((0, W), np.uint64)
        labels = np.ascontiguousarray(Y, dtype=np.int64)
        norm = float(S)
    prob = Prob(
        n_in=n_in, S=S, norm=max(norm, 1.0), n_classes=int(task.n_classes or 0),
        turing=net.link == "turing", clocked=task.is_clocked, steps=int(task.steps or 0),
        src=st.src, dst=st.dst, rd_ptr=st.rd_ptr, rd_idx=st.rd_idx, out_nodes=st.out_nodes,
        out_ptr=st.out_ptr, out_idx=st.out_idx, target=np.ascontiguousarray(target),
        tail=tail_mask(S), weights=st.weights, labels=labels,
        link_cone=st.link_cone, link_port=st.link_port, cone_links=st.cone_links,
        frames=np.ascontiguousarray(frames), reg=st.reg,
        init=np.zeros((st.C, W) if task.is_clocked else (0, W), np.uint64),
        no_history=np.zeros((0, 0, 0), np.uint64))
    return prob, inputs


def make_work(st: Structure, prob, inputs, bits, rng, state, lam=1, k_max=1, best_bits=None,
              best_errs=None, track_active=False) -> Work:
    """Fresh scratch around existing state arrays; node values are *not* evaluated yet.
    ``track_active``: keep the live reference counts ``act`` (else an empty array)."""
    C, n_in = st.C, st.net.n_inputs
    W = inputs.shape[1] if not prob.clocked else prob.tail.shape[0]
    n_out = max(1, len(st.out_nodes))
    values = np.zeros((n_in + C, W), np.uint64)
    values[:n_in] = inputs
    M = len(bits)
    wk = Work(
        bits=bits, xm=st.xm0.copy(), om=st.om0.copy(), values=values,
        errs=np.zeros(n_out, np.int64), saved_errs=np.zeros(n_out, np.int64),
        best_bits=bits.copy() if best_bits is None else best_bits,
        best_errs=np.zeros(n_out, np.int64) if best_errs is None else best_errs,
        heap=np.zeros(max(C, 1), np.int64), queued=np.zeros(max(C, 1), bool),
        undo_gates=np.zeros(max(C, 1), np.int64), undo_rows=np.zeros((max(C, 1), W), np.uint64),
        dirty=np.zeros(n_out, np.int64),
        nxt=np.zeros((C, W) if prob.clocked else (0, W), np.uint64),
        lreg=np.zeros((C, 2, W) if prob.clocked else (0, 2, W), np.uint64),
        offs=np.zeros((lam, max(M, k_max) + 1), np.int64), off_n=np.zeros(lam, np.int64),
        offs_bits=np.zeros(M, np.uint8), rng=rng, state=state, res=np.zeros(3, np.int64),
        act=np.zeros(n_in + C if track_active else 0, np.int64),
        stack=np.zeros(2 * C + 2 if track_active else 0, np.int64),
        stale=np.zeros(C if track_active else 0, np.uint8),
        fresh=np.zeros(C if track_active else 0, np.int64))
    K.load_genome(prob, wk, bits.copy())
    return wk


def fitness_from_errs(task: Task, S: int, errs, weights) -> float:
    """Exact fitness from error counts, computed as ``Task.score_outputs`` computes it."""
    if S == 0:
        return 1.0
    if task.n_classes is not None:
        return float(np.float64(S - int(errs[0])) / S)
    per_output = (S - np.asarray(errs, np.int64)).astype(np.float64) / S
    if task.output_weights is None:
        return float(per_output.mean())
    w = np.asarray(task.output_weights, float)
    return float((per_output * w).sum() / w.sum())
