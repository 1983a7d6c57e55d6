"""The stages of a stream side by side: the next chunk read while this one is measured.

:func:`read_ahead` takes the items of an iterable on a background thread, a few ahead of the
caller; :func:`write_behind` hands items to a writing function on a background thread, in
order. Both keep the order, raise the first error of their thread in the caller's thread (the
exception itself, at the item it stopped at), and stop and join their thread when the ``with``
block ends, whatever ends it (an error, Ctrl-C, or a signal that the command line turns into an
exception): so a writer is never left writing into a file that is being removed.

The libraries doing the work (pyarrow's CSV reader and writer and compute functions, numpy,
shapely, pyproj, scipy's k-d tree) release the GIL for most of it, so on two cores or more the
stages overlap. On one core the stages run one after another in the caller's thread, as
without this module.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar, cast

from geo import geodesic

__all__ = ["read_ahead", "write_behind"]

T = TypeVar("T")

#: The end of the items (a reader's), or the last item (a writer's).
_END = object()


class _Failed:
    """What a reader thread hands on when taking the next item raised."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def side_by_side() -> bool:
    """Whether stages run on threads of their own: on two usable cores or more."""
    return geodesic._usable_cores() > 1


def _drain(items: queue.Queue[object], thread: threading.Thread) -> None:
    """Empty the queue until the thread has ended (it may be waiting to put an item)."""
    while thread.is_alive():
        with contextlib.suppress(queue.Empty):
            items.get(timeout=0.05)
    thread.join()


@contextlib.contextmanager
def read_ahead(items: Iterable[T], *, ahead: int = 1) -> Iterator[Iterator[T]]:
    """Yield the items of ``items``, taken on a background thread up to ``ahead`` in advance.

    Parameters
    ----------
    items : iterable
        Taken only on the background thread (a generator is closed there when the ``with``
        block ends early).
    ahead : int
        Items taken but not yet handed out, at most (bounds the memory).

    Yields
    ------
    iterator
        The items in their order; an error raised while taking an item is raised here, when
        that item would have been handed out.
    """
    if not side_by_side():
        iterator = iter(items)
        try:
            yield iterator
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
        return
    ready: queue.Queue[object] = queue.Queue(maxsize=max(1, ahead))
    stop = threading.Event()

    def take() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                ready.put(item)
                if stop.is_set():
                    return
            ready.put(_END)
        except BaseException as error:  # handed to the caller's thread
            ready.put(_Failed(error))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=take, name="flankmap-read-ahead", daemon=True)

    def handed() -> Iterator[T]:
        while True:
            item = ready.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield cast(T, item)

    thread.start()
    try:
        yield handed()
    finally:
        stop.set()
        _drain(ready, thread)


@contextlib.contextmanager
def write_behind(write: Callable[[T], None], *, behind: int = 1) -> Iterator[Callable[[T], None]]:
    """Yield a function that hands items to ``write``, called on a background thread in order.

    Parameters
    ----------
    write : callable
        Called with each item, one after another, on the background thread.
    behind : int
        Items handed but not yet written, at most (bounds the memory).

    Yields
    ------
    put : callable
        ``put(item)`` queues an item; it raises the error of an earlier ``write``, if one
        failed. When the ``with`` block ends without an error, every item has been written
        (or the first error of ``write`` is raised); when it ends with one, the items not yet
        written are dropped and the thread is joined before the error goes on.
    """
    if not side_by_side():
        yield write
        return
    pending: queue.Queue[object] = queue.Queue(maxsize=max(1, behind))
    failed: list[BaseException] = []
    drop = threading.Event()

    def run() -> None:
        while True:
            item = pending.get()
            if item is _END:
                return
            if failed or drop.is_set():
                continue
            try:
                write(cast(T, item))
            except BaseException as error:  # raised in the caller's thread
                failed.append(error)

    def put(item: T) -> None:
        if failed:
            raise failed[0]
        pending.put(item)

    thread = threading.Thread(target=run, name="flankmap-write-behind", daemon=True)
    thread.start()
    try:
        yield put
    except BaseException:
        drop.set()
        _finish(pending, thread)
        raise
    _finish(pending, thread)
    if failed:
        raise failed[0]


def _finish(pending: queue.Queue[object], thread: threading.Thread) -> None:
    """Queue the end of the items and wait for the writing thread to reach it."""
    pending.put(_END)
    thread.join()
