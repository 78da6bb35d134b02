"""Grouping runs: by method in the registry's fixed order, and task names in natural order."""
from __future__ import annotations

import btype

__all__ = ["METHOD_ORDER", "by_method", "natural_key"]

METHOD_ORDER = tuple(btype.trainers())  # the registry's order


def by_method(runs) -> dict:
    """``{method: [runs]}`` in the fixed method order (unknown methods last, by name)."""
    groups = {}
    for run in runs:
        groups.setdefault(run.method, []).append(run)
    rank = {m: i for i, m in enumerate(METHOD_ORDER)}
    return {m: groups[m] for m in sorted(groups, key=lambda m: (rank.get(m, len(rank)), m))}


def natural_key(name: str):
    """Sort key putting ``parity10`` after ``parity9``."""
    head = name.rstrip("0123456789")
    tail = name[len(head):]
    return (head, int(tail) if tail else -1, name)
