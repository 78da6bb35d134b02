"""Ctrl-C, SIGTERM and a vanished parent, in a sweep's own process and in its pool workers.

A sweep stops cleanly whatever ends it:

- **Ctrl-C or SIGTERM in a worker** (a terminal's Ctrl-C reaches the whole process group)
  stops the running job once: its trainer returns early, nothing of it is written, and
  no further job starts in that worker. A job that is writing its run file finishes the
  write first (see :func:`writing`), so a file on disk is always a counted, finished run.
- **Ctrl-C or SIGTERM in the sweep's process** raises KeyboardInterrupt once; the signals
  that follow while the sweep winds down are ignored (:func:`stop_signals`), so a second
  Ctrl-C cannot cut the shutdown of the pool or the count of finished runs.
- **A parent that is gone** (killed with SIGKILL, or ended without shutting its pool down):
  each worker watches its parent (:func:`init_worker` starts the watchdog thread), stops
  its job as on Ctrl-C, and exits once no file is being written.

Inside Numba's compiler a KeyboardInterrupt can land in one of llvmlite's ctypes callbacks,
which prints a traceback and swallows it: there it is raised when the compiler lock is
released (:class:`_AfterCompiling`), and one swallowed elsewhere is delivered again
(:func:`_redeliver_swallowed_interrupt`).
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

__all__ = ["State", "STATE", "init_worker", "jobs_in_this_process", "sigint_ignored", "writing",
           "running", "stop_signals", "stop_children", "SIGNAL_STATUS", "PARENT_POLL_SECONDS"]

#: The exit status of a command stopped by each signal (128 + the signal's number).
SIGNAL_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}
#: How often a worker checks that its parent is alive.
PARENT_POLL_SECONDS = 0.2
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class State:
    """What this process is doing: the running job, whether it is writing its file,
    whether a stop was asked (no further job starts) and whether the running job was
    already told to stop (one KeyboardInterrupt per job)."""

    def __init__(self):
        self.running = None
        self.writing = False
        self.stopped = None  # the signal (or "parent gone") that stopped this process
        self.raised = False
        self.in_hook = False

    def reset(self):
        self.__init__()


STATE = State()


def _stop_running_job(signum, frame):
    if STATE.stopped is None:
        STATE.stopped = signum
    if stop_signals.received is None:  # the command's own process (jobs run in it): its exit status
        stop_signals.received = signum
    if STATE.running is None or STATE.writing or STATE.raised:
        return
    if STATE.in_hook:  # inside the hook that redelivers a swallowed one: it would be lost there
        _redeliver_later()
        return
    lock = sys.modules.get("numba.core.compiler_lock")
    if lock is not None and lock.global_compiler_lock.is_locked():
        _after_compiling.arm()
        return
    STATE.raised = True
    raise KeyboardInterrupt


class _AfterCompiling:
    """Raises a deferred stop's KeyboardInterrupt in the thread that held Numba's compiler
    lock, as it releases the lock's outermost hold (a Numba event listener, registered at
    the first deferral: this module does not import numba)."""

    def __init__(self):
        self.armed = False
        self.listening = False

    def arm(self):
        if not self.listening:
            import numba.core.event as ev

            class RaiseAfterCompiling(ev.Listener):
                def on_start(_self, event):
                    pass

                def on_end(_self, event):
                    self.on_release()

            ev.register("numba:compiler_lock", RaiseAfterCompiling())
            self.listening = True
        self.armed = True

    def on_release(self):
        from numba.core.compiler_lock import global_compiler_lock
        if self.armed and not global_compiler_lock.is_locked():
            self.armed = False
            if STATE.running is not None and not STATE.writing and not STATE.raised:
                STATE.raised = True
                raise KeyboardInterrupt


_after_compiling = _AfterCompiling()


def _redeliver_swallowed_interrupt(unraisable):
    """``sys.unraisablehook`` while jobs run: a KeyboardInterrupt raised inside a callback
    that Python cannot propagate (a weakref callback, a ``__del__``, a ctypes callback) is
    delivered again instead of printed, so that it stops the job."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt) and STATE.running is not None:
        STATE.raised = False  # it never reached the job
        STATE.in_hook = True
        try:
            _redeliver_later()
        finally:
            STATE.in_hook = False
    else:
        _hook_before[0](unraisable)


