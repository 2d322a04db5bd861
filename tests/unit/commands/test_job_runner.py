"""The job runner's record of a job, through the port: steps done, incident columns, posts and lines."""

from __future__ import annotations

from datetime import timedelta

from commands.job_runner import JobRunner
from commands.jobs import StepContext, StepOutcome, new_job
from commands.pager import NoPager, Pager, PagerError
from commands.ports import Message, PostRef
from commands.records import SlackJob
from commands.views import view_of
from tests.unit.commands.conftest import CONFIG, LEASE, Clock, war_room
from tests.unit.fakes import FakeDatabase


def test_a_finished_job_is_recorded_with_what_its_steps_changed(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, channel="CROOM")
    with db() as tx:
        job = tx.jobs.add(new_job("demo", number, clock.now(), LEASE))
        incident = tx.incidents.get(number)
        assert incident is not None
        view = view_of(incident)
        tx.commit()

    def post(_ctx: StepContext) -> StepOutcome:
        return StepOutcome(post=("summary", PostRef("CROOM", "1.5")), events=[("note", "Summary posted")])

    def rename(ctx: StepContext) -> StepOutcome:
        assert ctx.posts == {"summary": PostRef("CROOM", "1.5")}
        return StepOutcome(incident={"channel_name": "inc-renamed"})

    runner = JobRunner(
        uow=db,
        chat=None,  # type: ignore[arg-type]
        presenter=None,  # type: ignore[arg-type]
        settings=CONFIG,
        clock=clock,
        plans={"demo": [("post", post), ("rename", rename)]},
        lease=LEASE,
    )
    try:
        done = runner.run_fresh(job.id, "demo", view)
    finally:
        runner.close()
    assert done is not None and done.incident.channel_name == "inc-renamed"
    [recorded] = db.jobs("demo")
    assert recorded.done_steps == ["post", "rename"]
    assert (recorded.finished_at, recorded.due_at, recorded.claimed_until) == (clock.now(), None, None)
    assert db.incident(number).channel_name == "inc-renamed"
    [summary] = db.committed.posts
    assert (summary.incident_id, summary.purpose, summary.channel_id, summary.ts) == (
        number,
        "summary",
        "CROOM",
        "1.5",
    )
    assert [(e.kind, e.text) for e in db.events(number)] == [("note", "Summary posted")]


class RecordingChat:
    """Only what giving up uses: the notices to the person and the room."""

    def __init__(self) -> None:
        self.notices: list[str] = []
        self.posts: list[str] = []

    def notify(self, _channel: str, _user: str, text: str) -> None:
        self.notices.append(text)

    def post(self, _channel: str, message: Message) -> PostRef:
        self.posts.append(message.text)
        return PostRef("CROOM", "9.9")


def run_pager_step(db: FakeDatabase, clock: Clock, pager: Pager | None) -> tuple[RecordingChat, SlackJob]:
    number = war_room(db, clock, channel="CROOM")
    with db() as tx:
        job = tx.jobs.add(new_job("page", number, clock.now(), LEASE, {"by": "U1"}))
        tx.commit()

    def page(ctx: StepContext) -> StepOutcome:
        ctx.pager.trigger("pagerduty:payments", "INC-1/db", "Checkout is down", priority=1, details={})
        return StepOutcome()

    chat = RecordingChat()
    runner = JobRunner(
        uow=db,
        chat=chat,  # type: ignore[arg-type]
        presenter=None,  # type: ignore[arg-type]
        settings=CONFIG,
        clock=clock,
        plans={"page": [("page", page)]},
        lease=LEASE,
        pager=pager,
    )
    try:
        runner.run(job.id, claimed=True)
    finally:
        runner.close()
    [recorded] = db.jobs("page")
    return chat, recorded


def test_a_refusing_pager_stops_the_job_and_says_why(db: FakeDatabase, clock: Clock) -> None:
    chat, job = run_pager_step(db, clock, None)  # no pager configured
    assert job.finished_at is not None and job.done_steps == []
    assert job.last_error == "no pager is configured for pagerduty:payments"
    assert chat.notices == [f"{chat.posts[0]}"]
    assert "no pager is configured for pagerduty:payments" in chat.posts[0]


def test_a_failing_pager_is_retried_later(db: FakeDatabase, clock: Clock) -> None:
    class Down(NoPager):
        def trigger(self, *_args: object, **_kw: object) -> None:
            raise PagerError("503")

    chat, job = run_pager_step(db, clock, Down())
    assert job.finished_at is None and job.due_at is not None and job.due_at > clock.now()
    assert job.attempts == 1 and chat.posts == []


def test_a_rate_limited_pager_is_retried_no_sooner_than_it_asked(db: FakeDatabase, clock: Clock) -> None:
    class Busy(NoPager):
        def trigger(self, *_args: object, **_kw: object) -> None:
            raise PagerError("429", retry_after=120)

    _chat, job = run_pager_step(db, clock, Busy())
    assert job.finished_at is None and job.due_at is not None
    assert job.due_at - clock.now() >= timedelta(seconds=120), "the first backoff alone is far shorter"
