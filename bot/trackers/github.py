"""GitHub Issues through the REST API: create an issue, find one by its marker, read open or closed.

Docs: https://docs.github.com/en/rest/issues/issues (create: POST /repos/{owner}/{repo}/issues, 201;
get: GET /repos/{owner}/{repo}/issues/{number}, `state` open|closed; list: state=all, newest first) and
https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api. A fine-grained token
needs "Issues: read and write" on the repository (a classic token: `repo`, or `public_repo`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.trackers.http import JsonClient
from commands.tracker import CLOSED, OPEN, Issue, TrackerRefused

API_VERSION = "2022-11-28"
# How many of the repository's newest issues a recovering retry looks through for its marker.
RECENT = 100

_REFUSALS = {
    401: "GitHub refused the token (401): check INCIDENTBOT_GITHUB_TOKEN",
    403: "GitHub refused access (403): the token needs Issues read and write on the repository",
    404: "GitHub cannot find the repository or issue (404): check repo, and the token's access to it",
    410: "GitHub says issues are turned off for the repository (410)",
    422: "GitHub refused the issue as invalid (422)",
}


def github_client(
    base_url: str, token: str, refusals: Mapping[int, str], *, timeout: float = 10.0
) -> JsonClient:
    """A REST client for GitHub (the tracker's issues, the publisher's contents): its headers, and a
    refusal read from `refusals` by status."""

    def refusal(status: int, _body: Any) -> str:
        return refusals.get(status, f"GitHub refused the request ({status})")

    return JsonClient(
        base_url,
        {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "incidentbot",  # GitHub refuses requests without one
        },
        service="GitHub",
        refusal=refusal,
        timeout=timeout,
    )


class GitHubTracker:
    """One repository's issues; the body ends with a hidden marker line a retry can look for."""

    name = "github"

    def __init__(
        self, repo: str, token: str, *, base_url: str = "https://api.github.com", timeout: float = 10.0
    ):
        self.repo = repo
        self._client = github_client(base_url, token, _REFUSALS, timeout=timeout)

    def create_issue(self, title: str, body: str, labels: Sequence[str], *, marker: str) -> Issue:
        payload: dict[str, Any] = {"title": title, "body": f"{body}\n\n<!-- {marker} -->"}
        if labels:
            payload["labels"] = list(labels)
        answer = self._client.call("POST", f"/repos/{self.repo}/issues", payload)
        return _issue(answer.body)

    def find_issue(self, marker: str) -> Issue | None:
        # The list endpoint (unlike search) reads the repository directly: an issue created a moment ago
        # is in it. Pull requests come back too; they never carry our marker.
        path = f"/repos/{self.repo}/issues?state=all&sort=created&direction=desc&per_page={RECENT}"
        answer = self._client.call("GET", path)
        for found in answer.body if isinstance(answer.body, list) else []:
            if isinstance(found, dict) and f"<!-- {marker} -->" in str(found.get("body") or ""):
                return _issue(found)
        return None

    def issue_state(self, key: str) -> str:
        number = key.removeprefix("#")
        answer = self._client.call("GET", f"/repos/{self.repo}/issues/{number}")
        state = answer.body.get("state") if isinstance(answer.body, dict) else None
        if state not in (OPEN, CLOSED):
            raise TrackerRefused("GitHub answered without an issue state")
        return str(state)


def _issue(body: Any) -> Issue:
    if not isinstance(body, dict) or "number" not in body or "html_url" not in body:
        raise TrackerRefused("GitHub answered without an issue number and link")
    return Issue(key=f"#{body['number']}", url=str(body["html_url"]))
