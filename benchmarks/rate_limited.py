"""A burst of declares under Slack's real per-tier rate limits: acks stay fast, rooms finish, nothing twice.

The ack-latency measurement drains every level before the next, which under Tier 2 (20 rooms a minute)
would take many minutes; this one sends a single burst larger than Tier 2 allows and follows it to the
end, so the cost of Slack's limits is measured once, on the path where they bite.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, func, select

from benchmarks.ack_latency import MAX_TARGET, run_level
from benchmarks.harness import bench_config, median, percentile, start_emulator
from benchmarks.report import Finding, Section, table, verdict
from benchmarks.served import served_app
from bot.emulator import Call, SlackEmulator
from bot.emulator.ratelimits import METHOD_TIERS, POST_BURST, POST_METHOD, TIER_PER_MINUTE, WINDOW
from store.db import make_engine
from store.models import Incident, SlackJob

DECLARES = 30  # more than Tier 2's 20 a minute for conversations.create, setTopic and pins.add
MARGIN = 30.0  # seconds allowed beyond the pace Slack's limits permit
POLL = 0.2
# What one declare should make Slack do once (the calls whose repetition would be work done twice).
ONCE_PER_ROOM = ("conversations.create", "conversations.invite", "conversations.setTopic", "pins.add")
# Every method a declare's plan calls; anything else seen in the run is extra work some retry did.
PLAN_METHODS = frozenset({*ONCE_PER_ROOM, POST_METHOD})
# The order the room steps appear in the table: the provisioning plan's order.
STEPS = (
    ("conversations.create", "room created"),
    ("conversations.invite", "declarer invited"),
    ("conversations.setTopic", "topic set"),
    ("summary", "summary posted"),
    ("announcement", "announced"),
    ("pins.add", "summary pinned"),
)


@dataclass(frozen=True)
class MethodCalls:
    """What the emulator answered one Web API method during the run."""

    method: str
    requests: int
    succeeded: int
    rate_limited: int
    other_errors: Counter[str]


@dataclass(frozen=True)
class Wait:
    """A request Slack answered 429 that later went through unchanged: how long and how many 429s."""

    method: str
    seconds: float
    refused: int


@dataclass(frozen=True)
class ProvisionJobs:
    """How the declares' provisioning jobs ended: retried, given up, or never finished."""

    total: int
    retried: int
    most_attempts: int
    gave_up: list[str]
    unfinished: int


@dataclass
class Burst:
    """Everything one burst measured, for the section and for the smoke test."""

    declares: int
    acks: list[float]
    ack_failures: int
    provisioned: int
    # Child-clock seconds from the first declaration to the last room's provisioning, None if not all were.
    all_provisioned: float | None
    per_room: list[float]  # declared_at → provisioned_at, seconds, per provisioned room
    steps: dict[str, list[float]]  # step → seconds after the burst at which each one succeeded
    calls: list[MethodCalls]
    waits: list[Wait]
    jobs: ProvisionJobs
    limits_on: bool  # the emulator still applied Slack's limits at the end (the run measured what it says)
    violations: list[str] = field(default_factory=list)
    told_gave_up: int = 0  # ephemeral notices the bot sent (a job telling its declarer it gave up)

    @property
    def pace(self) -> float:
        """Seconds Slack's limits alone require for this burst (see `pace_floor`)."""
        return pace_floor(self.declares)


