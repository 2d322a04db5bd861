"""Publishing postmortems on the in-memory store: paths, the publish job's steps, retries and refusals."""

from __future__ import annotations

import hashlib
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.ops.config import (
    ConfigError,
    IncidentConfig,
    config_from_mapping,
    effective_config_text,
    load_config,
)
from commands.job_runner import JobRunner
from commands.jobs import JobKind, StepContext, new_job
from commands.parsing import SetPostmortem
from commands.ports import Message, PostRef
from commands.postmortem_owner import set_postmortem
from commands.publish import publish_plans, queue_publish
from commands.publisher import (
    Published,
    PublishError,
    PublishRefused,
    check_path_template,
    publish_path,
    slugify,
)
from commands.records import DraftVersion, SlackJob
from tests.unit.commands.conftest import LEASE, Clock, war_room
from tests.unit.fakes import FakeDatabase

PUBLISHING = IncidentConfig.model_validate(
    {"timezone": "Pacific/Auckland", "publish": {"github": {"repo": "acme/pm"}}}
)
MARKDOWN = "---\nid: INC-1\n---\n# INC-1: Checkout is timing out\n"


class Chat:
    """The room's posts, and no earlier post to find when a job recovers."""

    def __init__(self) -> None:
        self.posts: list[Message] = []
        self.notices: list[str] = []

    def post(self, _channel: str, message: Message) -> PostRef:
        self.posts.append(message)
        return PostRef("CROOM", f"{len(self.posts)}.0")

    def notify(self, _channel: str, _user: str, text: str) -> None:
        self.notices.append(text)

    def find_post(self, *_args: object) -> str | None:
        return None


class Repo:
    """A repository as GitHub keeps it: the same bytes again make no commit; knobs fail the next calls."""

    where = "acme/pm"

    def __init__(self) -> None:
        self.commits: list[tuple[str, bytes, str]] = []
        self.failures: list[Exception] = []
        self.lose_answer = False

    def publish(self, path: str, content: bytes, message: str) -> Published:
        if self.failures:
            raise self.failures.pop(0)
        same = [c for c in self.commits if c[0] == path]
        if not same or same[-1][1] != content:
            self.commits.append((path, content, message))
        sha = hashlib.sha1(f"{len(self.commits)}".encode()).hexdigest()
        if self.lose_answer:
            self.lose_answer = False
            raise PublishError("GitHub PUT answered 502")
        return Published(sha, f"https://gh/acme/pm/commit/{sha}", f"https://gh/acme/pm/blob/main/{path}")


def published_incident(db: FakeDatabase, clock: Clock, *, private: bool = False, drill: bool = False) -> int:
    number = war_room(db, clock, channel="CROOM", private=private)
    with db() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        incident.postmortem_status, incident.drill = "published", drill
        tx.postmortems.add_version(
            DraftVersion(incident_id=number, version=1, job_id=99, markdown=MARKDOWN, recorded_at=clock.now())
        )
        tx.commit()
    return number


def run(
    db: FakeDatabase, clock: Clock, job_id: int, repo: Repo, chat: Chat, config: object = PUBLISHING
) -> SlackJob:
    runner = JobRunner(
        uow=db,
        chat=chat,  # type: ignore[arg-type]
        presenter=None,  # type: ignore[arg-type]
        settings=config,  # type: ignore[arg-type]
        clock=clock,
        plans=publish_plans(db, clock, config),  # type: ignore[arg-type]
        lease=LEASE,
        publisher=repo,
    )
    held = next(j for j in db.jobs(JobKind.PUBLISH) if j.id == job_id).claimed_until is not None
    try:
        runner.run(job_id, claimed=held)  # a retry is claimed when due, as the worker's tick does
    finally:
        runner.close()
    return next(j for j in db.jobs(JobKind.PUBLISH) if j.id == job_id)


def publish_job(db: FakeDatabase, clock: Clock, number: int, version: int = 1) -> int:
    with db() as tx:
        job = tx.jobs.add(
            new_job(JobKind.PUBLISH, number, clock.now(), LEASE, {"version": version, "by": "U1"})
        )
        tx.commit()
    return job.id


def test_paths_come_from_the_template_with_a_safe_ascii_slug() -> None:
    declared = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
    path = publish_path(
        "postmortems/{year}/{month}/{ref}-{slug}.md",
        incident_id=7,
        ref="INC-7",
        title="Ünïcode / DB: down!! ../../etc",
        declared_at=declared,
    )
    assert path == "postmortems/2026/03/INC-7-unicode-db-down-etc.md"
    assert slugify("🔥🔥") == "incident" and len(slugify("x" * 200)) == 60


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("pm/{day}/{ref}.md", "unknown placeholder {day}"),
        ("pm/{}.md", "unknown placeholder {}"),
        ("pm/{ref!r}.md", "no format or conversion"),
        ("pm/{ref.x}.md", "unknown placeholder {ref.x}"),
        ("pm/{ref.md", "not a valid template"),
        ("/pm/{ref}.md", "inside the repository"),
        ("pm/../{ref}.md", "'..'"),
        ("pm/{year}.md", "must name {ref} or {id}"),
    ],
)
def test_a_bad_path_template_is_refused_naming_what_is_wrong(template: str, words: str) -> None:
    with pytest.raises(ValueError) as refused:
        check_path_template(template)
    assert words in str(refused.value)


