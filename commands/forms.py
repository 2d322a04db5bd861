"""Requests for a form (declare, update, assign): checked and recorded once, opened after the ack."""

from __future__ import annotations

from commands.errors import RepeatedDelivery
from commands.feature import SLOW, Ask, Deps, FormRequest, Recorded
from commands.parsing import OpenAssignForm, OpenDeclareForm, OpenUpdateForm
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


DECLARE_FORM = DeclareFormFeature()
UPDATE_FORM = UpdateFormFeature()
ASSIGN_FORM = AssignFormFeature()
