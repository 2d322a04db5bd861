"""Hostile text everywhere: no bot post pings anyone not named to escalate, and Jinja in text stays text."""

from __future__ import annotations

import re

from bot.slack.ids import ActionId
from bot.slack.manifest import CallbackId
from tests.reliability import payloads
from tests.reliability.conftest import Rig, bot_output

# As Slack delivers slash-command text with should_escape on (mentions become markup, < > & entities).
ESCAPED = (
    "<!channel> <!here> <!everyone> <!subteam^S2|@everyone-else> <@U5|eve> @channel @here @everyone "
    "&lt;!channel&gt; {{ 7*7 }} {% if true %}EVALUATED{% endif %}"
)
# As typed into a modal: raw, nothing escaped.
RAW = "<!channel> <!here> <!everyone> <!subteam^S2> <@U5> @channel @here @everyone {{ 7*7 }} {{ config }}"
FORBIDDEN = ("<!channel>", "<!here>", "<!everyone>", "<!subteam^S2", "<@U5>", "<@U5|")
BARE_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def test_hostile_text_in_a_whole_incident_never_pings_anyone(rig: Rig) -> None:
    r = rig
    acks = [r.command(f"declare sev2 {ESCAPED}").json()["text"]]
    r.command("declare")
    view_id = next(iter(r.emu.views))
    form = payloads.declare_values(RAW[:150], description=RAW)
    r.emu.send_interaction(r.url, payloads.view_submission(r.emu, view_id, form, user="U1"))
    r.settle()
    room = str(r.room(1).id)
    r.emu.channels[room].members.update({"U3"})
    for text in (
        "assign commander <@U2|bob>",
        f"update identified {ESCAPED}",
        f"note {ESCAPED}",
        f"action {ESCAPED} <@U3|carol>",
        "escalate sev1 <@U3|carol> <!subteam^S1|@db-oncall>",
        f"assign {ESCAPED}",
        f"escalate {ESCAPED}",
        ESCAPED,
        "status",
        "list",
    ):
        acks.append(str((r.command(text, channel=room, user="U2").json() or {}).get("text", "")))
    r.command("update", channel=room, user="U2")
    update_view = [v for v in r.emu.views if v != view_id][-1]
    submission = payloads.view_submission(r.emu, update_view, payloads.update_values(RAW), user="U2")
    r.emu.send_interaction(r.url, submission)
    ts = r.emu.post_as_user(room, "U3", RAW)
    r.emu.message_shortcut(
        r.url, callback_id=CallbackId.ADD_TO_TIMELINE, user_id="U2", channel_id=room, message_ts=ts
    )
    summary = r.emu.channels[room].messages[0]
    r.emu.click_button(
        r.url, user_id="U2", channel_id=room, message_ts=summary.ts, action_id=ActionId.OPEN_UPDATE, value="1"
    )
    r.settle()
    acks.append(r.command(f"resolve {ESCAPED}", channel=room, user="U2").json() or {})  # type: ignore[arg-type]
    r.settle()
    assert r.incident(1).status == "resolved"

    shown = bot_output(r.emu) + [("ack", str(a)) for a in acks]
    assert len(shown) > 30
    for where, text in shown:
        for ping in FORBIDDEN:
            assert ping not in text, f"{ping} in {where}: {text[:300]}"
        assert not BARE_BROADCAST.search(text), f"bare broadcast in {where}: {text[:300]}"
    paged = {
        c.args["channel"]
        for c in r.emu.calls_to("chat.postMessage")
        if "incident_paged" in str(c.args.get("metadata"))
    }
    assert paged == {"U3", "U4"}, "only the people named to escalate (and their group) are paged"


def test_jinja_in_user_text_is_printed_not_evaluated(rig: Rig) -> None:
    r = rig
    r.command(
        "declare sev2 {{ 7*7 }} {{ 'zz' ~ 'qq' }} {% for x in range(3) %}LOOP{% endfor %} "
        "{{ incident.declared_by }}"
    )
    room = str(r.room(1).id)
    r.command("update identified {{ ''.__class__.__mro__ }} {# hidden #}", channel=room)
    texts = [m.text for m in r.emu.channels[room].messages] + [
        m.text for m in r.emu.channels[r.announce].messages
    ]
    joined = "\n".join(texts)
    assert "{{ 7*7 }}" in joined and "{% for x in range(3) %}LOOP{% endfor %}" in joined
    assert "{{ incident.declared_by }}" in joined and "{{ ''.__class__.__mro__ }} {# hidden #}" in joined
    # Evaluated, {{ 7*7 }} would print 49, which a clock time can show too: the concatenation cannot.
    assert "{{ 'zz' ~ 'qq' }}" in joined and "zzqq" not in joined
    assert "LOOPLOOP" not in joined and "<class" not in joined
    assert "{{ 7*7 }}" in r.emu.channels[room].topic


def test_control_characters_in_text_are_accepted_on_every_database(any_db_rig: Rig) -> None:
    r = any_db_rig
    r.command("declare sev2 Nul\x00byte and bell\x07 title")
    assert r.incident(1).title == "Nulbyte and bell title"
    assert r.room(1).name == "inc-1-nulbyte-and-bell-title"
