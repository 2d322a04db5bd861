"""Everything a listener needs after the ack, built once by the composition root and put on Bolt's context."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.ops.config import IncidentConfig
from bot.ops.maintenance import expire_deliveries, prune
from bot.pipeline.admins import AdminDirectory
from bot.pipeline.arrivals import Arrivals
from bot.pipeline.chart_work import ChartWork
from bot.pipeline.group_commit import BatchRecorder
from bot.pipeline.home import HomeTab
from bot.pipeline.job_watch import Finished, JobWatch, ListenerFactory
from bot.render.presenter import SlackPresenter
from bot.slack.chat import SlackChat
from commands import action_reminders, pages, postmortem_owner, reminders, targets, timers, tracker_sync
from commands.feature import Ask, BatchFeature, Deps, JobResult, JobState, Recorded
from commands.incidents import Scheduled
from commands.job_runner import JobRunner
from commands.ports import Clock
from commands.reminders import TickResult
from store.uow import SqlUnitOfWorkFactory

log = logging.getLogger(__name__)
# A group commit waits at most this long for a burst's other requests to be parsed and join it ...
GATHER_SECONDS = 0.05
# ... and takes a burst as over when no request arrived for this long. At 3 ms, the 3-5 ms lulls a burst
# of 100 has here ended its batch early, and its tail waited for that commit and then its own: the
# benchmark's floor holding each burst for a 25 ms commit with this very gather (`benchmarks.served
# --hold-ms`) had a p99 of 109-146 ms at 3 ms and 85-101 ms at 6 ms, floor 46-54 ms, in four runs.
QUIET_SECONDS = 0.006


# How long a web replica's reply waits for a worker to finish the job it recorded before saying it is
# on its way; the worker is woken at once, so this is only reached when Slack or the workers are slow.
JOB_WAIT_SECONDS = 5.0

# Each claims what is due of its kind, once across replicas, and records the jobs that act on it; the
# tick runs them in this order (reminders first: they are what people notice when late).
TIMED_WORK: tuple[Callable[..., TickResult], ...] = (
    reminders.tick,
    timers.tick,
    targets.tick,
    action_reminders.tick,
    tracker_sync.tick,
    pages.tick,
    postmortem_owner.tick,
)


@dataclass
class Runtime:
    """The wired adapters plus the worker pool that runs actions after Slack has its acknowledgement."""

    uow: SqlUnitOfWorkFactory
    chat: SlackChat
    presenter: SlackPresenter
    clock: Clock
    config: IncidentConfig
    runner: JobRunner
    executor: ThreadPoolExecutor
    # Other commands' commits that an ack waits for (within `record_budget`), off the worker pool.
    records: ThreadPoolExecutor
    lease: timedelta
    # Forms: views.open must use its trigger within Slack's 3 s, so it never queues behind Slack work.
    forms: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="incidentbot-forms")
    )
    record_budget: float = 1.0  # seconds an ack may wait for its declaration's commit
    # False on a web replica beside `incidentbot work`: its jobs are recorded for the workers to run.
    runs_jobs: bool = True
    job_wait: float = JOB_WAIT_SECONDS
    # Owed jobs claimed at a time are capped by this, so concurrent workers share a burst.
    job_slots: int = 16
    # Called whenever a claimed job ends, so a worker claims more without waiting for the tick.
    job_ended: Callable[[], None] | None = None
    # `/incident stats` and the weekly digest: their figures and chart shares; None where not wired.
    charts: ChartWork | None = None
    # Group commits (declarations) per batching feature, started on first use, never behind Slack work.
    _batches: dict[str, BatchRecorder[tuple[Any, Ask], Recorded | Exception]] = field(default_factory=dict)
    _pending: set[Future[Any]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _in_flight: int = 0
    # Requests being parsed in this process (the HTTP app counts them): a group commit waits for them.
    arrivals: Arrivals = field(default_factory=Arrivals)
    admins: AdminDirectory = field(init=False)
    watch: JobWatch = field(init=False)
    # The Home tab's publisher (set by the composition root); its stale views are refreshed in the tick.
    home: HomeTab | None = None
    # A web replica on PostgreSQL hears when a worker finishes a job (JobWatch); None: it reads on a timer.
    listen_for_finished_jobs: ListenerFactory | None = None

    def __post_init__(self) -> None:
        self.admins = AdminDirectory(self.config.admins, self.config.admin_group, self.chat.group_members)
        self.watch = JobWatch(self.uow, listen=self.listen_for_finished_jobs)

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        """Run work off the ack path; tracked so tests and the demo can wait for quiet."""
        return self._track(self.executor.submit(fn, *args, **kwargs))

    def open_form(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Open a form right after the ack, on threads of its own (never behind provisioning or posts)."""
        return self._track(self.forms.submit(fn, *args))

    def deps(self) -> Deps:
        """What recording a command takes from this runtime."""
        return Deps(
            uow=self.uow,
            clock=self.clock,
            settings=self.config,
            lease=self.lease,
            admins=self,
            directory=self.chat,
            presenter=self.presenter,
            reports=self.charts.reports if self.charts is not None else None,
        )

    def record_in_batch(
        self, feature: BatchFeature[Any], item: tuple[Any, Ask], done: Callable[[Recorded | Exception], None]
    ) -> Future[None]:
        """Queue an item for its feature's next group commit; `done` hears how it went (an ack waits)."""
        with self._lock:
            recorder = self._batches.get(feature.name)
            if recorder is None:
                recorder = BatchRecorder(
                    lambda items: feature.record_batch(items, self.deps()),
                    name=f"incidentbot-{feature.name}",
                    gather=lambda: self.arrivals.gather(GATHER_SECONDS, QUIET_SECONDS),
                )
                self._batches[feature.name] = recorder
        return self._track(recorder.submit(item, done))

    def record_change(self, fn: Callable[[], None]) -> Future[Any]:
        """Run a command's commit that its ack waits for, never queued behind slow Slack work."""
        return self._track(self.records.submit(fn))

    def _track(self, future: Future[Any]) -> Future[Any]:
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def close(self, grace: float | None = None) -> None:
        """Finish recording what was acknowledged, then the work it started.

        With a `grace` (a deploy's SIGTERM), Slack work still running after that many seconds is left
        unrecorded and every job this process holds is released for the next process to resume at once.
        """
        with self._lock:
            batches = list(self._batches.values())
        for recorder in batches:
            recorder.close()
        self.watch.close()
        self.records.shutdown(wait=True)
        self.forms.shutdown(wait=grace is None, cancel_futures=grace is not None)
        if grace is None:
            self.executor.shutdown(wait=True)
            return
        with self._lock:
            pending = list(self._pending)
        _, unfinished = wait(pending, timeout=grace)
        self.executor.shutdown(wait=False, cancel_futures=True)
        released = self.runner.release()
        log.info(
            "stopped: %d unfinished piece(s) of work left, %d Slack job(s) released for the next process",
            len(unfinished),
            released,
        )

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("background work failed: %s", type(future.exception()).__name__)

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until every submitted piece of work has finished."""
        while True:
            with self._lock:
                pending = list(self._pending)
            if not pending:
                return
            for future in pending:
                future.result(timeout=timeout)

    def job_state(self, job_id: int | None, done: bool) -> JobState:
        """What became of a job just run here or by a worker: done, still owed, not started, or given up."""
        if done or job_id is None:
            return JobState.DONE
        with self.uow() as tx:
            job = tx.jobs.get(job_id)
            if job is None or job.finished_at is None:
                untouched = job is not None and job.attempts == 0 and not self.runs_jobs
                return JobState.QUEUED if untouched else JobState.PENDING
            return JobState.GAVE_UP if job.last_error else JobState.DONE

    def run_job(self, job_id: int | None) -> bool:
        """Run a job this process recorded and pre-claimed; True when all its steps are done.

        On a web replica the job is a worker's and is never run here (see `when_done`).
        """
        if job_id is None:
            return True
        if not self.runs_jobs:
            return False
        return self.runner.run(job_id, claimed=True)

    def run(self, scheduled: Scheduled, *, wait: bool = True) -> JobResult:
        """Run a command's job (from the snapshot it returned when nothing earlier must go first); then
        what became of it, with the room once it exists. A web replica runs none (see `when_done`)."""
        job_id = scheduled.job_id
        channel = scheduled.incident.channel_id
        if job_id is None:
            return JobResult(JobState.DONE, channel)
        if not self.runs_jobs:
            return JobResult(JobState.QUEUED, channel)
        fresh = scheduled.fresh
        if fresh is not None:
            done = self.runner.run_fresh(job_id, fresh.kind, scheduled.incident, fresh.payload, fresh.posts)
            finished = done is not None
            channel = done.incident.channel_id if done is not None else channel
        else:
            finished = self.runner.run(job_id, claimed=True)
        for then in scheduled.then:
            self.run_job(then)
        if not wait:
            return JobResult(JobState.DONE if finished else JobState.PENDING, channel)
        state = self.job_state(job_id, finished)
        if state is JobState.DONE and channel is None:
            channel = self._room_of(scheduled.incident.id)
        return JobResult(state, channel)

    def _ended(self, scheduled: Scheduled, job_id: int, finished: Finished | None) -> JobResult:
        """A web replica's view of a worker's job: how the watch heard it end, and where."""
        if finished is None:  # not heard within job_wait: still owed, not started, or ended unheard
            return JobResult(self.job_state(job_id, False), scheduled.incident.channel_id)
        state = JobState.GAVE_UP if finished.gave_up else JobState.DONE
        return JobResult(state, finished.channel_id)

    def when_done(self, scheduled: Scheduled, then: Callable[[JobResult], None]) -> None:
        """On a web replica: `then` gets what became of a worker's job once it ends (or job_wait passes),
        on the worker pool, and no thread waits meanwhile. Tracked, so drain and close wait for it too."""
        job_id = scheduled.job_id
        if job_id is None:  # nothing to wait for
            self.submit(then, JobResult(JobState.DONE, scheduled.incident.channel_id))
            return
        waiting: Future[None] = Future()
        self._track(waiting)

        def ended(finished: Finished | None) -> None:
            try:
                self.submit(lambda: then(self._ended(scheduled, job_id, finished)))
            finally:
                waiting.set_result(None)

        self.watch.when_finished(job_id, self.job_wait, ended)

    def _room_of(self, incident_id: int) -> str | None:
        with self.uow() as tx:
            incident = tx.incidents.get(incident_id)
            return None if incident is None else incident.channel_id

    def refresh_admins(self) -> None:
        """Fetch the admin group now: only when it alone could allow what someone asked for."""
        self.admins.refresh_now()

    def is_admin(self, user_id: str) -> bool | None:
        """Configured admins, or cached admin-group members; never a Slack call (see bot.pipeline.admins).

        None while the group's membership is not known yet; a fetch is then started on the worker pool,
        so the person's next try, a moment later, has an answer.
        """
        known = self.admins.is_admin(user_id)
        if known is None:
            self.admins.start_refresh(self.submit)
        return known

    def keep_warm(self) -> None:
        """Refresh the admin group's members in the background, so is_admin's answer never waits on Slack."""
        self.admins.start_refresh(self.submit)

    def tick(self) -> int:
        """The periodic tick: claim due timed work (TIMED_WORK) and owed Slack work, then housekeeping
        (expired deliveries, retention); returns how many jobs it started.

        The tick only claims: the jobs run on the worker pool, so a slow Slack never makes it late.
        """
        self.keep_warm()
        started = 0
        for timed in TIMED_WORK:
            claimed = timed(uow=self.uow, clock=self.clock, settings=self.config, lease=self.lease)
            self.run_claimed(claimed.job_ids)
            started += len(claimed.job_ids)
        owed = self.claim_owed()
        if self.home is not None:
            self.home.refresh(self.submit)
        if self.charts is not None:
            started += self.charts.tick(self.submit)
        expire_deliveries(self.uow, self.clock)
        prune(self.uow, self.clock, self.config.retention)
        return started + owed

    def claim_owed(self) -> int:
        """Claim as many owed jobs as this process has free slots for, and start them; returns how many."""
        with self._lock:
            free = self.job_slots - self._in_flight
        owed = self.runner.claim_due(limit=free) if free > 0 else []
        self.run_claimed(owed)
        return len(owed)

    def has_free_slots(self) -> bool:
        with self._lock:
            return self._in_flight < self.job_slots

    def run_claimed(self, job_ids: list[int]) -> None:
        """Start jobs this process has claimed; each takes a slot until it ends."""
        for job_id in job_ids:
            with self._lock:
                self._in_flight += 1
            try:
                future = self.submit(self.runner.run, job_id, claimed=True)
            except RuntimeError:  # stopping: the job's claim is released with the rest
                with self._lock:
                    self._in_flight -= 1
                raise
            future.add_done_callback(self._job_done)

    def _job_done(self, _future: Future[Any]) -> None:
        with self._lock:
            self._in_flight -= 1
        if self.job_ended is not None:
            self.job_ended()
