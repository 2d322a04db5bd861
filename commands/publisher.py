"""The publisher port: where finished postmortems are kept (a Git repository), as one verb, and their paths.

`publish` writes one file and answers the commit; writing bytes the file already holds makes no new commit,
so a retried job step changes nothing more. The path comes from the operator's template, checked at load.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# What a path template may name, e.g. "postmortems/{year}/{ref}-{slug}.md".
PLACEHOLDERS = ("year", "month", "ref", "slug", "id")
SLUG_LIMIT = 60


class PublishError(Exception):
    """The repository did not take the commit (down, rate-limited, a concurrent change): retried.

    `retry_after` is the service's own word on when to come back (seconds), when it gave one.
    """

    def __init__(self, what: str, *, retry_after: float | None = None) -> None:
        super().__init__(what)
        self.retry_after = retry_after


class PublishRefused(Exception):
    """The commit can never be made (a bad token, no such repository or branch, a private incident)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Published:
    """A file as committed: the commit's sha and link, and the file's link (at its branch)."""

    commit_sha: str
    commit_url: str
    html_url: str


class Publisher(Protocol):
    """Files in one repository and branch; `where` ("acme/postmortems") is how the room names it."""

    where: str

    def publish(self, path: str, content: bytes, message: str) -> Published:
        """Commit `content` at `path`; when the file already holds exactly these bytes, answer the commit
        that last wrote it instead of making another. Raises PublishError (retry) or PublishRefused."""
        ...


class NoPublisher:
    """Nothing is configured: every request is refused with the reason."""

    where = ""

    def publish(self, path: str, content: bytes, message: str) -> Published:
        del path, content, message
        raise PublishRefused("no publishing is configured")


def check_path_template(template: str) -> str:
    """The template, if it names only known placeholders and makes a relative path; else ValueError."""
    try:
        fields = [name for _, name, spec, conv in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ValueError(f"path {template!r} is not a valid template ({exc}); write e.g. {{year}}") from None
    for name in fields:
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise ValueError(f"path {template!r}: unknown placeholder {{{name}}}; use {known}")
    if any(spec or conv for _, name, spec, conv in string.Formatter().parse(template) if name is not None):
        raise ValueError(f"path {template!r}: placeholders take no format or conversion")
    if template.startswith("/") or template.endswith("/") or not template.strip():
        raise ValueError(f"path {template!r} must be a file path inside the repository, e.g. pm/{{ref}}.md")
    if any(part in ("", ".", "..") for part in template.split("/")):
        raise ValueError(f"path {template!r} must not contain empty, '.' or '..' segments")
    if "{ref}" not in template and "{id}" not in template:
        raise ValueError(f"path {template!r} must name {{ref}} or {{id}}: one file per incident")
    return template


def slugify(title: str) -> str:
    """The title as a path segment: ASCII lowercase letters and digits joined by hyphens, never empty."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:SLUG_LIMIT].rstrip("-") or "incident"


def publish_path(template: str, *, incident_id: int, ref: str, title: str, declared_at: datetime) -> str:
    """The file's path for an incident: year and month of the declaration (in the zone given)."""
    return template.format(
        year=f"{declared_at.year:04d}",
        month=f"{declared_at.month:02d}",
        ref=ref,
        slug=slugify(title),
        id=str(incident_id),
    )
