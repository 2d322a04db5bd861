"""End to end with a real slack_bolt App: the emulator's payloads must drive bolt's own matchers."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.emulator import SlackEmulator

from .conftest import SECRET, TOKEN


def serve(app: App) -> tuple[ThreadingHTTPServer, str]:
    """Expose a bolt App over plain http.server, the way a production adapter would."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            headers: dict[str, str | Sequence[str]] = {k.lower(): [v] for k, v in self.headers.items()}
            resp = app.dispatch(BoltRequest(body=body, headers=headers))
            raw = resp.body.encode()
            self.send_response(resp.status)
            for key, values in resp.headers.items():
                for value in values:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/slack/events"


@pytest.fixture
def bolt_url(emu: SlackEmulator) -> Iterator[str]:
    """A tiny incident bot built on bolt, talking to the emulator."""
    app = App(
        token=TOKEN,
        signing_secret=SECRET,
        client=WebClient(token=TOKEN, base_url=emu.api_url),
        process_before_response=True,
    )

    @app.command("/incident")
    def declare(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        view = {
            "type": "modal",
            "callback_id": "declare",
            "private_metadata": body["channel_id"],
            "title": {"type": "plain_text", "text": "Declare incident"},
            "submit": {"type": "plain_text", "text": "Declare"},
            "blocks": [
                {
                    "type": "input",
                    "block_id": "title",
                    "label": {"type": "plain_text", "text": "Title"},
                    "element": {"type": "plain_text_input", "action_id": "value"},
                }
            ],
        }
        client.views_open(trigger_id=body["trigger_id"], view=view)
        respond(text="Opening the form…")

    @app.view("declare")
    def submitted(ack: Ack, view: dict[str, Any], client: WebClient) -> None:
        ack()
        title = view["state"]["values"]["title"]["value"]["value"]
        chan = client.conversations_create(name="inc-1-" + title.replace(" ", "-"))["channel"]["id"]
        client.conversations_invite(channel=chan, users="U1")
        client.chat_postMessage(
            channel=chan, text=f"Incident declared: {title} <#{view['private_metadata']}>"
        )

    @app.event("reaction_added")
    def pinned(event: dict[str, Any], client: WebClient) -> None:
        client.pins_add(channel=event["item"]["channel"], timestamp=event["item"]["ts"])

    server, url = serve(app)
    yield url
    server.shutdown()
    server.server_close()


def test_command_modal_submission_and_reaction(emu: SlackEmulator, bolt_url: str) -> None:
    result = emu.send_command(bolt_url, "", user_id="U1")
    assert result.status == 200
    (view_id,) = emu.views
    assert emu.views[view_id]["user_id"] == "U1"
    assert emu.responses[0].body["text"] == "Opening the form…"

    values = {"title": {"value": {"type": "plain_text_input", "value": "db down"}}}
    assert emu.submit_view(bolt_url, view_id, values, user_id="U1").status == 200
    chan = emu.channel_by_name("inc-1-db-down")
    assert chan is not None and chan.members == {"UBOT", "U1"}
    assert chan.messages[0].text.startswith("Incident declared: db down")

    assert emu.react(bolt_url, user_id="U1", channel_id=chan.id, ts=chan.messages[0].ts).status == 200
    assert chan.pins == {chan.messages[0].ts}
    assert [c.method for c in emu.calls if c.method != "auth.test"] == [
        "views.open",
        "conversations.create",
        "conversations.invite",
        "chat.postMessage",
        "pins.add",
    ]
    assert all(c.ok for c in emu.calls)