def test_the_config_names_the_bad_placeholder_at_load(tmp_path: Path) -> None:
    file = tmp_path / "incidentbot.toml"
    file.write_text('[publish.github]\nrepo = "acme/pm"\npath = "pm/{day}-{ref}.md"\n')
    with pytest.raises(ConfigError) as refused:
        load_config(file)
    assert "publish.github.path" in str(refused.value) and "{day}" in str(refused.value)
    file.write_text('[publish.github]\nrepo = "acme/pm"\nbranch = "main"\ncolour = "red"\n')
    with pytest.raises(ConfigError, match="colour: unknown key"):
        load_config(file)
    assert IncidentConfig().publish_path is None, "no section: nothing is published"
    assert PUBLISHING.publish_path == "postmortems/{year}/{ref}-{slug}.md"
    assert PUBLISHING.publish.github is not None and PUBLISHING.publish.github.branch == "main"


def test_a_published_version_is_committed_recorded_and_linked_in_the_room_once(
    db: FakeDatabase, clock: Clock
) -> None:
    number = published_incident(db, clock)
    repo, chat = Repo(), Chat()
    job = run(db, clock, publish_job(db, clock, number), repo, chat)
    assert job.finished_at is not None and job.last_error is None
    [(path, content, message)] = repo.commits
    assert path == "postmortems/2026/INC-1-checkout-is-timing-out.md"
    assert content == MARKDOWN.encode() and message == "INC-1 postmortem, version 1: Checkout is timing out"
    [post] = chat.posts
    assert post.text.startswith(":books: Postmortem of *INC-1* (version 1) published to ")
    assert f"<https://gh/acme/pm/blob/main/{path}|acme/pm {path}>" in post.text
    assert post.event_type == "incident_postmortem_published"
    with db() as tx:
        publication = tx.publications.get(number, 1)
    assert publication is not None and publication.path == path
    with db() as tx:
        assert "postmortem_published" in [e.kind for e in tx.timeline.list_for(number)]
    # The plan run again (a crash before the job was marked done): nothing committed or posted twice.
    with db() as tx:
        again = tx.jobs.add(new_job(JobKind.PUBLISH, number, clock.now(), LEASE, {"version": 1, "by": "U1"}))
        tx.commit()
    run(db, clock, again.id, repo, chat)
    assert len(repo.commits) == 1 and len(chat.posts) == 1


def test_a_failing_repository_is_retried_after_what_it_asked_and_commits_once(
    db: FakeDatabase, clock: Clock
) -> None:
    number = published_incident(db, clock)
    repo, chat = Repo(), Chat()
    repo.failures = [PublishError("GitHub PUT answered 429", retry_after=90)]
    job_id = publish_job(db, clock, number)
    job = run(db, clock, job_id, repo, chat)
    assert job.finished_at is None and job.due_at is not None
    assert job.due_at >= clock.now() + timedelta(seconds=90)
    assert job.last_error == "publisher: GitHub PUT answered 429"
    assert repo.commits == [] and chat.posts == []
    repo.lose_answer = True  # committed, then the answer was lost: as if killed before recording
    clock.advance(seconds=91)
    run(db, clock, job_id, repo, chat)
    clock.advance(seconds=10)
    job = run(db, clock, job_id, repo, chat)
    assert job.finished_at is not None
    assert len(repo.commits) == 1 and len(chat.posts) == 1


def test_a_refusal_tells_the_room_what_did_not_happen(db: FakeDatabase, clock: Clock) -> None:
    number = published_incident(db, clock)
    repo, chat = Repo(), Chat()
    repo.failures = [PublishRefused("GitHub refused the token (401): check INCIDENTBOT_GITHUB_TOKEN")]
    job = run(db, clock, publish_job(db, clock, number), repo, chat)
    assert job.finished_at is not None
    [post] = chat.posts
    assert post.text == (
        ":warning: I could not publish the postmortem for INC-1: "
        "GitHub refused the token (401): check INCIDENTBOT_GITHUB_TOKEN."
    )
    assert chat.notices == [post.text]


def test_a_private_incident_is_published_only_when_the_config_says_so(db: FakeDatabase, clock: Clock) -> None:
    number = published_incident(db, clock, private=True)
    repo, chat = Repo(), Chat()
    run(db, clock, publish_job(db, clock, number), repo, chat)
    assert repo.commits == []
    assert "it is a private incident, and `[publish.github] private = true` is not set" in chat.posts[0].text
    allowed = IncidentConfig.model_validate({"publish": {"github": {"repo": "acme/pm", "private": True}}})
    run(db, clock, publish_job(db, clock, number), repo, Chat(), allowed)
    assert len(repo.commits) == 1


