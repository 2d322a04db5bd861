"""Possible duplicates at declaration and `/incident duplicate`, on the in-memory store."""

from __future__ import annotations

import pytest

from bot.ops.config import IncidentConfig
from commands.declare import DeclareRequest, declare_incidents
from commands.duplicate import close_titles, mark_duplicate
from commands.errors import AlreadyResolved, IncidentError, RepeatedDelivery, TryAgain
from commands.parsing import Declare, Duplicate, parse
from commands.permissions import PermissionDenied
from commands.records import Incident
from commands.vocabulary import IncidentStatus
from tests.unit.commands.conftest import CONFIG, LEASE, ROOM, Clock, war_room
from tests.unit.fakes import FakeDatabase, same_state


def declare(
    db: FakeDatabase, clock: Clock, *titles: str, services: tuple[str, ...] = (), private: bool = False
) -> list[Incident]:
    """Declare these titles in one batch (one transaction) and return the new incidents as stored."""
    requests = [
        DeclareRequest(Declare(title=t, services=services, private=private), f"U{n + 1}", "CGENERAL")
        for n, t in enumerate(titles)
    ]
    results = declare_incidents(requests, uow=db, clock=clock, settings=CONFIG, lease=LEASE)
    return [db.incident(r.incident.id) for r in results if r is not None and not isinstance(r, Exception)]


def seed(
    db: FakeDatabase,
    clock: Clock,
    title: str,
    *,
    services: list[str] | None = None,
    **fields: object,
) -> int:
    values: dict[str, object] = {"status": IncidentStatus.INVESTIGATING, **fields}
    with db() as tx:
        incident = Incident(
            title=title,
            severity="sev2",
            declared_by="U9",
            declared_at=clock.now(),
            services=services or [],
            **values,  # type: ignore[arg-type]
        )
        tx.incidents.insert_many([incident])
        tx.commit()
        return incident.id


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [
        ("Checkout is timing out", "checkout is timing out!", True),
        ("Checkout is timing out", "Checkout timing out", True),  # ratio over 0.8
        ("Checkout down", "Checkout down in eu-west", True),  # one contains the other
        ("Checkout is timing out", "Search index is stale", False),
        ("DB", "DB migration stuck in prod", False),  # too short to count as contained
        ("!!!", "???", False),
    ],
)
def test_close_titles(a: str, b: str, close: bool) -> None:
    assert close_titles(a, b) is close


