"""Published postmortem versions: what was committed where, read back so a retry commits nothing twice."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.records import Publication
from store.models import PostmortemPublication


def _record(row: PostmortemPublication) -> Publication:
    return Publication(
        incident_id=row.incident_id,
        version=row.version,
        path=row.path,
        commit_sha=row.commit_sha,
        commit_url=row.commit_url,
        html_url=row.html_url,
        published_at=row.published_at,
        job_id=row.job_id,
    )


class PublicationRepository:
    """One row per (incident, version): a second job publishing the same version fails on insert."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, incident_id: int, version: int) -> Publication | None:
        row = self.session.get(PostmortemPublication, (incident_id, version))
        return None if row is None else _record(row)

    def first(self, incident_id: int) -> Publication | None:
        stmt = (
            select(PostmortemPublication)
            .where(PostmortemPublication.incident_id == incident_id)
            .order_by(PostmortemPublication.version)
            .limit(1)
        )
        row = self.session.scalars(stmt).first()
        return None if row is None else _record(row)

    def add(self, publication: Publication) -> None:
        self.session.add(
            PostmortemPublication(
                incident_id=publication.incident_id,
                version=publication.version,
                path=publication.path,
                commit_sha=publication.commit_sha,
                commit_url=publication.commit_url,
                html_url=publication.html_url,
                published_at=publication.published_at,
                job_id=publication.job_id,
            )
        )
        self.session.flush()  # two jobs publishing one version: the second fails here, and is retried
