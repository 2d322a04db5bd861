"""From a Web API request's arguments to a method's answer: parsing, scopes, required arguments, handler."""

from __future__ import annotations

import contextlib
import json
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl

from . import scopes
from .access import Args
from .methods import METHODS
from .state import EmulatorState, SlackError

# Required arguments per method (from Slack's method reference); missing ones -> missing_argument.
REQUIRED_ARGS: dict[str, tuple[str, ...]] = {
    "conversations.create": ("name",),
    "conversations.invite": ("channel", "users"),
    "conversations.join": ("channel",),
    "conversations.info": ("channel",),
    "conversations.setTopic": ("channel", "topic"),
    "conversations.setPurpose": ("channel", "purpose"),
    "conversations.members": ("channel",),
    "conversations.history": ("channel",),
    "conversations.replies": ("channel", "ts"),
    "conversations.archive": ("channel",),
    "conversations.rename": ("channel", "name"),
    "chat.postMessage": ("channel",),
    "chat.update": ("channel", "ts"),
    "chat.postEphemeral": ("channel", "user"),
    "chat.getPermalink": ("channel", "message_ts"),
    "pins.add": ("channel",),
    "reactions.add": ("channel", "name", "timestamp"),
    "users.info": ("user",),
    "usergroups.users.list": ("usergroup",),
    "views.open": ("view",),
    "views.push": ("view",),
    "views.update": ("view",),
    "views.publish": ("user_id", "view"),
    "files.getUploadURLExternal": ("filename", "length"),
    "files.completeUploadExternal": ("files",),
}
# Arguments Slack clients send as JSON-encoded strings inside form bodies.
JSON_ARGS = frozenset({"blocks", "attachments", "metadata", "files", "view"})


def dispatch(st: EmulatorState, method: str, args: Args) -> dict[str, Any]:
    """Run one method under the state lock, after Slack's scope and required-argument checks."""
    handler = METHODS.get(method)
    if handler is None:
        raise SlackError("unknown_method")
    with st.lock:
        scopes.check_conversation(st, method, args)
        scopes.check_method(st, method)
        missing = [k for k in REQUIRED_ARGS.get(method, ()) if args.get(k) in (None, "")]
        if missing:
            raise SlackError("missing_argument", [f"[ERROR] missing required field: {k}" for k in missing])
        return handler(st, args)


def parse_body(content_type: str, body: bytes, query: str) -> Args:
    """Merge query, form, multipart or JSON arguments, decoding the JSON-string args Slack uses."""
    args: Args = dict(parse_qsl(query, keep_blank_values=True))
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == "application/json" and body:
        decoded = json.loads(body)
        if not isinstance(decoded, dict):
            raise ValueError("JSON body must be an object")
        args.update(decoded)
    elif ctype == "multipart/form-data":
        msg = BytesParser(policy=policy.default).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                args[name] = payload if part.get_filename() else payload.decode("utf-8")
    elif body:
        args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    for key in JSON_ARGS & args.keys():
        if isinstance(args[key], str) and args[key]:
            # A malformed value stays a string so the handler reports Slack's error for it.
            with contextlib.suppress(ValueError):
                args[key] = json.loads(args[key])
    return args
