"""Tasks: truth tables, PLA files, real data sets and clocked sequence tasks.

``get(name)`` builds any built-in task by name (``names()`` lists examples;
``btype.tasks.registry`` holds one line per family); the factories are also
available directly.
"""
from .arrays import from_arrays, split_rows
from .base import Score, Task, classify
from .binarize import Binarizer
from .data import digits
from .idx import read_idx
from .images import FASHION_CLASSES, FASHION_DIR, MNIST_FILES, fashion, mnist
from .pla import PLA, PLAError, from_pla, read_pla, write_pla
from .registry import get, names
from .sequence import delay_xor, echo, stream_parity
from .truth import (adder, adder_carry, alu, comparator, count_ones, decoder, even_parity,
                    identity_comparator, majority, multiplexer, multiplier, parity, truth_table_inputs)

__all__ = ["Task", "Score", "classify", "from_arrays", "split_rows", "Binarizer", "get", "names", "parity", "majority", "multiplexer",
           "adder", "multiplier", "comparator", "decoder", "even_parity", "adder_carry",
           "identity_comparator", "count_ones", "alu", "truth_table_inputs", "from_pla",
           "read_pla", "write_pla", "PLA", "PLAError", "digits", "mnist", "fashion", "read_idx",
           "MNIST_FILES", "FASHION_DIR", "FASHION_CLASSES", "stream_parity", "delay_xor", "echo"]
