"""Exported Verilog simulated by Icarus Verilog gives exactly the simulator's outputs.

All machines of a test go into one source file with one testbench per machine,
compiled once and run once by ``vvp``, so the whole file takes a few seconds.
Without ``iverilog`` these tests skip locally; with ``CI`` or
``BTYPE_REQUIRE_TOOLS`` set in the environment they fail instead, so CI can
never skip them silently.
"""
import os
import shutil
import subprocess

import numpy as np
import pytest

import btype
import btype.export as bx

_HAVE = shutil.which("iverilog") is not None and shutil.which("vvp") is not None
if not _HAVE and (os.environ.get("CI") or os.environ.get("BTYPE_REQUIRE_TOOLS")):
    pytest.fail("iverilog/vvp not found but CI requires them "
                "(apt-get install -y iverilog)", pytrace=False)
pytestmark = pytest.mark.skipif(not _HAVE, reason="iverilog/vvp not installed")


def truth_table(n):
    rows = np.arange(2 ** n)
    return ((rows[:, None] >> np.arange(n)) & 1).astype(bool)


def bits_msb_first(row):
    """A bool vector as a Verilog binary literal (element 0 is the last character)."""
    return "".join("1" if b else "0" for b in np.asarray(row, bool)[::-1])


def parse_bits(text, width):
    assert len(text) == width, (text, width)
    return np.array([c == "1" for c in text[::-1]], bool)


def simulate(tmp_path, benches):
    """Compile and run many testbenches at once; returns {tag: [(index, bits), ...]}."""
    src = tmp_path / "all.v"
    src.write_text("\n".join(b["verilog"] for b in benches))
    exe = tmp_path / "all.vvp"
    tops = [arg for b in benches for arg in ("-s", b["top"])]
    subprocess.run(["iverilog", "-g2005", "-o", str(exe), *tops, str(src)],
                   check=True, capture_output=True, text=True, cwd=tmp_path)
    done = subprocess.run(["vvp", "-n", str(exe)], check=True, capture_output=True,
                          text=True, cwd=tmp_path)
    lines = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            lines.setdefault(parts[0], []).append((int(parts[1]), parts[2]))
    return lines


def combinational_bench(tmp_path, k, net, X):
    """Module ``m<k>`` plus a testbench that applies every row of X in turn."""
    S, n, m = X.shape[0], net.n_inputs, net.n_outputs
    (tmp_path / f"in{k}.txt").write_text("\n".join(bits_msb_first(r) for r in X) + "\n")
    tb = f"""
module tb{k};
    reg [{n - 1}:0] x;
    wire [{m - 1}:0] y;
    reg [{n - 1}:0] mem [0:{S - 1}];
    integer i;
    m{k} dut (.x(x), .y(y));
    initial begin
        $readmemb("in{k}.txt", mem);
        for (i = 0; i < {S}; i = i + 1) begin
            x = mem[i];
            #1 $display("T{k} %0d %b", i, y);
        end
    end
endmodule
"""
    return {"verilog": bx.to_verilog(net, name=f"m{k}") + tb, "top": f"tb{k}", "tag": f"T{k}"}


def clocked_bench(tmp_path, k, net, frames, steps, initial):
    """Module ``m<k>``, one instance per sample, all clocked together for ``steps`` edges.

    ``frames`` is (S, T, n): frame t is applied before edge t + 1, zeros from T on.
    """
    S, T, n = frames.shape
    G, m = net.n_gates, net.n_outputs
    lines = []
    for t in range(steps + 1):
        frame = frames[:, t, :] if t < T else np.zeros((S, n), bool)
        lines.append(bits_msb_first(frame.reshape(-1)))
    init = f"{G}'b{bits_msb_first(initial)}"
    xdecl = f"reg [{S * n - 1}:0] xall;\n    reg [{S * n - 1}:0] frames [0:{steps}];" if n else ""
    xport = f".x(xall[i*{n} +: {n}]), " if n else ""
    xload = f'$readmemb("frames{k}.txt", frames);' if n else ""
    xset = "xall = frames[t];" if n else ""
    if n:
        (tmp_path / f"frames{k}.txt").write_text("\n".join(lines) + "\n")
    tb = f"""
module tbc{k};
    reg clk;
    {xdecl}
    wire [{S * m - 1}:0] yall;
    integer t;
    genvar i;
    generate for (i = 0; i < {S}; i = i + 1) begin : inst
        m{k} #(.INIT({init})) dut (.clk(clk), {xport}.y(yall[i*{m} +: {m}]));
    end endgenerate
    initial begin
        clk = 0;
        {xload}
        for (t = 0; t <= {steps}; t = t + 1) begin
            {xset}
            #1 $display("C{k} %0d %b", t, yall);
            clk = 1;
            #1 clk = 0;
        end
    end
endmodule
"""
    verilog = bx.to_verilog(net, name=f"m{k}", clocked=True, initial=initial)
    return {"verilog": verilog + tb, "top": f"tbc{k}", "tag": f"C{k}"}


