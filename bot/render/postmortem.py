"""Render postmortem drafts as CommonMark from a Jinja template, so user text can never change their shape."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import jinja2
import yaml

from bot.ops.config import IncidentConfig, format_duration
from bot.render.presenter import DRILL_MARK, shipped_templates_dir
from bot.render.templating import RENDER_ERRORS, environment, failure_site
from commands.declarer import source_name
from commands.mrkdwn import escape as escape_mrkdwn
from commands.ports import Clock, FileRef, Message, SystemClock, UnitOfWorkFactory
from commands.postmortem import (
    PageRow,
    PostmortemData,
    load_postmortem,
    remember_names,
    unnamed,
    with_names,
)
from commands.postmortem_owner import postmortem_owner
from commands.postmortem_steps import EVENT_TYPE, Draft
from commands.postmortem_versions import Upload, snapshot, version_to_upload, versioned_filename
from commands.views import IncidentView

log = logging.getLogger(__name__)

TEMPLATE = "postmortem.md.j2"

# Escaped wherever user text appears: inline code, emphasis, links, raw HTML, entities, headings, fences,
# table pipes. A backslash before ASCII punctuation always means the literal character in CommonMark.
_INLINE = re.compile(r"[\\`*_\[\]<>&#|~!]")
_INLINE_CHARS = "\\`*_[]<>&#|~!"  # the backslash first, so the added ones are not escaped again
# What else can open a block at the start of a line: list items, setext underlines, ordered lists.
_ORDERED = re.compile(r"\d{1,9}(?=[.)])")
# Only links made of these characters are written as they are; anything else is percent-encoded.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9:/?#@!$&*+,;=%~._-]+")


class Markdown(str):
    """Markup the renderer wrote itself (links, mentions, the front matter), passed through unescaped."""


def _lines(value: object) -> list[str]:
    """User text as escaped, non-empty lines, each unable to open a block of its own."""
    out = []
    for raw in str(value).replace("\0", "\ufffd").splitlines():
        line = raw.strip()
        if _INLINE.search(line) is not None:
            for c in _INLINE_CHARS:
                line = line.replace(c, "\\" + c)
        if not line:
            continue
        if line[0] in "-+=":
            line = "\\" + line
        elif (digits := _ORDERED.match(line)) is not None:
            line = f"{digits.group()}\\{line[digits.end() :]}"
        out.append(line)
    return out


def md(value: object) -> str:
    """Escape any value for CommonMark on one line; trusted Markdown and None pass as they are."""
    if isinstance(value, Markdown):
        return value
    if value is None:
        return ""
    return " ".join(_lines(value))


def block(value: object, indent: int = 0) -> Markdown:
    """Multi-line user text as one paragraph with hard line breaks, indented to stay inside a list item."""
    if value is None:
        return Markdown("")
    return Markdown(("\\\n" + " " * indent).join(_lines(value)))


@functools.lru_cache(maxsize=1024)
def _bare_user(user_id: str | None) -> Markdown:
    return Markdown("@" + md(user_id) if user_id else "—")


@jinja2.pass_context
def user(context: jinja2.runtime.Context, user_id: str | None) -> Markdown:
    """A Slack user as @name when Slack told us the name (`names` in the context), else as @id."""
    source = source_name(user_id)
    if source is not None:  # declared by an alerting system
        return Markdown(md(source))
    names = context.get("names") or {}
    name = names.get(user_id) if user_id else None
    return Markdown("@" + md(name)) if name else _bare_user(user_id)


def link(url: str | None, label: str = "link") -> Markdown:
    """A link; anything but http(s) is dropped, and the URL is percent-encoded so it stays one token."""
    if not url or not url.startswith(("http://", "https://")):
        return Markdown("")
    if _PLAIN_URL.fullmatch(url) is None:
        url = quote(url, safe=":/?#@!$&*+,;=%~-._")
    return Markdown(f"[{md(label)}]({url})")


@functools.lru_cache(maxsize=64)
def _zone_name(name: str) -> str:
    return md(name)


def duration(value: timedelta | None) -> Markdown:
    return Markdown("—" if value is None else format_duration(value))


class PostmortemRenderer:
    """The draft template with an operator override; a broken override is logged and the shipped one used."""

    def __init__(self, *, zone: ZoneInfo, override_dir: Path | None = None) -> None:
        self.zone = zone
        self.shipped = self._env([shipped_templates_dir()], sandboxed=False)
        self.custom = (
            self._env([override_dir, shipped_templates_dir()], sandboxed=True) if override_dir else None
        )

    def _env(self, dirs: list[Path], *, sandboxed: bool) -> jinja2.Environment:
        env = environment(
            dirs,
            sandboxed=sandboxed,
            autoescape=False,
            finalize=md,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters.update(md=lambda v: Markdown(md(v)), block=block, user=user, link=link)
        env.filters.update(when=self.when, iso=self.iso, duration=duration)
        env.filters.update(day=self.day)
        return env

    def day(self, moment: datetime | None) -> Markdown:
        """The date alone in the configured zone: an action item is due by the end of that day."""
        return Markdown("—" if moment is None else f"{moment.astimezone(self.zone):%Y-%m-%d}")

    def when(self, moment: datetime | None) -> Markdown:
        """Date and time in the configured zone: incidents span midnights and readers span zones."""
        if moment is None:
            return Markdown("—")
        local = moment.astimezone(self.zone)
        return Markdown(f"{local:%Y-%m-%d %H:%M:%S} {_zone_name(local.tzname() or '')}".rstrip())

    def iso(self, moment: datetime | None) -> str | None:
        """ISO-8601 to the second, with the configured zone's offset."""
        return None if moment is None else moment.astimezone(self.zone).replace(microsecond=0).isoformat()

    def front_matter(self, pm: PostmortemData) -> Markdown:
        """YAML between `---` lines, dumped by yaml.safe_dump so no value can add or end a key."""
        d = pm.durations
        data: dict[str, Any] = {
            "id": pm.ref,
            "title": pm.title,
            "severity": pm.severity,
            "severity_history": [
                {"severity": p.severity, "since": self.iso(p.since)} for p in pm.severity_history
            ],
            "status": pm.status,
            "type": pm.incident_type,
            "services": list(pm.services),
            "drill": pm.drill,
            "declared": self.iso(pm.milestones.declared),
            "acknowledged": self.iso(pm.milestones.acknowledged),
            "mitigated": self.iso(pm.milestones.mitigated),
            "resolved": self.iso(pm.milestones.resolved),
            "time_to_acknowledge": _seconds(d.to_acknowledge),
            "time_to_mitigate": _seconds(d.to_mitigate),
            "time_to_resolve": _seconds(d.to_resolve),
            "mitigated_to_resolved": _seconds(d.mitigated_to_resolved),
            "impact_started": self.iso(pm.impact_started),
            "detected": self.iso(pm.detected),
            "time_to_detect": _seconds(pm.time_to_detect),
            "impact_duration": _seconds(pm.impact_duration),
            "updates": len(pm.updates),
            "updates_within_cadence": pm.updates_within_cadence,
            "participants": list(pm.participants),
            "targets": target_records(pm),
            "pages": [page_record(p, self.iso) for p in pm.pages],
            "postmortem_owner": pm.postmortem_owner,
            "postmortem_status": pm.postmortem_status,
            "review_date": pm.review_date.isoformat() if pm.review_date else None,
        }
        dumped = yaml.dump(
            data,
            Dumper=_FrontMatterDumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=2**16,
        )
        return Markdown(f"---\n{dumped}---\n")

    def render(self, pm: PostmortemData) -> str:
        """The draft as text; the same incident state always gives the same bytes."""
        context = {"pm": pm, "front_matter": self.front_matter(pm), "zone": self.zone.key, "names": pm.names}
        if self.custom is not None:
            try:
                return _finish(self.custom.get_template(TEMPLATE).render(**context))
            except jinja2.TemplateSyntaxError as exc:
                log.error(
                    "template %s line %s is broken (%s); using the shipped postmortem template",
                    exc.filename,
                    exc.lineno,
                    exc.message,
                )
            except RENDER_ERRORS as exc:
                where, line = failure_site(exc)
                log.error(
                    "template %s line %s failed to render (%s: %s); using the shipped postmortem template",
                    where or TEMPLATE,
                    line,
                    type(exc).__name__,
                    exc,
                )
        return _finish(self.shipped.get_template(TEMPLATE).render(**context))


