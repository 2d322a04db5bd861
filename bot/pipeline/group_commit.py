"""Group commit: one thread writes everything queued since its last commit in a single transaction.

A burst of declarations then costs one transaction (one multi-row INSERT per table) instead of one each,
which is what keeps acknowledgements that wait for their commit fast when a hundred arrive at once.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

In = TypeVar("In")
Out = TypeVar("Out")

# A burst of 100 (one per HTTP thread waiting) in one transaction: a cap below the burst made its acks wait
# for one more commit in turn, each several round trips, where another 50 rows cost far less.
MAX_BATCH = 128


@dataclass(frozen=True)
class _Queued(Generic[In, Out]):
    item: In
    done: Callable[[Out | Exception], None]
    finished: Future[None]


class BatchRecorder(Generic[In, Out]):
    """Queue items for `write`, which records a batch and returns one result per item, in order."""

    def __init__(
        self,
        write: Callable[[Sequence[In]], Sequence[Out]],
        *,
        name: str,
        gather: Callable[[], None] | None = None,
    ) -> None:
        self._write = write
        self._gather = gather
        self._name = name
        self._queue: queue.SimpleQueue[_Queued[In, Out] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, item: In, done: Callable[[Out | Exception], None]) -> Future[None]:
        """Queue `item`; `done` gets its result (or the batch's error) before the returned future is done."""
        finished: Future[None] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the recorder is closed")
            if self._thread is None:  # started on first use: building an app starts no threads
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._queue.put(_Queued(item, done, finished))
        return finished

    def close(self) -> None:
        """Record what is queued, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            if self._gather is not None:
                self._gather()  # the requests in hand join this batch rather than wait for the next
            batch = [first]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._record(batch)
            if stop:
                return

    def _record(self, batch: list[_Queued[In, Out]]) -> None:
        results: Sequence[Out | Exception]
        try:
            results = self._write([queued.item for queued in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{self._name}: {len(results)} results for {len(batch)} items")
        except Exception as exc:  # every item of the batch shares its transaction's fate
            results = [exc] * len(batch)
        for queued, result in zip(batch, results, strict=True):
            try:
                queued.done(result)
            except Exception:
                log.exception("%s: handing over a recorded item failed", self._name)
            finally:
                queued.finished.set_result(None)
