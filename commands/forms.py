"""Requests for a form (declare, update, assign, edit): checked and recorded once, opened after the ack."""

from __future__ import annotations

from commands.edit import edit_prefill
from commands.errors import RepeatedDelivery
from commands.feature import SLOW, Ask, Deps, FormRequest, Recorded
from commands.incidents import incident_in_room
from commands.parsing import OpenActionForm, OpenAssignForm, OpenDeclareForm, OpenEditForm, OpenUpdateForm
from commands.update import last_update


def _first_delivery(ask: Ask, deps: Deps) -> None:
    """A click Slack delivers twice opens one form: the delivery is recorded before the form opens."""
    if ask.delivery_key is None:
        return
    with deps.uow() as tx:
        first = tx.deliveries.first_time(ask.delivery_key, deps.clock.now())
        tx.commit()
    if not first:
        raise RepeatedDelivery(ask.delivery_key)


class DeclareFormFeature:
    """`/incident declare` without a title, and the global *Declare incident* shortcut."""

    name = "open declare form"
    answers_in_ack = False
    slow = SLOW

    def record(self, _cmd: OpenDeclareForm, ask: Ask, deps: Deps) -> Recorded:
        _first_delivery(ask, deps)
        return Recorded(form=FormRequest("declare", {"channel_id": ask.channel_id or None}))


class UpdateFormFeature:
    """`/incident update` without a message, the room's and the reminder's *Post update* buttons."""

    name = "open update form"
    answers_in_ack = False
    slow = SLOW

    def record(self, _cmd: OpenUpdateForm, ask: Ask, deps: Deps) -> Recorded:
        _first_delivery(ask, deps)
        message, status = last_update(channel_id=ask.room, uow=deps.uow)
        return Recorded(form=FormRequest("update", {"message": message, "status": status}))


class AssignFormFeature:
    """The room's *Assign role* button."""

    name = "open assign form"
    answers_in_ack = False
    slow = SLOW

    def record(self, _cmd: OpenAssignForm, ask: Ask, deps: Deps) -> Recorded:
        _first_delivery(ask, deps)
        return Recorded(form=FormRequest("assign"))


class EditFormFeature:
    """`/incident edit` without arguments: the form, pre-filled, for someone allowed to edit."""

    name = "open edit form"
    answers_in_ack = False
    slow = SLOW

    def record(self, _cmd: OpenEditForm, ask: Ask, deps: Deps) -> Recorded:
        prefill = edit_prefill(
            user_id=ask.user_id, channel_id=ask.room, uow=deps.uow, settings=deps.settings, admins=deps.admins
        )
        _first_delivery(ask, deps)
        return Recorded(
            form=FormRequest(
                "edit",
                {
                    "title": prefill.title,
                    "description": prefill.description,
                    "incident_type": prefill.incident_type,
                    "services": list(prefill.services),
                },
            )
        )


class ActionFormFeature:
    """`/incident action` without text, and the *Make action item* message shortcut, in a war room."""

    name = "open action item form"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: OpenActionForm, ask: Ask, deps: Deps) -> Recorded:
        with deps.uow() as tx:
            incident_in_room(tx, ask.room)  # refused at once outside a war room, before any form opens
        _first_delivery(ask, deps)
        return Recorded(form=FormRequest("action", {"text": cmd.text}))


DECLARE_FORM = DeclareFormFeature()
UPDATE_FORM = UpdateFormFeature()
ASSIGN_FORM = AssignFormFeature()
EDIT_FORM = EditFormFeature()
ACTION_FORM = ActionFormFeature()
