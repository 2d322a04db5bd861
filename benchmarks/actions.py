"""The measured actions: adding one (assign, update, escalate) is one small function in ACTIONS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


ACTIONS: dict[str, Prepare] = {
    "declare": declare,
    "resolve": resolve,
    "status": status,
    "list": list_open,
}
# Being built elsewhere; each becomes one function above once its command exists.
PENDING_ACTIONS = ("assign", "update", "escalate")


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
            )
        )
    return records