def test_close_titles_with_indexed_candidates_answers_as_a_fresh_matcher_would_from_many_threads() -> None:
    """Each candidate's matcher is reused for every new title: its answers are a fresh matcher's."""
    import difflib
    import random
    import threading

    rng = random.Random(7)
    words = [
        "checkout",
        "api",
        "database",
        "latency",
        "errors",
        "timeout",
        "login",
        "search",
        "queue",
        "cart",
        "cdn",
        "dns",
        "slow",
        "disk",
    ]
    titles = [" ".join(rng.sample(words, rng.randint(2, 5))) for _ in range(60)]
    titles += [t.replace("a", "e", 1) for t in titles[:20]]  # near copies: some pairs are close

    def fresh(a: str, b: str) -> bool:
        x, y = (" ".join(t.lower().split()) for t in (a, b))
        shorter, longer = sorted((x, y), key=len)
        if len(shorter) >= 8 and shorter in longer:
            return True
        matcher = difflib.SequenceMatcher(None, x, y)
        return 2 * len(shorter) >= 0.8 * (len(x) + len(y)) and matcher.ratio() >= 0.8

    pairs = [(a, b) for a in titles for b in titles]
    expected = [fresh(a, b) for a, b in pairs]
    assert any(expected) and not all(expected)
    answers: dict[int, list[bool]] = {}

    def compare(n: int) -> None:
        answers[n] = [close_titles(a, b) for a, b in (pairs if n % 2 else list(reversed(pairs)))]

    threads = [threading.Thread(target=compare, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers[1] == answers[3] == expected
    assert answers[0] == answers[2] == list(reversed(expected))


def test_a_shared_service_within_two_hours_marks_a_possible_duplicate(db: FakeDatabase, clock: Clock) -> None:
    first = seed(db, clock, "Payments failing", services=["checkout"])
    clock.advance(minutes=119)
    [new] = declare(db, clock, "Carts emptied", services=["checkout", "search"])
    assert new.possible_duplicate_of == first and new.services == ["checkout", "search"]
    clock.advance(minutes=2)  # the first incident is now over two hours old
    [later] = declare(db, clock, "Wishlist empty", services=["checkout"])
    assert later.possible_duplicate_of == new.id, "the newest match is offered"


def test_a_service_match_older_than_two_hours_needs_a_close_title(db: FakeDatabase, clock: Clock) -> None:
    seed(db, clock, "Payments failing", services=["checkout"])
    clock.advance(hours=3)
    [new] = declare(db, clock, "Carts emptied", services=["checkout"])
    assert new.possible_duplicate_of is None


def test_a_close_title_within_a_day_marks_a_possible_duplicate(db: FakeDatabase, clock: Clock) -> None:
    first = seed(db, clock, "Checkout is timing out")
    clock.advance(hours=23)
    [new] = declare(db, clock, "checkout is timing out again")
    assert new.possible_duplicate_of == first
    clock.advance(hours=2)
    seed_resolved = seed(db, clock, "Search is slow", status=IncidentStatus.RESOLVED)
    assert seed_resolved
    [other] = declare(db, clock, "Search is slow")
    assert other.possible_duplicate_of is None, "a resolved incident is no candidate"


def test_private_incidents_and_drills_are_never_offered(db: FakeDatabase, clock: Clock) -> None:
    seed(db, clock, "Payroll export leaks", private=True)
    seed(db, clock, "Checkout is timing out", drill=True)
    [payroll, checkout] = declare(db, clock, "Payroll export leaks", "Checkout is timing out")
    assert payroll.possible_duplicate_of is None, "a private incident is never revealed"
    assert checkout.possible_duplicate_of is None, "a drill is not compared with a real incident"


def test_two_declares_of_one_batch_point_the_later_to_the_earlier(db: FakeDatabase, clock: Clock) -> None:
    commits = db.commits
    first, second, other = declare(db, clock, "Checkout is down", "Checkout is down!", "Search is slow")
    assert db.commits == commits + 1, "still one transaction"
    assert (first.possible_duplicate_of, second.possible_duplicate_of) == (None, first.id)
    assert other.possible_duplicate_of is None


def test_duplicate_parses_incident_references() -> None:
    severities = CONFIG.severity_names()
    assert parse("duplicate INC-12", severities=severities) == Duplicate(12)
    assert parse("duplicate inc12", severities=severities) == Duplicate(12)
    assert parse("duplicate 7", severities=severities) == Duplicate(7)
    for bad in ("duplicate", "duplicate INC-x", "duplicate 1 2"):
        with pytest.raises(IncidentError, match="Usage: `/incident duplicate"):
            parse(bad, severities=severities)


def mark(db: FakeDatabase, clock: Clock, other: int, user: str = "U1", **options: object) -> object:
    return mark_duplicate(
        other,
        user_id=user,
        channel_id=str(options.pop("room", ROOM)),
        uow=db,
        clock=clock,
        settings=options.pop("settings", CONFIG),  # type: ignore[arg-type]
        lease=LEASE,
        **options,  # type: ignore[arg-type]
    )


def test_marking_a_duplicate_resolves_it_and_schedules_pointing_its_room_there(
    db: FakeDatabase, clock: Clock
) -> None:
    original = war_room(db, clock, channel="CORIG")
    dup = war_room(db, clock)
    clock.advance(minutes=5)
    scheduled = mark(db, clock, original)
    incident = db.incident(dup)
    assert (incident.status, incident.duplicate_of, incident.resolved_by) == ("resolved", original, "U1")
    assert (
        incident.resolved_at == clock.now() and incident.resolution_summary == f"Duplicate of INC-{original}"
    )
    assert incident.next_update_due_at is None and incident.commander_due_at is None, "reminders stop"
    assert incident.stale_due_at is None and incident.archive_due_at == clock.now() + CONFIG.archive_after
    [event] = db.events(dup, "marked_duplicate")
    assert (event.actor, event.data) == ("U1", {"of": original})
    [linked] = db.events(original, "duplicate_linked")
    assert linked.data == {"duplicate": dup}
    [job] = db.jobs("duplicate")
    assert job.payload == {"of": original, "of_channel": "CORIG", "by": "U1"}
    assert db.jobs("postmortem") == [], "a duplicate gets no postmortem draft"
    assert scheduled.job_id == job.id  # type: ignore[attr-defined]
    assert db.incident(original).status == "investigating", "the other one goes on"


def test_refusals_change_nothing(db: FakeDatabase, clock: Clock) -> None:
    original = war_room(db, clock, channel="CORIG")
    dup = war_room(db, clock)
    before = db.snapshot()
    with pytest.raises(IncidentError, match="cannot be a duplicate of itself"):
        mark(db, clock, dup)
    with pytest.raises(IncidentError, match="I know no incident INC-99 this room"):
        mark(db, clock, 99)
    unprovisioned = seed(db, clock, "Not yet provisioned")
    before = db.snapshot()
    with pytest.raises(TryAgain, match="war room is not open yet"):
        mark(db, clock, unprovisioned)
    assert same_state(before, db.snapshot())
    with pytest.raises(IncidentError, match="works inside an incident's war room"):
        mark(db, clock, original, room="CNOWHERE")
    assert same_state(before, db.snapshot())


def test_a_private_incident_reads_like_an_unknown_one_from_a_public_room(
    db: FakeDatabase, clock: Clock
) -> None:
    secret = war_room(db, clock, channel="CSECRET", private=True)
    war_room(db, clock)
    before = db.snapshot()
    with pytest.raises(IncidentError) as refused:
        mark(db, clock, secret)
    with pytest.raises(IncidentError) as unknown:
        mark(db, clock, 99)
    assert refused.value.message == unknown.value.message.replace("INC-99", f"INC-{secret}")
    assert same_state(before, db.snapshot())
    private_room = war_room(db, clock, channel="CPRIV", private=True)
    mark(db, clock, secret, room="CPRIV")
    assert db.incident(private_room).duplicate_of == secret, "a private room may point to a private incident"


def test_only_the_allowed_may_mark_a_duplicate(db: FakeDatabase, clock: Clock) -> None:
    original = war_room(db, clock, channel="CORIG")
    war_room(db, clock, roles={"commander": "U2"})
    before = db.snapshot()
    with pytest.raises(
        PermissionDenied, match="Only the commander or an admin may mark INC-2 as a duplicate"
    ):
        mark(db, clock, original, user="U3")
    assert same_state(before, db.snapshot())
    mark(db, clock, original, user="U2")
    config = IncidentConfig(permissions={"duplicate": ["admins"]})  # type: ignore[arg-type]
    third = war_room(db, clock, channel="CTHIRD")
    with pytest.raises(PermissionDenied):
        mark(db, clock, original, room="CTHIRD", settings=config)
    assert db.incident(third).status == "investigating"


def test_a_duplicate_of_a_duplicate_points_to_the_first_and_a_loop_is_refused(
    db: FakeDatabase, clock: Clock
) -> None:
    first = war_room(db, clock, channel="CFIRST")
    second = war_room(db, clock, channel="CSECOND")
    third = war_room(db, clock, channel="CTHIRD")
    mark(db, clock, first, room="CSECOND")
    mark(db, clock, second, room="CTHIRD")
    assert db.incident(third).duplicate_of == first, "pointed to the incident that goes on"
    assert db.jobs("duplicate")[-1].payload["of_channel"] == "CFIRST"
    # A loop: the first (open) is marked a duplicate of the second, which is a duplicate of the first.
    before = db.snapshot()
    with pytest.raises(IncidentError, match="would make a loop"):
        mark(db, clock, second, room="CFIRST")
    assert same_state(before, db.snapshot())


def test_an_incident_already_resolved_is_not_marked(db: FakeDatabase, clock: Clock) -> None:
    original = war_room(db, clock, channel="CORIG")
    war_room(db, clock)
    mark(db, clock, original)
    with pytest.raises(AlreadyResolved, match=f"already resolved as a duplicate of INC-{original}"):
        mark(db, clock, original)


def test_a_repeated_click_acts_once(db: FakeDatabase, clock: Clock) -> None:
    original = war_room(db, clock, channel="CORIG")
    war_room(db, clock)
    mark(db, clock, original, delivery_key="interaction:T1")
    with pytest.raises(RepeatedDelivery):
        mark(db, clock, original, delivery_key="interaction:T1")
    assert len(db.jobs("duplicate")) == 1
