"""Tracker failures in the job runner: retried after what the tracker asked, or refused once with why."""

from __future__ import annotations

from datetime import timedelta

from commands.job_runner import MAX_ATTEMPTS, JobRunner
from commands.jobs import JobKind, StepContext, StepOutcome, new_job
from commands.records import SlackJob
from commands.tracker import Issue, NoTracker, Tracker, TrackerError
from tests.unit.commands.conftest import CONFIG, LEASE, Clock, war_room
from tests.unit.commands.test_job_runner import RecordingChat
from tests.unit.fakes import FakeDatabase


def run_create(
    db: FakeDatabase, clock: Clock, tracker: Tracker, attempts: int = 0
) -> tuple[RecordingChat, SlackJob]:
    number = war_room(db, clock, channel="CROOM")
    with db() as tx:
        job = new_job(JobKind.TRACKER_ISSUE, number, clock.now(), LEASE, {"item": 1, "by": "U1"})
        job.attempts = attempts
        tx.jobs.add(job)
        tx.commit()

    def create(ctx: StepContext) -> StepOutcome:
        ctx.tracker.create_issue("[INC-1] t", "b", [], marker="m")
        return StepOutcome()

    chat = RecordingChat()
    runner = JobRunner(
        uow=db,
        chat=chat,  # type: ignore[arg-type]
        presenter=None,  # type: ignore[arg-type]
        settings=CONFIG,
        clock=clock,
        plans={JobKind.TRACKER_ISSUE: [("create_issue", create)]},
        lease=LEASE,
        tracker=tracker,
    )
    try:
        runner.run(job.id, claimed=True)
    finally:
        runner.close()
    [recorded] = db.jobs(JobKind.TRACKER_ISSUE)
    return chat, recorded


class RateLimited(NoTracker):
    def create_issue(self, *_args: object, **_kw: object) -> Issue:  # type: ignore[override]
        raise TrackerError("GitHub POST /repos/acme/ops/issues answered 429", retry_after=120)


def test_a_rate_limited_tracker_is_retried_no_sooner_than_it_asked(db: FakeDatabase, clock: Clock) -> None:
    chat, job = run_create(db, clock, RateLimited())
    assert job.finished_at is None and job.due_at is not None
    assert job.due_at >= clock.now() + timedelta(seconds=120)
    assert job.last_error == "tracker: GitHub POST /repos/acme/ops/issues answered 429"
    assert chat.posts == [] and chat.notices == []


def test_a_refusing_tracker_stops_the_job_and_tells_the_room_and_the_person_why(
    db: FakeDatabase, clock: Clock
) -> None:
    chat, job = run_create(db, clock, NoTracker())
    assert job.finished_at is not None and job.last_error == "no issue tracker is configured"
    [post] = chat.posts
    assert post == (
        ":warning: I could not create the action item's tracker issue for INC-1: "
        "no issue tracker is configured."
    )
    assert chat.notices == [post]


def test_a_tracker_that_keeps_failing_is_named_when_the_job_gives_up(db: FakeDatabase, clock: Clock) -> None:
    chat, job = run_create(db, clock, RateLimited(), attempts=MAX_ATTEMPTS)  # its last attempt
    assert job.finished_at is not None
    assert chat.posts == [
        ":warning: I could not create the action item's tracker issue for INC-1: "
        "the issue tracker kept failing."
    ]
