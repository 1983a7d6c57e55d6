"""Tests of geo._apart: work in a forked child, or here, with the same result."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import warnings

import pytest

from geo import _apart

pytestmark = [
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="the child process is Linux-only"
    ),
    pytest.mark.usefixtures("only_new_threads_counted"),
]


def _pid_and_squares() -> tuple[int, list[int]]:
    return os.getpid(), [i * i for i in range(1000)]


def test_the_work_runs_in_a_child_with_the_result_made_here():
    pid, squares = _apart.Apart(_pid_and_squares).result()
    here_pid, here = _pid_and_squares()
    assert pid != here_pid
    assert squares == here


def test_disabled_it_runs_here(monkeypatch):
    monkeypatch.setattr(_apart, "ENABLED", False)
    assert _apart.Apart(os.getpid).result() == os.getpid()


def test_another_thread_keeps_the_work_here():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert _apart.Apart(os.getpid).result() == os.getpid()
    finally:
        stop.set()
        thread.join()
    assert _apart.Apart(os.getpid).result() != os.getpid()


def test_not_linux_it_runs_here(monkeypatch):
    monkeypatch.setattr(_apart.sys, "platform", "darwin")
    assert _apart.Apart(os.getpid).result() == os.getpid()


def test_no_fork_to_be_had_it_runs_here(monkeypatch):
    import multiprocessing.context

    def refused(self: object) -> None:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.context.ForkProcess, "start", refused)
    assert _apart.Apart(os.getpid).result() == os.getpid()


def test_a_child_that_fails_or_dies_leaves_the_work_here():
    parent = os.getpid()

    def fails_in_the_child() -> int:
        if os.getpid() != parent:
            raise RuntimeError("child")
        return 7

    def dies_in_the_child() -> int:
        if os.getpid() != parent:
            os._exit(3)
        return 8

    def unpicklable_in_the_child() -> object:
        return (lambda: 9) if os.getpid() != parent else 9

    assert _apart.Apart(fails_in_the_child).result() == 7
    assert _apart.Apart(dies_in_the_child).result() == 8
    assert _apart.Apart(unpicklable_in_the_child).result() == 9


def test_the_works_own_error_is_raised_here():
    def always_fails() -> int:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        _apart.Apart(always_fails).result()


def test_the_child_writes_nothing_its_warnings_and_logs_come_here(capfd, caplog):
    def noisy() -> int:
        print("from the child")
        sys.stderr.write("from the child\n")
        os.write(1, b"raw from the child\n")
        logging.getLogger("geo.figures").warning("a notice on %s", "glyphs")
        warnings.warn("a warning", UserWarning, stacklevel=1)
        return os.getpid()

    with caplog.at_level(logging.WARNING), pytest.warns(UserWarning, match="a warning"):
        assert _apart.Apart(noisy).result() != os.getpid()
    out, err = capfd.readouterr()
    assert "from the child" not in out + err
    assert [r.getMessage() for r in caplog.records] == ["a notice on glyphs"]
    assert caplog.records[0].name == "geo.figures"


def test_cancel_stops_and_reaps_the_child():
    def slow() -> int:
        time.sleep(30)
        return 1

    work = _apart.Apart(slow)
    process = work._process
    assert process is not None
    pid = process.pid
    started = time.monotonic()
    work.cancel()
    assert time.monotonic() - started < 10
    with pytest.raises(ChildProcessError):  # waited for already: no zombie
        os.waitpid(pid, os.WNOHANG)
    work.cancel()  # again: nothing to do
