"""btype.export: pruning keeps the outputs, BLIF round trips, DOT, describe, the CLI."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

import btype
import btype.export as bx


def truth_table(n):
    rows = np.arange(2 ** n)
    return ((rows[:, None] >> np.arange(n)) & 1).astype(bool)


def random_machines(count, link, seed0=0):
    """Small random feed-forward machines of assorted shapes and modifier densities."""
    for k in range(count):
        rng = np.random.default_rng(seed0 + k)
        n = int(rng.integers(1, 6))
        G = int(rng.integers(1, 30))
        yield btype.random_network(
            n, G, int(rng.integers(1, min(G, 4) + 1)), seed=seed0 + k, link=link,
            modified_fraction=float(rng.choice([0.0, 0.5, 1.0])),
            layers=int(rng.integers(1, G + 1)), reach=int(rng.integers(1, 3)))


def all_nodes(net):
    """The same machine with every node as an output, to read every node's value."""
    return net.replace(outputs=np.arange(net.n_nodes))


# -- prune: combinational --------------------------------------------------------
@pytest.mark.parametrize("link", ["switch", "turing"])
def test_prune_keeps_outputs_and_node_values(link):
    for net in random_machines(120, link, seed0=1000):
        pruned, mapping = bx.prune(net)
        X = truth_table(net.n_inputs)
        assert pruned.is_feedforward and pruned.link == link
        assert pruned.n_inputs == net.n_inputs and pruned.n_outputs == net.n_outputs
        assert np.array_equal(btype.evaluate(pruned, X), btype.evaluate(net, X))
        # every mapped node carries the old node's value
        old, new = btype.evaluate(all_nodes(net), X), btype.evaluate(all_nodes(pruned), X)
        for o, n in enumerate(mapping.nodes):
            if n >= 0:
                assert np.array_equal(old[:, o], new[:, n])
        g_old = np.flatnonzero(mapping.gates >= 0)
        assert np.array_equal(mapping.gates[g_old] + net.n_inputs,
                              mapping.nodes[net.n_inputs + g_old])
        # never larger than the active part, plus one gate for a switch-mode constant 1
        assert pruned.n_gates <= bx.describe(net)["n_active"] + 1
        # the outputs' fates describe the new output nodes
        for (kind, value), node in zip(mapping.outputs, pruned.outputs):
            if kind == "input":
                assert node == value
            elif kind == "gate":
                assert node == pruned.n_inputs + value
            else:
                assert np.all(new[:, node] == bool(value))


def test_prune_folds_constants_by_hand():
    # switch mode, 1 input: g0 = NAND(1,1) = 0, g1 = NAND(x0, g0) = 1,
    # g2 = NOT x0, g3 = NOT g2 = x0, g4 = NAND(x0, x0) = NOT x0, g5 = duplicate of g4
    interrupted = [[False, False], [True, True], [True, False], [True, False],
                   [True, True], [True, True]]
    net = btype.Network(1, [[0, 0], [0, 1], [0, 0], [3, 3], [0, 0], [0, 0]],
                        outputs=[1, 2, 4, 5, 6], enabled=interrupted)
    pruned, mapping = bx.prune(net)
    assert mapping.outputs == (("constant", 0), ("constant", 1), ("input", 0),
                               ("gate", mapping.gates[5]), ("gate", mapping.gates[5]))
    assert mapping.gates[4] == mapping.gates[5] == mapping.gates[2]   # NOT x0, merged
    assert mapping.gates[3] == -1 and mapping.nodes[4] == 0            # double negation
    # NOT x0, constant 0, constant 1 = NOT 0
    assert pruned.n_gates == 3
    X = truth_table(1)
    assert np.array_equal(btype.evaluate(pruned, X), btype.evaluate(net, X))
    assert np.array_equal(btype.evaluate(net, X),
                          np.array([[0, 1, 0, 1, 1], [0, 1, 1, 0, 0]], bool))


def test_prune_turing_constant_one_and_complement():
    # turing: g0 = NAND(x0, NOT x0) = 1 (one link plain, one inverting)
    net = btype.Network(2, [[0, 0], [2, 1]], outputs=[2, 3],
                        modifiers=[[False, True], [True, True]], link="turing")
    pruned, mapping = bx.prune(net)
    assert mapping.outputs[0] == ("constant", 1)
    X = truth_table(2)
    assert np.array_equal(btype.evaluate(pruned, X), btype.evaluate(net, X))
    # g1 = NAND(NOT g0, NOT x1) = NAND(0, .) = 1 as well: one shared constant gate
    assert mapping.outputs[1] == ("constant", 1) and pruned.n_gates == 1


