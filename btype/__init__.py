"""btype: Turing's B-type unorganised machines, simulated bit-parallel and trained by search.

``import btype`` never imports torch; the gradient-descent relaxation lives in ``sgd``.
"""
from . import jit, reference, tasks
from .bits import pack, unpack
from .network import LINK_MODES, Network
from .simulate import evaluate, evaluate_packed, run
from .train import STOP_REASONS, Budget, TrainResult, make_record
from .registry import trainer, trainers
from .wiring import random_network
from . import checkpoint, export, registry, search  # noqa: E402  (they use the names above)
from .vote import classify, count_correct  # noqa: E402  (it prunes with export)

__version__ = "0.2.0"  # the package version (pyproject.toml reads it from here)

__all__ = ["Network", "LINK_MODES", "random_network", "pack", "unpack", "Budget",
           "TrainResult", "STOP_REASONS", "make_record", "trainer", "trainers", "checkpoint", "registry", "tasks", "evaluate", "evaluate_packed", "run", "jit", "export",
           "search", "classify", "count_correct", "__version__"]
