"""GitHub's repository contents API, served by the GitHub emulator (bot/emulator/github.py) beside issues.

Rules modelled, from https://docs.github.com/en/rest/repos/contents#get-repository-content and
https://docs.github.com/en/rest/repos/contents#create-or-update-file-contents: GET answers a file's blob
`sha` and its bytes as base64 wrapped in lines, 404 "Not Found" when there is no such file and 404 "No
commit found for the ref ..." for an unknown branch. PUT needs `message` and base64 `content` (422
otherwise), `branch` defaults to the default branch (404 "Branch ... not found" when unknown); updating a
file requires `sha`, its current blob sha: missing, 422 "\"sha\" wasn't supplied."; another one, 409
"... does not match ...". Created files answer 201, updated ones 200, with `content` and `commit` (its
`sha` and `html_url`). A read-only token writing gets 403. Commits are listed newest first
(https://docs.github.com/en/rest/commits/commits#list-commits, `path` and `sha`=branch filter them).
Blob shas are git's own (sha1 of "blob <size>\\0" and the bytes); every commit is kept for tests to read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .tracker_base import ApiAnswer

CONTENTS_DOCS = "https://docs.github.com/rest/repos/contents#create-or-update-file-contents"
_CONTENTS = re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/contents/(?P<path>.+)$")
_COMMITS = re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/commits$")
DEFAULT_BRANCH = "main"


@dataclass(frozen=True)
class FileCommit:
    """One commit the emulator made: which file, on which branch, what it says, and its bytes."""

    repo: str
    branch: str
    path: str
    message: str
    content: bytes
    sha: str
    blob_sha: str


def blob_sha(content: bytes) -> str:
    """Git's object id of a blob, as GitHub answers it."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


class RepoContents:
    """Files per repository and branch, and the commits that wrote them."""

    def __init__(self, web_url: str) -> None:
        self.web_url = web_url
        self.branches: dict[str, set[str]] = {}
        self.commits: list[FileCommit] = []

    def add_repo(self, repo: str, branches: tuple[str, ...] = (DEFAULT_BRANCH,)) -> None:
        self.branches.setdefault(repo, set()).update(branches)

    def file(self, repo: str, path: str, branch: str = DEFAULT_BRANCH) -> bytes | None:
        """The file's bytes on the branch now (its last commit), or None."""
        latest = self._latest(repo, branch, path)
        return None if latest is None else latest.content

    def write(self, repo: str, path: str, content: bytes, branch: str = DEFAULT_BRANCH) -> FileCommit:
        """Commit as a person would (a change made outside the bot)."""
        return self._commit(repo, branch, path, "edited by hand", content)

    def _latest(self, repo: str, branch: str, path: str) -> FileCommit | None:
        found = [c for c in self.commits if (c.repo, c.branch, c.path) == (repo, branch, path)]
        return found[-1] if found else None

    def _commit(self, repo: str, branch: str, path: str, message: str, content: bytes) -> FileCommit:
        number = len(self.commits) + 1
        sha = hashlib.sha1(f"{repo}:{branch}:{path}:{number}".encode(), usedforsecurity=False).hexdigest()
        commit = FileCommit(repo, branch, path, message, content, sha, blob_sha(content))
        self.commits.append(commit)
        return commit

    def route(
        self, method: str, path: str, query: dict[str, str], body: Any, *, read_only: bool
    ) -> ApiAnswer | None:
        """Answer a contents or commits request; None when `path` is neither (the caller's 404)."""
        if (match := _CONTENTS.match(path)) is not None:
            repo, file_path = match["repo"], unquote(match["path"])
            if repo not in self.branches:
                return _error(404, "Not Found")
            if method == "GET":
                return self._get(repo, file_path, query.get("ref", DEFAULT_BRANCH))
            if method == "PUT":
                if read_only:
                    return _error(403, "Resource not accessible by personal access token")
                return self._put(repo, file_path, body)
            return _error(404, "Not Found")
        if (match := _COMMITS.match(path)) is not None and method == "GET":
            repo = match["repo"]
            if repo not in self.branches:
                return _error(404, "Not Found")
            return self._list(repo, query)
        return None

    def _get(self, repo: str, path: str, ref: str) -> ApiAnswer:
        if ref not in self.branches[repo]:
            return _error(404, f"No commit found for the ref {ref}")
        latest = self._latest(repo, ref, path)
        if latest is None:
            return _error(404, "Not Found")
        encoded = base64.encodebytes(latest.content).decode("ascii")  # GitHub wraps it in lines too
        found = {**self._file_json(repo, ref, latest), "encoding": "base64", "content": encoded}
        return ApiAnswer(200, found)

    def _put(self, repo: str, path: str, body: Any) -> ApiAnswer:
        if not isinstance(body, dict) or not isinstance(body.get("message"), str) or not body["message"]:
            return _invalid('"message" wasn\'t supplied.')
        if not isinstance(body.get("content"), str):
            return _invalid('"content" wasn\'t supplied.')
        try:
            content = base64.b64decode(body["content"], validate=True)
        except (binascii.Error, ValueError):
            return _invalid("content is not valid Base64")
        branch = body.get("branch", DEFAULT_BRANCH)
        if not isinstance(branch, str) or branch not in self.branches[repo]:
            return _error(404, f"Branch {branch} not found")
        latest = self._latest(repo, branch, path)
        sha = body.get("sha")
        if latest is not None and sha is None:
            return _invalid('"sha" wasn\'t supplied.')
        if sha is not None and (latest is None or sha != latest.blob_sha):
            return _error(409, f"{path} does not match {sha}")
        commit = self._commit(repo, branch, path, body["message"], content)
        answer = {
            "content": self._file_json(repo, branch, commit),
            "commit": {
                "sha": commit.sha,
                "html_url": f"{self.web_url}/{repo}/commit/{commit.sha}",
                "message": commit.message,
            },
        }
        return ApiAnswer(201 if latest is None else 200, answer)

    def _list(self, repo: str, query: dict[str, str]) -> ApiAnswer:
        branch = query.get("sha", DEFAULT_BRANCH)
        if branch not in self.branches[repo]:
            return _error(404, f"No commit found for SHA: {branch}")
        path = query.get("path")
        found = [
            c
            for c in reversed(self.commits)
            if c.repo == repo and c.branch == branch and (path is None or c.path == path)
        ]
        per_page = min(int(query.get("per_page", "30")), 100)
        return ApiAnswer(
            200,
            [
                {
                    "sha": c.sha,
                    "html_url": f"{self.web_url}/{repo}/commit/{c.sha}",
                    "commit": {"message": c.message},
                }
                for c in found[:per_page]
            ],
        )

    def _file_json(self, repo: str, branch: str, commit: FileCommit) -> dict[str, Any]:
        return {
            "type": "file",
            "name": commit.path.rsplit("/", 1)[-1],
            "path": commit.path,
            "sha": commit.blob_sha,
            "size": len(commit.content),
            "html_url": f"{self.web_url}/{repo}/blob/{branch}/{commit.path}",
        }


def _error(status: int, message: str) -> ApiAnswer:
    return ApiAnswer(status, {"message": message, "documentation_url": CONTENTS_DOCS})


def _invalid(message: str) -> ApiAnswer:
    return ApiAnswer(422, {"message": f"Invalid request.\n\n{message}", "documentation_url": CONTENTS_DOCS})