def test_prune_drops_dead_gates():
    net = btype.Network(2, [[0, 1], [1, 1], [2, 2]], outputs=[4])   # g1 = NOT x1 is dead
    pruned, mapping = bx.prune(net)
    assert mapping.gates[1] == -1 and mapping.nodes[3] == -1
    assert pruned.n_gates == 2   # NAND(x0, x1) and NOT of it
    X = truth_table(2)
    assert np.array_equal(btype.evaluate(pruned, X)[:, 0], X[:, 0] & X[:, 1])


# -- prune: clocked -------------------------------------------------------------
@pytest.mark.parametrize("link", ["switch", "turing"])
def test_prune_clocked_matches_run_step_by_step(link):
    for seed in range(40):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(0, 4))
        G = int(rng.integers(1, 25))
        net = btype.random_network(n, G, int(rng.integers(1, min(G, 3) + 1)), kind="recurrent",
                                   seed=seed, link=link,
                                   modified_fraction=float(rng.choice([0.0, 0.5, 1.0])))
        pruned, mapping = bx.prune(net)
        assert mapping.clocked and pruned.n_gates == bx.describe(net)["n_active"]
        X = rng.integers(0, 2, (12, 4, n)).astype(bool)   # a sequence: inputs change
        init = rng.integers(0, 2, (12, G)).astype(bool)
        H_old = btype.run(net, X, 6, initial=init, record=True)
        H_new = btype.run(pruned, X, 6, initial=init[:, mapping.kept], record=True)
        assert np.array_equal(H_new, H_old[:, :, mapping.kept])
        for steps in (0, 3, 6):
            assert np.array_equal(btype.run(pruned, X, steps, initial=init[:, mapping.kept]),
                                  btype.run(net, X, steps, initial=init))


def test_prune_arguments():
    loop = btype.random_network(2, 5, 1, kind="recurrent", seed=1)
    if loop.is_feedforward:
        pytest.skip("seed gave a feed-forward machine")
    with pytest.raises(ValueError, match="clocked=False"):
        bx.prune(loop, clocked=False)
    with pytest.raises(TypeError, match="net"):
        bx.prune("machine.npz")
    with pytest.raises(TypeError, match="clocked"):
        bx.prune(loop, clocked="yes")


# -- BLIF -----------------------------------------------------------------------------
@pytest.mark.parametrize("link", ["switch", "turing"])
def test_blif_round_trip_combinational(link):
    for net in random_machines(30, link, seed0=2000):
        model = bx.read_blif(bx.to_blif(net, name="m"))
        assert model.name == "m" and len(model.data_inputs) == net.n_inputs
        X = truth_table(net.n_inputs)
        assert np.array_equal(model.evaluate(X), btype.evaluate(net, X))
        pruned = bx.prune(net)[0]
        assert np.array_equal(bx.read_blif(bx.to_blif(pruned)).evaluate(X),
                              btype.evaluate(net, X))


@pytest.mark.parametrize("link", ["switch", "turing"])
def test_blif_round_trip_clocked(link):
    rng = np.random.default_rng(3)
    for seed in range(10):
        n = seed % 3
        net = btype.random_network(n, 15, 2, kind="recurrent", seed=seed, link=link,
                                   modified_fraction=(1.0, 0.5)[seed % 2])
        init = rng.integers(0, 2, 15).astype(bool)
        model = bx.read_blif(bx.to_blif(net, initial=init))
        assert model.data_inputs == [f"x{i}" for i in range(n)]
        X = rng.integers(0, 2, (16, 3, n)).astype(bool)
        for steps in (0, 1, 2, 5):
            assert np.array_equal(model.run(X, steps), btype.run(net, X, steps, initial=init))


