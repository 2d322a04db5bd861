"""Paging on the in-memory store: tiers, timeouts, repeat, acknowledgement from Slack and from the pager,
drills, resolve, and a pager that fails then recovers; each job run through the real runner and presenter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from bot.ops.config import config_from_mapping
from bot.render.presenter import SlackPresenter, TemplateRenderer
from commands import pages
from commands.declare import DeclareRequest, declare_incidents
from commands.duplicate import mark_duplicate
from commands.errors import AlreadyResolved, IncidentError, UsageError
from commands.escalate import escalate
from commands.feature import Ask, Deps
from commands.incidents import Scheduled
from commands.job_runner import JobRunner
from commands.jobs import JobKind
from commands.paging import ACKNOWLEDGE, PAGE, AlreadyAcknowledged, NotYours, acknowledge_from_pager
from commands.parsing import AcknowledgePage, Declare, Escalate, PageTargets, Resolve
from commands.ports import Chat, Message, PostRef
from commands.registry import JOB_PLANS
from commands.resolve import resolve_incident
from tests.unit.commands.conftest import LEASE, ROOM, Clock, war_room
from tests.unit.fakes import FakeDatabase, RecordingPager, same_state

CONFIG = config_from_mapping(
    {
        "escalation_policies": {
            "payments": {
                "repeat": 1,
                "tiers": [
                    {"notify": ["U2", "pagerduty:payments"], "ack_within": "5m"},
                    {"notify": ["U3", "S9"], "ack_within": "10m"},
                ],
            },
            "db": {"tiers": [{"notify": ["U7"], "ack_within": "2m"}]},
        },
        "severities": {
            "sev1": {"update_every": "15m", "page": "payments"},
            "sev2": {"update_every": "30m"},
        },
    }
)
GROUPS = {"S9": ["U8", "U9"]}


@dataclass
class FakeChat:
    """What the paging steps and look-ups call, recorded; Slack's answers are plain and always succeed."""

    posts: list[tuple[str, Message]] = field(default_factory=list)
    dms: list[tuple[str, Message]] = field(default_factory=list)
    updates: list[tuple[str, str, Message]] = field(default_factory=list)
    unreachable: set[str] = field(default_factory=set)

    def post(self, channel: str, message: Message) -> PostRef:
        self.posts.append((channel, message))
        return PostRef(channel, f"{len(self.posts)}.0")

    def direct_message(self, user: str, message: Message) -> PostRef:
        if user in self.unreachable:
            from commands.errors import ChatRefused

            raise ChatRefused("chat.postMessage", "messages_tab_disabled")
        self.dms.append((user, message))
        return PostRef(f"D{user}", f"{len(self.dms)}.5")

    def update(self, channel: str, ts: str, message: Message) -> None:
        self.updates.append((channel, ts, message))

    def group_members(self, group_id: str) -> list[str]:
        return list(GROUPS.get(group_id, []))

    def user_exists(self, user_id: str) -> bool:
        return user_id.startswith("U")

    def notify(self, channel: str, user: str, text: str) -> None:
        self.posts.append((channel, Message(text=f"(to {user}) {text}", event_type="ephemeral")))

    def find_post(self, *_args: object) -> str | None:
        return None

    def find_direct_message(self, *_args: object) -> PostRef | None:
        return None

    def room_texts(self) -> list[str]:
        return [m.text for c, m in self.posts if c == ROOM]


