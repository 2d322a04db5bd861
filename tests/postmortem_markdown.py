"""Reading a rendered postmortem draft back in tests: its front matter, body and section headings."""

from __future__ import annotations

from typing import Any

import yaml
from markdown_it import MarkdownIt

SECTIONS = [
    "Summary",
    "Targets",
    "Impact",
    "Detection",
    "Trigger",
    "Timeline",
    "Roles and handovers",
    "Stakeholder updates",
    "Pinned messages",
    "Escalations",
    "Action items",
    "Checklist",
    "Root cause and contributing factors",
    "What went well",
    "What went poorly",
    "Where we got lucky",
    "Lessons",
    "Supporting material",
]


def split(markdown: str) -> tuple[dict[str, Any], str]:
    """The YAML front matter (parsed) and the Markdown body."""
    assert markdown.startswith("---\n")
    front, body = markdown[4:].split("\n---\n", 1)
    return yaml.safe_load(front), body


def headings(body: str) -> list[str]:
    tokens = MarkdownIt("commonmark").parse(body)
    return [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
