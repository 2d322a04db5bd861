"""Published postmortem versions in the SQL store, on SQLite and PostgreSQL: one row per version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from bot.ops.config import IncidentConfig
from commands.parsing import Declare
from commands.records import Publication
from store.uow import SqlUnitOfWorkFactory
from tests.declare_one import declare_incident

START = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return START


def publication(incident_id: int, version: int, job_id: int) -> Publication:
    return Publication(
        incident_id=incident_id,
        version=version,
        path="postmortems/2026/INC-1-db.md",
        commit_sha=f"{version:040d}",
        commit_url=f"https://github.com/acme/pm/commit/{version:040d}",
        html_url="https://github.com/acme/pm/blob/main/postmortems/2026/INC-1-db.md",
        published_at=START,
        job_id=job_id,
    )


def test_a_version_is_recorded_once_and_the_first_path_is_read_back(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    scheduled = declare_incident(
        Declare(severity="sev2", title="DB is down"),
        user_id="U1",
        channel_id="C1",
        uow=uow_factory,
        clock=Clock(),
        settings=IncidentConfig(),
        lease=timedelta(seconds=30),
    )
    number = scheduled.incident.id
    with uow_factory() as tx:
        assert tx.publications.first(number) is None
        tx.publications.add(publication(number, 2, job_id=7))
        tx.publications.add(publication(number, 3, job_id=8))
        tx.commit()
    with uow_factory() as tx:
        first = tx.publications.first(number)
        assert first is not None and (first.version, first.job_id) == (2, 7)
        assert first.published_at == START and tx.publications.get(number, 4) is None
    with uow_factory() as tx, pytest.raises(IntegrityError):
        tx.publications.add(publication(number, 2, job_id=9))  # a second job publishing version 2
    with uow_factory() as tx:
        found = tx.publications.get(number, 2)
        assert found is not None and found.job_id == 7, "the first job's record stands"
