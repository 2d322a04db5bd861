"""The GitHub emulator's contents API, spoken to over raw HTTP: as strict as GitHub's documented rules."""

from __future__ import annotations

import base64
import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from bot.emulator.github import GitHubEmulator
from bot.emulator.github_contents import blob_sha

TOKEN = "ghp_contents"
FILE = "/repos/acme/pm/contents/postmortems/2026/INC-1-db.md"


@pytest.fixture
def gh() -> Iterator[GitHubEmulator]:
    with GitHubEmulator(token=TOKEN, repos=("acme/pm",)) as emu:
        yield emu


def call(
    gh: GitHubEmulator, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None
) -> tuple[int, Any, dict[str, str]]:
    sent = {"Authorization": f"Bearer {TOKEN}", "User-Agent": "test"} if headers is None else headers
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(gh.url + path, data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (loopback)
            return response.status, json.loads(response.read() or b"null"), dict(response.headers.items())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null"), dict(exc.headers.items())


def put(content: bytes, **extra: Any) -> dict[str, Any]:
    return {"message": "m", "content": base64.b64encode(content).decode(), **extra}


def test_creates_then_updates_a_file_with_its_current_sha_and_keeps_every_commit(gh: GitHubEmulator) -> None:
    status, body, _ = call(gh, "GET", FILE + "?ref=main")
    assert (status, body["message"]) == (404, "Not Found")
    status, created, _ = call(gh, "PUT", FILE, put(b"v1\n", branch="main"))
    assert status == 201
    assert created["content"]["sha"] == blob_sha(b"v1\n") == "626799f0f85326a8c1fc522db584e86cdfccd51f"
    assert created["commit"]["html_url"] == f"{gh.url}/web/acme/pm/commit/{created['commit']['sha']}"
    status, got, _ = call(gh, "GET", FILE + "?ref=main")
    assert status == 200 and got["encoding"] == "base64" and got["type"] == "file"
    assert base64.b64decode(got["content"]) == b"v1\n" and got["sha"] == created["content"]["sha"]
    status, updated, _ = call(gh, "PUT", FILE, put(b"v2\n", sha=got["sha"]))
    assert status == 200 and updated["commit"]["sha"] != created["commit"]["sha"]
    assert [c.content for c in gh.contents.commits] == [b"v1\n", b"v2\n"]
    assert gh.contents.file("acme/pm", "postmortems/2026/INC-1-db.md") == b"v2\n"
    status, listed, _ = call(gh, "GET", "/repos/acme/pm/commits?path=postmortems/2026/INC-1-db.md&sha=main")
    assert status == 200 and [c["sha"] for c in listed] == [
        updated["commit"]["sha"],
        created["commit"]["sha"],
    ]


def test_an_update_needs_the_current_sha(gh: GitHubEmulator) -> None:
    call(gh, "PUT", FILE, put(b"v1\n"))
    status, body, _ = call(gh, "PUT", FILE, put(b"v2\n"))
    assert status == 422 and '"sha" wasn\'t supplied' in body["message"]
    status, body, _ = call(gh, "PUT", FILE, put(b"v2\n", sha=blob_sha(b"something else")))
    assert status == 409 and "does not match" in body["message"]
    status, body, _ = call(gh, "PUT", "/repos/acme/pm/contents/new.md", put(b"x", sha=blob_sha(b"x")))
    assert status == 409, "a sha for a file that does not exist is not its current one either"
    assert len(gh.contents.commits) == 1


@pytest.mark.parametrize(
    ("path", "body", "status", "words"),
    [
        (FILE, {"message": "m", "content": "not base64!"}, 422, "not valid Base64"),
        (FILE, {"content": "eA=="}, 422, '"message" wasn\'t supplied'),
        (FILE, {"message": "m"}, 422, '"content" wasn\'t supplied'),
        (FILE, put(b"x", branch="nope"), 404, "Branch nope not found"),
        ("/repos/acme/other/contents/a.md", put(b"x"), 404, "Not Found"),
    ],
)
def test_refuses_what_github_refuses(
    gh: GitHubEmulator, path: str, body: Any, status: int, words: str
) -> None:
    got, answer, _ = call(gh, "PUT", path, body)
    assert got == status and words in answer["message"]
    assert gh.contents.commits == []


def test_an_unknown_branch_is_not_a_missing_file(gh: GitHubEmulator) -> None:
    status, body, _ = call(gh, "GET", FILE + "?ref=nope")
    assert (status, body["message"]) == (404, "No commit found for the ref nope")


def test_auth_user_agent_and_read_only_tokens(gh: GitHubEmulator) -> None:
    assert call(gh, "GET", FILE, headers={"User-Agent": "t"})[0] == 401
    host, port = gh.url.removeprefix("http://").split(":")
    bare = http.client.HTTPConnection(host, int(port), timeout=5)  # urllib would add a User-Agent
    bare.request("GET", FILE, headers={"Authorization": f"Bearer {TOKEN}"})
    assert bare.getresponse().status == 403, "GitHub refuses a request without a User-Agent"
    bare.close()
    gh.read_only = True
    status, body, _ = call(gh, "PUT", FILE, put(b"x"))
    assert status == 403 and "not accessible" in body["message"]
    assert gh.contents.commits == []


def test_failure_knobs_answer_5xx_and_429_with_retry_after(gh: GitHubEmulator) -> None:
    gh.fail(502, times=2)
    gh.fail(429, headers={"Retry-After": "7"})
    assert call(gh, "PUT", FILE, put(b"x"))[0] == 502
    assert call(gh, "PUT", FILE, put(b"x"))[0] == 502
    status, _, headers = call(gh, "PUT", FILE, put(b"x"))
    assert status == 429 and headers["Retry-After"] == "7"
    assert call(gh, "PUT", FILE, put(b"x"))[0] == 201
    assert len(gh.contents.commits) == 1, "failed calls commit nothing"
