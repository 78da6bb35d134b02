"""The fast ES and annealing kernels against slow, obviously correct Python versions.

The slow versions below share no code with ``btype.search``: their own
xoshiro256** and splitmix64 (from the published algorithms), their own
mutation draw, cone and scoring on ``btype.reference`` (one sample at a time).
Both consume the same random stream, so the trajectories must agree step for
step: after every step the current score and genome (and annealing's best)
are compared, not only the final outcome.
"""
import math

import numpy as np
import pytest

import btype
import btype.search.anneal
import btype.search.es
from btype import reference
from btype.search import _kernels as K
from btype.search.core import SearchRun
from btype.search.method import COMMON

MASK = (1 << 64) - 1


class Xoshiro:
    """xoshiro256** seeded by splitmix64, in plain Python integers."""

    def __init__(self, seed):
        x, self.s = seed, []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            self.s.append(z ^ (z >> 31))

    def next(self):
        s0, s1, s2, s3 = self.s
        rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & MASK
        result = (rotl((s1 * 5) & MASK, 7) * 9) & MASK
        t = (s1 << 17) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result

    def below(self, n):
        return ((self.next() >> 32) * n) >> 32

    def uniform(self):
        return (self.next() >> 11) / 2.0 ** 53


def wired_cone_gates(net):
    seen, todo = set(), [int(o) for o in net.outputs]
    while todo:
        node = todo.pop()
        if node >= net.n_inputs and node not in seen:
            seen.add(node)
            todo.extend(int(s) for s in net.wiring[node - net.n_inputs])
    return {node - net.n_inputs for node in seen}


def active_gates(net, bits, links):
    """Gates with a path of live links (unmodified, or modified and passing) to an output."""
    enabled = np.array(net.enabled)
    for (g, p), b in zip(links, bits):
        enabled[g, p] = bool(b)
    seen, todo = set(), [int(o) for o in net.outputs]
    while todo:
        node = todo.pop()
        if node >= net.n_inputs and node not in seen:
            seen.add(node)
            g = node - net.n_inputs
            todo.extend(int(net.wiring[g, p]) for p in range(2)
                        if not net.modifiers[g, p] or enabled[g, p])
    return {node - net.n_inputs for node in seen}


class SlowLocalSearch:
    """Local search: ES with neutral drift (temperature 0) or annealing.

    ES options as in ``btype.search.es``: ``flip_dist`` ("fixed" or
    "geometric": 1 + a geometric count with mean ``flips``), ``strict``
    (accept only strictly better), ``restart`` (fresh random genome after so
    many evaluations without a new best).
    """

    def __init__(self, net, task, seed, flips, mutation, temperature=None, flip_dist="fixed",
                 strict=False, restart=None):
        self.net, self.task, self.flips, self.temperature = net, task, flips, temperature
        self.flip_dist, self.strict, self.restart = flip_dist, strict, restart
        self.links = [tuple(map(int, gp)) for gp in np.argwhere(net.modifiers)]
        self.bits = [int(net.enabled[g, p]) for g, p in self.links]
        cone = wired_cone_gates(net)
        self.in_cone = [g in cone for g, _ in self.links]
        # "flips": any link; "cone": only links of gates in the output cone
        self.pool = [m for m in range(len(self.links)) if mutation == "flips" or self.in_cone[m]]
        self.rng = Xoshiro(seed)
        self.norm = len(task.X_train) * task.n_outputs
        self.cur = self.score(self.bits)
        self.best, self.best_bits, self.step = self.cur, list(self.bits), 0
        self.evals, self.since, self.restarts = 1, 0, 0

    def score(self, bits):
        enabled = np.array(self.net.enabled)
        for (g, p), b in zip(self.links, bits):
            enabled[g, p] = bool(b)
        Y = reference.evaluate(self.net.with_enabled(enabled), self.task.X_train)
        return float((Y != self.task.Y_train).sum())

    def draw(self):
        k = self.flips
        if self.flip_dist == "geometric" and k > 1:
            u = 1.0 - self.rng.uniform()
            k = 1 + math.floor(math.log(u) / math.log1p(-1.0 / k))
        chosen = []
        while len(chosen) < min(k, len(self.pool)):
            m = self.pool[self.rng.below(len(self.pool))]
            if m not in chosen:
                chosen.append(m)
        return chosen

    def advance(self):
        t = self.temperature(self.step) if self.temperature else 0.0
        chosen = self.draw()
        child = list(self.bits)
        for m in chosen:
            child[m] ^= 1
        active = active_gates(self.net, self.bits, self.links)
        if not any(self.links[m][0] in active for m in chosen):
            if not self.strict:
                self.bits = child                 # no output can change: kept unevaluated
        else:
            s = self.score(child)
            self.evals += 1
            keep = s < self.cur if self.strict else s <= self.cur
            if not keep and t > 0:
                keep = self.rng.uniform() < math.exp(-(s - self.cur) / self.norm / t)
            if keep:
                self.bits, self.cur = child, s
        if self.cur < self.best:
            self.best, self.best_bits, self.since = self.cur, list(self.bits), self.evals
        elif self.restart and self.evals - self.since >= self.restart:
            self.bits = []
            for w in range(0, len(self.links), 64):
                r = self.rng.next()
                self.bits += [(r >> i) & 1 for i in range(min(64, len(self.links) - w))]
            self.cur = self.score(self.bits)
            self.evals += 1
            self.restarts += 1
            self.since = self.evals
            if self.cur < self.best:
                self.best, self.best_bits = self.cur, list(self.bits)
        self.step += 1


