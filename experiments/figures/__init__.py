"""Drawing only: axes-level plots (``plots``: each takes ``ax=None`` and returns the axes),
a sweep's figure set (``make``) and a trained machine's drawing (``draw_machine``)."""
