"""Running the stages of a video job at the same time: decoding, the network, encoding.

A video job has three stages that can overlap: decoding the inputs (and preparing the batches),
the network, and encoding the results (with the writer's bit-exact check and the per-frame
metrics). :class:`Prefetch` runs the first in a thread, a few batches ahead; :class:`Worker` runs
the last in another thread, a few batches behind; the network runs in the calling thread. PyAV,
OpenCV and the inference engines release the GIL while they work, so on a 2-core machine the
stages share the cores instead of waiting for each other. Queues are bounded (memory stays flat
in the video's length), errors in any stage reach the caller, and a stage that fails stops the
others.
"""

from __future__ import annotations

import queue
import threading

from deepsteg.files import CommitOnExit

_POLL_SECONDS = 0.1


def _put(waiting: queue.Queue, item, keep_trying) -> bool:
    """Puts ``item`` on a bounded queue, waiting while it is full for as long as ``keep_trying()``
    is true (it may also raise); False if it gave up."""
    while keep_trying():
        try:
            waiting.put(item, timeout=_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


class Prefetch:
    """Iterates ``iterable`` in a background thread, at most ``depth`` items ahead of the caller.

    Use as a context manager; leaving it (also on an error) stops the thread and closes the
    iterable (a generator's ``finally`` blocks run, so its files are closed). An exception in the
    iterable is raised again where the caller takes the item it would have produced.
    """

    def __init__(self, iterable, depth: int = 2, name: str = "prefetch"):
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        self._queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(iterable,), name=name, daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        return _put(self._queue, item, lambda: not self._stop.is_set())

    def _run(self, iterable):
        iterator = iter(iterable)
        try:
            for item in iterator:
                if not self._put(("item", item)):
                    return
            self._put(("end", None))
        except BaseException as error:  # handed to the caller
            self._put(("error", error))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    def __iter__(self):
        while True:
            kind, value = self._queue.get()
            if kind == "item":
                yield value
            elif kind == "end":
                return
            else:
                raise value

    def close(self):
        self._stop.set()
        self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()
        return False


class Worker(CommitOnExit):
    """Calls ``function(item)`` in a background thread for each submitted item, in order.

    At most ``depth`` items wait. :meth:`submit` and :meth:`close` raise the first exception
    ``function`` raised (nothing more is processed after it). Use as a context manager: leaving
    it normally waits for the last item (:meth:`close`); leaving it on an error stops the
    thread without processing what is still waiting (:meth:`abort`).
    """

    def __init__(self, function, depth: int = 2, name: str = "worker"):
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        self._function = function
        self._queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._error = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                kind, item = self._queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
            if kind == "end":
                return
            try:
                self._function(item)
            except BaseException as error:  # handed to the caller
                self._error = error
                return

    def _raise_error(self):
        if self._error is not None:
            error, self._error = self._error, None
            self._stop.set()
            raise error

    def _running(self) -> bool:
        self._raise_error()
        if not self._thread.is_alive():
            raise RuntimeError("the worker thread has stopped")
        return True

    def submit(self, item):
        """Queues ``item`` (waits while ``depth`` items are waiting)."""
        _put(self._queue, ("item", item), self._running)

    def close(self):
        """Waits until every submitted item is processed; raises the worker's exception if any."""
        _put(self._queue, ("end", None), self._thread.is_alive)
        self._thread.join()
        self._raise_error()

    def abort(self):
        """Stops the thread; items still waiting are dropped."""
        self._stop.set()
        self._thread.join()

