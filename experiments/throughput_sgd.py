"""``python -m experiments.throughput_sgd`` is ``btype throughput-sgd`` (:mod:`experiments.bench.throughput_sgd`)."""
import sys

from experiments.bench.throughput_sgd import main  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
