"""Declare acknowledgement latency under concurrent slash commands, against a do-nothing floor, in one run.

The target is relative: at 100 concurrent, a web process's declare acks must have a p99 at most twice
that of a do-nothing WSGI app under the same waitress settings and the same load generator, so the
figure measures the bot and not the machine.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import command_request, percentile
from benchmarks.load import burst
from benchmarks.report import Finding, Section, table, verdict
from benchmarks.served import cpu_seconds, served_app
from benchmarks.worker_scaling import Fleet, fleet
from bot.emulator import SlackEmulator
from bot.ops.settings import HTTP_THREADS

CONCURRENCY = (1, 10, 50, 100)
LATENCIES = (2.0, 0.0)
ROUNDS = 5  # bursts at the busiest level, each right after a floor burst, pooled
FLOOR_FACTOR = 2.0
MAX_TARGET = 3.0
WEB = "web + worker, PostgreSQL"
EMBEDDED = "serve alone, SQLite"
TICK = "1"  # as in production: the workers' fallback when a NOTIFY is missed
# The floor again, holding each burst for a commit that does nothing but take this long (ms), batched by
# the bot's own group commit: what acknowledging after a commit costs before the bot does any work. 10 ms
# is about the database's share of a 100-declare commit here, 25 ms about the whole commit.
HELD_MS = (10, 25)


@dataclass
class Level:
    """Acks measured for one shape at one concurrency and one Web API latency (rounds pooled)."""

    shape: str
    latency: float
    concurrency: int
    times: list[float] = field(default_factory=list)
    failures: int = 0
    cpu: float = 0.0  # seconds the server process ran, from each burst's start to its last answer
    # Each busiest-level round's p99 over that of the floor burst right before it: a stall of the machine
    # in one floor burst sets the pooled floor p99, and shows here as one round among the others.
    round_ratios: list[float] = field(default_factory=list)

    @property
    def p99(self) -> float:
        return percentile(self.times, 99)

    def row(self) -> list[str]:
        return [
            self.shape,
            "-" if math.isnan(self.latency) else f"{self.latency:.0f} s",
            str(self.concurrency),
            str(len(self.times)),
            *(f"{percentile(self.times, p) * 1000:.1f}" for p in (50, 90, 99)),
            f"{max(self.times) * 1000:.1f}",
            "-" if not self.cpu else f"{self.cpu / len(self.times) * 1000:.2f}",
            str(self.failures),
        ]


def announced(emu: SlackEmulator, announce: str) -> int:
    """Messages in the announce channel: one per finished declare, so a progress counter."""
    return len(emu.channels[announce].messages)


def wait_for(emu: SlackEmulator, announce: str, expected: int, timeout: float) -> bool:
    """Poll (bounded) until `expected` announcements exist."""
    return poll(lambda: announced(emu, announce) >= expected, timeout)


def poll(done: Callable[[], bool], timeout: float) -> bool:
    """Check `done` every 50 ms until it holds (True) or `timeout` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.05)
    return False


@dataclass
class Backlog:
    """A shape's declares still in progress: each is over once announced and its declarer has had the
    reply that follows its job, so the next burst (the floor's too) starts on a quiet machine."""

    emu: SlackEmulator
    announce: str
    announced: int = field(init=False)
    replied: int = field(init=False)

    def __post_init__(self) -> None:
        self.announced = announced(self.emu, self.announce)
        self.replied = self.emu.response_count

    def done(self) -> int:
        """Declares over since this backlog was started."""
        return min(
            announced(self.emu, self.announce) - self.announced, self.emu.response_count - self.replied
        )

    def wait(self, expected: int, timeout: float) -> bool:
        """Poll (bounded) until `expected` declares are over."""
        return poll(lambda: self.done() >= expected, timeout)


def send(emu: SlackEmulator, url: str, level: Level, samples: int, pid: int | None = None) -> int:
    """One burst: `concurrency` clients released together, each sending its share back to back.

    With `pid`, the server process's CPU time during the burst is added to the level.
    """
    per_client = max(1, math.ceil(samples / level.concurrency))
    clients = [
        [command_request(emu, f"declare sev3 Ack c{level.concurrency} n{i}") for i in range(per_client)]
        for _ in range(level.concurrency)
    ]
    before = cpu_seconds(pid) if pid is not None else 0.0
    result = burst(url, clients)
    if pid is not None:
        level.cpu += cpu_seconds(pid) - before
    level.times += result.times
    level.failures += result.failures
    return len(result.times) - result.failures