def test_combinational_machines_match_simulator(tmp_path):
    rng = np.random.default_rng(7)
    cases = []
    for k in range(16):
        link = ("switch", "turing")[k % 2]
        n = int(rng.integers(2, 8))
        G = int(rng.integers(6, 40))
        net = btype.random_network(n, G, int(rng.integers(1, 4)), seed=100 + k, link=link,
                                   modified_fraction=(1.0, 0.5)[(k // 2) % 2],
                                   reach=int(rng.integers(1, 3)))
        cases.append((net, truth_table(n)))
    # wide enough that random samples replace the full table
    big = btype.random_network(12, 60, 3, seed=5, link="turing", reach=2)
    cases.append((big, rng.integers(0, 2, (300, 12)).astype(bool)))
    # pruned forms, whose constant outputs and added NOT gates get exercised too
    for k in range(4):
        net = btype.random_network(4, 20, 3, seed=200 + k, link=("switch", "turing")[k % 2])
        cases.append((bx.prune(net)[0], truth_table(4)))

    benches = [combinational_bench(tmp_path, k, net, X) for k, (net, X) in enumerate(cases)]
    got = simulate(tmp_path, benches)
    for k, (net, X) in enumerate(cases):
        expected = btype.evaluate(net, X)
        rows = got[f"T{k}"]
        assert [i for i, _ in rows] == list(range(X.shape[0]))
        sim = np.array([parse_bits(b, net.n_outputs) for _, b in rows])
        assert np.array_equal(sim, expected), f"machine {k} ({net.link}) differs"


def held(X, steps):
    """Frames that hold X for the whole run."""
    return np.repeat(X[:, None, :], steps + 1, axis=1)


def test_clocked_machines_match_run(tmp_path):
    rng = np.random.default_rng(11)
    steps = 7
    cases = []
    for k, (link, n, fraction) in enumerate([("switch", 3, 1.0), ("turing", 3, 1.0),
                                            ("turing", 2, 0.5), ("switch", 0, 1.0),
                                            ("turing", 0, 0.6)]):
        net = btype.random_network(n, 12, 2, kind="recurrent", seed=40 + k, link=link,
                                   modified_fraction=fraction)
        X = rng.integers(0, 2, (10, n)).astype(bool)
        initial = rng.integers(0, 2, net.n_gates).astype(bool)
        cases.append((net, held(X, steps), initial, X))
    # an input sequence shorter than the run: zeros after its end
    net = btype.random_network(2, 10, 2, kind="recurrent", seed=77, link="turing")
    frames = rng.integers(0, 2, (10, 3, 2)).astype(bool)
    cases.append((net, frames, np.zeros(10, bool), frames))
    # a feed-forward machine in its clocked form
    net = btype.random_network(3, 9, 2, seed=78, link="turing", reach=2)
    X = rng.integers(0, 2, (8, 3)).astype(bool)
    cases.append((net, held(X, steps), rng.integers(0, 2, 9).astype(bool), X))

    benches = [clocked_bench(tmp_path, k, net, frames, steps, initial)
               for k, (net, frames, initial, _) in enumerate(cases)]
    got = simulate(tmp_path, benches)
    for k, (net, frames, initial, X) in enumerate(cases):
        rows = got[f"C{k}"]
        assert [t for t, _ in rows] == list(range(steps + 1))
        S, m = frames.shape[0], net.n_outputs
        for t, text in rows:
            sim = parse_bits(text, S * m).reshape(S, m)
            if net.n_inputs == 0:
                X = np.zeros((S, 0), bool)
            expected = btype.run(net, X, steps=t, initial=initial)
            assert np.array_equal(sim, expected), f"machine {k} ({net.link}) differs at step {t}"


def test_yosys_style_module_interface(tmp_path):
    """The port names and widths are exactly those documented (x[i] input i, y[j] output j)."""
    net = btype.Network(2, [[0, 1], [2, 2]], outputs=[3, 0, 2])
    # y0 = NOT NAND(x0, x1) = AND, y1 = x0, y2 = NAND
    bench = combinational_bench(tmp_path, 0, net, truth_table(2))
    got = simulate(tmp_path, [bench])["T0"]
    sim = np.array([parse_bits(b, 3) for _, b in got])
    X = truth_table(2)
    expected = np.stack([X[:, 0] & X[:, 1], X[:, 0], ~(X[:, 0] & X[:, 1])], axis=1)
    assert np.array_equal(sim, expected)


def test_every_reserved_word_is_one_icarus_rejects(tmp_path):
    """The reserved words refused as module names are the ones Icarus Verilog (in
    SystemVerilog mode) refuses too, and an ordinary name passes both."""
    from btype.export.names import VERILOG_KEYWORDS
    src = tmp_path / "m.v"

    def icarus_accepts(name):
        src.write_text(f"module {name} (input wire a, output wire y);\n  assign y = ~a;\nendmodule\n")
        done = subprocess.run(["iverilog", "-g2012", "-o", str(tmp_path / "m.out"), str(src)],
                              capture_output=True, text=True)
        return done.returncode == 0

    assert icarus_accepts("logic_unit")
    accepted = [word for word in sorted(VERILOG_KEYWORDS) if icarus_accepts(word)]
    assert accepted == []
