"""`/incident declare` with no text, and the global shortcut, open a form whose submission declares."""

from __future__ import annotations

from tests.reliability.payloads import declare_values
from tests.scenario.conftest import Harness


def test_declare_without_text_opens_modal_and_submission_declares(harness: Harness) -> None:
    h = harness
    assert h.command("declare").status == 200
    (opened,) = h.emu.calls_to("views.open")
    assert opened.ok
    view_id = next(iter(h.emu.views))
    values = declare_values("Login broken <!here>", "sev1", description="SSO returns 500")
    result = h.emu.submit_view(h.url, view_id, values, user_id="U2")
    assert result.status == 200
    h.settle()
    incident = h.incident(1)
    assert (incident.title, incident.severity, incident.declared_by) == ("Login broken <!here>", "sev1", "U2")
    assert incident.description == "SSO returns 500"
    room = h.room(1)
    assert "U2" in room.members and "SSO returns 500" in room.messages[0].text
    assert "<!here>" not in room.messages[0].text
    dms = [c for c in h.emu.calls_to("chat.postMessage") if c.args["channel"] == "U2"]
    assert dms and "INC-1" in dms[-1].args["text"]


def test_empty_title_in_modal_is_refused_inline(harness: Harness) -> None:
    h = harness
    h.command("declare")
    view_id = next(iter(h.emu.views))
    result = h.emu.submit_view(h.url, view_id, declare_values("   "), user_id="U2")
    assert result.status == 200
    assert result.json() == {"response_action": "errors", "errors": {"title": "An incident needs a title."}}
    h.settle()
    with h.bot.runtime.uow() as tx:
        assert tx.incidents.list_since() == []


def test_private_checkbox_makes_a_private_room(harness: Harness) -> None:
    h = harness
    h.command("declare")
    view_id = next(iter(h.emu.views))
    h.emu.submit_view(h.url, view_id, declare_values("HR data exposure", private=True), user_id="U1")
    h.settle()
    assert h.room(1).is_private