@dataclass
class World:
    db: FakeDatabase
    clock: Clock
    chat: FakeChat
    pager: RecordingPager

    def deps(self) -> Deps:
        presenter = SlackPresenter(TemplateRenderer(zone=ZoneInfo("UTC"), clock=self.clock))
        return Deps(
            uow=self.db,
            clock=self.clock,
            settings=CONFIG,
            lease=LEASE,
            admins=cast(Any, None),
            directory=cast(Any, self.chat),
            presenter=presenter,
        )

    def run(self, *job_ids: int, claimed: bool = True) -> None:
        runner = JobRunner(
            uow=self.db,
            chat=cast(Chat, self.chat),
            presenter=self.deps().presenter,
            settings=CONFIG,
            clock=self.clock,
            plans=JOB_PLANS,
            lease=LEASE,
            pager=self.pager,
        )
        try:
            for job_id in job_ids:
                runner.run(job_id, claimed=claimed)
        finally:
            runner.close()

    def run_scheduled(self, scheduled: Scheduled) -> None:
        assert scheduled.job_id is not None
        self.run(scheduled.job_id, *scheduled.then)

    def page(self, *words: str, by: str = "U1") -> str:
        """Record `/incident page ...` and run its jobs; the reply once they have run."""
        policies = tuple(w for w in words if not w.startswith(("U", "S")))
        cmd = PageTargets(
            policies=policies,
            users=tuple(w for w in words if w.startswith("U")),
            groups=tuple(w for w in words if w.startswith("S")),
        )
        recorded = PAGE.record(cmd, Ask(user_id=by, channel_id=ROOM), self.deps())
        assert recorded.scheduled is not None and recorded.reply is not None
        if recorded.scheduled.job_id is not None:
            self.run_scheduled(recorded.scheduled)
        from commands.feature import JobResult, JobState

        return str(recorded.reply(JobResult(JobState.DONE, ROOM)))

    def acknowledge(self, page_id: int, user: str, key: str | None = None) -> str:
        ask = Ask(user_id=user, channel_id=f"D{user}", delivery_key=key)
        recorded = ACKNOWLEDGE.record(AcknowledgePage(page_id), ask, self.deps())
        assert recorded.scheduled is not None and recorded.reply is not None
        self.run_scheduled(recorded.scheduled)
        from commands.feature import JobResult, JobState

        return str(recorded.reply(JobResult(JobState.DONE, ROOM)))

    def tick(self) -> list[int]:
        job_ids = pages.tick(uow=self.db, clock=self.clock, settings=CONFIG, lease=LEASE).job_ids
        self.run(*job_ids)
        return job_ids


@pytest.fixture
def world(db: FakeDatabase, clock: Clock) -> World:
    return World(db, clock, FakeChat(), RecordingPager())


def _buttons(message: Message) -> list[tuple[str, str]]:
    actions = [b for b in message.blocks or [] if b["type"] == "actions"]
    return [(e["action_id"], e["value"]) for block in actions for e in block["elements"]]


def test_a_policy_page_dms_its_first_tier_triggers_its_pager_and_tells_the_room(world: World) -> None:
    number = war_room(world.db, world.clock, severity="sev1")
    reply = world.page("payments")
    assert reply == f":rotating_light: Paged *payments* for INC-{number}."
    rows = world.db.pages(number)
    assert [(p.target, p.tier, p.round, p.policy) for p in rows] == [
        ("U2", 1, 1, "payments"),
        ("pagerduty:payments", 1, 1, "payments"),
    ]
    assert rows[0].ack_due_at == world.clock.now() + timedelta(minutes=5) and rows[1].ack_due_at is None
    assert {p.dedup_key for p in rows} == {f"incidentbot-inc-{number}-payments"}
    [(user, dm)] = world.chat.dms
    assert user == "U2"
    assert _buttons(dm) == [("acknowledge_page", str(rows[0].id)), ("join_war_room", str(number))]
    [triggered] = world.pager.triggered
    assert triggered["target"] == "pagerduty:payments" and triggered["priority"] == 1
    assert triggered["room"] == ROOM and triggered["incident"] == f"INC-{number}"
    assert world.chat.room_texts() == ["<@U1> paged *payments*, tier 1 (<@U2>, `pagerduty:payments`)"]
    [event] = world.db.events(number, "paged")
    assert event.data["targets"] == ["U2", "pagerduty:payments"]


def test_an_unknown_policy_names_the_configured_ones_and_changes_nothing(world: World) -> None:
    war_room(world.db, world.clock)
    before = world.db.snapshot()
    with pytest.raises(
        UsageError, match=r"`nope` is not an escalation policy \(configured: `payments`, `db`\)"
    ):
        world.page("nope")
    assert same_state(before, world.db.snapshot())


def test_people_and_groups_paged_directly_expand_and_time_out_once(world: World) -> None:
    number = war_room(world.db, world.clock)
    assert world.page("U5", "S9") == f":rotating_light: Paged <@U5>, <@U8>, <@U9> for INC-{number}."
    assert [u for u, _ in world.chat.dms] == ["U5", "U8", "U9"]
    world.clock.advance(minutes=4, seconds=59)
    assert world.tick() == []
    world.clock.advance(seconds=1)
    assert len(world.tick()) == 1
    assert world.chat.room_texts()[-1] == (
        "No acknowledgement from <@U5>, <@U8>, <@U9> in 5m: nobody acknowledged the page."
    )
    world.clock.advance(hours=1)
    assert world.tick() == []  # told once
    assert all(p.closed_at is not None for p in world.db.pages(number))


