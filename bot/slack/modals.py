"""The declare, assign and update modals and reading their submissions; slack_sdk models check the limits."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    Option,
    OptionGroup,
    PlainTextInputElement,
    PlainTextObject,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.ops.config import LEVELS, IncidentConfig
from bot.slack.ids import ActionId, BlockId, ViewId
from commands.parsing import ACTION_KINDS, MAX_DESCRIPTION, MAX_MESSAGE, MAX_NOTE, MAX_TITLE, PRIORITIES
from commands.vocabulary import IncidentStatus


class DeclareModalState(BaseModel):
    """What travels in the modal's private_metadata: where the form was opened."""

    channel_id: str | None = None


def _severity_label(config: IncidentConfig, name: str) -> str:
    """'sev1: Critical outage', or just the name when the severity has no description (75: Slack's limit)."""
    description = config.severity_description(name)
    return (f"{name}: {description}" if description else name)[:75]


MAX_OPTIONS = 100  # Slack's limit on a select's options, and on its option groups


def _named(name: str, description: str) -> Option:
    return Option(value=name, text=(f"{name}: {description}" if description else name)[:75])


def choices(options: list[Option]) -> dict[str, Any]:
    """A select's options, in groups of a hundred when there are more (Slack allows 100 of each)."""
    if len(options) <= MAX_OPTIONS:
        return {"options": options}
    chunks = [options[i : i + MAX_OPTIONS] for i in range(0, len(options), MAX_OPTIONS)][:MAX_OPTIONS]
    return {
        "option_groups": [
            OptionGroup(label=f"{chunk[0].value} – {chunk[-1].value}"[:75], options=chunk) for chunk in chunks
        ]
    }


def type_options(config: IncidentConfig) -> list[Option]:
    return [_named(name, kind.description) for name, kind in config.types.items()]


def service_options(config: IncidentConfig) -> list[Option]:
    return [_named(name, service.description) for name, service in config.services.items()]


