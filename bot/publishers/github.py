"""Postmortems committed to a GitHub repository through the REST contents API.

Docs: https://docs.github.com/en/rest/repos/contents (get: GET /repos/{owner}/{repo}/contents/{path}?ref=,
the file's blob `sha` and base64 `content`, 404 when there is none; create or update: PUT with `message`,
base64 `content`, `branch`, and `sha` of the blob it replaces when updating: 201 created, 200 updated,
409 when `sha` is not the file's current one, 422 when it is missing for an existing file) and
https://docs.github.com/en/rest/commits/commits (list with `path` and `sha`=branch: the last commit that
touched the file). A fine-grained token needs "Contents: read and write" (a classic token: `repo`).
The HTTP client is the trackers' (bot/trackers/http.py): same retry rules, nothing secret logged.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from bot.trackers.github import github_client
from bot.trackers.http import Answer
from commands.publisher import Published, PublishError, PublishRefused
from commands.tracker import TrackerError, TrackerRefused

_REFUSALS = {
    401: "GitHub refused the token (401): check INCIDENTBOT_GITHUB_TOKEN",
    403: "GitHub refused access (403): the token needs Contents read and write on the repository",
    404: "GitHub cannot find the repository or branch (404): check [publish.github] repo and branch",
    422: "GitHub refused the file as invalid (422)",
}


class GitHubPublisher:
    """One repository and branch; a file already holding the bytes is left alone and its commit answered."""

    def __init__(
        self,
        repo: str,
        branch: str,
        token: str,
        *,
        base_url: str = "https://api.github.com",
        timeout: float = 10.0,
    ) -> None:
        self.repo = repo
        self.branch = branch
        self.where = repo
        self._client = github_client(base_url, token, _REFUSALS, timeout=timeout)

    def __repr__(self) -> str:
        return f"GitHubPublisher({self.repo}@{self.branch})"

    def publish(self, path: str, content: bytes, message: str) -> Published:
        url = f"/repos/{self.repo}/contents/{quote(path, safe='/')}"
        branch = quote(self.branch, safe="")
        current = self._call("GET", f"{url}?ref={branch}", allow=(404,))
        sha: str | None = None
        if current.status != 404:
            if not isinstance(current.body, dict) or current.body.get("type") != "file":
                raise PublishRefused(f"GitHub has something other than a file at {path}")
            sha = str(current.body.get("sha") or "")
            if _decoded(current.body) == content:
                # Committed by an attempt whose answer was lost: adopt that commit, make no other.
                return self._last_commit(path, current.body)
        payload: dict[str, Any] = {
            "message": message,
            "content": base64.b64encode(content).decode("ascii"),
            "branch": self.branch,
        }
        if sha:
            payload["sha"] = sha
        answer = self._call("PUT", url, payload, allow=(409, 422))
        if answer.status == 409 or (answer.status == 422 and "sha" in _message(answer)):
            # Someone changed (or created) the file since we read it: read it again on the retry.
            raise PublishError(f"GitHub PUT contents answered {answer.status}: the file changed meanwhile")
        if answer.status == 422:
            raise PublishRefused(_REFUSALS[422])
        return _published(answer.body)

    def _last_commit(self, path: str, file: dict[str, Any]) -> Published:
        query = f"path={quote(path, safe='')}&sha={quote(self.branch, safe='')}&per_page=1"
        answer = self._call("GET", f"/repos/{self.repo}/commits?{query}")
        found = answer.body[0] if isinstance(answer.body, list) and answer.body else None
        if not isinstance(found, dict) or "sha" not in found:
            raise PublishError("GitHub listed no commit for a file it has")
        return Published(
            commit_sha=str(found["sha"]),
            commit_url=str(found.get("html_url") or ""),
            html_url=str(file.get("html_url") or ""),
        )

    def _call(self, method: str, path: str, body: Any = None, *, allow: tuple[int, ...] = ()) -> Answer:
        try:
            return self._client.call(method, path, body, allow=allow)
        except TrackerError as exc:
            raise PublishError(str(exc), retry_after=exc.retry_after) from None
        except TrackerRefused as exc:
            raise PublishRefused(exc.reason) from None


def _decoded(file: dict[str, Any]) -> bytes | None:
    """The file's bytes from GitHub's base64 (which it wraps in lines); None when it sent none."""
    if file.get("encoding") != "base64" or not isinstance(file.get("content"), str):
        return None
    try:
        return base64.b64decode("".join(str(file["content"]).split()), validate=True)
    except ValueError:
        return None


def _message(answer: Answer) -> str:
    return str(answer.body.get("message", "")) if isinstance(answer.body, dict) else ""


def _published(body: Any) -> Published:
    commit = body.get("commit") if isinstance(body, dict) else None
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(commit, dict) or not isinstance(content, dict) or "sha" not in commit:
        raise PublishRefused("GitHub answered without the commit it made")
    return Published(
        commit_sha=str(commit["sha"]),
        commit_url=str(commit.get("html_url") or ""),
        html_url=str(content.get("html_url") or ""),
    )
