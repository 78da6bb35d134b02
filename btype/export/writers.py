"""Text writers: structural Verilog, BLIF and Graphviz DOT.

Every writer resolves the modifiers first (:func:`btype.export.link_literals`):
an interrupted link becomes the constant 1, a turing-mode passing modifier an
inversion (combinational) or a one-step register (clocked). The writers choose
the combinational form for feed-forward machines and the clocked form otherwise;
``clocked=True`` asks for the clocked form of a feed-forward machine.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._checks import check_bool, check_bool_array, check_choice
from ..network import Network, check_network
from .names import check_name
from .prune import active_gates, check_clocked, gate_function, link_literals, prune

__all__ = ["to_verilog", "to_blif", "to_dot"]


def _check_initial(net, initial, clocked):
    if initial is None:
        return np.zeros(net.n_gates, bool)
    if not clocked:
        raise ValueError("initial only applies to the clocked form (clocked=True or a "
                         "machine with loops)")
    arr = check_bool_array(initial, "initial")
    if arr.shape != (net.n_gates,):
        raise ValueError(f"initial must have shape ({net.n_gates},), got {arr.shape}")
    return arr


def _sizes(net):
    def count(n, word):
        return f"{n} {word}" + ("" if n == 1 else "s")
    return ", ".join((count(net.n_inputs, "input"), count(net.n_gates, "gate"),
                      count(net.n_outputs, "output")))


def _turing_registers(net, source, inverted, clocked):
    """Index of each clocked turing link register, -1 where there is none."""
    reg = np.full(source.shape, -1, np.int64)
    if clocked:
        where = inverted & (source >= 0)
        reg[where] = np.arange(int(where.sum()))
    return reg


# -- Verilog ----------------------------------------------------------------------
def to_verilog(net: Network, name: str = "btype_net", *, clocked: bool | None = None,
               initial: ArrayLike | None = None) -> str:
    """Structural Verilog for a machine.

    Parameters
    ----------
    net : btype.Network
    name : str
        Module name.
    clocked : bool, optional
        Default: combinational for feed-forward machines, clocked otherwise.
    initial : array_like of bool, shape (G,), optional
        Clocked form only: gate states at time 0 (default zeros). It becomes
        the module parameter ``INIT``, so a testbench can override it.

    Returns
    -------
    str
        Module ``name`` with ports ``input [n_inputs-1:0] x`` and
        ``output [n_outputs-1:0] y`` (``x[i]`` is input ``i``, ``y[j]``
        output ``j``); a port is left out when its width would be 0.
        Combinational: wire ``g[k]`` is gate ``k``, one ``nand`` primitive
        each. Clocked: an added ``input clk``; ``reg g[k]`` holds gate ``k``'s
        state and every gate updates on ``posedge clk``; each passing modified
        link of a turing machine is a register ``l[m]`` (initially 1) that
        loads ``~source``; an interrupted link is the constant ``1'b1`` (its
        register would hold 1 forever). After ``k`` clock edges with inputs
        held, ``y`` equals ``btype.run(net, X, steps=k, initial=initial)``.
    """
    check_network(net)
    check_name(name, "verilog")
    clocked = check_clocked(net, clocked)
    init = _check_initial(net, initial, clocked)
    source, inverted = link_literals(net)
    reg = _turing_registers(net, source, inverted, clocked)
    n_in, G, M = net.n_inputs, net.n_gates, net.n_outputs

    def node(s):
        return f"x[{s}]" if s < n_in else f"g[{s - n_in}]"

    def link(g, p):
        s = source[g, p]
        if s < 0:
            return "1'b1"
        if reg[g, p] >= 0:
            return f"l[{reg[g, p]}]"
        return ("~" if inverted[g, p] else "") + node(s)

    ports = (["input  wire clk"] if clocked else []) \
        + ([f"input  wire [{n_in - 1}:0] x"] if n_in else []) \
        + ([f"output wire [{M - 1}:0] y"] if M else [])
    form = "clocked" if clocked else "combinational"
    out = [f"// btype.export: {_sizes(net)}, link \"{net.link}\", {form}"]
    params = ""
    if clocked and G:
        bits = "".join("1" if b else "0" for b in init[::-1])
        params = f" #(parameter [{G - 1}:0] INIT = {G}'b{bits})"
    if ports:
        out.append(f"module {name}{params} (")
        out.append(",\n".join("    " + p for p in ports))
        out.append(");")
    else:
        out.append(f"module {name}{params};")

    if not clocked:
        if G:
            out.append(f"    wire [{G - 1}:0] g;")
        for g in range(G):
            out.append(f"    nand u{g} (g[{g}], {link(g, 0)}, {link(g, 1)});")
    else:
        K = int((reg >= 0).sum())
        if G:
            out.append(f"    reg [{G - 1}:0] g;")
        if K:
            out.append(f"    reg [{K - 1}:0] l;")
        if G:
            out.append("    initial begin")
            out.append("        g = INIT;")
            if K:
                out.append(f"        l = {{{K}{{1'b1}}}};")
            out.append("    end")
            out.append("    always @(posedge clk) begin")
            for g in range(G):
                out.append(f"        g[{g}] <= ~({link(g, 0)} & {link(g, 1)});")
            for g, p in np.argwhere(reg >= 0):
                out.append(f"        l[{reg[g, p]}] <= ~{node(source[g, p])};")
            out.append("    end")
    for j, o in enumerate(net.outputs):
        out.append(f"    assign y[{j}] = {node(o)};")
    out.append("endmodule")
    return "\n".join(out) + "\n"


# -- BLIF -------------------------------------------------------------------------
def _blif_nand(lits, target):
    """``.names`` block for NAND of ``lits`` = [(signal, inverted)] (constant-1 links dropped)."""
    distinct = sorted(set(lits))
    if not distinct:
        return [f".names {target}"]                       # constant 0
    if len(distinct) == 1:
        sig, inv = distinct[0]
        return [f".names {sig} {target}", f"{1 if inv else 0} 1"]
    (sa, ia), (sb, ib) = distinct
    if sa == sb:
        return [f".names {target}", "1"]                  # NAND(v, NOT v)
    return [f".names {sa} {sb} {target}", f"{1 if ia else 0}- 1", f"-{1 if ib else 0} 1"]


def to_blif(net: Network, name: str = "btype_net", *, clocked: bool | None = None,
            initial: ArrayLike | None = None) -> str:
    """The machine in the Berkeley Logic Interchange Format.

    Parameters
    ----------
    net : btype.Network
    name : str
        Model name.
    clocked : bool, optional
        Default: combinational for feed-forward machines, clocked otherwise.
    initial : array_like of bool, shape (G,), optional
        Clocked form only: gate states at time 0 (default zeros).

    Returns
    -------
    str
        ``.model``, ``.inputs`` (``x0 ..``; clocked adds ``clk`` first),
        ``.outputs`` (``y0 ..``), one ``.names`` cover per gate (signal
        ``g<k>``; turing inversions folded into the cover), buffers onto the
        outputs, ``.end``. Clocked: gate ``k`` is ``.latch g<k>_next g<k> re
        clk <init>``, and each passing modified turing link a latch ``l<m>``
        with init 1 loading ``NOT source``. Readable by ABC and Yosys and by
        :func:`btype.export.read_blif`.
    """
    check_network(net)
    check_name(name, "blif")
    clocked = check_clocked(net, clocked)
    init = _check_initial(net, initial, clocked)
    source, inverted = link_literals(net)
    reg = _turing_registers(net, source, inverted, clocked)
    n_in = net.n_inputs

    def node(s):
        return f"x{s}" if s < n_in else f"g{s - n_in}"

    inputs = (["clk"] if clocked else []) + [f"x{i}" for i in range(n_in)]
    out = [f"# btype.export: {_sizes(net)}, link \"{net.link}\", "
           f"{'clocked' if clocked else 'combinational'}",
           f".model {name}"]
    if inputs:
        out.append(".inputs " + " ".join(inputs))
    if net.n_outputs:
        out.append(".outputs " + " ".join(f"y{j}" for j in range(net.n_outputs)))
    for g in range(net.n_gates):
        lits = []
        for p in range(2):
            s = source[g, p]
            if s < 0:
                continue
            if reg[g, p] >= 0:
                lits.append((f"l{reg[g, p]}", False))
            else:
                lits.append((node(s), bool(inverted[g, p])))
        target = f"g{g}_next" if clocked else f"g{g}"
        out.extend(_blif_nand(lits, target))
        if clocked:
            out.append(f".latch g{g}_next g{g} re clk {int(init[g])}")
    for g, p in np.argwhere(reg >= 0):
        m = reg[g, p]
        out.extend([f".names {node(source[g, p])} l{m}_next", "0 1",
                    f".latch l{m}_next l{m} re clk 1"])
    for j, o in enumerate(net.outputs):
        out.extend([f".names {node(o)} y{j}", "1 1"])
    out.append(".end")
    return "\n".join(out) + "\n"


# -- DOT --------------------------------------------------------------------------
_FUNCTION_LABEL = {"nand": "NAND", "or": "OR", "implies": "IMPL", "not": "NOT",
                   "buffer": "BUF", "const0": "0", "const1": "1"}


def to_dot(net: Network, *, pruned: bool = False, interrupted: str = "dashed", name: str = "btype_net",
           title: str | None = None) -> str:
    """A Graphviz drawing of the machine (render with ``dot -Tpng``).

    Parameters
    ----------
    net : btype.Network
    pruned : bool
        Draw :func:`btype.export.prune` of the machine instead.
    interrupted : {"dashed", "omit"}
        Draw interrupted links as grey dashed edges, or leave them out.
    name : str
        Graph name.
    title : str, optional
        A label drawn above the graph.

    Returns
    -------
    str
        Inputs ``x<i>`` (circles, left), gates ``g<k>`` (boxes labelled with
        the function their enables give them: NAND, NOT, OR, ... 0, 1; grey
        when no output depends on them), outputs ``y<j>`` (double circles,
        right). A turing inverting link ends in a hollow dot (``odot``).
    """
    check_network(net)
    check_name(name, "dot")
    pruned = check_bool(pruned, "pruned")
    check_choice(interrupted, "interrupted", ("dashed", "omit"))
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")
    if pruned:
        net = prune(net)[0]
    clocked = not net.is_feedforward
    source, inverted = link_literals(net)
    active = active_gates(net)
    n_in = net.n_inputs

    def node(s):
        return f"x{s}" if s < n_in else f"g{s - n_in}"

    out = [f"digraph {name} {{", "    rankdir=LR;",
           '    node [fontname="Helvetica", fontsize=11];',
           '    edge [arrowsize=0.6];']
    if title:
        label = title.replace("\\", "\\\\").replace('"', '\\"')
        out.append(f'    labelloc=t; label="{label}";')
    if n_in:
        out.append("    { rank=source; " + " ".join(
            f'x{i} [shape=circle, label="x{i}"];' for i in range(n_in)) + " }")
    for g in range(net.n_gates):
        kind = gate_function(source[g], inverted[g], clocked=clocked)
        style = "" if active[g] else ', style=filled, fillcolor="#e8e8e8", fontcolor="#808080"'
        out.append(f'    g{g} [shape=box, label="g{g}\\n{_FUNCTION_LABEL[kind]}"{style}];')
    for g in range(net.n_gates):
        for p in range(2):
            src = net.wiring[g, p]
            if source[g, p] < 0:
                if interrupted == "dashed":
                    out.append(f'    {node(src)} -> g{g} [style=dashed, color="#a0a0a0"];')
                continue
            attrs = " [arrowhead=odot]" if inverted[g, p] else ""
            out.append(f"    {node(src)} -> g{g}{attrs};")
    if net.n_outputs:
        out.append("    { rank=sink; " + " ".join(
            f'y{j} [shape=doublecircle, label="y{j}"];' for j in range(net.n_outputs)) + " }")
    for j, o in enumerate(net.outputs):
        out.append(f"    {node(o)} -> y{j};")
    out.append("}")
    return "\n".join(out) + "\n"