def test_blif_reader_on_hand_written_file():
    text = """# a comment
.model hand
.inputs a b \\
  c
.outputs f g h
.names a b f
11 0
.names c g
- 1
.names h
.end
"""
    model = bx.read_blif(text)
    X = truth_table(3)
    Y = model.evaluate(X)
    assert np.array_equal(Y[:, 0], ~(X[:, 0] & X[:, 1]))   # off-set rows: NAND
    assert Y[:, 1].all() and not Y[:, 2].any()              # constants 1 and 0
    with pytest.raises(ValueError, match="unsupported"):
        bx.read_blif(".model m\n.subckt foo\n.end\n")


# -- Verilog text -----------------------------------------------------------------------
def test_verilog_ports_and_arguments():
    net = btype.random_network(3, 6, 2, seed=0)
    text = bx.to_verilog(net, name="adder")
    assert "module adder" in text and "input  wire [2:0] x" in text
    assert "output wire [1:0] y" in text and text.count("nand u") == 6
    assert "clk" not in text
    clocked = bx.to_verilog(net, clocked=True, initial=[1, 0, 0, 0, 0, 1])
    assert "input  wire clk" in clocked and "6'b100001" in clocked
    no_inputs = bx.to_verilog(btype.random_network(0, 4, 1, kind="recurrent", seed=2))
    assert " x" not in no_inputs and "input  wire clk" in no_inputs
    with pytest.raises(ValueError, match="name"):
        bx.to_verilog(net, name="module")
    with pytest.raises(ValueError, match="name"):
        bx.to_verilog(net, name="9lives")
    with pytest.raises(ValueError, match="initial"):
        bx.to_verilog(net, initial=np.zeros(6, bool))     # combinational form has no state
    with pytest.raises(ValueError, match="initial"):
        bx.to_verilog(net, clocked=True, initial=np.zeros(5, bool))


def test_writers_on_degenerate_machines():
    wires_only = btype.Network(2, np.zeros((0, 2), int), outputs=[1, 0])
    X = truth_table(2)
    assert np.array_equal(bx.read_blif(bx.to_blif(wires_only)).evaluate(X), X[:, ::-1])
    assert "assign y[0] = x[1];" in bx.to_verilog(wires_only)
    assert bx.prune(wires_only)[1].outputs == (("input", 1), ("input", 0))
    no_outputs = btype.random_network(2, 3, 0, seed=0)
    assert bx.prune(no_outputs)[0].n_gates == 0
    assert "output wire" not in bx.to_verilog(no_outputs)
    assert bx.read_blif(bx.to_blif(no_outputs)).evaluate(X).shape == (4, 0)
    empty = btype.Network(0, np.zeros((0, 2), int), outputs=[])
    assert "module btype_net;" in bx.to_verilog(empty)
    assert bx.describe(empty)["n_active"] == 0


# -- DOT --------------------------------------------------------------------------------
def test_dot_marks_interrupted_and_inverting_links():
    net = btype.random_network(3, 12, 2, seed=4, link="turing", modified_fraction=0.7)
    interrupted = int((net.modifiers & ~net.enabled).sum())
    inverting = int((net.modifiers & net.enabled).sum())
    dashed = bx.to_dot(net)
    assert dashed.count("style=dashed") == interrupted
    assert dashed.count("arrowhead=odot") == inverting
    omitted = bx.to_dot(net, interrupted="omit")
    assert "style=dashed" not in omitted
    assert omitted.count(" -> g") == 2 * net.n_gates - interrupted
    assert bx.to_dot(net, pruned=True).count("shape=box") == bx.prune(net)[0].n_gates
    with pytest.raises(ValueError, match="interrupted"):
        bx.to_dot(net, interrupted="hidden")


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz not installed")
def test_dot_is_accepted_by_graphviz():
    net = btype.random_network(3, 12, 2, kind="recurrent", seed=4, link="turing")
    done = subprocess.run(["dot", "-Tsvg"], input=bx.to_dot(net, title='a "quoted" title'),
                          capture_output=True, text=True, check=True)
    assert "<svg" in done.stdout


# -- describe ---------------------------------------------------------------------------
def test_describe_by_hand():
    # x0, x1; g0 = NAND(x0, x1); g1 = NOT g0 (port 1 interrupted); g2 = const 0 (dead)
    net = btype.Network(2, [[0, 1], [2, 2], [0, 1]], outputs=[3],
                        enabled=[[True, True], [True, False], [False, False]])
    d = bx.describe(net)
    assert d["n_gates"] == 3 and d["n_active"] == 2 and d["depth"] == 2
    assert d["inputs_used"] == 2 and d["n_links_live"] == 3 and d["n_links_interrupted"] == 1
    assert d["functions"]["nand"] == 1 and d["functions"]["not"] == 1
    assert d["functions"]["const0"] == 0   # g2 is not active
    assert d["shares"] == {"nand": 0.5, "not": 0.5, "constant": 0.0}
    assert d["fanout_histogram"] == [1, 1]  # g1 read by nobody, g0 read by g1


