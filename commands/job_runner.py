"""Run durable Slack jobs: independent steps concurrently, results recorded in as few transactions as is safe.

A job run records its progress once, when it ends (done, or failed part-way); a long run also records
every third of its lease, which renews the lease. Recording late is safe because every step is either
idempotent (invite, topic, pin, edits) or looks up what an unrecorded earlier attempt did before acting
again (the bot's own channel by name, its own posts by metadata).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, update

from commands.errors import ChannelNotFound, ChatUnavailable
from commands.jobs import (
    MAX_ATTEMPTS,
    Outcome,
    PartialProgress,
    Plan,
    Step,
    StepContext,
    UnitOfWorkFactory,
    backoff,
    merge,
    stages,
    waits_for,
)
from commands.ports import Chat, Clock, IncidentSettings, PostRef, Presenter
from commands.views import IncidentView, view_of
from store.models import BotPost, Incident, SlackJob, TimelineEvent

log = logging.getLogger(__name__)


class StageFailed(Exception):
    """Some steps of a stage failed; the ones that succeeded are kept."""

    def __init__(self, done: list[tuple[str | None, Outcome]], cause: Exception) -> None:
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
        lease: timedelta = timedelta(seconds=60),
        concurrency: int = 8,
    ) -> None:
        self.uow = uow
        self.chat = chat
        self.presenter = presenter
        self.settings = settings
        self.clock = clock
        self.plans = plans
        self.lease = lease
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="incidentbot-step")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def run(self, job_id: int, *, claimed: bool = False) -> bool:
        """Run one job to completion or schedule its retry; False when another worker holds it."""
        ctx = self._load(job_id, claimed=claimed)
        return ctx is not None and self._execute(ctx) is not None

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
        )
        return self._execute(ctx)

    def sweep(self, limit: int = 100) -> int:
        """Run the jobs that are due; the cost follows what is due, not what exists."""
        with self.uow() as uow:
            ids = uow.jobs.due_ids(self.clock.now(), limit)
        return sum(1 for job_id in ids if self.run(job_id))

    def _execute(self, ctx: StepContext) -> StepContext | None:
        done = list(ctx.done)
        unrecorded: list[tuple[str | None, Outcome]] = []
        flushed_at = time.monotonic()
        try:
            for stage in stages(self.plans[ctx.kind]):
                todo = [(name, step) for name, step in stage if name not in done]
                if not todo:
                    continue
                results = self._run_stage(ctx, todo)
                for name, outcome in results:
                    ctx = ctx.after(outcome)
                    done.append(name)
                    unrecorded.append((name, outcome))
                if time.monotonic() - flushed_at > self.lease.total_seconds() / 3:
                    self._record(ctx, done, unrecorded, finished=False)
                    unrecorded, flushed_at = [], time.monotonic()
            self._record(ctx, done, unrecorded, finished=True)
            return ctx
        except StageFailed as failed:
            for kept_name, kept in failed.done:
                if kept_name is not None:
                    done.append(kept_name)
                unrecorded.append((kept_name, kept))
            self._record(ctx, done, unrecorded, finished=False, failure=failed.cause)
            return None

    def _run_stage(self, ctx: StepContext, todo: list[tuple[str, Step]]) -> list[tuple[str, Outcome]]:
        """Run a stage's steps (concurrently when there are several); keep successes if any fails."""
        if len(todo) == 1:
            name, step = todo[0]
            try:
                return [(name, step(ctx))]
            except PartialProgress as partial:
                raise StageFailed([(None, partial.outcome)], partial.cause) from partial
            except Exception as exc:  # the job's durable retry is the handler: nothing may be lost
                raise StageFailed([], exc) from exc
        futures: list[tuple[str, Future[Outcome]]] = [
            (name, self._pool.submit(step, ctx)) for name, step in todo
        ]
        results: list[tuple[str, Outcome]] = []
        kept: list[tuple[str | None, Outcome]] = []
        first: Exception | None = None
        for name, future in futures:
            try:
                outcome = future.result()
            except PartialProgress as partial:
                kept.append((None, partial.outcome))
                first = first or partial.cause
                continue
            except Exception as exc:
                first = first or exc
                continue
            results.append((name, outcome))
        if first is not None:
            raise StageFailed([*results, *kept], first)
        return results

    def _load(self, job_id: int, *, claimed: bool) -> StepContext | None:
        now = self.clock.now()
        with self.uow() as uow:
            if not claimed and not uow.jobs.claim(job_id, now, self.lease):
                return None
            job = uow.jobs.get(job_id)
            if job is None or job.finished_at is not None:
                uow.commit()
                return None
            earlier = [
                j
                for j in uow.jobs.pending_for(job.incident_id)
                if j.id < job.id and waits_for(job.kind, j.kind)
            ]
            if earlier:
                # Side effects of one incident happen in the order they were asked for.
                job.due_at, job.claimed_until = now + timedelta(seconds=1), None
                uow.commit()
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
            )
            uow.commit()
            return ctx

    def _record(
        self,
        ctx: StepContext,
        done: list[str],
        unrecorded: list[tuple[str | None, Outcome]],
        *,
        finished: bool,
        failure: Exception | None = None,
    ) -> None:
        """One transaction: the job's state by primary key, the incident's new columns, posts and events."""
        now = self.clock.now()
        job_id, incident_id = ctx.job_id, ctx.incident.id
        outcome = merge([o for _, o in unrecorded])
        values: dict[str, Any] = {"done_steps": list(done)}
        if finished:
            values.update(due_at=None, claimed_until=None, finished_at=now, last_error=None)
        elif failure is not None:
            values.update(self._retry_values(job_id, ctx.attempts, failure, now))
        else:
            # Recording progress renews the lease, so only a step outlasting it lets another replica in.
            values["claimed_until"] = now + self.lease
        with self.uow() as tx:
            tx.session.execute(update(SlackJob).where(SlackJob.id == job_id).values(**values))
            if outcome.incident:
                tx.session.execute(
                    update(Incident).where(Incident.id == incident_id).values(**outcome.incident)
                )
            # Core multi-row INSERTs: one statement per table however many rows (no ids needed back).
            posts: list[dict[str, Any]] = [
                {
                    "incident_id": incident_id,
                    "purpose": p,
                    "channel_id": r.channel,
                    "ts": r.ts,
                    "posted_at": now,
                }
                for p, r in outcome.all_posts()
            ]
            events: list[dict[str, Any]] = [
                {
                    "incident_id": incident_id,
                    "kind": k,
                    "actor": None,
                    "text": t,
                    "occurred_at": now,
                    "data": {},
                }
                for k, t in outcome.events
            ]
            if posts:
                tx.session.execute(insert(BotPost), posts)
            if events:
                tx.session.execute(insert(TimelineEvent), events)
            tx.commit()

    def _retry_values(self, job_id: int, attempts: int, exc: Exception, now: Any) -> dict[str, Any]:
        log.warning("job %s attempt %s failed (%s); will retry", job_id, attempts, type(exc).__name__)
        if not isinstance(exc, ChatUnavailable | ChannelNotFound):
            log.error("job %s failed unexpectedly", job_id, exc_info=exc)
        values: dict[str, Any] = {"last_error": f"{type(exc).__name__}: {exc}"[:500], "claimed_until": None}
        if attempts >= MAX_ATTEMPTS:
            log.error("job %s gave up after %s attempts", job_id, attempts)
            values["due_at"] = None
        else:
            values["due_at"] = now + backoff(attempts)
        return values
