"""Job leases across replicas: a step longer than the lease runs once; a stopping process hands work on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tests.reliability.conftest import Rig


def keep_ticking(replica: Any, stop: threading.Event) -> threading.Thread:
    """Another replica's tick, every 100 ms: it claims any job whose lease has run out."""

    def loop() -> None:
        while not stop.is_set():
            replica.bot.runtime.tick()
            time.sleep(0.1)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def test_a_step_longer_than_the_lease_is_not_run_again_by_another_replica(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig(replicas=2, lease=timedelta(seconds=1))
    first, second = rig.replicas
    first.bot.runtime.runner.start_heartbeat()
    rig.emu.set_latency(3.0, "pins.add")  # three leases long
    stop = threading.Event()
    ticker = keep_ticking(second, stop)
    try:
        rig.command("declare sev2 Checkout is timing out")
    finally:
        stop.set()
        ticker.join()
    second.bot.runtime.drain()
    assert len(rig.emu.calls_to("pins.add")) == 1
    assert len(rig.emu.calls_to("conversations.create")) == 1
    assert rig.incident(1).provisioned_at is not None


def test_a_stopping_replica_releases_its_jobs_for_another_to_finish_at_once(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig(replicas=2, lease=timedelta(seconds=30))
    first, second = rig.replicas
    rig.emu.set_latency(3.0, "pins.add")
    rig.command("declare sev2 Checkout is timing out", settle=False)
    while not rig.emu.calls_to("conversations.setTopic"):
        time.sleep(0.01)
    first.bot.close(grace=0.5)  # SIGTERM: half a second to finish, then hand over what is left
    rig.emu.set_latency(0, "pins.add")
    started = time.monotonic()
    while rig.incident(1).provisioned_at is None:
        second.bot.runtime.tick()
        second.bot.runtime.drain()
        assert time.monotonic() - started < 5, "the released job waited for its 30 s lease"
        time.sleep(0.1)
    room = rig.room(1)
    assert len(room.pins) == 1
    summaries = [m for m in room.messages if (m.metadata or {}).get("event_type") == "incident_declared"]
    assert len(summaries) == 1
