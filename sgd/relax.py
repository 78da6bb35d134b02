"""RelaxedNetwork: a B-type machine as a differentiable PyTorch module.

Values are probabilities in [0, 1]. Each modified link ``(g, p)`` has a
parameter ``theta[g, p]`` and an enable probability ``e = sigmoid(theta / tau)``.
A switch-mode modified link delivers ``1 - e (1 - v)``, a turing-mode one
``1 - e v``, an unmodified link ``v``; a gate delivers ``1 - l0 l1``. With
``e`` and ``v`` in {0, 1} this is exactly the machine of docs/design.md section 1,
and :meth:`RelaxedNetwork.harden` turns ``theta > 0`` back into modifier bits.
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

import btype
from btype.plan import PASSING_INVERTS

from . import _ops

__all__ = ["RelaxedNetwork", "INITS", "MODES"]

INITS = ("bits", "random", "inverter", "pairs")
MODES = ("soft", "hard", "gumbel")
#: |theta| of init="bits": sigmoid(+-40) is exactly 1 and, in effect, 0 in float32
#: (and stays so under logistic noise), so the relaxed machine equals the bits.
SATURATED = 40.0
_STATE_VERSION = 1


def _positive(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


class RelaxedNetwork(nn.Module):
    """A B-type (or A-, WB-type) machine relaxed into a differentiable module.

    Parameters
    ----------
    net : btype.Network
        Wiring, outputs, modifier mask and link mode are copied into buffers,
        so ``state_dict`` reproduces the machine exactly on any device.
    init : {"bits", "random", "inverter", "pairs"}
        ``"bits"``: ``theta = +-scale`` from ``net.enabled`` (default scale
        :data:`SATURATED`, so ``self(x, mode=m)`` equals the machine in every
        mode). ``"random"``: ``theta ~ Normal(0, scale)`` (default 1).
        ``"inverter"``: in every gate one link passes and the other is
        interrupted (``theta = +-scale``, default 3), so each gate starts as
        (mostly) NOT of one source in switch mode, a buffer in turing mode,
        and deep machines pass gradient from the start. ``"pairs"``: an
        inverter start in which every gate of even level whose ports read
        exactly one gate of the level below keeps that port, so such a gate
        and the gate it reads pass a source twice inverted (the identity in
        switch mode): the analogue of a residual network's identity start.
        Needs a feed-forward machine.
    tau : float
        Temperature of the enables, ``e = sigmoid(theta / tau)``; settable.
    scale : float, optional
        Magnitude of the initial ``theta`` (see ``init``).
    seed : int
        Seed of the random initialisations.
    backend : {"auto", "numba", "triton", "torch"}
        Feed-forward implementation; "auto" takes numba on the CPU and plain
        tensor operations elsewhere. "triton" (CUDA) is asked for by name:
        its kernels are checked against numba in Triton's interpreter on the
        CPU (``TRITON_INTERPRET=1``), not yet on a GPU.

    Notes
    -----
    Only ``theta`` of modified links matters; the entries of unmodified links
    stay in the parameter (for a uniform shape) and get zero gradient.
    The inputs are treated as data: no gradient flows to ``x``.
    """

    def __init__(self, net: btype.Network, init: str = "bits", tau: float = 1.0, *, scale: float | None = None,
                 seed: int = 0, backend: str = "auto") -> None:
        super().__init__()
        if not isinstance(net, btype.Network):
            raise TypeError(f"net must be a btype.Network, got {type(net).__name__}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        if backend not in _ops.BACKENDS:
            raise ValueError(f"backend must be one of {_ops.BACKENDS}, got {backend!r}")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"seed must be an int, got {seed!r}")
        self.tau = tau
        self.backend = backend
        self.register_buffer("n_inputs_", torch.tensor(net.n_inputs, dtype=torch.int64))
        self.register_buffer("wiring", torch.as_tensor(np.array(net.wiring), dtype=torch.int64))
        self.register_buffer("outputs", torch.as_tensor(np.array(net.outputs), dtype=torch.int64))
        self.register_buffer("modifiers", torch.as_tensor(np.array(net.modifiers), dtype=torch.bool))
        self.register_buffer("link_mode", torch.tensor(btype.LINK_MODES.index(net.link), dtype=torch.int64))
        theta = _initial_theta(net, init, None if scale is None else _positive(scale, "scale"), int(seed))
        self.theta = nn.Parameter(torch.as_tensor(theta, dtype=torch.float32))
        self._plans = {}
        self.register_load_state_dict_post_hook(lambda module, keys: module._plans.clear())

    # -- construction -----------------------------------------------------------
    @classmethod
    def from_state_dict(cls, state_dict: Mapping[str, Any], **kwargs: Any) -> "RelaxedNetwork":
        """Rebuild a module from a ``state_dict`` alone (the machine is in its buffers)."""
        try:
            wiring = state_dict["wiring"].cpu().numpy()
            net = btype.Network(int(state_dict["n_inputs_"]), wiring, state_dict["outputs"].cpu().numpy(),
                                modifiers=state_dict["modifiers"].cpu().numpy(),
                                link=btype.LINK_MODES[int(state_dict["link_mode"])])
        except KeyError as exc:
            raise ValueError(f"state_dict is not a RelaxedNetwork's: missing {exc}") from None
        module = cls(net, init="random", **kwargs)
        module.load_state_dict(state_dict)
        return module

    def get_extra_state(self) -> dict:
        return {"version": _STATE_VERSION, "tau": self.tau}

    def set_extra_state(self, state: Any) -> None:
        if not isinstance(state, dict) or state.get("version") != _STATE_VERSION:
            raise ValueError(f"unsupported RelaxedNetwork state {state!r}")
        self.tau = state["tau"]

    # -- properties -------------------------------------------------------------
    @property
    def tau(self) -> float:
        return self._tau

    @tau.setter
    def tau(self, value: float) -> None:
        self._tau = _positive(value, "tau")

    @property
    def n_inputs(self) -> int:
        return int(self.n_inputs_)

    @property
    def n_gates(self) -> int:
        return self.wiring.shape[0]

    @property
    def n_outputs(self) -> int:
        return self.outputs.shape[0]

    @property
    def link(self) -> str:
        return btype.LINK_MODES[int(self.link_mode)]

    @property
    def is_feedforward(self) -> bool:
        return self._plan(self.theta.device).feedforward

    def _plan(self, device) -> _ops.Plan:
        key = str(device)
        plan = self._plans.get(key)
        if plan is None:
            wiring = self.wiring.cpu().numpy()
            n_in = self.n_inputs
            ff = bool(np.all(wiring < (n_in + np.arange(len(wiring)))[:, None]))
            plan = _ops.Plan(n_in, wiring, self.outputs.cpu().numpy(), ff, device)
            self._plans[key] = plan
        return plan

    # -- the relaxation -------------------------------------------------------
    def enables(self, mode: str = "soft", *, tau: float | None = None, generator: torch.Generator | None = None,
                straight_through: bool = False) -> torch.Tensor:
        """Enable values ``e`` (n_gates, 2) as the forward pass uses them.

        ``"soft"``: ``sigmoid(theta / tau)``. ``"hard"``: ``theta > 0`` forward,
        the soft gradient backward (straight-through). ``"gumbel"``:
        ``sigmoid((theta + L) / tau)`` with logistic noise ``L`` drawn from
        ``generator``; with ``straight_through`` its sign forward.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        tau = self.tau if tau is None else _positive(tau, "tau")
        z = self.theta
        if mode == "gumbel":
            u = torch.rand(z.shape, generator=generator, device=z.device, dtype=z.dtype)
            u = u.clamp(1e-7, 1 - 1e-7)
            z = z + (torch.log(u) - torch.log1p(-u))
        soft = torch.sigmoid(z / tau)
        if mode == "hard" or (mode == "gumbel" and straight_through):
            return (z > 0).to(soft.dtype) + (soft - soft.detach())
        return soft

    def coefficients(self, mode: str = "soft", *, enables: torch.Tensor | None = None,
                     **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Link coefficients ``(alpha, beta)``: a link delivers ``alpha + beta * v``.

        ``enables``, a (n_gates, 2) tensor of pass probabilities in [0, 1], replaces
        the module's own (``self.enables(mode, ...)``): for studies that build their
        own parametrisation of the modifier states.
        """
        # a modified link delivers e * (what it passes) + (1 - e) * 1 (btype.plan's link rule)
        if enables is None:
            e = self.enables(mode, **kwargs)
        elif not isinstance(enables, torch.Tensor) or tuple(enables.shape) != (self.n_gates, 2):
            raise ValueError(f"enables must be a tensor of shape ({self.n_gates}, 2), got "
                             f"{getattr(enables, 'shape', type(enables).__name__)}")
        else:
            e = enables
        one = torch.ones_like(e)
        if PASSING_INVERTS[self.link]:      # passes 1 - v
            alpha, beta = one, -e
        else:                               # passes v
            alpha, beta = 1 - e, e
        mod = self.modifiers
        return torch.where(mod, alpha, one - one), torch.where(mod, beta, one)

    def forward(self, x: torch.Tensor, mode: str = "soft", *, steps: int | None = None,
                initial: torch.Tensor | None = None, tau: float | None = None,
                generator: torch.Generator | None = None, straight_through: bool = False,
                enables: torch.Tensor | None = None) -> torch.Tensor:
        """Relaxed outputs.

        Parameters
        ----------
        x : tensor
            (B, n_inputs) values in [0, 1]; for clocked evaluation also
            (B, T, n_inputs) sequences (frame t at step t, zeros from T on).
            Float32 or float64 (bfloat16 on CUDA).
        mode : {"soft", "hard", "gumbel"}
        steps : int, optional
            Clocked evaluation for ``steps`` synchronous steps (required for a
            machine with loops). None: combinational (feed-forward only).
        initial : tensor, optional
            Gate values at step 0: (n_gates,) shared or (B, n_gates); default 0.
        tau : float, optional
            Temperature for this call (default ``self.tau``).
        generator : torch.Generator, optional
            Source of the gumbel noise.
        straight_through : bool
            Gumbel mode only: hard forward, soft gradient.
        enables : tensor, optional
            (n_gates, 2) pass probabilities to use instead of the module's own
            (see :meth:`coefficients`); ``mode``, ``tau`` and ``generator`` are then unused.

        Returns
        -------
        (B, n_outputs) tensor of x's dtype.
        """
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            x = x.to(torch.float32)
        plan = self._plan(self.theta.device)
        if x.device != self.theta.device:
            raise ValueError(f"x is on {x.device} but the module is on {self.theta.device}")
        alpha, beta = self.coefficients(mode, enables=enables, tau=tau, generator=generator,
                                        straight_through=straight_through)
        if steps is None:
            if not plan.feedforward:
                raise ValueError("this machine has loops: give steps= for clocked evaluation")
            if x.dim() != 2 or x.shape[1] != plan.n_inputs:
                raise ValueError(f"x must have shape (B, {plan.n_inputs}), got {tuple(x.shape)}")
            if initial is not None:
                raise ValueError("initial= needs clocked evaluation (steps=)")
            backend = _ops.pick_backend(self.backend, x.device)
            return _ops.feedforward(x, alpha, beta, plan, backend)
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
            raise ValueError(f"steps must be an int >= 0, got {steps!r}")
        if x.dim() not in (2, 3) or x.shape[-1] != plan.n_inputs:
            raise ValueError(f"x must have shape (B, {plan.n_inputs}) or (B, T, {plan.n_inputs}), "
                             f"got {tuple(x.shape)}")
        init = self._initial(initial, x)
        delayed = self.modifiers & (self.link_mode == 1)
        return _ops.clocked(x, alpha, beta, plan, int(steps), init, delayed)

    def _initial(self, initial, x):
        B, G = x.shape[0], self.n_gates
        if initial is None:
            return x.new_zeros((B, G))
        initial = torch.as_tensor(initial, device=x.device)
        if initial.shape == (G,):
            return initial.to(x.dtype).expand(B, G)
        if initial.shape == (B, G):
            return initial.to(x.dtype)
        raise ValueError(f"initial must have shape ({G},) or ({B}, {G}), got {tuple(initial.shape)}")

    # -- back to a machine ----------------------------------------------------
    def harden(self) -> btype.Network:
        """The machine with ``enabled = theta > 0`` on modified links (others pass)."""
        mods = self.modifiers.cpu().numpy()
        enabled = (self.theta.detach().cpu().numpy() > 0) | ~mods
        return btype.Network(self.n_inputs, self.wiring.cpu().numpy(), self.outputs.cpu().numpy(),
                             enabled=enabled, modifiers=mods, link=self.link)

    def extra_repr(self) -> str:
        return (f"n_inputs={self.n_inputs}, n_gates={self.n_gates}, n_outputs={self.n_outputs}, "
                f"link={self.link!r}, tau={self.tau}, backend={self.backend!r}")


def _initial_theta(net, init, scale, seed):
    G = net.n_gates
    mods = net.modifiers
    if init == "bits":
        s = SATURATED if scale is None else scale
        theta = np.where(net.enabled, s, -s)
    elif init == "random":
        s = 1.0 if scale is None else scale
        theta = np.random.default_rng(seed).normal(0.0, s, size=(G, 2))
    else:
        s = 3.0 if scale is None else scale
        rng = np.random.default_rng(seed)
        keep = rng.integers(0, 2, size=G)
        if init == "pairs":
            keep = _pair_ports(net, keep)
        # where only one link is modified, interrupt that one (the other always passes)
        keep = np.where(mods[:, 0] & ~mods[:, 1], 1, np.where(mods[:, 1] & ~mods[:, 0], 0, keep))
        theta = np.full((G, 2), -s)
        theta[np.arange(G), keep] = s
    return np.where(mods, theta, 0.0).astype(np.float32)


def _pair_ports(net, keep):
    """``keep`` with every even-level gate that reads exactly one gate of the level below keeping that port."""
    if not net.is_feedforward:
        raise ValueError('init="pairs" needs a feed-forward machine (levels); this one has loops')
    gate_level = net.levels()
    level = np.concatenate([np.zeros(net.n_inputs, np.int64), gate_level])
    below = level[np.asarray(net.wiring)] == (gate_level - 1)[:, None]      # (G, 2): port reads level - 1
    paired = (gate_level % 2 == 0) & (below.sum(axis=1) == 1)
    return np.where(paired, below.argmax(axis=1), keep)