def test_tiers_time_out_in_order_then_repeat_then_the_room_hears_nobody_answered(world: World) -> None:
    number = war_room(world.db, world.clock, severity="sev1")
    world.page("payments")
    world.clock.advance(minutes=5)
    world.tick()
    assert world.chat.room_texts()[-1] == (
        "No acknowledgement from <@U2>, `pagerduty:payments` in 5m: paging tier 2 (<@U3>, <!subteam^S9>)"
    )
    assert [u for u, _ in world.chat.dms] == ["U2", "U3", "U8", "U9"]
    world.clock.advance(minutes=10)
    world.tick()
    assert world.chat.room_texts()[-1] == (
        "No acknowledgement from <@U3>, <!subteam^S9> in 10m: paging tier 1 again (round 2 of 2) "
        "(<@U2>, `pagerduty:payments`)"
    )
    world.clock.advance(minutes=5)
    world.tick()
    assert "paging tier 2 (<@U3>, <!subteam^S9>)" in world.chat.room_texts()[-1]
    world.clock.advance(minutes=10)
    world.tick()
    assert world.chat.room_texts()[-1] == (
        "No acknowledgement from <@U3>, <!subteam^S9> in 10m: nobody acknowledged the page of *payments*."
    )
    kinds = [e.kind for e in world.db.events(number) if e.kind.startswith("page")]
    assert kinds == ["paged", "page_escalated", "page_escalated", "page_escalated", "page_unanswered"]
    assert [(p.round, p.tier) for p in world.db.pages(number)][::2] == [(1, 1), (1, 2), (2, 1), (2, 2)]
    world.clock.advance(hours=2)
    assert world.tick() == []


def test_a_late_tick_after_a_restart_acts_once_and_two_ticks_claim_once(world: World) -> None:
    war_room(world.db, world.clock, severity="sev1")
    world.page("payments")
    world.clock.advance(hours=3)  # the process was down: one step now, the next counted from now
    first = pages.tick(uow=world.db, clock=world.clock, settings=CONFIG, lease=LEASE)
    second = pages.tick(uow=world.db, clock=world.clock, settings=CONFIG, lease=LEASE)
    assert len(first.job_ids) == 1 and second.job_ids == []
    [*_, tier2] = [p for p in world.db.pages() if p.ack_due_at is not None]
    assert tier2.tier == 2 and tier2.ack_due_at == world.clock.now() + timedelta(minutes=10)


def test_acknowledging_in_slack_stops_the_escalation_and_tells_everyone(world: World) -> None:
    number = war_room(world.db, world.clock, severity="sev1", roles={"commander": "U1"})
    world.page("payments")
    world.clock.advance(minutes=2)
    [first, _] = world.db.pages(number)
    assert (
        world.acknowledge(first.id, "U2") == f":white_check_mark: You acknowledged the page for INC-{number}."
    )
    assert (
        world.chat.room_texts()[-1] == ":white_check_mark: <@U2> acknowledged the page of *payments* (tier 1)"
    )
    [(channel, _ts, updated)] = world.chat.updates
    assert channel == "DU2" and _buttons(updated) == [] and "Acknowledged" in updated.text
    key = f"incidentbot-inc-{number}-payments"
    assert ("acknowledge", "pagerduty:payments", key) in world.pager.calls
    incident = world.db.incident(number)
    assert incident.acknowledged_at == world.clock.now()  # the page, not the earlier commander
    row = world.db.pages(number)[0]
    assert (row.acknowledged_by, row.acknowledged_via) == ("U2", "slack")
    world.clock.advance(hours=1)
    assert world.tick() == []
    [event] = world.db.events(number, "page_acknowledged")
    assert event.data["tier"] == 1 and event.data["via"] == "slack"


def test_a_second_click_or_a_second_person_gets_an_honest_answer(world: World) -> None:
    number = war_room(world.db, world.clock)
    world.page("U2", "U3")
    first, second = world.db.pages(number)
    world.acknowledge(first.id, "U2")
    before = world.db.snapshot()
    with pytest.raises(AlreadyAcknowledged, match=r"<@U2> already acknowledged this page"):
        world.acknowledge(first.id, "U2")
    with pytest.raises(AlreadyAcknowledged, match=r"<@U2> already acknowledged"):
        world.acknowledge(second.id, "U3")
    with pytest.raises(NotYours):
        world.acknowledge(second.id, "U4")
    assert same_state(before, world.db.snapshot())


