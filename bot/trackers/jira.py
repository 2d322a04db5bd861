"""Jira Cloud through REST API v3: create an issue (ADF description), find it by label, read its status.

Docs: https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/ (POST
/rest/api/3/issue answers 201 with id, key and self; GET /rest/api/3/issue/{key}?fields=status),
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/ (GET
/rest/api/3/search/jql), https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/
(the description is an Atlassian Document Format doc) and
https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/ (email and API token).
An issue counts as closed when its status is in the "done" status category, whatever the workflow names it.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Sequence
from typing import Any

from bot.trackers.http import JsonClient
from commands.tracker import CLOSED, OPEN, Issue, TrackerError, TrackerRefused

# How long Jira's search may take to show a new issue. A create that failed without a clear answer (a
# timeout, a reset, a 5xx from a gateway; not a 429) may still have made the issue, and the retry looks
# for it by search before creating: so it comes no sooner than this, when the search shows it.
SEARCH_SETTLE_SECONDS = 60.0


def _refusal(status: int, body: Any) -> str:
    if status == 400:
        # Jira names the offending fields (project, issuetype, summary): the names, never the values.
        fields = sorted(body.get("errors", {})) if isinstance(body, dict) else []
        named = f" (fields: {', '.join(fields)})" if fields else ""
        return f"Jira refused the issue as invalid (400){named}: check project and issue_type"
    known = {
        401: "Jira refused the credentials (401): check INCIDENTBOT_JIRA_EMAIL and INCIDENTBOT_JIRA_TOKEN",
        403: "Jira refused access (403): the account needs Browse and Create issues in the project",
        404: "Jira cannot find the issue or project (404), or the account may not see it",
    }
    return known.get(status, f"Jira refused the request ({status})")


class JiraTracker:
    """One project's issues; the item's marker goes in as a label, which JQL can look for."""

    name = "jira"

    def __init__(
        self,
        site: str,
        project: str,
        issue_type: str,
        email: str,
        token: str,
        *,
        timeout: float = 10.0,
    ) -> None:
        self.site = site.rstrip("/")
        self.project = project
        self.issue_type = issue_type
        basic = base64.b64encode(f"{email}:{token}".encode()).decode()
        self._client = JsonClient(
            self.site,
            {"Authorization": f"Basic {basic}", "Accept": "application/json"},
            service="Jira",
            refusal=_refusal,
            timeout=timeout,
        )

    def create_issue(self, title: str, body: str, labels: Sequence[str], *, marker: str) -> Issue:
        fields = {
            "project": {"key": self.project},
            "issuetype": {"name": self.issue_type},
            "summary": title,
            "description": adf(body),
            "labels": [*labels, marker],
        }
        try:
            answer = self._client.call("POST", "/rest/api/3/issue", {"fields": fields})
        except TrackerError as exc:
            if exc.status == 429:
                raise  # rate-limited: Jira did not take it, and said when to come back
            wait = max(exc.retry_after or 0.0, SEARCH_SETTLE_SECONDS)
            raise TrackerError(str(exc), retry_after=wait, status=exc.status) from exc
        key = answer.body.get("key") if isinstance(answer.body, dict) else None
        if not key:
            raise TrackerRefused("Jira answered without an issue key")
        return Issue(key=str(key), url=f"{self.site}/browse/{key}")

    def find_issue(self, marker: str) -> Issue | None:
        # Search reads Jira's index, which lags a create: a retried create comes SEARCH_SETTLE_SECONDS
        # after the failed one, so what that one made is found here.
        jql = f'project = "{self.project}" AND labels = "{marker}"'
        query = urllib.parse.urlencode({"jql": jql, "fields": "status", "maxResults": 1})
        answer = self._client.call("GET", f"/rest/api/3/search/jql?{query}")
        issues = answer.body.get("issues", []) if isinstance(answer.body, dict) else []
        if not issues or not isinstance(issues[0], dict) or not issues[0].get("key"):
            return None
        key = str(issues[0]["key"])
        return Issue(key=key, url=f"{self.site}/browse/{key}")

    def issue_state(self, key: str) -> str:
        answer = self._client.call("GET", f"/rest/api/3/issue/{urllib.parse.quote(key)}?fields=status")
        try:
            category = answer.body["fields"]["status"]["statusCategory"]["key"]
        except (KeyError, TypeError):
            raise TrackerRefused("Jira answered without a status category") from None
        return CLOSED if category == "done" else OPEN


def adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format doc: one paragraph per paragraph, lines kept."""
    content: list[dict[str, Any]] = []
    for paragraph in text.split("\n\n"):
        inline: list[dict[str, Any]] = []
        for n, line in enumerate(paragraph.split("\n")):
            if n:
                inline.append({"type": "hardBreak"})
            if line:
                inline.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": inline})
    return {"type": "doc", "version": 1, "content": content}