def _redeliver_later() -> None:
    # from another thread, a moment later: delivered in the hook, it would be swallowed again
    threading.Timer(0.001, _interrupt_main_if_running).start()


def _interrupt_main_if_running() -> None:
    if STATE.running is not None:
        import _thread
        _thread.interrupt_main(signal.SIGINT)  # runs _stop_running_job in the main thread


_hook_before = [sys.__unraisablehook__]


def _handle_stop_signals() -> None:
    for signum in _STOP_SIGNALS:
        signal.signal(signum, _stop_running_job)
    if sys.unraisablehook is not _redeliver_swallowed_interrupt:
        _hook_before[0] = sys.unraisablehook
        sys.unraisablehook = _redeliver_swallowed_interrupt


@contextlib.contextmanager
def running(name: str):
    """Mark job ``name`` as running in this process (a stop signal now interrupts it).

    Raises KeyboardInterrupt at once when this process was already stopped.
    """
    if STATE.stopped is not None:
        raise KeyboardInterrupt("the sweep was interrupted")
    STATE.running, STATE.raised = name, False
    try:
        yield
    finally:
        STATE.running, STATE.writing = None, False


@contextlib.contextmanager
def writing():
    """Hold stop signals off while a finished run's files are written (they are recorded,
    and stop the next job instead)."""
    STATE.writing = True
    try:
        yield
    finally:
        STATE.writing = False


@contextlib.contextmanager
def jobs_in_this_process():
    """Ctrl-C or SIGTERM while jobs run in the calling process (``--workers 0``), as in a
    pool worker: it is recorded, so that a job whose KeyboardInterrupt a library turned
    into another error still stops the sweep, and one after the last job's end raises
    KeyboardInterrupt on leaving. Restores the previous handlers."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # e.g. a background job: leave it so
        yield
        return
    STATE.reset()
    previous = {signum: signal.getsignal(signum) for signum in _STOP_SIGNALS}
    previous_hook = sys.unraisablehook
    _handle_stop_signals()
    try:
        yield
        if STATE.stopped is not None:  # a stop between or after the jobs
            raise KeyboardInterrupt("the sweep was interrupted")
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sys.unraisablehook = previous_hook
        _after_compiling.armed = False
        STATE.reset()


@contextlib.contextmanager
def sigint_ignored():
    """Ignore Ctrl-C and SIGTERM while pool workers are started: an ignored signal stays
    ignored in the new process until :func:`init_worker` runs, so a signal while a worker
    imports its modules cannot kill it with a traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in _STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _first_signal_only(signum, frame):
    if stop_signals.received is None:
        stop_signals.received = signum
        raise KeyboardInterrupt
    # a second Ctrl-C (or SIGTERM) while the first one winds the sweep down: ignored


@contextlib.contextmanager
def stop_signals():
    """In a command's own process: the first Ctrl-C or SIGTERM raises KeyboardInterrupt,
    and those that follow are ignored while the command winds down (its pool shut down,
    its finished runs counted). ``stop_signals.received`` says which signal came first."""
    stop_signals.received = None
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _first_signal_only) for signum in _STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


stop_signals.received = None


def stop_children(*, kill: bool = False) -> None:
    """Ask this process's worker processes (``multiprocessing.active_children()``) to stop
    their jobs, as a Ctrl-C at the terminal would (a signal sent to this process alone
    does not reach them); ``kill=True`` ends them at once (SIGKILL)."""
    import multiprocessing
    for child in multiprocessing.active_children():
        with contextlib.suppress(ProcessLookupError, TypeError):
            os.kill(child.pid, signal.SIGKILL if kill else signal.SIGINT)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    STATE.stopped = STATE.stopped or "parent gone"
    _interrupt_main_if_running()
    deadline = time.monotonic() + 60
    while STATE.running is not None and time.monotonic() < deadline:  # a file being written
        time.sleep(0.05)
    os._exit(0)


def init_worker(threads: int) -> None:
    """Process-pool initializer: fix thread counts before numba or torch load; Ctrl-C and
    SIGTERM stop only the running job; a watchdog thread ends this worker when its parent
    is gone.

    A spawned worker imports the parent's main module before this runs, so a script
    that uses a pool keeps ``import btype`` (which loads numba) out of its top level.
    """
    STATE.reset()
    _handle_stop_signals()
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True,
                     name="btype-parent-watchdog").start()
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