def pace_floor(rooms: int) -> float:
    """The least time Slack allows for `rooms` rooms: created 20 a minute (Tier 2), each then announced
    in the one announce channel, which takes POST_BURST messages in any POST_BURST seconds."""
    tier2 = TIER_PER_MINUTE[2]
    announced: list[float] = []
    for i in range(rooms):
        created = (i // tier2) * WINDOW
        earliest = announced[i - POST_BURST] + POST_BURST if i >= POST_BURST else 0.0
        announced.append(max(created, earliest))
    return max(announced, default=0.0)


def _counts(engine: Engine) -> tuple[int, int]:
    """(incidents provisioned, provision jobs not finished): the wait's progress and its end."""
    with engine.connect() as conn:
        provisioned = conn.scalar(
            select(func.count()).select_from(Incident).where(Incident.provisioned_at.is_not(None))
        )
        unfinished = conn.scalar(
            select(func.count())
            .select_from(SlackJob)
            .where(SlackJob.kind == "provision", SlackJob.finished_at.is_(None))
        )
    return int(provisioned or 0), int(unfinished or 0)


def wait_provisioned(engine: Engine, rooms: int, timeout: float) -> None:
    """Poll (bounded) until every room is provisioned, or no provisioning job is left to finish one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        provisioned, unfinished = _counts(engine)
        if provisioned >= rooms or (provisioned + unfinished < rooms and unfinished == 0):
            return
        time.sleep(POLL)


def method_calls(calls: list[Call]) -> list[MethodCalls]:
    """Per method, in order of first use: requests, successes, 429s and any other error codes."""
    by_method: dict[str, list[Call]] = {}
    for call in calls:
        by_method.setdefault(call.method, []).append(call)
    return [
        MethodCalls(
            method,
            len(mine),
            sum(c.ok for c in mine),
            sum(c.status == 429 for c in mine),
            Counter(str(c.error) for c in mine if not c.ok and c.status != 429),
        )
        for method, mine in by_method.items()
    ]


def waits(calls: list[Call]) -> list[Wait]:
    """Pair each 429 with the same request (method and arguments) going through later, in arrival order."""
    refused: dict[tuple[str, str], tuple[float, int]] = {}
    out: list[Wait] = []
    for call in sorted(calls, key=lambda c: c.at):
        key = (call.method, json.dumps(call.args, sort_keys=True, default=str))
        if call.status == 429:
            first, count = refused.get(key, (call.at, 0))
            refused[key] = (first, count + 1)
        elif call.ok and key in refused:
            first, count = refused.pop(key)
            out.append(Wait(call.method, call.at - first, count))
    return out


def step_times(calls: list[Call], announce: str, started: float) -> dict[str, list[float]]:
    """When each provisioning step succeeded, in seconds after the burst (from the emulator's records)."""
    out: dict[str, list[float]] = {name: [] for name, _ in STEPS}
    announce_refs = {announce, bench_config().announce_channel}  # the bot posts there by name
    for call in calls:
        if not call.ok:
            continue
        at = call.at - started
        if call.method == POST_METHOD:
            announced = str(call.args.get("channel", "")) in announce_refs
            out["announcement" if announced else "summary"].append(at)
        elif call.method in out:
            out[call.method].append(at)
    return out


def check_once(
    emu: SlackEmulator, engine: Engine, announce: str, rooms: int, calls: list[MethodCalls]
) -> list[str]:
    """Every piece of a room's setup exactly once per incident; each violation as one sentence."""
    problems: list[str] = []
    succeeded = {c.method: c.succeeded for c in calls}
    for method in ONCE_PER_ROOM:
        if succeeded.get(method, 0) != rooms:
            problems.append(f"{method} succeeded {succeeded.get(method, 0)} times for {rooms} rooms")
    with engine.connect() as conn:
        incidents = list(conn.execute(select(Incident.id, Incident.channel_id)))
    if len(incidents) != rooms:
        problems.append(f"{len(incidents)} incidents recorded for {rooms} declares")
    channels = emu.channels
    known = {emu.general_channel_id, announce}
    made = [
        c for c in channels.values() if c.id not in known and not c.is_im and c.creator == emu.bot_user_id
    ]
    if len(made) != rooms:
        problems.append(f"{len(made)} channels created for {rooms} rooms")
    announced: Counter[int] = Counter(
        int((m.metadata or {}).get("event_payload", {}).get("incident_id", 0))
        for m in list(channels[announce].messages)
        if (m.metadata or {}).get("event_type") == "incident_declared"
    )
    for incident_id, channel_id in incidents:
        if announced[incident_id] != 1:
            problems.append(f"incident {incident_id} announced {announced[incident_id]} times")
        room = channels.get(channel_id) if channel_id else None
        if room is None:
            problems.append(f"incident {incident_id} has no room")
            continue
        summaries = [
            m.ts for m in list(room.messages) if (m.metadata or {}).get("event_type") == "incident_declared"
        ]
        if len(summaries) != 1:
            problems.append(f"incident {incident_id}'s room holds {len(summaries)} summaries")
        if set(room.pins) != set(summaries[:1]):
            problems.append(f"incident {incident_id}'s room has {len(room.pins)} pins, not its one summary")
    return problems


def provision_jobs(engine: Engine) -> ProvisionJobs:
    """The declares' provisioning jobs from the database: attempts, errors, unfinished."""
    with engine.connect() as conn:
        rows = list(
            conn.execute(
                select(SlackJob.attempts, SlackJob.finished_at, SlackJob.last_error).where(
                    SlackJob.kind == "provision"
                )
            )
        )
    return ProvisionJobs(
        total=len(rows),
        retried=sum(r.attempts > 1 for r in rows),
        most_attempts=max((r.attempts for r in rows), default=0),
        gave_up=[str(r.last_error) for r in rows if r.finished_at is not None and r.last_error],
        unfinished=sum(r.finished_at is None for r in rows),
    )


def room_times(engine: Engine) -> tuple[list[float], float | None, int]:
    """Per room declared → provisioned, first declaration → last provisioning, and rooms provisioned."""
    with engine.connect() as conn:
        rows: list[tuple[datetime, datetime | None]] = [
            (r.declared_at, r.provisioned_at)
            for r in conn.execute(select(Incident.declared_at, Incident.provisioned_at))
        ]
    done = [(d, p) for d, p in rows if p is not None]
    per_room = [(p - d).total_seconds() for d, p in done]
    whole = None
    if rows and len(done) == len(rows):
        whole = (max(p for _, p in done) - min(d for d, _ in rows)).total_seconds()
    return per_room, whole, len(done)


def run_burst(database_url: str, declares: int) -> Burst:
    """Emulator with Slack's limits, the served app with its ticker, one burst, then wait for every room."""
    emu, _general, announce = start_emulator(bench_config())
    engine = make_engine(database_url)
    try:
        emu.realistic_rate_limits(True)  # after setup, so only the bot's calls fill the windows
        with served_app(emu, database_url) as app:  # as `incidentbot serve`: ticker and lease heartbeat
            started = time.monotonic()
            level = run_level(emu, app.url, 0.0, declares, declares)
            wait_provisioned(engine, declares, timeout=pace_floor(declares) + 10 * MARGIN)
        calls = emu.calls
        per_method = method_calls(calls)
        per_room, whole, provisioned = room_times(engine)
        return Burst(
            declares=declares,
            acks=level.times,
            ack_failures=level.failures,
            provisioned=provisioned,
            all_provisioned=whole,
            per_room=per_room,
            steps=step_times(calls, announce, started),
            calls=per_method,
            waits=waits(calls),
            jobs=provision_jobs(engine),
            limits_on=emu.rate_limiter.enabled,
            violations=check_once(emu, engine, announce, declares, per_method),
            told_gave_up=len([c for c in calls if c.method == "chat.postEphemeral" and c.ok]),
        )
    finally:
        engine.dispose()
        emu.stop()


def _seconds(values: list[float], pick: str) -> str:
    """First, median or last of a step's times, or a dash when it never happened."""
    if not values:
        return "-"
    value = {"first": min(values), "median": median(values), "last": max(values)}[pick]
    return f"{value:.1f}"


def _limit(method: str) -> str:
    """Slack's limit for a method as the emulator applies it, for the calls table."""
    if method == POST_METHOD:
        return f"{POST_BURST} per channel per {POST_BURST} s"
    tier = METHOD_TIERS.get(method)
    return f"Tier {tier}: {TIER_PER_MINUTE[tier]}/min" if tier else "none"


def section(burst: Burst) -> Section:
    """The report's part: acks, how long the rooms took against Slack's pace, calls, and work done twice."""
    n, acks = burst.declares, burst.acks
    ack_row = [
        str(n),
        str(len(acks)),
        *(f"{percentile(acks, p) * 1000:.1f}" for p in (50, 90, 99)),
        f"{max(acks, default=float('nan')) * 1000:.1f}",
        str(burst.ack_failures),
    ]
    jobs = burst.jobs
    whole = f"{burst.all_provisioned:.1f} s" if burst.all_provisioned is not None else "not all"
    rooms_rows = [
        ["rooms provisioned", f"{burst.provisioned} of {n}"],
        ["first declaration → last room provisioned", whole],
        ["least Slack's limits allow for this burst", f"{burst.pace:.0f} s"],
        ["per room, declared → provisioned: median", f"{median(burst.per_room):.1f} s"],
        ["per room, declared → provisioned: slowest", f"{max(burst.per_room, default=float('nan')):.1f} s"],
        ["requests refused with 429 that later went through", _waited(burst.waits)],
        ["provisioning jobs retried (attempts > 1)", f"{jobs.retried} of {jobs.total}"],
        ["most attempts by one job", str(jobs.most_attempts)],
        ["jobs given up / unfinished", f"{len(jobs.gave_up)} / {jobs.unfinished}"],
        ["declarers told a job gave up", str(burst.told_gave_up)],
        ["work done twice (violations)", str(len(burst.violations))],
    ]
    step_rows = [
        [
            label,
            str(len(burst.steps[key])),
            *(_seconds(burst.steps[key], p) for p in ("first", "median", "last")),
        ]
        for key, label in STEPS
    ]
    call_rows = [
        [
            c.method,
            _limit(c.method),
            str(c.requests),
            str(c.succeeded),
            str(c.rate_limited),
            ", ".join(f"{code} ×{k}" for code, k in c.other_errors.items()) or "0",
        ]
        for c in burst.calls
    ]
    slowest = max(acks, default=float("inf"))
    p99 = percentile(acks, 99)
    rooms_ok = burst.all_provisioned is not None and burst.all_provisioned <= burst.pace + MARGIN
    findings = [
        Finding(
            f"slowest ack, {n} declares at once under Slack's rate limits",
            f"≤ {MAX_TARGET:.0f} s, none failed",
            f"{slowest * 1000:.0f} ms (p99 {p99 * 1000:.0f} ms), {burst.ack_failures} failed",
            verdict(slowest <= MAX_TARGET and burst.ack_failures == 0),
            "the acknowledgement only records the incident; a burst queues behind waitress's threads and "
            "the group commit, never behind Slack.",
            "see the acknowledgement latency gap.",
        ),
        Finding(
            f"every room provisioned, {n} declares under Slack's rate limits",
            f"all {n}, ≤ the pace Slack allows + {MARGIN:.0f} s ({burst.pace + MARGIN:.0f} s)",
            f"{burst.provisioned} of {n} in {whole}",
            verdict(rooms_ok),
            _rooms_why(burst),
            "the step table shows which step lagged. A 429 is retryable (`classify`), so a late room is "
            "a job whose retry came later than Slack's `Retry-After` (the job's own backoff once the "
            "client's 3 retries are spent) or that queued behind worker threads asleep in other calls.",
        ),
        Finding(
            f"work done twice, {n} declares under Slack's rate limits",
            "0 (one room, summary, pin, announcement per declare)",
            f"{len(burst.violations)} violations",
            verdict(not burst.violations),
            "; ".join(burst.violations[:5]) + ".",
            "find the step that repeated and make it look up what its earlier attempt did.",
        ),
    ]
    over = "more" if n > TIER_PER_MINUTE[2] else "no more"
    method = (
        "Under Slack's real per-tier limits: acknowledgements stay fast; rooms finish at the pace Slack "
        "allows; nothing is done twice. The emulator runs with `realistic_rate_limits` (Tier 2 = "
        f"{TIER_PER_MINUTE[2]}, Tier 3 = {TIER_PER_MINUTE[3]}, Tier 4 = {TIER_PER_MINUTE[4]} calls per "
        f"method in any rolling {WINDOW:.0f} s; chat.postMessage {POST_BURST} per channel in any "
        f"{POST_BURST} s; 429 with `Retry-After` beyond). {n} signed `/incident declare` commands are "
        "released together by a barrier to the app alone in a child process (`benchmarks.served`, as "
        "`incidentbot serve`: waitress, the worker pool, the ticker and the lease heartbeat), each "
        "acknowledgement timed; then the run polls the database until every incident's `provisioned_at` "
        f"is set. {n} rooms is {over} than Tier 2 allows in a minute for `conversations.create`, "
        "`conversations.setTopic` and `pins.add`, and every announcement goes to the one announce channel. "
        f"The pace Slack allows: rooms created {TIER_PER_MINUTE[2]} a minute, each then announced no "
        f"faster than {POST_BURST} in any {POST_BURST} s, every other call free. Calls, 429s and step "
        "times are the emulator's records; work done twice is checked on its channels (per incident one "
        "room, one summary, that summary pinned and nothing else, one announcement) and on its successful "
        "calls (one create, invite, topic and pin per room). Ack times in ms, step times in s after the "
        "burst."
    )
    notes = []
    extra = [c for c in burst.calls if c.method not in PLAN_METHODS]
    if extra:
        listed = ", ".join(f"{c.method} ×{c.requests}" for c in extra)
        why = (
            f" ({jobs.retried} provisioning job(s) were retried after a failed attempt; a retried job is "
            "`recovering`, so before posting it looks for the post an earlier attempt may have made: "
            "`post_once`, auth.test and conversations.list to resolve the announce channel's name once per "
            "process, conversations.history each time, even when the attempt failed on a 429, which "
            "proves nothing was posted)"
            if jobs.retried
            else ""
        )
        notes.append(f"Calls outside a declare's plan: {listed}{why}.")
    if burst.waits:
        longest = max(burst.waits, key=lambda w: w.seconds)
        notes.append(
            f"The longest wait from a 429 to the same request going through was {longest.seconds:.1f} s "
            f"({longest.method}, refused {longest.refused} time(s)): the bot's client "
            "(`make_web_client`, slack_sdk's `RateLimitErrorRetryHandler`, 3 retries) sleeps out "
            "`Retry-After` inside the call, so that step held its worker thread for the whole wait; when "
            "the call and its 3 retries are all refused, the attempt fails and the tick retries the job "
            "after its backoff."
        )
    if jobs.gave_up:
        notes.append("Jobs that gave up: " + "; ".join(sorted(set(jobs.gave_up))) + ".")
    notes.extend(burst.violations[5:])
    return Section(
        "Declares under Slack's rate limits",
        method,
        tables=[
            table(["declares", "acks", "p50", "p90", "p99", "max", "failed"], [ack_row]),
            table(["figure", "value"], rooms_rows),
            table(["step", "done", "first", "median", "last"], step_rows),
            table(["method", "Slack's limit", "requests", "succeeded", "429s", "other errors"], call_rows),
        ],
        findings=findings,
        notes=notes,
    )


def _waited(found: list[Wait]) -> str:
    """How many refused requests went through later, and the longest wait, as one table cell."""
    if not found:
        return "0"
    longest = max(found, key=lambda w: w.seconds)
    again = sum(w.refused > 1 for w in found)
    return (
        f"{len(found)} ({again} refused more than once); longest {longest.seconds:.1f} s ({longest.method})"
    )


def _rooms_why(burst: Burst) -> str:
    """Why the rooms were late or unfinished, from what the run saw."""
    jobs = burst.jobs
    parts = [f"{jobs.retried} of {jobs.total} provisioning jobs needed more than one attempt"]
    if jobs.gave_up:
        parts.append(f"{len(jobs.gave_up)} gave up")
    if jobs.unfinished:
        parts.append(f"{jobs.unfinished} were still unfinished when the wait ended")
    limited = ", ".join(f"{c.method} ×{c.rate_limited}" for c in burst.calls if c.rate_limited)
    if limited:
        parts.append(f"Slack answered 429 to {limited}")
    return "; ".join(parts) + "."


def measure(database_url: str, declares: int = DECLARES) -> Section:
    """The whole measurement: one burst, then its section."""
    return section(run_burst(database_url, declares))
