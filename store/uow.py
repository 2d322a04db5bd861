"""The unit of work: one transaction per action, with the repositories it needs."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from store.repositories import (
    ActionItemRepository,
    DeliveryRepository,
    IncidentRepository,
    JobRepository,
    PeopleRepository,
    PostRepository,
    TimelineRepository,
)


class SqlUnitOfWork:
    """Open a session on enter, roll back on error or when not committed, close on exit."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self._factory()
        self.incidents = IncidentRepository(self.session)
        self.timeline = TimelineRepository(self.session)
        self.posts = PostRepository(self.session)
        self.jobs = JobRepository(self.session)
        self.deliveries = DeliveryRepository(self.session)
        self.action_items = ActionItemRepository(self.session)
        self.people = PeopleRepository(self.session)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def flush(self) -> None:
        self.session.flush()


class UnitOfWorkFactory:
    """Callable handed to actions and workers: each call is a fresh unit of work."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.session_factory)
