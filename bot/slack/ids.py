"""Slack identifiers the bot owns (view callbacks, blocks, actions), named once."""

from __future__ import annotations

from enum import StrEnum


class ViewId(StrEnum):
    DECLARE = "declare_incident_modal"
    ASSIGN = "assign_role_modal"
    UPDATE = "post_update_modal"
    EDIT = "edit_incident_modal"
    ACTION_ITEM = "action_item_modal"


class BlockId(StrEnum):
    TITLE = "title"
    SEVERITY = "severity"
    DESCRIPTION = "description"
    PRIVATE = "private"
    INCIDENT_TYPE = "incident_type"
    SERVICES = "services"
    IMPACT = "impact"
    URGENCY = "urgency"
    DRILL = "drill"
    ROLE = "role"
    ASSIGNEE = "assignee"
    STATUS = "status"
    MESSAGE = "message"
    SUMMARY_ACTIONS = "summary_actions"
    REMINDER_ACTIONS = "reminder_actions"
    PAGE_ACTIONS = "page_actions"
    CHECKLIST = "checklist"  # checklist_0, checklist_1, ...: ten checkboxes a block
    STALE_ACTIONS = "stale_actions"
    ACTION_TEXT = "action_text"
    ACTION_OWNER = "action_owner"
    ACTION_DUE = "action_due"
    ACTION_PRIORITY = "action_priority"
    ACTION_KIND = "action_kind"  # mitigate | prevent | process
    ACTION_ITEM = "action_item"  # action_item_<id>: one item's buttons, on the list and in reminders
    IMPACT_STARTED = "impact_started"  # the declare form's detection and impact times
    DETECTED = "detected"


class ActionId(StrEnum):
    TITLE = "title_input"
    SEVERITY = "severity_select"
    DESCRIPTION = "description_input"
    PRIVATE = "private_checkbox"
    INCIDENT_TYPE = "incident_type_select"
    SERVICES = "services_select"
    IMPACT = "impact_select"
    URGENCY = "urgency_select"
    DRILL = "drill_checkbox"
    IMPACT_STARTED = "impact_started_input"
    DETECTED = "detected_input"
    ROLE = "role_select"
    ASSIGNEE = "assignee_select"
    STATUS = "status_select"
    MESSAGE = "message_input"
    OPEN_ASSIGN = "open_assign_modal"
    OPEN_UPDATE = "open_update_modal"
    JOIN_ROOM = "join_war_room"
    REMINDER_UPDATE = "reminder_post_update"
    SNOOZE = "reminder_snooze"
    TAKE_COMMAND = "take_command"
    MARK_DUPLICATE = "mark_duplicate"
    CHECKLIST = "checklist_toggle"
    STALE_RESOLVE = "stale_resolve"
    ACTION_TEXT = "action_text_input"
    ACTION_OWNER = "action_owner_select"
    ACTION_DUE = "action_due_date"
    ACTION_PRIORITY = "action_priority_select"
    ACTION_KIND = "action_kind_select"
    ACTION_DONE = "action_item_done"
    ACTION_SNOOZE = "action_item_snooze"
    HOME_ACTION_DONE = "home_action_item_done"
    ACK_PAGE = "acknowledge_page"
