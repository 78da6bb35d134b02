"""Export trained machines and check them with other tools.

* :func:`prune`: the machine reduced to what reaches its outputs.
* :func:`to_verilog`, :func:`to_blif`, :func:`to_dot`: text for Icarus Verilog,
  Yosys, ABC and Graphviz.
* :func:`read_blif`: a small independent BLIF evaluator for round trips.
* :func:`describe`: gate counts, depth, fan-out and gate functions.

Command line: ``python -m btype.export MACHINE.npz --format verilog|blif|dot|describe``.
"""
from .blif import BlifModel, read_blif
from .describe import describe
from .prune import GATE_FUNCTIONS, PruneMapping, active_gates, gate_function, link_literals, prune
from .writers import to_blif, to_dot, to_verilog

__all__ = ["prune", "PruneMapping", "to_verilog", "to_blif", "to_dot", "read_blif",
           "BlifModel", "describe", "active_gates", "link_literals", "gate_function",
           "GATE_FUNCTIONS"]
