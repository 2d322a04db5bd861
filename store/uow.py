"""The unit of work: one transaction per action, with the repositories it needs."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from commands.holdings import JobHoldings
from commands.ports import UnitOfWork, UnitOfWorkFactory
from store.alert_groups import AlertGroupRepository
from store.page_queries import PageRepository
from store.postmortem_queries import PostmortemRepository
from store.publication_queries import PublicationRepository
from store.reminder_queries import ReminderRepository
from store.repositories import (
    ActionItemRepository,
    ChecklistRepository,
    DeliveryRepository,
    IncidentRepository,
    JobRepository,
    PeopleRepository,
    PostRepository,
    TimelineRepository,
)
from store.target_queries import TargetRepository
from store.timer_queries import TimerRepository
from store.tracker_queries import TrackerLinkRepository


class SqlUnitOfWork:
    """Open a session on enter, roll back on error or when not committed, close on exit."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        holdings: JobHoldings | None = None,
        *,
        hand_off: bool = False,
    ) -> None:
        self._factory = session_factory
        self._holdings = holdings
        self._hand_off = hand_off

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self._factory()
        self.incidents = IncidentRepository(self.session)
        self.timeline = TimelineRepository(self.session)
        self.posts = PostRepository(self.session)
        owner = self._holdings.owner if self._holdings else None
        self.jobs = JobRepository(self.session, owner, hand_off=self._hand_off)
        self.deliveries = DeliveryRepository(self.session)
        self.action_items = ActionItemRepository(self.session)
        self.people = PeopleRepository(self.session)
        self.reminders = ReminderRepository(self.session)
        self.checklist = ChecklistRepository(self.session)
        self.timers = TimerRepository(self.session)
        self.targets = TargetRepository(self.session)
        self.tracker_links = TrackerLinkRepository(self.session)
        self.pages = PageRepository(self.session)
        self.alert_groups = AlertGroupRepository(self.session)
        self.postmortems = PostmortemRepository(self.session)
        self.publications = PublicationRepository(self.session)
        return self

    def __exit__(
        self, _exc_type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()
        if self._holdings is not None and self.jobs.claimed:
            # Only once committed are they ours: renew them until they end.
            self._holdings.hold(self.jobs.claimed)
            self.jobs.claimed.clear()

    def flush(self) -> None:
        self.session.flush()


class SqlUnitOfWorkFactory:
    """Callable handed to actions and workers: each call is a fresh unit of work over the database.

    With `holdings`, the jobs it records already claimed, or claims, are held in this process's name;
    with `hand_off`, it runs no jobs, so it records them unclaimed for the workers instead.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        holdings: JobHoldings | None = None,
        *,
        hand_off: bool = False,
    ) -> None:
        self.session_factory = session_factory
        self.holdings = holdings
        self.hand_off = hand_off

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.session_factory, self.holdings, hand_off=self.hand_off)


if TYPE_CHECKING:  # mypy checks here that the commands' port is what the SQL store provides
    _unit: UnitOfWork = SqlUnitOfWork(sessionmaker())
    _factory: UnitOfWorkFactory = SqlUnitOfWorkFactory(sessionmaker())
