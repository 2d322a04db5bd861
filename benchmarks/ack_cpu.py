"""CPU time per declare acknowledgement, of the web process and of a do-nothing app, in one run.

On a shared machine an ack's wall-clock time mostly measures the neighbours; the CPU time the serving
process spends is what the bot controls, and at 100 concurrent the last ack of a burst waits for the CPU
time of every ack before it. So this counts the serving process's user+system time (every thread, those
that ended included) per acknowledged request, for the bot and for the floor under the same server and
load generator, bursts alternating.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.ack_latency import EMBEDDED, WEB, Backlog, web_and_worker
from benchmarks.harness import command_request
from benchmarks.load import burst
from benchmarks.report import Section, table
from benchmarks.served import CLOCK_TICK, process_cpu_seconds, served_app
from bot.emulator import SlackEmulator

BURSTS = 5  # per server, alternating with the floor's
SIZE = 100  # declares per burst, all released together: the ack-latency target's shape
QUIET_SECONDS = 0.3  # the process is quiet once its CPU time stands still this long


def wait_quiet(pid: int, timeout: float = 30.0) -> float:
    """Wait (bounded) until the process stops using CPU; its CPU time then."""
    deadline = time.monotonic() + timeout
    last = process_cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(QUIET_SECONDS)
        now = process_cpu_seconds(pid)
        if now - last <= CLOCK_TICK:
            return now
        last = now
    return last


@dataclass(frozen=True)
class Burst:
    """One burst: requests answered, those not answered 200, CPU seconds to the last ack and to quiet."""

    acks: int
    failed: int
    to_last_ack: float
    to_quiet: float


@dataclass
class Served:
    """One server's bursts: CPU seconds until the last ack of each, and until it was quiet again."""

    name: str
    acks: int = 0
    failed: int = 0
    to_last_ack: list[float] = field(default_factory=list)
    to_quiet: list[float] = field(default_factory=list)

    def per_ack(self, spans: list[float]) -> str:
        # Summed over the bursts: /proc counts in clock ticks (10 ms), too coarse for one burst's floor.
        return f"{sum(spans) / self.acks * 1000:.2f}" if spans and self.acks else "-"

    def add(self, one: Burst) -> None:
        self.acks += one.acks
        self.failed += one.failed
        self.to_last_ack.append(one.to_last_ack)
        self.to_quiet.append(one.to_quiet)

    def row(self) -> list[str]:
        return [
            self.name,
            str(self.acks),
            self.per_ack(self.to_last_ack),
            self.per_ack(self.to_quiet),
            str(self.failed),
        ]


def one_burst(emu: SlackEmulator, url: str, pid: int, size: int, settle: Callable[[], None]) -> Burst:
    """`size` declares released together, one per client; `settle` waits for their work to be done."""
    clients = [[command_request(emu, f"declare sev3 Cpu n{i}")] for i in range(size)]
    start = wait_quiet(pid)
    result = burst(url, clients)
    to_last_ack = process_cpu_seconds(pid) - start
    settle()
    return Burst(len(result.times), result.failures, to_last_ack, wait_quiet(pid) - start)


def measure(
    emu: SlackEmulator,
    announce: str,
    sqlite_url: str,
    postgres_url: str | None,
    bursts: int = BURSTS,
    size: int = SIZE,
) -> Section:
    """Floor and bot bursts alternating: the web process beside a worker (PostgreSQL), else serve alone."""
    floor = Served("floor: a do-nothing app")
    with served_app(emu, sqlite_url, floor=True) as floor_app:
        target = Target(emu, announce, floor_app.url, floor_app.pid, floor, bursts, size)
        if postgres_url is not None:
            with web_and_worker(emu, postgres_url) as web:
                bot = target.alternate(WEB, web.events_url, web.web_pid)
        else:
            with served_app(emu, sqlite_url) as app:
                bot = target.alternate(EMBEDDED, app.url, app.pid)
    return section([bot, floor], bursts, size)


@dataclass
class Target:
    """The floor, and the bursts each server gets."""

    emu: SlackEmulator
    announce: str
    floor_url: str
    floor_pid: int
    floor: Served
    bursts: int
    size: int

    def alternate(self, name: str, url: str, pid: int) -> Served:
        """A warm-up burst each, not counted, then floor and bot bursts in turn."""
        bot = Served(name)
        for i in range(self.bursts + 1):
            floor = one_burst(self.emu, self.floor_url, self.floor_pid, self.size, lambda: None)
            backlog = Backlog(self.emu, self.announce)

            def settle(backlog: Backlog = backlog) -> None:
                if not backlog.wait(self.size, timeout=120):
                    raise RuntimeError(
                        f"{name}: {backlog.done()} of {self.size} declares announced and replied to"
                    )

            mine = one_burst(self.emu, url, pid, self.size, settle)
            if i:  # the first burst after start-up pays for first use
                self.floor.add(floor)
                bot.add(mine)
        return bot


def section(rows: list[Served], bursts: int, size: int) -> Section:
    method = (
        f"CPU time (user + system, every thread, from /proc/<pid>/stat) of the serving process: {bursts} "
        f"bursts of {size} signed `/incident declare` commands released together (the shape of the ack "
        "latency target), each burst sent to the floor (a do-nothing WSGI app under the same waitress "
        "settings) and then to the bot, after a warm-up burst each that is not counted. Each burst starts "
        "once the process is quiet (its CPU time standing still for "
        f"{QUIET_SECONDS:.1f} s). *To the last ack* runs to the burst's last answer: the CPU work the "
        "acks of a burst queue behind. *Whole declare* runs until every declare is announced, its declarer "
        "has had the reply that follows its job, and the process is quiet again, so it adds what the web "
        "process does after the ack (waiting for the worker's result, the reply through `response_url`). "
        "Summed over the bursts, per acknowledged declare, in ms. Unlike wall-clock times, these hardly "
        "depend on what else runs on the machine."
    )
    return Section(
        "CPU per acknowledgement",
        method,
        tables=[
            table(
                ["server", "acks", "CPU to the last ack, per ack", "CPU per whole declare", "failed"],
                [row.row() for row in rows],
            )
        ],
    )