def declare_modal(config: IncidentConfig, origin_channel: str | None) -> View:
    severities = config.severity_names()
    options = [Option(value=name, text=_severity_label(config, name)) for name in severities]
    priority = config.priority.configured()
    # With the priority matrix, the severity may be left empty: impact and urgency then decide it.
    severity = InputBlock(
        block_id=BlockId.SEVERITY,
        label="Severity (or answer impact and urgency below)" if priority else "Severity",
        optional=priority,
        element=StaticSelectElement(
            action_id=ActionId.SEVERITY, options=options, initial_option=None if priority else options[-1]
        ),
    )
    blocks: list[Block] = [
        InputBlock(
            block_id=BlockId.TITLE,
            label="Title",
            element=PlainTextInputElement(action_id=ActionId.TITLE, max_length=MAX_TITLE),
        ),
        severity,
    ]
    if priority:
        levels = [Option(value=level, text=level) for level in LEVELS]
        blocks += [
            InputBlock(
                block_id=BlockId.IMPACT,
                label="Impact: how many are affected, how badly?",
                optional=True,
                element=StaticSelectElement(action_id=ActionId.IMPACT, options=levels),
            ),
            InputBlock(
                block_id=BlockId.URGENCY,
                label="Urgency: how soon does it get worse?",
                optional=True,
                element=StaticSelectElement(action_id=ActionId.URGENCY, options=levels),
            ),
        ]
    if config.types:
        kinds = type_options(config)
        default = next((o for o in kinds if o.value == "default"), None)
        blocks.append(
            InputBlock(
                block_id=BlockId.INCIDENT_TYPE,
                label="Type",
                optional=True,
                element=StaticSelectElement(
                    action_id=ActionId.INCIDENT_TYPE, initial_option=default, **choices(kinds)
                ),
            )
        )
    if config.services:
        blocks.append(
            InputBlock(
                block_id=BlockId.SERVICES,
                label="Services affected",
                optional=True,
                element=StaticMultiSelectElement(
                    action_id=ActionId.SERVICES, **choices(service_options(config))
                ),
            )
        )
    blocks += time_inputs(config)
    blocks += [
        InputBlock(
            block_id=BlockId.DESCRIPTION,
            label="Description",
            optional=True,
            element=PlainTextInputElement(action_id=ActionId.DESCRIPTION, multiline=True, max_length=3000),
        ),
        InputBlock(
            block_id=BlockId.PRIVATE,
            label="Visibility",
            optional=True,
            element=CheckboxesElement(
                action_id=ActionId.PRIVATE,
                options=[Option(value="private", text="Private: only invited people see the room")],
            ),
        ),
        InputBlock(
            block_id=BlockId.DRILL,
            label="Drill",
            optional=True,
            element=CheckboxesElement(
                action_id=ActionId.DRILL,
                options=[Option(value="drill", text="A drill: marked as practice, nobody is paged")],
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=ViewId.DECLARE,
        title=PlainTextObject(text="Declare incident"),
        submit=PlainTextObject(text="Declare"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=DeclareModalState(channel_id=origin_channel).model_dump_json(),
        blocks=blocks,
    )


def time_inputs(config: IncidentConfig) -> list[Block]:
    """When impact started and when it was noticed, typed as `/incident edit` takes them.

    Text, not Slack's pickers: a timepicker has no date and is read in each person's own zone, and
    the same words then work in the form and in the command.
    """
    hint = f"HH:MM ({config.timezone}) or 2026-11-30T09:05"
    return [
        InputBlock(
            block_id=block,
            label=label,
            optional=True,
            element=PlainTextInputElement(action_id=action, max_length=40, placeholder=hint),
        )
        for block, action, label in (
            (BlockId.IMPACT_STARTED, ActionId.IMPACT_STARTED, "When did impact start?"),
            (BlockId.DETECTED, ActionId.DETECTED, "When was it detected?"),
        )
    ]


class RoomModalState(BaseModel):
    """private_metadata of modals opened for one war room."""

    channel_id: str


def _room_modal(callback_id: str, title: str, submit: str, channel_id: str, blocks: list[Any]) -> View:
    """A form for one war room: its room rides in private_metadata, so the submission knows where."""
    return View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=title),
        submit=PlainTextObject(text=submit),
        close=PlainTextObject(text="Cancel"),
        private_metadata=RoomModalState(channel_id=channel_id).model_dump_json(),
        blocks=blocks,
    )


def assign_modal(config: IncidentConfig, channel_id: str) -> View:
    options = [Option(value=r, text=f"{r}: {c.description}"[:75]) for r, c in config.roles.items()]
    return _room_modal(
        ViewId.ASSIGN,
        "Assign role",
        "Assign",
        channel_id,
        [
            InputBlock(
                block_id=BlockId.ROLE,
                label="Role",
                element=StaticSelectElement(
                    action_id=ActionId.ROLE, options=options, initial_option=options[0]
                ),
            ),
            InputBlock(
                block_id=BlockId.ASSIGNEE,
                label="Person",
                element=UserSelectElement(action_id=ActionId.ASSIGNEE),
            ),
        ],
    )


def update_modal(config: IncidentConfig, channel_id: str, last_message: str, status: str) -> View:
    statuses = [s for s in config.statuses if s != IncidentStatus.RESOLVED]
    options = [Option(value=s, text=s) for s in statuses]
    initial = next((o for o in options if o.value == status), options[0])
    return _room_modal(
        ViewId.UPDATE,
        "Post update",
        "Post",
        channel_id,
        [
            InputBlock(
                block_id=BlockId.STATUS,
                label="Status",
                element=StaticSelectElement(
                    action_id=ActionId.STATUS, options=options, initial_option=initial
                ),
            ),
            InputBlock(
                block_id=BlockId.MESSAGE,
                label="What stakeholders should know",
                element=PlainTextInputElement(
                    action_id=ActionId.MESSAGE,
                    multiline=True,
                    max_length=MAX_MESSAGE,
                    initial_value=last_message[:MAX_MESSAGE] or None,
                ),
            ),
        ],
    )


MAX_OPTIONS = 100  # Slack's limit on a select's options


def _choices(described: dict[str, str], current: list[str]) -> list[Option]:
    """Options for the configured names, plus any current one no longer configured (so it can be kept)."""
    names = list(dict.fromkeys([*described, *current]))[:MAX_OPTIONS]
    return [Option(value=n, text=(f"{n}: {described[n]}" if described.get(n) else n)[:75]) for n in names]


def edit_modal(config: IncidentConfig, channel_id: str, prefill: dict[str, Any]) -> View:
    """Title and description, and type and services when the config has them, as the incident has them."""
    blocks: list[InputBlock] = [
        InputBlock(
            block_id=BlockId.TITLE,
            label="Title",
            element=PlainTextInputElement(
                action_id=ActionId.TITLE, max_length=MAX_TITLE, initial_value=prefill["title"] or None
            ),
        ),
        InputBlock(
            block_id=BlockId.DESCRIPTION,
            label="Description",
            optional=True,
            element=PlainTextInputElement(
                action_id=ActionId.DESCRIPTION,
                multiline=True,
                max_length=MAX_DESCRIPTION,
                initial_value=(prefill["description"] or "")[:MAX_DESCRIPTION] or None,
            ),
        ),
    ]
    if config.types:
        current = prefill.get("incident_type")
        kept = [current] if current else []
        options = _choices({n: t.description for n, t in config.types.items()}, kept)
        initial = next((o for o in options if o.value == current), None)  # none: left as it is
        blocks.append(
            InputBlock(
                block_id=BlockId.INCIDENT_TYPE,
                label="Type",
                optional=True,
                element=StaticSelectElement(
                    action_id=ActionId.INCIDENT_TYPE, options=options, initial_option=initial
                ),
            )
        )
    if config.services:
        services = list(prefill.get("services") or [])
        options = _choices({n: s.description for n, s in config.services.items()}, services)
        chosen = [o for o in options if o.value in services] or None
        blocks.append(
            InputBlock(
                block_id=BlockId.SERVICES,
                label="Services",
                optional=True,
                element=StaticMultiSelectElement(
                    action_id=ActionId.SERVICES, options=options, initial_options=chosen
                ),
            )
        )
    return _room_modal(
        ViewId.EDIT,
        "Edit incident",
        "Save",
        channel_id,
        blocks,
    )


def action_item_modal(channel_id: str, text: str = "") -> View:
    """What to do, and optionally who, by when, how urgent, of which type (a shortcut pre-fills the text)."""
    priorities = [Option(value=p, text=p.upper()) for p in PRIORITIES]
    kinds = [Option(value=k, text=k.capitalize()) for k in ACTION_KINDS]
    return _room_modal(
        ViewId.ACTION_ITEM,
        "Action item",
        "Record",
        channel_id,
        [
            InputBlock(
                block_id=BlockId.ACTION_TEXT,
                label="What needs doing",
                element=PlainTextInputElement(
                    action_id=ActionId.ACTION_TEXT,
                    multiline=True,
                    max_length=MAX_NOTE,
                    initial_value=text[:MAX_NOTE] or None,
                ),
            ),
            InputBlock(
                block_id=BlockId.ACTION_OWNER,
                label="Owner",
                optional=True,
                element=UserSelectElement(action_id=ActionId.ACTION_OWNER),
            ),
            InputBlock(
                block_id=BlockId.ACTION_DUE,
                label="Due date",
                optional=True,
                element=DatePickerElement(action_id=ActionId.ACTION_DUE),
            ),
            InputBlock(
                block_id=BlockId.ACTION_PRIORITY,
                label="Priority",
                optional=True,
                element=StaticSelectElement(action_id=ActionId.ACTION_PRIORITY, options=priorities),
            ),
            InputBlock(
                block_id=BlockId.ACTION_KIND,
                label="Type",
                hint="The postmortem lists action items by type; untyped ones under Other.",
                optional=True,
                element=StaticSelectElement(action_id=ActionId.ACTION_KIND, options=kinds),
            ),
        ],
    )


def state_values(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Slack's view state, block id -> action id -> value dict."""
    return dict(view.get("state", {}).get("values", {}))


def field_value(view: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    return dict(state_values(view).get(block, {}).get(action, {}) or {})


def room_of(view: dict[str, Any]) -> str | None:
    try:
        return RoomModalState.model_validate_json(view.get("private_metadata") or "").channel_id
    except ValidationError:
        return None


class DeclareSubmission(BaseModel):
    title: str
    severity: str
    description: str
    private: bool
    origin: DeclareModalState
    incident_type: str = ""
    services: list[str] = []
    impact: str = ""
    urgency: str = ""
    drill: bool = False
    impact_started: str = ""
    detected: str = ""


def read_declare_submission(view: dict[str, Any]) -> DeclareSubmission:
    """Pull typed values out of Slack's view state; missing optional fields become defaults."""
    values = view.get("state", {}).get("values", {})

    def field(block: str, action: str) -> dict[str, Any]:
        return dict(values.get(block, {}).get(action, {}) or {})

    def selected(block: str, action: str) -> str:
        return str((field(block, action).get("selected_option") or {}).get("value") or "")

    severity = selected(BlockId.SEVERITY, ActionId.SEVERITY)
    services = [
        str(o.get("value") or "")
        for o in field(BlockId.SERVICES, ActionId.SERVICES).get("selected_options") or []
    ]
    private = bool(field(BlockId.PRIVATE, ActionId.PRIVATE).get("selected_options"))
    try:
        origin = DeclareModalState.model_validate_json(view.get("private_metadata") or "{}")
    except ValidationError:
        origin = DeclareModalState()
    return DeclareSubmission(
        title=" ".join(str(field(BlockId.TITLE, ActionId.TITLE).get("value") or "").split()),
        severity=str(severity),
        description=str(field(BlockId.DESCRIPTION, ActionId.DESCRIPTION).get("value") or "").strip(),
        private=private,
        origin=origin,
        incident_type=selected(BlockId.INCIDENT_TYPE, ActionId.INCIDENT_TYPE),
        services=services,
        impact=selected(BlockId.IMPACT, ActionId.IMPACT),
        urgency=selected(BlockId.URGENCY, ActionId.URGENCY),
        drill=bool(field(BlockId.DRILL, ActionId.DRILL).get("selected_options")),
        impact_started=str(field(BlockId.IMPACT_STARTED, ActionId.IMPACT_STARTED).get("value") or "").strip(),
        detected=str(field(BlockId.DETECTED, ActionId.DETECTED).get("value") or "").strip(),
    )