def test_a_drill_is_not_published(db: FakeDatabase, clock: Clock) -> None:
    number = published_incident(db, clock, drill=True)
    repo, chat = Repo(), Chat()
    run(db, clock, publish_job(db, clock, number), repo, chat)
    assert repo.commits == [] and "it is a drill" in chat.posts[0].text


def test_a_later_version_goes_to_the_first_path_even_after_a_title_edit(
    db: FakeDatabase, clock: Clock
) -> None:
    number = published_incident(db, clock)
    repo = Repo()
    run(db, clock, publish_job(db, clock, number), repo, Chat())
    with db() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        incident.title = "Renamed"
        tx.postmortems.add_version(
            DraftVersion(
                incident_id=number, version=2, job_id=100, markdown=MARKDOWN + "v2\n", recorded_at=clock.now()
            )
        )
        tx.commit()
    run(db, clock, publish_job(db, clock, number, version=2), repo, Chat())
    assert [c[0] for c in repo.commits] == ["postmortems/2026/INC-1-checkout-is-timing-out.md"] * 2
    assert repo.commits[1][2] == "INC-1 postmortem, version 2: Renamed"


def ctx_for(job_id: int, number: int, clock: Clock, payload: dict[str, object]) -> StepContext:
    from commands.views import IncidentView

    view = IncidentView(
        id=number,
        title="t",
        description="",
        severity="sev2",
        status="resolved",
        private=False,
        declared_by="U1",
        declared_at=clock.now(),
        channel_id="CROOM",
    )
    return StepContext(
        job_id=job_id,
        kind=JobKind.POSTMORTEM,
        payload=payload,
        attempts=1,
        done=(),
        incident=view,
        posts={},
        chat=Chat(),
        presenter=None,
        settings=PUBLISHING,
        clock=clock,  # type: ignore[arg-type]
    )


def test_an_upload_while_published_queues_its_version_once_and_only_with_the_config(
    db: FakeDatabase, clock: Clock
) -> None:
    number = published_incident(db, clock)
    queue_publish(db, clock, IncidentConfig())(ctx_for(99, number, clock, {"requested_by": "U2"}))
    assert db.jobs(JobKind.PUBLISH) == [], "no [publish.github]: nothing is published"
    queue_publish(db, clock, PUBLISHING)(ctx_for(99, number, clock, {"requested_by": "U2"}))
    [job] = db.jobs(JobKind.PUBLISH)
    assert job.payload == {"version": 1, "by": "U2", "after": 99} and job.claimed_until is None
    run(db, clock, job.id, Repo(), Chat())
    queue_publish(db, clock, PUBLISHING)(ctx_for(101, number, clock, {"requested_by": "U2"}))
    assert len(db.jobs(JobKind.PUBLISH)) == 1, "a published version is not queued again"


def test_an_unpublished_postmortem_queues_nothing(db: FakeDatabase, clock: Clock) -> None:
    number = published_incident(db, clock)
    with db() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        incident.postmortem_status = "in-review"
        tx.commit()
    queue_publish(db, clock, PUBLISHING)(ctx_for(99, number, clock, {}))
    assert db.jobs(JobKind.PUBLISH) == []


@pytest.mark.parametrize(("config", "uploads"), [(PUBLISHING, 1), (IncidentConfig(), 0)])
def test_setting_published_shares_a_fresh_version_only_when_publishing(
    db: FakeDatabase, clock: Clock, config: IncidentConfig, uploads: int
) -> None:
    war_room(db, clock, channel="CROOM")
    set_postmortem(
        SetPostmortem(status="published"),
        user_id="U1",
        channel_id="CROOM",
        uow=db,
        now=clock.now(),
        settings=config,
        lease=LEASE,
    )
    jobs = db.jobs(JobKind.POSTMORTEM)
    assert len(jobs) == uploads
    if jobs:
        assert jobs[0].payload["refresh"] is True and jobs[0].payload["requested_by"] == "U1"
        assert jobs[0].claimed_until is None, "left for the worker, after the room hears of the status"


@pytest.mark.parametrize(
    "config",
    [
        PUBLISHING,
        IncidentConfig(),
        IncidentConfig.model_validate(
            {
                "publish": {
                    "github": {
                        "repo": "acme/pm",
                        "branch": "release/pm",
                        "path": "pm/{id}.md",
                        "private": True,
                        "api_url": "https://ghe.example/api/v3/",
                    }
                }
            }
        ),
    ],
)
def test_the_printed_config_shows_publishing_and_reloads(config: IncidentConfig) -> None:
    text = effective_config_text(config)
    assert ("[publish.github]" in text) == (config.publish.github is not None)
    assert config_from_mapping(tomllib.loads(text)) == config
