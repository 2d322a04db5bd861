"""Many people at once: 50 simultaneous updates all land, in one order; same-title declares get two rooms."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.reliability.conftest import Rig

UPDATES = 50


def test_fifty_simultaneous_updates_all_land_in_the_timeline_in_order(any_db_rig: Rig) -> None:
    r = any_db_rig
    r.command("declare sev2 Checkout is timing out")
    room = str(r.room(1).id)
    users = [f"U{100 + n}" for n in range(UPDATES)]
    for user in users:
        r.emu.add_user(user, name=user.lower())

    def send(n: int) -> int:
        return r.emu.send_command(r.url, f"update Update #{n:02d}#", user_id=users[n], channel_id=room).status

    with ThreadPoolExecutor(max_workers=UPDATES) as pool:
        assert set(pool.map(send, range(UPDATES))) == {200}
    r.settle()
    r.tick_until(lambda: r.pending_jobs() == 0, seconds=60)

    with r.bot.runtime.uow() as tx:
        events = [e for e in tx.timeline.list_for(1) if e.kind == "update_posted"]
        timeline = [(e.text, e.actor) for e in events]
        times = [e.occurred_at for e in events]
        last = tx.incidents.get(1)
        assert last is not None
        last_update_at = last.last_update_at
    assert sorted(timeline) == sorted((f"Update #{n:02d}#", users[n]) for n in range(UPDATES))
    posted = [
        m.text
        for m in r.emu.channels[room].messages
        if (m.metadata or {}).get("event_type") == "incident_update"
    ]
    assert len(posted) == UPDATES, "each update posted once"
    # Each person hears what happened to theirs: posted, or recorded and following its elders.
    answered = [t for t in r.replies() if "posted to the war room" in t or "it is not in the war room" in t]
    assert len(answered) == UPDATES
    shown = [next(t for t, _ in timeline if t in text) for text in posted]
    # The clock is read after the incident's lock is held, so commit order, time order and the order the
    # room shows are one and the same.
    assert times == sorted(times)
    assert last_update_at == times[-1]
    assert shown == [t for t, _ in timeline]


def test_two_simultaneous_declares_with_one_title_get_two_rooms(any_db_rig: Rig) -> None:
    r = any_db_rig
    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = list(
            pool.map(
                lambda u: r.emu.send_command(r.url, "declare sev1 Login down", user_id=u).status, ["U1", "U2"]
            )
        )
    assert statuses == [200, 200]
    r.settle()
    rooms = {r.room(1).id, r.room(2).id}
    assert len(rooms) == 2
    assert {r.room(1).name, r.room(2).name} == {"inc-1-login-down", "inc-2-login-down"}
    assert {r.incident(1).declared_by, r.incident(2).declared_by} == {"U1", "U2"}
    assert len(r.emu.channels[r.announce].messages) == 2
