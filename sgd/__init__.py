"""sgd: Turing's B-type machines relaxed into PyTorch and trained by gradient descent.

``sgd.RelaxedNetwork`` is the differentiable module, ``sgd.train`` the trainer
(same ``btype.TrainResult`` and records as ``btype.search.train``), and
``sgd.hybrid.train`` the hybrid "sgd+es" (``btype.trainer("sgd+es")``). ``sgd``
imports ``btype``; ``btype`` never imports torch.
"""
from .relax import INITS, MODES, RelaxedNetwork
from .train import DEFAULTS, train

__all__ = ["RelaxedNetwork", "train", "DEFAULTS", "INITS", "MODES"]
