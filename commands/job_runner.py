"""Run durable Slack jobs: independent steps concurrently, each step's durable result recorded as it lands.

A step that yields something others need at once (the room's channel, a post's ts) is recorded in its
own short transaction the moment its call returns, so a command typed in a new room works while the
rest of the room is still being set up; steps that only add timeline lines are recorded with the next
one. Recording late is safe because every step is either idempotent (invite, topic, pin, edits) or
looks up what an unrecorded earlier attempt did before acting again (its channel by name, its posts by
metadata). Leases are renewed on a timer while this process holds a job (running or queued), and
released when it stops, so neither a long step nor a restart leaves a job to the lease's expiry.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from contextvars import copy_context
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from commands.declarer import is_person
from commands.errors import ChatError, ChatRefused
from commands.holdings import JobHoldings
from commands.jobs import (
    MAX_ATTEMPTS,
    GiveUp,
    JobKind,
    Lane,
    PartialProgress,
    Plan,
    StepContext,
    StepOutcome,
    backoff,
    current_incident,
    merge,
    stages,
    waits_for,
)
from commands.pager import NoPager, Pager, PagerError, PagerRefused
from commands.ports import Chat, Clock, IncidentSettings, Message, PostRef, Presenter, UnitOfWorkFactory
from commands.publisher import NoPublisher, Publisher, PublishError, PublishRefused
from commands.records import BotPost, TimelineEvent
from commands.tracker import NoTracker, Tracker, TrackerError, TrackerRefused
from commands.views import IncidentView, view_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _LaneStep:
    """A lane's step that finished (name and outcome) or failed (error, with what it did part-way)."""

    name: str | None
    outcome: StepOutcome | None
    error: Exception | None = None


_LaneEvent = _LaneStep | None  # None: the lane is over


def _run_lane(ctx: StepContext, lane: Lane, finished: queue.Queue[_LaneEvent]) -> None:
    """Run a lane's steps in order, reporting each as it ends; a failure ends the lane."""
    try:
        for name, step in lane:
            try:
                outcome = step(ctx)
            except PartialProgress as partial:
                finished.put(_LaneStep(None, partial.outcome, partial.cause))
                return
            except Exception as exc:  # reported to the runner thread, which records the failure
                finished.put(_LaneStep(None, None, exc))
                return
            finished.put(_LaneStep(name, outcome))
            ctx = ctx.after(outcome)
    finally:
        finished.put(None)


class StageFailed(Exception):
    """Some steps of a stage failed; the ones that succeeded are kept."""

    def __init__(self, done: list[tuple[str | None, StepOutcome]], cause: Exception) -> None:
        super().__init__(str(cause))
        self.done = done
        self.cause = cause


