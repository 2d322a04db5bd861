"""A Jira Cloud REST v3 emulator on loopback, as strict as Jira on what the bot sends.

Rules modelled (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/,
.../api-group-issue-search/, .../basic-auth-for-rest-apis/, .../apis/document/structure/): requests need
basic auth with the account's email and API token (401 otherwise); creating needs a known project, an
issue type the project has, a summary under 255 characters, labels without spaces and (v3) a description
that is an Atlassian Document Format doc, each refused with 400 and Jira's `errors` by field; an unknown
issue is 404. Issues start in "To Do" (category "new"); `close` moves one to "Done" (category "done").
Search understands only the JQL the bot sends (`project = "P" AND labels = "L"`) and refuses the rest.
Jira's search reads an index that lags a create; `search_lag` seconds (on the emulator's `clock`) model
that: a newer issue is not found yet, though GET by key returns it. Atlassian documents the lag as a few
seconds to minutes, most changes showing within seconds, so the default is a few seconds, never none.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .tracker_base import ApiAnswer, TrackerServer

_ISSUE = re.compile(r"^/rest/api/3/issue/(?P<key>[A-Z][A-Z0-9_]*-\d+)$")
_JQL = re.compile(r'^project = "(?P<project>[^"]+)" AND labels = "(?P<label>[^"]+)"$')
_CATEGORIES = {"To Do": "new", "In Progress": "indeterminate", "Done": "done"}
DEFAULT_SEARCH_LAG = 5.0  # seconds before search shows a new issue


@dataclass
class JiraIssue:
    id: int
    key: str
    project: str
    issue_type: str
    summary: str
    description: dict[str, Any] | None
    labels: list[str] = field(default_factory=list)
    status: str = "To Do"
    created: float = 0.0  # on the emulator's clock: search finds it `search_lag` seconds later


class JiraEmulator(TrackerServer):
    """One account (email, API token), projects with their issue types, and their issues."""

    def __init__(
        self,
        email: str = "bot@example.com",
        token: str = "jira-emulated-token",
        projects: dict[str, tuple[str, ...]] | None = None,
        *,
        search_lag: float = DEFAULT_SEARCH_LAG,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(self._route)
        self.email, self.token = email, token
        self.search_lag, self.clock = search_lag, clock
        self.projects = projects or {"OPS": ("Task", "Bug")}
        self.issues: dict[str, JiraIssue] = {}

    def close(self, key: str) -> None:
        """Move an issue to Done, as a person would in Jira."""
        with self.lock:
            self.issues[key].status = "Done"

    def reopen(self, key: str) -> None:
        with self.lock:
            self.issues[key].status = "To Do"

    def _route(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: dict[str, str]
    ) -> ApiAnswer:
        expected = "Basic " + base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        if headers.get("authorization") != expected:
            return ApiAnswer(
                401, {"errorMessages": ["Client must be authenticated to access this resource."]}
            )
        if path == "/rest/api/3/issue" and method == "POST":
            return self._create(body)
        if (match := _ISSUE.match(path)) is not None and method == "GET":
            issue = self.issues.get(match["key"])
            if issue is None:
                return _not_found()
            return ApiAnswer(200, self._as_json(issue))
        if path == "/rest/api/3/search/jql" and method == "GET":
            return self._search(query)
        return ApiAnswer(404, {"errorMessages": ["Not found"], "errors": {}})

    def _create(self, body: Any) -> ApiAnswer:
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            return _invalid({"fields": "Field 'fields' is required."})
        errors: dict[str, str] = {}
        project = (
            (fields.get("project") or {}).get("key") if isinstance(fields.get("project"), dict) else None
        )
        if project not in self.projects:
            errors["project"] = "Specify a valid project ID or key"
        kind = (
            (fields.get("issuetype") or {}).get("name") if isinstance(fields.get("issuetype"), dict) else None
        )
        if project in self.projects and kind not in self.projects[project]:
            errors["issuetype"] = "Specify a valid issue type"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        description = fields.get("description")
        if description is not None and not _is_adf(description):
            errors["description"] = (
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            )
        labels = fields.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(x, str) and x and " " not in x for x in labels):
            errors["labels"] = "The label must not contain spaces."
        if errors:
            return _invalid(errors)
        number = sum(1 for i in self.issues.values() if i.project == project) + 1
        issue = JiraIssue(
            id=10000 + len(self.issues),
            key=f"{project}-{number}",
            project=str(project),
            issue_type=str(kind),
            summary=str(summary),
            description=description,
            labels=list(labels),
            created=self.clock(),
        )
        self.issues[issue.key] = issue
        return ApiAnswer(
            201, {"id": str(issue.id), "key": issue.key, "self": f"{self.url}/rest/api/3/issue/{issue.id}"}
        )

    def _search(self, query: dict[str, str]) -> ApiAnswer:
        match = _JQL.match(query.get("jql", ""))
        if match is None:
            return _invalid({}, ['The emulator understands only: project = "P" AND labels = "L"'])
        indexed = self.clock() - self.search_lag
        found = [
            self._as_json(i)
            for i in self.issues.values()
            if i.project == match["project"] and match["label"] in i.labels and i.created <= indexed
        ]
        limit = int(query.get("maxResults", "50"))
        return ApiAnswer(200, {"issues": found[:limit], "isLast": True})

    def _as_json(self, issue: JiraIssue) -> dict[str, Any]:
        return {
            "id": str(issue.id),
            "key": issue.key,
            "self": f"{self.url}/rest/api/3/issue/{issue.id}",
            "fields": {
                "status": {"name": issue.status, "statusCategory": {"key": _CATEGORIES[issue.status]}},
                "summary": issue.summary,
                "labels": list(issue.labels),
            },
        }


def _is_adf(value: Any) -> bool:
    """An ADF doc: type "doc", version 1, a list of block nodes each with a type."""
    return (
        isinstance(value, dict)
        and value.get("type") == "doc"
        and value.get("version") == 1
        and isinstance(value.get("content"), list)
        and all(isinstance(node, dict) and isinstance(node.get("type"), str) for node in value["content"])
    )


def _invalid(errors: dict[str, str], messages: list[str] | None = None) -> ApiAnswer:
    return ApiAnswer(400, {"errorMessages": messages or [], "errors": errors})


def _not_found() -> ApiAnswer:
    return ApiAnswer(
        404,
        {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}},
    )
