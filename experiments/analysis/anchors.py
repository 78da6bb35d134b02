"""Published reference figures that the results are drawn against."""
from __future__ import annotations

__all__ = ["CGP_MEDIANS"]

#: Published Cartesian GP medians of evaluations to solve, on the General Boolean Function
#: Benchmark Suite tasks that btype has under these names.
CGP_MEDIANS = {"epar8": 1_877_298, "mul3": 317_891, "addc4": 864_099, "cmp4": 1_033_987}
