"""A GitHub Issues REST emulator on loopback, as strict as GitHub on what the bot sends.

Rules modelled (https://docs.github.com/en/rest/issues/issues, .../using-the-rest-api/getting-started-
with-the-rest-api, .../rate-limits-for-the-rest-api): a request without a User-Agent is refused (403);
without a valid token, 401 "Bad credentials"; a repository the token cannot see is 404 "Not Found"; a
read-only token creating an issue gets 403 "Resource not accessible by personal access token"; an issue
without a title is 422 "Validation Failed" (missing_field); labels must be a list of strings (422).
Created issues answer 201 with number, html_url and state "open"; `close`/`reopen` act as a person would.
The repository contents API (committing postmortems) is served from bot/emulator/github_contents.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .github_contents import RepoContents
from .tracker_base import ApiAnswer, TrackerServer

_ISSUES = re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/issues$")
_ISSUE = re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<number>\d+)$")
DOCS = "https://docs.github.com/rest/issues/issues"


@dataclass
class GitHubIssue:
    number: int
    title: str
    body: str | None
    labels: list[str]
    state: str = "open"
    state_reason: str | None = None
    repo: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self, base: str) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "body": self.body,
            "state": self.state,
            "state_reason": self.state_reason,
            "labels": [{"name": name} for name in self.labels],
            "html_url": f"{base}/{self.repo}/issues/{self.number}",
            "url": f"{base}/repos/{self.repo}/issues/{self.number}",
        }


class GitHubEmulator(TrackerServer):
    """One token, the repositories it may see, their issues; `read_only` makes the token unable to write."""

    def __init__(self, token: str = "ghp_emulated_token", repos: tuple[str, ...] = ("acme/ops",)) -> None:
        super().__init__(self._route)
        self.token = token
        self.repos = set(repos)
        self.read_only = False
        self.issues: dict[str, list[GitHubIssue]] = {repo: [] for repo in repos}
        # Files and commits on each repository's branches ("main" unless added): the contents API.
        self.contents = RepoContents(self.web_url)
        for repo in repos:
            self.contents.add_repo(repo)

    @property
    def web_url(self) -> str:
        return self.url + "/web"

    def close(self, repo: str, number: int, reason: str = "completed") -> None:
        """Close an issue as a person would in GitHub."""
        with self.lock:
            issue = self._find(repo, number)
            issue.state, issue.state_reason = "closed", reason

    def reopen(self, repo: str, number: int) -> None:
        with self.lock:
            issue = self._find(repo, number)
            issue.state, issue.state_reason = "open", "reopened"

    def _find(self, repo: str, number: int) -> GitHubIssue:
        return next(i for i in self.issues[repo] if i.number == number)

    def _route(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> ApiAnswer:
        if not headers.get("user-agent"):
            return _error(
                403,
                "Request forbidden by administrative rules. "
                "Please make sure your request has a User-Agent header",
            )
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() not in ("bearer", "token") or token != self.token:
            return _error(401, "Bad credentials" if auth else "Requires authentication")
        contents = self.contents.route(method, path, query, body, read_only=self.read_only)
        if contents is not None:
            return contents
        if (match := _ISSUES.match(path)) is not None:
            repo = match["repo"]
            if repo not in self.repos:
                return _error(404, "Not Found")
            if method == "POST":
                return self._create(repo, body)
            if method == "GET":
                return self._list(repo, query)
        if (match := _ISSUE.match(path)) is not None and method == "GET":
            repo = match["repo"]
            found = [i for i in self.issues.get(repo, []) if i.number == int(match["number"])]
            if repo not in self.repos or not found:
                return _error(404, "Not Found")
            return ApiAnswer(200, found[0].as_json(self.web_url))
        return _error(404, "Not Found")

    def _create(self, repo: str, body: Any) -> ApiAnswer:
        if self.read_only:
            return _error(403, "Resource not accessible by personal access token")
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("title"), str | int)
            or body.get("title") == ""
        ):
            return _invalid("title", "missing_field")
        labels = body.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            return _invalid("labels", "invalid")
        text = body.get("body")
        if text is not None and not isinstance(text, str):
            return _invalid("body", "invalid")
        issues = self.issues[repo]
        issue = GitHubIssue(
            number=len(issues) + 1, title=str(body["title"]), body=text, labels=labels, repo=repo
        )
        issues.append(issue)
        return ApiAnswer(201, issue.as_json(self.web_url))

    def _list(self, repo: str, query: dict[str, str]) -> ApiAnswer:
        state = query.get("state", "open")
        per_page = min(int(query.get("per_page", "30")), 100)
        found = [i for i in self.issues[repo] if state == "all" or i.state == state]
        if query.get("direction", "desc") == "desc":
            found = list(reversed(found))
        return ApiAnswer(200, [i.as_json(self.web_url) for i in found[:per_page]])


def _error(status: int, message: str) -> ApiAnswer:
    return ApiAnswer(status, {"message": message, "documentation_url": DOCS})


def _invalid(name: str, code: str) -> ApiAnswer:
    return ApiAnswer(
        422,
        {
            "message": "Validation Failed",
            "errors": [{"resource": "Issue", "code": code, "field": name}],
            "documentation_url": DOCS,
        },
    )
