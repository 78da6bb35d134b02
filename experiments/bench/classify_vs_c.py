"""``btype.classify`` against a compiled C program of the same trained classifier.

Trains a layered machine with ``sgd.train`` on Fashion-MNIST at 14 x 14 (196
inputs, task ``fashion``) and 28 x 28 (784 inputs, ``fashion28``), prunes it
(:func:`btype.export.prune`) and writes a C program of the pruned machine:
straight-line code over ``uint64_t`` words (64 samples per word, one statement
per gate, links folded into the statements) followed by the group vote on the
words (per class a bit-sliced counter fed sixteen outputs at a time through a
Harley-Seal tree of carry-save adders, then a bit-sliced argmax, ties to the
lowest class: the vote btype runs). The program is compiled with ``gcc -O3 -march=native`` (the
compile is timed), run on the packed test set on one thread, and its
predictions are checked against btype's. Printed beside it: ``btype.classify``
(from boolean rows, packing included) and ``btype.vote.classify_packed`` (from
packed words) on one thread, samples per second.

    python experiments/bench/classify_vs_c.py                 # trains 2 x 60 s, then times
    python experiments/bench/classify_vs_c.py --seconds 20 --gates 8000

The trained machines are kept in the temporary folder (per size and seconds) so
that a second run times without training again. Run times are CPU times (the
best of ``--repeats``), in the C program and here alike: on a shared machine
the wall time also counts the time other jobs held the core. The compile time
is wall time. The machine's load is printed beside the figures.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import numpy as np

import btype
from btype.export import prune
from btype.plan import link_masks
from btype.vote import classify_packed




# --------------------------------------------------------------------------- the C program

_C_HEAD = r"""#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N_INPUTS %(n_inputs)d
#define N_CLASSES %(n_classes)d
#define N_BITS %(n_bits)d
#define N_IDX %(n_idx)d
#define N_PLANES (N_BITS > 4 ? N_BITS : 4)

/* carry-save adder: a + b + c = 2 * carry + sum, bit by bit */
#define CSA(carry, sum, a, b, c) do { uint64_t u_ = (a) ^ (b); carry = ((a) & (b)) | (u_ & (c)); sum = u_ ^ (c); } while (0)

/* add the word x at weight 2**j to a bit-sliced counter of N_BITS planes */
static inline void add_at(uint64_t *planes, int j, uint64_t x) {
    for (; x && j < N_BITS; j++) {
        uint64_t carry = planes[j] & x;
        planes[j] ^= x;
        x = carry;
    }
}

/* add sixteen words (one bit per sample) to a counter: a Harley-Seal tree of carry-save
   adders into the planes of weight 1, 2, 4, 8 (15 adders), the carry of weight 16 rippled up */
static inline void add16(uint64_t *p, const uint64_t *r) {
    uint64_t o = p[0], t = p[1], f = p[2], e = p[3];   /* N_PLANES >= 4 */
    uint64_t ta, tb, fa, fb, ea, eb, s;
    CSA(ta, o, o, r[0], r[1]); CSA(tb, o, o, r[2], r[3]); CSA(fa, t, t, ta, tb);
    CSA(ta, o, o, r[4], r[5]); CSA(tb, o, o, r[6], r[7]); CSA(fb, t, t, ta, tb);
    CSA(ea, f, f, fa, fb);
    CSA(ta, o, o, r[8], r[9]); CSA(tb, o, o, r[10], r[11]); CSA(fa, t, t, ta, tb);
    CSA(ta, o, o, r[12], r[13]); CSA(tb, o, o, r[14], r[15]); CSA(fb, t, t, ta, tb);
    CSA(eb, f, f, fa, fb);
    CSA(s, e, e, ea, eb);
    p[0] = o; p[1] = t; p[2] = f; p[3] = e;
    add_at(p, 4, s);
}

/* where count c beats best (strictly), best becomes c and the class index bits become k */
static inline void keep_greater(const uint64_t *c, uint64_t *best, uint64_t *idx, int k) {
    uint64_t gt = 0, eq = ~(uint64_t)0;
    for (int j = N_BITS - 1; j >= 0; j--) {
        gt |= eq & c[j] & ~best[j];
        eq &= ~(c[j] ^ best[j]);
    }
    for (int j = 0; j < N_BITS; j++) best[j] = (c[j] & gt) | (best[j] & ~gt);
    for (int j = 0; j < N_IDX; j++) idx[j] = ((k >> j) & 1) ? (idx[j] | gt) : (idx[j] & ~gt);
}