def test_a_member_of_a_paged_group_may_acknowledge_its_page(world: World) -> None:
    number = war_room(world.db, world.clock, severity="sev1")
    world.page("payments")
    world.clock.advance(minutes=5)
    world.tick()
    group_page = next(p for p in world.db.pages(number) if p.target == "S9")
    world.acknowledge(group_page.id, "U9")
    assert world.chat.room_texts()[-1].endswith("<@U9> acknowledged the page of *payments* (tier 2)")
    assert len(world.chat.updates) == 4  # every DM of the run: U2, U3, U8, U9


def test_acknowledgement_from_the_pager_is_recorded_once_and_not_sent_back(world: World) -> None:
    number = war_room(world.db, world.clock, severity="sev1")
    world.page("payments")
    key = f"incidentbot-inc-{number}-payments"

    def from_pager(service: str, dedup: str, who: str) -> bool:
        return acknowledge_from_pager(service, dedup, who, uow=world.db, clock=world.clock, lease=LEASE)

    assert from_pager("opsgenie", key, "Dana <ops>") is False  # not paged there
    assert from_pager("pagerduty", "incidentbot-inc-99-x", "Dana") is False
    assert from_pager("pagerduty", key, "Dana <ops>") is True
    assert from_pager("pagerduty", key, "Dana <ops>") is False
    [job] = world.db.jobs(JobKind.PAGE_ACK)
    assert job.payload["pagers"] == [] and job.claimed_until is None  # for the workers
    world.run(job.id, claimed=False)
    assert world.chat.room_texts()[-1] == (
        ":white_check_mark: Dana &lt;ops&gt; (in PagerDuty) acknowledged the page of *payments* (tier 1)"
    )
    assert [c for c in world.pager.calls if c[0] == "acknowledge"] == []
    row = next(p for p in world.db.pages(number) if p.acknowledged_at)
    assert (row.target, row.acknowledged_by, row.acknowledged_via) == (
        "pagerduty:payments",
        "Dana <ops>",
        "pagerduty",
    )
    with pytest.raises(AlreadyAcknowledged, match=r"Dana &lt;ops&gt; \(in PagerDuty\) already acknowledged"):
        world.acknowledge(world.db.pages(number)[0].id, "U2")


def test_a_drill_never_pages(world: World) -> None:
    number = war_room(world.db, world.clock)
    with world.db() as tx:
        tx.incidents.update_columns(number, {"drill": True})
        tx.commit()
    assert world.page("payments", "U2") == f":test_tube: INC-{number} is a drill, so nobody was paged."
    assert world.db.pages() == [] and world.chat.dms == [] and world.pager.calls == []
    [note] = world.db.events(number, "page_skipped")
    assert note.text == "Did not page payments, <@U2>: this is a drill"


def test_a_severity_pages_its_policy_at_declaration_once_and_drills_only_note_it(world: World) -> None:
    requests = [
        DeclareRequest(Declare(title="Checkout down", severity="sev1"), "U1", "C0"),
        DeclareRequest(Declare(title="Practice", severity="sev1", drill=True), "U1", "C0"),
    ]
    real, drill = declare_incidents(requests, uow=world.db, clock=world.clock, settings=CONFIG, lease=LEASE)
    assert isinstance(real, Scheduled) and isinstance(drill, Scheduled)
    [job_id] = real.then
    assert drill.then == ()
    [page_job] = world.db.jobs(JobKind.PAGE)
    assert page_job.id == job_id and page_job.incident_id == real.incident.id
    [skipped] = world.db.events(drill.incident.id, "page_skipped")
    assert skipped.text == "Did not page *payments*: this is a drill"
    [paged] = world.db.events(real.incident.id, "paged")
    assert paged.text == "Declared sev1: paging *payments*, tier 1 (<@U2>, `pagerduty:payments`)"


def test_escalating_to_a_paging_severity_pages_once_while_open(world: World) -> None:
    number = war_room(world.db, world.clock)

    def to(severity: str) -> Scheduled:
        return escalate(
            Escalate(severity=severity),
            user_id="U1",
            channel_id=ROOM,
            paged_users=(),
            uow=world.db,
            clock=world.clock,
            settings=CONFIG,
            lease=LEASE,
        )

    assert len(to("sev1").then) == 1
    world.db.committed.incidents[number].severity = "sev2"
    assert to("sev1").then == ()  # its page is still open
    with pytest.raises(UsageError, match=r"\*payments\* is already being paged"):
        world.page("payments")
    assert len(world.db.events(number, "paged")) == 1


