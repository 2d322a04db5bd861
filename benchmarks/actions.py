"""The measured actions: adding one (assign, update, escalate) is one small function in ACTIONS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.harness import ApiCall, InProcessApp, Transaction
from bot.emulator.state import Call

# prepare(app) does the action's setup (e.g. declare the incident it acts on) and returns the measured step.
Prepare = Callable[[InProcessApp], Callable[[], None]]


def declare(app: InProcessApp) -> Callable[[], None]:
    """A sev2 declare typed in #general."""
    return lambda: _ok(app.command("declare sev2 Checkout is timing out"))


def resolve(app: InProcessApp) -> Callable[[], None]:
    """Resolve typed in the war room of a freshly declared incident."""
    room = app.declare()
    return lambda: _ok(app.command("resolve rolled back the deploy", channel=room))


def status(app: InProcessApp) -> Callable[[], None]:
    """Status typed in a war room (read only)."""
    room = app.declare()
    return lambda: _ok(app.command("status", channel=room))


def list_open(app: InProcessApp) -> Callable[[], None]:
    """List typed in #general (read only)."""
    return lambda: _ok(app.command("list"))


def assign(app: InProcessApp) -> Callable[[], None]:
    """Assign a commander in a fresh room: invite, briefing DM and summary edit are all on this path."""
    room = app.declare()
    return lambda: _ok(app.command("assign commander <@U2|bob>", channel=room))


def update(app: InProcessApp) -> Callable[[], None]:
    """A plain update (no status change), the kind stakeholders get every cadence."""
    room = app.declare()
    return lambda: _ok(app.command("update Rollback at 50%, errors falling", channel=room))


def update_status(app: InProcessApp) -> Callable[[], None]:
    """An update that also changes the status, so the topic and summary follow: update's heaviest form."""
    room = app.declare()
    return lambda: _ok(app.command("update identified Bad deploy of the cart service", channel=room))


def escalate(app: InProcessApp) -> Callable[[], None]:
    """Raise sev2 to sev1 and page a person and a two-member group: every step of escalate runs."""
    room = app.declare()
    return lambda: _ok(app.command("escalate sev1 <@U2|bob> <!subteam^S1|@db-oncall>", channel=room))


ACTIONS: dict[str, Prepare] = {
    "declare": declare,
    "resolve": resolve,
    "status": status,
    "list": list_open,
    "assign": assign,
    "update": update,
    "update with status": update_status,
    "escalate": escalate,
}
# Actions whose command is not built yet; each becomes one function above once it exists.
PENDING_ACTIONS: tuple[str, ...] = ()


def _ok(status_code: int) -> None:
    if status_code != 200:
        raise RuntimeError(f"command answered HTTP {status_code}")


@dataclass(frozen=True)
class ActionRecord:
    """Everything one run of an action did: HTTP calls the emulator saw, client calls, SQL, transactions."""

    name: str
    calls: list[Call]
    client_calls: list[ApiCall]
    statements: list[str]
    transactions: list[Transaction]
    overlaps: int
    shapes: list[str] = field(default_factory=list)


def record_action(app: InProcessApp, name: str, repeats: int = 2) -> list[ActionRecord]:
    """Run an action `repeats` times sequentially, recording each run in isolation."""
    records = []
    for _ in range(repeats):
        step = ACTIONS[name](app)
        app.bot.runtime.drain()
        app.recorder.clear()
        app.emu.reset_calls()
        step()
        rec = app.recorder
        records.append(
            ActionRecord(
                name=name,
                calls=app.emu.calls,
                client_calls=list(rec.api_calls),
                statements=[kind for _, kind in rec.statements],
                transactions=list(rec.transactions),
                overlaps=len(rec.overlaps()),
                shapes=list(rec.shapes),
            )
        )
    return records
