"""The GitHub publisher against the strict emulator: create, update, adopt, and each class of failure."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.emulator.github import GitHubEmulator
from bot.publishers.github import GitHubPublisher
from commands.publisher import PublishError, PublishRefused

TOKEN = "ghp_secret_never_logged"
PATH = "postmortems/2026/INC-1-db is down.md"


@pytest.fixture
def gh() -> Iterator[GitHubEmulator]:
    with GitHubEmulator(token=TOKEN, repos=("acme/pm",)) as emu:
        yield emu


def publisher(gh: GitHubEmulator, *, token: str = TOKEN, branch: str = "main") -> GitHubPublisher:
    return GitHubPublisher("acme/pm", branch, token, base_url=gh.url, timeout=5.0)


def test_creates_the_file_then_commits_a_new_version_on_the_same_path(gh: GitHubEmulator) -> None:
    first = publisher(gh).publish(PATH, b"# v1\n", "INC-1 postmortem, version 1: db")
    [made] = gh.contents.commits
    assert (made.path, made.branch, made.content, made.message) == (
        PATH,
        "main",
        b"# v1\n",
        "INC-1 postmortem, version 1: db",
    )
    assert first.commit_sha == made.sha
    assert first.commit_url == f"{gh.url}/web/acme/pm/commit/{made.sha}"
    assert first.html_url == f"{gh.url}/web/acme/pm/blob/main/{PATH}"
    second = publisher(gh).publish(PATH, b"# v2\n", "v2")
    assert [c.content for c in gh.contents.commits] == [b"# v1\n", b"# v2\n"]
    assert second.commit_sha == gh.contents.commits[-1].sha
    put = [c for c in gh.calls if c.method == "PUT"][-1]
    assert put.body["sha"] == gh.contents.commits[0].blob_sha and put.body["branch"] == "main"
    assert put.path == "/repos/acme/pm/contents/postmortems/2026/INC-1-db%20is%20down.md"


def test_the_same_bytes_again_adopt_the_commit_that_wrote_them(gh: GitHubEmulator) -> None:
    first = publisher(gh).publish(PATH, b"# v1\n", "v1")
    again = publisher(gh).publish(PATH, b"# v1\n", "v1")
    assert again == first and len(gh.contents.commits) == 1
    assert [c.method for c in gh.calls][-2:] == ["GET", "GET"], "read the file, then its last commit"


def test_a_file_changed_between_read_and_write_is_retried(gh: GitHubEmulator) -> None:
    gh.contents.write("acme/pm", PATH, b"by hand\n")
    p = publisher(gh)
    real_call = p._call

    def racing(method: str, path: str, body: object = None, *, allow: tuple[int, ...] = ()) -> object:
        if method == "PUT":
            gh.contents.write("acme/pm", PATH, b"edited meanwhile\n")
        return real_call(method, path, body, allow=allow)

    p._call = racing  # type: ignore[method-assign]
    with pytest.raises(PublishError, match="changed meanwhile"):
        p.publish(PATH, b"# v1\n", "v1")
    assert publisher(gh).publish(PATH, b"# v1\n", "v1").commit_sha == gh.contents.commits[-1].sha


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("bad token", "refused the token (401)"),
        ("read only", "Contents read and write"),
        ("no branch", "cannot find the repository or branch (404)"),
        ("no repo", "cannot find the repository or branch (404)"),
    ],
)
def test_refusals_say_what_to_fix_and_never_log_the_token(
    gh: GitHubEmulator, caplog: pytest.LogCaptureFixture, setup: str, words: str
) -> None:
    p = publisher(
        gh,
        token="ghp_wrong" if setup == "bad token" else TOKEN,
        branch="gone" if setup == "no branch" else "main",
    )
    if setup == "read only":
        gh.read_only = True
    if setup == "no repo":
        p = GitHubPublisher("acme/nope", "main", TOKEN, base_url=gh.url)
    with caplog.at_level(logging.DEBUG), pytest.raises(PublishRefused) as refused:
        p.publish(PATH, b"x", "m")
    assert words in refused.value.reason
    assert TOKEN not in caplog.text and "ghp_wrong" not in caplog.text
    assert gh.contents.commits == []


def test_5xx_and_429_are_retried_with_retry_after(gh: GitHubEmulator) -> None:
    gh.fail(503)
    with pytest.raises(PublishError) as failed:
        publisher(gh).publish(PATH, b"x", "m")
    assert failed.value.retry_after is None
    gh.fail(429, headers={"Retry-After": "30"})
    with pytest.raises(PublishError) as limited:
        publisher(gh).publish(PATH, b"x", "m")
    assert limited.value.retry_after == 30.0
    gh.fail(502, after=True, method="PUT")  # the write happens, its answer is lost
    with pytest.raises(PublishError):
        publisher(gh).publish(PATH, b"x", "m")
    assert len(gh.contents.commits) == 1
    assert publisher(gh).publish(PATH, b"x", "m").commit_sha == gh.contents.commits[-1].sha
    assert len(gh.contents.commits) == 1, "the lost answer's commit is adopted, not repeated"
