"""``python -m experiments.throughput`` is ``btype throughput`` (:mod:`experiments.bench.throughput`)."""
import sys

from experiments.bench.throughput import main  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
