"""``python -m experiments.bench_cgp`` is ``btype bench-cgp`` (:mod:`experiments.bench.bench_cgp`)."""
import sys

from experiments.bench.bench_cgp import main  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
