"""Tasks: truth tables, PLA files, real data sets and clocked sequence tasks.

``get(name)`` builds any built-in task by name (``names()`` lists examples);
the factories are also available directly.
"""
from .base import Score, Task, classify
from .data import digits, mnist, read_idx
from .pla import PLA, PLAError, from_pla, read_pla, write_pla
from .sequence import delay_xor, echo, stream_parity
from .truth import (adder, comparator, decoder, get, majority, multiplexer, multiplier, names,
                    parity, truth_table_inputs)

__all__ = ["Task", "Score", "classify", "get", "names", "parity", "majority", "multiplexer",
           "adder", "multiplier", "comparator", "decoder", "truth_table_inputs", "from_pla",
           "read_pla", "write_pla", "PLA", "PLAError", "digits", "mnist", "read_idx",
           "stream_parity", "delay_xor", "echo"]
