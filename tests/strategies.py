"""Hypothesis strategies for random machines and inputs."""
import numpy as np
from hypothesis import strategies as st

import btype

SAMPLE_COUNTS = st.sampled_from([1, 2, 63, 64, 65, 130, 200])


@st.composite
def networks(draw, feedforward=True, min_inputs=None):
    """Arbitrary machines: any wiring (feed-forward or with loops), partial modifiers, both link modes."""
    lo = (1 if feedforward else 0) if min_inputs is None else min_inputs
    n_inputs = draw(st.integers(lo, 5))
    n_gates = draw(st.integers(1, 14))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if feedforward:
        wiring = np.array([[rng.integers(0, n_inputs + g) for _ in range(2)] for g in range(n_gates)])
    else:
        wiring = rng.integers(0, n_inputs + n_gates, size=(n_gates, 2))
    frac = draw(st.sampled_from([0.0, 0.3, 0.7, 1.0]))
    modifiers = rng.random((n_gates, 2)) < frac
    enabled = ~modifiers | (rng.random((n_gates, 2)) < 0.5)
    n_outputs = draw(st.integers(1, 4))
    outputs = rng.integers(0, n_inputs + n_gates, size=n_outputs)
    link = draw(st.sampled_from(["switch", "turing"]))
    return btype.Network(n_inputs, wiring, outputs, enabled=enabled, modifiers=modifiers, link=link)


def random_inputs(seed, shape):
    return np.random.default_rng(seed).random(shape) < 0.5