def task_and_net(link, seed):
    X = ((np.arange(32)[:, None] >> np.arange(5)) & 1).astype(bool)
    Y = np.stack([X[:, 0] & X[:, 1] | X[:, 2], X[:, 3] & ~X[:, 4]], axis=1)
    task = btype.tasks.Task("two", X, Y, X, Y)
    net = btype.random_network(5, 40, 2, layers=5, reach=2, seed=seed, link=link,
                               modified_fraction=0.8)
    return task, net


def fast_run(method_cls, net, task, seed, options):
    budget = btype.Budget(steps=10 ** 6)
    method = method_cls(options, n_links=net.n_modified, budget=budget)
    run = SearchRun(net, task, method, budget, seed, dict(COMMON))
    method.start(run)
    return run, method


ES_CASES = [
    dict(flips=1, mutation="flips"), dict(flips=3, mutation="flips"), dict(flips=1, mutation="cone"),
    dict(flips=2, mutation="cone"), dict(flips=3, mutation="cone", flip_dist="geometric"),
    dict(flips=1, mutation="cone", accept="better"), dict(flips=1, mutation="cone", restart=40),
    dict(flips=2, mutation="flips", flip_dist="geometric", restart=25)]


@pytest.mark.parametrize("link", ["switch", "turing"])
@pytest.mark.parametrize("options", ES_CASES, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_es_trajectory_equals_slow_es(link, options):
    task, net = task_and_net(link, seed=3)
    run, method = fast_run(btype.search.es.ES, net, task, 11, options)
    slow = SlowLocalSearch(net, task, 11, options["flips"], options["mutation"],
                           flip_dist=options.get("flip_dist", "fixed"),
                           strict=options.get("accept") == "better", restart=options.get("restart"))
    assert run.state["cur"] == slow.cur
    accepted_scores, sizes = set(), set()
    for step in range(1, 400):
        before = list(slow.bits)
        method.chunk(run, K.limits(1 << 60, 1 << 60, step, 1 << 60, -1.0))
        slow.advance()
        assert run.counter("gens") == step
        assert run.state["cur"] == slow.cur, f"step {step}"
        assert run.bits.tolist() == slow.bits, f"step {step}"
        assert run.counter("evals") == slow.evals, f"step {step}"
        assert run.counter("restarts") == slow.restarts
        assert run.state["best"] == slow.best and run.best_bits.tolist() == slow.best_bits
        accepted_scores.add(slow.cur)
        sizes.add(sum(a != b for a, b in zip(before, slow.bits)))
    assert len(accepted_scores) > 1          # the search moved: the comparison is not vacuous
    assert run.counter("skipped") > 0        # offspring on inactive gates were met and skipped
    if options.get("restart"):
        assert slow.restarts > 0
    if options.get("flip_dist") == "geometric":
        assert len(sizes - {0}) > 2          # offspring of several sizes were kept


@pytest.mark.parametrize("link, mutation", [("switch", "flips"), ("turing", "cone")])
def test_anneal_trajectory_equals_slow_anneal(link, mutation):
    task, net = task_and_net(link, seed=5)
    options = {"schedule": "exp", "t_start": 0.2, "t_end": 0.01, "length": 150, "cycle": True,
               "mutation": mutation}
    run, method = fast_run(btype.search.anneal.Anneal, net, task, 4, options)

    def temperature(step):                   # the documented exponential schedule with reheating
        x = step / 150 - math.floor(step / 150)
        return 0.2 * (0.01 / 0.2) ** x

    slow = SlowLocalSearch(net, task, 4, 1, mutation, temperature)
    worse_accepted = 0
    for step in range(1, 400):
        before = slow.cur
        method.chunk(run, K.limits(1 << 60, 1 << 60, step, 1 << 60, -1.0))
        slow.advance()
        worse_accepted += slow.cur > before
        assert run.state["cur"] == slow.cur, f"step {step}"
        assert run.bits.tolist() == slow.bits, f"step {step}"
        assert run.counter("evals") == slow.evals, f"step {step}"
        assert run.state["best"] == slow.best and run.best_bits.tolist() == slow.best_bits
    assert worse_accepted > 0                # the Metropolis branch was exercised
