"""Action items on the in-memory store: owner, due and priority; Done once; weekly reminders once a slot."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.ops.config import IncidentConfig
from commands import action_reminders
from commands.action import ACTION_ITEM
from commands.action_items import LIST_ACTIONS, MARK_ACTION_DONE, SNOOZE_ACTION_ITEM
from commands.due import DueSpec
from commands.errors import PermissionDenied, UnknownTarget, UsageError
from commands.feature import Ask, Deps, JobResult, JobState
from commands.parsing import AddActionItem, ListActionItems, MarkActionDone, SnoozeActionItem
from tests.unit.commands.conftest import LEASE, ROOM, Clock, war_room
from tests.unit.fakes import FakeDatabase, same_state

CONFIG = IncidentConfig(timezone="Europe/Berlin", action_reminders_at="mon 09:00")


class Directory:
    def user_exists(self, user_id: str) -> bool:
        return user_id in {"U1", "U2", "U3", "U4"}

    def group_members(self, _group_id: str) -> list[str]:
        return []

    def permalink(self, _channel: str, _ts: str) -> str | None:
        return None


class Admins:
    def is_admin(self, _user_id: str) -> bool | None:
        return False

    def refresh_admins(self) -> None:
        pass


class Presenter:
    def when(self, moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def deps(db: FakeDatabase, clock: Clock) -> Deps:
    return Deps(
        uow=db,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
        admins=Admins(),
        directory=Directory(),
        presenter=Presenter(),  # type: ignore[arg-type]
    )


def add(db: FakeDatabase, clock: Clock, cmd: AddActionItem, user: str = "U1", key: str | None = None) -> Any:
    recorded = ACTION_ITEM.record(cmd, Ask(user, ROOM, key), deps(db, clock))
    assert recorded.reply is not None
    return recorded


def test_an_item_records_owner_due_at_the_end_of_the_day_and_priority(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock)  # Sunday 2026-03-01, 14:00 in Berlin
    recorded = add(
        db, clock, AddActionItem("Add a canary", owner="U4", due=DueSpec(word="tomorrow"), priority="p1")
    )
    [item] = db.committed.action_items
    due = datetime(2026, 3, 2, 23, 59, 59, tzinfo=CONFIG.zone)
    assert (item.owner, item.due_at, item.priority, item.done_at) == ("U4", due, "p1", None)
    # Overdue from Tuesday: its first reminder is the next Monday 09:00 in Berlin.
    assert item.remind_at == datetime(2026, 3, 9, 9, 0, tzinfo=CONFIG.zone)
    said = recorded.reply(JobResult(JobState.DONE))
    assert "Action item 1 recorded for INC-" in said and "owner <@U4>" in said
    assert "due Mon 2026-03-02" in said and "P1" in said
    [job] = list(db.committed.jobs.values())
    assert job.kind == "action_item" and job.payload["item"]["priority"] == "p1"
    [event] = db.events(number, "action_item")
    assert event.data["due"] == due.isoformat() and event.data["number"] == 1


def test_a_past_due_date_or_an_unknown_owner_records_nothing(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock)
    before = db.snapshot()
    with pytest.raises(UsageError, match="already over"):
        add(db, clock, AddActionItem("Add a canary", due=DueSpec(date=date(2026, 2, 28))))
    with pytest.raises(UnknownTarget):
        add(db, clock, AddActionItem("Add a canary", owner="U999"))
    assert same_state(before, db.snapshot())


def test_done_is_recorded_once_and_the_second_click_is_told_who_did_it(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock)
    add(db, clock, AddActionItem("First"))
    add(db, clock, AddActionItem("Second", owner="U4"))
    second = db.committed.action_items[1]
    now = clock.advance(hours=1)
    first_click = MARK_ACTION_DONE.record(
        MarkActionDone(item_id=second.id, message_ts="111.1"), Ask("U2", ROOM, "click:1"), deps(db, clock)
    )
    assert first_click.reply is not None and "Marked action item 2 of INC-" in first_click.reply(
        JobResult(JobState.DONE)
    )
    clock.advance(minutes=1)
    other = MARK_ACTION_DONE.record(MarkActionDone(number=2), Ask("U3", ROOM), deps(db, clock))
    assert other.answer is not None and "already marked done by <@U2>" in other.answer
    item = db.committed.action_items[1]
    assert (item.done_by, item.done_at, item.remind_at) == ("U2", now, None)
    assert len(db.events(number, "action_item_done")) == 1
    # The clicked list is shown afresh: the open one first, then the done one.
    update = [j for j in db.committed.jobs.values() if j.kind == "action_list"][0]
    assert update.payload["ts"] == "111.1"
    assert [line["number"] for line in update.payload["items"]] == [1, 2]
    with pytest.raises(UsageError, match="no action item 5"):
        MARK_ACTION_DONE.record(MarkActionDone(number=5), Ask("U3", ROOM), deps(db, clock))


def test_outside_the_room_only_the_owner_may_mark_done_or_snooze(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock)
    add(db, clock, AddActionItem("Fix alerts", owner="U4", due=DueSpec(word="today")))
    item = db.committed.action_items[0]
    with pytest.raises(PermissionDenied):
        MARK_ACTION_DONE.record(MarkActionDone(item_id=item.id), Ask("U2", "DM2"), deps(db, clock))
    with pytest.raises(PermissionDenied):
        SNOOZE_ACTION_ITEM.record(SnoozeActionItem(item_id=item.id), Ask("U2", "DM2"), deps(db, clock))
    snoozed = SNOOZE_ACTION_ITEM.record(SnoozeActionItem(item_id=item.id), Ask("U4", "DM4"), deps(db, clock))
    assert snoozed.answer is not None and "Snoozed action item 1" in snoozed.answer
    # A week from Sunday afternoon, then the next Monday 09:00.
    assert db.committed.action_items[0].remind_at == datetime(2026, 3, 9, 9, 0, tzinfo=CONFIG.zone)
    done = MARK_ACTION_DONE.record(MarkActionDone(item_id=item.id), Ask("U4", "DM4"), deps(db, clock))
    assert done.answer is not None and done.answer.startswith(":white_check_mark: Marked action item 1")


def test_the_list_is_posted_open_first_and_an_empty_one_says_so(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock)
    empty = LIST_ACTIONS.record(ListActionItems(), Ask("U1", ROOM), deps(db, clock))
    assert empty.answer is not None and "no action items yet" in empty.answer
    add(db, clock, AddActionItem("One"))
    add(db, clock, AddActionItem("Two"))
    MARK_ACTION_DONE.record(MarkActionDone(number=1), Ask("U1", ROOM), deps(db, clock))
    listed = LIST_ACTIONS.record(ListActionItems(), Ask("U1", ROOM), deps(db, clock))
    assert listed.scheduled is not None and listed.reply is not None
    assert "1 open and 1 done" in listed.reply(JobResult(JobState.DONE))
    [job] = [j for j in db.committed.jobs.values() if j.kind == "action_list"]
    assert [(line["text"], bool(line["done_at"])) for line in job.payload["items"]] == [
        ("Two", False),
        ("One", True),
    ]


def test_reminders_go_once_a_slot_per_owner_and_skip_done_and_snoozed(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock)
    private = war_room(db, clock, channel="CPRIV", private=True)
    add(db, clock, AddActionItem("Alert on pool size", owner="U4", due=DueSpec(word="tomorrow")))
    add(db, clock, AddActionItem("Rotate keys", owner="U4", due=DueSpec(word="tomorrow")))
    add(db, clock, AddActionItem("No due date", owner="U4"))
    ACTION_ITEM.record(
        AddActionItem("Secret fix", owner="U4", due=DueSpec(word="tomorrow")),
        Ask("U1", "CPRIV"),
        deps(db, clock),
    )
    add(db, clock, AddActionItem("Bob's", owner="U2", due=DueSpec(word="tomorrow")))

    def tick() -> list[Any]:
        result = action_reminders.tick(uow=db, clock=clock, settings=CONFIG, lease=LEASE)
        jobs = db.committed.jobs
        return [jobs[i] for i in result.job_ids]

    assert tick() == []
    clock.at = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin
    dms = tick()
    assert [j.payload["owner"] for j in dms] == ["U2", "U4"]
    dave = dms[1].payload["items"]
    assert [line["text"] for line in dave] == ["Alert on pool size", "Rotate keys", "Secret fix"]
    assert dave[2]["private"] and dave[2]["title"] is None and dave[2]["incident"] == f"INC-{private}"
    assert tick() == [], "a second tick (or replica) in the same slot finds nothing due"

    # Dave finishes one and snoozes another; next Monday only the rest is sent.
    rotate = db.committed.action_items[1]
    MARK_ACTION_DONE.record(
        MarkActionDone(item_id=db.committed.action_items[0].id), Ask("U4", "D4"), deps(db, clock)
    )
    SNOOZE_ACTION_ITEM.record(SnoozeActionItem(item_id=rotate.id), Ask("U4", "D4"), deps(db, clock))
    clock.at = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)
    [bob, dave_again] = tick()
    assert [line["text"] for line in dave_again.payload["items"]] == ["Secret fix"]
    clock.at = datetime(2026, 3, 23, 8, 0, tzinfo=UTC)  # the snooze is over
    assert [line["text"] for line in tick()[1].payload["items"]] == ["Rotate keys", "Secret fix"]


def test_a_restart_after_missed_slots_sends_once_and_resumes_the_weekly_rhythm(
    db: FakeDatabase, clock: Clock
) -> None:
    war_room(db, clock)
    add(db, clock, AddActionItem("Alert on pool size", owner="U4", due=DueSpec(word="tomorrow")))
    clock.at = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)  # down for two slots: one DM now
    assert len(action_reminders.tick(uow=db, clock=clock, settings=CONFIG, lease=LEASE).job_ids) == 1
    assert db.committed.action_items[0].remind_at == datetime(2026, 3, 30, 9, 0, tzinfo=CONFIG.zone)
    clock.at += timedelta(days=1)
    assert action_reminders.tick(uow=db, clock=clock, settings=CONFIG, lease=LEASE).job_ids == []