def target_records(pm: PostmortemData) -> list[dict[str, Any]]:
    """Each target as the front matter and the JSON export give it: seconds, and met true/false/null."""
    return [
        {
            "name": t.name,
            "target_seconds": int(t.within.total_seconds()),
            "actual_seconds": _seconds(t.actual),
            "met": t.met,
        }
        for t in pm.targets
    ]


def page_record(page: PageRow, when: Callable[[datetime | None], str | None]) -> dict[str, Any]:
    """One page as the front matter and the JSON export list it."""
    return {
        "target": page.target,
        "policy": page.policy,
        "tier": page.tier,
        "round": page.round,
        "paged_at": when(page.paged_at),
        "paged_by": page.paged_by,
        "acknowledged_at": when(page.acknowledged_at),
        "acknowledged_by": page.acknowledged_by,
        "acknowledged_via": page.acknowledged_via,
    }


def _seconds(value: timedelta | None) -> int | None:
    """Durations in the front matter are whole seconds, which every tool can sum and compare."""
    return None if value is None else int(value.total_seconds())


class _FrontMatterDumper(yaml.SafeDumper):
    """safe_dump's YAML, but a string with a line break is double-quoted on one line ("a\\n\\nb").

    Single-quoted, it spanned lines, and a run of its blank lines was folded by _finish like any other:
    a title ending in two line breaks came back from the front matter with one.
    """


# What YAML takes for a line break; in double quotes the emitter writes each as an escape.
LINE_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if any(brk in value for brk in LINE_BREAKS) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_FrontMatterDumper.add_representer(str, _represent_str)


