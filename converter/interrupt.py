"""Ctrl-C and SIGTERM: one signal ends a run at any ``--jobs``, with one line and exit 130.

A run goes through these states, and a signal (SIGINT from a terminal's Ctrl-C, sent to
the whole process group, or SIGTERM sent to the main process alone) does in each:

1. **Converting** (records read, converted, written to temporary files). In the main
   process the signal raises KeyboardInterrupt (:func:`interrupts`); the writer deletes
   its temporary files, the pool of workers is ended, and the previous outputs stay as they
   were: ``interrupted: no output was changed``. Workers ignore SIGINT (from their start,
   :func:`workers_started`, and :func:`ignore_in_worker`): the main process ends
   them, so that a terminal's Ctrl-C gives
   one line, not a traceback per worker. The thread that feeds batches to the pool waits
   on a stop event as well as on free room (:func:`wait_for_room`), so that the pool can
   close while it waits; whoever consumes the outcomes closes their generator
   (``contextlib.closing``), so that the event is set and the pool ended wherever the
   interrupt lands (left to the garbage collector, an interrupt raised while the main
   process writes would leave the pool's threads waiting at exit).
2. **Putting the outputs in place**: the signal waits until every output is in place
   (:func:`signals_held`, a moment), so a signal never leaves OUTDIR with some outputs of
   each run.
3. **Noting the run in the kept state** once the outputs are in place: the signal ends
   the run with :class:`InterruptedAfterWrite` (:func:`after_write`): ``interrupted after
   the outputs were written``. The outcomes were kept batch by batch as they were made; the
   note's transaction is rolled back, so the next run takes every kept outcome and writes
   the outputs again.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from threading import Event, Semaphore, current_thread, main_thread
from types import FrameType
from typing import Protocol

SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT_INTERRUPTED = 130


class InterruptedAfterWrite(Exception):
    """The run was interrupted after its outputs were put in place, while it saved what
    the next run reuses."""


@contextmanager
def interrupts() -> Iterator[Callable[[], None]]:
    """While a run lasts, SIGTERM ends it like Ctrl-C (state 1). Yields a check that raises
    KeyboardInterrupt again if a signal came: one that lands while Python runs a finalizer
    (a generator's, say) is printed and dropped there, and the run would go on. The
    previous handlers are restored afterwards."""
    received: list[int] = []

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        raise KeyboardInterrupt(f"signal {signum}")

    def check() -> None:
        if received:
            raise KeyboardInterrupt(f"signal {received[0]}")

    previous = {sig: signal.signal(sig, interrupt) for sig in SIGNALS}
    try:
        yield check
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is done, then take their course (state 2; in
    the main thread: elsewhere signals are not handled by Python)."""
    if current_thread() is not main_thread():
        yield
        return
    received: list[tuple[int, FrameType | None]] = []

    def note(signum: int, frame: FrameType | None) -> None:
        received.append((signum, frame))

    previous = {sig: signal.signal(sig, note) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum, frame in received[:1]:
            handler = previous[signal.Signals(signum)]
            if callable(handler):
                handler(signum, frame)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(signum)


class _Written(Protocol):
    @property
    def written(self) -> Sequence[object] | None: ...


@contextmanager
def after_write(writer: _Written) -> Iterator[None]:
    """An interruption once ``writer``'s outputs are in place (state 3) is
    InterruptedAfterWrite."""
    try:
        yield
    except KeyboardInterrupt:
        if writer.written is None:
            raise
        raise InterruptedAfterWrite from None


@contextmanager
def workers_started() -> Iterator[None]:
    """Start worker processes in the block with Ctrl-C ignored: they inherit that (it holds
    across ``exec``, and Python keeps an ignored SIGINT ignored), so that one that comes
    while a worker still imports its modules prints no traceback. Here, one that comes in
    the block is held (blocked), and raised once the block is done; but the block is not
    airtight (a thread that does not block SIGINT, or the start of multiprocessing's
    resource tracker, which unblocks it, can let one be dropped), so a Ctrl-C in the
    moment the workers are started can be lost (a second one ends the run)."""
    if current_thread() is not main_thread():
        yield  # only the main thread may set handlers; ignore_in_worker covers the rest
        return
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def ignore_in_worker() -> None:
    """In a worker process: leave Ctrl-C to the main process, which ends the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def wait_for_room(room: Semaphore, stopping: Event) -> bool:
    """Wait until ``room`` has a place (taken), or the run stops (False): the wait of the
    thread that feeds the pool, which must not keep the pool from closing."""
    while not room.acquire(timeout=0.1):
        if stopping.is_set():
            return False
    return True
