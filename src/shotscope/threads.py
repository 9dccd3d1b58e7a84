"""Work beside the caller in a thread of its own: decoding ahead of the consumer, bounded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")


class read_ahead(Iterator[T]):  # noqa: N801 - used like a function
    """Iterate ``items`` in a thread of its own, at most ``depth`` items ahead of the caller.

    Decoding (FFmpeg) and the frames' conversion release the GIL, so they run beside the caller's
    work (cut detection, sampling). An error in the thread is raised in the caller where it
    happened; :meth:`close` stops the thread (and closes ``items``) whether or not iteration began."""

    _DONE = object()

    def __init__(self, items: Iterator[T], depth: int):
        import queue
        import threading

        self.items = items
        self.box: queue.Queue = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.finished = False
        self.thread = threading.Thread(target=self._run, name="shotscope-decode", daemon=True)
        self.thread.start()

    def _put(self, entry: tuple[bool, object]) -> bool:
        import queue

        while not self.stop.is_set():
            try:
                self.box.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self.items:
                if not self._put((True, item)):
                    break
            else:
                self._put((True, self._DONE))
        except BaseException as exc:  # handed to the caller
            self._put((False, exc))
        finally:
            close = getattr(self.items, "close", None)
            if close is not None:
                close()

    def __next__(self) -> T:
        if self.finished:
            raise StopIteration
        ok, item = self.box.get()
        if not ok:
            self.close()
            raise item
        if item is self._DONE:
            self.close()
            raise StopIteration
        return item

    def close(self) -> None:
        self.finished = True
        self.stop.set()
        self.thread.join()
