"""Run one piece of work in a child process while this one goes on (on Linux, by fork).

The report draws its print-only figure this way while it builds the interactive map: the two
share no state and the figure (with the import of matplotlib) is a fifth of the report's
CPU time. The child is a fork of this process, so it starts with everything this one holds
(no pickling of inputs, no imports again); only the result comes back, pickled, through a
pipe, with the warnings and log records the work gave (given again here, in order). The child
writes nothing itself: its standard output and error go to the null device, and it ends by
``os._exit`` (no ``atexit`` handler, no ``finally`` of this process's callers runs there).

Where a fork is not safe or not possible (not Linux, other Python threads running, no process
or pipe to be had, a child that fails or dies), the work runs here, when its result is asked
for: the same result either way, and the work's own error raised here.

A fork copies only the thread that calls it. Python threads (``geo._pipeline``'s, the pool of
``geo.geodesic``, a Jupyter kernel's) are counted by :func:`threading.active_count`, and any
one of them keeps the work here. The native thread pools that importing numpy, scipy and
pyarrow starts (OpenBLAS, jemalloc, Arrow) are not counted; those libraries register fork
handlers (``pthread_atfork``) that leave their locks usable in the child.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
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
    """Whether a fork is safe here: Linux, and no Python thread but this one."""
    return (
        ENABLED
        and sys.platform.startswith("linux")
        and hasattr(os, "fork")
        and threading.active_count() == 1
    )


class _Records(logging.Handler):
    """Keep the log records of the child, to be handled again in the parent."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args, record.exc_info = record.getMessage(), None, None
        self.records.append(record)


def _quiet_child() -> _Records:
    """Silence the child: no output of its own, its log records kept, its signals plain."""
    for number in (1, 2):  # nothing of the child's reaches the parent's output
        with contextlib.suppress(OSError):
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, number)
            os.close(null)
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (the child's to its end)
    # The parent stops the child (SIGTERM) if it must; the handlers the command line set
    # (SIGTERM, SIGHUP into an exception) and Ctrl-C are the parent's business.
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    records = _Records()
    for each in list(logging.root.manager.loggerDict.values()):
        if isinstance(each, logging.Logger):
            each.handlers, each.propagate = [], True
    logging.root.handlers = [records]
    return records


def _run(send: Any, func: Callable[[], Any]) -> None:
    """Run ``func`` in the child; send back its result, warnings and log records."""
    try:
        records = _quiet_child()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = func()
        said = [(str(w.message), w.category, w.filename, w.lineno) for w in caught]
        send.send((True, value, said, records.records))
    except BaseException as exc:  # the parent does the work itself and meets the error there
        with contextlib.suppress(Exception):  # a closed pipe: the parent sees EOF
            send.send((False, repr(exc), [], []))
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
        for stream in (sys.stdout, sys.stderr):  # else the child holds their buffers too
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        receive = send = None
        # The child's garbage collections skip what exists now (frozen), so that they touch
        # none of its pages: else each page they touch is copied, in CPU time and memory.
        frozen = gc.get_freeze_count() == 0
        if frozen:
            gc.freeze()
        try:
            import multiprocessing

            context = multiprocessing.get_context("fork")
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=_run, args=(send, func), daemon=True)
            process.start()
        except (ImportError, OSError, ValueError) as exc:  # no fork, process or pipe here
            logger.debug("no child process (%s): the work runs here", exc)
            for end in (receive, send):
                if end is not None:
                    end.close()
            return
        finally:
            if frozen:
                gc.unfreeze()
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
        answer: tuple[Any, ...] = (False, "no result", [], [])
        try:
            answer = self._receive.recv()
        except (EOFError, OSError):  # the child died before it answered
            pass
        finally:  # also on Ctrl-C here: the child is stopped, and waited for
            self._end(stop=not answer[0])
        ok, value, said, records = answer
        if not ok:
            logger.debug("the child process failed (%s): the work runs here", value)
            return self._func()
        for record in records:
            logging.getLogger(record.name).handle(record)
        registry: dict[Any, Any] = {}  # the same warning once, as when made here
        for message, category, filename, lineno in said:
            warnings.warn_explicit(message, category, filename, lineno, registry=registry)
        result: T = value
        return result

    def _end(self, *, stop: bool) -> None:
        """Close the pipe and wait for the child (stopping it first if ``stop``)."""
        process, self._process = self._process, None
        if process is None:
            return
        self._receive.close()
        if stop and process.is_alive():
            process.terminate()
        process.join()  # reaped: no zombie left
        process.close()

    def cancel(self) -> None:
        """Stop the child, if the result is no longer wanted (no-op after :meth:`result`)."""
        self._end(stop=True)
