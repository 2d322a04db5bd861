"""What every feature module exports, so one acknowledgement pipeline can run them all.

A feature says what its command records (one transaction, before the acknowledgement), which job carries
its Slack side effects, and what the person is told once that job has run, or has not yet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from commands.incidents import DeclareSettings
from commands.ports import Clock, Presenter

if TYPE_CHECKING:
    from commands.chart_shares import Reports
    from commands.incidents import Scheduled
    from commands.ports import UnitOfWorkFactory

C = TypeVar("C", contravariant=True)


class JobState(StrEnum):
    """How a command's Slack work stands when its confirmation is written, so it says only what happened."""

    DONE = "done"
    PENDING = "pending"  # Slack failed or is slow, or earlier work of the incident goes first: it will follow
    GAVE_UP = "gave_up"  # a refusal no retry fixes: the person was told why
    QUEUED = "queued"  # recorded for the worker processes, none of which has started it yet


@dataclass(frozen=True)
class JobResult:
    """What a command's job came to by the time its reply is written; the room once it exists."""

    state: JobState
    channel_id: str | None = None


@dataclass(frozen=True)
class Ask:
    """Who asked, from where, and through which Slack delivery (forms and buttons may be delivered twice)."""

    user_id: str
    channel_id: str | None
    delivery_key: str | None = None

    @property
    def room(self) -> str:
        return self.channel_id or ""


class Directory(Protocol):
    """What some commands look up in Slack before recording (within the acknowledgement's budget)."""

    def user_exists(self, user_id: str) -> bool: ...

    def group_members(self, group_id: str) -> list[str]: ...

    def permalink(self, channel: str, ts: str) -> str | None: ...


class AdminGroup(Protocol):
    """The admins (configured people and the admin group's members), and a way to refresh the group."""

    def is_admin(self, user_id: str) -> bool | None: ...

    def refresh_admins(self) -> None: ...


class CommandSettings(DeclareSettings, Protocol):
    """The operator's config as commands read it."""

    max_paged_per_command: int
    # Edits: the room is renamed with the title when on; drills' rooms have their own prefix.
    rename_rooms: bool
    drill_prefix: str

    def type_names(self) -> list[str]: ...

    def service_names(self) -> list[str]: ...


@dataclass(frozen=True)
class Deps:
    """What recording a command takes from the runtime."""

    uow: UnitOfWorkFactory
    clock: Clock
    settings: CommandSettings
    lease: timedelta
    admins: AdminGroup
    directory: Directory
    presenter: Presenter
    # Figures across incidents and their chart shares (`/incident stats`); None where not wired.
    reports: Reports | None = None


SLOW = (
    ":hourglass: Recording this is taking longer than usual. I will confirm here as soon as it is "
    "recorded; until then, treat it as not done."
)


@dataclass(frozen=True)
class FormRequest:
    """A form to open once Slack has its acknowledgement (views.open needs the click's trigger)."""

    kind: str  # "declare", "update" or "assign"
    prefill: dict[str, Any] = field(default_factory=dict)


Reply = Callable[[JobResult], "str | None"]


@dataclass(frozen=True)
class Recorded:
    """What recording a request came to: an answer now, a form to open, or a job and the reply after it."""

    answer: str | None = None  # said at once (in the acknowledgement of a slash command, if the feature may)
    form: FormRequest | None = None
    scheduled: Scheduled | None = None  # the Slack work to hand to the workers
    reply: Reply | None = None  # what to tell the person once the job has run (or is still owed)
    wait: bool = True  # False: nobody is told how the job went, so a web replica does not wait for it
    followups: tuple[int, ...] = ()  # further jobs recorded with it, run after it; nobody waits for them


def heard_in(private: bool, announce_channel: str) -> str:
    """Where a change is heard: its room, and the announce channel unless the incident is private."""
    return "the war room" if private else f"the war room and #{announce_channel}"


class Feature(Protocol[C]):
    """One feature: its name (in permissions and failure messages) and how its command is recorded."""

    name: str
    # A slash command's answer goes in the acknowledgement itself (declare, help), else by response_url.
    answers_in_ack: bool
    # What the person is told when recording takes longer than the budget: confirmed later, not yet done.
    slow: str

    def record(self, cmd: C, ask: Ask, deps: Deps) -> Recorded:
        """Record the command in one transaction; raise an IncidentError (nothing changed) to refuse it."""
        ...


class BatchFeature(Feature[C], Protocol[C]):
    """A feature whose bursts share one transaction (group commit): declares."""

    def record_batch(self, items: Sequence[tuple[C, Ask]], deps: Deps) -> list[Recorded | Exception]:
        """Record every item in one transaction; each gets its own result (or the reason it was refused)."""
        ...
