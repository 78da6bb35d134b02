"""Tasks: truth tables, PLA files, real data sets, clocked sequence tasks, and your own data.

``get(name)`` builds any built-in task by name (``names()`` lists examples;
``btype.tasks.registry`` holds one line per family, and ``register(name, factory)``
adds yours); the factories are also available directly. Your own data becomes a
task with ``from_arrays`` (NumPy or pandas), ``from_csv`` or ``from_pla``;
``Binarizer`` codes real-valued features as bits.
"""
from .arrays import from_arrays, split_rows
from .base import Score, Task, classify
from .binarize import Binarizer
from .csvio import from_csv, read_csv, to_csv
from .data import digits
from .idx import read_idx
from .mnist5k import mnist5k
from .images import FASHION_CLASSES, FASHION_DIR, MNIST_FILES, fashion, mnist
from .pla import PLA, PLAError, from_pla, read_pla
from .pla_write import write_pla
from .registry import get, names, register, unregister
from .sequence import delay_xor, echo, stream_parity
from .truth import (adder, adder_carry, alu, comparator, count_ones, decoder, even_parity,
                    identity_comparator, majority, multiplexer, multiplier, parity, truth_table_inputs)

__all__ = ["Task", "Score", "classify", "from_arrays", "split_rows", "Binarizer",
           "from_csv", "read_csv", "to_csv", "get", "names", "register", "unregister", "parity", "majority", "multiplexer",
           "adder", "multiplier", "comparator", "decoder", "even_parity", "adder_carry",
           "identity_comparator", "count_ones", "alu", "truth_table_inputs", "from_pla",
           "read_pla", "write_pla", "PLA", "PLAError", "digits", "mnist", "mnist5k", "fashion", "read_idx",
           "MNIST_FILES", "FASHION_DIR", "FASHION_CLASSES", "stream_parity", "delay_xor", "echo"]