class JobRunner:
    """Claim a job, run the steps it has not done yet stage by stage, record, and schedule retries."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        chat: Chat,
        presenter: Presenter,
        settings: IncidentSettings,
        clock: Clock,
        plans: dict[str, Plan],
        lease: timedelta = timedelta(seconds=5),
        concurrency: int = 8,
        holdings: JobHoldings | None = None,
        pager: Pager | None = None,
        tracker: Tracker | None = None,
        publisher: Publisher | None = None,
    ) -> None:
        self.uow = uow
        self.publisher: Publisher = publisher or NoPublisher()
        self.pager: Pager = pager or NoPager()
        self.tracker: Tracker = tracker or NoTracker()
        self.chat = chat
        self.presenter = presenter
        self.settings = settings
        self.clock = clock
        self.plans = plans
        self.lease = lease
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="incidentbot-step")
        self.holdings = holdings or JobHoldings(owner="")
        self._stopping = threading.Event()
        self._released = False
        # Jobs this process deferred behind an earlier one, by incident, with the attempts the deferral left:
        # woken when that one records, unless claimed since (then that claim runs it, when it is due).
        self._deferred: dict[int, dict[int, int]] = {}
        self._deferred_lock = threading.Lock()
        # How a woken job is handed to a worker (the runtime's pool); without it, the tick finds it.
        self.kick: Callable[[int], object] | None = None
        self._heartbeat: threading.Thread | None = None

    def start_heartbeat(self) -> None:
        """Renew this process's leases every fifth of a lease, so only a dead process loses its jobs."""
        if self._heartbeat is None:
            self._heartbeat = threading.Thread(
                target=self._beat, name="incidentbot-lease-heartbeat", daemon=True
            )
            self._heartbeat.start()

    def _beat(self) -> None:
        interval = self.lease.total_seconds() / 5
        while not self._stopping.wait(interval):
            try:
                held = self.holdings.renewable()
                if held:
                    with self.uow() as tx:
                        tx.jobs.renew(held, self.clock.now(), self.lease)
                        tx.commit()
            except Exception as exc:  # the database is away: the next beat tries again
                log.warning("could not renew job leases (%s)", type(exc).__name__)

    def release(self) -> int:
        """Hand back every job this process holds (due at once) and record nothing more; returns how many."""
        self._released = True
        self._stopping.set()
        with self.uow() as tx:
            count = tx.jobs.release(self.clock.now())
            tx.commit()
        return count

    def close(self, *, wait: bool = True) -> None:
        self._stopping.set()
        self._pool.shutdown(wait=wait, cancel_futures=not wait)

    def run(self, job_id: int, *, claimed: bool = False) -> bool:
        """Run one job to completion or schedule its retry; False when another worker holds it."""
        if not self.holdings.start(job_id):
            return False  # already running here: a second copy must not run it
        try:
            ctx = self._load(job_id, claimed=claimed)
            return ctx is not None and self._execute(ctx) is not None
        finally:
            self._end(job_id)

    def run_fresh(
        self,
        job_id: int,
        kind: str,
        incident: IncidentView,
        payload: dict[str, Any] | None = None,
        posts: dict[str, PostRef] | None = None,
    ) -> StepContext | None:
        """Run a job this process has just recorded and claimed, without reading it back.

        Returns the final context (what the steps produced) when every step is done, else None.
        """
        if not self.holdings.start(job_id):
            return None
        ctx = StepContext(
            job_id=job_id,
            kind=kind,
            payload=dict(payload or {}),
            attempts=1,
            done=(),
            incident=incident,
            posts=dict(posts or {}),
            chat=self.chat,
            presenter=self.presenter,
            settings=self.settings,
            clock=self.clock,
            pager=self.pager,
            tracker=self.tracker,
            publisher=self.publisher,
        )
        try:
            return self._execute(ctx)
        finally:
            self._end(job_id)

    def _end(self, job_id: int) -> None:
        """Stop holding a job; if it was claimed again while it ran here, run it once more."""
        if self.holdings.drop(job_id) and self.kick is not None and not self._stopping.is_set():
            with suppress(RuntimeError):  # stopping: its claim runs out and another process takes it
                self.kick(job_id)

    def claim_due(self, limit: int = 100) -> list[int]:
        """Claim the jobs that are due for this process to run; the cost follows what is due."""
        now = self.clock.now()
        with self.uow() as tx:
            claimed = tx.jobs.claim_due(now, self.lease, limit)
            tx.commit()
        return claimed

    def seconds_to_next(self) -> float | None:
        """How long until an owed job can be claimed (a retry's backoff, a crashed holder's lease)."""
        with self.uow() as tx:
            at = tx.jobs.next_claimable()
        if at is None:
            return None
        if at.tzinfo is None:  # SQLite hands back naive UTC
            at = at.replace(tzinfo=UTC)
        return max((at - self.clock.now()).total_seconds(), 0.0)

    def _execute(self, ctx: StepContext) -> StepContext | None:
        token = current_incident.set(ctx.incident.ref)
        try:
            return self._execute_steps(ctx)
        finally:
            current_incident.reset(token)

    def _execute_steps(self, ctx: StepContext) -> StepContext | None:
        done = list(ctx.done)
        unrecorded: list[tuple[str | None, StepOutcome]] = []
        plan = stages(self.plans[ctx.kind])
        try:
            for position, stage in enumerate(plan):
                lanes = [
                    lane for lane in (tuple(s for s in lane if s[0] not in done) for lane in stage) if lane
                ]
                total = sum(len(lane) for lane in lanes)
                last_stage = position == len(plan) - 1
                for count, (name, outcome) in enumerate(self._run_stage(ctx, lanes), start=1):
                    ctx = ctx.after(outcome)
                    blocked_before = waits_for(JobKind.UPDATE, ctx.kind, done)
                    done.append(name)
                    unrecorded.append((name, outcome))
                    stage_over = count == total
                    # The step that lets later jobs of the incident go (the room ready, whichever of its
                    # steps lands last) is recorded at once, like a durable result, never held until a slow
                    # lane of its stage (a Tier 2 pin) ends.
                    unblocks = blocked_before and not waits_for(JobKind.UPDATE, ctx.kind, done)
                    # A durable result is recorded at once; the rest when its stage is over, so later jobs
                    # see how far this one got. The final record follows the last step: no need for two.
                    if (outcome.durable or unblocks or stage_over) and not (last_stage and stage_over):
                        self._record(ctx, done, unrecorded, finished=False)
                        unrecorded = []
            self._record(ctx, done, unrecorded, finished=True)
            return ctx
        except StageFailed as failed:
            for kept_name, kept in failed.done:
                if kept_name is not None:
                    done.append(kept_name)
                unrecorded.append((kept_name, kept))
            self._record(ctx, done, unrecorded, finished=False, failure=failed.cause)
            if gives_up(failed.cause) or ctx.attempts >= MAX_ATTEMPTS:
                self._tell_gave_up(ctx, failed.cause)
            return None

    def _run_stage(self, ctx: StepContext, lanes: list[Lane]) -> Iterator[tuple[str, StepOutcome]]:
        """Yield a stage's finished steps as each returns (lanes at once, a lane's steps in order); if any
        fails, raise StageFailed with what the failed ones did part-way, after the others were yielded."""
        if len(lanes) == 1 and len(lanes[0]) == 1:
            name, step = lanes[0][0]
            try:
                outcome = step(ctx)
            except PartialProgress as partial:
                raise StageFailed([(None, partial.outcome)], partial.cause) from partial
            except Exception as exc:  # the job's durable retry is the handler: nothing may be lost
                raise StageFailed([], exc) from exc
            yield name, outcome
            return
        finished: queue.Queue[_LaneEvent] = queue.Queue()
        for lane in lanes:
            # Each lane's thread carries the incident too, for its log lines.
            self._pool.submit(copy_context().run, _run_lane, ctx, lane, finished)
        kept: list[tuple[str | None, StepOutcome]] = []
        first: Exception | None = None
        running = len(lanes)
        while running:
            event = finished.get()
            if event is None:
                running -= 1
            elif event.error is not None:
                if event.outcome is not None:
                    kept.append((None, event.outcome))
                first = _longer_wait(first, event.error)
            else:
                assert event.name is not None and event.outcome is not None
                yield event.name, event.outcome
        if first is not None:
            raise StageFailed(kept, first)

    def _load(self, job_id: int, *, claimed: bool) -> StepContext | None:
        now = self.clock.now()
        with self.uow() as uow:
            if not claimed and not uow.jobs.claim(job_id, now, self.lease):
                return None
            job = uow.jobs.get(job_id)
            if job is None or job.finished_at is not None or job.claimed_until is None:
                # Unclaimed: it ended here after a claim made while it ran (its retry is not due yet, and
                # Slack may still act on a call that timed out): whoever claims it when due runs it.
                uow.commit()
                return None
            earlier = [
                j
                for j in uow.jobs.pending_for(job.incident_id)
                if j.id < job.id and waits_for(job.kind, j.kind, j.done_steps)
            ]
            if earlier:
                # Side effects of one incident happen in the order they were asked for. Waiting is not
                # an attempt: it neither counts towards giving up nor makes the next run a recovery.
                job.due_at, job.claimed_until = now + timedelta(seconds=1), None
                job.attempts = attempts = max(job.attempts - 1, 0)
                uow.commit()
                with self._deferred_lock:
                    self._deferred.setdefault(job.incident_id, {})[job.id] = attempts
                # The job it waits for may have progressed between the read above and the line before: if
                # so, its wake-up found nobody waiting, so look once more now that this one is registered.
                if not self._blocked(job.id, job.incident_id, job.kind):
                    self._wake(job.incident_id)
                return None
            incident = uow.incidents.get(job.incident_id)
            assert incident is not None, "jobs cascade with their incident"
            posts = {p.purpose: PostRef(p.channel_id, p.ts) for p in uow.posts.list_for(incident.id)}
            ctx = StepContext(
                job_id=job.id,
                kind=job.kind,
                payload=dict(job.payload),
                attempts=job.attempts,
                done=tuple(job.done_steps),
                incident=view_of(incident, self.settings.severity_description(incident.severity)),
                posts=posts,
                chat=self.chat,
                presenter=self.presenter,
                settings=self.settings,
                clock=self.clock,
                pager=self.pager,
                tracker=self.tracker,
                publisher=self.publisher,
            )
            uow.commit()
            return ctx

    def _record(
        self,
        ctx: StepContext,
        done: list[str],
        unrecorded: list[tuple[str | None, StepOutcome]],
        *,
        finished: bool,
        failure: Exception | None = None,
    ) -> None:
        """One transaction: the job's state by primary key, the incident's new columns, posts and events."""
        if self._released:
            # This process handed its jobs back when it stopped: another may be running this one now.
            return
        now = self.clock.now()
        job_id, incident_id = ctx.job_id, ctx.incident.id
        outcome = merge([o for _, o in unrecorded])
        values: dict[str, Any] = {"done_steps": list(done)}
        if finished:
            values.update(due_at=None, claimed_until=None, finished_at=now, last_error=None)
        elif failure is not None:
            values.update(self._retry_values(ctx, failure, now))
        else:
            # Recording progress renews the lease, so only a step outlasting it lets another replica in.
            values["claimed_until"] = now + self.lease
        with self.uow() as tx:
            if outcome.incident:
                tx.incidents.update_columns(incident_id, outcome.incident)
            # Multi-row INSERTs: one statement per table however many rows (no ids needed back).
            tx.posts.insert_many(
                [
                    BotPost(incident_id=incident_id, purpose=p, channel_id=r.channel, ts=r.ts, posted_at=now)
                    for p, r in outcome.all_posts()
                ]
            )
            tx.timeline.insert_many(
                [
                    TimelineEvent(
                        incident_id=incident_id, kind=k, actor=None, text=t, occurred_at=now, data={}
                    )
                    for k, t in outcome.events
                ]
            )
            # Last: a finished job's notice to waiting web replicas carries the incident's room as now.
            tx.jobs.update_columns(job_id, values)
            tx.commit()
        self._wake(incident_id)

    def _blocked(self, job_id: int, incident_id: int, kind: str) -> bool:
        """Whether an earlier unfinished job of the incident still holds this one back."""
        with self.uow() as tx:
            return any(
                j.id < job_id and waits_for(kind, j.kind, j.done_steps)
                for j in tx.jobs.pending_for(incident_id)
            )

    def _wake(self, incident_id: int) -> None:
        """Hand on at once the jobs this process deferred behind this incident's job, now it has progressed.

        A woken job checks again whether it may run; if not, it is deferred again. Jobs deferred by other
        replicas are found by their tick within a second.
        """
        if self.kick is None:
            return
        with self._deferred_lock:
            waiting = self._deferred.pop(incident_id, {})
        if not waiting:
            return
        now = self.clock.now()
        with self.uow() as tx:
            woken = [
                job_id
                for job_id, attempts in sorted(waiting.items())
                if tx.jobs.claim_deferred(job_id, now, self.lease, attempts)
            ]
            tx.commit()
        for job_id in woken:
            try:
                self.kick(job_id)
            except RuntimeError:  # the process is stopping: hand the job back for the next one
                self.holdings.drop(job_id)
                with self.uow() as tx:
                    tx.jobs.unclaim(job_id)
                    tx.commit()

    def _retry_values(self, ctx: StepContext, exc: Exception, now: datetime) -> dict[str, Any]:
        """Retry later with backoff, or give up now: a refusal no retry fixes, or too many attempts.

        A job that gives up is finished (with its error), so the incident's later jobs are not held up.
        """
        job = f"job {ctx.job_id} ({ctx.kind}, {ctx.incident.ref})"
        values: dict[str, Any] = {"last_error": describe(exc)[:500], "claimed_until": None}
        expected = ChatError | GiveUp | TrackerError | TrackerRefused | PagerError | PublishError
        if not isinstance(exc, expected):
            log.error("%s failed unexpectedly", job, exc_info=exc)
        if gives_up(exc) or ctx.attempts >= MAX_ATTEMPTS:
            log.error("%s gave up after %s attempt(s): %s", job, ctx.attempts, describe(exc))
            values.update(due_at=None, finished_at=now)
        else:
            log.warning("%s attempt %s failed (%s); will retry", job, ctx.attempts, describe(exc))
            wait = backoff(ctx.attempts)
            if isinstance(exc, ChatError) and exc.retry_after is not None:
                asked = timedelta(seconds=exc.retry_after)
                # A 429 says exactly when to come back (a backoff grown by earlier 429s would only add
                # idle time); a timeout's wait is a floor under the backoff.
                wait = asked if exc.code == "ratelimited" else max(wait, asked)
            if isinstance(exc, TrackerError | PagerError | PublishError) and exc.retry_after is not None:
                # GitHub's and Jira's Retry-After, a pager's 429: never sooner than asked.
                wait = max(wait, timedelta(seconds=exc.retry_after))
            values["due_at"] = now + wait
        return values

    def _tell_gave_up(self, ctx: StepContext, exc: Exception) -> None:
        """Tell the person who asked (in the room, else where they declared) what did not happen and why."""
        incident = ctx.incident
        where = incident.channel_id or incident.declared_in
        resolver = incident.resolved_by if ctx.kind == JobKind.RESOLVE else None
        who = ctx.payload.get("by") or ctx.payload.get("requested_by") or resolver or incident.declared_by
        if not where or not is_person(who) or ctx.kind in _UNATTENDED:
            return
        reason = (
            exc.advice
            if isinstance(exc, ChatRefused)
            else (exc.reason if isinstance(exc, _REFUSALS) else "Slack kept failing")
        )
        if isinstance(exc, PublishError):
            reason = "the repository kept failing; the draft stays in this room"
        elif isinstance(exc, TrackerError):
            reason = "the issue tracker kept failing"
        elif isinstance(exc, PagerError):
            reason = "the paging service kept failing"
        text = f":warning: I could not {_WHAT.get(ctx.kind, 'finish this')} for {incident.ref}: {reason}."
        with suppress(ChatError):  # logged where it failed; the job's error is in its row and the log
            self.chat.notify(str(where), str(who), text)
        if incident.channel_id:
            # The room hears it too: everyone there may be waiting for what did not happen.
            with suppress(ChatError):
                self.chat.post(
                    incident.channel_id,
                    Message(
                        text=text,
                        event_type="incident_job_failed",
                        event_payload={
                            "incident_id": incident.id,
                            "incident": incident.ref,
                            "key": ctx.job_id,
                        },
                    ),
                )