static void classify_word(const uint64_t *in, size_t W, size_t w, int32_t *pred) {
    uint64_t cnt[N_CLASSES][N_PLANES] = {{0}};
"""

_C_TAIL = r"""
    uint64_t best[N_BITS], idx[N_IDX > 0 ? N_IDX : 1] = {0};
    for (int j = 0; j < N_BITS; j++) best[j] = cnt[0][j];
    for (int k = 1; k < N_CLASSES; k++) keep_greater(cnt[k], best, idx, k);
    for (int i = 0; i < 64; i++) {
        int32_t p = 0;
        for (int j = 0; j < N_IDX; j++) p |= (int32_t)((idx[j] >> i) & 1) << j;
        pred[64 * w + i] = p;
    }
}

/* usage: prog INPUTS.bin W REPEATS PRED.bin -- inputs are N_INPUTS rows of W words */
int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s inputs.bin W repeats pred.bin\n", argv[0]); return 2; }
    size_t W = strtoull(argv[2], 0, 10);
    int repeats = atoi(argv[3]);
    uint64_t *in = malloc(sizeof(uint64_t) * N_INPUTS * W + 8);
    int32_t *pred = malloc(sizeof(int32_t) * 64 * W);
    FILE *f = fopen(argv[1], "rb");
    if (!f || fread(in, sizeof(uint64_t), N_INPUTS * W, f) != N_INPUTS * W) { fprintf(stderr, "bad input\n"); return 1; }
    fclose(f);
    double best = 1e30;
    for (int r = 0; r < repeats; r++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
        for (size_t w = 0; w < W; w++) classify_word(in, W, w, pred);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
        double s = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
        if (s < best) best = s;
    }
    f = fopen(argv[4], "wb");
    fwrite(pred, sizeof(int32_t), 64 * W, f);
    fclose(f);
    printf("%.9f\n", best);
    return 0;
}
"""


def c_program(net, n_classes):
    """C source classifying with the pruned ``net`` (see the module docstring)."""
    pruned, _ = prune(net)
    xm, om, _ = link_masks(pruned)
    n_in = pruned.n_inputs
    group = pruned.n_outputs // n_classes
    n_bits = max(1, int(group).bit_length())
    n_idx = max(0, int(n_classes - 1).bit_length())
    lines = [_C_HEAD % dict(n_inputs=n_in, n_classes=n_classes, n_bits=n_bits, n_idx=n_idx)]
    used = np.zeros(pruned.n_nodes, bool)
    used[np.asarray(pruned.wiring).ravel()] = True
    used[np.asarray(pruned.outputs)] = True
    for i in range(n_in):
        if used[i]:
            lines.append(f"    uint64_t n{i} = in[(size_t){i} * W + w];")
    for g, (s0, s1) in enumerate(np.asarray(pruned.wiring)):
        terms = []
        for p, s in ((0, s0), (1, s1)):
            if om[g, p]:
                continue                      # an interrupted link delivers 1: drops out of the AND
            terms.append(f"~n{s}" if xm[g, p] else f"n{s}")
        body = " & ".join(terms) if terms else "~(uint64_t)0"
        lines.append(f"    uint64_t n{n_in + g} = ~({body});")
    outputs = np.asarray(pruned.outputs)
    for c in range(n_classes):
        rows = [f"n{o}" for o in outputs[c * group:(c + 1) * group]]
        for k in range(0, len(rows), 16):
            block = rows[k:k + 16] + ["0"] * (16 - len(rows[k:k + 16]))
            lines.append(f"    {{ const uint64_t r[16] = {{{', '.join(block)}}}; add16(cnt[{c}], r); }}")
    lines.append(_C_TAIL)
    return "\n".join(lines), pruned


def compile_c(source, folder):
    path = pathlib.Path(folder)
    (path / "net.c").write_text(source)
    t = time.perf_counter()
    subprocess.run(["gcc", "-O3", "-march=native", "-o", str(path / "net"), str(path / "net.c")], check=True)
    return path / "net", time.perf_counter() - t


def run_c(binary, P, folder, repeats):
    folder = pathlib.Path(folder)
    np.ascontiguousarray(P).tofile(folder / "inputs.bin")
    out = subprocess.run([str(binary), str(folder / "inputs.bin"), str(P.shape[1]), str(repeats),
                          str(folder / "pred.bin")], check=True, capture_output=True, text=True)
    return float(out.stdout), np.fromfile(folder / "pred.bin", np.int32)


# --------------------------------------------------------------------------- the classifier

def trained(task_name, gates, seconds, seed=0):
    """A machine trained by sgd on the task (kept in the temporary folder), and the task."""
    task = btype.tasks.get(task_name)
    path = pathlib.Path(tempfile.gettempdir()) / f"btype-classify-{task_name}-{gates}-{seconds}-{seed}.npz"
    if path.exists():
        return btype.Network.load(str(path)), task
    import sgd
    net = btype.random_network(task.n_inputs, gates, gates // 4, layers=4, seed=seed)
    print(f"# training {gates} gates on {task_name} for {seconds} s ...", flush=True)
    result = sgd.train(net, task, budget=btype.Budget(seconds=seconds), seed=seed, progress=False)
    result.network.save(str(path))
    return result.network, task


def best_time(f, repeats):
    """Fewest CPU seconds of ``f()`` (one thread: on a shared machine the wall time also counts
    the time other jobs held the core)."""
    best = float("inf")
    for _ in range(repeats):
        t = time.process_time()
        f()
        best = min(best, time.process_time() - t)
    return best


def main(argv=None):
    from experiments.cli import parser_for
    from experiments.sweep.host import cpu_name

    ap = parser_for("classify-vs-c", __doc__.splitlines()[0])
    ap.add_argument("--gates", type=int, default=32000, help="gates of the trained machine (4 layers)")
    ap.add_argument("--seconds", type=int, default=60, help="training time per task")
    ap.add_argument("--samples", type=int, default=1 << 17, help="samples timed (test rows, repeated)")
    ap.add_argument("--repeats", type=int, default=5, help="timed calls per figure (the best is shown)")
    ap.add_argument("--tasks", nargs="+", default=["fashion", "fashion28"], help="data tasks to train and time on (default: %(default)s)")
    args = ap.parse_args(argv)
    if shutil.which("gcc") is None:
        raise SystemExit("error: gcc is not on PATH")
    print(f"# {cpu_name()}; load {os.getloadavg()[0]:.2f}; one thread everywhere")
    print(f"{'task':>10} {'inputs':>6} {'gates':>6} {'pruned':>6} {'test acc':>8} {'gcc s':>6} "
          f"{'C M/s':>7} {'classify M/s':>12} {'packed M/s':>10} {'classify/C':>10} {'load':>5}")
    for name in args.tasks:
        net, task = trained(name, args.gates, args.seconds)
        X_test, y_test = task.split("test")
        reps = -(-args.samples // len(X_test))
        X = np.tile(np.asarray(X_test, bool), (reps, 1))[:args.samples]
        S = len(X)
        P = btype.pack(X)
        with tempfile.TemporaryDirectory() as tmp:
            source, pruned = c_program(net, task.n_classes)
            binary, compile_s = compile_c(source, tmp)
            c_s, c_pred = run_c(binary, P, tmp, args.repeats)
        ours = btype.classify(net, X, task.n_classes, threads=1)
        if not np.array_equal(c_pred[:S], ours):
            raise SystemExit(f"error: the C program's predictions differ from btype's on {name}")
        t_classify = best_time(lambda: btype.classify(net, X, task.n_classes, threads=1), args.repeats)
        t_packed = best_time(lambda: classify_packed(net, P, S, task.n_classes, threads=1), args.repeats)
        acc = float(np.mean(ours[:len(X_test)] == np.asarray(y_test)))
        print(f"{name:>10} {net.n_inputs:6d} {net.n_gates:6d} {pruned.n_gates:6d} {acc:8.1%} {compile_s:6.1f} "
              f"{S / c_s / 1e6:7.2f} {S / t_classify / 1e6:12.2f} {S / t_packed / 1e6:10.2f} "
              f"{c_s / t_classify:9.2f}x {os.getloadavg()[0]:5.2f}", flush=True)


if __name__ == "__main__":
    main()
