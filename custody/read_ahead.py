"""Reading the next chunks of a file while the current one is written.

An import spends about as long turning cells into rows (Python) as SQLite or PostgreSQL spend storing them, and
the database drivers let go of the interpreter while a statement runs. So the reader runs one or two chunks
ahead in a thread of its own and the two overlap on a second core. Anything both sides touch (the import's
database connection, for lookups) is the caller's to guard: see custody.store.imports.StoreLookup.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()
_POLL_SECONDS = 0.1  # how soon a reader blocked on a full queue notices the consumer has stopped


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """The items of `items`, in order, computed by a background thread at most `depth` items ahead (so memory
    stays bounded). An exception in the reader is raised here, at its place in the sequence; when the consumer
    stops early (an error, a break), the reader stops at its next item and is waited for."""
    ready: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    reader = threading.Thread(target=_fill, args=(items, ready, stop), name="read-ahead", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        reader.join()


def _fill(items: Iterable[T], ready: queue.Queue[object], stop: threading.Event) -> None:
    source = iter(items)
    try:
        for item in source:
            if not _put(ready, item, stop):
                return
        _put(ready, _DONE, stop)
    except BaseException as error:  # handed to the consumer, raised there
        _put(ready, _Failed(error), stop)
    finally:
        close = getattr(source, "close", None)
        if close is not None:  # a generator stopped early runs its cleanup here, in the reader's thread
            close()


def _put(ready: queue.Queue[object], item: object, stop: threading.Event) -> bool:
    """Queue `item` unless the consumer has stopped; whether it was queued."""
    while not stop.is_set():
        try:
            ready.put(item, timeout=_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False
