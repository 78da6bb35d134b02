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
from ..tasks.base import balanced_accuracy
from . import _kernels as K

__all__ = ["Prob", "Work", "genome_links", "build_problem", "load_rows", "make_work",
           "fitness_from_errs"]

Prob = namedtuple("Prob", [
    "n_in", "S", "norm", "n_classes", "turing", "clocked", "steps",
    "src", "dst", "rd_ptr", "rd_idx", "out_nodes", "out_ptr", "out_idx",
    "target", "tail", "masks", "counts", "weights", "labels", "cls_ptr", "cls_offsets", "cls_bits",
    "link_cone", "link_port", "cone_links", "frames", "reg", "init", "no_history",
])
Prob.__doc__ = "Read-only packed problem (see btype.search._kernels)."

Work = namedtuple("Work", [
    "bits", "xm", "om", "values", "errs", "saved_errs", "best_bits", "best_errs",
    "heap", "queued", "undo_gates", "undo_rows", "dirty", "nxt", "lreg",
    "offs", "off_n", "offs_bits", "rng", "state", "res", "act", "stack", "stale", "fresh",
    "ccnt", "csave", "cids", "cx",
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
        # scored rows: one per output, or with a balanced fitness two (its rows whose target
        # is 1, then those whose target is 0), each with its own error count and weight
        self.balanced = task.n_classes is None and task.balanced
        # the training inputs as 0/1 bytes (a view), which minibatch changes pack from
        self.x_bytes = task.X_train.view(np.uint8) if not task.is_clocked else None
        self.row_output = np.repeat(np.arange(net.n_outputs), 2 if self.balanced else 1)
        self.out_nodes = to_cone[net.outputs][self.row_output].astype(np.int64)
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
        # the class vote's plan (btype._vote_kernels): class c counts out_nodes[ptr[c]:ptr[c + 1]]
        n_classes = int(task.n_classes or 1)
        group = net.n_outputs // n_classes
        self.cls_ptr = group * np.arange(n_classes + 1, dtype=np.int64)
        self.cls_offsets = np.zeros(n_classes, np.int64)
        self.cls_bits = max(1, int(group).bit_length())


def _scoring(st: Structure, Y, S, W):
    """(target, masks, counts, weights) of the scored rows of a Boolean task on targets ``Y``:
    row ``r`` counts the wrong bits of output ``st.row_output[r]`` among the samples of
    ``masks[r]`` (``counts[r]`` of them) with weight ``weights[r]``."""
    n = len(st.row_output)
    if st.task.n_classes is not None or n == 0:
        return np.zeros((0, W), np.uint64), np.zeros((0, W), np.uint64), np.zeros(0, np.int64), st.weights
    target = np.ascontiguousarray(pack(Y)[st.row_output])
    tail = tail_mask(S)
    if not st.balanced:
        masks = np.tile(tail, (n, 1))
        return target, masks, np.full(n, S, np.int64), st.weights
    masks = np.empty((n, W), np.uint64)
    masks[0::2] = target[0::2] & tail
    masks[1::2] = ~target[1::2] & tail
    counts = np.bitwise_count(masks).sum(axis=1).astype(np.int64)
    ones, zeros = counts[0::2], counts[1::2]
    # each output's weight shared by the target values it has rows of, in equal parts per row
    present = (ones > 0).astype(np.int64) + (zeros > 0)
    w = st.weights / np.maximum(present, 1)
    weights = np.empty(n, np.float64)
    weights[0::2] = np.where(ones > 0, w / np.maximum(ones, 1), 0.0)
    weights[1::2] = np.where(zeros > 0, w / np.maximum(zeros, 1), 0.0)
    return target, masks, counts, weights


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
    target, masks, counts, weights = _scoring(st, Y, S, W)
    if task.n_classes is None:
        labels = np.zeros(0, np.int64)
        norm = float(st.weights.sum()) if st.balanced else float(S * st.weights.sum())
    else:
        labels = np.ascontiguousarray(Y, dtype=np.int64)
        norm = float(S)
    prob = Prob(
        n_in=n_in, S=S, norm=max(norm, 1.0), n_classes=int(task.n_classes or 0),
        turing=net.link == "turing", clocked=task.is_clocked, steps=int(task.steps or 0),
        src=st.src, dst=st.dst, rd_ptr=st.rd_ptr, rd_idx=st.rd_idx, out_nodes=st.out_nodes,
        out_ptr=st.out_ptr, out_idx=st.out_idx, target=target,
        tail=tail_mask(S), masks=masks, counts=counts, weights=weights, labels=labels, cls_ptr=st.cls_ptr,
        cls_offsets=st.cls_offsets, cls_bits=st.cls_bits,
        link_cone=st.link_cone, link_port=st.link_port, cone_links=st.cone_links,
        frames=np.ascontiguousarray(frames), reg=st.reg,
        init=np.zeros((st.C, W) if task.is_clocked else (0, W), np.uint64),
        no_history=np.zeros((0, 0, 0), np.uint64))
    return prob, inputs


def load_rows(st: Structure, prob, wk, rows) -> None:
    """Put the training rows ``rows`` (as many as the problem was built with) in place of the
    current ones: packed inputs into ``wk.values``, targets or labels into ``prob``, packed
    straight from the task's arrays. Node values above the inputs are stale until the caller
    evaluates the cone again."""
    task, n_in = st.task, st.net.n_inputs
    if len(rows) != prob.S:
        raise ValueError(f"{len(rows)} rows given, the problem holds {prob.S}")
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    if task.is_clocked:
        X = task.X_train[rows]
        for t in range(X.shape[1]):
            if n_in:
                prob.frames[t] = pack(X[:, t])
    elif n_in:
        K.pack_rows(st.x_bytes, rows, wk.values[:n_in])
    if task.n_classes is None and st.balanced:
        target, masks, counts, weights = _scoring(st, task.Y_train[rows], prob.S, prob.tail.shape[0])
        prob.target[:], prob.masks[:], prob.counts[:], prob.weights[:] = target, masks, counts, weights
    elif task.n_classes is None:    # one scored row per output, in order; masks and counts stay
        if len(st.row_output):
            K.pack_rows(task.Y_train.view(np.uint8), rows, prob.target)
    else:
        prob.labels[:] = task.Y_train[rows]


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
    # class tasks: each class's vote count kept bit-sliced, so a candidate recounts only the
    # classes whose outputs it changed (and undo puts their counts back)
    n_cls = prob.n_classes
    planes = max(prob.cls_bits, 4) if n_cls else 0
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
        fresh=np.zeros(C if track_active else 0, np.int64),
        ccnt=np.zeros((n_cls, planes, W), np.uint64), csave=np.zeros((n_cls, planes, W), np.uint64),
        cids=np.zeros(n_cls + 1, np.int64), cx=np.zeros(W, np.uint64))
    K.load_genome(prob, wk, bits.copy())
    return wk


def fitness_from_errs(task: Task, prob, errs) -> float:
    """Exact fitness from the scored rows' error counts, computed as ``Task.score_outputs`` does."""
    S = prob.S
    if S == 0:
        return 1.0
    if task.n_classes is not None:
        return float(np.float64(S - int(errs[0])) / S)
    errs = np.asarray(errs, np.int64)
    if task.balanced:
        ones, zeros = prob.counts[0::2], prob.counts[1::2]
        per_output = balanced_accuracy(ones - errs[0::2], ones, zeros - errs[1::2], zeros)
    else:
        per_output = (S - errs).astype(np.float64) / S
    if task.output_weights is None:
        return float(per_output.mean())
    w = np.asarray(task.output_weights, float)
    return float((per_output * w).sum() / w.sum())
