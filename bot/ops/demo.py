"""`incidentbot demo`: a whole incident against the built-in Slack emulator, on SQLite, with a transcript."""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from bot.app import IncidentBot, create_app
from bot.emulator import SlackEmulator
from bot.ops.config import IncidentConfig, load_config
from bot.ops.local import LocalServer
from bot.ops.migrate import upgrade
from bot.ops.settings import Settings

PEOPLE = {"U1": "alice", "U2": "bob", "U3": "carol", "U4": "dave"}
SHARE_WAIT_SECONDS = 5.0
POSTMORTEM_PREVIEW_LINES = 40


class DemoClock:
    """Real time, plus however much the script fast-forwards: reminders without waiting half an hour."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class Demo:
    """One scripted incident: each step is a real signed request to the real app over HTTP."""

    def __init__(self, emu: SlackEmulator, bot: IncidentBot, server: LocalServer, pause: float) -> None:
        self.emu, self.bot, self.server, self.pause = emu, bot, server, pause

    def say(self, text: str) -> None:
        print(f"\n▶ {text}")

    def command(self, text: str, *, user: str, channel: str) -> None:
        print(f"  @{PEOPLE.get(user, user)} types: /incident {text}")
        sent = self.emu.send_command(self.server.events_url, text, user_id=user, channel_id=channel)
        if sent.status != 200:
            raise SystemExit(f"the bot answered HTTP {sent.status}")
        ack = sent.json().get("text") if sent.body else None
        if ack:
            print(f"  (only @{PEOPLE.get(user, user)} sees) {ack}")
        self.settle()
        time.sleep(self.pause)

    def settle(self) -> None:
        self.bot.runtime.drain()


def show_postmortem(emu: SlackEmulator, room: str, directory: Path | None) -> None:
    """Print the start of the uploaded draft, or write it into `directory` when asked to keep it."""
    deadline = time.monotonic() + SHARE_WAIT_SECONDS
    # Slack shows a shared file in the channel a moment after the upload completes, and so does the
    # emulator.
    while not (uploaded := [f for f in emu.files.values() if f.completed and room in f.channel_ids]):
        if time.monotonic() > deadline:
            raise SystemExit("the postmortem draft was not uploaded")
        time.sleep(0.05)
    draft = uploaded[-1]
    print("=" * 72 + f"\nThe postmortem draft uploaded to the war room ({draft.filename}):\n" + "=" * 72)
    if directory is not None:
        path = Path(directory) / draft.filename
        path.write_bytes(draft.content)
        print(f"Written to {path}")
        return
    lines = draft.content.decode("utf-8").splitlines()
    print("\n".join(lines[:POSTMORTEM_PREVIEW_LINES]))
    if len(lines) > POSTMORTEM_PREVIEW_LINES:
        print(f"… ({len(lines) - POSTMORTEM_PREVIEW_LINES} more lines)")


def run_demo(args: argparse.Namespace | None = None) -> int:
    """Run the scripted incident and print what each channel shows; exit 0 when it all worked."""
    # The transcript is the demo's output; migration and server chatter would bury it.
    logging.getLogger().setLevel(logging.WARNING)
    pause = 0.6 if args is not None and getattr(args, "slow", False) else 0.0
    config = load_config(getattr(args, "config", None)) if args is not None else IncidentConfig()
    with tempfile.TemporaryDirectory(prefix="incidentbot-demo-") as tmp, SlackEmulator() as emu:
        for user, name in PEOPLE.items():
            emu.add_user(user, name=name)
        existing = emu.channel_by_name("general")
        general = existing.id if existing else emu.add_channel("general", members=set(PEOPLE))
        emu.add_channel(config.announce_channel, members=set(PEOPLE))
        database_url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        upgrade(database_url)
        settings = Settings(
            slack_bot_token=SecretStr(emu.bot_token),
            slack_signing_secret=SecretStr(emu.signing_secret),
            slack_api_url=emu.api_url,
            database_url=database_url,
        )
        clock = DemoClock()
        bot = create_app(settings, config, clock=clock)
        try:
            with LocalServer(bot.wsgi) as server:
                demo = Demo(emu, bot, server, pause)
                print(
                    "incidentbot demo: the real app, the built-in Slack emulator, a scratch SQLite database."
                )
                demo.say("Checkout starts timing out. Alice declares an incident from #general.")
                demo.command("declare sev2 Checkout is timing out", user="U1", channel=general)
                room = next(
                    c for c in emu.channels.values() if c.name.startswith(f"{config.channel_prefix}-")
                )
                demo.say(f"Everyone gathers in #{room.name}. Alice checks the status.")
                demo.command("status", user="U1", channel=room.id)
                demo.say("Alice takes command and makes Bob the comms lead.")
                demo.command("assign commander <@U1|alice>", user="U1", channel=room.id)
                demo.command("assign comms <@U2|bob>", user="U1", channel=room.id)
                demo.say("Carol finds the cause and writes it in the room; Alice pins it to the timeline.")
                room.members.add("U3")
                clue = emu.post_as_user(room.id, "U3", "The 14:02 deploy doubled the cart service's DB pool.")
                emu.react(server.events_url, user_id="U1", channel_id=room.id, ts=clue)
                demo.settle()
                demo.say("Bob tells stakeholders.")
                demo.command(
                    "update identified A bad deploy exhausted DB connections; rolling back",
                    user="U2",
                    channel=room.id,
                )
                demo.say("Customers are affected: Alice raises the severity and pages the database on-call.")
                demo.command("escalate sev1 <@U4|dave>", user="U1", channel=room.id)
                demo.say("Everyone is heads-down: 16 minutes pass with no update (the demo fast-forwards).")
                clock.offset += timedelta(minutes=16)
                bot.runtime.tick()
                demo.settle()
                demo.command(
                    "update monitoring Rollback done; error rate back to normal", user="U2", channel=room.id
                )
                demo.say("Bob asks which incidents are open.")
                demo.command("list", user="U2", channel=general)
                demo.say("The fix is deployed. Alice resolves the incident.")
                demo.command(
                    "resolve Rolled back the bad deploy; latency is normal", user="U1", channel=room.id
                )
                demo.say("Dave adds a follow-up; the bot uploaded the postmortem draft when Alice resolved.")
                demo.command("action Alert on DB pool saturation <@U4|dave>", user="U4", channel=room.id)
                print("\n" + "=" * 72 + "\nWhat each channel shows now:\n" + "=" * 72)
                print(emu.transcript())
                show_postmortem(emu, room.id, getattr(args, "postmortem_dir", None))
                calls = len(emu.calls)
        finally:
            bot.close()
    print(f"\nDone: {calls} Slack Web API calls, all answered by the emulator. Nothing left running.")
    return 0
