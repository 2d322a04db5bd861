"""Everything a listener needs after the ack, built once by the composition root and put on Bolt's context."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from bot.admins import AdminDirectory
from bot.config import IncidentConfig
from bot.maintenance import expire_deliveries, prune
from bot.presenter import SlackPresenter
from bot.recorder import BatchRecorder
from bot.slack_chat import SlackChat
from commands import reminders
from commands.incidents import Declared, DeclareRequest, Scheduled
from commands.job_runner import JobRunner
from commands.ports import Clock
from store.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


class JobState(StrEnum):
    """How a command's Slack work stands when its confirmation is written, so it says only what happened."""

    DONE = "done"
    PENDING = "pending"  # Slack failed or is slow, or earlier work of the incident goes first: it will follow
    GAVE_UP = "gave_up"  # a refusal no retry fixes: the person was told why


@dataclass
class Runtime:
    """The wired adapters plus the worker pool that runs actions after Slack has its acknowledgement."""

    uow: UnitOfWorkFactory
    chat: SlackChat
    presenter: SlackPresenter
    clock: Clock
    config: IncidentConfig
    runner: JobRunner
    executor: ThreadPoolExecutor
    # Declarations are committed here before their ack, batched, never behind slow Slack work on `executor`.
    recorder: BatchRecorder[DeclareRequest, Declared]
    # Other commands' commits that an ack waits for (within `record_budget`), off the worker pool.
    records: ThreadPoolExecutor
    lease: timedelta
    # Forms: views.open must use its trigger within Slack's 3 s, so it never queues behind Slack work.
    forms: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="incidentbot-forms")
    )
    record_budget: float = 1.0  # seconds an ack may wait for its declaration's commit
    _pending: set[Future[Any]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    admins: AdminDirectory = field(init=False)

    def __post_init__(self) -> None:
        self.admins = AdminDirectory(self.config.admins, self.config.admin_group, self.chat.group_members)

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        """Run work off the ack path; tracked so tests and the demo can wait for quiet."""
        return self._track(self.executor.submit(fn, *args, **kwargs))

    def open_form(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Open a form right after the ack, on threads of its own (never behind provisioning or posts)."""
        return self._track(self.forms.submit(fn, *args))

    def record(
        self, request: DeclareRequest, done: Callable[[Scheduled | None | Exception], None]
    ) -> Future[None]:
        """Queue a declaration for the next group commit; `done` hears how it went (an ack waits on it)."""
        return self._track(self.recorder.submit(request, done))

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
        self.recorder.close()
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
        """What became of a job this process just ran: done, still owed (retrying or waiting), or given up."""
        if done or job_id is None:
            return JobState.DONE
        with self.uow() as tx:
            job = tx.jobs.get(job_id)
            if job is None or job.finished_at is None:
                return JobState.PENDING
            return JobState.GAVE_UP if job.last_error else JobState.DONE

    def run_job(self, job_id: int | None) -> bool:
        """Run a job this process recorded and pre-claimed; True when all its steps are done."""
        return True if job_id is None else self.runner.run(job_id, claimed=True)

    def run_scheduled(self, scheduled: Scheduled) -> bool:
        """Run a command's job from the snapshot it returned when nothing earlier must go first."""
        fresh = scheduled.fresh
        if scheduled.job_id is None or fresh is None:
            return self.run_job(scheduled.job_id)
        done = self.runner.run_fresh(
            scheduled.job_id, fresh.kind, scheduled.incident, fresh.payload, fresh.posts
        )
        return done is not None

    def is_admin(self, user_id: str) -> bool | None:
        """Configured admins, or cached admin-group members; never a Slack call (see bot.admins).

        None while the group's membership is not known yet; a fetch is then started on the worker pool,
        so the person's next try, a moment later, has an answer.
        """
        known = self.admins.is_admin(user_id)
        if known is None:
            self.admins.start_refresh(self.submit)
        return known

    def tick(self) -> int:
        """The periodic tick: claim due reminders and owed Slack work, then housekeeping (expired deliveries,
        retention); returns how many jobs it started.

        The tick only claims: the jobs run on the worker pool, so a slow Slack never makes it late.
        """
        self.admins.start_refresh(self.submit)  # keeps is_admin's answer warm, off every ack path
        claimed = reminders.tick(uow=self.uow, clock=self.clock, settings=self.config, lease=self.lease)
        owed = self.runner.claim_due()
        for job_id in [*claimed.job_ids, *owed]:
            self.submit(self.runner.run, job_id, claimed=True)
        expire_deliveries(self.uow, self.clock)
        prune(self.uow, self.clock, self.config.retention)
        return len(claimed.job_ids) + len(owed)