def run_level(emu: SlackEmulator, url: str, latency: float, concurrency: int, samples: int) -> Level:
    """One burst of declares at `concurrency`, as its own level."""
    level = Level("", latency, concurrency)
    send(emu, url, level, samples)
    return level


@dataclass
class Run:
    """One run's levels, with the floor's bursts interleaved before every burst at the busiest level."""

    emu: SlackEmulator
    announce: str
    floor_url: str
    floor_pid: int
    samples: int
    busiest: int
    rounds: int
    floor: Level = field(init=False)
    levels: list[Level] = field(default_factory=list)
    # Each held floor's level, URL and pid: its bursts follow each floor burst.
    held: list[tuple[Level, str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.floor = Level("floor: a do-nothing app", float("nan"), self.busiest)

    def hold(self, hold_ms: int, url: str, pid: int) -> None:
        """Add a floor that acknowledges after a commit of `hold_ms`, timed beside the floor."""
        level = Level(f"floor holding each burst for a {hold_ms} ms commit", float("nan"), self.busiest)
        self.held.append((level, url, pid))

    def floors(self, size: int) -> None:
        """One burst on the floor, then one on each held floor, right before a busiest-level burst."""
        send(self.emu, self.floor_url, self.floor, size, self.floor_pid)
        for level, url, pid in self.held:
            send(self.emu, url, level, size, pid)

    def shape(
        self, name: str, url: str, pid: int, latencies: tuple[float, ...], concurrency: tuple[int, ...]
    ) -> None:
        """Every level of one shape; between bursts the latency is dropped until the backlog is done."""
        backlog = Backlog(self.emu, self.announce)
        sent = 0
        for latency in latencies:
            for n in concurrency:
                level = Level(name, latency, n)
                for _ in range(self.rounds if n == self.busiest else 1):
                    floor_from, bot_from = len(self.floor.times), len(level.times)
                    if n == self.busiest:
                        self.floors(max(self.samples, n))
                    self.emu.set_latency(latency)
                    sent += send(self.emu, url, level, max(self.samples, n), pid)
                    self.emu.set_latency(0)
                    if n == self.busiest:
                        floor_p99 = percentile(self.floor.times[floor_from:], 99)
                        level.round_ratios.append(percentile(level.times[bot_from:], 99) / floor_p99)
                    if not backlog.wait(sent, timeout=180):
                        raise RuntimeError(f"{name}: {sent - backlog.done()} declares not over in time")
                self.levels.append(level)


@contextmanager
def web_and_worker(emu: SlackEmulator, postgres_url: str) -> Iterator[Fleet]:
    """`incidentbot serve` with INCIDENTBOT_RUN_WORKER=false beside one `incidentbot work`."""
    with (
        tempfile.TemporaryDirectory(prefix="incidentbot-ack-") as tmp,
        fleet(emu, postgres_url, 1, Path(tmp), tick=TICK) as running,
    ):
        yield running


def measure(
    emu: SlackEmulator,
    announce: str,
    sqlite_url: str,
    postgres_url: str | None,
    samples: int,
    concurrency_levels: tuple[int, ...] = CONCURRENCY,
    latencies: tuple[float, ...] = LATENCIES,
    rounds: int = ROUNDS,
    held_ms: tuple[int, ...] = HELD_MS,
) -> Section:
    """The floor (and the floor holding a commit), the web process beside a worker (PostgreSQL), and
    the single process on SQLite."""
    busiest = max(concurrency_levels)
    with ExitStack() as held, served_app(emu, sqlite_url, floor=True) as floor_app:
        run = Run(emu, announce, floor_app.url, floor_app.pid, samples, busiest, rounds)
        for hold_ms in held_ms:
            app = held.enter_context(served_app(emu, sqlite_url, floor=True, hold_ms=hold_ms))
            run.hold(hold_ms, app.url, app.pid)
        if postgres_url is not None:
            with web_and_worker(emu, postgres_url) as web:
                run.shape(WEB, web.events_url, web.web_pid, latencies, concurrency_levels)
        with served_app(emu, sqlite_url) as app:
            run.shape(EMBEDDED, app.url, app.pid, latencies, concurrency_levels)
    return section(run, postgres_url is not None)


def rounds(ratios: list[float]) -> str:
    """Each round's ratio to its own floor burst, as a range and median."""
    if not ratios:
        return "no rounds"
    ordered = sorted(ratios)
    return f"by round {ordered[0]:.1f}-{ordered[-1]:.1f}×, median {statistics.median(ordered):.1f}×"


def against_floor(level: Level, floor_p99: float) -> Finding:
    """The target: within twice the floor's p99 pooled over the rounds, and in the median round too."""
    limit = FLOOR_FACTOR * floor_p99
    pooled_ok = level.p99 <= limit
    met = pooled_ok and typical_round(level.round_ratios) <= FLOOR_FACTOR
    return Finding(
        f"declare ack p99, {level.concurrency} concurrent, {level.latency:.0f} s Web API latency, "
        "web process beside a worker (PostgreSQL)",
        f"≤ {FLOOR_FACTOR:.0f}× floor p99 ({limit * 1000:.0f} ms), pooled and in the median round",
        f"{level.p99 * 1000:.0f} ms ({level.p99 / floor_p99:.1f}× floor {floor_p99 * 1000:.0f} ms; "
        f"{rounds(level.round_ratios)})",
        verdict(met and level.failures == 0),
        "" if met else (STALLED if pooled_ok else "") + WHY,
        "" if met else FIX,
    )


def typical_round(ratios: list[float]) -> float:
    """The median round's ratio: a stall in one floor burst sets the pooled floor p99, not this."""
    return statistics.median(ratios) if ratios else 0.0


def section(run: Run, measured_web: bool) -> Section:
    """The table, the target per latency (web shape against twice the floor), and the slowest ack."""
    floor_p99 = run.floor.p99
    findings = [
        against_floor(level, floor_p99)
        for level in run.levels
        if level.shape == WEB and level.concurrency == run.busiest
    ]
    slowest = max(max(lv.times) for lv in run.levels)
    findings.append(
        Finding(
            "slowest declare ack, any level and shape",
            f"≤ {MAX_TARGET:.0f} s",
            f"{slowest * 1000:.0f} ms",
            verdict(slowest <= MAX_TARGET and all(lv.failures == 0 for lv in run.levels)),
            "a burst queues behind the GIL and the group commit.",
            "more web processes on a host with cores to spare.",
        )
    )
    held = [level for level, _url, _pid in run.held]
    rows = [lv.row() for lv in [*run.levels, run.floor, *held]]
    method = (
        f"Every server in the run is a child process under the production waitress settings "
        f"({HTTP_THREADS} threads): the floor, a do-nothing WSGI app that reads the body and answers 200 "
        f"(`benchmarks.served --floor`); `{WEB}`: `incidentbot serve` with INCIDENTBOT_RUN_WORKER=false "
        f"beside one `incidentbot work`, woken by NOTIFY (started as in the worker-scaling benchmark); and "
        f"`{EMBEDDED}`: `incidentbot serve`'s app with its worker in the same process (`benchmarks.served`). "
        f"The load generator is a process of its own (`benchmarks.load`), so the emulator, which answers the "
        f"Slack work in the benchmark process, never slows the clients it times. Each burst releases N "
        f"client threads together; each sends its share of pre-signed `/incident declare` commands back to "
        f"back, each on a fresh loopback connection (as Slack does), and only the HTTP exchange is timed. "
        f"Every burst at {run.busiest} concurrent is run {run.rounds} times, each right after a floor burst "
        f"of the same size, and pooled; the floor row pools those floor bursts, so bot and floor see the "
        f"same machine load. Each floor burst is followed by one on each held floor: the do-nothing app "
        f"again, holding each request until its burst's commit, which only sleeps (`--hold-ms`). Beside "
        f"each pooled ratio, each round's p99 over that of the floor burst right before it: one stall of "
        f"the machine in one floor burst sets the pooled floor p99, and shows as one round among the others, "
        f"so the target is met only when both the pooled ratio and the median round's are within it. "
        f"The emulator's Web API latency is set for the burst and dropped to 0 after it "
        f"until every declare is announced and its declarer has had the reply that follows its job (the "
        f"web process's last work for it), so no burst, the floor's included, shares a backlog. Server "
        f"CPU per ack is the "
        f"CPU time of the serving process (every thread, /proc/<pid>/task/*/schedstat) from a burst's "
        f"start to its last answer, divided by the acks: unlike the times, it hardly depends on what else "
        f"runs on the machine. Times in ms."
    )
    notes = [
        "Load generator, emulator, PostgreSQL and the bot's processes share the machine's cores, so the "
        "figures are pessimistic for a dedicated host; the floor pays the same."
    ]
    for level in held:
        notes.append(
            f"The {level.shape} (the bot's own group commit and wait for a burst's "
            f"requests, doing nothing else) has a p99 of {level.p99 * 1000:.0f} ms, "
            f"{level.p99 / floor_p99:.1f}× the floor: that share of the {FLOOR_FACTOR:.0f}× allowance goes "
            "to acknowledging after a commit at all, before the bot parses, records or answers anything."
        )
    if not measured_web:
        notes.append(f"`{WEB}` skipped: it needs PostgreSQL (`--postgres URL`); no target row without it.")
    return Section(
        "Acknowledgement latency",
        method,
        tables=[
            table(
                [
                    "shape",
                    "Web API latency",
                    "concurrent",
                    "acks",
                    "p50",
                    "p90",
                    "p99",
                    "max",
                    "server CPU per ack",
                    "failed",
                ],
                rows,
            )
        ],
        findings=findings,
        notes=notes,
    )


STALLED = (
    "pooled, the ratio is within the allowance only because a stall of the machine in one floor burst set "
    "the floor's p99 (see the rounds); the typical round is not, and the verdict asks for both. "
)
WHY = (
    "an ack that follows its commit waits for its burst to arrive and then for the burst's commit, where "
    "the floor answers each request as it comes, and every ack of a burst shares the one web process's "
    "interpreter. The held floors below measure the first part alone (the do-nothing app holding each "
    "burst for a commit that only sleeps, batched by the bot's own group commit): between the floor and "
    "them is what acknowledging after a commit of that length costs by itself; between them and the bot "
    "is the bot's CPU per ack (see CPU per acknowledgement), which the last ack of a burst waits for. "
    "Verifying, parsing, recording and answering a declare take about 45 us when timed alone, and three "
    "to four times that among a hundred threads on one interpreter. Timed in phases here (a 100-declare "
    "burst on PostgreSQL): the requests reach the app over 35-60 ms, the commit takes 22-50 ms (15-25 ms "
    "of CPU, about 11 ms in the database), answering the hundred 30-45 ms. Already done: one commit per "
    "burst, a gather that waits out 6 ms lulls, server-prepared inserts whose rows travel as one jsonb "
    "document, each pair of titles compared once, replies that wait for the worker's job by callback and "
    "reuse their connections."
)
FIX = (
    "none left within reach of tuning here, so this target is marked blocked until the team decides what "
    "it should be. Sampled over eight bursts, the web process holds the interpreter about 65 ms per "
    "100-declare burst before its last ack (HTTP loop 24 ms, request threads 19 ms, the commit 21 ms); "
    "the floor's CPU comes to 20-40 ms a burst. The commit's statements take about 7 ms more in the "
    "database. Building the commit's records without the ORM and sending its statements in fewer round "
    "trips would save an estimated 10-15 ms, which leaves it above 2x. A single-threaded load "
    "generator, tried by hand, moved the floor to 31 ms and the bot to 124-132 ms: the ratio is not the "
    "load generator's threads. What would meet a target: a bound against the held floor with the bot's "
    "own commit time, an absolute p99 (112-235 ms in the runs of 1 December, against Slack's 3 s), or one "
    "web process per core on a host with cores to spare (they share nothing but the database). The held "
    "floors are what a bot with no CPU cost and a commit of their length would reach on this machine."
)