@pytest.mark.parametrize("link", ["switch", "turing"])
def test_describe_consistency(link):
    for net in random_machines(20, link, seed0=3000):
        d = bx.describe(net)
        assert sum(d["functions"].values()) == d["n_active"]
        assert sum(d["fanout_histogram"]) == d["n_active"]
        assert json.loads(json.dumps(d)) == d
        if net.enabled.all():   # no interrupted link: depth is the simulator's level
            lv = net.levels()
            gate_outs = net.outputs[net.outputs >= net.n_inputs] - net.n_inputs
            assert d["depth"] == (int(lv[gate_outs].max()) if gate_outs.size else 0)
        if link == "switch":    # a switch-mode gate can only be NAND, NOT or 0
            assert d["functions"]["or"] == d["functions"]["implies"] == 0
            assert d["functions"]["buffer"] == d["functions"]["const1"] == 0
    loop = btype.random_network(2, 10, 1, kind="recurrent", seed=3, link=link)
    assert loop.is_feedforward or bx.describe(loop)["depth"] is None


# -- command line -------------------------------------------------------------------------
def test_cli_writes_every_format(tmp_path, capsys):
    from btype.export.__main__ import main
    net = btype.random_network(3, 10, 1, seed=6, link="turing")
    path = tmp_path / "m.npz"
    net.save(path)
    X = truth_table(3)
    out = tmp_path / "m.blif"
    assert main([str(path), "--format", "blif", "--prune", "-o", str(out)]) == 0
    assert np.array_equal(bx.read_blif(out.read_text()).evaluate(X), btype.evaluate(net, X))
    assert main([str(path), "-f", "verilog", "--name", "top"]) == 0
    assert "module top" in capsys.readouterr().out
    assert main([str(path), "-f", "dot", "--omit-interrupted"]) == 0
    assert "digraph" in capsys.readouterr().out
    assert main([str(tmp_path / "missing.npz")]) == 2
    assert main([str(path), "-f", "verilog", "--name", "bad name"]) == 2
    done = subprocess.run([sys.executable, "-m", "btype.export", str(path), "-f", "describe"],
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == bx.describe(net)


def test_cli_output_that_cannot_be_written_ends_in_an_error_line(tmp_path):
    path = tmp_path / "m.npz"
    btype.random_network(3, 10, 1, seed=6).save(path)
    for target in (tmp_path, tmp_path / "missing" / "m.v"):      # a directory, a missing folder
        done = subprocess.run([sys.executable, "-m", "btype.export", str(path), "-o", str(target)],
                              capture_output=True, text=True)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert done.stderr.startswith(f"error: cannot write {target}: ")


@pytest.mark.parametrize("name", ["top\n", "top\r\n", "\ntop", "top ", "", "a-b", "9lives"])
def test_names_must_be_plain_identifiers_to_the_last_character(name):
    net = btype.random_network(3, 6, 2, seed=0)
    for write in (bx.to_verilog, bx.to_blif, bx.to_dot):
        with pytest.raises(ValueError, match="plain identifier"):
            write(net, name=name)


def test_reserved_words_are_refused_where_the_language_reserves_them():
    net = btype.random_network(3, 6, 2, seed=0)
    for word in ("logic", "bit", "always_ff", "interface", "module", "xor"):
        with pytest.raises(ValueError, match="verilog keyword"):
            bx.to_verilog(net, name=word)
        assert f".model {word}" in bx.to_blif(net, name=word)       # BLIF reserves none of them
    for word in ("node", "Graph", "DIGRAPH", "strict"):                 # DOT's are case-insensitive
        with pytest.raises(ValueError, match="dot keyword"):
            bx.to_dot(net, name=word)
    assert "module logic_unit" in bx.to_verilog(net, name="logic_unit")
    with pytest.raises(TypeError, match="name"):
        bx.to_verilog(net, name=b"top")