def test_resolving_stops_the_pages_and_resolves_the_pager_alerts(world: World) -> None:
    number = war_room(world.db, world.clock, severity="sev1", roles={"commander": "U1"})
    world.page("payments")
    scheduled = resolve_incident(
        Resolve(),
        user_id="U1",
        channel_id=ROOM,
        uow=world.db,
        clock=world.clock,
        settings=CONFIG,
        lease=LEASE,
    )
    [resolve_job] = world.db.jobs(JobKind.PAGE_RESOLVE)
    assert resolve_job.id in scheduled.then
    world.run(resolve_job.id)
    assert ("resolve", "pagerduty:payments", f"incidentbot-inc-{number}-payments") in world.pager.calls
    assert all(p.closed_at is not None and p.ack_due_at is None for p in world.db.pages(number))
    world.clock.advance(hours=1)
    assert world.tick() == []
    with pytest.raises(AlreadyResolved):
        world.page("db")
    with pytest.raises(IncidentError, match="closed"):
        world.acknowledge(world.db.pages(number)[0].id, "U2")


def test_a_pager_that_fails_then_recovers_never_holds_up_the_dms(world: World) -> None:
    war_room(world.db, world.clock, severity="sev1")
    world.pager.down = True
    world.page("payments")
    assert [u for u, _ in world.chat.dms] == ["U2"]  # the DM went out
    told = ":warning: `pagerduty:payments` did not answer; I will keep trying to trigger the page."
    assert told in world.chat.room_texts()
    [job] = world.db.jobs(JobKind.PAGE)
    assert job.finished_at is None and job.due_at is not None and job.due_at > world.clock.now()
    world.clock.advance(seconds=2)
    world.run(job.id, claimed=False)  # a worker's retry, still down: not told again
    assert world.chat.room_texts().count(told) == 1 and len(world.chat.dms) == 1
    world.pager.down = False
    world.clock.advance(seconds=5)
    world.run(job.id, claimed=False)
    assert world.chat.room_texts()[-1] == (
        ":white_check_mark: `pagerduty:payments` answered: the page went through."
    )
    assert world.db.jobs(JobKind.PAGE)[0].finished_at is not None
    assert len(world.chat.dms) == 1 and len(world.pager.triggered) == 1


def test_a_refusing_pager_is_told_with_its_reason_and_the_job_finishes(world: World) -> None:
    war_room(world.db, world.clock, severity="sev1")
    world.pager.refuse["pagerduty:payments"] = "no key for pagerduty:payments"
    world.page("payments")
    assert (
        ":warning: `pagerduty:payments` refused to trigger the page: no key for pagerduty:payments."
        in world.chat.room_texts()
    )
    assert world.db.jobs(JobKind.PAGE)[0].finished_at is not None


def test_a_duplicate_is_resolved_too_its_pages_stop_and_its_alerts_close(world: World) -> None:
    other = war_room(world.db, world.clock, channel="C2")
    number = war_room(world.db, world.clock, severity="sev1")
    world.page("payments")
    scheduled = mark_duplicate(
        other, user_id="U1", channel_id=ROOM, uow=world.db, clock=world.clock, settings=CONFIG, lease=LEASE
    )
    [resolve_job] = world.db.jobs(JobKind.PAGE_RESOLVE)
    assert scheduled.then == (resolve_job.id,)
    world.run(resolve_job.id)
    assert world.pager.calls[-1] == ("resolve", "pagerduty:payments", f"incidentbot-inc-{number}-payments")
    assert all(p.closed_at is not None for p in world.db.pages(number))
    world.clock.advance(hours=1)
    assert world.tick() == []


def test_an_incident_never_paged_resolves_without_a_pager_job(world: World) -> None:
    war_room(world.db, world.clock, roles={"commander": "U1"})
    world.page("U2")  # people only: nothing at a pager to resolve
    resolve_incident(
        Resolve(),
        user_id="U1",
        channel_id=ROOM,
        uow=world.db,
        clock=world.clock,
        settings=CONFIG,
        lease=LEASE,
    )
    assert world.db.jobs(JobKind.PAGE_RESOLVE) == []
    assert all(p.closed_at is not None for p in world.db.pages())
