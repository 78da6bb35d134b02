"""Experiments: matched sweeps of search and gradient descent on B-type machines.

``btype compare --preset quick --out results/quick`` runs a sweep and draws its figures;
``btype plot results/quick`` redraws them from the run files. The sweep engine is in
:mod:`experiments.sweep`, numbers in :mod:`experiments.analysis`, drawing in
:mod:`experiments.figures`, benchmark scripts in :mod:`experiments.bench`. Importing this
package loads nothing heavy; the submodules import what they need.
"""
