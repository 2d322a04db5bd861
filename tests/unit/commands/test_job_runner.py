"""The job runner's record of a job, through the port: steps done, incident columns, posts and lines."""

from __future__ import annotations

from commands.job_runner import JobRunner
from commands.jobs import StepContext, StepOutcome, new_job
from commands.ports import PostRef
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
