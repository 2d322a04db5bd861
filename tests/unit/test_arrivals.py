"""A group commit waits for a burst's requests still being parsed, never for a request that came alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from bot.pipeline.arrivals import Arrivals
from bot.pipeline.group_commit import BatchRecorder

CAP = 2.0  # long enough that a test passing within it shows the wait ended for its reason, not the cap
QUIET = 0.05


def timed_gather(arrivals: Arrivals, cap: float = CAP, quiet: float = QUIET) -> float:
    start = time.monotonic()
    arrivals.gather(cap, quiet)
    return time.monotonic() - start


def test_a_request_that_came_alone_is_not_held_back() -> None:
    arrivals = Arrivals()
    with arrivals.arriving():
        arrivals.settled()
        assert timed_gather(arrivals) < QUIET


def test_a_request_being_parsed_holds_the_batch_until_it_reaches_its_commit() -> None:
    arrivals = Arrivals()
    parsing = threading.Event()
    settle = threading.Event()

    def request() -> None:
        with arrivals.arriving():
            parsing.set()
            settle.wait(5)
            arrivals.settled()
            time.sleep(0.5)  # still inside the request, e.g. waiting for its commit: nobody waits for it

    thread = threading.Thread(target=request)
    thread.start()
    assert parsing.wait(5)
    threading.Timer(0.2, settle.set).start()
    waited = timed_gather(arrivals)
    thread.join()
    assert 0.2 <= waited < 0.2 + QUIET + 0.3, waited


def test_requests_arriving_close_together_are_waited_for_until_they_stop() -> None:
    arrivals = Arrivals()
    for _ in range(2):
        with arrivals.arriving():
            pass  # ended without a commit: settled on the way out
    waited = timed_gather(arrivals, quiet=0.3)
    assert 0.2 <= waited < 0.6, waited


def test_the_wait_never_outlasts_its_cap() -> None:
    arrivals = Arrivals()
    stuck = threading.Event()

    def request() -> None:
        with arrivals.arriving():
            stuck.wait(5)

    thread = threading.Thread(target=request)
    thread.start()
    time.sleep(0.05)
    waited = timed_gather(arrivals, cap=0.2)
    stuck.set()
    thread.join()
    assert 0.2 <= waited < 0.5, waited


def test_the_recorder_gathers_before_taking_its_batch() -> None:
    """Items queued while the gather waits go into the first commit, not a second one."""
    batches: list[list[int]] = []
    gathering = threading.Event()
    go_on = threading.Event()

    def gather() -> None:
        gathering.set()
        go_on.wait(5)

    def write(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        return list(items)

    recorder: BatchRecorder[int, int] = BatchRecorder(write, name="test-gather", gather=gather)
    futures = [recorder.submit(1, lambda _r: None)]
    assert gathering.wait(5)
    futures += [recorder.submit(i, lambda _r: None) for i in (2, 3)]
    go_on.set()
    for future in futures:
        future.result(timeout=5)
    recorder.close()
    assert batches == [[1, 2, 3]]
