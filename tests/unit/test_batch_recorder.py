"""The group-commit recorder: batches what queued up meanwhile, shares a batch's error, drains on close."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from bot.pipeline.group_commit import BatchRecorder


class Writer:
    """Records batches; the first write blocks until released, so later items queue up behind it."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.fail_next = False

    def __call__(self, items: Sequence[int]) -> list[int]:
        if not self.batches:
            self.started.set()
            self.release.wait(5)
        self.batches.append(list(items))
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("database gone")
        return [i * 10 for i in items]


def test_items_queued_during_a_write_are_recorded_together_in_order() -> None:
    writer = Writer()
    recorder: BatchRecorder[int, int] = BatchRecorder(writer, name="test-recorder")
    results: dict[int, int | Exception] = {}

    def done(item: int) -> object:
        return lambda result: results.__setitem__(item, result)

    futures = [recorder.submit(0, done(0))]
    assert writer.started.wait(5), "the first write has begun"
    futures += [recorder.submit(i, done(i)) for i in range(1, 6)]
    writer.release.set()
    for future in futures:
        future.result(timeout=5)
    recorder.close()
    assert writer.batches == [[0], [1, 2, 3, 4, 5]]
    assert results == {i: i * 10 for i in range(6)}


def test_a_failed_batch_gives_every_item_its_error_and_the_next_batch_still_runs() -> None:
    writer = Writer()
    writer.release.set()
    writer.fail_next = True
    recorder: BatchRecorder[int, int] = BatchRecorder(writer, name="test-recorder")
    seen: list[int | Exception] = []
    recorder.submit(1, seen.append).result(timeout=5)
    recorder.submit(2, seen.append).result(timeout=5)
    recorder.close()
    assert isinstance(seen[0], RuntimeError) and seen[1] == 20


def test_close_records_what_is_queued_and_refuses_more() -> None:
    writer = Writer()
    recorder: BatchRecorder[int, int] = BatchRecorder(writer, name="test-recorder")
    seen: list[int | Exception] = []
    for i in range(3):
        recorder.submit(i, seen.append)
    writer.release.set()
    recorder.close()
    assert sorted(r for r in seen if isinstance(r, int)) == [0, 10, 20]
    with pytest.raises(RuntimeError):
        recorder.submit(9, seen.append)


def test_a_writer_answering_the_wrong_number_of_results_fails_the_batch_not_the_thread() -> None:
    recorder: BatchRecorder[int, int] = BatchRecorder(lambda _items: [], name="test-recorder")
    seen: list[int | Exception] = []
    recorder.submit(1, seen.append).result(timeout=5)
    recorder.submit(2, seen.append).result(timeout=5)  # the thread is still there to answer
    recorder.close()
    assert len(seen) == 2 and all(isinstance(r, RuntimeError) for r in seen)
