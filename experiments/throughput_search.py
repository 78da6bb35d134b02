"""``python -m experiments.throughput_search`` is ``btype throughput-search`` (:mod:`experiments.bench.throughput_search`)."""
import sys

from experiments.bench.throughput_search import main, measure  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
