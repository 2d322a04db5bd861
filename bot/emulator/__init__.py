"""Slack Web API emulator: a local fake Slack for demos and tests (no network access to Slack needed)."""

from .delivery import DeliveryResult, SlackEmulator
from .signing import sign_request, verify_signature
from .socket_mode import SocketAck, SocketEnvelope
from .state import Call, Channel, Message, ResponseCall, UploadedFile, User

__all__ = [
    "Call",
    "Channel",
    "DeliveryResult",
    "Message",
    "ResponseCall",
    "SlackEmulator",
    "SocketAck",
    "SocketEnvelope",
    "UploadedFile",
    "User",
    "sign_request",
    "verify_signature",
]
