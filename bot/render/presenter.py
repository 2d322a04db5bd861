"""Render incident messages from Jinja templates, escaping every value for Slack mrkdwn."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
)

from bot.ops.config import format_duration
from bot.render.templating import RENDER_ERRORS, environment, failure_site
from bot.slack.ids import ActionId, BlockId
from commands.declarer import person
from commands.mrkdwn import Mrkdwn, channel_link, escape, group_mention, mention
from commands.ports import Clock, Message
from commands.targets import MILESTONES, span
from commands.tracker_sync import finished_by
from commands.views import ChecklistLine, IncidentView

log = logging.getLogger(__name__)

# Every post about a drill starts with this, whatever the (operator's) template says.
DRILL_MARK = ":test_tube: *DRILL*"
MESSAGE_TEMPLATES = ".mrkdwn.j2"  # this renderer's templates; the postmortem has its own environment
SECTION_LIMIT = 3000  # Slack's limit on a section block's text
OPTION_LIMIT = 75  # Slack's limit on a checkbox's text and description
CHECKBOXES_PER_BLOCK = 10  # Slack's limit on the options of one checkboxes element


def shipped_templates_dir() -> Path:
    """Where the templates installed with the package live, whatever the working directory."""
    return Path(str(files("templates")))


class TemplateRenderer:
    """A Jinja environment per template source; operator templates fall back to shipped ones on error."""

    def __init__(self, *, zone: ZoneInfo, clock: Clock, override_dir: Path | None = None) -> None:
        self.zone = zone
        self.clock = clock
        self.shipped = self._env([shipped_templates_dir()], sandboxed=False)
        self.custom = (
            self._env([override_dir, shipped_templates_dir()], sandboxed=True) if override_dir else None
        )

    def _env(self, dirs: Sequence[Path], *, sandboxed: bool) -> jinja2.Environment:
        # autoescape is HTML-only (it would turn "We've" into We&#39;ve); finalize applies mrkdwn escaping.
        env = environment(
            dirs,
            sandboxed=sandboxed,
            autoescape=False,
            finalize=escape,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False,
            trim_blocks=False,
        )
        env.filters["mention"] = mention
        env.filters["group_mention"] = group_mention
        env.filters["channel"] = channel_link
        env.filters["when"] = self.when
        env.filters["duration"] = partial(format_duration, approximate=True)
        env.filters["open_for"] = self.open_for
        env.filters["escape_mrkdwn"] = lambda v: Mrkdwn(escape(v))
        env.filters["span"] = span  # target posts: "1h 5m", rounded to the minute
        return env

    def compile_all(self) -> None:
        """Load and compile every message template up front (Jinja caches them)."""
        for env in (self.shipped, self.custom):
            if env is not None:
                for name in env.list_templates(filter_func=lambda n: n.endswith(MESSAGE_TEMPLATES)):
                    try:
                        env.get_template(name)
                    except jinja2.TemplateError as exc:
                        log.error("template %s is broken (%s); the shipped one will be used", name, exc)

    def when(self, moment: datetime | None) -> str:
        """Show a time with its date in the configured zone: incidents can span days."""
        if moment is None:
            return "—"
        local = moment.astimezone(self.zone)
        return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "")

    def open_for(self, incident: IncidentView) -> str:
        end = incident.resolved_at or self.clock.now()
        return format_duration(end - incident.declared_at, approximate=True)

    def render(self, name: str, **context: Any) -> str:
        """Render a template; a broken operator template is reported and the shipped one used instead."""
        if self.custom is not None:
            try:
                return self.custom.get_template(name).render(**context).strip()
            except jinja2.TemplateSyntaxError as exc:
                log.error(
                    "template %s line %s is broken (%s); using the shipped one",
                    exc.filename,
                    exc.lineno,
                    exc.message,
                )
            except RENDER_ERRORS as exc:
                where, line = failure_site(exc)
                log.error(
                    "template %s line %s failed to render (%s: %s); using the shipped one",
                    where or name,
                    line,
                    type(exc).__name__,
                    exc,
                )
        return self.shipped.get_template(name).render(**context).strip()


class SlackPresenter:
    """The domain's Presenter: templates for the words, Block Kit models for the layout."""

    def __init__(self, renderer: TemplateRenderer) -> None:
        self.renderer = renderer

    def when(self, moment: datetime) -> str:
        return self.renderer.when(moment)

    def _message(
        self,
        template: str,
        event_type: str,
        incident: IncidentView,
        *,
        key: object = None,
        buttons: list[ButtonElement] | None = None,
        block_id: str | None = None,
        **context: Any,
    ) -> Message:
        text = _marked(incident, self.renderer.render(template, incident=incident, **context))
        blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=_clip(text, SECTION_LIMIT)))]
        if buttons:
            blocks.append(ActionsBlock(block_id=block_id, elements=list(buttons)))
        payload: dict[str, Any] = {"incident_id": incident.id, "incident": incident.ref}
        payload.update({"severity": incident.severity, "status": incident.status})
        if incident.drill:
            payload["drill"] = True
        if key is not None:
            payload["key"] = key
        return Message(
            text=text, event_type=event_type, event_payload=payload, blocks=[b.to_dict() for b in blocks]
        )

    def topic(self, incident: IncidentView) -> str:
        topic = self.renderer.render("topic.mrkdwn.j2", incident=incident)
        return _clip(f"DRILL | {topic}" if incident.drill else topic, 250)

    def summary(self, incident: IncidentView) -> Message:
        buttons = None
        if not incident.is_resolved:
            value = str(incident.id)
            buttons = [
                ButtonElement(text="Assign role", action_id=ActionId.OPEN_ASSIGN, value=value),
                ButtonElement(
                    text="Post update", action_id=ActionId.OPEN_UPDATE, value=value, style="primary"
                ),
            ]
            if incident.possible_duplicate_of is not None:
                other = str(incident.possible_duplicate_of)
                buttons.append(
                    ButtonElement(text="Mark as duplicate", action_id=ActionId.MARK_DUPLICATE, value=other)
                )
        return self._message(
            "summary.mrkdwn.j2",
            "incident_declared",
            incident,
            buttons=buttons,
            block_id=BlockId.SUMMARY_ACTIONS,
        )

    def announcement(self, incident: IncidentView) -> Message:
        return self._message("announcement.mrkdwn.j2", "incident_declared", incident)

    def resolution(self, incident: IncidentView) -> Message:
        return self._message("resolution.mrkdwn.j2", "incident_resolved", incident)

    def resolution_announcement(self, incident: IncidentView) -> Message:
        return self._message("resolution_announcement.mrkdwn.j2", "incident_resolved", incident)

    def update(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        return self._message(
            "update.mrkdwn.j2", "incident_update", incident, key=payload["event_id"], update=payload
        )

    def update_announcement(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        return self._message(
            "update_announcement.mrkdwn.j2",
            "incident_update",
            incident,
            key=payload["event_id"],
            update=payload,
        )

    def escalation(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        return self._message(
            "escalation.mrkdwn.j2",
            "incident_escalated",
            incident,
            key=payload["event_id"],
            escalation=payload,
        )

    def escalation_announcement(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        return self._message(
            "escalation_announcement.mrkdwn.j2",
            "incident_escalated",
            incident,
            key=payload["event_id"],
            escalation=payload,
        )

    def briefing(self, incident: IncidentView, role: str, description: str) -> Message:
        return self._message(
            "briefing.mrkdwn.j2", "incident_role_assigned", incident, role=role, description=description
        )

    def role_assigned(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        return self._message(
            "role_assigned.mrkdwn.j2", "incident_role_assigned", incident, key=payload["key"], change=payload
        )

    def page(self, incident: IncidentView, paged_by: str) -> Message:
        join = ButtonElement(
            text="Join war room", action_id=ActionId.JOIN_ROOM, value=str(incident.id), style="danger"
        )
        return self._message(
            "page.mrkdwn.j2",
            "incident_paged",
            incident,
            buttons=[join],
            block_id=BlockId.PAGE_ACTIONS,
            paged_by=paged_by,
        )

    def page_request(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        """A page's DM: *Acknowledge* names the page (rechecked when pressed), *Join* the incident."""
        buttons = [
            ButtonElement(
                text="Acknowledge",
                action_id=ActionId.ACK_PAGE,
                value=str(payload["page_id"]),
                style="primary",
            ),
            ButtonElement(text="Join war room", action_id=ActionId.JOIN_ROOM, value=str(incident.id)),
        ]
        return self._message(
            "page_request.mrkdwn.j2",
            "incident_paged",
            incident,
            buttons=buttons,
            block_id=BlockId.PAGE_ACTIONS,
            page=payload,
        )

    def page_answered(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        # The notice was composed by the bot from escaped parts (commands/paging.py).
        notice = Mrkdwn(str(payload["notice"]).removeprefix(":white_check_mark: "))
        return self._message("page_answered.mrkdwn.j2", "incident_paged", incident, notice=notice)

    def edited(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        return self._message(
            "edited.mrkdwn.j2", "incident_edited", incident, key=payload["event_id"], edit=payload
        )

    def reopened(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        return self._message(
            "reopened.mrkdwn.j2", "incident_reopened", incident, key=payload["event_id"], reopen=payload
        )

    def reopen_announcement(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        return self._message(
            "reopen_announcement.mrkdwn.j2",
            "incident_reopened",
            incident,
            key=payload["event_id"],
            reopen=payload,
        )

    def duplicate(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        return self._message("duplicate.mrkdwn.j2", "incident_duplicate", incident, duplicate=payload)

    def duplicate_announcement(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        return self._message(
            "duplicate_announcement.mrkdwn.j2", "incident_duplicate", incident, duplicate=payload
        )

    def checklist(self, incident: IncidentView, items: Sequence[ChecklistLine]) -> Message:
        """The header from the template, then the items as checkboxes, ten a block; who ticked each shows."""
        done = sum(1 for item in items if item.done_at is not None)
        header = self.renderer.render("checklist.mrkdwn.j2", incident=incident, items=items, done=done)
        blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=_clip(header, SECTION_LIMIT)))]
        fallback = [header]
        for start in range(0, len(items), CHECKBOXES_PER_BLOCK):
            options: list[Option] = []
            ticked: list[Option] = []
            for item in items[start : start + CHECKBOXES_PER_BLOCK]:
                by = self._ticked_by(item)
                option = Option(
                    value=str(item.position),
                    text=PlainTextObject(text=_clip(item.text, OPTION_LIMIT)),
                    description=MarkdownTextObject(text=by) if by else None,
                )
                options.append(option)
                if item.done_at is not None:
                    ticked.append(option)
                box = ":ballot_box_with_check:" if item.done_at is not None else ":white_medium_square:"
                fallback.append(f"{box} {escape(item.text)}" + (f" · {by}" if by else ""))
            element = CheckboxesElement(
                action_id=ActionId.CHECKLIST, options=options, initial_options=ticked or None
            )
            block_id = f"{BlockId.CHECKLIST}_{start // CHECKBOXES_PER_BLOCK}"
            blocks.append(ActionsBlock(block_id=block_id, elements=[element]))
        payload: dict[str, Any] = {"incident_id": incident.id, "incident": incident.ref}
        payload.update({"done": done, "items": len(items)})
        return Message(
            text=_clip("\n".join(fallback), SECTION_LIMIT),
            event_type="incident_checklist",
            event_payload=payload,
            blocks=[b.to_dict() for b in blocks],
        )

    def _ticked_by(self, item: ChecklistLine) -> str:
        if item.done_at is None or item.done_by is None:
            return ""
        return _clip(f"Done by {mention(item.done_by)} · {escape(self.when(item.done_at))}", OPTION_LIMIT)

    def invite_problems(self, incident: IncidentView, problems: dict[str, Any]) -> Message:
        return self._message(
            "invite_problems.mrkdwn.j2",
            "incident_invite_failed",
            incident,
            key="invite_problems",
            problems=problems,
        )

    def announce_failed(self, incident: IncidentView, channel: str, what: str, key: str) -> Message:
        return self._message(
            "announce_failed.mrkdwn.j2",
            "incident_announce_failed",
            incident,
            key=key,
            channel=channel,
            what=what,
            declarer=person(incident.declared_by),
        )

    def _since(self, incident: IncidentView, payload: dict[str, Any]) -> timedelta:
        last = payload.get("last_update_at")
        start = datetime.fromisoformat(last) if last else incident.declared_at
        return self.renderer.clock.now() - start

    def update_reminder(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        value = str(incident.id)
        buttons = [
            ButtonElement(
                text="Post update", action_id=ActionId.REMINDER_UPDATE, value=value, style="primary"
            ),
            *(
                ButtonElement(text=f"Snooze {choice}", action_id=f"{ActionId.SNOOZE}_{choice}", value=choice)
                for choice in ("15m", "30m", "1h")
            ),
        ]
        return self._message(
            "reminder.mrkdwn.j2",
            "incident_update_reminder",
            incident,
            key=f"reminder:{payload['due']}",
            buttons=buttons,
            block_id=BlockId.REMINDER_ACTIONS,
            reminder=payload,
            since=self._since(incident, payload),
        )

    def overdue_reminder_dm(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        return self._message(
            "reminder_overdue_dm.mrkdwn.j2",
            "incident_update_overdue",
            incident,
            reminder=payload,
            since=self._since(incident, payload),
        )

    def overdue_announcement(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        return self._message(
            "reminder_overdue_announcement.mrkdwn.j2",
            "incident_update_overdue",
            incident,
            key=f"overdue:{payload['due']}",
            reminder=payload,
            since=self._since(incident, payload),
        )

    def commander_reminder(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        take = ButtonElement(text="I'll take it", action_id=ActionId.TAKE_COMMAND, value=str(incident.id))
        return self._message(
            "commander_reminder.mrkdwn.j2",
            "incident_commander_reminder",
            incident,
            key=f"commander_reminder:{payload['due']}",
            buttons=[take],
            block_id=BlockId.REMINDER_ACTIONS,
        )

    def stale_notice(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        """Nudge a quiet incident's lead: *Post update* opens the room's update form, *Resolve* resolves."""
        value = str(incident.id)
        buttons = [
            ButtonElement(text="Post update", action_id=ActionId.OPEN_UPDATE, value=value, style="primary"),
            ButtonElement(text="Resolve", action_id=ActionId.STALE_RESOLVE, value=value),
        ]
        quiet = self.renderer.clock.now() - datetime.fromisoformat(payload["quiet_since"])
        return self._message(
            "stale.mrkdwn.j2",
            "incident_stale",
            incident,
            key=f"stale:{payload['due']}",
            buttons=buttons,
            block_id=BlockId.STALE_ACTIONS,
            stale=payload,
            quiet=quiet,
        )

    def _target(
        self, template: str, event_type: str, incident: IncidentView, payload: dict[str, Any], **context: Any
    ) -> Message:
        """A target post; its metadata says which target, how long it is, and the time left or over."""
        message = self._message(
            template,
            event_type,
            incident,
            key=f"{event_type}:{payload['target']}:{payload['target_s']}",
            milestone=MILESTONES[payload["target"]],
            within=timedelta(seconds=payload["target_s"]),
            **context,
        )
        figures = ("target", "target_s", "left_s", "over_s", "elapsed_s")
        extra = {name: payload[name] for name in figures if payload.get(name) is not None}
        return replace(message, event_payload={**message.event_payload, **extra})

    def target_warning(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        left = timedelta(seconds=payload["left_s"])
        template = "target_warning.mrkdwn.j2"
        return self._target(template, "incident_target_warning", incident, payload, left=left)

    def target_breached(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        return self._target(
            "target_breached.mrkdwn.j2",
            "incident_target_breached",
            incident,
            payload,
            breach=payload,
            elapsed=timedelta(seconds=payload["elapsed_s"]),
        )

    def archive_notice(self, incident: IncidentView) -> Message:
        return self._message("archived.mrkdwn.j2", "incident_archived", incident)

    def status_reply(self, incident: IncidentView) -> str:
        return _marked(incident, self.renderer.render("status.mrkdwn.j2", incident=incident))

    def list_reply(self, incidents: Sequence[IncidentView]) -> str:
        return self.renderer.render("list.mrkdwn.j2", incidents=incidents)

    def _item_details(self, line: dict[str, Any]) -> str:
        """Owner, due date (overdue marked), priority and type of an item; a done one: by whom, when, type."""
        # mitigate | prevent | process: the group the draft lists the item under, done or not
        kind = [f"type {escape(str(line['kind']))}"] if line.get("kind") else []
        if line.get("done_at"):
            done_at = datetime.fromisoformat(line["done_at"])
            done = f"done {finished_by(str(line.get('done_by')))} · {escape(self.when(done_at))}"
            return " · ".join([done, *kind])
        parts = [f"owner {mention(line['owner'])}" if line.get("owner") else "no owner"]
        if line.get("due"):
            due = datetime.fromisoformat(line["due"])
            day = escape(due.astimezone(self.renderer.zone).strftime("%a %Y-%m-%d"))
            overdue = due < self.renderer.clock.now()
            parts.append(f":warning: *overdue* (due {day})" if overdue else f"due {day}")
        if line.get("priority"):
            parts.append(f"*{escape(str(line['priority']).upper())}*")
        return " · ".join([*parts, *kind])

    def _item_line(self, line: dict[str, Any]) -> str:
        mark = ":white_check_mark:" if line.get("done_at") else ":black_square_button:"
        text = escape(_clip(str(line["text"]), 1500))
        return f"{mark} *{line['number']}.* {text} · {self._item_details(line)}"

    def action_item(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        """A new action item in the room, with its owner, due date and priority."""
        item = payload["item"]
        message = self._message(
            "action_item.mrkdwn.j2",
            "incident_action_item",
            incident,
            key=f"action_item:{item['id']}",
            item=item,
            created_by=item.get("created_by"),
        )
        details = self._item_details(item)
        text = _clip(f"{message.text}\n{details}", SECTION_LIMIT)
        blocks = [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]
        return Message(
            text=text, event_type=message.event_type, event_payload=message.event_payload, blocks=blocks
        )

    def action_list(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        """The incident's items, open first, each open one with a *Done* button (Slack: 50 blocks)."""
        lines: list[dict[str, Any]] = list(payload.get("items") or [])
        open_lines = [line for line in lines if not line.get("done_at")]
        done_lines = [line for line in lines if line.get("done_at")]
        header = self.renderer.render(
            "action_list.mrkdwn.j2", incident=incident, open=len(open_lines), done=len(done_lines)
        )
        blocks: list[Block] = [
            SectionBlock(text=MarkdownTextObject(text=_clip(_marked(incident, header), SECTION_LIMIT)))
        ]
        shown = open_lines[:MAX_LISTED]
        for line in shown:
            button = ButtonElement(
                text="Done", action_id=ActionId.ACTION_DONE, value=str(line["id"]), style="primary"
            )
            blocks.append(
                SectionBlock(
                    block_id=f"{BlockId.ACTION_ITEM}_{line['id']}",
                    text=MarkdownTextObject(text=_clip(self._item_line(line), SECTION_LIMIT)),
                    accessory=button,
                )
            )
        rest = [self._item_line(line) for line in open_lines[MAX_LISTED:]] + [
            self._item_line(d) for d in done_lines
        ]
        if rest:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=_clip("\n".join(rest), SECTION_LIMIT))))
        fallback = "\n".join([header, *(self._item_line(line) for line in lines)])
        event_payload: dict[str, Any] = {"incident_id": incident.id, "incident": incident.ref}
        event_payload.update({"open": len(open_lines), "done": len(done_lines)})
        if payload.get("key"):
            event_payload["key"] = payload["key"]
        return Message(
            text=_clip(fallback, SECTION_LIMIT),
            event_type="incident_action_items",
            event_payload=event_payload,
            blocks=[b.to_dict() for b in blocks],
        )

    def action_reminder(self, payload: dict[str, Any]) -> Message:
        """An owner's overdue items across incidents, each with *Done* and *Snooze* (Slack: 50 blocks)."""
        lines: list[dict[str, Any]] = list(payload.get("items") or [])
        header = self.renderer.render("action_reminder.mrkdwn.j2", count=len(lines))
        blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=_clip(header, SECTION_LIMIT)))]
        fallback = [header]
        for line in lines[:MAX_REMINDED]:
            text = self._reminder_line(line)
            fallback.append(text)
            blocks.append(SectionBlock(text=MarkdownTextObject(text=_clip(text, SECTION_LIMIT))))
            value = str(line["id"])
            blocks.append(
                ActionsBlock(
                    block_id=f"{BlockId.ACTION_ITEM}_{line['id']}",
                    elements=[
                        ButtonElement(
                            text="Done", action_id=ActionId.ACTION_DONE, value=value, style="primary"
                        ),
                        ButtonElement(text="Snooze a week", action_id=ActionId.ACTION_SNOOZE, value=value),
                    ],
                )
            )
        if len(lines) > MAX_REMINDED:
            more = f"…and {len(lines) - MAX_REMINDED} more: `/incident actions` in each war room lists them."
            fallback.append(more)
            blocks.append(SectionBlock(text=MarkdownTextObject(text=more)))
        event_payload: dict[str, Any] = {"incident_id": payload.get("incident_id", 0), "items": len(lines)}
        if payload.get("key"):
            event_payload["key"] = payload["key"]
        return Message(
            text=_clip("\n".join(fallback), SECTION_LIMIT),
            event_type="incident_action_items_overdue",
            event_payload=event_payload,
            blocks=[b.to_dict() for b in blocks],
        )

    def _reminder_line(self, line: dict[str, Any]) -> str:
        """A private incident's item keeps its words only for an owner in its room (see action_reminders)."""
        where = escape(line["incident"])
        if line.get("title"):
            where += f" ({escape(_clip(str(line['title']), 150))})"
        elif line.get("private"):
            where += " (private)"
        if line.get("text") is None:
            what = f"An action item of {where} is overdue; ask its war room for the details."
        else:
            what = f"{where} · item {line['number']}: {escape(_clip(str(line['text']), 1500))}"
        return f"{what} · {self._item_details(line)}"


MAX_LISTED = 45  # open items with their own Done button; Slack allows 50 blocks a message
MAX_REMINDED = 20  # items (two blocks each) in one reminder DM


def _marked(incident: IncidentView, text: str) -> str:
    """A drill's messages say so first, so nobody mistakes practice for an outage."""
    return f"{DRILL_MARK} {text}" if incident.drill else text


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
