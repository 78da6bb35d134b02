"""Opening data files, plain or gzipped, with errors that name the file and limits on sizes."""
from __future__ import annotations

import gzip
import os
import zlib
from contextlib import contextmanager

__all__ = ["opened", "read_at_most", "DEFAULT_MAX_BYTES"]

#: Largest file content (after decompression) that the task readers load: 2 GiB.
DEFAULT_MAX_BYTES = 1 << 31


@contextmanager
def opened(path):
    """A binary file object for ``path``, gunzipping when the name ends in ``.gz``.

    A truncated or foreign ``.gz`` file raises ValueError naming the file (also
    when the damage shows only while reading inside the ``with`` block).
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a directory, not a file")
    try:
        with (gzip.open if path.endswith(".gz") else open)(path, "rb") as fh:
            yield fh
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: not a readable gzip file ({exc or type(exc).__name__})") from None


def read_at_most(fh, path, max_bytes: int, what: str = "the file") -> bytes:
    """The rest of ``fh``, refusing more than ``max_bytes`` with an error saying how to raise it."""
    raw = fh.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ValueError(f"{path}: {what} is larger than max_bytes={max_bytes:,}"
                         + (" after decompression" if os.fspath(path).endswith(".gz") else "")
                         + "; pass a larger max_bytes= to read it")
    return raw
