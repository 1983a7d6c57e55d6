"""Run one piece of work in a child process while this one goes on (on Linux, by fork).

The report draws its print-only figure this way while it builds the interactive map: the two
share no state and the figure (with the import of matplotlib) is a fifth of the report's
CPU time. The child is a fork of this process, so it starts with everything this one holds
(no pickling of inputs, no imports again); only the result comes back, pickled, through a
pipe. Where a fork is not safe or not possible (not Linux, other threads running, a child
that fails), the work runs here, when its result is asked for: the same result either way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any, Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Whether work may go to a child process at all (tests turn it off to compare).
ENABLED = True


def _forkable() -> bool:
    """Whether a fork is safe here: Linux, and no thread but this one (a fork copies no thread)."""
    return (
        ENABLED
        and sys.platform.startswith("linux")
        and hasattr(os, "fork")
        and threading.active_count() == 1
    )


def _run(send: Any, func: Callable[[], Any]) -> None:
    """Run ``func`` in the child; send back its result and the warnings it gave."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = func()
        said = [(str(w.message), w.category, w.filename, w.lineno) for w in caught]
        send.send((True, value, said))
    except BaseException as exc:  # the parent does the work itself and meets the error there
        with contextlib.suppress(Exception):  # a closed pipe: the parent sees EOF
            send.send((False, repr(exc), []))
    finally:
        send.close()


class Apart(Generic[T]):
    """Work started in a child process; :meth:`result` waits for it.

    Parameters
    ----------
    func : callable
        The work, without arguments; its result must pickle. It must not depend on what this
        process does after the start (the child sees this process as it was then).
    """

    def __init__(self, func: Callable[[], T]) -> None:
        self._func = func
        self._process: Any = None
        self._receive: Any = None
        if not _forkable():
            return
        import multiprocessing

        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        for stream in (sys.stdout, sys.stderr):  # else the child writes their buffers again
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        process = context.Process(target=_run, args=(send, func), daemon=True)
        try:
            process.start()
        except OSError as exc:  # no memory or process left for a fork: do it here
            logger.debug("no child process (%s): the work runs here", exc)
            receive.close()
            send.close()
            return
        send.close()
        self._process, self._receive = process, receive

    def result(self) -> T:
        """Return the work's result: the child's, else (no child, or it failed) made here.

        Raises
        ------
        Exception
            Whatever the work raises (raised here, by running it in this process).
        """
        if self._process is None:
            return self._func()
        try:
            ok, value, said = self._receive.recv()
        except (EOFError, OSError):
            ok, value, said = False, "no result", []
        finally:
            self._receive.close()
            self._process.join()
            self._process = None
        if not ok:
            logger.debug("the child process failed (%s): the work runs here", value)
            return self._func()
        for message, category, filename, lineno in said:
            warnings.warn_explicit(message, category, filename, lineno)
        result: T = value
        return result

    def cancel(self) -> None:
        """Stop the child, if the result is no longer wanted (no-op after :meth:`result`)."""
        if self._process is None:
            return
        self._process.terminate()
        self._process.join()
        self._receive.close()
        self._process = None
