"""Which feature handles which command: the one table the acknowledgement pipeline looks commands up in."""

from __future__ import annotations

from typing import Any

from commands import (
    action,
    action_items,
    action_reminders,
    archive,
    assign,
    checklist,
    declare,
    duplicate,
    edit,
    escalate,
    impact,
    paging_steps,
    postmortem_owner,
    reopen,
    resolve,
    stale,
    targets,
    update,
)
from commands.action import ACTION_ITEM
from commands.action_items import LIST_ACTIONS, MARK_ACTION_DONE, SNOOZE_ACTION_ITEM
from commands.assign import ASSIGN
from commands.capture import ADD_TO_TIMELINE, REACTION, Marked
from commands.checklist import TICK_CHECKLIST
from commands.declare import DECLARE
from commands.duplicate import DUPLICATE
from commands.edit import EDIT
from commands.escalate import ESCALATE, JOIN
from commands.feature import Feature
from commands.forms import ACTION_FORM, ASSIGN_FORM, DECLARE_FORM, EDIT_FORM, UPDATE_FORM
from commands.impact import MITIGATED, SET_INCIDENT_TIME
from commands.jobs import Plan
from commands.note import NOTE
from commands.paging import ACKNOWLEDGE, PAGE
from commands.parsing import (
    AcknowledgePage,
    AddActionItem,
    AddToTimeline,
    Assign,
    Declare,
    Duplicate,
    Edit,
    Escalate,
    Help,
    JoinRoom,
    ListActionItems,
    ListOpen,
    MarkActionDone,
    MarkMitigated,
    Note,
    OpenActionForm,
    OpenAssignForm,
    OpenDeclareForm,
    OpenEditForm,
    OpenUpdateForm,
    PageTargets,
    Postmortem,
    PostUpdate,
    Reopen,
    Resolve,
    SetIncidentTime,
    SetPostmortem,
    Snooze,
    SnoozeActionItem,
    Stats,
    Status,
    TickChecklist,
)
from commands.postmortem import POSTMORTEM
from commands.postmortem_owner import SET_POSTMORTEM
from commands.reminders import SNOOZE
from commands.reopen import REOPEN
from commands.resolve import RESOLVE
from commands.stats import STATS_FEATURE
from commands.status import HELP, LIST, STATUS
from commands.update import UPDATE

FEATURES: dict[type, Feature[Any]] = {
    Declare: DECLARE,
    OpenDeclareForm: DECLARE_FORM,
    Status: STATUS,
    ListOpen: LIST,
    Help: HELP,
    Resolve: RESOLVE,
    Assign: ASSIGN,
    OpenAssignForm: ASSIGN_FORM,
    PostUpdate: UPDATE,
    OpenUpdateForm: UPDATE_FORM,
    Escalate: ESCALATE,
    JoinRoom: JOIN,
    Note: NOTE,
    AddActionItem: ACTION_ITEM,
    Postmortem: POSTMORTEM,
    Snooze: SNOOZE,
    AddToTimeline: ADD_TO_TIMELINE,
    Marked: REACTION,
    Edit: EDIT,
    OpenEditForm: EDIT_FORM,
    Reopen: REOPEN,
    Duplicate: DUPLICATE,
    TickChecklist: TICK_CHECKLIST,
    OpenActionForm: ACTION_FORM,
    ListActionItems: LIST_ACTIONS,
    MarkActionDone: MARK_ACTION_DONE,
    SnoozeActionItem: SNOOZE_ACTION_ITEM,
    PageTargets: PAGE,
    AcknowledgePage: ACKNOWLEDGE,
    Stats: STATS_FEATURE,
    SetIncidentTime: SET_INCIDENT_TIME,
    MarkMitigated: MITIGATED,
    SetPostmortem: SET_POSTMORTEM,
}


# The Slack steps of each feature's job; reminders', postmortems' and captures' plans need the runtime's
# adapters and are added where it is wired (bot/app.py).
JOB_PLANS: dict[str, Plan] = {
    **declare.PLANS,
    **resolve.PLANS,
    **assign.PLANS,
    **update.PLANS,
    **escalate.PLANS,
    **edit.PLANS,
    **reopen.PLANS,
    **duplicate.PLANS,
    **checklist.PLANS,
    **stale.PLANS,
    **archive.PLANS,
    **targets.PLANS,
    **action.PLANS,
    **action_items.PLANS,
    **action_reminders.PLANS,
    **paging_steps.PLANS,
    **impact.PLANS,
    **postmortem_owner.PLANS,
}


def feature_for(cmd: object) -> Feature[Any]:
    """The feature that records `cmd`; a command without one is a programming error, caught by a unit test."""
    return FEATURES[type(cmd)]
