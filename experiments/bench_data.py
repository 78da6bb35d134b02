"""``python -m experiments.bench_data`` is ``btype bench-data`` (:mod:`experiments.bench.bench_data`)."""
import sys

from experiments.bench.bench_data import main  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