def _finish(text: str) -> str:
    """One trailing newline and no runs of blank lines, whatever the template's whitespace."""
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def postmortem_filename(pm: PostmortemData) -> str:
    """`<channel name>-postmortem.md`, or the incident's reference when the room was never created."""
    return f"{pm.channel_name or pm.ref.lower()}-postmortem.md"


class PostmortemDrafts:
    """The Drafts port: load the incident, render it, and word the message that announces the file."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        config: IncidentConfig,
        renderer: PostmortemRenderer,
        clock: Clock | None = None,
    ) -> None:
        self.uow = uow
        self.config = config
        self.renderer = renderer
        self.clock = clock or SystemClock()

    @classmethod
    def for_config(
        cls, uow: UnitOfWorkFactory, config: IncidentConfig, clock: Clock | None = None
    ) -> PostmortemDrafts:
        return cls(
            uow=uow,
            config=config,
            renderer=PostmortemRenderer(zone=config.zone, override_dir=config.templates_dir),
            clock=clock,
        )

    def data(self, incident_id: int) -> PostmortemData | None:
        return load_postmortem(incident_id, uow=self.uow, settings=self.config)

    def markdown(self, pm: PostmortemData) -> bytes:
        return self.renderer.render(pm).encode("utf-8")

    def draft(
        self, incident_id: int, name_of: Callable[[str], str | None], key: int, *, refresh: bool = False
    ) -> Draft | None:
        pm = self.data(incident_id)
        if pm is None:
            raise LookupError(f"INC-{incident_id} does not exist")
        # The look-ups run with no transaction open; what they find is kept for later drafts and exports.
        found = {user: name for user in unnamed(pm) if (name := name_of(user))}
        if found:
            remember_names(found, uow=self.uow)
            pm = with_names(pm, {**pm.names, **found})
        upload = version_to_upload(
            uow=self.uow,
            incident_id=incident_id,
            job_id=key,
            markdown=self.renderer.render(pm),
            shows=snapshot(pm),
            now=self.clock.now(),
            refresh=refresh,
        )
        if upload is None:
            return None
        return Draft(
            filename=versioned_filename(postmortem_filename(pm), upload.version),
            title=f"{pm.ref} postmortem draft" + (f" v{upload.version}" if upload.version > 1 else ""),
            content=upload.markdown.encode("utf-8"),
            comment=f"{DRILL_MARK + ' ' if pm.drill else ''}:page_facing_up: Postmortem draft for "
            f"*{pm.ref}*: {escape_mrkdwn(pm.title)}",
        )

    def _upload_of(self, incident_id: int, key: object) -> Upload | None:
        """The version job `key` shared (None: the latest, shared again unchanged, or none at all)."""
        if not isinstance(key, int):
            return None
        with self.uow() as tx:
            mine = tx.postmortems.version_for_job(key)
            if mine is not None:
                before = mine.version - 1
                return Upload(mine.version, "", mine.changes, before or None, new=True)
            latest = tx.postmortems.latest_version(incident_id)
            return None if latest is None else Upload(latest.version, "", "", latest.version, new=False)

    def first_upload(self, incident_id: int, key: int) -> str | None:
        """The owner to DM, when job `key` uploaded the first version (commands/postmortem_versions.py)."""
        with self.uow() as tx:
            mine = tx.postmortems.version_for_job(key)
            incident = tx.incidents.get(incident_id) if mine is not None and mine.version == 1 else None
            return postmortem_owner(incident) if incident is not None else None

    def shared(self, incident: IncidentView, file: FileRef, payload: dict[str, Any], key: object) -> Message:
        upload = self._upload_of(incident.id, key)
        version = upload.version if upload is not None else 1
        base = f"{incident.channel_name or incident.ref.lower()}-postmortem.md"
        name = escape_mrkdwn(versioned_filename(base, version))
        where = f"<{file.permalink}|{name}>" if file.permalink else name
        drill = DRILL_MARK + " " if incident.drill else ""
        if upload is not None and upload.new and upload.previous is not None:
            text = (
                f"{drill}:memo: Version {version} of the postmortem draft for *{incident.ref}*: {where}. "
                f"Changed since version {upload.previous}: {escape_mrkdwn(upload.changes)}."
            )
        elif upload is not None and not upload.new:
            text = (
                f"{drill}:memo: The postmortem draft for *{incident.ref}* has not changed since version "
                f"{version}: {where}."
            )
        else:
            text = (
                f"{drill}:memo: The postmortem draft for *{incident.ref}* is ready: {where}. "
                "Fill in the root cause, what went well and poorly, and the lessons."
            )
        event_payload = {
            "incident_id": incident.id,
            "incident": incident.ref,
            "severity": incident.severity,
            "status": incident.status,
            "key": key,
            "file_id": file.file_id,
            "permalink": file.permalink,
            "requested_by": payload.get("requested_by"),
            "version": version,
        }
        return Message(text=text, event_type=EVENT_TYPE, event_payload=event_payload)
