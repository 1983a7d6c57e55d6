"""The stream's stages side by side (geo._pipeline): order, errors, stopping early, one core."""

from __future__ import annotations

import threading

import pytest

from geo import _pipeline, geodesic


@pytest.fixture(params=[2, 1], ids=["threads", "one core"])
def cores(request, monkeypatch):
    monkeypatch.setattr(geodesic, "_usable_cores", lambda: request.param)
    return request.param


def test_read_ahead_keeps_the_order_and_reads_on_another_thread(cores):
    where = []

    def items():
        for i in range(50):
            where.append(threading.current_thread())
            yield i

    with _pipeline.read_ahead(items(), ahead=3) as got:
        assert list(got) == list(range(50))
    main = threading.current_thread()
    assert all((t is main) == (cores == 1) for t in where)


def test_read_ahead_raises_the_error_at_the_item_it_stopped_at(cores):
    def items():
        yield 1
        yield 2
        raise ValueError("row 3: bad")

    seen: list[int] = []

    def read() -> None:
        with _pipeline.read_ahead(items()) as got:
            seen.extend(got)

    with pytest.raises(ValueError, match="row 3: bad"):
        read()
    assert seen == [1, 2]


def test_read_ahead_stopped_early_closes_the_generator_and_its_thread(cores):
    closed = threading.Event()
    taken = []

    def items():
        try:
            for i in range(10_000):
                taken.append(i)
                yield i
        finally:
            closed.set()

    before = threading.active_count()

    def read() -> None:
        with _pipeline.read_ahead(items(), ahead=2) as got:
            for item in got:
                if item == 3:
                    raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        read()
    assert closed.is_set()
    assert len(taken) < 10  # at most a few items ahead
    assert threading.active_count() == before


def test_write_behind_writes_every_item_in_order_before_the_block_ends(cores):
    written = []
    where = []

    def write(item):
        where.append(threading.current_thread())
        written.append(item)

    with _pipeline.write_behind(write, behind=2) as put:
        for i in range(100):
            put(i)
    assert written == list(range(100))
    main = threading.current_thread()
    assert all((t is main) == (cores == 1) for t in where)


def test_write_behind_raises_the_error_of_a_write(cores):
    written = []

    def write(item):
        if item == 5:
            raise OSError("disk full")
        written.append(item)

    def put_all() -> None:
        with _pipeline.write_behind(write) as put:
            for i in range(20):
                put(i)

    with pytest.raises(OSError, match="disk full"):
        put_all()
    assert written == [0, 1, 2, 3, 4]


def test_write_behind_drops_what_is_queued_after_an_error_and_joins(cores):
    written = []

    def write(item):
        if item == 0:
            threading.Event().wait(0.5)  # still writing when the block fails
        written.append(item)

    before = threading.active_count()

    def fail() -> None:
        with _pipeline.write_behind(write, behind=1) as put:
            put(0)
            if cores > 1:
                put(1)  # queued while 0 is being written
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        fail()
    assert written == [0]  # the write under way ends; the queued one is dropped
    assert threading.active_count() == before
