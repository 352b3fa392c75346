import threading

import pytest

from deepsteg import pipeline
from deepsteg.videosteg import batch_size_for


def test_prefetch_yields_everything_in_order():
    with pipeline.Prefetch(iter(range(50)), depth=3) as items:
        assert list(items) == list(range(50))


def test_prefetch_raises_the_iterables_error_where_the_item_was_due():
    def failing():
        yield 1
        yield 2
        raise ValueError("decoding failed after 2 frames")

    taken = []
    with pytest.raises(ValueError, match="after 2 frames"):
        with pipeline.Prefetch(failing()) as items:
            for item in items:
                taken.append(item)
    assert taken == [1, 2]


def test_prefetch_closes_the_generator_when_the_caller_stops_early():
    closed = threading.Event()

    def endless():
        try:
            number = 0
            while True:
                yield number
                number += 1
        finally:
            closed.set()

    with pipeline.Prefetch(endless(), depth=2) as items:
        for item in items:
            if item == 5:
                break
    assert closed.is_set()


def test_worker_processes_in_order_and_waits_for_the_last_item():
    seen = []
    with pipeline.Worker(seen.append, depth=2) as worker:
        for number in range(30):
            worker.submit(number)
    assert seen == list(range(30))


def test_worker_error_reaches_the_caller_and_stops_it():
    seen = []

    def function(item):
        if item == 3:
            raise ValueError("disk full")
        seen.append(item)

    with pytest.raises(ValueError, match="disk full"):
        with pipeline.Worker(function, depth=1) as worker:
            for number in range(100):
                worker.submit(number)
    assert seen == [0, 1, 2]


def test_worker_drops_what_waits_when_the_caller_fails():
    seen, never = [], threading.Event()

    def slow(item):
        never.wait(0.3)
        seen.append(item)

    with pytest.raises(KeyError):
        with pipeline.Worker(slow, depth=4) as worker:
            for number in range(4):
                worker.submit(number)
            raise KeyError("network failed")
    assert seen == [0]


def test_depth_must_be_positive():
    with pytest.raises(ValueError, match="depth"):
        pipeline.Worker(print, depth=0)
    with pytest.raises(ValueError, match="depth"):
        pipeline.Prefetch([], depth=0)


@pytest.mark.parametrize("size, expected", [((144, 176), 8), ((360, 640), 4), ((720, 1280), 1), ((1080, 1920), 1), ((2160, 3840), 1)])
def test_batch_size_follows_the_frame_size(size, expected):
    assert batch_size_for(*size) == expected
    assert batch_size_for(*size, requested=3) == 3
