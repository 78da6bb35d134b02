"""Tasks: truth tables, PLA files, real data sets and clocked sequence tasks."""
from .base import Score, Task, classify

__all__ = ["Task", "Score", "classify"]
