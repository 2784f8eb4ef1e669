"""Reading a large patent file in a process of its own while this one writes it.

Turning cells into checked records costs about 10 µs of Python a row, and writing them costs the interpreter
time too (binding values, converting dates): in two threads of one process the reader and the writer take
turns at the interpreter lock, and a million-row import ran at the pace of both added up. Here a forked child
reads and checks the file exactly as the thread would (the same ImportFile.chunks, with the same Options and
enterprises) and sends each chunk of records over a pipe; this process writes them. When the file is read the
child sends what the reading found (every problem, the row counts, the statistics), and this process takes it
over, so the summary, the rejects file and the decision to keep or roll back the file are made as before.

The child's questions to the database (which enterprise a stored patent has, for a row that names none) go
through connections of its own that only read: they see the database as it was when the import began. A thread
of the importing process would see the rows written so far as well, but it never asks about those
(importers.patents.PatentRows.check_enterprises), so the two readings agree.

Used where a process can be forked (Linux, macOS) and the machine has a second core to run it on.
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Iterator
from contextlib import suppress
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from custody.collector import collector_paused
from custody.store.import_batch import Batch
from importers.files import ImportFile

# What the child's reading changed on its ImportFile, taken over by this process when the child is done.
TAKEN_OVER = ("sink", "rows_read", "stats", "late_rejections", "skipped", "enterprise_rows")


class ReaderStopped(RuntimeError):
    """The reading process ended without finishing the file (killed, out of memory): nothing is written."""

    def __init__(self, file: str, exit_code: int | None) -> None:
        super().__init__(f"the process reading {file} stopped before the end of the file (exit code {exit_code})")
        self.file, self.exit_code = file, exit_code


def can_fork() -> bool:
    """Whether a reader process is worth starting here: fork exists and a second core can run it."""
    return "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) >= 2


def forked_chunks(opened: ImportFile, keep_writing: Callable[[], bool],
                  progress: Callable[[int], None]) -> Iterator[Batch]:
    """opened.chunks(keep_writing, progress), read in a forked child. The child starts now, before the import's
    transaction begins (no connection of the transaction can cross the fork); the chunks come as it reads."""
    assert opened.lookup is not None
    opened.lookup.enterprises()  # read once, here: the child inherits the answer
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_read_in_child, args=(opened, keep_writing, sending, receiving),
                            name="import-reader", daemon=True)
    child.start()
    sending.close()  # the child holds the only writing end: its end of file means the child has gone
    opened.data = None  # the child reads the rows; this process never will
    return _received(opened, child, receiving, progress)


def _read_in_child(opened: ImportFile, keep_writing: Callable[[], bool], sending: Connection,
                   receiving: Connection) -> None:
    assert opened.lookup is not None
    # The parent's end, inherited: closed, so that if the parent dies a send fails here instead of waiting forever.
    receiving.close()
    # Ctrl-C at the terminal reaches both processes: the parent stops the import (and this process) and says so.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    opened.lookup = opened.lookup.in_forked_child()
    read = 0

    def count(rows: int) -> None:
        nonlocal read
        read += rows

    try:
        for batch in opened.chunks(keep_writing, count):
            sending.send(("chunk", read, batch))
            read = 0
        found = {name: getattr(opened, name) for name in TAKEN_OVER}
        found["batch_counts"] = (opened.batch.rows_read, opened.batch.rows_rejected)
        sending.send(("done", read, found))
    except BrokenPipeError:
        pass  # the parent stopped listening (it stopped the import): nobody to tell, and no traceback on its terminal
    except BaseException as error:  # raised again in the parent, where the import decides what to say
        with suppress(OSError):
            sending.send(("failed", read, _sendable(error)))
    finally:
        sending.close()


def _sendable(error: BaseException) -> BaseException:
    try:
        pickle.dumps(error)
        return error
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")


def _received(opened: ImportFile, child: BaseProcess, receiving: Connection,
              progress: Callable[[int], None]) -> Iterator[Batch]:
    # Paused as while a file is read in this process (ImportFile.chunks): the collector would otherwise walk
    # everything alive for each burst of unpickled rows (a third of the writer's time in Python).
    with collector_paused():
        try:
            while True:
                try:
                    kind, rows, payload = receiving.recv()
                except EOFError:
                    child.join()
                    raise ReaderStopped(opened.path.name, child.exitcode) from None
                progress(rows)
                if kind == "chunk":
                    yield payload
                elif kind == "done":
                    _take_over(opened, payload)
                    return
                else:
                    raise payload
        finally:
            if child.is_alive():  # the writer stopped early (an error, a rollback): the rest is not needed
                child.kill()
            child.join()
            receiving.close()


def _take_over(opened: ImportFile, found: dict[str, Any]) -> None:
    opened.batch.rows_read, opened.batch.rows_rejected = found.pop("batch_counts")
    for name, value in found.items():
        setattr(opened, name, value)
