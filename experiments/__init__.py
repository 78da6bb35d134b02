"""Experiments: matched sweeps of search and gradient descent on B-type machines.

``python -m experiments.compare --preset quick --out results/quick`` runs a sweep and draws
its figures; ``python -m experiments.plot results/quick`` redraws them from the run files.
Importing this package loads nothing heavy; the submodules import what they need.
"""
