"""``python -m experiments.throughput_classify`` is ``btype throughput-classify`` (:mod:`experiments.bench.throughput_classify`)."""
import sys

from experiments.bench.throughput_classify import main  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