# What each kind of job does, for the sentence that says it could not.
_WHAT: dict[str, str] = {
    JobKind.PROVISION: "set up the war room",
    JobKind.RESOLVE: "post the resolution",
    JobKind.ASSIGN: "announce the role change",
    JobKind.UPDATE: "post the update",
    JobKind.ESCALATE: "page everyone",
    JobKind.POSTMORTEM: "share the postmortem draft",
    JobKind.EDIT: "show the edit in the war room",
    JobKind.REOPEN: "announce the reopening",
    JobKind.ARCHIVE: "archive the war room",
    JobKind.TRACKER_ISSUE: "create the action item's tracker issue",
    JobKind.PAGE: "page everyone",
    JobKind.PAGE_ACK: "tell everyone the page was acknowledged",
    JobKind.PAGE_RESOLVE: "resolve the pager alerts",
    JobKind.PUBLISH: "publish the postmortem",
}
# Jobs nobody asked for: a failure is logged, with nobody to tell.
_UNATTENDED = frozenset({JobKind.REMINDER, JobKind.COMMANDER_REMINDER, JobKind.STALE, JobKind.TRACKER_CHECK})


# Refusals no retry fixes, each with the reason to tell: a step's, a pager's, a tracker's.
_REFUSALS = (GiveUp, PagerRefused, TrackerRefused, PublishRefused)


def _longer_wait(kept: Exception | None, new: Exception) -> Exception:
    """Of a stage's failures, the one to retry after: the one asking the longest wait (a timeout's)."""

    def wait(exc: Exception) -> int:
        return (exc.retry_after or 0) if isinstance(exc, ChatError) else 0

    return new if kept is None or wait(new) > wait(kept) else kept


def gives_up(exc: Exception) -> bool:
    """A refusal no retry can fix (a scope, a token, a setting, a room that was never made)."""
    return isinstance(exc, _REFUSALS) or (isinstance(exc, ChatError) and not exc.retryable)


def describe(exc: Exception) -> str:
    """An error for the log and the job's row: Slack's method and code, never user text."""
    if isinstance(exc, ChatError):
        return f"{exc.method}: {exc.code}"
    if isinstance(exc, _REFUSALS):
        return exc.reason
    if isinstance(exc, TrackerError):
        return f"tracker: {exc}"
    if isinstance(exc, PublishError):
        return f"publisher: {exc}"
    return type(exc).__name__
