"""Durable Slack side effects: a job lists its steps, records each result once, and resumes after failures."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from commands.ports import Chat, Clock, IncidentSettings, PostRef, Presenter
from commands.views import IncidentView, view_of
from store.models import BotPost, SlackJob, TimelineEvent
from store.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 25
MAX_BACKOFF = timedelta(minutes=5)


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> SqlUnitOfWork: ...


@dataclass(frozen=True)
class Outcome:
    """What a finished step changed: incident columns, posts to remember, timeline lines."""

    incident: dict[str, Any] = field(default_factory=dict)
    post: tuple[str, PostRef] | None = None
    events: list[tuple[str, str]] = field(default_factory=list)
    more_posts: tuple[tuple[str, PostRef], ...] = ()

    def all_posts(self) -> list[tuple[str, PostRef]]:
        return ([self.post] if self.post else []) + list(self.more_posts)


class PartialProgress(Exception):
    """A fan-out step failed part-way: record what it did so the retry skips those, then retry."""

    def __init__(self, outcome: Outcome, cause: Exception) -> None:
        super().__init__(str(cause))
        self.outcome = outcome
        self.cause = cause


@dataclass(frozen=True)
class StepContext:
    job_id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    done: tuple[str, ...]
    incident: IncidentView
    posts: dict[str, PostRef]
    chat: Chat
    presenter: Presenter
    settings: IncidentSettings
    clock: Clock

    @property
    def recovering(self) -> bool:
        """True when an earlier attempt may have acted on Slack without recording it."""
        return self.attempts > 1

    def after(self, outcome: Outcome) -> StepContext:
        shown = {k: v for k, v in outcome.incident.items() if k in _VIEW_FIELDS}
        incident = replace(self.incident, **shown) if shown else self.incident
        posts = {**self.posts, **dict(outcome.all_posts())}
        return replace(self, incident=incident, posts=posts)


_VIEW_FIELDS = {f.name for f in fields(IncidentView)}

Step = Callable[[StepContext], Outcome]
Plan = list[tuple[str, Step]]


def backoff(attempts: int) -> timedelta:
    """Wait 1, 2, 4 ... seconds between attempts, capped at five minutes."""
    return min(timedelta(seconds=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def new_job(
    kind: str, incident_id: int, now: datetime, lease: timedelta, payload: dict[str, Any] | None = None
) -> SlackJob:
    """A job due now and already claimed by the process that records it, which runs it straight away."""
    return SlackJob(
        kind=kind,
        incident_id=incident_id,
        payload=payload or {},
        done_steps=[],
        attempts=1,
        due_at=now,
        claimed_until=now + lease,
        created_at=now,
    )


class JobRunner:
    """Run jobs by plan: claim, skip recorded steps, record each new result in its own transaction."""

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
    ) -> None:
        self.uow = uow
        self.chat = chat
        self.presenter = presenter
        self.settings = settings
        self.clock = clock
        self.plans = plans
        self.lease = lease

    def run(self, job_id: int, *, claimed: bool = False) -> bool:
        """Run one job to completion or schedule its retry; False when another worker holds it."""
        ctx = self._load(job_id, claimed=claimed)
        if ctx is None:
            return False
        try:
            for name, step in self.plans[ctx.kind]:
                if name in ctx.done:
                    continue
                outcome = step(ctx)
                self._record(job_id, name, outcome)
                ctx = ctx.after(outcome)
            self._finish(job_id)
            return True
        except PartialProgress as partial:
            self._record(job_id, None, partial.outcome)
            self._retry_later(job_id, ctx.attempts, partial.cause)
            return False
        except Exception as exc:  # the job's durable retry is the handler: nothing may be lost
            self._retry_later(job_id, ctx.attempts, exc)
            return False

    def sweep(self, limit: int = 100) -> int:
        """Run the jobs that are due; the cost follows what is due, not what exists."""
        with self.uow() as uow:
            ids = uow.jobs.due_ids(self.clock.now(), limit)
        return sum(1 for job_id in ids if self.run(job_id))

    def _load(self, job_id: int, *, claimed: bool) -> StepContext | None:
        now = self.clock.now()
        with self.uow() as uow:
            if not claimed and not uow.jobs.claim(job_id, now, self.lease):
                return None
            job = uow.jobs.get(job_id)
            if job is None or job.finished_at is not None:
                uow.commit()
                return None
            earlier = [j for j in uow.jobs.pending_for(job.incident_id) if j.id < job.id]
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

    def _record(self, job_id: int, name: str | None, outcome: Outcome) -> None:
        now = self.clock.now()
        with self.uow() as uow:
            job = uow.jobs.get(job_id)
            assert job is not None
            if name is not None:
                job.done_steps = [*job.done_steps, name]
            if job.finished_at is None and job.claimed_until is not None:
                # Each recorded step renews the lease, so only a single step outlasting it lets a
                # restarted replica's tick take the job over.
                job.claimed_until = now + self.lease
            if outcome.incident:
                incident = uow.incidents.get(job.incident_id)
                assert incident is not None
                for column, value in outcome.incident.items():
                    setattr(incident, column, value)
            for purpose, ref in outcome.all_posts():
                uow.posts.add(
                    BotPost(
                        incident_id=job.incident_id,
                        purpose=purpose,
                        channel_id=ref.channel,
                        ts=ref.ts,
                        posted_at=now,
                    )
                )
            for kind, text in outcome.events:
                uow.timeline.add(
                    TimelineEvent(
                        incident_id=job.incident_id, kind=kind, actor=None, text=text, occurred_at=now
                    )
                )
            uow.commit()

    def _finish(self, job_id: int) -> None:
        with self.uow() as uow:
            job = uow.jobs.get(job_id)
            assert job is not None
            job.due_at, job.claimed_until, job.finished_at, job.last_error = (
                None,
                None,
                self.clock.now(),
                None,
            )
            uow.commit()

    def _retry_later(self, job_id: int, attempts: int, exc: Exception) -> None:
        reason = f"{type(exc).__name__}: {exc}"[:500]
        log.warning("job %s attempt %s failed (%s); will retry", job_id, attempts, type(exc).__name__)
        if not _is_expected(exc):
            log.exception("job %s failed unexpectedly", job_id)
        now = self.clock.now()
        with self.uow() as uow:
            job = uow.jobs.get(job_id)
            if job is None:
                return
            job.last_error = reason
            job.claimed_until = None
            if attempts >= MAX_ATTEMPTS:
                log.error("job %s gave up after %s attempts", job_id, attempts)
                job.due_at = None
            else:
                job.due_at = now + backoff(attempts)
            uow.commit()


def _is_expected(exc: Exception) -> bool:
    from commands.errors import ChannelNotFound, ChatUnavailable

    return isinstance(exc, ChatUnavailable | ChannelNotFound)
