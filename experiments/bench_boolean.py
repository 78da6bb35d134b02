"""``python -m experiments.bench_boolean`` is ``btype bench-boolean`` (:mod:`experiments.bench.bench_boolean`)."""
import sys

from experiments.bench.bench_boolean import main  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
